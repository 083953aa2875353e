package store

import "context"

// PendingAudit is the audit event of a SCIM write, handed to the store
// with the write's context (WithPendingAudit). A store that can writes it
// in the write's own transaction and sets Recorded: the event is then
// committed if and only if the write is, by the same COMMIT — before, each
// write waited for a second COMMIT, its audit row's. A caller that finds
// Recorded unset after a successful write records the event itself.
type PendingAudit struct {
	Event    AuditEvent
	Recorded bool
}

type pendingAuditKey struct{}

// WithPendingAudit returns ctx carrying p (nil: none).
func WithPendingAudit(ctx context.Context, p *PendingAudit) context.Context {
	return context.WithValue(ctx, pendingAuditKey{}, p)
}

// PendingAuditOf returns the event ctx carries, or nil.
func PendingAuditOf(ctx context.Context) *PendingAudit {
	p, _ := ctx.Value(pendingAuditKey{}).(*PendingAudit)
	return p
}
