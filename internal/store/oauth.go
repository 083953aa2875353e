package store

import (
	"context"
	"time"
)

// OAuthClient is an OAuth 2.0 client. It authenticates either with a secret
// (only its hash is kept) or, when PublicKey is set, with a JWT signed by the
// matching private key (RFC 7523 private_key_jwt).
type OAuthClient struct {
	ID         string
	Tenant     string
	Name       string
	SecretHash []byte // nil for key-authenticated clients
	PublicKey  string // PEM public key; empty for secret-authenticated clients
	Scopes     []string
	// Grants lists the grant types the client may use. A client allowed
	// refresh_token also gets a refresh token from client_credentials.
	Grants        []string
	AccessTTL     time.Duration
	RefreshTTL    time.Duration
	Created       time.Time
	SecretChanged time.Time
	LastUsed      *time.Time
	CreatedBy     string

	// RefreshTokenAlone lets the client's refresh tokens be exchanged at
	// the token endpoint without the client's authentication: a connector
	// set up with a refresh token and no secret (seed 000). Off by default,
	// since it makes each of the client's refresh tokens a credential on
	// its own.
	RefreshTokenAlone bool
}

// ServiceAccount is a username and password for the OAuth password grant
// (seed 000's legacy PAM connectors). PasswordHash is an argon2id string.
type ServiceAccount struct {
	Tenant          string
	Name            string
	PasswordHash    string
	Scopes          []string
	Created         time.Time
	PasswordChanged time.Time
}

// Token kinds of OAuthToken.
const (
	KindAccess  = "access"
	KindRefresh = "refresh"
)

// OAuthToken is an issued OAuth access or refresh token; only the SHA-256 of
// the token is kept. Tokens issued from one grant, and every token later
// refreshed from it, share a Family, so that reuse of a rotated refresh token
// can revoke the whole chain.
type OAuthToken struct {
	Hash     []byte
	Kind     string
	Tenant   string
	ClientID string
	Subject  string // the service account of a password grant, else ""
	Family   string
	Scopes   []string
	Created  time.Time
	Expires  time.Time
	Used     *time.Time // refresh tokens: when it was exchanged for the next
	Revoked  *time.Time

	// ClientName and ClientRefreshTokenAlone are read with the token (the
	// client's current name and setting), so that the token endpoint can
	// answer a request without client authentication after one read.
	ClientName              string
	ClientRefreshTokenAlone bool
}

// ClientStore keeps OAuth clients and service accounts.
type ClientStore interface {
	// CreateClient stores a new client; a taken name in the tenant is a
	// Uniqueness error, an unknown tenant NotFound.
	CreateClient(ctx context.Context, c *OAuthClient) error
	// Client returns a client by id, or NotFound.
	Client(ctx context.Context, id string) (*OAuthClient, error)
	// ListClients lists a tenant's clients, or every tenant's when tenant is "".
	ListClients(ctx context.Context, tenant string) ([]*OAuthClient, error)
	// SetClientCredential replaces a client's secret hash and public key.
	// When revokeTokens is set, every live token of the client is revoked in
	// the same transaction.
	SetClientCredential(ctx context.Context, id string, secretHash []byte, publicKey string, at time.Time, revokeTokens bool) error
	// SetClientRefreshTokenAlone turns the client's RefreshTokenAlone
	// setting on or off; NotFound if there is no such client.
	SetClientRefreshTokenAlone(ctx context.Context, id string, on bool) error
	// DeleteClient removes a client and revokes every token it holds, in one
	// transaction.
	DeleteClient(ctx context.Context, id string, at time.Time) error

	CreateServiceAccount(ctx context.Context, a *ServiceAccount) error
	// ServiceAccount returns an account, or NotFound.
	ServiceAccount(ctx context.Context, tenant, name string) (*ServiceAccount, error)
	ListServiceAccounts(ctx context.Context, tenant string) ([]*ServiceAccount, error)
	// SetServicePassword replaces the password hash and revokes the tokens
	// issued to the account.
	SetServicePassword(ctx context.Context, tenant, name, hash string, at time.Time) error
	// DeleteServiceAccount removes the account and revokes its tokens.
	DeleteServiceAccount(ctx context.Context, tenant, name string, at time.Time) error
}

// OAuthTokenStore keeps issued OAuth tokens.
type OAuthTokenStore interface {
	// IssueTokens stores new tokens (one grant's access and refresh token) in
	// one transaction and, when they include an access token, records the
	// use of their client (a refresh token an administrator minted alone is
	// not a use).
	IssueTokens(ctx context.Context, ts ...*OAuthToken) error
	// OAuthToken returns a token by hash with its client's name, or NotFound
	// (also when its client no longer exists).
	OAuthToken(ctx context.Context, hash []byte) (*OAuthToken, error)
	// RotateRefreshToken marks the refresh token used and stores next, in one
	// transaction. If the token was already used or revoked, nothing is
	// stored and the error is Conflict: the caller treats it as reuse.
	RotateRefreshToken(ctx context.Context, hash []byte, at time.Time, next ...*OAuthToken) error
	// RevokeTokenFamily revokes every live token of a family and returns how
	// many it revoked.
	RevokeTokenFamily(ctx context.Context, family string, at time.Time) (int, error)
	// RevokeClientTokens revokes every live token of a client.
	RevokeClientTokens(ctx context.Context, clientID string, at time.Time) (int, error)
	// UseAssertionID records a client assertion's jti until it expires; a
	// jti already recorded for the client is a Uniqueness error (replay).
	UseAssertionID(ctx context.Context, clientID, jti string, expires, now time.Time) error
	// PurgeOAuth deletes tokens and assertion ids that expired before t.
	PurgeOAuth(ctx context.Context, before time.Time) (int, error)
}

// AuditEvent is one entry of the audit trail. It never holds a secret.
type AuditEvent struct {
	ID      int64
	Time    time.Time
	Tenant  string
	Actor   string // "token:NAME", "client:ID", "client:ID/account:NAME", "cli"
	Event   string // e.g. token.issued, scim.create
	Outcome string // "success" or "failure"
	Type    string // resource type of a SCIM write
	Object  string // resource id, client id, token name
	Source  string // the remote address
	Detail  string
}

// AuditQuery selects audit events; zero fields do not filter.
type AuditQuery struct {
	Tenant  string
	Actor   string
	Event   string // an event name, or a prefix ending in "." ("token.")
	Outcome string
	Type    string
	Object  string
	Since   time.Time
	Until   time.Time
	Limit   int // newest Limit events, returned oldest first; 0 means 100
}

// AuditStore keeps the audit trail.
type AuditStore interface {
	AppendAudit(ctx context.Context, e *AuditEvent) error
	ListAudit(ctx context.Context, q AuditQuery) ([]*AuditEvent, error)
}
