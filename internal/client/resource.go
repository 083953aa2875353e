package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Result is the answer to a single-resource request.
type Result struct {
	Status   int
	Header   http.Header
	Resource Resource // nil when the server sent no body (204)
	Raw      []byte
}

// ETag returns the ETag header, or meta.version when the header is absent.
func (r *Result) ETag() string {
	if e := r.Header.Get("ETag"); e != "" {
		return e
	}
	if r.Resource != nil {
		return r.Resource.Meta("version")
	}
	return ""
}

// Location returns the Location header.
func (r *Result) Location() string { return r.Header.Get("Location") }

// GetOptions are the options of a GET of one resource.
type GetOptions struct {
	Attributes, ExcludedAttributes []string
	IfNoneMatch                    string
}

func (c *Client) single(ctx context.Context, r Request) (*Result, error) {
	res, err := c.Do(ctx, r)
	if res == nil {
		return nil, err
	}
	out := &Result{Status: res.Status, Header: res.Header, Raw: res.Body}
	if err != nil {
		return out, err
	}
	if len(bytes.TrimSpace(res.Body)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(res.Body))
		dec.UseNumber()
		if derr := dec.Decode(&out.Resource); derr != nil {
			return out, fmt.Errorf("%s %s: the answer is not a JSON object: %w", r.Method, c.URL(r.Path, r.Query), derr)
		}
	}
	return out, nil
}

// Get reads one resource, e.g. Get(ctx, ResourcePath("/Users", id), nil).
// A 304 (If-None-Match) is returned as a Result without error.
func (c *Client) Get(ctx context.Context, path string, opt *GetOptions) (*Result, error) {
	r := Request{Method: http.MethodGet, Path: path}
	if opt != nil {
		r.Query = url.Values{}
		if len(opt.Attributes) > 0 {
			r.Query.Set("attributes", strings.Join(opt.Attributes, ","))
		}
		if len(opt.ExcludedAttributes) > 0 {
			r.Query.Set("excludedAttributes", strings.Join(opt.ExcludedAttributes, ","))
		}
		if opt.IfNoneMatch != "" {
			r.Header = http.Header{"If-None-Match": {opt.IfNoneMatch}}
		}
	}
	res, err := c.single(ctx, r)
	if err != nil && res != nil && res.Status == http.StatusNotModified {
		return res, nil
	}
	return res, err
}

// Create POSTs a new resource to endpoint (RFC 7644 §3.3).
func (c *Client) Create(ctx context.Context, endpoint string, doc any) (*Result, error) {
	return c.single(ctx, Request{Method: http.MethodPost, Path: endpoint, Body: doc})
}

func ifMatch(etag string) http.Header {
	if etag == "" {
		return nil
	}
	return http.Header{"If-Match": {etag}}
}

// Replace PUTs a whole resource (RFC 7644 §3.5.1). A non-empty etag is sent
// as If-Match.
func (c *Client) Replace(ctx context.Context, path string, doc any, etag string) (*Result, error) {
	return c.single(ctx, Request{Method: http.MethodPut, Path: path, Body: doc, Header: ifMatch(etag)})
}

// PatchOp is one PATCH operation (RFC 7644 §3.5.2).
type PatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value,omitempty"`
}

// PatchBody is a PatchOp request message.
func PatchBody(ops ...PatchOp) map[string]any {
	return map[string]any{"schemas": []string{PatchOpURN}, "Operations": ops}
}

// Patch modifies a resource (RFC 7644 §3.5.2). A 204 answer gives a Result
// without Resource.
func (c *Client) Patch(ctx context.Context, path string, ops []PatchOp, etag string) (*Result, error) {
	return c.single(ctx, Request{Method: http.MethodPatch, Path: path, Body: PatchBody(ops...), Header: ifMatch(etag)})
}

// Delete removes a resource (RFC 7644 §3.6).
func (c *Client) Delete(ctx context.Context, path, etag string) error {
	_, err := c.Do(ctx, Request{Method: http.MethodDelete, Path: path, Header: ifMatch(etag)})
	return err
}

// Search POSTs a SearchRequest to endpoint + "/.search" (RFC 7644 §3.4.3)
// and streams the answer like Page.
func (c *Client) Search(ctx context.Context, endpoint string, body map[string]any, fn func(Resource) error) (*PageInfo, error) {
	if body["schemas"] == nil {
		body["schemas"] = []string{SearchURN}
	}
	var info *PageInfo
	r := Request{Method: http.MethodPost, Path: strings.TrimRight(endpoint, "/") + "/.search", Body: body}
	err := c.send(ctx, r, func(res *http.Response) error {
		if res.StatusCode < 200 || res.StatusCode > 299 {
			var b bytes.Buffer
			_, _ = b.ReadFrom(res.Body)
			return ParseError(r.Method, c.URL(r.Path, nil), res.StatusCode, b.Bytes())
		}
		var err error
		info, err = decodeList(res.Body, fn)
		return err
	})
	return info, err
}

// BulkOperation is one operation of a BulkRequest (RFC 7644 §3.7).
type BulkOperation struct {
	Method  string `json:"method"`
	BulkID  string `json:"bulkId,omitempty"`
	Version string `json:"version,omitempty"`
	Path    string `json:"path"`
	Data    any    `json:"data,omitempty"`
}

// BulkResult is one operation of a BulkResponse. Status is read from a string
// (as RFC 7644 §3.7.3 shows it) or a number.
type BulkResult struct {
	Method   string
	BulkID   string
	Version  string
	Location string
	Status   int
	Response json.RawMessage
}

// ID returns the id of the resource the operation touched: from the response
// body, or else the last segment of Location.
func (b *BulkResult) ID() string {
	var r struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(b.Response, &r) == nil && r.ID != "" {
		return r.ID
	}
	if i := strings.LastIndex(b.Location, "/"); i >= 0 {
		id, err := url.PathUnescape(b.Location[i+1:])
		if err == nil {
			return id
		}
	}
	return ""
}

// Err returns the operation's SCIM error, or nil for a 2xx status.
func (b *BulkResult) Err() *Error {
	if b.Status >= 200 && b.Status <= 299 {
		return nil
	}
	return ParseError(b.Method, b.Location, b.Status, b.Response)
}

// UnmarshalJSON implements json.Unmarshaler.
func (b *BulkResult) UnmarshalJSON(data []byte) error {
	var raw struct {
		Method   string          `json:"method"`
		BulkID   string          `json:"bulkId"`
		Version  string          `json:"version"`
		Location string          `json:"location"`
		Status   json.RawMessage `json:"status"`
		Response json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	s := strings.Trim(string(raw.Status), `"`)
	// RFC 7644's first drafts nested the code: {"status":{"code":"201"}}.
	if strings.HasPrefix(s, "{") {
		var nested struct {
			Code json.RawMessage `json:"code"`
		}
		_ = json.Unmarshal(raw.Status, &nested)
		s = strings.Trim(string(nested.Code), `"`)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("bulk operation status %s is not a number", raw.Status)
	}
	*b = BulkResult{Method: raw.Method, BulkID: raw.BulkID, Version: raw.Version, Location: raw.Location, Status: n, Response: raw.Response}
	return nil
}

// BulkResponse is the answer to a BulkRequest.
type BulkResponse struct {
	Schemas    []string     `json:"schemas"`
	Operations []BulkResult `json:"Operations"`
}

// Bulk sends one BulkRequest (RFC 7644 §3.7). failOnErrors 0 lets the server
// process every operation. The caller keeps within the server's advertised
// bulk.maxOperations and maxPayloadSize.
func (c *Client) Bulk(ctx context.Context, ops []BulkOperation, failOnErrors int) (*BulkResponse, error) {
	body := map[string]any{"schemas": []string{BulkRequestURN}, "Operations": ops}
	if failOnErrors > 0 {
		body["failOnErrors"] = failOnErrors
	}
	res, err := c.Do(ctx, Request{Method: http.MethodPost, Path: "/Bulk", Body: body})
	if err != nil {
		return nil, err
	}
	var br BulkResponse
	if err := json.Unmarshal(res.Body, &br); err != nil {
		return nil, fmt.Errorf("POST /Bulk: the answer is not a BulkResponse: %w", err)
	}
	return &br, nil
}

// EncodedSize is the size of v as JSON (for bulk.maxPayloadSize).
func EncodedSize(v any) int {
	b, err := json.Marshal(v)
	if err != nil {
		return 0
	}
	return len(b)
}
