package metrics

import (
	"context"
	"time"

	"github.com/pamscim/pamscim/internal/audit"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// InstrumentStore returns st with its resource calls timed and its
// membership changes counted: the one place the SCIM API's store latency is
// measured. Every other method passes through unchanged.
func (m *Metrics) InstrumentStore(st store.Store) store.Store {
	if m == nil {
		return st
	}
	return &timedStore{Store: st, m: m}
}

type timedStore struct {
	store.Store
	m *Metrics
}

func (t *timedStore) done(op string, start time.Time, err error) {
	t.m.storeCall(op, time.Since(start), err != nil && scimerr.KindOf(err) == scimerr.Internal)
}

func (t *timedStore) Create(ctx context.Context, rt *schema.ResourceType, r *store.Resource, members []string) error {
	start := time.Now()
	err := t.Store.Create(ctx, rt, r, members)
	t.done("create", start, err)
	if err == nil {
		t.m.Members(len(members), 0)
	}
	return err
}

func (t *timedStore) Get(ctx context.Context, rt *schema.ResourceType, tenant, id string, opt store.GetOptions) (*store.Resource, error) {
	start := time.Now()
	r, err := t.Store.Get(ctx, rt, tenant, id, opt)
	t.done("get", start, err)
	return r, err
}

func (t *timedStore) Update(ctx context.Context, rt *schema.ResourceType, tenant, id string, now time.Time, fn store.UpdateFunc) (*store.Resource, error) {
	start := time.Now()
	// fn may run more than once (a retried transaction): only the last
	// run's changes were committed, so each run starts the count afresh.
	var tx *countingTx
	r, err := t.Store.Update(ctx, rt, tenant, id, now, func(ctx context.Context, cur *store.Resource, inner store.Tx) (bool, error) {
		tx = &countingTx{Tx: inner}
		return fn(ctx, cur, tx)
	})
	t.done("update", start, err)
	if err == nil && tx != nil {
		t.m.Members(tx.added, tx.removed)
	}
	return r, err
}

func (t *timedStore) Delete(ctx context.Context, rt *schema.ResourceType, tenant, id string, check func(*store.Resource) error) error {
	start := time.Now()
	err := t.Store.Delete(ctx, rt, tenant, id, check)
	t.done("delete", start, err)
	return err
}

func (t *timedStore) List(ctx context.Context, q store.Query) (*store.Page, error) {
	start := time.Now()
	p, err := t.Store.List(ctx, q)
	t.done("list", start, err)
	return p, err
}

// countingTx counts the membership changes of one Update.
type countingTx struct {
	store.Tx
	added, removed int
}

func (c *countingTx) AddMembers(ctx context.Context, ids []string) (int, error) {
	n, err := c.Tx.AddMembers(ctx, ids)
	c.added += n
	return n, err
}

func (c *countingTx) RemoveMembers(ctx context.Context, ids []string) (int, error) {
	n, err := c.Tx.RemoveMembers(ctx, ids)
	c.removed += n
	return n, err
}

func (c *countingTx) SetMembers(ctx context.Context, ids []string) (bool, error) {
	// SetMembers reports only whether the list changed; the sizes before
	// and after give the net change.
	before, err := c.Tx.Members(ctx)
	if err != nil {
		return false, err
	}
	changed, err := c.Tx.SetMembers(ctx, ids)
	if err == nil && changed {
		old := make(map[string]bool, len(before))
		for _, m := range before {
			old[m.ID] = true
		}
		now := make(map[string]bool, len(ids))
		for _, id := range ids {
			if !now[id] {
				now[id] = true
				if !old[id] {
					c.added++
				}
			}
		}
		for id := range old {
			if !now[id] {
				c.removed++
			}
		}
	}
	return changed, err
}

// Audit returns rec with token events counted (token issuance and
// refusals come from internal/oauth and internal/auth through the audit
// trail, so counting there covers every grant and every refused bearer).
func (m *Metrics) Audit(rec audit.Recorder) audit.Recorder {
	if m == nil {
		return rec
	}
	return &countingAudit{Recorder: rec, m: m}
}

type countingAudit struct {
	audit.Recorder
	m *Metrics
}

// Pending passes a write's event through (never a token event: those are
// not written with a SCIM write).
func (c *countingAudit) Pending(e store.AuditEvent) *store.PendingAudit {
	if t, ok := c.Recorder.(audit.TxRecorder); ok {
		return t.Pending(e)
	}
	return nil
}

func (c *countingAudit) Record(ctx context.Context, e store.AuditEvent) {
	if len(e.Event) > 6 && e.Event[:6] == "token." {
		outcome := e.Outcome
		if outcome == "" {
			outcome = audit.Success
		}
		c.m.Token(e.Event, outcome)
	}
	c.Recorder.Record(ctx, e)
}
