// Package auth issues and checks pamscim's credentials: named SCIM bearer
// tokens now, the OAuth 2.0 token service later. Secrets are random 256-bit
// values with a recognisable prefix (so secret scanners and log filters can
// spot them); only their SHA-256 is stored, and the lookup is by that hash,
// so the secret itself is never compared or kept.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// Scopes.
const (
	ScopeRead  = "scim:read"
	ScopeWrite = "scim:write"
)

// TokenPrefix starts every named SCIM token.
const TokenPrefix = "pamscim_pat_"

// Principal is who is calling.
type Principal struct {
	Tenant    string
	TokenName string
	Scopes    []string
}

// Can reports whether the principal holds scope.
func (p *Principal) Can(scope string) bool {
	return slices.Contains(p.Scopes, scope) || (scope == ScopeRead && slices.Contains(p.Scopes, ScopeWrite))
}

// NewSecret returns a new random token with the given prefix.
func NewSecret(prefix string) string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// Hash returns the stored form of a token.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// ParseScopes splits and checks a scope list ("scim:read scim:write" or
// comma-separated). Empty means both.
func ParseScopes(s string) ([]string, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
	if len(fields) == 0 {
		return []string{ScopeRead, ScopeWrite}, nil
	}
	var out []string
	for _, f := range fields {
		switch f {
		case ScopeRead, ScopeWrite:
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		default:
			return nil, fmt.Errorf("unknown scope %q (want %s or %s)", f, ScopeRead, ScopeWrite)
		}
	}
	return out, nil
}

// Service checks bearer tokens against the store.
type Service struct {
	Store store.TokenStore
	Now   func() time.Time

	mu      sync.Mutex
	touched map[string]time.Time
}

// NewService returns a Service over st.
func NewService(st store.TokenStore) *Service {
	return &Service{Store: st, Now: time.Now, touched: map[string]time.Time{}}
}

// CreateToken creates a named token and returns its secret, which is shown
// once and never stored.
func (s *Service) CreateToken(ctx context.Context, tenant, name string, scopes []string, ttl time.Duration, createdBy string) (string, *store.Token, error) {
	if name == "" {
		return "", nil, errors.New("a token needs a name")
	}
	secret := NewSecret(TokenPrefix)
	now := s.Now().UTC()
	t := &store.Token{Tenant: tenant, Name: name, Hash: Hash(secret), Scopes: scopes, Created: now, CreatedBy: createdBy}
	if ttl > 0 {
		exp := now.Add(ttl)
		t.Expires = &exp
	}
	if err := s.Store.CreateToken(ctx, t); err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

var errBadToken = scimerr.New(scimerr.Unauthorized, "the bearer token is not valid")

// Authenticate checks an Authorization header value.
func (s *Service) Authenticate(ctx context.Context, header string) (*Principal, error) {
	scheme, secret, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, scimerr.New(scimerr.Unauthorized, "an Authorization: Bearer token is required")
	}
	secret = strings.TrimSpace(secret)
	if secret == "" || len(secret) > 512 {
		return nil, errBadToken
	}
	h := Hash(secret)
	t, err := s.Store.TokenByHash(ctx, h)
	if err != nil {
		if scimerr.KindOf(err) == scimerr.NotFound {
			return nil, errBadToken
		}
		return nil, err
	}
	// The lookup was by hash; comparing again costs nothing and keeps the
	// check honest if the store ever matches loosely.
	if subtle.ConstantTimeCompare(t.Hash, h) != 1 {
		return nil, errBadToken
	}
	now := s.Now()
	if t.Revoked != nil {
		return nil, scimerr.New(scimerr.Unauthorized, "the bearer token has been revoked")
	}
	if t.Expires != nil && !now.Before(*t.Expires) {
		return nil, scimerr.New(scimerr.Unauthorized, "the bearer token has expired")
	}
	s.touch(ctx, h, now)
	return &Principal{Tenant: t.Tenant, TokenName: t.Name, Scopes: t.Scopes}, nil
}

// touch records last use at most once a minute per token, so that reads do
// not turn into writes.
func (s *Service) touch(ctx context.Context, h []byte, now time.Time) {
	key := string(h)
	s.mu.Lock()
	last, ok := s.touched[key]
	if ok && now.Sub(last) < time.Minute {
		s.mu.Unlock()
		return
	}
	s.touched[key] = now
	s.mu.Unlock()
	_ = s.Store.TouchToken(context.WithoutCancel(ctx), h, now)
}
