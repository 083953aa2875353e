package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// testMemberLabels: labels given on Create and by LabelMembers are shown as
// the member's display, a label change bumps the version, the same label
// does not, and a removed member's label goes with it.
func testMemberLabels(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	u1 := mustCreate(t, s, e.user, user("default", "l1"))
	u2 := mustCreate(t, s, e.user, user("default", "l2"))
	g := group("default", "Labelled")
	g.Members = []store.Member{{ID: u1.ID, Display: "first"}}
	mustCreate(t, s, e.group, g, u1.ID, u2.ID)
	display := func() map[string]string {
		t.Helper()
		got, err := s.Get(ctx, e.group, "default", g.ID, store.GetOptions{Members: true})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, m := range got.Members {
			out[m.ID] = m.Display
		}
		return out
	}
	if d := display(); d[u1.ID] != "first" || d[u2.ID] != "User l2" {
		t.Fatalf("display after create: %v", d)
	}
	label := func(labels map[string]string) int64 {
		t.Helper()
		r, err := s.Update(ctx, e.group, "default", g.ID, time.Now(), func(ctx context.Context, _ *store.Resource, tx store.Tx) (bool, error) {
			return false, tx.LabelMembers(ctx, labels)
		})
		if err != nil {
			t.Fatal(err)
		}
		return r.Version
	}
	v1 := label(map[string]string{u1.ID: "first", "not-a-member": "x"})
	if v1 != 1 {
		t.Fatalf("the same label changed the version to %d", v1)
	}
	if v := label(map[string]string{u1.ID: "renamed", u2.ID: "second"}); v != 2 {
		t.Fatalf("new labels: version %d, want 2", v)
	}
	if v := label(map[string]string{u1.ID: ""}); v != 3 {
		t.Fatalf("cleared label: version %d, want 3", v)
	}
	if d := display(); d[u1.ID] != "User l1" || d[u2.ID] != "second" {
		t.Fatalf("display after labels: %v", d)
	}
	_, err := s.Update(ctx, e.group, "default", g.ID, time.Now(), func(ctx context.Context, _ *store.Resource, tx store.Tx) (bool, error) {
		_, err := tx.RemoveMembers(ctx, []string{u2.ID})
		if err == nil {
			_, err = tx.AddMembers(ctx, []string{u2.ID})
		}
		return false, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := display(); d[u2.ID] != "User l2" {
		t.Fatalf("label outlived the membership: %v", d)
	}
}

// testMissingMembers: every missing id is named, as an InvalidValue, and
// nothing is changed.
func testMissingMembers(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	u := mustCreate(t, s, e.user, user("default", "mm"))
	other := mustCreate(t, s, e.user, user("other", "elsewhere"))
	check := func(err error, want ...string) {
		t.Helper()
		var mm *store.MissingMembersError
		if !errors.As(err, &mm) || !eq(mm.IDs, want) {
			t.Fatalf("error %v, want missing %v", err, want)
		}
		wantKind(t, err, scimerr.InvalidValue)
	}
	err := s.Create(ctx, e.group, group("default", "G"), []string{u.ID, "gone-1", other.ID})
	check(err, "gone-1", other.ID)
	page, _ := s.List(ctx, store.Query{Tenant: "default", Type: e.group, Count: 10})
	if page.Total != 0 {
		t.Fatalf("a refused create left %d groups", page.Total)
	}
	g := mustCreate(t, s, e.group, group("default", "G"), u.ID)
	for _, op := range []func(ctx context.Context, tx store.Tx) error{
		func(ctx context.Context, tx store.Tx) error {
			_, err := tx.AddMembers(ctx, []string{"gone-2", u.ID})
			return err
		},
		func(ctx context.Context, tx store.Tx) error {
			_, err := tx.SetMembers(ctx, []string{"gone-2"})
			return err
		},
	} {
		_, err := s.Update(ctx, e.group, "default", g.ID, time.Now(), func(ctx context.Context, _ *store.Resource, tx store.Tx) (bool, error) {
			return false, op(ctx, tx)
		})
		check(err, "gone-2")
	}
	got, _ := s.Get(ctx, e.group, "default", g.ID, store.GetOptions{Members: true})
	if got.Version != 1 || len(got.Members) != 1 || got.Members[0].ID != u.ID {
		t.Fatalf("refused member changes changed the group: v%d %+v", got.Version, got.Members)
	}
}
