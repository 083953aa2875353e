package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/client"
	"github.com/pamscim/pamscim/internal/client/scimtest"
)

// tokenEndpoint is a small real OAuth 2.0 token endpoint (RFC 6749 §4.4):
// each client_credentials grant mints a new pamscim token, so the SCIM
// requests are checked by the real server.
type tokenEndpoint struct {
	srv       *httptest.Server
	mu        sync.Mutex
	names     []string
	expiresIn int
}

func newTokenEndpoint(t *testing.T, s *scimtest.Server, id, secret string) *tokenEndpoint {
	te := &tokenEndpoint{expiresIn: 3600}
	te.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Method != http.MethodPost || r.Form.Get("grant_type") != "client_credentials" {
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"error": "unsupported_grant_type"})
			return
		}
		u, p, ok := r.BasicAuth()
		if !ok {
			u, p = r.Form.Get("client_id"), r.Form.Get("client_secret")
		}
		w.Header().Set("Content-Type", "application/json")
		if u != id || p != secret {
			w.WriteHeader(401)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": "bad secret"})
			return
		}
		name, tok := s.NewToken(t, 0)
		te.mu.Lock()
		te.names = append(te.names, name)
		exp := te.expiresIn
		te.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": exp})
	}))
	t.Cleanup(te.srv.Close)
	return te
}

func TestClientCredentials(t *testing.T) {
	s := scimtest.Start(t)
	te := newTokenEndpoint(t, s, "svc", "s3cret")
	ctx := context.Background()

	cc, err := client.NewClientCredentials(te.srv.URL+"/oauth/token", "svc", "s3cret", []string{"scim:read"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, s.URL, cc)
	for range 5 {
		if _, err := c.Get(ctx, "/Users", nil); err != nil {
			t.Fatal(err)
		}
	}
	if cc.Fetches() != 1 {
		t.Fatalf("%d token fetches for 5 requests with a one-hour token", cc.Fetches())
	}

	// A revoked (or expired server-side) token: one 401, a new token, the
	// request repeated and answered.
	te.mu.Lock()
	last := te.names[len(te.names)-1]
	te.mu.Unlock()
	s.Revoke(t, last)
	if _, err := c.Get(ctx, "/Users", nil); err != nil {
		t.Fatal(err)
	}
	if cc.Fetches() != 2 {
		t.Fatalf("%d fetches after a 401", cc.Fetches())
	}

	// A token about to expire is renewed before use.
	te.mu.Lock()
	te.expiresIn = 5 // inside the 30 s renewal margin
	te.mu.Unlock()
	cc.Invalidate()
	for range 3 {
		if _, err := c.Get(ctx, "/Users", nil); err != nil {
			t.Fatal(err)
		}
	}
	if cc.Fetches() != 5 {
		t.Fatalf("%d fetches with short-lived tokens, want a new one per request", cc.Fetches())
	}

	// Wrong secret: a clear error naming the token endpoint's answer.
	bad, _ := client.NewClientCredentials(te.srv.URL+"/oauth/token", "svc", "wrong", nil, nil)
	_, err = newClient(t, s.URL, bad).Get(ctx, "/Users", nil)
	var tokErr *client.TokenError
	if err == nil || !asTokenError(err, &tokErr) || tokErr.Message == "" {
		t.Fatalf("wrong secret: %v", err)
	}
}

func asTokenError(err error, target **client.TokenError) bool {
	for err != nil {
		if te, ok := err.(*client.TokenError); ok {
			*target = te
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestBearerAndBasic(t *testing.T) {
	s := scimtest.Start(t)
	ctx := context.Background()
	if _, err := newClient(t, s.URL, client.Bearer("pamscim_pat_wrong")).Get(ctx, "/Users", nil); client.StatusOf(err) != 401 {
		t.Fatalf("bad bearer: %v", err)
	}
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("Authorization")
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	if _, err := newClient(t, srv.URL, client.Basic{User: "a", Password: "b"}).Get(ctx, "/x", nil); err != nil {
		t.Fatal(err)
	}
	if got != "Basic YTpi" {
		t.Fatalf("Authorization %q", got)
	}
	_ = time.Second
}
