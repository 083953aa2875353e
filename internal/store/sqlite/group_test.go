package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
	"github.com/pamscim/pamscim/internal/store/sqlstore"
)

// slowGuard holds each write for a moment inside its transaction, so
// that writes submitted meanwhile queue and commit as a group.
type slowGuard struct{}

func (slowGuard) BeforeWrite(context.Context, *store.Write) (bool, error) {
	time.Sleep(2 * time.Millisecond)
	return false, nil
}
func (slowGuard) BeforeDelete(context.Context, *store.Write) error { return nil }

func openGrouped(t *testing.T) (*sqlstore.DB, *schema.Registry) {
	t.Helper()
	reg := schema.Default()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "data"), reg, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetGuard(slowGuard{})
	return db, reg
}

func newUser(name string) *store.Resource {
	now := time.Now().UTC()
	return &store.Resource{Tenant: store.DefaultTenant, Type: "User", ID: uuid.NewString(),
		Doc: schema.Doc{"userName": name, "title": "t0"}, Version: 1, Created: now, Modified: now}
}

// TestGroupCommit: concurrent writes share transactions, and each write
// still gets its own outcome — a failing one (uniqueness, a refused
// update, a cancelled request) undoes exactly itself and nothing else.
func TestGroupCommit(t *testing.T) {
	ctx := context.Background()
	db, reg := openGrouped(t)
	rt := reg.ResourceType("User")
	taken := newUser("taken")
	if err := db.Create(ctx, rt, taken, nil); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	refused := errors.New("refused by the update function")

	type op struct {
		name    string
		run     func(i int) error
		wantErr func(error) bool
	}
	ok := func(err error) bool { return err == nil }
	grt := reg.ResourceType("Group")
	ops := []op{
		{"create", func(i int) error { return db.Create(ctx, rt, newUser(fmt.Sprintf("u%03d", i)), nil) }, ok},
		{"create with a taken userName (409)", func(int) error { return db.Create(ctx, rt, newUser("TAKEN"), nil) },
			func(err error) bool { return scimerr.KindOf(err) == scimerr.Uniqueness }},
		{"update refused after changing the document (412-like)", func(int) error {
			_, err := db.Update(ctx, rt, store.DefaultTenant, taken.ID, time.Now(), func(_ context.Context, cur *store.Resource, _ store.Tx) (bool, error) {
				cur.Doc["title"] = "must not be stored"
				return true, refused
			})
			return err
		}, func(err error) bool { return errors.Is(err, refused) }},
		{"update", func(i int) error {
			_, err := db.Update(ctx, rt, store.DefaultTenant, taken.ID, time.Now(), func(_ context.Context, cur *store.Resource, _ store.Tx) (bool, error) {
				cur.Doc["displayName"] = fmt.Sprint("d", i)
				return true, nil
			})
			return err
		}, ok},
		{"update whose request gives up while it runs", func(i int) error {
			uctx, cancel := context.WithCancel(ctx)
			_, err := db.Update(uctx, rt, store.DefaultTenant, taken.ID, time.Now(), func(_ context.Context, cur *store.Resource, _ store.Tx) (bool, error) {
				cur.Doc["title"] = "must not be stored either"
				cancel()
				return true, nil
			})
			return err
		}, func(err error) bool { return errors.Is(err, context.Canceled) }},
		{"create a group, then fail on a missing member (its row must go too)", func(i int) error {
			now := time.Now().UTC()
			g := &store.Resource{Tenant: store.DefaultTenant, Type: "Group", ID: uuid.NewString(),
				Doc: schema.Doc{"displayName": fmt.Sprint("g", i)}, Version: 1, Created: now, Modified: now}
			return db.Create(ctx, grt, g, []string{uuid.NewString()})
		}, func(err error) bool {
			var m *store.MissingMembersError
			return errors.As(err, &m)
		}},
		{"create with a cancelled context", func(i int) error { return db.Create(cancelled, rt, newUser(fmt.Sprintf("never%03d", i)), nil) },
			func(err error) bool { return errors.Is(err, context.Canceled) }},
	}
	const rounds = 40
	var wg sync.WaitGroup
	errs := make(chan string, rounds*len(ops))
	for i := 0; i < rounds; i++ {
		for _, o := range ops {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := o.run(i); !o.wantErr(err) {
					errs <- fmt.Sprintf("%s #%d: unexpected outcome %v", o.name, i, err)
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	groups, writes := db.GroupCommits()
	if groups == 0 || writes < 2*groups {
		t.Fatalf("no writes were grouped: %d groups, %d writes", groups, writes)
	}
	t.Logf("%d groups held %d writes", groups, writes)

	// What is stored is exactly what succeeded.
	res, err := db.List(ctx, store.Query{Tenant: store.DefaultTenant, Type: rt, StartIndex: 1, Count: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != rounds+1 {
		t.Errorf("%d users stored, want %d", res.Total, rounds+1)
	}
	if gs, err := db.List(ctx, store.Query{Tenant: store.DefaultTenant, Type: grt, StartIndex: 1, Count: 10}); err != nil || gs.Total != 0 {
		t.Errorf("groups whose create failed were stored: %v, %v", gs, err)
	}
	got, err := db.Get(ctx, rt, store.DefaultTenant, taken.ID, store.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Doc["title"] != "t0" {
		t.Errorf("a refused update left title %v", got.Doc["title"])
	}
	if got.Version != 1+rounds {
		t.Errorf("version %d after %d updates, want %d", got.Version, rounds, 1+rounds)
	}
}

// TestConnectionSettings: the settings the store's speed and durability
// rest on are in force on both pools.
func TestConnectionSettings(t *testing.T) {
	db, _ := openGrouped(t)
	w, r := db.Handles()
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "1"}, // NORMAL
		{"wal_autocheckpoint", "10000"},
		{"foreign_keys", "1"},
	}
	for _, tc := range tests {
		for name, h := range map[string]interface {
			QueryRowContext(context.Context, string, ...any) *sql.Row
		}{"writer": w, "reader": r} {
			var got string
			if err := h.QueryRowContext(context.Background(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("%s: PRAGMA %s = %s, want %s", name, tc.pragma, got, tc.want)
			}
		}
	}
}
