// Package storetest is the conformance suite every store.Store backend
// passes. A backend's test calls Run with a function that returns a fresh,
// empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// Run runs every conformance test against stores made by open.
func Run(t *testing.T, open func(t *testing.T, reg *schema.Registry) store.Store) {
	reg := schema.Default()
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store, env *env)
	}{
		{"CreateGet", testCreateGet},
		{"Uniqueness", testUniqueness},
		{"UpdateVersioning", testUpdateVersioning},
		{"UpdateRollback", testUpdateRollback},
		{"Members", testMembers},
		{"MemberLabels", testMemberLabels},
		{"MissingMembers", testMissingMembers},
		{"NestedGroups", testNestedGroups},
		{"DeleteCascades", testDeleteCascades},
		{"ListPaging", testListPaging},
		{"Keyset", testKeyset},
		{"TenantIsolation", testTenantIsolation},
		{"Tokens", testTokens},
		{"Secrets", testSecrets},
		{"ConcurrentMembers", testConcurrentMembers},
		{"ConcurrentCreate", testConcurrentCreate},
		{"ConcurrentUpdate", testConcurrentUpdate},
		{"OAuthClients", testClients},
		{"ServiceAccounts", testServiceAccounts},
		{"RefreshRotation", testRefreshRotation},
		{"Audit", testAudit},
		{"AuditWithWrite", testAuditWithWrite},
		{"Admins", testAdmins},
		{"AdminSessions", testAdminSessions},
		{"ProvisioningLog", testProvLog},
		{"PAM", testPAM},
		{"PAMConcurrentPermission", testPAMConcurrentPermission},
		{"PAMRotate", testPAMRotate},
		{"PAMConcurrentRefs", testPAMConcurrentRefs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t, reg)
			tc.fn(t, s, &env{reg: reg, user: reg.ResourceType("User"), group: reg.ResourceType("Group")})
		})
	}
}

type env struct {
	reg   *schema.Registry
	user  *schema.ResourceType
	group *schema.ResourceType
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newRes(tenant, typ string, doc schema.Doc) *store.Resource {
	return &store.Resource{Tenant: tenant, Type: typ, ID: uuid.NewString(), Doc: doc, Version: 1, Created: t0, Modified: t0}
}

func mustCreate(t *testing.T, s store.Store, rt *schema.ResourceType, r *store.Resource, members ...string) *store.Resource {
	t.Helper()
	if err := s.Create(context.Background(), rt, r, members); err != nil {
		t.Fatalf("create %s: %v", rt.Name, err)
	}
	return r
}

func user(tenant, name string) *store.Resource {
	return newRes(tenant, "User", schema.Doc{"userName": name, "displayName": "User " + name,
		"emails": []any{map[string]any{"value": name + "@example.com", "type": "work"}}})
}

func group(tenant, name string) *store.Resource {
	return newRes(tenant, "Group", schema.Doc{"displayName": name})
}

func wantKind(t *testing.T, err error, k scimerr.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", k)
	}
	if got := scimerr.KindOf(err); got != k {
		t.Fatalf("got %v (%v), want %v", got, err, k)
	}
}

func testCreateGet(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	u := mustCreate(t, s, e.user, user("default", "Alice"))
	got, err := s.Get(ctx, e.user, "default", u.ID, store.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Doc["userName"] != "Alice" || got.Version != 1 || !got.Created.Equal(t0) || !got.Modified.Equal(t0) {
		t.Fatalf("got %+v", got)
	}
	emails := got.Doc["emails"].([]any)
	if emails[0].(map[string]any)["value"] != "Alice@example.com" {
		t.Fatalf("emails: %v", emails)
	}
	_, err = s.Get(ctx, e.user, "default", uuid.NewString(), store.GetOptions{})
	wantKind(t, err, scimerr.NotFound)
	// A resource is not found under the wrong type.
	_, err = s.Get(ctx, e.group, "default", u.ID, store.GetOptions{})
	wantKind(t, err, scimerr.NotFound)
}

func testUniqueness(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	mustCreate(t, s, e.user, user("default", "bjensen"))
	err := s.Create(ctx, e.user, user("default", "BJensen"), nil)
	wantKind(t, err, scimerr.Uniqueness)
	// Groups have no unique attribute: two with one name are fine.
	mustCreate(t, s, e.group, group("default", "Admins"))
	mustCreate(t, s, e.group, group("default", "Admins"))
	// Renaming onto a taken userName fails and leaves the user as it was.
	u := mustCreate(t, s, e.user, user("default", "other"))
	_, err = s.Update(ctx, e.user, "default", u.ID, t0.Add(time.Second), func(_ context.Context, cur *store.Resource, _ store.Tx) (bool, error) {
		cur.Doc["userName"] = "BJENSEN"
		return true, nil
	})
	wantKind(t, err, scimerr.Uniqueness)
	got, _ := s.Get(ctx, e.user, "default", u.ID, store.GetOptions{})
	if got.Doc["userName"] != "other" || got.Version != 1 {
		t.Fatalf("after failed rename: %+v", got)
	}
	// After delete the name is free again.
	if err := s.Delete(ctx, e.user, "default", u.ID, nil); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, e.user, user("default", "other"))
}

func testUpdateVersioning(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	u := mustCreate(t, s, e.user, user("default", "carol"))
	// A no-op keeps version and lastModified.
	got, err := s.Update(ctx, e.user, "default", u.ID, t0.Add(time.Hour), func(_ context.Context, cur *store.Resource, _ store.Tx) (bool, error) {
		return false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 || !got.Modified.Equal(t0) {
		t.Fatalf("no-op changed meta: %+v", got)
	}
	later := t0.Add(time.Hour)
	got, err = s.Update(ctx, e.user, "default", u.ID, later, func(_ context.Context, cur *store.Resource, _ store.Tx) (bool, error) {
		cur.Doc["title"] = "CTO"
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || !got.Modified.Equal(later) || !got.Created.Equal(t0) {
		t.Fatalf("update meta: %+v", got)
	}
	again, _ := s.Get(ctx, e.user, "default", u.ID, store.GetOptions{})
	if again.Doc["title"] != "CTO" || again.Version != 2 {
		t.Fatalf("stored: %+v", again)
	}
	_, err = s.Update(ctx, e.user, "default", uuid.NewString(), later, func(context.Context, *store.Resource, store.Tx) (bool, error) { return true, nil })
	wantKind(t, err, scimerr.NotFound)
}

func testUpdateRollback(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	u1 := mustCreate(t, s, e.user, user("default", "u1"))
	g := mustCreate(t, s, e.group, group("default", "G"))
	boom := scimerr.New(scimerr.PreconditionFailed, "version mismatch")
	_, err := s.Update(ctx, e.group, "default", g.ID, t0.Add(time.Second), func(ctx context.Context, cur *store.Resource, tx store.Tx) (bool, error) {
		cur.Doc["displayName"] = "changed"
		if _, err := tx.AddMembers(ctx, []string{u1.ID}); err != nil {
			return false, err
		}
		return true, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	got, _ := s.Get(ctx, e.group, "default", g.ID, store.GetOptions{Members: true})
	if got.Doc["displayName"] != "G" || len(got.Members) != 0 || got.Version != 1 {
		t.Fatalf("failed update left changes: %+v", got)
	}
}

func memberIDs(ms []store.Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	sort.Strings(out)
	return out
}

func sorted(ids ...string) []string {
	out := append([]string(nil), ids...)
	sort.Strings(out)
	return out
}

func eq(a, b []string) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func testMembers(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	u1 := mustCreate(t, s, e.user, user("default", "m1"))
	u2 := mustCreate(t, s, e.user, user("default", "m2"))
	u3 := mustCreate(t, s, e.user, user("default", "m3"))
	g := mustCreate(t, s, e.group, group("default", "Team"), u1.ID)
	got, _ := s.Get(ctx, e.group, "default", g.ID, store.GetOptions{Members: true})
	if !eq(memberIDs(got.Members), []string{u1.ID}) || got.Members[0].Type != "User" || got.Members[0].Display != "User m1" {
		t.Fatalf("members: %+v", got.Members)
	}
	// Without the option no members are read.
	got, _ = s.Get(ctx, e.group, "default", g.ID, store.GetOptions{})
	if got.Members != nil {
		t.Fatalf("members read without asking: %+v", got.Members)
	}
	upd := func(fn func(ctx context.Context, tx store.Tx) error) *store.Resource {
		t.Helper()
		r, err := s.Update(ctx, e.group, "default", g.ID, time.Now(), func(ctx context.Context, _ *store.Resource, tx store.Tx) (bool, error) {
			return false, fn(ctx, tx)
		})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := upd(func(ctx context.Context, tx store.Tx) error {
		n, err := tx.AddMembers(ctx, []string{u1.ID, u2.ID, u2.ID})
		if n != 1 {
			t.Errorf("added %d, want 1", n)
		}
		return err
	})
	if r.Version != 2 {
		t.Fatalf("member add did not bump version: %d", r.Version)
	}
	r = upd(func(ctx context.Context, tx store.Tx) error {
		has, err := tx.HasMembers(ctx, []string{u1.ID, u3.ID})
		if !has[u1.ID] || has[u3.ID] {
			t.Errorf("HasMembers = %v", has)
		}
		return err
	})
	if r.Version != 2 {
		t.Fatalf("read-only update bumped version: %d", r.Version)
	}
	upd(func(ctx context.Context, tx store.Tx) error {
		n, err := tx.RemoveMembers(ctx, []string{u1.ID, u3.ID})
		if n != 1 {
			t.Errorf("removed %d, want 1", n)
		}
		return err
	})
	got, _ = s.Get(ctx, e.group, "default", g.ID, store.GetOptions{Members: true})
	if !eq(memberIDs(got.Members), []string{u2.ID}) {
		t.Fatalf("after remove: %v", memberIDs(got.Members))
	}
	upd(func(ctx context.Context, tx store.Tx) error {
		ch, err := tx.SetMembers(ctx, []string{u1.ID, u3.ID})
		if !ch {
			t.Error("SetMembers reported no change")
		}
		return err
	})
	got, _ = s.Get(ctx, e.group, "default", g.ID, store.GetOptions{Members: true})
	if !eq(memberIDs(got.Members), sorted(u1.ID, u3.ID)) {
		t.Fatalf("after set: %v", memberIDs(got.Members))
	}
	// A member that does not exist is refused, and nothing is added.
	_, err := s.Update(ctx, e.group, "default", g.ID, time.Now(), func(ctx context.Context, _ *store.Resource, tx store.Tx) (bool, error) {
		_, err := tx.AddMembers(ctx, []string{u2.ID, "no-such-id"})
		return false, err
	})
	wantKind(t, err, scimerr.InvalidValue)
	got, _ = s.Get(ctx, e.group, "default", g.ID, store.GetOptions{Members: true})
	if !eq(memberIDs(got.Members), sorted(u1.ID, u3.ID)) {
		t.Fatalf("failed add changed members: %v", memberIDs(got.Members))
	}
	// A group cannot contain itself.
	_, err = s.Update(ctx, e.group, "default", g.ID, time.Now(), func(ctx context.Context, _ *store.Resource, tx store.Tx) (bool, error) {
		_, err := tx.AddMembers(ctx, []string{g.ID})
		return false, err
	})
	wantKind(t, err, scimerr.InvalidValue)
	// Create with a missing member fails whole.
	err = s.Create(ctx, e.group, group("default", "Bad"), []string{"missing"})
	wantKind(t, err, scimerr.InvalidValue)
}

func testNestedGroups(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	u := mustCreate(t, s, e.user, user("default", "nested"))
	inner := mustCreate(t, s, e.group, group("default", "Inner"), u.ID)
	outer := mustCreate(t, s, e.group, group("default", "Outer"), inner.ID)
	// A cycle must not hang the recursive lookup.
	_, err := s.Update(ctx, e.group, "default", inner.ID, time.Now(), func(ctx context.Context, _ *store.Resource, tx store.Tx) (bool, error) {
		_, err := tx.AddMembers(ctx, []string{outer.ID})
		return false, err
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, e.user, "default", u.ID, store.GetOptions{Groups: true})
	if err != nil {
		t.Fatal(err)
	}
	direct := map[string]bool{}
	for _, g := range got.Groups {
		direct[g.ID] = g.Direct
	}
	if len(got.Groups) != 2 || !direct[inner.ID] || direct[outer.ID] {
		t.Fatalf("groups: %+v", got.Groups)
	}
	for _, g := range got.Groups {
		if g.ID == outer.ID && g.Display != "Outer" {
			t.Fatalf("display: %+v", g)
		}
	}
	members, _ := s.Get(ctx, e.group, "default", outer.ID, store.GetOptions{Members: true})
	if len(members.Members) != 1 || members.Members[0].Type != "Group" {
		t.Fatalf("outer members: %+v", members.Members)
	}

	// A user in no group next to it: Get and every way of listing a page
	// (first page, by offset, by key) read each one's groups right.
	loner := mustCreate(t, s, e.user, user("default", "loner"))
	if got, err := s.Get(ctx, e.user, "default", loner.ID, store.GetOptions{Groups: true}); err != nil || len(got.Groups) != 0 {
		t.Fatalf("loner: %+v %v", got, err)
	}
	want := map[string]int{u.ID: 2, loner.ID: 0}
	first := &store.Key{ID: ""}
	byName, err := e.user.ResolvePath("userName")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []store.Query{
		{Count: 10},
		{Count: 10, StartIndex: 2},
		{Count: 10, After: first},
		{Count: 10, SortBy: &byName, Descending: true},
	} {
		q.Tenant, q.Type, q.Options = "default", e.user, store.GetOptions{Groups: true}
		p, err := s.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		seen := 0
		for _, r := range p.Resources {
			if n, ok := want[r.ID]; ok {
				seen++
				if len(r.Groups) != n {
					t.Errorf("list %+v: %s has groups %+v, want %d", q, r.ID, r.Groups, n)
				}
			}
		}
		if q.StartIndex < 2 && seen != 2 {
			t.Errorf("list %+v: %d of the 2 users", q, seen)
		}
		if q.StartIndex == 2 && seen != 1 {
			t.Errorf("list %+v: %d of the 2 users after skipping one", q, seen)
		}
	}
}

func testDeleteCascades(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	u := mustCreate(t, s, e.user, user("default", "leaver"))
	g := mustCreate(t, s, e.group, group("default", "G"), u.ID)
	sub := mustCreate(t, s, e.group, group("default", "Sub"), u.ID)
	parent := mustCreate(t, s, e.group, group("default", "Parent"), sub.ID)
	if err := s.Delete(ctx, e.user, "default", u.ID, nil); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Get(ctx, e.group, "default", g.ID, store.GetOptions{Members: true})
	if len(got.Members) != 0 || got.Version != 2 {
		t.Fatalf("group after member delete: %+v", got)
	}
	if err := s.Delete(ctx, e.group, "default", sub.ID, nil); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Get(ctx, e.group, "default", parent.ID, store.GetOptions{Members: true})
	if len(got.Members) != 0 {
		t.Fatalf("parent still holds deleted group: %+v", got.Members)
	}
	wantKind(t, s.Delete(ctx, e.user, "default", u.ID, nil), scimerr.NotFound)
	// A failing check leaves the resource.
	err := s.Delete(ctx, e.group, "default", g.ID, func(*store.Resource) error { return scimerr.New(scimerr.PreconditionFailed, "no") })
	wantKind(t, err, scimerr.PreconditionFailed)
	if _, err := s.Get(ctx, e.group, "default", g.ID, store.GetOptions{}); err != nil {
		t.Fatal(err)
	}
}

func testListPaging(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	var ids []string
	for i := 0; i < 25; i++ {
		ids = append(ids, mustCreate(t, s, e.user, user("default", fmt.Sprintf("p%02d", i))).ID)
	}
	mustCreate(t, s, e.group, group("default", "not a user"))
	sort.Strings(ids)
	var seen []string
	for start := 1; start <= 25; start += 10 {
		p, err := s.List(ctx, store.Query{Tenant: "default", Type: e.user, StartIndex: start, Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 25 {
			t.Fatalf("total %d", p.Total)
		}
		for _, r := range p.Resources {
			seen = append(seen, r.ID)
		}
		if wantMore := start+10 <= 25; p.HasMore != wantMore {
			t.Fatalf("start %d: HasMore %v", start, p.HasMore)
		}
	}
	if !eq(seen, ids) {
		t.Fatalf("paging not stable/complete:\n%v\n%v", seen, ids)
	}
	p, err := s.List(ctx, store.Query{Tenant: "default", Type: e.user, StartIndex: 1, Count: 0})
	if err != nil || p.Total != 25 || len(p.Resources) != 0 {
		t.Fatalf("count=0: %+v %v", p, err)
	}
	p, err = s.List(ctx, store.Query{Tenant: "default", Type: e.user, StartIndex: 100, Count: 10})
	if err != nil || p.Total != 25 || len(p.Resources) != 0 {
		t.Fatalf("past the end: %+v %v", p, err)
	}
}

func testKeyset(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	var ids []string
	for i := 0; i < 23; i++ {
		ids = append(ids, mustCreate(t, s, e.user, user("default", fmt.Sprintf("k%02d", i))).ID)
	}
	sort.Strings(ids)
	var seen []string
	var after *store.Key
	var pages []*store.Page
	for {
		p, err := s.List(ctx, store.Query{Tenant: "default", Type: e.user, Count: 5, After: after, NoTotal: true})
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
		for _, r := range p.Resources {
			seen = append(seen, r.ID)
		}
		if !p.HasMore {
			break
		}
		after = p.Last
	}
	if !eq(seen, ids) || len(pages) != 5 {
		t.Fatalf("keyset paging: %d pages\n%v\n%v", len(pages), seen, ids)
	}
	// The page before the third page is the second page.
	p, err := s.List(ctx, store.Query{Tenant: "default", Type: e.user, Count: 5, Before: pages[2].First, NoTotal: true})
	if err != nil {
		t.Fatal(err)
	}
	var back []string
	for _, r := range p.Resources {
		back = append(back, r.ID)
	}
	if !eq(back, ids[5:10]) || !p.HasPrev {
		t.Fatalf("previous page: %v want %v (hasPrev %v)", back, ids[5:10], p.HasPrev)
	}
}

func testTenantIsolation(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	if err := s.CreateTenant(ctx, "acme", t0); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.CreateTenant(ctx, "acme", t0), scimerr.Uniqueness)
	a := mustCreate(t, s, e.user, user("default", "same"))
	b := mustCreate(t, s, e.user, user("acme", "same")) // a userName is unique per tenant
	if _, err := s.Get(ctx, e.user, "acme", a.ID, store.GetOptions{}); scimerr.KindOf(err) != scimerr.NotFound {
		t.Fatalf("tenant acme sees default's user: %v", err)
	}
	p, _ := s.List(ctx, store.Query{Tenant: "acme", Type: e.user, Count: 10})
	if p.Total != 1 || p.Resources[0].ID != b.ID {
		t.Fatalf("acme list: %+v", p)
	}
	// A group cannot take a member from another tenant.
	err := s.Create(ctx, e.group, group("acme", "G"), []string{a.ID})
	wantKind(t, err, scimerr.InvalidValue)
	wantKind(t, s.Delete(ctx, e.user, "acme", a.ID, nil), scimerr.NotFound)
	ts, _ := s.ListTenants(ctx)
	if len(ts) != 2 {
		t.Fatalf("tenants: %+v", ts)
	}
}

func testTokens(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	n, _ := s.CountTokens(ctx)
	if n != 0 {
		t.Fatalf("fresh store has %d tokens", n)
	}
	exp := t0.Add(24 * time.Hour)
	tok := &store.Token{Tenant: "default", Name: "okta", Hash: []byte("h1"), Scopes: []string{"scim:read", "scim:write"}, Created: t0, Expires: &exp}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.CreateToken(ctx, &store.Token{Tenant: "default", Name: "okta", Hash: []byte("h2"), Created: t0}), scimerr.Uniqueness)
	wantKind(t, s.CreateToken(ctx, &store.Token{Tenant: "nope", Name: "x", Hash: []byte("h3"), Created: t0}), scimerr.NotFound)
	got, err := s.TokenByHash(ctx, []byte("h1"))
	if err != nil || got.Name != "okta" || len(got.Scopes) != 2 || got.Expires == nil || !got.Expires.Equal(exp) {
		t.Fatalf("token: %+v %v", got, err)
	}
	if err := s.TouchToken(ctx, []byte("h1"), t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeToken(ctx, "default", "okta", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.RevokeToken(ctx, "default", "okta", t0), scimerr.NotFound)
	got, _ = s.TokenByHash(ctx, []byte("h1"))
	if got.Revoked == nil || got.LastUsed == nil {
		t.Fatalf("after revoke: %+v", got)
	}
	// The name is free again once revoked.
	if err := s.CreateToken(ctx, &store.Token{Tenant: "default", Name: "okta", Hash: []byte("h4"), Created: t0}); err != nil {
		t.Fatal(err)
	}
	list, _ := s.ListTokens(ctx, "default")
	if len(list) != 2 {
		t.Fatalf("list: %d", len(list))
	}
	wantKind(t, func() error { _, err := s.TokenByHash(ctx, []byte("zz")); return err }(), scimerr.NotFound)
}

func testConcurrentMembers(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	g := mustCreate(t, s, e.group, group("default", "Busy"))
	var users []string
	for i := 0; i < 20; i++ {
		users = append(users, mustCreate(t, s, e.user, user("default", fmt.Sprintf("c%02d", i))).ID)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(users))
	for _, id := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Update(ctx, e.group, "default", g.ID, time.Now(), func(ctx context.Context, _ *store.Resource, tx store.Tx) (bool, error) {
				_, err := tx.AddMembers(ctx, []string{id})
				return false, err
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, _ := s.Get(ctx, e.group, "default", g.ID, store.GetOptions{Members: true})
	if len(got.Members) != len(users) || got.Version != int64(1+len(users)) {
		t.Fatalf("concurrent adds: %d members, version %d", len(got.Members), got.Version)
	}
}

func testConcurrentCreate(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	const n = 30
	var wg sync.WaitGroup
	results := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- s.Create(ctx, e.user, user("default", "racer"), nil)
		}()
	}
	wg.Wait()
	close(results)
	ok, dup := 0, 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case scimerr.KindOf(err) == scimerr.Uniqueness:
			dup++
		default:
			t.Fatalf("unexpected: %v", err)
		}
	}
	if ok != 1 || dup != n-1 {
		t.Fatalf("%d created, %d conflicts", ok, dup)
	}
}

func testConcurrentUpdate(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	u := mustCreate(t, s, e.user, newRes("default", "User", schema.Doc{"userName": "counter", "nickName": "0"}))
	const n = 20
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Update(ctx, e.user, "default", u.ID, time.Now(), func(_ context.Context, cur *store.Resource, _ store.Tx) (bool, error) {
				var v int
				fmt.Sscan(cur.Doc["nickName"].(string), &v)
				cur.Doc["nickName"] = fmt.Sprint(v + 1)
				return true, nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, _ := s.Get(ctx, e.user, "default", u.ID, store.GetOptions{})
	if got.Doc["nickName"] != fmt.Sprint(n) || got.Version != n+1 {
		t.Fatalf("lost updates: nickName %v version %d", got.Doc["nickName"], got.Version)
	}
}

func testSecrets(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	var wg sync.WaitGroup
	got := make([][]byte, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := s.Secret(ctx, "cursor", func() []byte { return []byte(fmt.Sprint("v", i)) })
			if err != nil {
				t.Error(err)
			}
			got[i] = v
		}()
	}
	wg.Wait()
	for _, v := range got {
		if string(v) != string(got[0]) || len(v) == 0 {
			t.Fatalf("instances disagree on the secret: %q", got)
		}
	}
	other, _ := s.Secret(ctx, "other", func() []byte { return []byte("x") })
	if string(other) != "x" {
		t.Fatalf("second secret: %q", other)
	}
}
