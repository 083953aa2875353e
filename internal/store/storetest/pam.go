package storetest

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pamscim/pamscim/internal/filter"
	"github.com/pamscim/pamscim/internal/pam"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/secretbox"
	"github.com/pamscim/pamscim/internal/store"
)

// pamStore installs the PAM guard with a fresh key file on s.
func pamStore(t *testing.T, s store.Store, reg *schema.Registry) (store.PAMStore, *secretbox.Box) {
	t.Helper()
	box, _, err := pam.Install(context.Background(), reg, s, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s.(store.PAMStore), box
}

func pamBind(t *testing.T, rt *schema.ResourceType, text string) filter.Expr {
	t.Helper()
	e, err := filter.Parse(text)
	if err == nil {
		e, err = filter.Bind(rt, e)
	}
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func ref(id string) map[string]any { return map[string]any{"value": id} }

// testPAM: the PAM guard's rules on every backend — sealed secrets,
// references, composite uniqueness, one container per item, cascades, the
// catalogue of a new tenant, indexed reference filters.
func testPAM(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	reg := e.reg
	pdRT, cRT := reg.ResourceType(schema.TypePrivilegedData), reg.ResourceType(schema.TypeContainer)
	cpRT := reg.ResourceType(schema.TypeContainerPermission)
	const secret = "storetest-secret-4711"

	// Without a guard a secret is refused, never stored in the clear.
	item := newRes("default", schema.TypePrivilegedData, schema.Doc{"name": "db", schema.CredentialURN: map[string]any{"secret": secret}})
	wantKind(t, s.Create(ctx, pdRT, item, nil), scimerr.Internal)

	ps, box := pamStore(t, s, reg)
	mustCreate(t, s, pdRT, item)
	if _, ok := item.Doc[schema.CredentialURN]; ok {
		t.Fatalf("secret left in the document: %v", item.Doc)
	}
	got, err := s.Get(ctx, pdRT, "default", item.ID, store.GetOptions{})
	if err != nil || got.Doc[schema.CredentialURN] != nil {
		t.Fatalf("stored document %v %v", got, err)
	}
	sv, err := ps.SealedValue(ctx, "default", item.ID, pam.SecretAttr)
	if err != nil || sv == nil || bytes.Contains(sv.Data, []byte(secret)) {
		t.Fatalf("sealed value %v %v", sv, err)
	}
	if pt, err := box.Unseal(sv.KeyID, sv.Data, secretbox.AAD("default", item.ID, pam.SecretAttr)); err != nil || string(pt) != secret {
		t.Fatalf("unseal: %q %v", pt, err)
	}
	if _, err := box.Unseal(sv.KeyID, sv.Data, secretbox.AAD("default", "other-id", pam.SecretAttr)); err == nil {
		t.Fatal("a sealed value opened for another row")
	}

	u := mustCreate(t, s, e.user, user("default", "pam-u"))
	g := mustCreate(t, s, e.group, group("default", "pam-g"))
	c := mustCreate(t, s, cRT, newRes("default", schema.TypeContainer, schema.Doc{"name": "Safe"}), item.ID)
	// An item is in at most one static container.
	wantKind(t, s.Create(ctx, cRT, newRes("default", schema.TypeContainer, schema.Doc{"name": "Safe2"}), []string{item.ID}), scimerr.Uniqueness)
	// Container names are unique, case-insensitively.
	wantKind(t, s.Create(ctx, cRT, newRes("default", schema.TypeContainer, schema.Doc{"name": "SAFE"}), nil), scimerr.Uniqueness)

	perm := func(doc schema.Doc) error {
		return s.Create(ctx, cpRT, newRes("default", schema.TypeContainerPermission, doc), nil)
	}
	if err := perm(schema.Doc{"container": ref(c.ID), "user": ref(u.ID), "rights": []any{"List"}}); err != nil {
		t.Fatal(err)
	}
	if err := perm(schema.Doc{"container": ref(c.ID), "group": ref(g.ID), "rights": []any{"List"}}); err != nil {
		t.Fatal(err)
	}
	wantKind(t, perm(schema.Doc{"container": ref(c.ID), "user": ref(u.ID), "rights": []any{"View"}}), scimerr.Uniqueness)
	wantKind(t, perm(schema.Doc{"container": ref("nope"), "user": ref(u.ID), "rights": []any{"View"}}), scimerr.InvalidValue)
	wantKind(t, perm(schema.Doc{"container": ref(c.ID), "user": ref(g.ID), "rights": []any{"View"}}), scimerr.InvalidValue)
	wantKind(t, perm(schema.Doc{"container": ref(c.ID), "rights": []any{"View"}}), scimerr.InvalidValue)

	count := func(text string) int {
		t.Helper()
		page, err := s.List(ctx, store.Query{Tenant: "default", Type: cpRT, Filter: pamBind(t, cpRT, text)})
		if err != nil {
			t.Fatal(err)
		}
		return page.Total
	}
	if n := count(fmt.Sprintf(`container.value eq %q`, c.ID)); n != 2 {
		t.Fatalf("container.value eq: %d", n)
	}
	if n := count(fmt.Sprintf(`(container.value eq %q and user.value eq %q)`, c.ID, u.ID)); n != 1 {
		t.Fatalf("container and user: %d", n)
	}
	// Deleting the user removes its permission in the same transaction.
	if err := s.Delete(ctx, e.user, "default", u.ID, nil); err != nil {
		t.Fatal(err)
	}
	if n := count(fmt.Sprintf(`container.value eq %q`, c.ID)); n != 1 {
		t.Fatalf("after deleting the user: %d", n)
	}
	if err := s.Delete(ctx, cRT, "default", c.ID, nil); err != nil {
		t.Fatal(err)
	}
	if n := count(`container.value pr`); n != 0 {
		t.Fatalf("after deleting the container: %d", n)
	}
	// Deleting the item removes its sealed secret.
	if err := s.Delete(ctx, pdRT, "default", item.ID, nil); err != nil {
		t.Fatal(err)
	}
	if sv, err := ps.SealedValue(ctx, "default", item.ID, pam.SecretAttr); err != nil || sv != nil {
		t.Fatalf("sealed value after delete: %v %v", sv, err)
	}

	// A new tenant starts with the default roles.
	if err := s.CreateTenant(ctx, "pam-tenant", t0); err != nil {
		t.Fatal(err)
	}
	page, err := s.List(ctx, store.Query{Tenant: "pam-tenant", Type: reg.ResourceType(schema.TypeRole), Count: 10})
	if err != nil || page.Total != len(store.DefaultRoles) {
		t.Fatalf("roles of a new tenant: %v %v", page, err)
	}
}

// testPAMConcurrentPermission: of many concurrent creates of one (container,
// user) pair exactly one wins.
func testPAMConcurrentPermission(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	pamStore(t, s, e.reg)
	cRT, cpRT := e.reg.ResourceType(schema.TypeContainer), e.reg.ResourceType(schema.TypeContainerPermission)
	u := mustCreate(t, s, e.user, user("default", "race"))
	c := mustCreate(t, s, cRT, newRes("default", schema.TypeContainer, schema.Doc{"name": "Race"}))
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = s.Create(ctx, cpRT, newRes("default", schema.TypeContainerPermission,
				schema.Doc{"container": ref(c.ID), "user": ref(u.ID), "rights": []any{"List"}}), nil)
		}(i)
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case scimerr.KindOf(err) != scimerr.Uniqueness:
			t.Fatalf("unexpected error %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d creates won", won)
	}
}

// testPAMRotate: keys rotate while writers keep sealing secrets; at the
// end every secret is under the new key and opens to what was written,
// and the key file holds only the new key.
func testPAMRotate(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	dir := t.TempDir()
	reg := e.reg
	box, _, err := pam.Install(ctx, reg, s, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	ps := s.(store.PAMStore)
	pdRT := reg.ResourceType(schema.TypePrivilegedData)
	want := sync.Map{}
	write := func(i int) error {
		secret := fmt.Sprintf("secret-%d", i)
		r := newRes("default", schema.TypePrivilegedData, schema.Doc{"name": secret, schema.CredentialURN: map[string]any{"secret": secret}})
		if err := s.Create(ctx, pdRT, r, nil); err != nil {
			return err
		}
		want.Store(r.ID, secret)
		return nil
	}
	for i := 0; i < 40; i++ {
		if err := write(i); err != nil {
			t.Fatal(err)
		}
	}
	// A second instance on the same store with its own view of the key
	// file, writing while the rotation runs.
	other, _, err := secretbox.Open(filepath.Join(dir, secretbox.DefaultFile), false)
	if err != nil {
		t.Fatal(err)
	}
	ps.SetGuard(pam.NewGuard(reg, other))
	stop := make(chan struct{})
	werr := make(chan error, 1)
	go func() {
		defer close(werr)
		for i := 1000; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := write(i); err != nil {
				werr <- err
				return
			}
		}
	}()
	res, err := secretbox.Rotate(ctx, box, ps)
	close(stop)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-werr; err != nil {
		t.Fatalf("writer during rotation: %v", err)
	}
	// The rotation may have finished before the writer's last commits;
	// those must have used the new key as well.
	n := 0
	want.Range(func(k, v any) bool {
		n++
		sv, err := ps.SealedValue(ctx, "default", k.(string), pam.SecretAttr)
		if err != nil || sv == nil {
			t.Fatalf("sealed %s: %v %v", k, sv, err)
		}
		if sv.KeyID != res.NewKey {
			t.Fatalf("%s still under key %s after rotating to %s", k, sv.KeyID, res.NewKey)
		}
		pt, err := box.Unseal(sv.KeyID, sv.Data, secretbox.AAD("default", k.(string), pam.SecretAttr))
		if err != nil || string(pt) != v.(string) {
			t.Fatalf("%s opens to %q, %v", k, pt, err)
		}
		return true
	})
	if n < 40 || res.Resealed < 40 {
		t.Fatalf("%d secrets, %d re-sealed", n, res.Resealed)
	}
	ring, err := secretbox.ReadFile(filepath.Join(dir, secretbox.DefaultFile))
	if err != nil || len(ring.Keys) != 1 || ring.Keys[0].ID != res.NewKey {
		t.Fatalf("key file after rotation: %v %v", ring, err)
	}
	if cur, _ := ps.Setting(ctx, secretbox.ActiveKeySetting); cur != res.NewKey {
		t.Fatalf("active key %s, want %s", cur, res.NewKey)
	}
}

// testPAMConcurrentRefs: concurrent moves never close a cycle, and a
// permission created while its container is deleted never outlives it.
func testPAMConcurrentRefs(t *testing.T, s store.Store, e *env) {
	ctx := context.Background()
	pamStore(t, s, e.reg)
	cRT, cpRT := e.reg.ResourceType(schema.TypeContainer), e.reg.ResourceType(schema.TypeContainerPermission)
	u := mustCreate(t, s, e.user, user("default", "refs"))
	setParent := func(id, parent string) error {
		_, err := s.Update(ctx, cRT, "default", id, t0, func(ctx context.Context, cur *store.Resource, tx store.Tx) (bool, error) {
			cur.Doc["parent"] = ref(parent)
			return false, nil
		})
		return err
	}
	for round := 0; round < 10; round++ {
		a := mustCreate(t, s, cRT, newRes("default", schema.TypeContainer, schema.Doc{"name": fmt.Sprintf("A%d", round)}))
		b := mustCreate(t, s, cRT, newRes("default", schema.TypeContainer, schema.Doc{"name": fmt.Sprintf("B%d", round)}))
		var wg sync.WaitGroup
		var errA, errB error
		wg.Add(2)
		go func() { defer wg.Done(); errA = setParent(a.ID, b.ID) }()
		go func() { defer wg.Done(); errB = setParent(b.ID, a.ID) }()
		wg.Wait()
		if errA == nil && errB == nil {
			t.Fatalf("round %d: both moves succeeded, closing a cycle", round)
		}
		for _, err := range []error{errA, errB} {
			if err != nil && scimerr.KindOf(err) != scimerr.InvalidValue {
				t.Fatalf("round %d: %v", round, err)
			}
		}

		c := mustCreate(t, s, cRT, newRes("default", schema.TypeContainer, schema.Doc{"name": fmt.Sprintf("C%d", round)}))
		wg.Add(2)
		var errP, errD error
		go func() {
			defer wg.Done()
			errP = s.Create(ctx, cpRT, newRes("default", schema.TypeContainerPermission,
				schema.Doc{"container": ref(c.ID), "user": ref(u.ID), "rights": []any{"List"}}), nil)
		}()
		go func() { defer wg.Done(); errD = s.Delete(ctx, cRT, "default", c.ID, nil) }()
		wg.Wait()
		if errD != nil {
			t.Fatalf("round %d: delete: %v", round, errD)
		}
		if errP != nil && scimerr.KindOf(errP) != scimerr.InvalidValue {
			t.Fatalf("round %d: create: %v", round, errP)
		}
		page, err := s.List(ctx, store.Query{Tenant: "default", Type: cpRT, Filter: pamBind(t, cpRT, fmt.Sprintf(`container.value eq %q`, c.ID))})
		if err != nil || page.Total != 0 {
			t.Fatalf("round %d: a permission outlived its container: %v %v", round, page, err)
		}
	}
}
