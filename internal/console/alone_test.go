package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pamscim/pamscim/internal/store"
)

// seedExchange presents a refresh token at the token endpoint exactly as
// seed 000's connectors do: grant_type=refresh_token&refresh_token=… and
// no client authentication.
func seedExchange(t *testing.T, endpoint, refresh string) (int, map[string]any) {
	t.Helper()
	return postToken(t, endpoint, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
}

// TestRefreshTokenAloneToggle: the console sets "refresh token alone" at
// a client's creation and turns it on and off later, behind the form
// token; the page shows it, the token endpoint follows it, and the trail
// records who changed it.
func TestRefreshTokenAloneToggle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	endpoint := e.tokenEndpoint()
	b := e.browser()
	b.signIn("root")
	clients := "/admin/t/default/clients"
	newClient := func(name string, extra url.Values) resp {
		f := url.Values{"name": {name}, "scope_read": {"1"}, "grant_client_credentials": {"1"}, "access_ttl": {"10m"}, "refresh_ttl": {"30d"}}
		for k, v := range extra {
			f[k] = v
		}
		return b.post(clients, f)
	}
	b.follow(newClient("beyondinsight", url.Values{"grant_refresh_token": {"1"}, "refresh_alone": {"1"}}))
	b.follow(newClient("okta", url.Values{"grant_refresh_token": {"1"}}))
	r := newClient("no-refresh", url.Values{"refresh_alone": {"1"}})
	wantStatus(t, "refresh alone without the refresh grant", r, http.StatusBadRequest)
	if !strings.Contains(r.body, "needs the refresh token grant") || !strings.Contains(r.body, `name="refresh_alone" value="1" checked`) {
		t.Fatal("the refused form does not say why or forgot the box")
	}
	byName := func() map[string]*store.OAuthClient {
		cs, _ := e.st.ListClients(ctx, "default")
		m := map[string]*store.OAuthClient{}
		for _, c := range cs {
			m[c.Name] = c
		}
		return m
	}
	cs := byName()
	if len(cs) != 2 || !cs["beyondinsight"].RefreshTokenAlone || cs["okta"].RefreshTokenAlone {
		t.Fatalf("created: %+v", cs)
	}
	bi, okta := cs["beyondinsight"].ID, cs["okta"].ID

	// The page: a badge and "Require client authentication" for the one,
	// "Allow refresh token alone…" behind a confirmation for the other.
	page := b.get(clients).body
	for _, want := range []string{
		`action="/admin/t/default/clients/` + bi + `/refresh-alone"`,
		`action="/admin/t/default/clients/` + okta + `/refresh-alone"`,
		"Require client authentication", "Allow refresh token alone…", `class="badge expired refresh-alone"`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the clients page lacks %s", want)
		}
	}
	if strings.Count(page, "refresh-alone\" title=") != 1 {
		t.Error("the badge is not on exactly one client")
	}

	// The form token is required; another tenant's administrator gets 404;
	// a value other than 0 or 1 is refused. None of it changes anything.
	for _, tc := range []struct {
		name string
		do   func() resp
		want int
	}{
		{"no form token", func() resp {
			return b.do("POST", clients+"/"+okta+"/refresh-alone", url.Values{"on": {"1"}}, nil)
		}, http.StatusForbidden},
		{"wrong form token", func() resp {
			return b.post(clients+"/"+okta+"/refresh-alone", url.Values{"on": {"1"}, "csrf": {strings.Repeat("x", len(b.csrf))}})
		}, http.StatusForbidden},
		{"another tenant's administrator", func() resp {
			ann := e.browser()
			ann.signIn("ann")
			return ann.post("/admin/t/acme/clients/"+okta+"/refresh-alone", url.Values{"on": {"1"}})
		}, http.StatusNotFound},
		{"unknown client", func() resp { return b.post(clients+"/nope/refresh-alone", url.Values{"on": {"1"}}) }, http.StatusNotFound},
		{"neither on nor off", func() resp { return b.post(clients+"/"+okta+"/refresh-alone", url.Values{"on": {"yes"}}) }, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantStatus(t, tc.name, tc.do(), tc.want)
			if c, _ := e.st.Client(ctx, okta); c.RefreshTokenAlone {
				t.Fatal("a refused form turned the setting on")
			}
		})
	}

	// Off: seed 000's exchange is refused and the token is not spent.
	rt := secretOf(t, b.follow(b.post(clients+"/"+okta+"/refresh-token", nil)))
	if status, body := seedExchange(t, endpoint, rt); status != http.StatusUnauthorized || body["error"] != "invalid_client" ||
		!strings.Contains(body["error_description"].(string), "refresh tokens alone") {
		t.Fatalf("setting off: %d %v", status, body)
	}

	// On: the same token goes through, and so does the one it rotated to.
	r = b.follow(b.post(clients+"/"+okta+"/refresh-alone", url.Values{"on": {"1"}}))
	if !strings.Contains(r.body, "exchanged alone") {
		t.Fatalf("flash after turning it on: %.2000s", r.body)
	}
	if c, _ := e.st.Client(ctx, okta); !c.RefreshTokenAlone {
		t.Fatal("not turned on")
	}
	status, body := seedExchange(t, endpoint, rt)
	next, _ := body["refresh_token"].(string)
	if status != http.StatusOK || next == "" || next == rt || body["scope"] != "scim:read" {
		t.Fatalf("setting on: %d %v", status, body)
	}
	if status, _ := seedExchange(t, endpoint, next); status != http.StatusOK {
		t.Fatalf("the rotated token: %d", status)
	}
	// A token generated now says how it is exchanged.
	r = b.follow(b.post(clients+"/"+okta+"/refresh-token", nil))
	if !strings.Contains(r.body, "nothing else (this client allows refresh tokens alone)") {
		t.Fatal("the generated token's note does not say it is exchanged alone")
	}
	later := secretOf(t, r)

	// Off again: refused again.
	b.follow(b.post(clients+"/"+okta+"/refresh-alone", url.Values{"on": {"0"}}))
	if status, _ := seedExchange(t, endpoint, later); status != http.StatusUnauthorized {
		t.Fatalf("turned off: %d", status)
	}

	evs, _ := e.st.ListAudit(ctx, store.AuditQuery{Event: "client.changed", Object: "client:" + okta, Limit: 10})
	if len(evs) != 2 || evs[0].Actor != "admin:root" || evs[0].Source != "127.0.0.1" || !strings.Contains(evs[0].Detail, "refresh_token_alone=true") ||
		!strings.Contains(evs[1].Detail, "refresh_token_alone=false") {
		t.Fatalf("audit: %+v", evs)
	}
	created, _ := e.st.ListAudit(ctx, store.AuditQuery{Event: "client.created", Object: "client:" + bi, Limit: 10})
	if len(created) != 1 || !strings.Contains(created[0].Detail, "refresh_token_alone=true") {
		t.Fatalf("creation audit: %+v", created)
	}
}
