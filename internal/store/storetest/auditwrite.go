package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// testAuditWithWrite: a SCIM write's audit event handed over in its
// context (store.PendingAudit) is stored with the write, once, and only if
// the write is; grouped concurrent writes each store their own.
func testAuditWithWrite(t *testing.T, s store.Store, env *env) {
	ctx := context.Background()
	pending := func(op, id string) *store.PendingAudit {
		return &store.PendingAudit{Event: store.AuditEvent{Time: t0, Tenant: "default", Actor: "token:t", Event: "scim." + op, Outcome: "success", Type: "User", Object: id}}
	}
	events := func(id string) int {
		t.Helper()
		evs, err := s.ListAudit(ctx, store.AuditQuery{Object: id})
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	u := newRes("default", "User", schema.Doc{"userName": "audited"})
	dup := newRes("default", "User", schema.Doc{"userName": "audited"})
	noop := func(ctx context.Context, cur *store.Resource, tx store.Tx) (bool, error) { return false, nil }
	refuse := func(ctx context.Context, cur *store.Resource, tx store.Tx) (bool, error) {
		return false, scimerr.New(scimerr.PreconditionFailed, "no")
	}
	tests := []struct {
		name   string
		op, id string
		write  func(ctx context.Context) error
		ok     bool
		events int // the object's events after the write
	}{
		{"create", "create", u.ID, func(ctx context.Context) error { return s.Create(ctx, env.user, u, nil) }, true, 1},
		{"create refused (uniqueness)", "create", dup.ID, func(ctx context.Context) error { return s.Create(ctx, env.user, dup, nil) }, false, 0},
		{"update that changes nothing", "patch", u.ID, func(ctx context.Context) error {
			_, err := s.Update(ctx, env.user, "default", u.ID, t0, noop)
			return err
		}, true, 2},
		{"update refused", "patch", u.ID, func(ctx context.Context) error {
			_, err := s.Update(ctx, env.user, "default", u.ID, t0, refuse)
			return err
		}, false, 2},
		{"delete", "delete", u.ID, func(ctx context.Context) error { return s.Delete(ctx, env.user, "default", u.ID, nil) }, true, 3},
		{"delete of nothing", "delete", u.ID, func(ctx context.Context) error { return s.Delete(ctx, env.user, "default", u.ID, nil) }, false, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pa := pending(tc.op, tc.id)
			err := tc.write(store.WithPendingAudit(ctx, pa))
			if (err == nil) != tc.ok {
				t.Fatalf("write: %v, want success %v", err, tc.ok)
			}
			if pa.Recorded != tc.ok {
				t.Errorf("Recorded = %v after a write that returned %v", pa.Recorded, err)
			}
			if n := events(tc.id); n != tc.events {
				t.Errorf("%d events of %s, want %d", n, tc.id, tc.events)
			}
		})
	}

	t.Run("another event appended meanwhile is not the write's", func(t *testing.T) {
		pa := pending("create", "not-written")
		c := store.WithPendingAudit(ctx, pa)
		if err := s.AppendAudit(c, &store.AuditEvent{Time: t0, Tenant: "default", Actor: "cli", Event: "token.issued", Outcome: "success", Object: "other"}); err != nil {
			t.Fatal(err)
		}
		if pa.Recorded || events("not-written") != 0 || events("other") != 1 {
			t.Fatalf("recorded %v, %d, %d", pa.Recorded, events("not-written"), events("other"))
		}
	})

	t.Run("concurrent writes", func(t *testing.T) {
		const n = 16
		var wg sync.WaitGroup
		pas := make([]*store.PendingAudit, n)
		ids := make([]string, n)
		for i := range n {
			r := newRes("default", "User", schema.Doc{"userName": fmt.Sprintf("grouped%02d", i)})
			ids[i], pas[i] = r.ID, pending("create", r.ID)
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := s.Create(store.WithPendingAudit(ctx, pas[i]), env.user, r, nil); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		for i := range n {
			if !pas[i].Recorded || events(ids[i]) != 1 {
				t.Errorf("write %d: recorded %v, %d events", i, pas[i].Recorded, events(ids[i]))
			}
		}
	})
}
