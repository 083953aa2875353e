package console

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/pamscim/pamscim/internal/audit"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/store"
)

// Audit events of administrator accounts.
const (
	EventAdminCreated  = "admin.created"
	EventAdminPassword = "admin.password"
	EventAdminDeleted  = "admin.deleted"
)

var adminName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$`)

// Accounts administers console administrators (the `pamscim admin`
// commands).
type Accounts struct {
	St    store.Store
	Audit audit.Recorder
	Now   func() time.Time
}

// NewAccounts returns Accounts over st, auditing into st.
func NewAccounts(st store.Store) *Accounts {
	return &Accounts{St: st, Audit: audit.New(st, nil), Now: time.Now}
}

// Create creates an administrator of tenant, or of every tenant when tenant
// is "". The password is hashed with argon2id.
func (a *Accounts) Create(ctx context.Context, name, tenant, password, by string) error {
	if !adminName.MatchString(name) {
		return errors.New("an administrator name is 1 to 100 letters, digits, dots, dashes, underscores or @, starting with a letter or digit")
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	now := a.Now().UTC()
	if err := a.St.CreateAdmin(ctx, &store.Admin{Name: name, Tenant: tenant, PasswordHash: hash, Created: now, PasswordChanged: now}); err != nil {
		return err
	}
	scope := "tenant=" + tenant
	if tenant == "" {
		scope = "all tenants"
	}
	a.Audit.Record(ctx, store.AuditEvent{Tenant: tenant, Actor: by, Event: EventAdminCreated, Object: "admin:" + name, Detail: scope})
	return nil
}

// SetPassword replaces an administrator's password and ends their sessions.
func (a *Accounts) SetPassword(ctx context.Context, name, password, by string) error {
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	ad, err := a.St.Admin(ctx, name)
	if err != nil {
		return err
	}
	if err := a.St.SetAdminPassword(ctx, name, hash, a.Now().UTC()); err != nil {
		return err
	}
	a.Audit.Record(ctx, store.AuditEvent{Tenant: ad.Tenant, Actor: by, Event: EventAdminPassword, Object: "admin:" + name, Detail: "sessions ended"})
	return nil
}

// Delete removes an administrator and ends their sessions.
func (a *Accounts) Delete(ctx context.Context, name, by string) error {
	ad, err := a.St.Admin(ctx, name)
	if err != nil {
		return err
	}
	if err := a.St.DeleteAdmin(ctx, name); err != nil {
		return err
	}
	a.Audit.Record(ctx, store.AuditEvent{Tenant: ad.Tenant, Actor: by, Event: EventAdminDeleted, Object: "admin:" + name, Detail: "sessions ended"})
	return nil
}
