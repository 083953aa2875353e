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
)

func TestClientCredentials(t *testing.T) {
	e := newEnv(t)
	id, secret := e.client(oauth.ClientSpec{})
	for _, tc := range []struct {
		name  string
		path  string
		form  []string
		basic bool
	}{
		{"basic on /scim/oauth/token", "/scim/oauth/token", nil, true},
		{"form fields on /oauth2/token", "/oauth2/token", []string{"client_id", id, "client_secret", secret}, false},
		{"basic with a matching client_id field", "/scim/oauth/token", []string{"client_id", id}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := form(append([]string{"grant_type", "client_credentials"}, tc.form...)...)
			var r *tokResp
			if tc.basic {
				r = e.post(tc.path, f, id, secret)
			} else {
				r = e.post(tc.path, f)
			}
			if r.status != 200 || r.header.Get("Cache-Control") != "no-store" || r.header.Get("Pragma") != "no-cache" {
				t.Fatalf("%d %v %s", r.status, r.header, r.raw)
			}
			at, rt := r.str("access_token"), r.str("refresh_token")
			if !strings.HasPrefix(at, auth.AccessPrefix) || !strings.HasPrefix(rt, auth.RefreshPrefix) || r.str("token_type") != "Bearer" ||
				r.body["expires_in"] != float64(oauth.DefaultAccessTTL/time.Second) || r.str("scope") != "scim:read scim:write" {
				t.Fatalf("response: %s", r.raw)
			}
			if c := e.scim(at, "POST", "/Users", newUser("u-"+strings.ReplaceAll(tc.name, " ", "-"))); c.status != 201 {
				t.Fatalf("create with the access token: %d %s", c.status, c.raw)
			}
			if c := e.scim(rt, "GET", "/Users", nil); c.status != 401 {
				t.Fatalf("a refresh token is not a bearer token: %d", c.status)
			}
		})
	}
	t.Run("no refresh token when the client may not refresh", func(t *testing.T) {
		id, secret := e.client(oauth.ClientSpec{Grants: []string{oauth.GrantClientCredentials}})
		r := e.token(form("grant_type", "client_credentials"), id, secret)
		if r.str("refresh_token") != "" || r.str("access_token") == "" {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("scope narrowing and the scim alias", func(t *testing.T) {
		r := e.token(form("grant_type", "client_credentials", "scope", "scim:read"), id, secret)
		if r.str("scope") != "scim:read" {
			t.Fatalf("%s", r.raw)
		}
		if c := e.scim(r.str("access_token"), "POST", "/Users", newUser("narrowed")); c.status != 403 {
			t.Fatalf("read-only token wrote: %d", c.status)
		}
		r = e.token(form("grant_type", "client_credentials", "scope", "scim"), id, secret)
		if r.str("scope") != "scim:read scim:write" {
			t.Fatalf("%s", r.raw)
		}
	})
	t.Run("lifetimes per client", func(t *testing.T) {
		id, secret := e.client(oauth.ClientSpec{AccessTTL: 90 * time.Second, RefreshTTL: time.Hour})
		r := e.token(form("grant_type", "client_credentials"), id, secret)
		if r.body["expires_in"] != float64(90) {
			t.Fatalf("%s", r.raw)
		}
	})
}

func TestTokenEndpointErrors(t *testing.T) {
	e := newEnv(t)
	id, secret := e.client(oauth.ClientSpec{})
	ro, roSecret := e.client(oauth.ClientSpec{Scopes: []string{auth.ScopeRead}})
	other, otherSecret := e.client(oauth.ClientSpec{})
	refreshOfOther := e.token(form("grant_type", "client_credentials"), other, otherSecret).str("refresh_token")
	accessOfMine := e.token(form("grant_type", "client_credentials"), id, secret).str("access_token")
	raw := func(method, ctype, path, body string, basic ...string) *tokResp {
		req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if len(basic) == 2 {
			req.SetBasicAuth(basic[0], basic[1])
		}
		return e.send(req)
	}
	cc := "grant_type=client_credentials"
	tests := []struct {
		name   string
		do     func() *tokResp
		status int
		code   string
	}{
		{"missing grant_type", func() *tokResp { return e.post("/scim/oauth/token", form(), id, secret) }, 400, "invalid_request"},
		{"repeated parameter", func() *tokResp {
			return raw("POST", "application/x-www-form-urlencoded", "/scim/oauth/token", cc+"&scope=scim:read&scope=scim:write", id, secret)
		}, 400, "invalid_request"},
		{"JSON body", func() *tokResp {
			return raw("POST", "application/json", "/scim/oauth/token", `{"grant_type":"client_credentials"}`, id, secret)
		}, 400, "invalid_request"},
		{"secret in the URL", func() *tokResp {
			return raw("POST", "application/x-www-form-urlencoded", "/scim/oauth/token?client_secret="+secret, cc+"&client_id="+id)
		}, 400, "invalid_request"},
		{"two authentication methods", func() *tokResp {
			return e.post("/scim/oauth/token", form("grant_type", "client_credentials", "client_secret", secret), id, secret)
		}, 400, "invalid_request"},
		{"password grant without a password", func() *tokResp {
			pw, pwSecret := e.client(oauth.ClientSpec{Grants: []string{oauth.GrantPassword}})
			return e.post("/scim/oauth/token", form("grant_type", "password", "username", "svc"), pw, pwSecret)
		}, 400, "invalid_request"},
		{"refresh grant without a token", func() *tokResp {
			return e.post("/scim/oauth/token", form("grant_type", "refresh_token"), id, secret)
		}, 400, "invalid_request"},
		{"unknown client", func() *tokResp {
			return e.post("/scim/oauth/token", form("grant_type", "client_credentials"), "no-such-client", secret)
		}, 401, "invalid_client"},
		{"wrong secret (Basic)", func() *tokResp {
			return e.post("/scim/oauth/token", form("grant_type", "client_credentials"), id, roSecret)
		}, 401, "invalid_client"},
		{"wrong secret (form)", func() *tokResp {
			return e.post("/scim/oauth/token", form("grant_type", "client_credentials", "client_id", id, "client_secret", "pamscim_cs_x"))
		}, 401, "invalid_client"},
		{"no client authentication", func() *tokResp {
			return e.post("/scim/oauth/token", form("grant_type", "client_credentials", "client_id", id))
		}, 401, "invalid_client"},
		{"unknown refresh token", func() *tokResp {
			return e.post("/scim/oauth/token", form("grant_type", "refresh_token", "refresh_token", auth.NewSecret(auth.RefreshPrefix)), id, secret)
		}, 400, "invalid_grant"},
		{"another client's refresh token", func() *tokResp {
			return e.post("/scim/oauth/token", form("grant_type", "refresh_token", "refresh_token", refreshOfOther), id, secret)
		}, 400, "invalid_grant"},
		{"an access token as refresh token", func() *tokResp {
			return e.post("/scim/oauth/token", form("grant_type", "refresh_token", "refresh_token", accessOfMine), id, secret)
		}, 400, "invalid_grant"},
		{"password grant not allowed", func() *tokResp {
			return e.post("/scim/oauth/token", form("grant_type", "password", "username", "a", "password", "b"), id, secret)
		}, 400, "unauthorized_client"},
		{"unsupported grant", func() *tokResp {
			return e.post("/scim/oauth/token", form("grant_type", "authorization_code", "code", "x"), id, secret)
		}, 400, "unsupported_grant_type"},
		{"unknown scope", func() *tokResp {
			return e.post("/scim/oauth/token", form("grant_type", "client_credentials", "scope", "admin"), id, secret)
		}, 400, "invalid_scope"},
		{"scope beyond the client's", func() *tokResp {
			return e.post("/scim/oauth/token", form("grant_type", "client_credentials", "scope", "scim:write"), ro, roSecret)
		}, 400, "invalid_scope"},
		{"GET", func() *tokResp { return raw("GET", "", "/oauth2/token?grant_type=client_credentials", "") }, 405, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.do().wantError(t, tc.status, tc.code)
			if tc.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
				t.Fatalf("401 without WWW-Authenticate: %v", r.header)
			}
			if tc.status == 405 && r.header.Get("Allow") != "POST" {
				t.Fatalf("405 without Allow: %v", r.header)
			}
		})
	}
	// The refused attempts did not hurt the other client's refresh token.
	if r := e.post("/scim/oauth/token", form("grant_type", "refresh_token", "refresh_token", refreshOfOther), other, otherSecret); r.status != 200 {
		t.Fatalf("the other client's refresh after a foreign attempt: %d %s", r.status, r.raw)
	}
}

func TestPasswordGrant(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, secret := e.client(oauth.ClientSpec{Grants: []string{oauth.GrantPassword, oauth.GrantRefresh}})
	const pw = "correct horse battery staple"
	if err := e.svc.CreateAccount(ctx, store.DefaultTenant, "connector", pw, nil, "test"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.CreateAccount(ctx, store.DefaultTenant, "auditor", pw, []string{auth.ScopeRead}, "test"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.CreateAccount(ctx, store.DefaultTenant, "short", "short", nil, "test"); err == nil {
		t.Fatal("a short password was accepted")
	}
	r := e.token(form("grant_type", "password", "username", "connector", "password", pw), id, secret)
	at := r.str("access_token")
	if r.str("refresh_token") == "" || e.scim(at, "POST", "/Users", newUser("by-password")).status != 201 {
		t.Fatalf("%s", r.raw)
	}
	// The account's scopes cap the token's.
	r = e.token(form("grant_type", "password", "username", "auditor", "password", pw), id, secret)
	if r.str("scope") != "scim:read" || e.scim(r.str("access_token"), "POST", "/Users", newUser("x")).status != 403 {
		t.Fatalf("auditor: %s", r.raw)
	}
	e.post("/scim/oauth/token", form("grant_type", "password", "username", "auditor", "password", pw, "scope", "scim:write"), id, secret).
		wantError(t, 400, "invalid_scope")
	e.post("/scim/oauth/token", form("grant_type", "password", "username", "connector", "password", pw+"x"), id, secret).wantError(t, 400, "invalid_grant")
	e.post("/scim/oauth/token", form("grant_type", "password", "username", "nobody", "password", pw), id, secret).wantError(t, 400, "invalid_grant")
	// The client's own credentials are needed too.
	e.post("/scim/oauth/token", form("grant_type", "password", "username", "connector", "password", pw), id, "wrong").wantError(t, 401, "invalid_client")
	// A new password revokes what the old one got.
	if err := e.svc.SetPassword(ctx, store.DefaultTenant, "connector", pw+" 2", "test"); err != nil {
		t.Fatal(err)
	}
	if c := e.scim(at, "GET", "/Users", nil); c.status != 401 {
		t.Fatalf("token of a changed password still works: %d", c.status)
	}
	e.post("/scim/oauth/token", form("grant_type", "password", "username", "connector", "password", pw), id, secret).wantError(t, 400, "invalid_grant")
	r = e.token(form("grant_type", "password", "username", "connector", "password", pw+" 2"), id, secret)
	// Deleting the account revokes its tokens and its refresh chain.
	if err := e.svc.DeleteAccount(ctx, store.DefaultTenant, "connector", "test"); err != nil {
		t.Fatal(err)
	}
	if c := e.scim(r.str("access_token"), "GET", "/Users", nil); c.status != 401 {
		t.Fatalf("token of a deleted account: %d", c.status)
	}
	e.post("/scim/oauth/token", form("grant_type", "refresh_token", "refresh_token", r.str("refresh_token")), id, secret).wantError(t, 400, "invalid_grant")
}

func TestRefreshRotationAndReuse(t *testing.T) {
	e := newEnv(t)
	id, secret := e.client(oauth.ClientSpec{})
	first := e.token(form("grant_type", "client_credentials"), id, secret)
	a1, r1 := first.str("access_token"), first.str("refresh_token")

	second := e.token(form("grant_type", "refresh_token", "refresh_token", r1), id, secret)
	a2, r2 := second.str("access_token"), second.str("refresh_token")
	if r2 == r1 || a2 == a1 || r2 == "" {
		t.Fatal("refresh did not rotate")
	}
	// Narrowing the access token keeps the refresh token's scope.
	third := e.token(form("grant_type", "refresh_token", "refresh_token", r2, "scope", "scim:read"), id, secret)
	a3, r3 := third.str("access_token"), third.str("refresh_token")
	if third.str("scope") != "scim:read" || e.scim(a3, "POST", "/Users", newUser("n")).status != 403 {
		t.Fatalf("narrowed: %s", third.raw)
	}
	for _, a := range []string{a1, a2, a3} {
		if c := e.scim(a, "GET", "/Users", nil); c.status != 200 {
			t.Fatalf("live access token refused: %d", c.status)
		}
	}
	// r1 again: someone replays a rotated token. The whole chain dies.
	e.post("/scim/oauth/token", form("grant_type", "refresh_token", "refresh_token", r1), id, secret).wantError(t, 400, "invalid_grant")
	for _, a := range []string{a1, a2, a3} {
		if c := e.scim(a, "GET", "/Users", nil); c.status != 401 {
			t.Fatalf("access token of a reused chain still works: %d", c.status)
		}
	}
	e.post("/scim/oauth/token", form("grant_type", "refresh_token", "refresh_token", r3), id, secret).wantError(t, 400, "invalid_grant")
	if evs := e.auditEvents(store.AuditQuery{Event: "token.reused"}); len(evs) != 1 || evs[0].Actor != "client:"+id || !strings.Contains(evs[0].Detail, "revoked") {
		t.Fatalf("reuse audit: %+v", evs)
	}
	// Another chain of the same client is untouched.
	other := e.token(form("grant_type", "client_credentials"), id, secret)
	e.token(form("grant_type", "refresh_token", "refresh_token", other.str("refresh_token")), id, secret)
}

func TestConcurrentRefreshOneWins(t *testing.T) {
	e := newEnv(t)
	id, secret := e.client(oauth.ClientSpec{})
	rt := e.token(form("grant_type", "client_credentials"), id, secret).str("refresh_token")
	const n = 8
	res := make(chan int, n)
	for range n {
		go func() {
			res <- e.post("/scim/oauth/token", form("grant_type", "refresh_token", "refresh_token", rt), id, secret).status
		}()
	}
	ok := 0
	for range n {
		if <-res == 200 {
			ok++
		}
	}
	// Exactly one exchange can win; the losers are reuse, which revokes the
	// chain, so the winner's tokens die too.
	if ok != 1 {
		t.Fatalf("%d of %d concurrent exchanges succeeded", ok, n)
	}
}

func TestExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, secret := e.client(oauth.ClientSpec{AccessTTL: time.Minute, RefreshTTL: time.Hour})
	r := e.token(form("grant_type", "client_credentials"), id, secret)
	named, _, err := e.au.CreateToken(ctx, store.DefaultTenant, "short", []string{auth.ScopeRead}, 2*time.Minute, "test")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(59 * time.Second)
	if c := e.scim(r.str("access_token"), "GET", "/Users", nil); c.status != 200 {
		t.Fatalf("before expiry: %d", c.status)
	}
	e.clock.Add(time.Second)
	c := e.scim(r.str("access_token"), "GET", "/Users", nil)
	if c.status != 401 || !strings.Contains(c.header.Get("WWW-Authenticate"), `error="invalid_token"`) || !strings.Contains(c.str("detail"), "expired") {
		t.Fatalf("expired access token: %d %v %s", c.status, c.header, c.raw)
	}
	if c := e.scim(named, "GET", "/Users", nil); c.status != 200 {
		t.Fatalf("named token before expiry: %d", c.status)
	}
	e.clock.Add(time.Minute)
	if c := e.scim(named, "GET", "/Users", nil); c.status != 401 {
		t.Fatalf("expired named token: %d", c.status)
	}
	// The refresh token outlives the access token, then expires too.
	r2 := e.token(form("grant_type", "refresh_token", "refresh_token", r.str("refresh_token")), id, secret)
	e.clock.Add(time.Hour)
	e.post("/scim/oauth/token", form("grant_type", "refresh_token", "refresh_token", r2.str("refresh_token")), id, secret).wantError(t, 400, "invalid_grant")
}

func TestRotateSecret(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, old := e.client(oauth.ClientSpec{})
	at := e.token(form("grant_type", "client_credentials"), id, old).str("access_token")
	fresh, err := e.svc.RotateSecret(ctx, id, "", false, "test")
	if err != nil || fresh == old || !strings.HasPrefix(fresh, auth.ClientSecretPrefix) {
		t.Fatal(err)
	}
	e.post("/scim/oauth/token", form("grant_type", "client_credentials"), id, old).wantError(t, 401, "invalid_client")
	e.token(form("grant_type", "client_credentials"), id, fresh)
	if c := e.scim(at, "GET", "/Users", nil); c.status != 200 {
		t.Fatalf("rotation without --revoke-tokens keeps tokens: %d", c.status)
	}
	newer, err := e.svc.RotateSecret(ctx, id, "", true, "test")
	if err != nil {
		t.Fatal(err)
	}
	if c := e.scim(at, "GET", "/Users", nil); c.status != 401 {
		t.Fatalf("rotation with revoke: token still works: %d", c.status)
	}
	e.post("/scim/oauth/token", form("grant_type", "client_credentials"), id, fresh).wantError(t, 401, "invalid_client")
	e.token(form("grant_type", "client_credentials"), id, newer)
	// Deleting the client ends everything at once.
	at = e.token(form("grant_type", "client_credentials"), id, newer).str("access_token")
	if err := e.svc.DeleteClient(ctx, id, "test"); err != nil {
		t.Fatal(err)
	}
	if c := e.scim(at, "GET", "/Users", nil); c.status != 401 {
		t.Fatalf("token of a deleted client: %d", c.status)
	}
	e.post("/scim/oauth/token", form("grant_type", "client_credentials"), id, newer).wantError(t, 401, "invalid_client")
}

func TestRevocationEndpoint(t *testing.T) {
	e := newEnv(t)
	id, secret := e.client(oauth.ClientSpec{})
	other, otherSecret := e.client(oauth.ClientSpec{})
	r := e.token(form("grant_type", "client_credentials"), id, secret)
	theirs := e.token(form("grant_type", "client_credentials"), other, otherSecret).str("access_token")
	// Another client cannot revoke it (and learns nothing: 200).
	if x := e.post("/oauth2/revoke", form("token", r.str("access_token")), other, otherSecret); x.status != 200 {
		t.Fatalf("%d %s", x.status, x.raw)
	}
	if c := e.scim(r.str("access_token"), "GET", "/Users", nil); c.status != 200 {
		t.Fatal("a foreign client revoked a token")
	}
	if x := e.post("/scim/oauth/revoke", form("token", r.str("refresh_token"), "token_type_hint", "refresh_token"), id, secret); x.status != 200 {
		t.Fatalf("%d %s", x.status, x.raw)
	}
	if c := e.scim(r.str("access_token"), "GET", "/Users", nil); c.status != 401 {
		t.Fatal("revoking the refresh token left its access token alive")
	}
	if x := e.post("/scim/oauth/revoke", form("token", "pamscim_at_unknown"), id, secret); x.status != 200 {
		t.Fatalf("unknown token: %d", x.status)
	}
	e.post("/scim/oauth/revoke", form("token", theirs), id, "wrong").wantError(t, 401, "invalid_client")
	e.post("/scim/oauth/revoke", form(), id, secret).wantError(t, 400, "invalid_request")
}

// TestRevocationAcrossInstances: two servers on one database; revoking on
// one is refused by that one on the next request, and by the other once its
// cache of verified tokens (auth.CacheTTL) has lapsed.
func TestRevocationAcrossInstances(t *testing.T) {
	a := newEnv(t, envOpt{realClock: true})
	b := newEnv(t, envOpt{dir: a.dir, realClock: true})
	id, secret := a.client(oauth.ClientSpec{})
	r := a.token(form("grant_type", "client_credentials"), id, secret)
	named, _, err := a.au.CreateToken(context.Background(), store.DefaultTenant, "shared", []string{auth.ScopeRead}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{r.str("access_token"), named} {
		if c := b.scim(tok, "GET", "/Users", nil); c.status != 200 {
			t.Fatalf("instance b: %d", c.status)
		}
	}
	if x := a.post("/oauth2/revoke", form("token", r.str("access_token")), id, secret); x.status != 200 {
		t.Fatal(x.raw)
	}
	if err := a.au.RevokeToken(context.Background(), store.DefaultTenant, "shared", "test"); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{r.str("access_token"), named} {
		if c := a.scim(tok, "GET", "/Users", nil); c.status != 401 {
			t.Fatalf("instance a still accepts the token it revoked: %d", c.status)
		}
	}
	time.Sleep(auth.CacheTTL)
	for _, tok := range []string{r.str("access_token"), named} {
		if c := b.scim(tok, "GET", "/Users", nil); c.status != 401 {
			t.Fatalf("instance b still accepts a revoked token: %d", c.status)
		}
	}
	// A secret rotated through one instance is refused by the other.
	fresh, err := a.svc.RotateSecret(context.Background(), id, "", false, "test")
	if err != nil {
		t.Fatal(err)
	}
	b.post("/scim/oauth/token", form("grant_type", "client_credentials"), id, secret).wantError(t, 401, "invalid_client")
	b.token(form("grant_type", "client_credentials"), id, fresh)
}

func TestMetadata(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest("GET", e.srv.URL+oauth.MetadataPath, nil)
	r := e.send(req)
	if r.status != 200 || r.str("issuer") != e.srv.URL || r.str("token_endpoint") != e.srv.URL+"/scim/oauth/token" ||
		r.str("revocation_endpoint") != e.srv.URL+"/scim/oauth/revoke" {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	methods, _ := r.body["token_endpoint_auth_methods_supported"].([]any)
	grants, _ := r.body["grant_types_supported"].([]any)
	if len(methods) != 3 || methods[2] != "private_key_jwt" || len(grants) != 3 {
		t.Fatalf("%s", r.raw)
	}
}

// TestAdministratorRefreshToken covers seed 000's "Generate Refresh Token":
// a refresh token minted for a client outside the token endpoint.
func TestAdministratorRefreshToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id, secret := e.client(oauth.ClientSpec{Scopes: []string{auth.ScopeRead}, AccessTTL: 5 * time.Minute, RefreshTTL: 48 * time.Hour})
	rt, row, err := e.svc.IssueRefreshToken(ctx, id, "admin:alice")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(rt, auth.RefreshPrefix) || string(row.Hash) != string(auth.Hash(rt)) {
		t.Fatalf("token %q, row %+v", rt, row)
	}
	got, err := e.st.OAuthToken(ctx, auth.Hash(rt))
	if err != nil || got.Kind != store.KindRefresh || got.ClientID != id || got.Subject != "" || strings.Join(got.Scopes, " ") != auth.ScopeRead ||
		got.Expires.Sub(got.Created) != 48*time.Hour || got.Used != nil || got.Revoked != nil {
		t.Fatalf("stored: %+v %v", got, err)
	}
	if c, _ := e.st.Client(ctx, id); c.LastUsed != nil {
		t.Fatal("minting a refresh token counted as a use of the client")
	}
	evs := e.auditEvents(store.AuditQuery{Actor: "admin:alice", Event: "token.issued"})
	if len(evs) != 1 || evs[0].Object != "family:"+got.Family || !strings.Contains(evs[0].Detail, "client:"+id) || strings.Contains(evs[0].Detail, "pamscim_rt_") {
		t.Fatalf("audit: %+v", evs)
	}

	// Another client cannot use it; the owner can, with its own credentials,
	// and gets a new pair with the client's lifetimes and scopes.
	otherID, otherSecret := e.client(oauth.ClientSpec{})
	e.post("/scim/oauth/token", form("grant_type", "refresh_token", "refresh_token", rt), otherID, otherSecret).wantError(t, 400, "invalid_grant")
	e.post("/scim/oauth/token", form("grant_type", "refresh_token", "refresh_token", rt)).wantError(t, 401, "invalid_client")
	r := e.token(form("grant_type", "refresh_token", "refresh_token", rt), id, secret)
	next := r.str("refresh_token")
	if next == "" || next == rt || r.str("scope") != auth.ScopeRead || r.body["expires_in"] != float64(300) {
		t.Fatalf("exchange: %s", r.raw)
	}
	if c := e.scim(r.str("access_token"), "GET", "/Users", nil); c.status != 200 {
		t.Fatalf("access token from the minted refresh token: %d", c.status)
	}
	// It rotated: presenting it again is reuse, which ends the chain.
	e.post("/scim/oauth/token", form("grant_type", "refresh_token", "refresh_token", rt), id, secret).wantError(t, 400, "invalid_grant")
	e.post("/scim/oauth/token", form("grant_type", "refresh_token", "refresh_token", next), id, secret).wantError(t, 400, "invalid_grant")

	// Recycling the secret with revocation, or deleting the client, ends a
	// minted token like any other.
	for _, end := range []struct {
		name string
		do   func() error
	}{
		{"rotate with revoke", func() error { _, err := e.svc.RotateSecret(ctx, id, "", true, "test"); return err }},
		{"delete", func() error { return e.svc.DeleteClient(ctx, id, "test") }},
	} {
		rt, _, err := e.svc.IssueRefreshToken(ctx, id, "admin:alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := end.do(); err != nil {
			t.Fatal(err)
		}
		got, err := e.st.OAuthToken(ctx, auth.Hash(rt))
		if err == nil && got.Revoked == nil {
			t.Fatalf("%s: the minted refresh token is still live", end.name)
		}
	}

	// A client without the refresh_token grant cannot have one; nor can a
	// client that does not exist.
	ccOnly, _ := e.client(oauth.ClientSpec{Grants: []string{oauth.GrantClientCredentials}})
	if _, _, err := e.svc.IssueRefreshToken(ctx, ccOnly, "admin:alice"); scimerr.KindOf(err) != scimerr.InvalidValue {
		t.Fatalf("client without the refresh grant: %v", err)
	}
	if _, _, err := e.svc.IssueRefreshToken(ctx, "nope", "admin:alice"); scimerr.KindOf(err) != scimerr.NotFound {
		t.Fatalf("unknown client: %v", err)
	}
}
