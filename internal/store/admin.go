package store

import (
	"context"
	"time"
)

// Admin is an administrator of the web console. Tenant is the one tenant the
// administrator may see; empty means every tenant (created with
// --all-tenants), which also allows creating tenants. PasswordHash is an
// argon2id string (internal/auth).
type Admin struct {
	Name            string
	Tenant          string
	PasswordHash    string
	Created         time.Time
	PasswordChanged time.Time
	LastSignIn      *time.Time
}

// AllTenants reports whether the administrator may switch between tenants.
func (a *Admin) AllTenants() bool { return a.Tenant == "" }

// AdminSession is a signed-in console session. Only the SHA-256 of the
// session id (the cookie value) is kept, so a copy of the database does not
// hold usable sessions.
type AdminSession struct {
	Hash     []byte
	Admin    string
	Created  time.Time
	LastSeen time.Time
	// Expires is the absolute end of the session, whatever its activity.
	Expires time.Time
	Source  string // address the session was signed in from
	// HasFlash says whether a flash waits (read with TakeAdminFlash).
	HasFlash bool
}

// AdminStore keeps console administrators and their sessions.
type AdminStore interface {
	// CreateAdmin stores a new administrator; a taken name is a Uniqueness
	// error, an unknown tenant NotFound.
	CreateAdmin(ctx context.Context, a *Admin) error
	// Admin returns an administrator by name, or NotFound.
	Admin(ctx context.Context, name string) (*Admin, error)
	// ListAdmins lists administrators by name.
	ListAdmins(ctx context.Context) ([]*Admin, error)
	// SetAdminPassword replaces the password hash and ends every session of
	// the administrator; NotFound if there is none by that name.
	SetAdminPassword(ctx context.Context, name, hash string, at time.Time) error
	// DeleteAdmin removes an administrator and every session of theirs;
	// NotFound if there is none by that name.
	DeleteAdmin(ctx context.Context, name string) error
	// AdminSignedIn records a successful sign-in.
	AdminSignedIn(ctx context.Context, name string, at time.Time) error

	// CreateAdminSession stores a new session.
	CreateAdminSession(ctx context.Context, s *AdminSession) error
	// AdminSession returns a session by hash, or NotFound.
	AdminSession(ctx context.Context, hash []byte) (*AdminSession, error)
	// TouchAdminSession records activity on a session (idle expiry).
	TouchAdminSession(ctx context.Context, hash []byte, at time.Time) error
	// DeleteAdminSession ends a session; a missing one is not an error.
	DeleteAdminSession(ctx context.Context, hash []byte) error
	// SetAdminFlash stores an opaque value (the console seals it with a key
	// only the session's cookie yields) for the session's next page view.
	SetAdminFlash(ctx context.Context, hash []byte, flash []byte) error
	// TakeAdminFlash returns the session's flash and clears it in one
	// transaction: it is read at most once. nil when there is none.
	TakeAdminFlash(ctx context.Context, hash []byte) ([]byte, error)
	// PurgeAdminSessions deletes sessions whose absolute expiry is before
	// expiredBefore or whose last activity is before idleBefore.
	PurgeAdminSessions(ctx context.Context, expiredBefore, idleBefore time.Time) (int, error)

	// SetClientLifetimes changes the access and refresh token lifetimes of
	// an OAuth client (tokens already issued keep theirs); NotFound if there
	// is no such client.
	SetClientLifetimes(ctx context.Context, id string, access, refresh time.Duration) error
}
