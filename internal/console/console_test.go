package console_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/console"
	"github.com/pamscim/pamscim/internal/oauth"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
)

const password = "correct horse battery"

// clock is a settable clock shared by the console and the test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var passwordHash = sync.OnceValue(func() string {
	h, err := auth.HashPassword(password)
	if err != nil {
		panic(err)
	}
	return h
})

type env struct {
	t   *testing.T
	st  store.Store
	srv *httptest.Server
	clk *clock
}

// newEnv starts a console on a real SQLite store with administrators
// root (all tenants) and ann (tenant acme only).
func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "data"), schema.Default(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.CreateTenant(ctx, "acme", time.Now()); err != nil {
		t.Fatal(err)
	}
	// One argon2id hash for every test's administrators: hashing is the
	// slow part (and slower still under -race).
	hash := passwordHash()
	for _, a := range []*store.Admin{{Name: "root"}, {Name: "ann", Tenant: "acme"}} {
		a.PasswordHash, a.Created, a.PasswordChanged = hash, time.Now(), time.Now()
		if err := st.CreateAdmin(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{t: time.Now()}
	con, err := console.New(st, schema.Default(), console.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	con.SetClock(clk.now)
	srv := httptest.NewServer(con)
	t.Cleanup(srv.Close)
	return &env{t: t, st: st, srv: srv, clk: clk}
}

// browser is one user agent with its cookie jar; it does not follow
// redirects, so tests see them.
type browser struct {
	e    *env
	c    *http.Client
	csrf string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type resp struct {
	status int
	header http.Header
	body   string
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(method, path string, form url.Values, hdr map[string]string) resp {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.e.srv.URL+path, body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	// What a browser sends on a same-origin form post.
	if method == http.MethodPost {
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.Header.Set("Origin", b.e.srv.URL)
	}
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if m := csrfField.FindStringSubmatch(string(raw)); m != nil {
		b.csrf = m[1]
	}
	return resp{res.StatusCode, res.Header, string(raw)}
}

func (b *browser) get(path string) resp { return b.do(http.MethodGet, path, nil, nil) }

// post sends a form with the browser's current synchronizer token.
func (b *browser) post(path string, form url.Values) resp {
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", b.csrf)
	}
	// The password typed again on the forms that make a credential, as the
	// administrator would; TestReauth sends none, or a wrong one.
	if _, ok := form[console.ReauthField]; !ok {
		form.Set(console.ReauthField, password)
	}
	return b.do(http.MethodPost, path, form, nil)
}

func (b *browser) signIn(name string) {
	b.e.t.Helper()
	r := b.do(http.MethodPost, "/admin/login", url.Values{"name": {name}, "password": {password}}, nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/admin/" {
		b.e.t.Fatalf("sign-in of %s: %d %s", name, r.status, r.body)
	}
	r = b.get("/admin/")
	if r.status != http.StatusSeeOther {
		b.e.t.Fatalf("home: %d", r.status)
	}
	if r = b.get(r.header.Get("Location")); r.status != http.StatusOK || b.csrf == "" {
		b.e.t.Fatalf("first page: %d %q", r.status, r.body)
	}
}

func wantStatus(t *testing.T, what string, r resp, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s: status %d, want %d; body: %.300s", what, r.status, want, r.body)
	}
}

func TestAuthRequired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	for _, tc := range []struct{ method, path string }{
		{"GET", "/admin/"},
		{"GET", "/admin/tenants"},
		{"GET", "/admin/t/default/"},
		{"GET", "/admin/t/default/clients"},
		{"GET", "/admin/t/default/tokens"},
		{"GET", "/admin/t/default/log"},
		{"GET", "/admin/t/default/log/1"},
		{"GET", "/admin/t/default/audit"},
		{"GET", "/admin/switch?tenant=acme"},
		{"POST", "/admin/t/default/clients"},
		{"POST", "/admin/t/default/tokens"},
		{"POST", "/admin/t/default/tokens/revoke"},
		{"POST", "/admin/t/default/clients/x/refresh-token"},
		{"HEAD", "/admin/t/default/clients"},
		{"POST", "/admin/tenants"},
		{"POST", "/admin/logout"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := b.do(tc.method, tc.path, url.Values{"name": {"x"}, "csrf": {"x"}}, nil)
			if tc.method == "GET" || tc.method == "HEAD" {
				wantStatus(t, tc.path, r, http.StatusSeeOther)
				want := "/admin/login"
				if tc.path != "/admin/" {
					want += "?next=" + url.QueryEscape(tc.path)
				}
				if r.header.Get("Location") != want {
					t.Fatalf("redirect to %q, want %q", r.header.Get("Location"), want)
				}
			} else {
				wantStatus(t, tc.path, r, http.StatusUnauthorized)
			}
		})
	}
	// A made-up cookie is no session.
	u, _ := url.Parse(e.srv.URL + "/admin/")
	b.c.Jar.SetCookies(u, []*http.Cookie{{Name: console.CookieName, Value: strings.Repeat("A", 43), Path: "/admin/"}})
	wantStatus(t, "forged cookie", b.get("/admin/t/default/"), http.StatusSeeOther)
	if toks, _ := e.st.ListTokens(context.Background(), "default"); len(toks) != 0 {
		t.Fatalf("an unauthenticated POST created tokens: %v", toks)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	anon := e.browser()
	in := e.browser()
	in.signIn("root")
	cases := []struct {
		name string
		b    *browser
		path string
	}{
		{"login", anon, "/admin/login"},
		{"redirect", anon, "/admin/"},
		{"stylesheet", anon, "/admin/static/style.css"},
		{"not found", anon, "/admin/nope"},
		{"no static listing", anon, "/admin/static/"},
		{"not found, signed in", in, "/admin/t/default/log/999999"},
		{"dashboard", in, "/admin/t/default/"},
		{"clients", in, "/admin/t/default/clients"},
		{"tokens", in, "/admin/t/default/tokens"},
		{"log", in, "/admin/t/default/log"},
		{"audit", in, "/admin/t/default/audit"},
		{"tenants", in, "/admin/tenants"},
		{"missing tenant", in, "/admin/t/nope/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.b.get(tc.path)
			for k, v := range console.SecurityHeaders {
				if got := r.header.Get(k); got != v {
					t.Errorf("%s: %s = %q, want %q", tc.path, k, got, v)
				}
			}
			csp := r.header.Get("Content-Security-Policy")
			for _, must := range []string{"default-src 'none'", "frame-ancestors 'none'"} {
				if !strings.Contains(csp, must) {
					t.Errorf("CSP lacks %s", must)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
				t.Errorf("CSP allows script: %s", csp)
			}
			if strings.Contains(r.body, "<script") || strings.Contains(r.body, " style=") {
				t.Errorf("%s has inline script or style", tc.path)
			}
		})
	}
	// The cookie is HttpOnly, SameSite=Strict, limited to /admin/.
	r := anon.do("POST", "/admin/login", url.Values{"name": {"root"}, "password": {password}}, nil)
	ck := r.header.Get("Set-Cookie")
	for _, must := range []string{console.CookieName + "=", "Path=/admin/", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(ck, must) {
			t.Errorf("Set-Cookie %q lacks %s", ck, must)
		}
	}
	if strings.Contains(ck, "Secure") {
		t.Errorf("plain-HTTP test server got a Secure cookie: %q", ck)
	}
}

func TestSecureCookieBehindHTTPS(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		base   string
		tls    bool
		secure bool
	}{
		{"https base URL", "https://scim.example.com/scim/v2", false, true},
		{"TLS listener", "", true, true},
		{"plain", "http://127.0.0.1/scim/v2", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			con, err := console.New(e.st, schema.Default(), console.Config{BaseURL: tc.base}, nil)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewUnstartedServer(con)
			if tc.tls {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			c := srv.Client()
			c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			res, err := c.PostForm(srv.URL+"/admin/login", url.Values{"name": {"root"}, "password": {password}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if got := strings.Contains(res.Header.Get("Set-Cookie"), "Secure"); got != tc.secure {
				t.Fatalf("Secure=%v, want %v: %q", got, tc.secure, res.Header.Get("Set-Cookie"))
			}
		})
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.signIn("root")
	good := b.csrf
	form := func(csrf string) url.Values {
		v := url.Values{"name": {"t1"}, "scope_read": {"1"}, "expires": {"30d"}, console.ReauthField: {password}}
		if csrf != "-" {
			v.Set("csrf", csrf)
		}
		return v
	}
	for _, tc := range []struct {
		name string
		csrf string
		hdr  map[string]string
		want int
	}{
		{"no token", "-", nil, http.StatusForbidden},
		{"empty token", "", nil, http.StatusForbidden},
		{"wrong token", strings.Repeat("x", len(good)), nil, http.StatusForbidden},
		{"token of another session", otherSessionToken(t, e), nil, http.StatusForbidden},
		{"cross-site fetch", good, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"foreign origin", good, map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.example"}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, tc.name, b.do("POST", "/admin/t/default/tokens", form(tc.csrf), tc.hdr), tc.want)
			if toks, _ := e.st.ListTokens(context.Background(), "default"); len(toks) != 0 {
				t.Fatalf("refused form still created a token")
			}
		})
	}
	// The same form with the right token and origin goes through.
	wantStatus(t, "good", b.do("POST", "/admin/t/default/tokens", form(good), nil), http.StatusSeeOther)
	if toks, _ := e.st.ListTokens(context.Background(), "default"); len(toks) != 1 {
		t.Fatalf("tokens: %v", toks)
	}
	// Sign-out needs the token too.
	wantStatus(t, "logout without token", b.do("POST", "/admin/logout", url.Values{}, nil), http.StatusForbidden)
}

func otherSessionToken(t *testing.T, e *env) string {
	o := e.browser()
	o.signIn("root")
	return o.csrf
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	dash := "/admin/t/default/"
	t.Run("idle", func(t *testing.T) {
		b := e.browser()
		b.signIn("root")
		e.clk.add(29 * time.Minute)
		wantStatus(t, "after 29 idle minutes", b.get(dash), http.StatusOK)
		e.clk.add(29 * time.Minute) // activity renewed the idle window
		wantStatus(t, "29 more minutes", b.get(dash), http.StatusOK)
		e.clk.add(31 * time.Minute)
		r := b.get(dash)
		wantStatus(t, "after 31 idle minutes", r, http.StatusSeeOther)
		if r.header.Get("Location") != "/admin/login?ended=1&next=%2Fadmin%2Ft%2Fdefault%2F" {
			t.Fatalf("redirect %q", r.header.Get("Location"))
		}
		wantStatus(t, "expired session posts", b.post("/admin/t/default/tokens", url.Values{"name": {"x"}}), http.StatusUnauthorized)
	})
	t.Run("absolute", func(t *testing.T) {
		b := e.browser()
		b.signIn("root")
		for i := range 24 { // 11.6 hours of steady activity
			e.clk.add(29 * time.Minute)
			wantStatus(t, fmt.Sprintf("active, step %d", i), b.get(dash), http.StatusOK)
		}
		e.clk.add(29 * time.Minute) // 12.1 hours after sign-in
		wantStatus(t, "past 12 hours", b.get(dash), http.StatusSeeOther)
	})
	t.Run("sign-out", func(t *testing.T) {
		b := e.browser()
		b.signIn("root")
		cookies := b.c.Jar.Cookies(mustURL(e.srv.URL + "/admin/"))
		wantStatus(t, "sign out", b.post("/admin/logout", nil), http.StatusSeeOther)
		// Replaying the old cookie after sign-out is refused.
		c := e.browser()
		c.c.Jar.SetCookies(mustURL(e.srv.URL+"/admin/"), cookies)
		wantStatus(t, "old cookie", c.get(dash), http.StatusSeeOther)
	})
	t.Run("password change ends sessions", func(t *testing.T) {
		b := e.browser()
		b.signIn("root")
		if err := console.NewAccounts(e.st).SetPassword(context.Background(), "root", password, "test"); err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "after password change", b.get(dash), http.StatusSeeOther)
	})
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func TestSignInThrottle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	try := func(name, pw string) resp {
		return b.do("POST", "/admin/login", url.Values{"name": {name}, "password": {pw}}, nil)
	}
	// A wrong password and an unknown name get the same answer.
	wrong, unknown := try("root", "wrong password!!"), try("nobody", "wrong password!!")
	wantStatus(t, "wrong password", wrong, http.StatusUnauthorized)
	wantStatus(t, "unknown name", unknown, http.StatusUnauthorized)
	if !strings.Contains(wrong.body, "Wrong name or password.") || !strings.Contains(unknown.body, "Wrong name or password.") {
		t.Fatal("the refusals differ")
	}
	// Five failures per account in a row; the sixth attempt is refused even
	// with the right password.
	for range 4 {
		wantStatus(t, "failure", try("root", "wrong password!!"), http.StatusUnauthorized)
	}
	r := try("root", password)
	wantStatus(t, "throttled account", r, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	// The other administrator is not locked out by it.
	wantStatus(t, "other account", try("ann", password), http.StatusSeeOther)
	// Many names from one address: the address runs out (20 by default).
	for i := range 20 {
		try("guess"+string(rune('a'+i)), "wrong password!!")
	}
	wantStatus(t, "throttled address", try("ann", password), http.StatusTooManyRequests)
	// The buckets refill with time (the console's clock drives them).
	e.clk.add(10 * time.Minute)
	wantStatus(t, "after waiting", try("root", password), http.StatusSeeOther)
	evs, _ := e.st.ListAudit(context.Background(), store.AuditQuery{Event: console.EventSignIn, Outcome: "failure", Limit: 1000})
	if len(evs) < 25 {
		t.Fatalf("failed sign-ins audited: %d", len(evs))
	}
}

func TestCrossTenant(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// Data in tenant default that ann (acme) must never reach.
	cl, _, err := e.oauthClient(ctx, "default", "default-client")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := auth.NewService(e.st).CreateToken(ctx, "default", "default-token", []string{auth.ScopeRead}, 0, "test"); err != nil {
		t.Fatal(err)
	}
	if err := e.st.AppendLog(ctx, []store.LogEntry{{Tenant: "default", At: time.Now(), Method: "POST", Path: "/Users", Status: 409, Client: "default-token",
		RequestBody: []byte(`{"userName":"secret-default-user"}`)}}); err != nil {
		t.Fatal(err)
	}
	es, _ := e.st.QueryLog(ctx, store.LogQuery{Tenant: "default"})
	if len(es) != 1 {
		t.Fatalf("log: %v", es)
	}
	logID := es[0].ID

	ann := e.browser()
	ann.signIn("ann")
	if r := ann.get("/admin/"); r.header.Get("Location") != "/admin/t/acme/" {
		t.Fatalf("ann's home: %q", r.header.Get("Location"))
	}
	for _, tc := range []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/admin/t/default/", nil},
		{"GET", "/admin/t/default/clients", nil},
		{"GET", "/admin/t/default/tokens", nil},
		{"GET", "/admin/t/default/log", nil},
		{"GET", "/admin/t/default/log/" + itoa(logID), nil},
		{"GET", "/admin/t/default/audit", nil},
		{"GET", "/admin/t/nope/", nil},
		{"POST", "/admin/t/default/tokens", url.Values{"name": {"sneaky"}, "scope_read": {"1"}, "expires": {"30d"}}},
		{"POST", "/admin/t/default/tokens/revoke", url.Values{"name": {"default-token"}}},
		{"POST", "/admin/t/default/clients/" + cl.ID + "/delete", url.Values{}},
		{"POST", "/admin/t/default/clients/" + cl.ID + "/refresh-token", url.Values{}},
		// Her own tenant's URL with another tenant's objects.
		{"GET", "/admin/t/acme/log/" + itoa(logID), nil},
		{"POST", "/admin/t/acme/clients/" + cl.ID + "/delete", url.Values{}},
		{"POST", "/admin/t/acme/clients/" + cl.ID + "/rotate", url.Values{}},
		{"POST", "/admin/t/acme/clients/" + cl.ID + "/lifetimes", url.Values{"access_ttl": {"1m"}, "refresh_ttl": {"1h"}}},
		{"POST", "/admin/t/acme/clients/" + cl.ID + "/refresh-token", url.Values{}},
		{"POST", "/admin/t/acme/tokens/revoke", url.Values{"name": {"default-token"}}},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			var r resp
			if tc.method == "GET" {
				r = ann.get(tc.path)
			} else {
				r = ann.post(tc.path, tc.form)
			}
			wantStatus(t, tc.path, r, http.StatusNotFound)
			for _, leak := range []string{"default-client", "default-token", "secret-default-user", cl.ID} {
				if strings.Contains(r.body, leak) {
					t.Fatalf("%s shows %q", tc.path, leak)
				}
			}
		})
	}
	// Nothing of default's changed, and no token was minted for its client.
	if n, _ := e.st.RevokeClientTokens(ctx, cl.ID, time.Now()); n != 0 {
		t.Fatalf("%d tokens were issued for default's client", n)
	}
	if c2, err := e.st.Client(ctx, cl.ID); err != nil || c2.AccessTTL != cl.AccessTTL || !bytes.Equal(c2.SecretHash, cl.SecretHash) {
		t.Fatalf("default's client changed: %+v %v", c2, err)
	}
	toks, _ := e.st.ListTokens(ctx, "default")
	if len(toks) != 1 || toks[0].Revoked != nil {
		t.Fatalf("default's tokens changed: %+v", toks)
	}
	// The tenants page shows hers only, and she may not create tenants.
	r := ann.get("/admin/tenants")
	if !strings.Contains(r.body, "acme") || strings.Contains(r.body, ">default<") || strings.Contains(r.body, `action="/admin/tenants"`) {
		t.Fatalf("ann's tenants page: %s", r.body)
	}
	wantStatus(t, "ann creates a tenant", ann.post("/admin/tenants", url.Values{"name": {"evil"}}), http.StatusForbidden)
	// Her own tenant works.
	wantStatus(t, "own dashboard", ann.get("/admin/t/acme/"), http.StatusOK)
	wantStatus(t, "own token", ann.post("/admin/t/acme/tokens", url.Values{"name": {"acme-okta"}, "scope_read": {"1"}, "expires": {"30d"}}), http.StatusSeeOther)
	// The all-tenants administrator sees both and may create tenants.
	root := e.browser()
	root.signIn("root")
	wantStatus(t, "root on acme", root.get("/admin/t/acme/tokens"), http.StatusOK)
	if r := root.get("/admin/t/default/clients"); !strings.Contains(r.body, "default-client") {
		t.Fatal("root does not see default's client")
	}
	wantStatus(t, "root creates a tenant", root.post("/admin/tenants", url.Values{"name": {"globex"}}), http.StatusSeeOther)
	if ok, _ := e.st.TenantExists(ctx, "globex"); !ok {
		t.Fatal("tenant not created")
	}
	wantStatus(t, "bad tenant name", root.post("/admin/tenants", url.Values{"name": {"Bad Name/.."}}), http.StatusBadRequest)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (e *env) oauthClient(ctx context.Context, tenant, name string) (*store.OAuthClient, string, error) {
	return oauth.New(e.st, oauth.Config{}, nil, nil).CreateClient(ctx, oauth.ClientSpec{Tenant: tenant, Name: name}, "test")
}
