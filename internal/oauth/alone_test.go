package oauth_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/oauth"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/throttle"
)

// seedRefresh sends seed 000's request byte for byte: POST
// [host]/scim/oauth/token with grant_type=refresh_token&refresh_token=… and
// no client authentication.
func (e *env) seedRefresh(rt string, extra ...string) *tokResp {
	e.t.Helper()
	body := "grant_type=refresh_token&refresh_token=" + rt + strings.Join(extra, "")
	req, err := http.NewRequest("POST", e.srv.URL+"/scim/oauth/token", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.send(req)
}

// TestRefreshTokenAlone: a client that allows refresh tokens alone gets
// access tokens for a refresh token presented with nothing else; its
// tokens rotate, and a reused one ends its chain, as with authentication.
func TestRefreshTokenAlone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, secret := e.client(oauth.ClientSpec{Name: "beyondinsight", Scopes: []string{auth.ScopeRead, auth.ScopeWrite}, AccessTTL: 5 * time.Minute, RefreshTokenAlone: true})
	if c, _ := e.st.Client(ctx, id); !c.RefreshTokenAlone {
		t.Fatal("the setting given at creation was not stored")
	}
	r0, _, err := e.svc.IssueRefreshToken(ctx, id, "admin:alice")
	if err != nil {
		t.Fatal(err)
	}

	r := e.seedRefresh(r0)
	if r.status != 200 || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("seed 000's request: %d %s", r.status, r.raw)
	}
	a1, r1 := r.str("access_token"), r.str("refresh_token")
	if !strings.HasPrefix(a1, auth.AccessPrefix) || !strings.HasPrefix(r1, auth.RefreshPrefix) || r1 == r0 ||
		r.str("token_type") != "Bearer" || r.body["expires_in"] != float64(300) || r.str("scope") != "scim:read scim:write" {
		t.Fatalf("response: %s", r.raw)
	}
	if c := e.scim(a1, "POST", "/Users", newUser("by-refresh-alone")); c.status != 201 {
		t.Fatalf("the access token: %d %s", c.status, c.raw)
	}
	evs := e.auditEvents(store.AuditQuery{Event: "token.refreshed"})
	if len(evs) != 1 || evs[0].Actor != "client:"+id || !strings.Contains(evs[0].Detail, "without client authentication") || evs[0].Outcome != "success" {
		t.Fatalf("audit: %+v", evs)
	}
	if c, _ := e.st.Client(ctx, id); c.LastUsed == nil {
		t.Fatal("the exchange did not record the client's use")
	}

	// The next exchanges: alone, with the client's own authentication (the
	// setting takes nothing away), with a client_id that names the client,
	// and narrowed.
	r2 := e.seedRefresh(r1, "&client_id="+id)
	if r2.status != 200 {
		t.Fatalf("with client_id: %d %s", r2.status, r2.raw)
	}
	r3 := e.token(form("grant_type", "refresh_token", "refresh_token", r2.str("refresh_token")), id, secret)
	if evs := e.auditEvents(store.AuditQuery{Event: "token.refreshed"}); len(evs) != 3 || strings.Contains(evs[2].Detail, "without client authentication") {
		t.Fatalf("an authenticated exchange is audited as one: %+v", evs[len(evs)-1])
	}
	r4 := e.seedRefresh(r3.str("refresh_token"), "&scope=scim:read")
	if r4.status != 200 || r4.str("scope") != "scim:read" {
		t.Fatalf("narrowed: %d %s", r4.status, r4.raw)
	}
	// Another client cannot use it, even authenticated; a client_id naming
	// another client is refused as an unknown token is.
	other, otherSecret := e.client(oauth.ClientSpec{})
	e.post("/scim/oauth/token", form("grant_type", "refresh_token", "refresh_token", r4.str("refresh_token")), other, otherSecret).wantError(t, 400, "invalid_grant")
	e.seedRefresh(r4.str("refresh_token"), "&client_id="+other).wantError(t, 401, "invalid_client")

	// r1 again: reuse. The whole chain is revoked, the live refresh token
	// and every access token with it.
	e.seedRefresh(r1).wantError(t, 400, "invalid_grant")
	for _, a := range []string{a1, r2.str("access_token"), r3.str("access_token"), r4.str("access_token")} {
		if c := e.scim(a, "GET", "/Users", nil); c.status != 401 {
			t.Fatalf("an access token of a reused chain still works: %d", c.status)
		}
	}
	e.seedRefresh(r4.str("refresh_token")).wantError(t, 400, "invalid_grant")
	reused := e.auditEvents(store.AuditQuery{Event: "token.reused"})
	if len(reused) != 1 || reused[0].Actor != "client:"+id || !strings.Contains(reused[0].Detail, "without client authentication") || !strings.Contains(reused[0].Detail, "revoked") {
		t.Fatalf("reuse audit: %+v", reused)
	}

	// Dead tokens of the client: invalid_grant, as with authentication.
	expiring, _, _ := e.svc.IssueRefreshToken(ctx, id, "admin:alice")
	revoked, _, _ := e.svc.IssueRefreshToken(ctx, id, "admin:alice")
	if x := e.post("/oauth2/revoke", form("token", revoked), id, secret); x.status != 200 {
		t.Fatal(x.raw)
	}
	e.seedRefresh(revoked).wantError(t, 400, "invalid_grant")
	e.clock.Add(oauth.DefaultRefreshTTL)
	e.seedRefresh(expiring).wantError(t, 400, "invalid_grant")
}

// TestRefreshTokenAloneOff: without the setting, seed 000's request is
// refused with invalid_client, and says why; the token is not spent.
func TestRefreshTokenAloneOff(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, secret := e.client(oauth.ClientSpec{Name: "beyondinsight"})
	rt, _, err := e.svc.IssueRefreshToken(ctx, id, "admin:alice")
	if err != nil {
		t.Fatal(err)
	}
	r := e.seedRefresh(rt).wantError(t, 401, "invalid_client")
	if d := r.str("error_description"); !strings.Contains(d, "client authentication is required") || !strings.Contains(d, "refresh tokens alone") {
		t.Fatalf("description: %q", d)
	}
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
		t.Fatalf("WWW-Authenticate: %v", r.header)
	}
	// The administrator reads the reason in the trail, under the client.
	evs := e.auditEvents(store.AuditQuery{Event: "token.refused", Actor: "client:" + id})
	if len(evs) != 1 || !strings.Contains(evs[0].Detail, "does not allow refresh tokens alone") || strings.Contains(evs[0].Detail, "pamscim_rt_") {
		t.Fatalf("refusal audit: %+v", evs)
	}
	// Not spent, not revoked: the client can still exchange it.
	e.token(form("grant_type", "refresh_token", "refresh_token", rt), id, secret)
}

// TestRefreshTokenAloneNoOracle: without client authentication, a refresh
// token that may not be used alone gets one answer, byte for byte, whether
// it is unknown, malformed, or a real token (live, used or expired) of a
// client that requires authentication: the endpoint does not confirm that
// a string is a refresh token to someone who cannot use it.
func TestRefreshTokenAloneNoOracle(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, secret := e.client(oauth.ClientSpec{})
	live, _, _ := e.svc.IssueRefreshToken(ctx, id, "admin:alice")
	used, _, _ := e.svc.IssueRefreshToken(ctx, id, "admin:alice")
	e.token(form("grant_type", "refresh_token", "refresh_token", used), id, secret)
	access := e.token(form("grant_type", "client_credentials"), id, secret).str("access_token")
	short, shortSecret := e.client(oauth.ClientSpec{RefreshTTL: time.Minute})
	expired := e.token(form("grant_type", "client_credentials"), short, shortSecret).str("refresh_token")
	e.clock.Add(2 * time.Minute)

	var first *tokResp
	for _, tc := range []struct{ name, token string }{
		{"unknown", auth.NewSecret(auth.RefreshPrefix)},
		{"malformed", "not-a-token"},
		{"an access token", access},
		{"live, client requires authentication", live},
		{"used, client requires authentication", used},
		{"expired, client requires authentication", expired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.seedRefresh(tc.token).wantError(t, 401, "invalid_client")
			if first == nil {
				first = r
				return
			}
			if r.raw != first.raw || r.header.Get("WWW-Authenticate") != first.header.Get("WWW-Authenticate") {
				t.Fatalf("answer %s differs from an unknown token's %s", r.raw, first.raw)
			}
		})
	}
	// None of it touched the real tokens: the used one was not taken for a
	// reuse (no chain revoked), the live one still works.
	if evs := e.auditEvents(store.AuditQuery{Event: "token.reused"}); len(evs) != 0 {
		t.Fatalf("a refused presentation counted as reuse: %+v", evs)
	}
	e.token(form("grant_type", "refresh_token", "refresh_token", live), id, secret)
}

// TestRefreshTokenAloneSetting: the setting is turned on and off on a
// running server, audited, and needs the refresh_token grant.
func TestRefreshTokenAloneSetting(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, _ := e.client(oauth.ClientSpec{})
	steps := []struct {
		name    string
		on      bool
		changed bool
		status  int
	}{
		{"default off", false, false, 401},
		{"turned on", true, true, 200},
		{"on again changes nothing", true, false, 200},
		{"turned off", false, true, 401},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			changed, err := e.svc.SetRefreshTokenAlone(ctx, id, st.on, "admin:alice")
			if err != nil || changed != st.changed {
				t.Fatalf("changed %t, %v", changed, err)
			}
			rt, _, _ := e.svc.IssueRefreshToken(ctx, id, "admin:alice")
			if r := e.seedRefresh(rt); r.status != st.status {
				t.Fatalf("exchange: %d %s", r.status, r.raw)
			}
		})
	}
	evs := e.auditEvents(store.AuditQuery{Event: "client.changed"})
	if len(evs) != 2 || evs[0].Object != "client:"+id || evs[0].Actor != "admin:alice" ||
		!strings.Contains(evs[0].Detail, "refresh_token_alone=true") || !strings.Contains(evs[1].Detail, "refresh_token_alone=false") {
		t.Fatalf("audit: %+v", evs)
	}
	ccOnly, _ := e.client(oauth.ClientSpec{Grants: []string{oauth.GrantClientCredentials}})
	if _, err := e.svc.SetRefreshTokenAlone(ctx, ccOnly, true, "admin:alice"); scimerr.KindOf(err) != scimerr.InvalidValue {
		t.Fatalf("without the refresh grant: %v", err)
	}
	if _, _, err := e.svc.CreateClient(ctx, oauth.ClientSpec{Tenant: store.DefaultTenant, Name: "x", Grants: []string{oauth.GrantClientCredentials}, RefreshTokenAlone: true}, "test"); err == nil {
		t.Fatal("created a client with refresh tokens alone and no refresh grant")
	}
	if _, err := e.svc.SetRefreshTokenAlone(ctx, "nope", true, "admin:alice"); scimerr.KindOf(err) != scimerr.NotFound {
		t.Fatalf("unknown client: %v", err)
	}
}

// TestRefreshTokenAloneThrottled: presenting refresh tokens without client
// authentication counts against the source's bucket of failures, shared
// with wrong secrets and unknown bearer tokens; an empty bucket refuses
// even a good token until it refills.
func TestRefreshTokenAloneThrottled(t *testing.T) {
	e := newEnv(t, envOpt{failures: throttle.FailurePolicy{PerSourceBurst: 3, PerSourceEvery: time.Minute}})
	ctx := context.Background()
	id, _ := e.client(oauth.ClientSpec{RefreshTokenAlone: true})
	good, _, _ := e.svc.IssueRefreshToken(ctx, id, "admin:alice")
	for range 3 {
		e.seedRefresh(auth.NewSecret(auth.RefreshPrefix)).wantError(t, 401, "invalid_client")
	}
	r := e.seedRefresh(good).wantError(t, 429, "slow_down")
	if r.header.Get("Retry-After") == "" {
		t.Fatalf("429 without Retry-After: %v", r.header)
	}
	if c := e.scim("pamscim_pat_guess", "GET", "/Users", nil); c.status != 429 {
		t.Fatalf("the SCIM API does not share the bucket: %d", c.status)
	}
	e.clock.Add(time.Minute)
	if r := e.seedRefresh(good); r.status != 200 {
		t.Fatalf("after a refill: %d %s", r.status, r.raw)
	}
}

// TestRevokeAlone: seed 000's connector holds a refresh token and no
// secret, so it ends its grant by presenting that token alone at the
// revocation endpoint (RFC 7009). It works only for a client that allows
// refresh tokens alone, and revokes the whole chain; every other token
// presented alone — unknown, malformed, an access token, another client's —
// gets the same 401 as a request without authentication, and is left alone.
func TestRevokeAlone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	revoke := func(tok string) *tokResp {
		t.Helper()
		return e.post("/scim/oauth/revoke", form("token", tok, "token_type_hint", "refresh_token"))
	}
	id, _ := e.client(oauth.ClientSpec{Name: "beyondinsight", Scopes: []string{auth.ScopeRead, auth.ScopeWrite}, RefreshTokenAlone: true})
	r0, _, err := e.svc.IssueRefreshToken(ctx, id, "admin:alice")
	if err != nil {
		t.Fatal(err)
	}
	r := e.seedRefresh(r0)
	a1, r1 := r.str("access_token"), r.str("refresh_token")
	if c := e.scim(a1, "GET", "/Users", nil); c.status != 200 {
		t.Fatalf("the access token: %d", c.status)
	}

	// The tokens of a client that must authenticate, and tokens that are no
	// refresh token of anyone, get one answer.
	strict, strictSecret := e.client(oauth.ClientSpec{})
	theirs, _, _ := e.svc.IssueRefreshToken(ctx, strict, "admin:alice")
	var first *tokResp
	for _, tc := range []struct{ name, token string }{
		{"unknown", auth.NewSecret(auth.RefreshPrefix)},
		{"malformed", "not-a-token"},
		{"an access token of the client", a1},
		{"a refresh token of a client that must authenticate", theirs},
	} {
		x := revoke(tc.token).wantError(t, 401, "invalid_client")
		if first == nil {
			first = x
		} else if x.raw != first.raw {
			t.Fatalf("%s: answer %s differs from an unknown token's %s", tc.name, x.raw, first.raw)
		}
	}
	if c := e.scim(a1, "GET", "/Users", nil); c.status != 200 {
		t.Fatal("an access token presented alone was revoked")
	}
	e.token(form("grant_type", "refresh_token", "refresh_token", theirs), strict, strictSecret)

	// The client's own refresh token, alone: the chain ends.
	if x := revoke(r1); x.status != 200 || x.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("revoke alone: %d %s", x.status, x.raw)
	}
	if c := e.scim(a1, "GET", "/Users", nil); c.status != 401 {
		t.Fatalf("the chain's access token still works: %d", c.status)
	}
	e.seedRefresh(r1).wantError(t, 400, "invalid_grant")
	// Again: nothing left to revoke, still 200 (RFC 7009 §2.2).
	if x := revoke(r1); x.status != 200 {
		t.Fatalf("revoking twice: %d %s", x.status, x.raw)
	}
	evs := e.auditEvents(store.AuditQuery{Event: "token.revoked", Actor: "client:" + id})
	if len(evs) != 1 || !strings.Contains(evs[0].Detail, "without client authentication") {
		t.Fatalf("audit: %+v", evs)
	}
	// Turned off, the client's tokens are refused alone like any other.
	r2, _, _ := e.svc.IssueRefreshToken(ctx, id, "admin:alice")
	if _, err := e.svc.SetRefreshTokenAlone(ctx, id, false, "admin:alice"); err != nil {
		t.Fatal(err)
	}
	if x := revoke(r2).wantError(t, 401, "invalid_client"); x.raw != first.raw {
		t.Fatalf("after the setting was turned off: %s", x.raw)
	}
}
