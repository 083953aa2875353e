// Package oauth is pamscim's OAuth 2.0 authorization server (RFC 6749): the
// token endpoint with the client_credentials, password and refresh_token
// grants, client authentication by secret (HTTP Basic or form fields) or by a
// signed JWT (RFC 7523 private_key_jwt), token revocation (RFC 7009) and the
// authorization-server metadata (RFC 8414). It also administers clients and
// the service accounts of the password grant.
//
// Tokens are opaque (auth.AccessPrefix, auth.RefreshPrefix) and kept in the
// store only as SHA-256 hashes; internal/auth checks access tokens on every
// SCIM request against the store, so revocation is immediate everywhere.
// Refresh tokens rotate on every use; a used one presented again revokes its
// whole chain (its "family"), because one of the two presenters stole it.
package oauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pamscim/pamscim/internal/audit"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/throttle"
)

// Grant types.
const (
	GrantClientCredentials = "client_credentials"
	GrantPassword          = "password"
	GrantRefresh           = "refresh_token"
)

// Default lifetimes: access tokens are short (a stolen one is worth little),
// refresh tokens long (an unattended connector keeps working); both are
// set per client.
const (
	DefaultAccessTTL  = 15 * time.Minute
	DefaultRefreshTTL = 30 * 24 * time.Hour
)

// Store is what the service needs from the store.
type Store interface {
	store.ClientStore
	store.OAuthTokenStore
	store.TenantStore
}

// Config configures the service.
type Config struct {
	// Issuer is the authorization server's issuer URL (RFC 8414), e.g.
	// https://scim.example.com. Empty: derived from each request.
	Issuer string
	// Failures sets the buckets of failed client authentication.
	Failures throttle.FailurePolicy
	// TrustedProxies are the addresses whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// MaxAssertionLifetime bounds exp-now of a client assertion (default 1 h).
	MaxAssertionLifetime time.Duration
}

// Service issues and administers OAuth credentials.
type Service struct {
	st       Store
	cfg      Config
	audit    audit.Recorder
	failures *throttle.Failures
	log      *slog.Logger
	now      func() time.Time
}

// New returns a service over st. rec receives the audit trail (nil: none).
func New(st Store, cfg Config, rec audit.Recorder, log *slog.Logger) *Service {
	if rec == nil {
		rec = audit.Nop{}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxAssertionLifetime <= 0 {
		cfg.MaxAssertionLifetime = time.Hour
	}
	cfg.Issuer = strings.TrimRight(cfg.Issuer, "/")
	return &Service{st: st, cfg: cfg, audit: rec, failures: throttle.NewFailures(cfg.Failures), log: log, now: time.Now}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Failures returns the failed-authentication buckets, which the SCIM API
// shares for failed bearer tokens.
func (s *Service) Failures() *throttle.Failures { return s.failures }

// ClientSpec describes a new client.
type ClientSpec struct {
	Tenant     string
	Name       string
	Scopes     []string
	Grants     []string // default client_credentials and refresh_token
	AccessTTL  time.Duration
	RefreshTTL time.Duration
	// PublicKeyPEM, when set, makes the client authenticate with
	// private_key_jwt instead of a secret.
	PublicKeyPEM string
	// RefreshTokenAlone lets the client's refresh tokens be exchanged
	// without its authentication (store.OAuthClient.RefreshTokenAlone);
	// the client needs the refresh_token grant.
	RefreshTokenAlone bool
}

// ParseGrants splits and checks a grant list; empty means client_credentials
// and refresh_token.
func ParseGrants(s string) ([]string, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
	if len(fields) == 0 {
		return []string{GrantClientCredentials, GrantRefresh}, nil
	}
	var out []string
	for _, f := range fields {
		switch f {
		case GrantClientCredentials, GrantPassword, GrantRefresh:
			if !slices.Contains(out, f) {
				out = append(out, f)
			}
		default:
			return nil, fmt.Errorf("unknown grant %q (want %s, %s or %s)", f, GrantClientCredentials, GrantPassword, GrantRefresh)
		}
	}
	if slices.Equal(out, []string{GrantRefresh}) {
		return nil, errors.New("refresh_token alone grants nothing: add client_credentials or password")
	}
	return out, nil
}

// CreateClient registers a client and returns its secret (empty for a key
// client), which is shown once and stored only as a hash.
func (s *Service) CreateClient(ctx context.Context, spec ClientSpec, by string) (*store.OAuthClient, string, error) {
	if strings.TrimSpace(spec.Name) == "" {
		return nil, "", errors.New("a client needs a name")
	}
	if spec.AccessTTL < 0 || spec.RefreshTTL < 0 {
		return nil, "", errors.New("token lifetimes must be positive")
	}
	if spec.AccessTTL == 0 {
		spec.AccessTTL = DefaultAccessTTL
	}
	if spec.RefreshTTL == 0 {
		spec.RefreshTTL = DefaultRefreshTTL
	}
	if len(spec.Scopes) == 0 {
		spec.Scopes = []string{auth.ScopeRead, auth.ScopeWrite}
	}
	if len(spec.Grants) == 0 {
		spec.Grants = []string{GrantClientCredentials, GrantRefresh}
	}
	if spec.RefreshTokenAlone && !slices.Contains(spec.Grants, GrantRefresh) {
		return nil, "", errNoRefreshGrant()
	}
	now := s.now().UTC()
	c := &store.OAuthClient{ID: uuid.NewString(), Tenant: spec.Tenant, Name: spec.Name, Scopes: spec.Scopes, Grants: spec.Grants,
		AccessTTL: spec.AccessTTL, RefreshTTL: spec.RefreshTTL, Created: now, SecretChanged: now, CreatedBy: by, RefreshTokenAlone: spec.RefreshTokenAlone}
	var secret string
	if spec.PublicKeyPEM != "" {
		if _, err := ParsePublicKey(spec.PublicKeyPEM); err != nil {
			return nil, "", err
		}
		c.PublicKey = spec.PublicKeyPEM
	} else {
		secret = auth.NewSecret(auth.ClientSecretPrefix)
		c.SecretHash = auth.Hash(secret)
	}
	if err := s.st.CreateClient(ctx, c); err != nil {
		return nil, "", err
	}
	method := "client_secret"
	if c.PublicKey != "" {
		method = "private_key_jwt"
	}
	s.audit.Record(ctx, store.AuditEvent{Tenant: c.Tenant, Actor: by, Event: audit.ClientCreated, Object: "client:" + c.ID,
		Detail: fmt.Sprintf("name=%s auth=%s scope=%s grants=%s refresh_token_alone=%t", c.Name, method, strings.Join(c.Scopes, " "), strings.Join(c.Grants, " "), c.RefreshTokenAlone)})
	return c, secret, nil
}

// errNoRefreshGrant refuses refresh tokens alone for a client that has no
// refresh tokens.
func errNoRefreshGrant() error {
	return scimerr.New(scimerr.InvalidValue, "refresh tokens alone need the refresh_token grant")
}

// SetRefreshTokenAlone turns a client's "refresh tokens alone" setting on
// or off. On, the token endpoint exchanges a refresh token of the client
// presented with no client authentication at all — seed 000's connectors,
// which are given a refresh token and never the secret — so every refresh
// token the client holds, whichever grant issued it, becomes a credential
// by itself. Off (the default), the client must authenticate to refresh,
// as RFC 6749 §6 has confidential clients do; tokens already issued stay
// valid for that. It reports whether the setting changed.
func (s *Service) SetRefreshTokenAlone(ctx context.Context, id string, on bool, by string) (bool, error) {
	c, err := s.st.Client(ctx, id)
	if err != nil {
		return false, err
	}
	if on && !slices.Contains(c.Grants, GrantRefresh) {
		return false, errNoRefreshGrant()
	}
	if c.RefreshTokenAlone == on {
		return false, nil
	}
	if err := s.st.SetClientRefreshTokenAlone(ctx, id, on); err != nil {
		return false, err
	}
	detail := "refresh_token_alone=false: refreshing needs the client's authentication"
	if on {
		detail = "refresh_token_alone=true: the client's refresh tokens are exchanged without its authentication"
	}
	s.audit.Record(ctx, store.AuditEvent{Tenant: c.Tenant, Actor: by, Event: audit.ClientChanged, Object: "client:" + id, Detail: detail})
	return true, nil
}

// RotateSecret gives a client a new secret (or, with publicKeyPEM, a new
// key); the old one stops working at once. With revokeTokens, every token
// the client holds is revoked too. It returns the new secret.
func (s *Service) RotateSecret(ctx context.Context, id, publicKeyPEM string, revokeTokens bool, by string) (string, error) {
	c, err := s.st.Client(ctx, id)
	if err != nil {
		return "", err
	}
	var (
		secret string
		hash   []byte
	)
	if publicKeyPEM != "" {
		if _, err := ParsePublicKey(publicKeyPEM); err != nil {
			return "", err
		}
	} else {
		if c.PublicKey != "" {
			return "", errors.New("this client authenticates with a key: give the new public key (--public-key)")
		}
		secret = auth.NewSecret(auth.ClientSecretPrefix)
		hash = auth.Hash(secret)
	}
	if err := s.st.SetClientCredential(ctx, id, hash, publicKeyPEM, s.now().UTC(), revokeTokens); err != nil {
		return "", err
	}
	detail := "new secret"
	if publicKeyPEM != "" {
		detail = "new public key"
	}
	if revokeTokens {
		detail += ", tokens revoked"
	}
	s.audit.Record(ctx, store.AuditEvent{Tenant: c.Tenant, Actor: by, Event: audit.ClientRotated, Object: "client:" + id, Detail: detail})
	return secret, nil
}

// DeleteClient removes a client and revokes its tokens.
func (s *Service) DeleteClient(ctx context.Context, id, by string) error {
	c, err := s.st.Client(ctx, id)
	if err != nil {
		return err
	}
	if err := s.st.DeleteClient(ctx, id, s.now().UTC()); err != nil {
		return err
	}
	s.audit.Record(ctx, store.AuditEvent{Tenant: c.Tenant, Actor: by, Event: audit.ClientDeleted, Object: "client:" + id, Detail: "name=" + c.Name + ", tokens revoked"})
	return nil
}

// IssueRefreshToken mints a refresh token for client id on an
// administrator's request — seed 000's "Generate Refresh Token" — so that a
// connector can be set up with a refresh token rather than a way to get
// one. The token has the client's scopes and refresh-token lifetime and
// starts a chain of its own; at the token endpoint it is exchanged (with
// the client's authentication, or alone when the client allows refresh
// tokens alone, as every refresh token of the client is) and rotates like
// any other, and the client's deletion or a secret rotation that revokes
// its tokens revokes it. It comes with no access token. It returns the
// token, which is shown once and stored only as a hash, and its row.
func (s *Service) IssueRefreshToken(ctx context.Context, id, by string) (string, *store.OAuthToken, error) {
	c, err := s.st.Client(ctx, id)
	if err != nil {
		return "", nil, err
	}
	if !slices.Contains(c.Grants, GrantRefresh) {
		return "", nil, scimerr.New(scimerr.InvalidValue, "client %s may not use the refresh_token grant: add it to the client's grants first", c.Name)
	}
	family := uuid.NewString()
	secret, t := newRefreshToken(c, "", family, c.Scopes, s.now().UTC())
	if err := s.st.IssueTokens(ctx, t); err != nil {
		return "", nil, err
	}
	s.audit.Record(ctx, store.AuditEvent{Tenant: c.Tenant, Actor: by, Event: audit.TokenIssued, Object: "family:" + family,
		Detail: fmt.Sprintf("refresh token for client:%s (%s) issued by an administrator, scope=%s expires=%s", c.ID, c.Name, strings.Join(t.Scopes, " "), t.Expires.Format(time.RFC3339))})
	return secret, t, nil
}

// CreateAccount creates a service account for the password grant.
func (s *Service) CreateAccount(ctx context.Context, tenant, name, password string, scopes []string, by string) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("a service account needs a name")
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	if len(scopes) == 0 {
		scopes = []string{auth.ScopeRead, auth.ScopeWrite}
	}
	now := s.now().UTC()
	if err := s.st.CreateServiceAccount(ctx, &store.ServiceAccount{Tenant: tenant, Name: name, PasswordHash: hash, Scopes: scopes, Created: now, PasswordChanged: now}); err != nil {
		return err
	}
	s.audit.Record(ctx, store.AuditEvent{Tenant: tenant, Actor: by, Event: audit.AccountCreated, Object: "account:" + name, Detail: "scope=" + strings.Join(scopes, " ")})
	return nil
}

// SetPassword replaces a service account's password and revokes its tokens.
func (s *Service) SetPassword(ctx context.Context, tenant, name, password, by string) error {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	if err := s.st.SetServicePassword(ctx, tenant, name, hash, s.now().UTC()); err != nil {
		return err
	}
	s.audit.Record(ctx, store.AuditEvent{Tenant: tenant, Actor: by, Event: audit.AccountChanged, Object: "account:" + name, Detail: "new password, tokens revoked"})
	return nil
}

// DeleteAccount removes a service account and revokes its tokens.
func (s *Service) DeleteAccount(ctx context.Context, tenant, name, by string) error {
	if err := s.st.DeleteServiceAccount(ctx, tenant, name, s.now().UTC()); err != nil {
		return err
	}
	s.audit.Record(ctx, store.AuditEvent{Tenant: tenant, Actor: by, Event: audit.AccountDeleted, Object: "account:" + name, Detail: "tokens revoked"})
	return nil
}

// Sweep deletes tokens and assertion ids that expired more than a day ago.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	return s.st.PurgeOAuth(ctx, s.now().Add(-24*time.Hour))
}

// clientSecretOK compares a presented secret with the stored hash in
// constant time.
func clientSecretOK(c *store.OAuthClient, secret string) bool {
	if c == nil || c.SecretHash == nil || secret == "" {
		return false
	}
	return subtle.ConstantTimeCompare(c.SecretHash, auth.Hash(secret)) == 1
}

// isNotFound reports a NotFound store error.
func isNotFound(err error) bool { return scimerr.KindOf(err) == scimerr.NotFound }
