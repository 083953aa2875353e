package console_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/oauth"
	"github.com/pamscim/pamscim/internal/store"
)

// tokenEndpoint serves the OAuth token endpoint over the console's store,
// as pamscim serve does beside the console.
func (e *env) tokenEndpoint() string {
	e.t.Helper()
	mux := http.NewServeMux()
	oauth.New(e.st, oauth.Config{}, nil, nil).Register(mux.Handle)
	srv := httptest.NewServer(mux)
	e.t.Cleanup(srv.Close)
	return srv.URL + oauth.TokenPaths[0]
}

// exchange presents a refresh token at the token endpoint with the client's
// credentials and returns the status and the JSON answer.
func exchange(t *testing.T, endpoint, clientID, secret, refresh string) (int, map[string]any) {
	t.Helper()
	return postToken(t, endpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {clientID}, "client_secret": {secret}})
}

// postToken posts form to the token endpoint and returns the status and
// the JSON answer.
func postToken(t *testing.T, endpoint string, form url.Values) (int, map[string]any) {
	t.Helper()
	res, err := http.PostForm(endpoint, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("token endpoint: %d %s", res.StatusCode, raw)
	}
	return res.StatusCode, body
}

// TestGenerateRefreshToken is seed 000's "Generate Refresh Token" in the
// console: the token is shown once, has the client's lifetime and scopes,
// works at the token endpoint and rotates there, is audited, and dies with
// its client.
func TestGenerateRefreshToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	endpoint := e.tokenEndpoint()
	b := e.browser()
	b.signIn("root")
	clients := "/admin/t/default/clients"
	secret := secretOf(t, b.follow(b.post(clients, url.Values{"name": {"beyondinsight"}, "scope_read": {"1"}, "grant_client_credentials": {"1"},
		"grant_refresh_token": {"1"}, "access_ttl": {"10m"}, "refresh_ttl": {"45d"}})))
	b.follow(b.post(clients, url.Values{"name": {"no-refresh"}, "scope_read": {"1"}, "scope_write": {"1"}, "grant_client_credentials": {"1"},
		"access_ttl": {"10m"}, "refresh_ttl": {"45d"}}))
	cs, _ := e.st.ListClients(ctx, "default")
	ids := map[string]string{}
	for _, c := range cs {
		ids[c.Name] = c.ID
	}
	id := ids["beyondinsight"]

	// The page offers the button for the client that may use refresh
	// tokens only.
	page := b.get(clients).body
	if !strings.Contains(page, `action="/admin/t/default/clients/`+id+`/refresh-token"`) || strings.Contains(page, ids["no-refresh"]+`/refresh-token"`) {
		t.Fatal("the Generate refresh token button is not where it belongs")
	}

	r := b.post(clients+"/"+id+"/refresh-token", nil)
	if strings.Contains(r.body, auth.RefreshPrefix) {
		t.Fatal("the POST answer carries the token (a reload would repeat the POST)")
	}
	r = b.follow(r)
	rt := secretOf(t, r)
	if !strings.HasPrefix(rt, auth.RefreshPrefix) {
		t.Fatalf("refresh token %q", rt)
	}
	for _, want := range []string{"Refresh token for beyondinsight", id, "scim:read", "45d", oauth.TokenPaths[0]} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the page showing the token lacks %q", want)
		}
	}
	row, err := e.st.OAuthToken(ctx, auth.Hash(rt))
	if err != nil || row.Kind != store.KindRefresh || row.ClientID != id || row.Expires.Sub(row.Created) != 45*24*time.Hour || strings.Join(row.Scopes, " ") != auth.ScopeRead {
		t.Fatalf("stored token: %+v %v", row, err)
	}
	// Shown once: not on a reload, not in another session, nowhere else.
	other := e.browser()
	other.signIn("root")
	for _, p := range []string{clients, "/admin/t/default/", "/admin/t/default/audit", "/admin/t/default/log"} {
		for _, br := range []*browser{b, other} {
			if r := br.get(p); strings.Contains(r.body, rt) || strings.Contains(r.body, `id="secret"`) {
				t.Fatalf("%s shows the refresh token again", p)
			}
		}
	}
	if c, _ := e.st.Client(ctx, id); c.LastUsed != nil {
		t.Fatal("generating a refresh token counted as the client's use")
	}

	// It works at the token endpoint, with the client's credentials, and
	// rotates: the answer has a new refresh token and the old one is spent.
	status, body := exchange(t, endpoint, id, secret, rt)
	next, _ := body["refresh_token"].(string)
	if status != http.StatusOK || next == "" || next == rt || body["scope"] != auth.ScopeRead || body["expires_in"] != float64(600) {
		t.Fatalf("exchange: %d %v", status, body)
	}
	if status, body := exchange(t, endpoint, id, secret, rt); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("a spent refresh token: %d %v", status, body)
	}

	// Audited as the administrator's, without the token.
	evs, _ := e.st.ListAudit(ctx, store.AuditQuery{Actor: "admin:root", Event: "token.issued", Limit: 10})
	if len(evs) != 1 || evs[0].Object != "family:"+row.Family || evs[0].Source != "127.0.0.1" || !strings.Contains(evs[0].Detail, "client:"+id) ||
		strings.Contains(evs[0].Detail, auth.RefreshPrefix) {
		t.Fatalf("audit: %+v", evs)
	}

	// A client without the refresh_token grant gets none.
	wantStatus(t, "client without refresh grant", b.post(clients+"/"+ids["no-refresh"]+"/refresh-token", nil), http.StatusBadRequest)

	// Recycling the secret with "revoke tokens" ends generated tokens; so
	// does deleting the client.
	rt2 := secretOf(t, b.follow(b.post(clients+"/"+id+"/refresh-token", nil)))
	secret = secretOf(t, b.follow(b.post(clients+"/"+id+"/rotate", url.Values{"revoke_tokens": {"1"}})))
	if status, body := exchange(t, endpoint, id, secret, rt2); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("refresh token after rotation with revocation: %d %v", status, body)
	}
	rt3 := secretOf(t, b.follow(b.post(clients+"/"+id+"/refresh-token", nil)))
	b.follow(b.post(clients+"/"+id+"/delete", nil))
	if _, err := e.st.OAuthToken(ctx, auth.Hash(rt3)); err == nil {
		t.Fatal("the refresh token of a deleted client is still readable")
	}
	if status, _ := exchange(t, endpoint, id, secret, rt3); status != http.StatusUnauthorized {
		t.Fatalf("refresh token of a deleted client: %d", status)
	}
}

// TestTokenNamesRevocable: a token is revoked by a form field, so names a
// browser would rewrite in a path ("..", ".", "a/b") are revocable too.
func TestTokenNamesRevocable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	b := e.browser()
	b.signIn("root")
	for _, name := range []string{"..", ".", "a/b", "q?x#y", "%2F", "<b>bold</b>"} {
		t.Run(name, func(t *testing.T) {
			b.follow(b.post("/admin/t/default/tokens", url.Values{"name": {name}, "scope_read": {"1"}, "expires": {"30d"}}))
			page := b.get("/admin/t/default/tokens").body
			if strings.Contains(page, "<b>bold</b>") {
				t.Fatal("a token name is not escaped")
			}
			b.follow(b.post("/admin/t/default/tokens/revoke", url.Values{"name": {name}}))
			ts, _ := e.st.ListTokens(ctx, "default")
			for _, tk := range ts {
				if tk.Name == name && tk.Revoked == nil {
					t.Fatalf("token %q not revoked", name)
				}
			}
		})
	}
	// A refused form keeps what was typed.
	b.follow(b.post("/admin/t/default/tokens", url.Values{"name": {"keep-me"}, "scope_write": {"1"}, "expires": {"never"}}))
	r := b.post("/admin/t/default/tokens", url.Values{"name": {"keep-me"}, "scope_write": {"1"}, "expires": {"180d"}})
	wantStatus(t, "duplicate name", r, http.StatusConflict)
	for _, want := range []string{`value="keep-me"`, `value="180d" selected`, `name="scope_read" value="1">`, `name="scope_write" value="1" checked>`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the refused form lacks %s", want)
		}
	}
}

// TestErrorPages: a signed-in administrator's error page keeps the
// console's navigation; a visitor's leads to the sign-in page.
func TestErrorPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	anon := e.browser()
	ann := e.browser()
	ann.signIn("ann")
	for _, tc := range []struct {
		name   string
		b      *browser
		path   string
		status int
		want   []string
		not    []string
	}{
		{"visitor", anon, "/admin/nope", http.StatusNotFound, []string{"There is no such page.", `href="/admin/"`}, []string{`class="tabs"`}},
		{"another tenant", ann, "/admin/t/default/clients", http.StatusNotFound, []string{"There is no such tenant.", `class="tabs"`, `href="/admin/t/acme/"`}, []string{">default<"}},
		{"missing entry", ann, "/admin/t/acme/log/12345", http.StatusNotFound, []string{"There is no such log entry in this tenant.", `class="tabs"`}, nil},
		{"bad log filter", ann, "/admin/t/acme/log?before=x", http.StatusBadRequest, []string{"before must be a log entry id.", `class="tabs"`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.b.get(tc.path)
			wantStatus(t, tc.path, r, tc.status)
			for _, w := range tc.want {
				if !strings.Contains(r.body, w) {
					t.Errorf("lacks %q", w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(r.body, n) {
					t.Errorf("has %q", n)
				}
			}
		})
	}
	// The sign-in page shows a refusal inside its card.
	r := anon.do("POST", "/admin/login", url.Values{"name": {"root"}, "password": {"wrong password!!"}}, nil)
	if i, j := strings.Index(r.body, `class="login card"`), strings.Index(r.body, "Wrong name or password."); i < 0 || j < i {
		t.Fatal("the sign-in refusal is outside the sign-in card")
	}
}

// TestDashboardLabels: resource counts are labelled in words, which wrap
// in their boxes, with the endpoint's name in the title.
func TestDashboardLabels(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.signIn("root")
	r := b.get("/admin/t/default/")
	for _, want := range []string{`title="Users">Users<`, `title="ContainerPermissions">Container Permissions<`, `title="PrivilegedDataPermissions">Privileged Data Permissions<`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("dashboard lacks %s", want)
		}
	}
}
