package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Resource is one SCIM resource as decoded JSON. Numbers are json.Number so
// that nothing is rounded on the way through.
type Resource map[string]any

// ID returns the resource's id.
func (r Resource) ID() string { s, _ := r["id"].(string); return s }

// Str returns a top-level string attribute, matched case-insensitively.
func (r Resource) Str(name string) string {
	if v, ok := r.Get(name).(string); ok {
		return v
	}
	return ""
}

// Get returns a top-level attribute, matched case-insensitively as SCIM
// attribute names are (RFC 7643 §2.1).
func (r Resource) Get(name string) any {
	if v, ok := r[name]; ok {
		return v
	}
	for k, v := range r {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

// Meta returns meta.<name> as a string.
func (r Resource) Meta(name string) string {
	m, _ := r.Get("meta").(map[string]any)
	for k, v := range m {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// Paging selects how a list is walked.
type Paging int

const (
	// PagingAuto uses cursors when the server advertises them (RFC 9865),
	// index paging otherwise.
	PagingAuto Paging = iota
	// PagingIndex uses startIndex and count (RFC 7644 §3.4.2.4).
	PagingIndex
	// PagingCursor uses cursor and count (RFC 9865).
	PagingCursor
)

// ListOptions are the query parameters of a list (RFC 7644 §3.4.2).
type ListOptions struct {
	Filter             string
	Attributes         []string
	ExcludedAttributes []string
	SortBy, SortOrder  string
	// PageSize is count; 0 leaves it to the server.
	PageSize int
	Paging   Paging
	// Extra query parameters, sent as given.
	Extra url.Values
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	for k, vs := range o.Extra {
		q[k] = append([]string(nil), vs...)
	}
	if o.Filter != "" {
		q.Set("filter", o.Filter)
	}
	if len(o.Attributes) > 0 {
		q.Set("attributes", strings.Join(o.Attributes, ","))
	}
	if len(o.ExcludedAttributes) > 0 {
		q.Set("excludedAttributes", strings.Join(o.ExcludedAttributes, ","))
	}
	if o.SortBy != "" {
		q.Set("sortBy", o.SortBy)
	}
	if o.SortOrder != "" {
		q.Set("sortOrder", o.SortOrder)
	}
	if o.PageSize > 0 {
		q.Set("count", strconv.Itoa(o.PageSize))
	}
	return q
}

// PageInfo is what one ListResponse said about itself.
type PageInfo struct {
	TotalResults   int
	HasTotal       bool
	StartIndex     int
	ItemsPerPage   int
	HasItemsPer    bool
	NextCursor     string
	PreviousCursor string
	Schemas        []string
	// Count is how many resources the page held.
	Count int
	// Header of the HTTP response (Date, ETag…).
	Header http.Header
}

// PageRequest selects one page: StartIndex for index paging, or Cursor
// (non-nil; "" asks for the first cursor page) for cursor paging.
type PageRequest struct {
	StartIndex int
	Cursor     *string
}

// Page fetches one page of endpoint and calls fn for each resource as it is
// decoded: the page is never held in memory as a whole.
func (c *Client) Page(ctx context.Context, endpoint string, opt ListOptions, pr PageRequest, fn func(Resource) error) (*PageInfo, error) {
	q := opt.query()
	if pr.Cursor != nil {
		q.Set("cursor", *pr.Cursor)
	} else if pr.StartIndex > 0 {
		q.Set("startIndex", strconv.Itoa(pr.StartIndex))
	}
	var info *PageInfo
	r := Request{Method: http.MethodGet, Path: endpoint, Query: q}
	err := c.send(ctx, r, func(res *http.Response) error {
		if res.StatusCode < 200 || res.StatusCode > 299 {
			b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
			return ParseError(r.Method, c.URL(r.Path, r.Query), res.StatusCode, b)
		}
		var err error
		info, err = decodeList(res.Body, fn)
		if info != nil {
			info.Header = res.Header
		}
		if err != nil {
			var ue *userError
			if errors.As(err, &ue) {
				return ue.err
			}
			return fmt.Errorf("GET %s: reading the ListResponse: %w", c.URL(r.Path, r.Query), err)
		}
		return nil
	})
	return info, err
}

// userError carries an error returned by the caller's callback through the
// decoder unchanged.
type userError struct{ err error }

func (e *userError) Error() string { return e.err.Error() }

// decodeList walks a ListResponse token by token, decoding one resource at
// a time. Member names are matched case-insensitively: older servers send
// "resources" and "totalresults".
func decodeList(body io.Reader, fn func(Resource) error) (*PageInfo, error) {
	dec := json.NewDecoder(body)
	dec.UseNumber()
	if err := expectDelim(dec, '{'); err != nil {
		return nil, err
	}
	info := &PageInfo{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return info, err
		}
		key, _ := t.(string)
		switch strings.ToLower(key) {
		case "resources":
			t, err := dec.Token()
			if err != nil {
				return info, err
			}
			if t == nil {
				continue
			}
			if d, ok := t.(json.Delim); !ok || d != '[' {
				return info, fmt.Errorf("Resources is not an array")
			}
			for dec.More() {
				var r Resource
				if err := dec.Decode(&r); err != nil {
					return info, err
				}
				info.Count++
				if err := fn(r); err != nil {
					return info, &userError{err}
				}
			}
			if _, err := dec.Token(); err != nil {
				return info, err
			}
		case "totalresults":
			n, err := decodeInt(dec)
			if err != nil {
				return info, fmt.Errorf("totalResults: %w", err)
			}
			info.TotalResults, info.HasTotal = n, true
		case "startindex":
			n, err := decodeInt(dec)
			if err != nil {
				return info, fmt.Errorf("startIndex: %w", err)
			}
			info.StartIndex = n
		case "itemsperpage":
			n, err := decodeInt(dec)
			if err != nil {
				return info, fmt.Errorf("itemsPerPage: %w", err)
			}
			info.ItemsPerPage, info.HasItemsPer = n, true
		case "nextcursor":
			if err := dec.Decode(&info.NextCursor); err != nil {
				return info, fmt.Errorf("nextCursor: %w", err)
			}
		case "previouscursor":
			if err := dec.Decode(&info.PreviousCursor); err != nil {
				return info, fmt.Errorf("previousCursor: %w", err)
			}
		case "schemas":
			if err := dec.Decode(&info.Schemas); err != nil {
				return info, fmt.Errorf("schemas: %w", err)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return info, err
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return info, err
	}
	return info, nil
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if got, ok := t.(json.Delim); !ok || got != d {
		return fmt.Errorf("expected %q, found %v", d, t)
	}
	return nil
}

// decodeInt accepts an integer, or (leniently) a string holding one.
func decodeInt(dec *json.Decoder) (int, error) {
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return 0, err
	}
	raw = bytes.Trim(raw, `"`)
	n, err := strconv.Atoi(string(raw))
	if err != nil {
		return 0, fmt.Errorf("%s is not an integer", raw)
	}
	return n, nil
}

// ListStats summarises a whole walk.
type ListStats struct {
	Pages        int
	Resources    int
	TotalResults int // as the first page said
	Paging       Paging
	// FirstHeader is the HTTP header of the first page (its Date is the
	// server's time at the start of the walk).
	FirstHeader http.Header
}

// List walks every page of endpoint and calls fn for each resource, as it is
// decoded, so memory does not grow with the result. With PagingAuto it uses
// cursors when the ServiceProviderConfig advertises them.
func (c *Client) List(ctx context.Context, endpoint string, opt ListOptions, fn func(Resource) error) (*ListStats, error) {
	paging := opt.Paging
	if paging == PagingAuto {
		paging = PagingIndex
		if sp, err := c.ServiceProviderConfig(ctx); err == nil && sp.CursorPaging() {
			paging = PagingCursor
		}
	}
	st := &ListStats{Paging: paging}
	if paging == PagingCursor {
		cur := ""
		for {
			info, err := c.Page(ctx, endpoint, opt, PageRequest{Cursor: &cur}, fn)
			if err != nil {
				return st, err
			}
			st.note(info)
			if info.NextCursor == "" || info.NextCursor == cur {
				return st, nil
			}
			cur = info.NextCursor
		}
	}
	start := 1
	for {
		info, err := c.Page(ctx, endpoint, opt, PageRequest{StartIndex: start}, fn)
		if err != nil {
			return st, err
		}
		st.note(info)
		// An empty page ends the walk even when totalResults says more:
		// a server whose total is wrong must not make the client loop.
		if info.Count == 0 {
			return st, nil
		}
		start += info.Count
		if info.HasTotal && start > info.TotalResults {
			return st, nil
		}
	}
}

func (st *ListStats) note(info *PageInfo) {
	if st.Pages == 0 {
		st.TotalResults = info.TotalResults
		st.FirstHeader = info.Header
	}
	st.Pages++
	st.Resources += info.Count
}

// All is List as an iterator: for r, err := range c.All(ctx, "/Users", opt).
// Breaking out of the loop stops the walk.
func (c *Client) All(ctx context.Context, endpoint string, opt ListOptions) iter.Seq2[Resource, error] {
	return func(yield func(Resource, error) bool) {
		stop := errors.New("stop")
		_, err := c.List(ctx, endpoint, opt, func(r Resource) error {
			if !yield(r, nil) {
				return stop
			}
			return nil
		})
		if err != nil && err != stop {
			yield(nil, err)
		}
	}
}
