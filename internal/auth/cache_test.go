package auth

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/postgres"
	"github.com/pamscim/pamscim/internal/store/postgres/pgtest"
	"github.com/pamscim/pamscim/internal/store/sqlite"
	"github.com/pamscim/pamscim/internal/store/sqlstore"
)

// clock is a settable time source, so that the tests step over the cache's
// lifetime and a token's expiry without sleeping.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// instances opens n stores on one database, as n server instances sharing
// it would: SQLite (one file) and, when PAMSCIM_TEST_POSTGRES is set,
// PostgreSQL.
func instances(t *testing.T, n int) map[string][]*sqlstore.DB {
	ctx := context.Background()
	out := map[string][]*sqlstore.DB{}
	dir := t.TempDir()
	for range n {
		st, err := sqlite.Open(ctx, dir, schema.Default(), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		out["sqlite"] = append(out["sqlite"], st)
	}
	if os.Getenv(pgtest.EnvVar) != "" {
		url := pgtest.Schema(t)
		for range n {
			st, err := postgres.Open(ctx, url, schema.Default())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			out["postgres"] = append(out["postgres"], st)
		}
	}
	return out
}

func newService(st store.Store, c *clock) *Service {
	s := NewService(st)
	s.Now = c.now
	return s
}

// issueAccess stores an OAuth client, a service account and an access
// token of both, and returns the token's secret.
func issueAccess(t *testing.T, st store.Store, name string, now time.Time, ttl time.Duration) string {
	ctx := context.Background()
	c := &store.OAuthClient{ID: "cid-" + name, Tenant: store.DefaultTenant, Name: name, SecretHash: Hash("x"), Scopes: []string{ScopeRead},
		Grants: []string{"client_credentials", "password"}, AccessTTL: ttl, Created: now, SecretChanged: now}
	if err := st.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateServiceAccount(ctx, &store.ServiceAccount{Tenant: store.DefaultTenant, Name: "acct-" + name, PasswordHash: "h", Scopes: []string{ScopeRead}, Created: now, PasswordChanged: now}); err != nil {
		t.Fatal(err)
	}
	secret := NewSecret(AccessPrefix)
	tok := &store.OAuthToken{Hash: Hash(secret), Kind: store.KindAccess, Tenant: store.DefaultTenant, ClientID: c.ID, Subject: "acct-" + name,
		Family: "fam-" + name, Scopes: []string{ScopeRead}, Created: now, Expires: now.Add(ttl)}
	if err := st.IssueTokens(ctx, tok); err != nil {
		t.Fatal(err)
	}
	return secret
}

func wantRefused(t *testing.T, s *Service, secret, what string) {
	t.Helper()
	if _, err := s.Authenticate(context.Background(), "Bearer "+secret); scimerr.KindOf(err) != scimerr.Unauthorized {
		t.Fatalf("%s: got %v, want a refusal", what, err)
	}
}

func wantAccepted(t *testing.T, s *Service, secret, what string) *Principal {
	t.Helper()
	p, err := s.Authenticate(context.Background(), "Bearer "+secret)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return p
}

// TestCacheRevocationHere: a revocation made through this instance's store,
// whatever the path (CLI or console, OAuth revocation endpoint, a client's
// new secret or deletion, an account's new password), is seen by the very
// next request although the token was just cached.
func TestCacheRevocationHere(t *testing.T) {
	ctx := context.Background()
	for flavor, sts := range instances(t, 1) {
		st := sts[0]
		c := &clock{t: time.Now()}
		s := newService(st, c)
		tests := []struct {
			name   string
			access bool
			revoke func(name string) error
		}{
			{"named token via the service", false, func(n string) error { return s.RevokeToken(ctx, store.DefaultTenant, n, "test") }},
			{"named token via the store", false, func(n string) error { return st.RevokeToken(ctx, store.DefaultTenant, n, c.t) }},
			{"access token family", true, func(n string) error { _, err := st.RevokeTokenFamily(ctx, "fam-"+n, c.t); return err }},
			{"client's tokens", true, func(n string) error { _, err := st.RevokeClientTokens(ctx, "cid-"+n, c.t); return err }},
			{"client's new secret", true, func(n string) error { return st.SetClientCredential(ctx, "cid-"+n, Hash("y"), "", c.t, true) }},
			{"client deleted", true, func(n string) error { return st.DeleteClient(ctx, "cid-"+n, c.t) }},
			{"account's new password", true, func(n string) error { return st.SetServicePassword(ctx, store.DefaultTenant, "acct-"+n, "h2", c.t) }},
			{"account deleted", true, func(n string) error { return st.DeleteServiceAccount(ctx, store.DefaultTenant, "acct-"+n, c.t) }},
		}
		for i, tc := range tests {
			t.Run(flavor+"/"+tc.name, func(t *testing.T) {
				name := fmt.Sprintf("here%d", i)
				var secret string
				if tc.access {
					secret = issueAccess(t, st, name, c.t, time.Hour)
				} else {
					var err error
					if secret, _, err = s.CreateToken(ctx, store.DefaultTenant, name, []string{ScopeRead}, 0, "test"); err != nil {
						t.Fatal(err)
					}
				}
				wantAccepted(t, s, secret, "before the revocation")
				if _, ok := s.cache.entries[sha(secret)]; !ok {
					t.Fatal("the verified token was not cached")
				}
				if err := tc.revoke(name); err != nil {
					t.Fatal(err)
				}
				wantRefused(t, s, secret, "the next request")
			})
		}
	}
}

func sha(secret string) [32]byte { return [32]byte(Hash(secret)) }

// TestCacheRevocationElsewhere: a revocation made by another instance on
// the same database is seen within CacheTTL, and not before a store read.
func TestCacheRevocationElsewhere(t *testing.T) {
	ctx := context.Background()
	for flavor, sts := range instances(t, 2) {
		t.Run(flavor, func(t *testing.T) {
			c := &clock{t: time.Now()}
			here, there := newService(sts[0], c), newService(sts[1], c)
			secret, _, err := here.CreateToken(ctx, store.DefaultTenant, "elsewhere", []string{ScopeRead}, 0, "test")
			if err != nil {
				t.Fatal(err)
			}
			access := issueAccess(t, sts[0], "elsewhere", c.t, time.Hour)
			for _, sec := range []string{secret, access} {
				wantAccepted(t, there, sec, "before the revocation")
			}
			if err := here.RevokeToken(ctx, store.DefaultTenant, "elsewhere", "test"); err != nil {
				t.Fatal(err)
			}
			if _, err := sts[0].RevokeTokenFamily(ctx, "fam-elsewhere", c.t); err != nil {
				t.Fatal(err)
			}
			// Within the bound the other instance may still accept it
			// (this is the cache at work); at the bound it must not.
			c.t = c.t.Add(CacheTTL - time.Millisecond)
			for _, sec := range []string{secret, access} {
				wantAccepted(t, there, sec, "within CacheTTL, from the cache")
			}
			c.t = c.t.Add(time.Millisecond)
			for _, sec := range []string{secret, access} {
				wantRefused(t, there, sec, "at CacheTTL after the revocation")
				wantRefused(t, here, sec, "on the revoking instance")
			}
		})
	}
}

// TestCacheExpiry: a cached token is refused from the instant it expires,
// not when its cache entry lapses.
func TestCacheExpiry(t *testing.T) {
	ctx := context.Background()
	for flavor, sts := range instances(t, 1) {
		t.Run(flavor, func(t *testing.T) {
			// Whole microseconds: the store keeps times to the microsecond.
			c := &clock{t: time.Now().Truncate(time.Millisecond)}
			s := newService(sts[0], c)
			secret, tok, err := s.CreateToken(ctx, store.DefaultTenant, "short", []string{ScopeRead}, time.Second, "test")
			if err != nil {
				t.Fatal(err)
			}
			access := issueAccess(t, sts[0], "short", c.t, time.Second)
			for _, sec := range []string{secret, access} {
				c.t = tok.Expires.Add(-time.Microsecond - CacheTTL/2)
				wantAccepted(t, s, sec, "well before expiry (fills the cache)")
				c.t = tok.Expires.Add(-time.Microsecond)
				wantAccepted(t, s, sec, "a microsecond before expiry")
				c.t = *tok.Expires
				_, err := s.Authenticate(ctx, "Bearer "+sec)
				if rf, ok := err.(*Refusal); !ok || rf.Reason != "expired" {
					t.Fatalf("at expiry: got %v, want an 'expired' refusal", err)
				}
			}
		})
	}
}

// TestCacheBounded: however many valid tokens are used, the cache keeps at
// most CacheSize, and an evicted token still works (read again).
func TestCacheBounded(t *testing.T) {
	ctx := context.Background()
	st := instances(t, 1)["sqlite"][0]
	c := &clock{t: time.Now()}
	s := newService(st, c)
	s.CacheSize = 5
	var secrets []string
	for i := range 3 * s.CacheSize {
		sec, _, err := s.CreateToken(ctx, store.DefaultTenant, fmt.Sprintf("t%02d", i), []string{ScopeRead}, 0, "test")
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, sec)
		wantAccepted(t, s, sec, "a new token")
		if n := s.cache.len(); n > s.CacheSize {
			t.Fatalf("after %d tokens the cache holds %d, want at most %d", i+1, n, s.CacheSize)
		}
	}
	for _, sec := range secrets {
		wantAccepted(t, s, sec, "a token used again")
	}
	// Refusals are not cached: unknown secrets cannot fill it.
	s2 := newService(st, c)
	for range 10 {
		wantRefused(t, s2, NewSecret(TokenPrefix), "an unknown token")
	}
	if s2.cache.len() != 0 {
		t.Fatalf("unknown tokens were cached: %d", s2.cache.len())
	}
}

// TestCacheTouchThrottled: last use is still recorded for a cached token,
// once a minute, not once a request.
func TestCacheTouchThrottled(t *testing.T) {
	ctx := context.Background()
	st := instances(t, 1)["sqlite"][0]
	c := &clock{t: time.Now().Truncate(time.Millisecond)}
	s := newService(st, c)
	secret, _, err := s.CreateToken(ctx, store.DefaultTenant, "touched", []string{ScopeRead}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	lastUsed := func() time.Time {
		tok, err := st.TokenByHash(ctx, Hash(secret))
		if err != nil || tok.LastUsed == nil {
			t.Fatalf("last use: %v %v", tok, err)
		}
		return *tok.LastUsed
	}
	first := c.t
	wantAccepted(t, s, secret, "first use")
	if got := lastUsed(); !got.Equal(first) {
		t.Fatalf("last use %v, want %v", got, first)
	}
	c.t = c.t.Add(30 * time.Second)
	wantAccepted(t, s, secret, "30 s later")
	if got := lastUsed(); !got.Equal(first) {
		t.Fatalf("last use %v after 30 s, want still %v", got, first)
	}
	c.t = c.t.Add(31 * time.Second)
	wantAccepted(t, s, secret, "61 s later")
	if got := lastUsed(); !got.Equal(c.t) {
		t.Fatalf("last use %v, want %v", got, c.t)
	}
}
