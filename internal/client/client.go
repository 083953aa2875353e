package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SCIM message and content constants (RFC 7644 §3, §8.1).
const (
	ContentType     = "application/scim+json"
	ListResponseURN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	ErrorURN        = "urn:ietf:params:scim:api:messages:2.0:Error"
	PatchOpURN      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	BulkRequestURN  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	BulkResponseURN = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	SearchURN       = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
)

// Config configures a Client.
type Config struct {
	// BaseURL is the SCIM base, e.g. https://host/scim/v2. Endpoint paths
	// ("/Users") are appended to it.
	BaseURL string
	// Auth authenticates every request; nil sends none.
	Auth Authenticator
	// HTTPClient is used as is when set; otherwise a client with a pooled
	// transport sized for concurrent use (load generation) is built.
	HTTPClient *http.Client
	// Timeout bounds one HTTP attempt when HTTPClient is nil (default 60 s,
	// the limit Entra and Okta give a SCIM server).
	Timeout time.Duration
	// UserAgent is sent on every request (default "pamscim-client").
	UserAgent string
	// Retry says how 429 and 5xx answers are retried.
	Retry RetryPolicy
	// OnRetry, if set, is told about each retry (progress displays, tests).
	OnRetry func(RetryEvent)
}

// RetryPolicy governs retries of throttled (429) and failed (5xx) requests.
// The wait before retry n is Retry-After when the server sends it (capped at
// MaxRetryAfter), otherwise BaseDelay·2ⁿ with full jitter, capped at MaxDelay.
type RetryPolicy struct {
	MaxRetries    int           // default 5; negative disables retries
	BaseDelay     time.Duration // default 500 ms
	MaxDelay      time.Duration // default 30 s
	MaxRetryAfter time.Duration // default 5 min (Okta's default wait)
}

// RetryEvent describes one retry.
type RetryEvent struct {
	Method, URL string
	Status      int   // 0 for a transport error
	Err         error // the transport error, if any
	Attempt     int   // 1 for the first retry
	Wait        time.Duration
}

// Client is a SCIM 2.0 client (RFC 7644). It is safe for concurrent use;
// connections are reused across requests.
type Client struct {
	base  *url.URL
	hc    *http.Client
	auth  Authenticator
	ua    string
	retry RetryPolicy
	onRet func(RetryEvent)

	mu       sync.Mutex
	spConfig *ServiceProviderConfig
}

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("SCIM base URL %q: want an absolute http(s) URL such as https://host/scim/v2", cfg.BaseURL)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = NewHTTPClient(cfg.Timeout)
	}
	r := cfg.Retry
	if r.MaxRetries == 0 {
		r.MaxRetries = 5
	}
	if r.MaxRetries < 0 {
		r.MaxRetries = 0
	}
	if r.BaseDelay <= 0 {
		r.BaseDelay = 500 * time.Millisecond
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = 30 * time.Second
	}
	if r.MaxRetryAfter <= 0 {
		r.MaxRetryAfter = 5 * time.Minute
	}
	ua := cfg.UserAgent
	if ua == "" {
		ua = "pamscim-client"
	}
	return &Client{base: u, hc: hc, auth: cfg.Auth, ua: ua, retry: r, onRet: cfg.OnRetry}, nil
}

// NewHTTPClient returns an HTTP client whose transport keeps enough idle
// connections per host for many concurrent callers: the default keeps two,
// which makes a concurrent client open and close a connection per request.
func NewHTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 512
	t.MaxIdleConnsPerHost = 256
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: t, Timeout: timeout}
}

// BaseURL returns the SCIM base URL without a trailing slash.
func (c *Client) BaseURL() string { return c.base.String() }

// URL resolves an endpoint path ("/Users/abc", already escaped as
// ResourcePath does) and query against the base.
func (c *Client) URL(path string, q url.Values) string {
	if p, rawQ, ok := strings.Cut(path, "?"); ok {
		path = p
		extra, _ := url.ParseQuery(rawQ)
		if q == nil {
			q = url.Values{}
		}
		for k, vs := range extra {
			q[k] = append(q[k], vs...)
		}
	}
	u := *c.base
	u.RawQuery, u.Fragment = "", ""
	s := strings.TrimRight(u.String(), "/") + "/" + strings.TrimLeft(path, "/")
	if qs := encodeQuery(q); qs != "" {
		s += "?" + qs
	}
	return s
}

// encodeQuery encodes like url.Values.Encode but spaces as %20, which every
// server decodes, while some mistake "+" in a filter for a literal plus.
func encodeQuery(q url.Values) string {
	return strings.ReplaceAll(q.Encode(), "+", "%20")
}

// ResourcePath joins an endpoint and an id, escaping the id.
func ResourcePath(endpoint, id string) string {
	return strings.TrimRight(endpoint, "/") + "/" + url.PathEscape(id)
}

// Request is one HTTP request to the SCIM server.
type Request struct {
	Method string
	Path   string     // endpoint-relative, e.g. "/Users/abc"
	Query  url.Values // optional
	Body   any        // nil, []byte / json.RawMessage (sent as is) or a value to encode
	Header http.Header
	// NoAuth sends no credentials (verify's 401 checks).
	NoAuth bool
}

// Response is a complete response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Error is a non-2xx answer. ScimType and Detail come from the SCIM error
// body (RFC 7644 §3.12) when the server sent one.
type Error struct {
	Method, URL string
	Status      int
	ScimType    string
	Detail      string
	Body        []byte
	// SCIM is true when the body was a SCIM error (schemas holds the Error URN).
	SCIM bool
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.ScimType != "" {
		fmt.Fprintf(&b, " (%s)", e.ScimType)
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	} else if !e.SCIM && len(e.Body) > 0 {
		s := string(e.Body)
		if len(s) > 200 {
			s = s[:200] + "…"
		}
		fmt.Fprintf(&b, ": %s", strings.TrimSpace(s))
	}
	return b.String()
}

// StatusOf returns the HTTP status of a client error, or 0.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// ParseError reads a SCIM error body. status may be a string (as RFC 7644
// §3.12 says) or a number (as many servers send).
func ParseError(method, u string, status int, body []byte) *Error {
	e := &Error{Method: method, URL: u, Status: status, Body: body}
	var eb struct {
		Schemas  []string        `json:"schemas"`
		ScimType string          `json:"scimType"`
		Detail   string          `json:"detail"`
		Status   json.RawMessage `json:"status"`
	}
	if json.Unmarshal(body, &eb) == nil {
		for _, s := range eb.Schemas {
			if s == ErrorURN {
				e.SCIM = true
			}
		}
		e.ScimType, e.Detail = eb.ScimType, eb.Detail
	}
	return e
}

// Do sends a request, retrying 429 and 5xx answers, and returns the whole
// response. A non-2xx final answer is returned as both the response and an
// *Error.
func (c *Client) Do(ctx context.Context, r Request) (*Response, error) {
	var out *Response
	err := c.send(ctx, r, func(res *http.Response) error {
		b, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		out = &Response{Status: res.StatusCode, Header: res.Header, Body: b}
		return nil
	})
	if out != nil && (out.Status < 200 || out.Status > 299) {
		return out, ParseError(r.Method, c.URL(r.Path, r.Query), out.Status, out.Body)
	}
	return out, err
}

// send runs the retry loop; onOK reads a 2xx (or final non-2xx) response
// body, which send closes afterwards.
func (c *Client) send(ctx context.Context, r Request, read func(*http.Response) error) error {
	var body []byte
	switch b := r.Body.(type) {
	case nil:
	case []byte:
		body = b
	case json.RawMessage:
		body = b
	default:
		var err error
		if body, err = json.Marshal(b); err != nil {
			return fmt.Errorf("encoding the request body: %w", err)
		}
	}
	u := c.URL(r.Path, r.Query)
	reauthed := false
	for attempt := 0; ; attempt++ {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, r.Method, u, rd)
		if err != nil {
			return err
		}
		req.Header.Set("Accept", ContentType+", application/json;q=0.9")
		req.Header.Set("User-Agent", c.ua)
		if body != nil {
			req.Header.Set("Content-Type", ContentType)
		}
		for k, vs := range r.Header {
			req.Header[k] = vs
		}
		if c.auth != nil && !r.NoAuth {
			if err := c.auth.Apply(ctx, req); err != nil {
				return fmt.Errorf("authenticating: %w", err)
			}
		}
		res, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// A transport error is retried only where repeating cannot
			// apply a change twice.
			if idempotent(r.Method) && attempt < c.retry.MaxRetries {
				if werr := c.wait(ctx, RetryEvent{Method: r.Method, URL: u, Err: err, Attempt: attempt + 1}, 0); werr != nil {
					return werr
				}
				continue
			}
			return err
		}
		if res.StatusCode == http.StatusUnauthorized && !reauthed && !r.NoAuth && c.auth != nil && c.auth.Invalidate() {
			// An expired or revoked OAuth access token: fetch a new one once.
			drain(res)
			reauthed = true
			attempt--
			continue
		}
		if retryable(res.StatusCode) && attempt < c.retry.MaxRetries {
			ra := retryAfter(res.Header.Get("Retry-After"), time.Now())
			drain(res)
			if werr := c.wait(ctx, RetryEvent{Method: r.Method, URL: u, Status: res.StatusCode, Attempt: attempt + 1}, ra); werr != nil {
				return werr
			}
			continue
		}
		err = read(res)
		drain(res)
		return err
	}
}

func drain(res *http.Response) {
	// Reading what is left lets the connection go back to the pool.
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 1<<20))
	res.Body.Close()
}

func idempotent(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return false
}

// retryable: throttling and server-side failures. 501 (not implemented) will
// not get better by asking again.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || (status >= 500 && status != http.StatusNotImplemented && status != http.StatusHTTPVersionNotSupported)
}

// retryAfter reads Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3);
// -1 when absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return -1
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return -1
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		if d < 0 {
			d = 0
		}
		return d
	}
	return -1
}

func (c *Client) wait(ctx context.Context, ev RetryEvent, ra time.Duration) error {
	d := ra
	if d < 0 {
		backoff := c.retry.BaseDelay << (ev.Attempt - 1)
		if backoff <= 0 || backoff > c.retry.MaxDelay {
			backoff = c.retry.MaxDelay
		}
		// Full jitter keeps many clients from retrying in lock step.
		d = backoff/2 + rand.N(backoff/2+1)
	} else if d > c.retry.MaxRetryAfter {
		d = c.retry.MaxRetryAfter
	}
	ev.Wait = d
	if c.onRet != nil {
		c.onRet(ev)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
