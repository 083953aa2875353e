// Package scimtest starts a real pamscim server for the client-side tests:
// the real API handler on a real loopback listener over a SQLite file in the
// test's temporary directory.
package scimtest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/api"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
)

// Server is a running pamscim.
type Server struct {
	// URL is the SCIM base, e.g. http://127.0.0.1:PORT/scim/v2.
	URL string
	// Root is the server root (for /scim/oauth/token).
	Root  string
	Token string
	Store store.Store
	Auth  *auth.Service
	HTTP  *httptest.Server
	seq   atomic.Int64
}

// Start starts pamscim for t; it stops when t ends.
func Start(t testing.TB, cfg ...api.Config) *Server {
	t.Helper()
	reg := schema.Default()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "data"), reg, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	au := auth.NewService(st)
	tok, _, err := au.CreateToken(context.Background(), store.DefaultTenant, "test", []string{auth.ScopeRead, auth.ScopeWrite}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	var c api.Config
	if len(cfg) > 0 {
		c = cfg[0]
	}
	srv := httptest.NewServer(api.New(reg, st, au, c, nil).Handler())
	t.Cleanup(func() { srv.Close(); st.Close() })
	return &Server{URL: srv.URL + "/scim/v2", Root: srv.URL, Token: tok, Store: st, Auth: au, HTTP: srv}
}

// NewToken creates another named token with the given lifetime (0: none).
func (s *Server) NewToken(t testing.TB, expires time.Duration, scopes ...string) (name, secret string) {
	t.Helper()
	if len(scopes) == 0 {
		scopes = []string{auth.ScopeRead, auth.ScopeWrite}
	}
	name = fmt.Sprintf("tok%d", s.seq.Add(1))
	secret, _, err := s.Auth.CreateToken(context.Background(), store.DefaultTenant, name, scopes, expires, "test")
	if err != nil {
		t.Fatal(err)
	}
	return name, secret
}

// Revoke revokes a named token.
func (s *Server) Revoke(t testing.TB, name string) {
	t.Helper()
	if err := s.Store.RevokeToken(context.Background(), store.DefaultTenant, name, time.Now()); err != nil {
		t.Fatal(err)
	}
}
