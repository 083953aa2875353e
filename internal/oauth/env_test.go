package oauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/api"
	"github.com/pamscim/pamscim/internal/audit"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/oauth"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
	"github.com/pamscim/pamscim/internal/throttle"
)

// syncBuffer is a log sink the server writes from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// clock is a settable clock shared by every part of the server.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is the whole server (SCIM API + OAuth endpoints + audit) on a real
// listener over a real SQLite file, logging at debug level into logs.
type env struct {
	t     *testing.T
	st    store.Store
	au    *auth.Service
	svc   *oauth.Service
	srv   *httptest.Server
	api   *api.Server
	clock *clock
	logs  *syncBuffer
	dir   string
}

type envOpt struct {
	dir       string // share a data directory (a second instance)
	trusted   []netip.Prefix
	failures  throttle.FailurePolicy
	rate      float64
	burst     int
	realClock bool
}

func newEnv(t *testing.T, opts ...envOpt) *env {
	t.Helper()
	var o envOpt
	if len(opts) > 0 {
		o = opts[0]
	}
	dir := o.dir
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "data")
	}
	reg := schema.Default()
	st, err := sqlite.Open(context.Background(), dir, reg, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	clk := &clock{t: time.Now().UTC().Truncate(time.Second)}
	au := auth.NewService(st)
	rec := audit.New(st, log)
	if !o.realClock {
		au.Now = clk.Now
		rec.SetClock(clk.Now)
	}
	s := api.New(reg, st, au, api.Config{}, log)
	svc := oauth.New(st, oauth.Config{Failures: o.failures, TrustedProxies: o.trusted}, rec, log)
	if !o.realClock {
		svc.SetClock(clk.Now)
		s.SetClock(clk.Now)
	}
	svc.Register(s.Handle)
	s.UseAudit(rec)
	s.UseFailures(svc.Failures())
	s.UseRateLimit(o.rate, o.burst)
	s.UseTrustedProxies(o.trusted)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); st.Close() })
	return &env{t: t, st: st, au: au, svc: svc, srv: srv, api: s, clock: clk, logs: logs, dir: dir}
}

// client registers a secret client.
func (e *env) client(spec oauth.ClientSpec) (id, secret string) {
	e.t.Helper()
	if spec.Tenant == "" {
		spec.Tenant = store.DefaultTenant
	}
	if spec.Name == "" {
		spec.Name = "c" + strings.ReplaceAll(time.Now().Format("150405.000000000"), ".", "")
	}
	c, sec, err := e.svc.CreateClient(context.Background(), spec, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	return c.ID, sec
}

type tokResp struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (r *tokResp) str(k string) string { s, _ := r.body[k].(string); return s }

// post sends a form to path, with optional Basic credentials.
func (e *env) post(path string, form url.Values, basic ...string) *tokResp {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) *tokResp {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := &tokResp{status: res.StatusCode, header: res.Header, raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			e.t.Fatalf("%s %s: body is not JSON: %s", req.Method, req.URL.Path, raw)
		}
	}
	return r
}

// token asks the token endpoint; it fails the test unless the answer is 200.
func (e *env) token(form url.Values, basic ...string) *tokResp {
	e.t.Helper()
	r := e.post("/scim/oauth/token", form, basic...)
	if r.status != 200 {
		e.t.Fatalf("token: %d %s", r.status, r.raw)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		e.t.Fatalf("token response Cache-Control %q", r.header.Get("Cache-Control"))
	}
	return r
}

// wantError checks an RFC 6749 §5.2 error answer.
func (r *tokResp) wantError(t *testing.T, status int, code string) *tokResp {
	t.Helper()
	if r.status != status || r.str("error") != code {
		t.Fatalf("got %d %s, want %d error=%s", r.status, r.raw, status, code)
	}
	if r.header.Get("Content-Type") != "application/json" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("error headers: %v", r.header)
	}
	if r.str("error_description") == "" {
		t.Fatalf("no error_description: %s", r.raw)
	}
	return r
}

// scim calls the SCIM API with a bearer token.
func (e *env) scim(token, method, path string, body any) *tokResp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.srv.URL+"/scim/v2"+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	return e.send(req)
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func newUser(name string) map[string]any {
	return map[string]any{"schemas": []string{schema.UserURN}, "userName": name}
}

// auditEvents lists the trail.
func (e *env) auditEvents(q store.AuditQuery) []*store.AuditEvent {
	e.t.Helper()
	if q.Limit == 0 {
		q.Limit = 1000
	}
	evs, err := e.st.ListAudit(context.Background(), q)
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}
