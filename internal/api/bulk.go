package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
)

// Bulk (RFC 7644 §3.7). Each operation runs through the same handlers as a
// single request, with the caller's principal, so that validation, PATCH
// dialects, If-Match and the store's transactions are exactly those of the
// single-resource endpoints; each operation is its own transaction, as the
// RFC's "carry on past individual failures" requires.
//
// bulkId references ("bulkId:<id>" as a whole string value anywhere in the
// data, or as the id in a path) are resolved by running an operation only
// when every POST it refers to has run. A cycle of POSTs (groups that hold
// each other) is broken by creating one of them without the references to
// resources that do not exist yet and adding them afterwards by PATCH, as
// §3.7.1 asks; a reference that cannot be removed that way is refused with 409.

const bulkPrefix = "bulkId:"

type bulkOp struct {
	Method  string          `json:"method"`
	BulkID  string          `json:"bulkId"`
	Version string          `json:"version"`
	Path    string          `json:"path"`
	Data    json.RawMessage `json:"data"`

	index int
	refs  []string // bulkIds this operation needs resolved
	fixup []bulkFixup
	done  bool
	err   error // set when the operation was refused before it ran
}

// bulkFixup is a reference removed from a POST to break a cycle: it is added
// back by PATCH once the referenced resource exists.
type bulkFixup struct {
	path   string // PATCH path of the attribute
	multi  bool   // add to a multi-valued attribute (else replace the attribute)
	values []any  // the elements or the value, still holding bulkId references
}

type bulkResult struct {
	Location string          `json:"location,omitempty"`
	Method   string          `json:"method"`
	BulkID   string          `json:"bulkId,omitempty"`
	Version  string          `json:"version,omitempty"`
	Status   string          `json:"status"`
	Response json.RawMessage `json:"response,omitempty"`
}

// innerPrincipalKey marks a request that Bulk dispatches: the principal is
// already authenticated. The key's type is unexported, so no request from
// outside can carry it.
type innerKey struct{}

func innerPrincipal(ctx context.Context) *auth.Principal {
	p, _ := ctx.Value(innerKey{}).(*auth.Principal)
	return p
}

func (s *Server) bulkConfig() map[string]any {
	return map[string]any{"supported": true, "maxOperations": s.cfg.BulkMaxOperations, "maxPayloadSize": s.cfg.BulkMaxPayload}
}

// handleBulk handles POST /Bulk.
func (s *Server) handleBulk(w http.ResponseWriter, r *http.Request) error {
	max := s.cfg.BulkMaxPayload
	tooLarge := scimerr.New(scimerr.PayloadTooLarge, "the size of the bulk request exceeds the maxPayloadSize (%d)", max)
	if r.ContentLength > max {
		return tooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	noteBody(r.Context(), body, err == nil && int64(len(body)) <= max)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge
		}
		return scimerr.Wrap(scimerr.InvalidSyntax, err, "could not read the request body")
	}
	if int64(len(body)) > max {
		return tooLarge
	}
	ops, failOnErrors, err := s.decodeBulk(body)
	if err != nil {
		return err
	}
	results := s.runBulk(r, ops, failOnErrors)
	var b bytes.Buffer
	b.WriteString(`{"schemas":["` + schema.BulkResponseURN + `"],"Operations":`)
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(results); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	b.WriteString("}")
	writeJSON(w, http.StatusOK, b.Bytes())
	return nil
}

// decodeBulk parses and checks a BulkRequest; errors here refuse the whole
// request.
func (s *Server) decodeBulk(body []byte) ([]*bulkOp, int, error) {
	var req struct {
		Schemas      []string        `json:"schemas"`
		FailOnErrors json.RawMessage `json:"failOnErrors"`
		Operations   []*bulkOp       `json:"Operations"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return nil, 0, scimerr.Wrap(scimerr.InvalidSyntax, err, "the bulk request is not a valid BulkRequest JSON object: "+jsonErrText(err))
	}
	if dec.More() {
		return nil, 0, scimerr.New(scimerr.InvalidSyntax, "unexpected data after the bulk request object")
	}
	if len(req.Schemas) > 0 && !containsFold(req.Schemas, schema.BulkRequestURN) {
		return nil, 0, scimerr.New(scimerr.InvalidSyntax, "schemas must be [%q]", schema.BulkRequestURN)
	}
	if req.Operations == nil {
		return nil, 0, scimerr.New(scimerr.InvalidSyntax, "a bulk request needs Operations")
	}
	if n := len(req.Operations); n > s.cfg.BulkMaxOperations {
		return nil, 0, scimerr.New(scimerr.PayloadTooLarge, "the bulk request has %d operations, which exceeds the maxOperations (%d)", n, s.cfg.BulkMaxOperations)
	}
	failOnErrors := 0
	if raw := bytes.TrimSpace(req.FailOnErrors); len(raw) > 0 && string(raw) != "null" {
		n, err := strconv.Atoi(strings.Trim(string(raw), `"`))
		if err != nil || n < 0 {
			return nil, 0, scimerr.New(scimerr.InvalidValue, "failOnErrors must be a non-negative integer, not %s", raw)
		}
		failOnErrors = n
	}
	seen := map[string]int{}
	for i, op := range req.Operations {
		if op == nil {
			return nil, 0, scimerr.New(scimerr.InvalidSyntax, "operation %d is null", i+1)
		}
		op.index = i
		op.Method = strings.ToUpper(strings.TrimSpace(op.Method))
		if op.BulkID != "" {
			if j, dup := seen[op.BulkID]; dup {
				return nil, 0, scimerr.New(scimerr.InvalidValue, "operations %d and %d use the same bulkId %q", j+1, i+1, op.BulkID)
			}
			seen[op.BulkID] = i
		}
		op.err = s.checkBulkOp(op)
		if op.err == nil {
			op.refs = bulkRefs(op)
		}
	}
	return req.Operations, failOnErrors, nil
}

// checkBulkOp checks one operation's method, path and data.
func (s *Server) checkBulkOp(op *bulkOp) error {
	switch op.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	case "":
		return scimerr.New(scimerr.InvalidSyntax, "the operation has no method")
	default:
		return scimerr.New(scimerr.InvalidSyntax, "method %q is not a bulk method (POST, PUT, PATCH, DELETE)", op.Method)
	}
	p := strings.TrimSpace(op.Path)
	if !strings.HasPrefix(p, "/") {
		return scimerr.New(scimerr.InvalidSyntax, "path %q must be relative to the SCIM base and start with /, e.g. /Users", op.Path)
	}
	parts := strings.Split(strings.Trim(p, "/"), "/")
	rt := s.reg.ByEndpoint(parts[0])
	if rt == nil {
		return scimerr.New(scimerr.InvalidPath, "path %q names no resource endpoint", op.Path)
	}
	switch {
	case op.Method == http.MethodPost && len(parts) != 1:
		return scimerr.New(scimerr.InvalidPath, "a bulk POST path is the endpoint alone, e.g. %s", rt.Endpoint)
	case op.Method != http.MethodPost && (len(parts) != 2 || parts[1] == ""):
		return scimerr.New(scimerr.InvalidPath, "a bulk %s path is the endpoint and an id, e.g. %s/{id}", op.Method, rt.Endpoint)
	}
	op.Path = "/" + strings.Join(parts, "/")
	if d := bytes.TrimSpace(op.Data); op.Method != http.MethodDelete && (len(d) == 0 || string(d) == "null") {
		return scimerr.New(scimerr.InvalidSyntax, "a bulk %s needs data", op.Method)
	}
	return nil
}

// bulkRefs lists the bulkIds an operation refers to, in its path or data.
func bulkRefs(op *bulkOp) []string {
	var refs []string
	if i := strings.Index(op.Path, "/"+bulkPrefix); i >= 0 {
		refs = append(refs, op.Path[i+1+len(bulkPrefix):])
	}
	if bytes.Contains(op.Data, []byte(`"`+bulkPrefix)) {
		var v any
		if json.Unmarshal(op.Data, &v) == nil {
			walkStrings(v, func(s string) {
				if strings.HasPrefix(s, bulkPrefix) {
					refs = append(refs, s[len(bulkPrefix):])
				}
			})
		}
	}
	return refs
}

func walkStrings(v any, fn func(string)) {
	switch x := v.(type) {
	case string:
		fn(x)
	case []any:
		for _, e := range x {
			walkStrings(e, fn)
		}
	case map[string]any:
		for _, e := range x {
			walkStrings(e, fn)
		}
	}
}

// replaceRefs returns v with every resolved "bulkId:x" string replaced by
// the id it stands for.
func replaceRefs(v any, ids map[string]string) any {
	switch x := v.(type) {
	case string:
		if strings.HasPrefix(x, bulkPrefix) {
			if id, ok := ids[x[len(bulkPrefix):]]; ok {
				return id
			}
		}
		return x
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = replaceRefs(e, ids)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = replaceRefs(e, ids)
		}
		return out
	}
	return v
}

type bulkRun struct {
	s       *Server
	outer   *http.Request
	ctx     context.Context
	ids     map[string]string // bulkId → created id
	failed  map[string]bool   // bulkId → its POST failed
	defined map[string]bool   // bulkIds some POST defines
	results []*bulkResult     // by operation index
	errors  int
}

func (s *Server) runBulk(r *http.Request, ops []*bulkOp, failOnErrors int) []*bulkResult {
	b := &bulkRun{s: s, outer: r, ids: map[string]string{}, failed: map[string]bool{}, defined: map[string]bool{},
		results: make([]*bulkResult, len(ops))}
	b.ctx = context.WithValue(r.Context(), innerKey{}, principalOf(r.Context()))
	for _, op := range ops {
		if op.Method == http.MethodPost && op.BulkID != "" && op.err == nil {
			b.defined[op.BulkID] = true
		}
	}
	stop := func() bool { return failOnErrors > 0 && b.errors >= failOnErrors }
	var fixups []*bulkOp
	for pending := len(ops); pending > 0 && !stop(); {
		progress := false
		for _, op := range ops {
			if op.done || stop() {
				continue
			}
			ready, err := b.ready(op)
			if !ready && err == nil {
				continue
			}
			op.done, progress = true, true
			pending--
			if err == nil {
				err = op.err
			}
			if err != nil {
				b.fail(op, err)
				continue
			}
			b.exec(op)
			if len(op.fixup) > 0 {
				fixups = append(fixups, op)
			}
		}
		if progress || pending == 0 || stop() {
			continue
		}
		// Every pending operation waits for another: a cycle. Break it at
		// the first POST whose waiting references can be added later.
		broke := false
		for _, op := range ops {
			if !op.done && op.Method == http.MethodPost && b.deferRefs(op) {
				broke = true
				break
			}
		}
		if !broke {
			for _, op := range ops {
				if !op.done {
					op.done = true
					pending--
					b.fail(op, scimerr.New(scimerr.Conflict, "circular bulkId references that cannot be resolved: the operation waits for %s", strings.Join(b.unresolved(op), ", ")))
				}
			}
		}
	}
	for _, op := range fixups {
		if stop() {
			break
		}
		b.applyFixups(op)
	}
	out := make([]*bulkResult, 0, len(ops))
	for _, res := range b.results {
		if res != nil {
			out = append(out, res)
		}
	}
	return out
}

func (b *bulkRun) unresolved(op *bulkOp) []string {
	var out []string
	for _, ref := range op.refs {
		if _, ok := b.ids[ref]; !ok {
			out = append(out, bulkPrefix+ref)
		}
	}
	return out
}

// ready reports whether every bulkId op refers to is resolved; err is set
// when one never will be.
func (b *bulkRun) ready(op *bulkOp) (bool, error) {
	for _, ref := range op.refs {
		if _, ok := b.ids[ref]; ok {
			continue
		}
		switch {
		case b.failed[ref]:
			return false, scimerr.New(scimerr.InvalidValue, "%s%s refers to an operation that failed", bulkPrefix, ref)
		case !b.defined[ref]:
			return false, scimerr.New(scimerr.InvalidValue, "%s%s is not the bulkId of a POST in this request", bulkPrefix, ref)
		}
		return false, nil
	}
	return true, nil
}

// deferRefs removes from a POST's data the references that wait for other
// operations, to be added by PATCH afterwards. It reports false, changing
// nothing, when a reference is not the value of a complex attribute.
func (b *bulkRun) deferRefs(op *bulkOp) bool {
	var doc map[string]any
	if json.Unmarshal(op.Data, &doc) != nil {
		return false
	}
	waiting := func(v any) bool {
		m, _ := v.(map[string]any)
		s, _ := m["value"].(string)
		if !strings.HasPrefix(s, bulkPrefix) {
			return false
		}
		_, ok := b.ids[s[len(bulkPrefix):]]
		return !ok
	}
	var fix []bulkFixup
	strip := func(obj map[string]any, prefix string) {
		for k, v := range obj {
			switch x := v.(type) {
			case []any:
				var keep, moved []any
				for _, e := range x {
					if waiting(e) {
						moved = append(moved, e)
					} else {
						keep = append(keep, e)
					}
				}
				if len(moved) > 0 {
					obj[k] = keep
					fix = append(fix, bulkFixup{path: prefix + k, multi: true, values: moved})
				}
			case map[string]any:
				if waiting(x) {
					delete(obj, k)
					fix = append(fix, bulkFixup{path: prefix + k, values: []any{x}})
				}
			}
		}
	}
	strip(doc, "")
	for k, v := range doc {
		if m, ok := v.(map[string]any); ok && strings.HasPrefix(strings.ToLower(k), "urn:") {
			strip(m, k+":")
		}
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return false
	}
	rest := &bulkOp{Path: op.Path, Data: data}
	rest.refs = bulkRefs(rest)
	if len(b.unresolved(rest)) > 0 {
		return false
	}
	op.Data, op.fixup, op.refs = data, fix, rest.refs
	return true
}

// applyFixups adds back the references removed from op to break a cycle.
func (b *bulkRun) applyFixups(op *bulkOp) {
	res := b.results[op.index]
	if res == nil || res.Location == "" || !strings.HasPrefix(res.Status, "2") {
		return
	}
	var ops []map[string]any
	for _, f := range op.fixup {
		vals := replaceRefs(f.values, b.ids).([]any)
		if f.multi {
			ops = append(ops, map[string]any{"op": "add", "path": f.path, "value": vals})
		} else {
			ops = append(ops, map[string]any{"op": "replace", "path": f.path, "value": vals[0]})
		}
	}
	body, _ := json.Marshal(map[string]any{"schemas": []string{schema.PatchOpURN}, "Operations": ops})
	id := res.Location[strings.LastIndex(res.Location, "/")+1:]
	status, hdr, out := b.dispatch(http.MethodPatch, op.Path+"/"+id, body, "")
	if status >= 300 {
		b.errors++
		res.Status = strconv.Itoa(status)
		res.Response = json.RawMessage(out)
		return
	}
	if v := hdr.Get("ETag"); v != "" {
		res.Version = v
	}
}

func (b *bulkRun) fail(op *bulkOp, err error) {
	b.errors++
	if op.Method == http.MethodPost && op.BulkID != "" {
		b.failed[op.BulkID] = true
	}
	rec := &bulkRecorder{h: http.Header{}}
	b.s.writeError(rec, b.outer, err)
	res := &bulkResult{Method: op.Method, BulkID: op.BulkID, Status: strconv.Itoa(rec.status), Response: rec.body.Bytes()}
	if op.Method != http.MethodPost && op.err == nil {
		res.Location = b.s.baseURL(b.outer) + b.resolvePath(op.Path)
	}
	b.results[op.index] = res
}

func (b *bulkRun) resolvePath(p string) string {
	if i := strings.Index(p, "/"+bulkPrefix); i >= 0 {
		if id, ok := b.ids[p[i+1+len(bulkPrefix):]]; ok {
			return p[:i+1] + id
		}
	}
	return p
}

// exec runs one operation through the server's own handlers.
func (b *bulkRun) exec(op *bulkOp) {
	data := op.Data
	if len(op.refs) > 0 {
		var v any
		if err := json.Unmarshal(op.Data, &v); err == nil {
			data, _ = json.Marshal(replaceRefs(v, b.ids))
		}
	}
	path := b.resolvePath(op.Path)
	status, hdr, out := b.dispatch(op.Method, path, data, op.Version)
	res := &bulkResult{Method: op.Method, BulkID: op.BulkID, Status: strconv.Itoa(status), Version: hdr.Get("ETag")}
	switch {
	case status >= 300:
		b.errors++
		res.Response = json.RawMessage(out)
		if op.Method == http.MethodPost && op.BulkID != "" {
			b.failed[op.BulkID] = true
		}
		if op.Method != http.MethodPost {
			res.Location = b.s.baseURL(b.outer) + path
		}
	case op.Method == http.MethodPost:
		res.Location = hdr.Get("Location")
		if op.BulkID != "" {
			b.ids[op.BulkID] = res.Location[strings.LastIndex(res.Location, "/")+1:]
		}
	default:
		res.Location = b.s.baseURL(b.outer) + path
	}
	b.results[op.index] = res
}

// dispatch serves one operation as if it were its own request.
func (b *bulkRun) dispatch(method, path string, body []byte, version string) (status int, hdr http.Header, out []byte) {
	rec := &bulkRecorder{h: http.Header{}}
	target := Prefix + path
	if method == http.MethodPost || method == http.MethodPut {
		// A result carries location and version, not the resource: asking
		// for the id alone keeps the handler from rendering the resource
		// and from reading a group's members back after writing them.
		target += "?attributes=id"
	}
	req, err := http.NewRequestWithContext(b.ctx, method, target, bytes.NewReader(body))
	if err != nil {
		b.s.writeError(rec, b.outer, scimerr.New(scimerr.InvalidPath, "path %q is not a valid URL path", path))
		return rec.status, rec.h, rec.body.Bytes()
	}
	req.Host, req.TLS, req.RemoteAddr = b.outer.Host, b.outer.TLS, b.outer.RemoteAddr
	req.Header.Set("Content-Type", contentType)
	if version != "" {
		req.Header.Set("If-Match", version)
	}
	func() {
		defer func() {
			if v := recover(); v != nil {
				b.s.log.Error("panic in bulk operation", "method", method, "path", path, "panic", fmt.Sprint(v))
				rec = &bulkRecorder{h: http.Header{}}
				b.s.writeError(rec, b.outer, scimerr.New(scimerr.Internal, "panic"))
			}
		}()
		b.s.mux.ServeHTTP(rec, req)
	}()
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return rec.status, rec.h, rec.body.Bytes()
}

// bulkRecorder captures one operation's response.
type bulkRecorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (r *bulkRecorder) Header() http.Header { return r.h }
func (r *bulkRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *bulkRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

func jsonErrText(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	return err.Error()
}
