package console_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/console"
	"github.com/pamscim/pamscim/internal/store"
)

var secretInput = regexp.MustCompile(`id="secret"[^>]*value="([^"]+)"`)

// follow answers the 303 of an action with the GET a browser makes.
func (b *browser) follow(r resp) resp {
	b.e.t.Helper()
	if r.status != http.StatusSeeOther {
		b.e.t.Fatalf("action: status %d; body %.300s", r.status, r.body)
	}
	return b.get(r.header.Get("Location"))
}

func secretOf(t *testing.T, r resp) string {
	t.Helper()
	m := secretInput.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no secret on the page: %.500s", r.body)
	}
	return m[1]
}

func TestSecretShownOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	b := e.browser()
	b.signIn("root")
	clients := "/admin/t/default/clients"
	form := url.Values{"name": {"iiq"}, "scope_read": {"1"}, "scope_write": {"1"}, "grant_client_credentials": {"1"},
		"grant_refresh_token": {"1"}, "access_ttl": {"10m"}, "refresh_ttl": {"60d"}}

	r := b.post(clients, form)
	if strings.Contains(r.body, auth.ClientSecretPrefix) {
		t.Fatal("the POST response itself carries the secret (a reload would repeat the POST)")
	}
	r = b.follow(r)
	secret := secretOf(t, r)
	if !strings.HasPrefix(secret, auth.ClientSecretPrefix) {
		t.Fatalf("secret %q", secret)
	}
	cs, _ := e.st.ListClients(ctx, "default")
	if len(cs) != 1 || cs[0].AccessTTL != 10*time.Minute || cs[0].RefreshTTL != 60*24*time.Hour {
		t.Fatalf("client: %+v", cs)
	}
	if string(cs[0].SecretHash) != string(auth.Hash(secret)) {
		t.Fatal("the shown secret is not the client's")
	}
	// Every later view of every page is without it; another session of the
	// same administrator never gets it either.
	other := e.browser()
	other.signIn("root")
	for _, p := range []string{clients, clients, "/admin/t/default/", "/admin/t/default/audit", "/admin/t/default/tokens"} {
		for _, br := range []*browser{b, other} {
			if r := br.get(p); strings.Contains(r.body, secret) || strings.Contains(r.body, `id="secret"`) {
				t.Fatalf("%s shows the secret again", p)
			}
		}
	}

	// Recycling shows the new secret once; the old hash is gone.
	id := cs[0].ID
	r = b.follow(b.post(clients+"/"+id+"/rotate", url.Values{"revoke_tokens": {"1"}}))
	rotated := secretOf(t, r)
	if rotated == secret {
		t.Fatal("rotation kept the secret")
	}
	if c, _ := e.st.Client(ctx, id); string(c.SecretHash) != string(auth.Hash(rotated)) {
		t.Fatal("rotation did not store the new secret")
	}
	if r := b.get(clients); strings.Contains(r.body, rotated) {
		t.Fatal("the rotated secret shows twice")
	}

	// SCIM tokens: the same.
	r = b.follow(b.post("/admin/t/default/tokens", url.Values{"name": {"okta"}, "scope_read": {"1"}, "expires": {"90d"}}))
	tok := secretOf(t, r)
	if !strings.HasPrefix(tok, auth.TokenPrefix) {
		t.Fatalf("token %q", tok)
	}
	if r := b.get("/admin/t/default/tokens"); strings.Contains(r.body, tok) || !strings.Contains(r.body, "okta") {
		t.Fatal("token page after creation")
	}
	ts, _ := e.st.ListTokens(ctx, "default")
	if len(ts) != 1 || ts[0].Expires == nil || ts[0].Expires.Sub(ts[0].Created) != 90*24*time.Hour || len(ts[0].Scopes) != 1 || ts[0].CreatedBy != "admin:root" {
		t.Fatalf("token: %+v", ts)
	}
	// At rest, the flash is sealed: the store holds no secret in clear.
	r = b.post("/admin/t/default/tokens", url.Values{"name": {"entra"}, "scope_read": {"1"}, "expires": {"30d"}})
	var cookie string
	for _, c := range b.c.Jar.Cookies(mustURL(e.srv.URL + "/admin/")) {
		if c.Name == console.CookieName {
			cookie = c.Value
		}
	}
	raw, err := base64.RawURLEncoding.DecodeString(cookie)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(raw)
	sealed, err := e.st.TakeAdminFlash(ctx, h[:])
	if err != nil || len(sealed) == 0 {
		t.Fatalf("no flash stored: %v", err)
	}
	if strings.Contains(string(sealed), auth.TokenPrefix) || strings.Contains(string(sealed), "entra") {
		t.Fatal("the flash is stored in clear")
	}
	if r := b.follow(r); strings.Contains(r.body, `id="secret"`) {
		t.Fatal("a taken flash showed")
	}
}

func TestActionsAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	b := e.browser()
	b.signIn("root")
	base := "/admin/t/default/"
	b.follow(b.post(base+"clients", url.Values{"name": {"c"}, "scope_read": {"1"}, "grant_client_credentials": {"1"}, "grant_refresh_token": {"1"}, "access_ttl": {"15m"}, "refresh_ttl": {"30d"}}))
	cs, _ := e.st.ListClients(ctx, "default")
	id := cs[0].ID
	b.follow(b.post(base+"clients/"+id+"/lifetimes", url.Values{"access_ttl": {"5m"}, "refresh_ttl": {"7d"}}))
	if c, _ := e.st.Client(ctx, id); c.AccessTTL != 5*time.Minute || c.RefreshTTL != 7*24*time.Hour {
		t.Fatalf("lifetimes: %v %v", c.AccessTTL, c.RefreshTTL)
	}
	b.follow(b.post(base+"clients/"+id+"/refresh-token", nil))
	b.follow(b.post(base+"clients/"+id+"/rotate", nil))
	b.follow(b.post(base+"clients/"+id+"/delete", nil))
	b.follow(b.post(base+"tokens", url.Values{"name": {"t"}, "scope_write": {"1"}, "expires": {"never"}}))
	b.follow(b.post(base+"tokens/revoke", url.Values{"name": {"t"}}))
	b.follow(b.post("/admin/tenants", url.Values{"name": {"globex"}}))
	b.post("/admin/logout", nil)

	evs, err := e.st.ListAudit(ctx, store.AuditQuery{Actor: "admin:root", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, ev := range evs {
		got[ev.Event] = true
		if ev.Source != "127.0.0.1" {
			t.Errorf("%s has source %q", ev.Event, ev.Source)
		}
		if strings.Contains(ev.Detail+ev.Object, "pamscim_") {
			t.Fatalf("a secret in the audit trail: %+v", ev)
		}
	}
	for _, want := range []string{console.EventSignIn, "client.created", console.EventLifetimes, "client.rotated", "client.deleted",
		"token.issued", "token.revoked", console.EventTenantCreated, console.EventSignOut} {
		if !got[want] {
			t.Errorf("no %s by admin:root in the audit trail (have %v)", want, got)
		}
	}
	// The audit page shows them, newest first.
	b.signIn("root")
	r := b.get(base + "audit?actor=admin:root")
	_, table, _ := strings.Cut(r.body, `<table class="grid audit">`)
	if i, j := strings.Index(table, "token.revoked"), strings.Index(table, "client.created"); i < 0 || j < 0 || i > j {
		t.Fatalf("audit page order: %d %d", i, j)
	}
}

func TestLogPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	now := time.Now().UTC()
	var entries []store.LogEntry
	for i, st := range []int{201, 409, 200, 500, 404} {
		entries = append(entries, store.LogEntry{Tenant: "default", At: now.Add(time.Duration(i) * time.Second), Method: "POST", Path: "/Users",
			Status: st, Duration: 3 * time.Millisecond, Client: "okta", ResourceType: "User", ResourceID: "id-" + string(rune('a'+i)),
			RequestBody: []byte(`{"userName":"u` + string(rune('a'+i)) + `","password":"[redacted]"}`), ResponseBody: []byte(`{"status":"409","scimType":"uniqueness"}`)})
	}
	entries = append(entries, store.LogEntry{Tenant: "acme", At: now, Method: "GET", Path: "/Groups", Status: 400, Client: "acme-client"},
		store.LogEntry{Tenant: "default", At: now, Method: "GET", Path: "/Users", Query: "filter=userName%20eq%20%22bjensen%40example.com%22&count=2", Status: 400, Client: "okta",
			ResponseBody: []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidFilter","detail":"the filter is not valid: \"bogus\""}`)})
	if err := e.st.AppendLog(ctx, entries); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.signIn("root")
	rows := regexp.MustCompile(`href="/admin/t/default/log/(\d+)(\?[^"]*)?"`)
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"", 6},
		{"?status=error", 4},
		{"?status=409", 1},
		{"?status=5xx", 1},
		{"?status=4xx&resource=id-e", 1},
		{"?client=okta", 6},
		{"?client=acme-client", 0},
		{"?path=Groups", 0},
	} {
		t.Run(tc.query, func(t *testing.T) {
			r := b.get("/admin/t/default/log" + tc.query)
			wantStatus(t, tc.query, r, http.StatusOK)
			if n := len(rows.FindAllString(r.body, -1)); n != tc.want {
				t.Fatalf("%d rows, want %d", n, tc.want)
			}
		})
	}
	// A row's client and resource are links that filter by them, so nobody
	// has to guess how a client is spelt in the log ("oauth:NAME").
	if r := b.get("/admin/t/default/log"); !strings.Contains(r.body, `href="/admin/t/default/log?client=okta"`) || !strings.Contains(r.body, `href="/admin/t/default/log?resource=id-e"`) {
		t.Fatal("the log's client and resource are not filter links")
	}
	for _, bad := range []string{"?status=abc", "?status=999", "?before=-1", "?before=x"} {
		wantStatus(t, bad, b.get("/admin/t/default/log"+bad), http.StatusBadRequest)
	}
	// A logged query reads as it was meant, not percent-encoded.
	if r := b.get("/admin/t/default/log"); !strings.Contains(r.body, `/Users?filter=userName eq &#34;bjensen@example.com&#34;&amp;count=2`) {
		t.Fatal("the log shows the query percent-encoded")
	}
	// An entry opened from a filtered list links back to that list.
	filtered := b.get("/admin/t/default/log?status=409&path=%2FUsers").body
	m := rows.FindStringSubmatch(filtered)
	if m == nil || m[2] != "?path=%2FUsers&amp;status=409" {
		t.Fatalf("the Open link of a filtered list: %q", m)
	}
	r := b.get("/admin/t/default/log/" + m[1] + "?path=%2FUsers&status=409")
	if !strings.Contains(r.body, `href="/admin/t/default/log?path=%2FUsers&amp;status=409">← Provisioning log (filtered)`) {
		t.Fatalf("the entry does not link back to the filtered list: %.2000s", r.body)
	}
	if r := b.get("/admin/t/default/log/" + m[1]); !strings.Contains(r.body, `href="/admin/t/default/log">← Provisioning log<`) {
		t.Fatal("the entry opened alone does not link back to the log")
	}
	es, _ := e.st.QueryLog(ctx, store.LogQuery{Tenant: "default", Status: "409"})
	r = b.get("/admin/t/default/log/" + itoa(es[0].ID))
	wantStatus(t, "entry", r, http.StatusOK)
	for _, want := range []string{"[redacted]", "ub", "uniqueness", "okta", "409"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("entry page lacks %q", want)
		}
	}
	// The dashboard lists the errors, each with its reason from the SCIM
	// error body.
	if r := b.get("/admin/t/default/"); !strings.Contains(r.body, ">500<") || !strings.Contains(r.body, ">409<") ||
		!strings.Contains(r.body, `<td class="detail">uniqueness</td>`) ||
		!strings.Contains(r.body, `<td class="detail">invalidFilter: the filter is not valid: &#34;bogus&#34;</td>`) {
		t.Fatalf("dashboard lacks recent errors and their reasons: %.4000s", r.body)
	}
	for _, bad := range []string{"0", "-3", "abc", "99999999999999999999", itoa(es[0].ID + 1000)} {
		wantStatus(t, "entry "+bad, b.get("/admin/t/default/log/"+bad), http.StatusNotFound)
	}
}

func TestMalformedForms(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.signIn("root")
	clients := "/admin/t/default/clients"
	ok := url.Values{"name": {"c"}, "scope_read": {"1"}, "grant_client_credentials": {"1"}, "access_ttl": {"15m"}, "refresh_ttl": {"30d"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for kk, vv := range ok {
			f[kk] = vv
		}
		if v == "\x00del" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	for _, tc := range []struct {
		name string
		path string
		form url.Values
		want int
	}{
		{"client without name", clients, with("name", ""), http.StatusBadRequest},
		{"client name too long", clients, with("name", strings.Repeat("n", 101)), http.StatusBadRequest},
		{"client without scope", clients, with("scope_read", "\x00del"), http.StatusBadRequest},
		{"client with refresh grant only", clients, func() url.Values {
			f := with("grant_client_credentials", "\x00del")
			f.Set("grant_refresh_token", "1")
			return f
		}(), http.StatusBadRequest},
		{"access ttl not a duration", clients, with("access_ttl", "soon"), http.StatusBadRequest},
		{"access ttl negative", clients, with("access_ttl", "-5m"), http.StatusBadRequest},
		{"refresh ttl absurd", clients, with("refresh_ttl", "99999d"), http.StatusBadRequest},
		{"token without name", "/admin/t/default/tokens", url.Values{"scope_read": {"1"}, "expires": {"30d"}}, http.StatusBadRequest},
		{"token with unlisted expiry", "/admin/t/default/tokens", url.Values{"name": {"x"}, "scope_read": {"1"}, "expires": {"1m"}}, http.StatusBadRequest},
		{"token without scope", "/admin/t/default/tokens", url.Values{"name": {"x"}, "expires": {"30d"}}, http.StatusBadRequest},
		{"revoke unknown token", "/admin/t/default/tokens/revoke", url.Values{"name": {"nope"}}, http.StatusNotFound},
		{"revoke without a name", "/admin/t/default/tokens/revoke", url.Values{}, http.StatusNotFound},
		{"refresh token of unknown client", clients + "/nope/refresh-token", url.Values{}, http.StatusNotFound},
		{"rotate unknown client", clients + "/nope/rotate", url.Values{}, http.StatusNotFound},
		{"lifetimes of unknown client", clients + "/nope/lifetimes", url.Values{"access_ttl": {"5m"}, "refresh_ttl": {"1d"}}, http.StatusNotFound},
		{"tenant name with a slash", "/admin/tenants", url.Values{"name": {"a/b"}}, http.StatusBadRequest},
		{"duplicate tenant", "/admin/tenants", url.Values{"name": {"acme"}}, http.StatusConflict},
		{"form too large", clients, with("name", strings.Repeat("n", 70<<10)), http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, tc.name, b.post(tc.path, tc.form), tc.want)
		})
	}
	if cs, _ := e.st.ListClients(context.Background(), "default"); len(cs) != 0 {
		t.Fatalf("malformed forms created clients: %v", cs)
	}
	wantStatus(t, "duplicate client", b.post(clients, ok), http.StatusSeeOther)
	wantStatus(t, "duplicate client", b.post(clients, ok), http.StatusConflict)
	// Sign-in with a malformed body.
	for _, body := range []string{"%zz", strings.Repeat("a", 20<<10)} {
		req, _ := http.NewRequest("POST", e.srv.URL+"/admin/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest && res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("malformed sign-in: %d", res.StatusCode)
		}
	}
}

func TestParseTTL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"15m", 15 * time.Minute, true},
		{"12h", 12 * time.Hour, true},
		{"30d", 30 * 24 * time.Hour, true},
		{" 1h30m ", 90 * time.Minute, true},
		{"3650d", 3650 * 24 * time.Hour, true},
		{"", 0, false},
		{"0", 0, false},
		{"30s", 0, false},
		{"-1h", 0, false},
		{"3651d", 0, false},
		{"1.5d", 0, false},
		{"d", 0, false},
		{"+3d", 0, false},
		{"03d", 0, false},
		{"1e9h", 0, false},
		{"forever", 0, false},
	} {
		got, err := console.ParseTTL(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseTTL(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func FuzzParseTTL(f *testing.F) {
	for _, s := range []string{"15m", "30d", "1h30m", "-1d", "0d", "9999999999999999999d", "1e3h", "\x00d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := console.ParseTTL(s)
		if err != nil {
			if d != 0 {
				t.Fatalf("%q: error with a value %v", s, d)
			}
			return
		}
		if d < time.Minute || d > 3650*24*time.Hour {
			t.Fatalf("%q: %v is out of range", s, d)
		}
	})
}
