// Package audit records the audit trail: every token issued, refused,
// refreshed and revoked, every client and account change, and every SCIM
// write — who (tenant and token or client), what (event, resource type and
// id), when and from where. Events go to the store, so every instance and
// the `pamscim audit` command see one trail.
//
// Nothing recorded may be a secret. Callers pass names and ids only, and
// Record also scrubs any field that carries one of pamscim's secret prefixes,
// so a mistake upstream (a secret pasted as a client_id, say) does not land
// in the trail.
package audit

import (
	"context"
	"log/slog"
	"regexp"
	"time"

	"github.com/pamscim/pamscim/internal/store"
)

// Event names.
const (
	TokenIssued    = "token.issued"    // a token endpoint grant succeeded, or a named token was created
	TokenRefused   = "token.refused"   // a grant or a bearer token was refused
	TokenRefreshed = "token.refreshed" // a refresh token was exchanged
	TokenReused    = "token.reused"    // a used refresh token came back: its chain was revoked
	TokenRevoked   = "token.revoked"   // revocation endpoint, CLI revoke
	ClientCreated  = "client.created"
	ClientRotated  = "client.rotated" // new secret or key
	ClientDeleted  = "client.deleted"
	ClientChanged  = "client.changed" // a setting: refresh tokens alone on or off
	AccountCreated = "account.created"
	AccountChanged = "account.password"
	AccountDeleted = "account.deleted"
	ScimCreate     = "scim.create"
	ScimReplace    = "scim.replace"
	ScimPatch      = "scim.patch"
	ScimDelete     = "scim.delete"
)

// Outcomes.
const (
	Success = "success"
	Failure = "failure"
)

// Recorder is where events go.
type Recorder interface {
	Record(ctx context.Context, e store.AuditEvent)
}

// Log records events into a store.
type Log struct {
	st  store.AuditStore
	now func() time.Time
	log *slog.Logger
}

// New returns a Log over st. log receives store failures (never the event's
// secret-free fields beyond its name); nil discards them.
func New(st store.AuditStore, log *slog.Logger) *Log {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Log{st: st, now: time.Now, log: log}
}

// SetClock replaces the clock (tests).
func (l *Log) SetClock(now func() time.Time) { l.now = now }

// secretish matches pamscim's secret prefixes and what follows them.
var secretish = regexp.MustCompile(`pamscim_(pat|at|rt|cs)_[A-Za-z0-9_\-]*`)

// Scrub replaces anything that looks like a pamscim secret.
func Scrub(s string) string {
	if len(s) > 512 {
		s = s[:512]
	}
	return secretish.ReplaceAllString(s, "[redacted]")
}

// Record appends e. An audit failure does not fail the operation that was
// audited (it has happened); it is logged as an error for operators.
func (l *Log) Record(ctx context.Context, e store.AuditEvent) {
	l.prepare(&e)
	if err := l.st.AppendAudit(context.WithoutCancel(ctx), &e); err != nil {
		l.log.ErrorContext(ctx, "audit: could not record an event", "event", e.Event, "err", err)
	}
}

func (l *Log) prepare(e *store.AuditEvent) {
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	if e.Outcome == "" {
		e.Outcome = Success
	}
	for _, f := range []*string{&e.Tenant, &e.Actor, &e.Event, &e.Type, &e.Object, &e.Source, &e.Detail} {
		*f = Scrub(*f)
	}
}

// Pending returns e, as Record would store it, for the store to write in
// the transaction of the write it describes (store.PendingAudit). Only for
// writes to the store this Log records into.
func (l *Log) Pending(e store.AuditEvent) *store.PendingAudit {
	l.prepare(&e)
	return &store.PendingAudit{Event: e}
}

// TxRecorder is a Recorder whose events of a write can be stored with the
// write itself. Pending returns nil when this one cannot.
type TxRecorder interface {
	Recorder
	Pending(e store.AuditEvent) *store.PendingAudit
}

// Nop records nothing.
type Nop struct{}

// Record does nothing.
func (Nop) Record(context.Context, store.AuditEvent) {}
