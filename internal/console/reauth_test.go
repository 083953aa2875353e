package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/console"
	"github.com/pamscim/pamscim/internal/store"
)

// TestReauth: every action that makes a long-lived credential — a client
// (its secret), a recycled secret, a refresh token, a SCIM token — or lets
// a client's refresh tokens be used alone asks for the administrator's
// password again. Without it, or with a wrong one, nothing is made, the
// page says so and keeps what was typed (never the password), a wrong
// password is audited and counts against the sign-in throttle.
func TestReauth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	b := e.browser()
	b.signIn("root")
	base := "/admin/t/default/"
	b.follow(b.post(base+"clients", url.Values{"name": {"vault"}, "scope_read": {"1"}, "grant_client_credentials": {"1"},
		"grant_refresh_token": {"1"}, "access_ttl": {"15m"}, "refresh_ttl": {"30d"}}))
	cs, _ := e.st.ListClients(ctx, "default")
	if len(cs) != 1 {
		t.Fatalf("clients: %d", len(cs))
	}
	cl := cs[0]
	secretHash := string(cl.SecretHash)

	// Every such form on the pages asks for it.
	if n := strings.Count(b.get(base+"clients").body, `name="`+console.ReauthField+`"`); n != 4 {
		t.Fatalf("the clients page has %d password fields, want 4 (new client, refresh token, refresh alone, recycle)", n)
	}
	if n := strings.Count(b.get(base+"tokens").body, `name="`+console.ReauthField+`"`); n != 1 {
		t.Fatalf("the tokens page has %d password fields, want 1", n)
	}

	const wrong = "not my password at all"
	actions := []struct {
		name, path string
		form       url.Values
		keeps      string // what the refused page shows again
	}{
		{"create client", base + "clients", url.Values{"name": {"entra-connector"}, "scope_read": {"1"}, "grant_client_credentials": {"1"},
			"access_ttl": {"15m"}, "refresh_ttl": {"30d"}}, `value="entra-connector"`},
		{"create token", base + "tokens", url.Values{"name": {"okta-prod"}, "scope_read": {"1"}, "expires": {"180d"}}, `value="okta-prod"`},
		{"recycle secret", base + "clients/" + cl.ID + "/rotate", url.Values{"revoke_tokens": {"1"}}, ""},
		{"generate refresh token", base + "clients/" + cl.ID + "/refresh-token", url.Values{}, ""},
		{"allow refresh token alone", base + "clients/" + cl.ID + "/refresh-alone", url.Values{"on": {"1"}}, ""},
	}
	nothingMade := func(t *testing.T) {
		t.Helper()
		if cs, _ := e.st.ListClients(ctx, "default"); len(cs) != 1 || string(cs[0].SecretHash) != secretHash || cs[0].RefreshTokenAlone {
			t.Fatalf("a refused action changed the clients: %+v", cs)
		}
		if ts, _ := e.st.ListTokens(ctx, "default"); len(ts) != 0 {
			t.Fatalf("a refused action made a token: %+v", ts)
		}
		if evs, _ := e.st.ListAudit(ctx, store.AuditQuery{Event: "token.issued", Actor: "admin:root", Limit: 10}); len(evs) != 0 {
			t.Fatalf("a refused action issued a token: %+v", evs)
		}
	}
	for i, a := range actions {
		t.Run(a.name, func(t *testing.T) {
			form := func(pw string) url.Values {
				f := url.Values{}
				for k, v := range a.form {
					f[k] = v
				}
				f.Set(console.ReauthField, pw)
				return f
			}
			r := b.post(a.path, form(""))
			wantStatus(t, "no password", r, http.StatusBadRequest)
			if !strings.Contains(r.body, "Type your password to confirm") || strings.Contains(r.body, `id="secret"`) {
				t.Fatalf("no password: %.400s", r.body)
			}
			r = b.post(a.path, form(wrong))
			wantStatus(t, "wrong password", r, http.StatusForbidden)
			if !strings.Contains(r.body, "That is not your password") || strings.Contains(r.body, wrong) || strings.Contains(r.body, `id="secret"`) {
				t.Fatalf("wrong password: %.400s", r.body)
			}
			if a.keeps != "" && !strings.Contains(r.body, a.keeps) {
				t.Fatalf("the refused form lost what was typed (%s)", a.keeps)
			}
			nothingMade(t)
			evs, _ := e.st.ListAudit(ctx, store.AuditQuery{Event: console.EventReauth, Limit: 100})
			if len(evs) != i+1 || evs[i].Outcome != "failure" || evs[i].Actor != "admin:root" || evs[i].Tenant != "default" || evs[i].Source != "127.0.0.1" {
				t.Fatalf("audit after %d wrong passwords: %+v", i+1, evs)
			}
			// Each wrong password counts; the throttle is cleared below by
			// the clock, so that every action gets its turn.
			e.clk.add(time.Minute)
		})
	}

	// Turning "refresh token alone" off takes a power away: no password.
	b.follow(b.post(base+"clients/"+cl.ID+"/refresh-alone", url.Values{"on": {"0"}, console.ReauthField: {""}}))

	// Wrong passwords count against the sign-in throttle of the account:
	// after five in a row even the right one is refused for a while, and so
	// is signing in.
	for range 5 {
		wantStatus(t, "wrong password", b.post(base+"clients/"+cl.ID+"/refresh-token", url.Values{console.ReauthField: {wrong}}), http.StatusForbidden)
	}
	r := b.post(base+"clients/"+cl.ID+"/refresh-token", nil)
	wantStatus(t, "throttled", r, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "Too many wrong passwords") {
		t.Fatalf("throttled: %v %.300s", r.header, r.body)
	}
	other := e.browser()
	wantStatus(t, "sign-in while throttled", other.do("POST", "/admin/login", url.Values{"name": {"root"}, "password": {password}}, nil), http.StatusTooManyRequests)
	nothingMade(t)

	// With the password, each action goes through.
	e.clk.add(10 * time.Minute)
	for _, a := range actions {
		wantStatus(t, a.name, b.post(a.path, a.form), http.StatusSeeOther)
		b.get(base) // take the flash
	}
	if cs, _ := e.st.ListClients(ctx, "default"); len(cs) != 2 {
		t.Fatalf("clients: %d", len(cs))
	}
	if c, _ := e.st.Client(ctx, cl.ID); string(c.SecretHash) == secretHash || !c.RefreshTokenAlone {
		t.Fatalf("client after recycling and allowing refresh tokens alone: %+v", c)
	}
	if ts, _ := e.st.ListTokens(ctx, "default"); len(ts) != 1 {
		t.Fatalf("tokens: %+v", ts)
	}
}
