// Package auth issues and checks pamscim's credentials: named SCIM bearer
// tokens and the OAuth 2.0 access tokens that internal/oauth issues. Secrets
// are random 256-bit values with a recognisable prefix (so secret scanners
// and log filters can spot them); only their SHA-256 is stored, and the
// lookup is by that hash, so the secret itself is never compared or kept.
// A fast hash is right for 256-bit random secrets (nothing to brute-force);
// human-chosen passwords get argon2id (password.go).
//
// A verified bearer token is kept for up to CacheTTL (cache.go) instead of
// being read from the store on every request: a revocation made through this
// instance is seen by its next request, one made by another instance sharing
// the database (or by the CLI) within CacheTTL. Expiry is checked on every
// request, cached or not.
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

	"github.com/pamscim/pamscim/internal/audit"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// Scopes.
const (
	ScopeRead  = "scim:read"
	ScopeWrite = "scim:write"
)

// Prefixes of pamscim's secrets.
const (
	TokenPrefix        = "pamscim_pat_" // named SCIM tokens
	AccessPrefix       = "pamscim_at_"  // OAuth access tokens
	RefreshPrefix      = "pamscim_rt_"  // OAuth refresh tokens
	ClientSecretPrefix = "pamscim_cs_"  // OAuth client secrets
)

// Principal is who is calling.
type Principal struct {
	Tenant string
	// TokenName names the credential in logs: the named token's name, or
	// "oauth:<client name>" for an OAuth access token.
	TokenName string
	Scopes    []string
	// ClientID and Account are set for OAuth access tokens (Account for
	// those issued by the password grant).
	ClientID string
	Account  string
}

// Actor names the principal in the audit trail.
func (p *Principal) Actor() string {
	switch {
	case p.ClientID != "" && p.Account != "":
		return "client:" + p.ClientID + "/account:" + p.Account
	case p.ClientID != "":
		return "client:" + p.ClientID
	}
	return "token:" + p.TokenName
}

// RateKey is the key of the principal's request budget: one per named
// token, one per OAuth client (so minting more access tokens buys nothing).
func (p *Principal) RateKey() string {
	if p.ClientID != "" {
		return "client\x00" + p.ClientID
	}
	return "token\x00" + p.Tenant + "\x00" + p.TokenName
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
// comma-separated). Empty means both; "scim" (the IPSIE profile's single
// scope) means both too.
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
		case "scim":
			for _, g := range []string{ScopeRead, ScopeWrite} {
				if !slices.Contains(out, g) {
					out = append(out, g)
				}
			}
		default:
			return nil, fmt.Errorf("unknown scope %q (want %s, %s or scim)", f, ScopeRead, ScopeWrite)
		}
	}
	return out, nil
}

// Service checks bearer tokens against the store.
type Service struct {
	Store store.TokenStore
	// OAuth, when set, checks OAuth access tokens too.
	OAuth store.OAuthTokenStore
	// Audit receives token creation and revocation.
	Audit audit.Recorder
	Now   func() time.Time

	// CacheSize bounds the verified tokens kept (DefaultCacheSize when 0;
	// negative: none, every request reads the store). Set it before use.
	CacheSize int

	cacheOnce sync.Once
	cache     *tokenCache
	// epoch is the store's revocation count (store.TokenEpoch); nil when
	// the store has none, and then nothing is cached: a revocation through
	// it would go unseen for CacheTTL.
	epoch func() uint64

	mu      sync.Mutex
	touched map[[32]byte]time.Time
}

// NewService returns a Service over st. A store that also keeps OAuth
// tokens or an audit trail (every store.Store does) is used for those.
func NewService(st store.TokenStore) *Service {
	s := &Service{Store: st, Now: time.Now, touched: map[[32]byte]time.Time{}, Audit: audit.Nop{}}
	if e, ok := st.(store.TokenEpoch); ok {
		s.epoch = e.TokenEpoch
	}
	if o, ok := st.(store.OAuthTokenStore); ok {
		s.OAuth = o
	}
	if a, ok := st.(store.AuditStore); ok {
		s.Audit = audit.New(a, nil)
	}
	return s
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
	detail := "named token, scope=" + strings.Join(scopes, " ")
	if t.Expires != nil {
		detail += ", expires=" + t.Expires.Format(time.RFC3339)
	}
	s.Audit.Record(ctx, store.AuditEvent{Tenant: tenant, Actor: createdBy, Event: audit.TokenIssued, Object: "token:" + name, Detail: detail})
	return secret, t, nil
}

// RevokeToken revokes a named token.
func (s *Service) RevokeToken(ctx context.Context, tenant, name, by string) error {
	if err := s.Store.RevokeToken(ctx, tenant, name, s.Now()); err != nil {
		return err
	}
	s.Audit.Record(ctx, store.AuditEvent{Tenant: tenant, Actor: by, Event: audit.TokenRevoked, Object: "token:" + name, Detail: "named token"})
	return nil
}

// Refusal is why a bearer token was refused, with what is known of it for
// the audit trail (never the secret).
type Refusal struct {
	Tenant string // "" when the token is unknown
	Actor  string
	// Client names the credential as the provisioning log does for its
	// accepted requests (Principal.TokenName), so that a search by client
	// finds its refusals too.
	Client string
	Reason string
	err    *scimerr.Error
}

func (r *Refusal) Error() string { return r.err.Error() }
func (r *Refusal) Unwrap() error { return r.err }

func refuse(tenant, actor, client, reason, detail string) *Refusal {
	return &Refusal{Tenant: tenant, Actor: actor, Client: client, Reason: reason, err: scimerr.New(scimerr.Unauthorized, "%s", detail)}
}

var errBadToken = refuse("", "", "", "unknown token", "the bearer token is not valid")

// ErrNoToken is the refusal of a request without a bearer token.
var ErrNoToken = scimerr.New(scimerr.Unauthorized, "an Authorization: Bearer token is required")

// Authenticate checks an Authorization header value.
func (s *Service) Authenticate(ctx context.Context, header string) (*Principal, error) {
	scheme, secret, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, ErrNoToken
	}
	secret = strings.TrimSpace(secret)
	if secret == "" || len(secret) > 512 {
		return nil, errBadToken
	}
	h := sha256.Sum256([]byte(secret))
	now := s.Now()
	c := s.tokenCache()
	var epoch uint64
	if c != nil {
		epoch = s.epoch()
		if e := c.get(h, now, epoch); e != nil {
			if e.expires.IsZero() || now.Before(e.expires) {
				if e.named {
					s.touch(ctx, h, now)
				}
				p := e.p
				return &p, nil
			}
			// Expired since it was read: the store path says so, with
			// what the audit trail needs.
			c.drop(h)
		}
	}
	var (
		p   *Principal
		e   *cached
		err error
	)
	if strings.HasPrefix(secret, AccessPrefix) && s.OAuth != nil {
		p, e, err = s.authenticateAccess(ctx, h, now)
	} else {
		p, e, err = s.authenticateNamed(ctx, h, now)
	}
	if err != nil {
		return nil, err
	}
	if c != nil {
		e.p, e.read, e.epoch = *p, now, epoch
		c.put(h, e)
	}
	return p, nil
}

// tokenCache returns the cache of verified tokens, or nil when there is none.
func (s *Service) tokenCache() *tokenCache {
	if s.epoch == nil || s.CacheSize < 0 {
		return nil
	}
	s.cacheOnce.Do(func() {
		n := s.CacheSize
		if n == 0 {
			n = DefaultCacheSize
		}
		s.cache = &tokenCache{max: n}
	})
	return s.cache
}

// authenticateNamed checks a named SCIM token by the hash of its secret and
// returns what the cache keeps of it.
func (s *Service) authenticateNamed(ctx context.Context, h [32]byte, now time.Time) (*Principal, *cached, error) {
	t, err := s.Store.TokenByHash(ctx, h[:])
	if err != nil {
		if scimerr.KindOf(err) == scimerr.NotFound {
			return nil, nil, errBadToken
		}
		return nil, nil, err
	}
	// The lookup was by hash; comparing again costs nothing and keeps the
	// check honest if the store ever matches loosely.
	if subtle.ConstantTimeCompare(t.Hash, h[:]) != 1 {
		return nil, nil, errBadToken
	}
	if t.Revoked != nil {
		return nil, nil, refuse(t.Tenant, "token:"+t.Name, t.Name, "revoked", "the bearer token has been revoked")
	}
	e := &cached{named: true}
	if t.Expires != nil {
		if !now.Before(*t.Expires) {
			return nil, nil, refuse(t.Tenant, "token:"+t.Name, t.Name, "expired", "the bearer token has expired")
		}
		e.expires = *t.Expires
	}
	s.touch(ctx, h, now)
	return &Principal{Tenant: t.Tenant, TokenName: t.Name, Scopes: t.Scopes}, e, nil
}

// maxTouched bounds the last-use throttle's memory; past it the throttle
// starts afresh (each token then records one use early).
const maxTouched = 4096

// touch records last use at most once a minute per token, so that reads do
// not turn into writes.
func (s *Service) touch(ctx context.Context, h [32]byte, now time.Time) {
	s.mu.Lock()
	last, ok := s.touched[h]
	if ok && now.Sub(last) < time.Minute {
		s.mu.Unlock()
		return
	}
	if len(s.touched) >= maxTouched {
		clear(s.touched)
	}
	s.touched[h] = now
	s.mu.Unlock()
	_ = s.Store.TouchToken(context.WithoutCancel(ctx), h[:], now)
}

// authenticateAccess checks an OAuth access token by the hash of its secret.
func (s *Service) authenticateAccess(ctx context.Context, h [32]byte, now time.Time) (*Principal, *cached, error) {
	t, err := s.OAuth.OAuthToken(ctx, h[:])
	if err != nil {
		if scimerr.KindOf(err) == scimerr.NotFound {
			return nil, nil, errBadToken
		}
		return nil, nil, err
	}
	p := &Principal{Tenant: t.Tenant, TokenName: "oauth:" + t.ClientName, Scopes: t.Scopes, ClientID: t.ClientID, Account: t.Subject}
	if subtle.ConstantTimeCompare(t.Hash, h[:]) != 1 || t.Kind != store.KindAccess {
		// A refresh token is not a bearer token.
		return nil, nil, errBadToken
	}
	if t.Revoked != nil {
		return nil, nil, refuse(t.Tenant, p.Actor(), p.TokenName, "revoked", "the access token has been revoked")
	}
	if !now.Before(t.Expires) {
		return nil, nil, refuse(t.Tenant, p.Actor(), p.TokenName, "expired", "the access token has expired")
	}
	return p, &cached{expires: t.Expires}, nil
}
