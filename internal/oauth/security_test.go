package oauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/oauth"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/throttle"
)

// from sends a token request as if from source (the test listener trusts
// 127.0.0.1 as a proxy, so X-Forwarded-For names the source).
func (e *env) from(source, id, secret string, f map[string]string) *tokResp {
	e.t.Helper()
	v := form("grant_type", "client_credentials")
	for k, x := range f {
		v.Set(k, x)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/scim/oauth/token", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", source)
	req.SetBasicAuth(id, secret)
	return e.send(req)
}

func TestFailedAuthenticationThrottle(t *testing.T) {
	e := newEnv(t, envOpt{
		trusted:  []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")},
		failures: throttle.FailurePolicy{PerClientBurst: 3, PerClientEvery: time.Minute, PerSourceBurst: 5, PerSourceEvery: time.Minute},
	})
	id, secret := e.client(oauth.ClientSpec{})
	const owner, attacker, newcomer, other = "198.51.100.7", "203.0.113.5", "192.0.2.10", "192.0.2.99"
	if r := e.from(owner, id, secret, nil); r.status != 200 {
		t.Fatalf("owner: %d", r.status)
	}
	for i := range 3 {
		e.from(attacker, id, "pamscim_cs_guess"+strconv.Itoa(i), nil).wantError(t, 401, "invalid_client")
	}
	// The client's bucket is empty: a guess, even the right secret from an
	// address that never authenticated this client, waits.
	r := e.from(attacker, id, "pamscim_cs_guess", nil).wantError(t, 429, "slow_down")
	ra, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > 60 {
		t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
	}
	e.from(newcomer, id, secret, nil).wantError(t, 429, "slow_down")
	// The owner, which authenticated from its address before, is not locked out.
	if r := e.from(owner, id, secret, nil); r.status != 200 {
		t.Fatalf("owner locked out: %d %s", r.status, r.raw)
	}
	// After Retry-After, the newcomer gets in.
	e.clock.Add(time.Duration(ra) * time.Second)
	if r := e.from(newcomer, id, secret, nil); r.status != 200 {
		t.Fatalf("after Retry-After: %d %s", r.status, r.raw)
	}
	// Per source: one address guessing at many client ids is stopped too.
	for i := range 5 {
		e.from(other, "client-"+strconv.Itoa(i), "x", nil).wantError(t, 401, "invalid_client")
	}
	e.from(other, "client-9", "x", nil).wantError(t, 429, "slow_down")
	// Password guesses are counted per account as well.
	ctx := context.Background()
	pwID, pwSecret := e.client(oauth.ClientSpec{Grants: []string{oauth.GrantPassword}})
	if err := e.svc.CreateAccount(ctx, store.DefaultTenant, "svc", "a long enough password", nil, "test"); err != nil {
		t.Fatal(err)
	}
	fails := 0
	for i := range 8 {
		r := e.from("192.0.2."+strconv.Itoa(50+i), pwID, pwSecret, map[string]string{"grant_type": "password", "username": "svc", "password": "wrong"})
		if r.status == 429 {
			break
		}
		r.wantError(t, 400, "invalid_grant")
		fails++
	}
	if fails != 5 {
		t.Fatalf("password guesses before 429: %d, want the account burst 5", fails)
	}
}

func TestSCIMRateLimitPerToken(t *testing.T) {
	e := newEnv(t, envOpt{rate: 0.01, burst: 3})
	ctx := context.Background()
	a, _, _ := e.au.CreateToken(ctx, store.DefaultTenant, "a", []string{auth.ScopeRead}, 0, "test")
	b, _, _ := e.au.CreateToken(ctx, store.DefaultTenant, "b", []string{auth.ScopeRead}, 0, "test")
	for range 3 {
		if r := e.scim(a, "GET", "/Users", nil); r.status != 200 {
			t.Fatalf("%d", r.status)
		}
	}
	r := e.scim(a, "GET", "/Users", nil)
	if r.status != 429 || r.str("status") != "429" || r.header.Get("Retry-After") == "" || r.header.Get("Content-Type") != "application/scim+json" {
		t.Fatalf("over the limit: %d %v %s", r.status, r.header, r.raw)
	}
	if r := e.scim(b, "GET", "/Users", nil); r.status != 200 {
		t.Fatalf("another token is limited too: %d", r.status)
	}
	// One OAuth client shares one budget over all its access tokens.
	id, secret := e.client(oauth.ClientSpec{})
	for i := range 4 {
		at := e.token(form("grant_type", "client_credentials"), id, secret).str("access_token")
		want := 200
		if i == 3 {
			want = 429
		}
		if r := e.scim(at, "GET", "/Users", nil); r.status != want {
			t.Fatalf("client token %d: %d", i, r.status)
		}
	}
}

func TestBearerFailuresThrottled(t *testing.T) {
	e := newEnv(t, envOpt{failures: throttle.FailurePolicy{PerSourceBurst: 4, PerSourceEvery: time.Hour}})
	tok, _, _ := e.au.CreateToken(context.Background(), store.DefaultTenant, "ok", []string{auth.ScopeRead}, 0, "test")
	for range 4 {
		if r := e.scim("pamscim_pat_guess", "GET", "/Users", nil); r.status != 401 {
			t.Fatalf("%d", r.status)
		}
	}
	r := e.scim("pamscim_pat_guess", "GET", "/Users", nil)
	if r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("%d %v", r.status, r.header)
	}
	// The address is slowed down whatever it presents, until it refills.
	if r := e.scim(tok, "GET", "/Users", nil); r.status != 429 {
		t.Fatalf("%d", r.status)
	}
}

func TestScopesAndUnauthorized(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rw, _, _ := e.au.CreateToken(ctx, store.DefaultTenant, "rw", []string{auth.ScopeRead, auth.ScopeWrite}, 0, "test")
	ro, _, _ := e.au.CreateToken(ctx, store.DefaultTenant, "ro", []string{auth.ScopeRead}, 0, "test")
	revoked, _, _ := e.au.CreateToken(ctx, store.DefaultTenant, "gone", []string{auth.ScopeRead}, 0, "test")
	expired, _, _ := e.au.CreateToken(ctx, store.DefaultTenant, "old", []string{auth.ScopeRead}, time.Second, "test")
	if err := e.au.RevokeToken(ctx, store.DefaultTenant, "gone", "test"); err != nil {
		t.Fatal(err)
	}
	id, secret := e.client(oauth.ClientSpec{Scopes: []string{auth.ScopeRead}})
	oauthRO := e.token(form("grant_type", "client_credentials"), id, secret).str("access_token")
	e.clock.Add(2 * time.Second)
	u := e.scim(rw, "POST", "/Users", newUser("target"))
	uid := u.str("id")
	patch := map[string]any{"schemas": []string{schema.PatchOpURN}, "Operations": []any{map[string]any{"op": "replace", "path": "active", "value": false}}}
	writes := []struct {
		method, path string
		body         any
	}{
		{"POST", "/Users", newUser("nope")},
		{"PUT", "/Users/" + uid, newUser("target")},
		{"PATCH", "/Users/" + uid, patch},
		{"DELETE", "/Users/" + uid, nil},
		{"POST", "/Groups", map[string]any{"schemas": []string{schema.GroupURN}, "displayName": "g"}},
		{"POST", "/Bulk", map[string]any{"schemas": []string{schema.BulkRequestURN}, "Operations": []any{}}},
	}
	for _, tok := range []struct{ name, token string }{{"named read-only", ro}, {"OAuth read-only", oauthRO}} {
		if r := e.scim(tok.token, "GET", "/Users/"+uid, nil); r.status != 200 {
			t.Fatalf("%s read: %d", tok.name, r.status)
		}
		for _, w := range writes {
			r := e.scim(tok.token, w.method, w.path, w.body)
			if r.status != 403 || r.str("status") != "403" ||
				r.header.Get("WWW-Authenticate") != `Bearer realm="pamscim", error="insufficient_scope", scope="scim:write"` {
				t.Fatalf("%s %s %s: %d %v %s", tok.name, w.method, w.path, r.status, r.header, r.raw)
			}
		}
	}
	for _, tc := range []struct {
		name, header, wantAuth string
	}{
		{"missing", "", `Bearer realm="pamscim"`},
		{"not Bearer", "Basic dXNlcjpwYXNz", `Bearer realm="pamscim"`},
		{"unknown", "Bearer pamscim_pat_nope", `Bearer realm="pamscim", error="invalid_token"`},
		{"unknown access token", "Bearer pamscim_at_nope", `Bearer realm="pamscim", error="invalid_token"`},
		{"revoked", "Bearer " + revoked, `Bearer realm="pamscim", error="invalid_token"`},
		{"expired", "Bearer " + expired, `Bearer realm="pamscim", error="invalid_token"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", e.srv.URL+"/scim/v2/Users", nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			r := e.send(req)
			if r.status != 401 || r.str("status") != "401" || r.header.Get("WWW-Authenticate") != tc.wantAuth {
				t.Fatalf("%d %v %s", r.status, r.header, r.raw)
			}
		})
	}
}

// TestTenantBoundaries: a tenant can never read, find, count, change or
// delete another's resources, through any endpoint.
func TestTenantBoundaries(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.st.CreateTenant(ctx, "acme", time.Now()); err != nil {
		t.Fatal(err)
	}
	def, _, _ := e.au.CreateToken(ctx, store.DefaultTenant, "def", []string{auth.ScopeWrite}, 0, "test")
	id, secret := e.client(oauth.ClientSpec{Tenant: "acme"})
	acme := e.token(form("grant_type", "client_credentials"), id, secret).str("access_token")

	u := e.scim(def, "POST", "/Users", newUser("bjensen")).str("id")
	g := e.scim(def, "POST", "/Groups", map[string]any{"schemas": []string{schema.GroupURN}, "displayName": "Admins",
		"members": []any{map[string]any{"value": u}}}).str("id")
	if u == "" || g == "" {
		t.Fatal("setup")
	}
	// Uniqueness is per tenant: acme may have its own bjensen.
	acmeU := e.scim(acme, "POST", "/Users", newUser("bjensen"))
	if acmeU.status != 201 || acmeU.str("id") == u {
		t.Fatalf("acme's own bjensen: %d %s", acmeU.status, acmeU.raw)
	}
	patch := map[string]any{"schemas": []string{schema.PatchOpURN}, "Operations": []any{map[string]any{"op": "replace", "path": "active", "value": false}}}
	search := map[string]any{"schemas": []string{schema.SearchRequestURN}, "filter": `userName eq "bjensen"`}
	checks := []struct {
		name, method, path string
		body               any
		status             int
		total              float64 // for lists: totalResults
	}{
		{"read user", "GET", "/Users/" + u, nil, 404, -1},
		{"read group", "GET", "/Groups/" + g, nil, 404, -1},
		{"find by filter", "GET", "/Users?filter=" + urlq(`userName eq "bjensen"`), nil, 200, 1},
		{"find by id filter", "GET", "/Users?filter=" + urlq(`id eq "`+u+`"`), nil, 200, 0},
		{"find groups by member", "GET", "/Groups?filter=" + urlq(`members.value eq "`+u+`"`), nil, 200, 0},
		{"count", "GET", "/Groups?count=0", nil, 200, 0},
		{"search", "POST", "/Users/.search", search, 200, 1},
		{"replace", "PUT", "/Users/" + u, newUser("bjensen"), 404, -1},
		{"patch", "PATCH", "/Users/" + u, patch, 404, -1},
		{"patch group", "PATCH", "/Groups/" + g, map[string]any{"schemas": []string{schema.PatchOpURN},
			"Operations": []any{map[string]any{"op": "remove", "path": "members"}}}, 404, -1},
		{"delete", "DELETE", "/Users/" + u, nil, 404, -1},
	}
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			r := e.scim(acme, tc.method, tc.path, tc.body)
			if r.status != tc.status {
				t.Fatalf("%d %s", r.status, r.raw)
			}
			if tc.total >= 0 && r.body["totalResults"] != tc.total {
				t.Fatalf("totalResults %v: %s", r.body["totalResults"], r.raw)
			}
			if tc.total == 1 {
				res, _ := r.body["Resources"].([]any)
				if len(res) != 1 || res[0].(map[string]any)["id"] != acmeU.str("id") {
					t.Fatalf("found another tenant's resource: %s", r.raw)
				}
			}
		})
	}
	t.Run("add another tenant's user as a member", func(t *testing.T) {
		// Refused (400) or dropped as unknown (--unknown-members ignore):
		// either way the group never holds it.
		r := e.scim(acme, "POST", "/Groups", map[string]any{"schemas": []string{schema.GroupURN},
			"displayName": "Steal", "members": []any{map[string]any{"value": u}}})
		switch r.status {
		case 400:
		case 201:
			if got := e.scim(acme, "GET", "/Groups/"+r.str("id"), nil); got.body["members"] != nil {
				t.Fatalf("the group holds another tenant's user: %s", got.raw)
			}
		default:
			t.Fatalf("%d %s", r.status, r.raw)
		}
		if r := e.scim(acme, "GET", "/Groups?filter="+urlq(`members.value eq "`+u+`"`), nil); r.body["totalResults"] != float64(0) {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("bulk", func(t *testing.T) {
		r := e.scim(acme, "POST", "/Bulk", map[string]any{"schemas": []string{schema.BulkRequestURN}, "Operations": []any{
			map[string]any{"method": "DELETE", "path": "/Users/" + u},
			map[string]any{"method": "PATCH", "path": "/Groups/" + g, "data": patch},
			map[string]any{"method": "PUT", "path": "/Users/" + u, "data": newUser("bjensen")},
		}})
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		ops, _ := r.body["Operations"].([]any)
		for _, op := range ops {
			if st := op.(map[string]any)["status"]; st != "404" {
				t.Fatalf("bulk reached another tenant: %s", r.raw)
			}
		}
	})
	// Nothing of default's changed.
	r := e.scim(def, "GET", "/Groups/"+g, nil)
	if r.status != 200 || len(r.body["members"].([]any)) != 1 {
		t.Fatalf("default's group changed: %s", r.raw)
	}
	if r := e.scim(def, "GET", "/Users/"+u, nil); r.status != 200 || r.body["active"] != nil {
		t.Fatalf("default's user changed: %s", r.raw)
	}
}

func urlq(s string) string {
	return strings.NewReplacer(" ", "%20", `"`, "%22").Replace(s)
}

func TestAuditTrail(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, secret := e.client(oauth.ClientSpec{})
	r := e.token(form("grant_type", "client_credentials"), id, secret)
	e.post("/scim/oauth/token", form("grant_type", "client_credentials"), id, "pamscim_cs_wrong").wantError(t, 401, "invalid_client")
	r2 := e.token(form("grant_type", "refresh_token", "refresh_token", r.str("refresh_token")), id, secret)
	at := r2.str("access_token")
	uid := e.scim(at, "POST", "/Users", newUser("audited")).str("id")
	e.scim(at, "PATCH", "/Users/"+uid, map[string]any{"schemas": []string{schema.PatchOpURN}, "Operations": []any{map[string]any{"op": "replace", "path": "active", "value": false}}})
	e.scim(at, "PUT", "/Users/"+uid, newUser("audited"))
	e.scim(at, "DELETE", "/Users/"+uid, nil)
	// A Bulk operation is recorded like the request it stands for.
	bulk := e.scim(at, "POST", "/Bulk", map[string]any{"schemas": []string{schema.BulkRequestURN}, "Operations": []any{
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "g", "data": map[string]any{"schemas": []string{schema.GroupURN}, "displayName": "via bulk"}}}})
	if bulk.status != 200 {
		t.Fatalf("bulk: %d %s", bulk.status, bulk.raw)
	}
	e.post("/oauth2/revoke", form("token", r2.str("refresh_token")), id, secret)
	e.scim(at, "GET", "/Users", nil) // refused: revoked
	if _, _, err := e.au.CreateToken(ctx, store.DefaultTenant, "named", []string{auth.ScopeRead}, 0, "cli"); err != nil {
		t.Fatal(err)
	}

	all := e.auditEvents(store.AuditQuery{})
	var got []string
	for _, ev := range all {
		got = append(got, ev.Event+"/"+ev.Outcome)
		if ev.Time.IsZero() {
			t.Fatalf("no time: %+v", ev)
		}
	}
	want := []string{"client.created/success", "token.issued/success", "token.refused/failure", "token.refreshed/success",
		"scim.create/success", "scim.patch/success", "scim.replace/success", "scim.delete/success",
		"scim.create/success", "token.revoked/success", "token.refused/failure", "token.issued/success"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("events:\n got %v\nwant %v", got, want)
	}
	writes := e.auditEvents(store.AuditQuery{Event: "scim.", Type: "User", Object: uid})
	if len(writes) != 4 {
		t.Fatalf("writes: %d", len(writes))
	}
	for _, w := range writes {
		if w.Tenant != store.DefaultTenant || w.Actor != "client:"+id || w.Source != "127.0.0.1" {
			t.Fatalf("write event: %+v", w)
		}
	}
	refused := e.auditEvents(store.AuditQuery{Event: "token.refused"})
	if refused[0].Actor != "client:"+id || !strings.Contains(refused[0].Detail, "invalid_client") ||
		refused[1].Actor != "client:"+id || !strings.Contains(refused[1].Detail, "revoked") {
		t.Fatalf("refusals: %+v %+v", refused[0], refused[1])
	}
	if g := e.auditEvents(store.AuditQuery{Type: "Group"}); len(g) != 1 || g[0].Actor != "client:"+id || g[0].Object == "" {
		t.Fatalf("bulk write: %+v", g)
	}
	if n := len(e.auditEvents(store.AuditQuery{Event: "token.", Outcome: "failure"})); n != 2 {
		t.Fatalf("failures: %d", n)
	}
	if n := len(e.auditEvents(store.AuditQuery{Actor: "cli"})); n != 1 {
		t.Fatalf("by actor: %d", n)
	}
	if n := len(e.auditEvents(store.AuditQuery{Since: e.clock.Now().Add(time.Hour)})); n != 0 {
		t.Fatalf("since the future: %d", n)
	}
	if n := len(e.auditEvents(store.AuditQuery{Limit: 3})); n != 3 {
		t.Fatalf("limit: %d", n)
	}
	if n := len(e.auditEvents(store.AuditQuery{Tenant: "acme"})); n != 0 {
		t.Fatalf("tenant filter: %d", n)
	}
}

// TestNoSecretInLogsAuditOrDatabase runs every flow, collects every secret
// that was handed out or presented, and looks for each in the server log
// (debug level), in every audit field and in the raw database file.
func TestNoSecretInLogsAuditOrDatabase(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var secrets []string
	keep := func(s ...string) {
		for _, x := range s {
			if x != "" {
				secrets = append(secrets, x)
			}
		}
	}
	id, secret := e.client(oauth.ClientSpec{Grants: []string{oauth.GrantClientCredentials, oauth.GrantPassword, oauth.GrantRefresh}})
	keep(secret)
	const pw = "a service account password"
	keep(pw)
	if err := e.svc.CreateAccount(ctx, store.DefaultTenant, "svc", pw, nil, "test"); err != nil {
		t.Fatal(err)
	}
	named, _, _ := e.au.CreateToken(ctx, store.DefaultTenant, "named", []string{auth.ScopeWrite}, 0, "test")
	keep(named)
	r := e.token(form("grant_type", "client_credentials"), id, secret)
	keep(r.str("access_token"), r.str("refresh_token"))
	p := e.token(form("grant_type", "password", "username", "svc", "password", pw), id, secret)
	keep(p.str("access_token"), p.str("refresh_token"))
	r2 := e.token(form("grant_type", "refresh_token", "refresh_token", r.str("refresh_token")), id, secret)
	keep(r2.str("access_token"), r2.str("refresh_token"))
	// Mistakes that put secrets where names go.
	e.post("/scim/oauth/token", form("grant_type", "client_credentials"), secret, secret)                                 // secret as client_id
	e.post("/scim/oauth/token", form("grant_type", "password", "username", pw, "password", pw), id, secret)               // password as username
	e.post("/scim/oauth/token", form("grant_type", "refresh_token", "refresh_token", r.str("refresh_token")), id, secret) // reuse
	e.post("/scim/oauth/token?client_secret="+secret, form("grant_type", "client_credentials"), id, secret)               // secret in URL
	e.scim(r.str("refresh_token"), "GET", "/Users?filter="+urlq(`userName eq "`+named+`"`), nil)                          // refresh as bearer
	// Refresh tokens alone: refused while off, exchanged once on, and a
	// secret where the client_id goes.
	minted, _, err := e.svc.IssueRefreshToken(ctx, id, "test")
	if err != nil {
		t.Fatal(err)
	}
	keep(minted)
	e.seedRefresh(minted)
	if _, err := e.svc.SetRefreshTokenAlone(ctx, id, true, "test"); err != nil {
		t.Fatal(err)
	}
	alone := e.seedRefresh(minted)
	if alone.status != 200 {
		t.Fatalf("refresh token alone: %d %s", alone.status, alone.raw)
	}
	keep(alone.str("access_token"), alone.str("refresh_token"))
	e.seedRefresh(alone.str("refresh_token"), "&client_id="+secret)
	e.seedRefresh(minted) // reuse
	// A User's password attribute is resource data, not a credential of
	// pamscim's: it must stay out of logs and the trail (checked below).
	const userPassword = "user attribute password"
	e.scim(named, "POST", "/Users", map[string]any{"schemas": []string{schema.UserURN}, "userName": "x", "password": userPassword})
	e.scim("pamscim_pat_"+strings.Repeat("A", 43), "GET", "/Users", nil)
	rotated, err := e.svc.RotateSecret(ctx, id, "", false, "test")
	if err != nil {
		t.Fatal(err)
	}
	keep(rotated)
	e.post("/oauth2/revoke", form("token", p.str("access_token")), id, rotated)

	evs := e.auditEvents(store.AuditQuery{})
	trail, _ := json.Marshal(evs)
	logs := e.logs.String()
	if len(evs) < 10 || !strings.Contains(logs, `"msg":"request"`) {
		t.Fatalf("the flows did not run: %d events, log %d bytes", len(evs), len(logs))
	}
	db, err := os.ReadFile(filepath.Join(e.dir, "pamscim.db"))
	if err != nil {
		t.Fatal(err)
	}
	wal, _ := os.ReadFile(filepath.Join(e.dir, "pamscim.db-wal"))
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("a secret (%.14s…) is in the log", s)
		}
		if strings.Contains(string(trail), s) {
			t.Errorf("a secret (%.14s…) is in the audit trail", s)
		}
		if strings.Contains(string(db), s) || strings.Contains(string(wal), s) {
			t.Errorf("a secret (%.14s…) is stored in the clear", s)
		}
	}
	if strings.Contains(logs, userPassword) || strings.Contains(string(trail), userPassword) {
		t.Error("a User's password attribute is in the log or the trail")
	}
	for _, prefix := range []string{auth.TokenPrefix, auth.AccessPrefix, auth.RefreshPrefix, auth.ClientSecretPrefix} {
		if strings.Contains(logs, prefix) || strings.Contains(string(trail), prefix) {
			t.Errorf("something with the prefix %s is in the log or the trail", prefix)
		}
	}
}
