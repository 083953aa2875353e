package provlog

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pamscim/pamscim/internal/store"
)

// JSONEntry is an entry as `pamscim log --json` prints it: one object a
// line, bodies inline as JSON when they are JSON, else as strings.
type JSONEntry struct {
	ID           int64   `json:"id"`
	Tenant       string  `json:"tenant"`
	At           string  `json:"at"`
	Method       string  `json:"method"`
	Path         string  `json:"path"`
	Query        string  `json:"query,omitempty"`
	Status       int     `json:"status"`
	DurationMS   float64 `json:"duration_ms"`
	Client       string  `json:"client,omitempty"`
	ResourceType string  `json:"resource_type,omitempty"`
	ResourceID   string  `json:"resource_id,omitempty"`
	RequestID    string  `json:"request_id,omitempty"`
	RequestBody  any     `json:"request_body,omitempty"`
	ResponseBody any     `json:"response_body,omitempty"`
}

// ToJSON converts an entry for printing.
func ToJSON(e store.LogEntry) JSONEntry {
	return JSONEntry{
		ID: e.ID, Tenant: e.Tenant, At: e.At.UTC().Format(time.RFC3339Nano), Method: e.Method, Path: e.Path, Query: e.Query,
		Status: e.Status, DurationMS: float64(e.Duration.Microseconds()) / 1000, Client: e.Client,
		ResourceType: e.ResourceType, ResourceID: e.ResourceID, RequestID: e.RequestID,
		RequestBody: body(e.RequestBody), ResponseBody: body(e.ResponseBody),
	}
}

func body(b []byte) any {
	switch {
	case len(b) == 0:
		return nil
	case json.Valid(b):
		return json.RawMessage(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// Print writes entries oldest first (they come newest first from the
// store, and a log reads downwards): one line each, or with asJSON one
// JSON object each, bodies included.
func Print(w io.Writer, es []store.LogEntry, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		for i := len(es) - 1; i >= 0; i-- {
			if err := enc.Encode(ToJSON(es[i])); err != nil {
				return err
			}
		}
		return nil
	}
	for i := len(es) - 1; i >= 0; i-- {
		if _, err := io.WriteString(w, Line(es[i])+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// Line is one entry as a line of text: time, id, tenant, status, method,
// path and query, duration, client, resource, request id.
func Line(e store.LogEntry) string {
	target := e.Path
	if e.Query != "" {
		target += "?" + e.Query
	}
	res := "-"
	if e.ResourceType != "" {
		res = e.ResourceType
		if e.ResourceID != "" {
			res += "/" + e.ResourceID
		}
	}
	client := e.Client
	if client == "" {
		client = "-"
	}
	return fmt.Sprintf("%s #%d %s %d %s %s %s client=%s resource=%s request=%s",
		e.At.UTC().Format("2006-01-02T15:04:05.000Z"), e.ID, e.Tenant, e.Status, e.Method, clean(target),
		e.Duration.Round(time.Microsecond*10), clean(client), clean(res), clean(e.RequestID))
}

// clean keeps a field on its line: a client's path or name may hold
// control characters, which would forge lines in a terminal.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}
