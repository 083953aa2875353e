package storetest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

func testAdmins(t *testing.T, s store.Store, _ *env) {
	ctx := context.Background()
	if err := s.CreateTenant(ctx, "acme", t0); err != nil {
		t.Fatal(err)
	}
	for _, a := range []*store.Admin{
		{Name: "root", PasswordHash: "$argon2id$x", Created: t0, PasswordChanged: t0},
		{Name: "ann", Tenant: "acme", PasswordHash: "$argon2id$y", Created: t0, PasswordChanged: t0},
	} {
		if err := s.CreateAdmin(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	wantKind(t, s.CreateAdmin(ctx, &store.Admin{Name: "ann", Tenant: "default", PasswordHash: "h", Created: t0, PasswordChanged: t0}), scimerr.Uniqueness)
	wantKind(t, s.CreateAdmin(ctx, &store.Admin{Name: "bob", Tenant: "nope", PasswordHash: "h", Created: t0, PasswordChanged: t0}), scimerr.NotFound)
	_, err := s.Admin(ctx, "bob")
	wantKind(t, err, scimerr.NotFound)

	a, err := s.Admin(ctx, "ann")
	if err != nil || a.Tenant != "acme" || a.PasswordHash != "$argon2id$y" || !a.Created.Equal(t0) || a.LastSignIn != nil || a.AllTenants() {
		t.Fatalf("admin ann: %+v %v", a, err)
	}
	if err := s.AdminSignedIn(ctx, "ann", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if a, _ = s.Admin(ctx, "ann"); a.LastSignIn == nil || !a.LastSignIn.Equal(t0.Add(time.Minute)) {
		t.Fatalf("last sign-in: %+v", a)
	}
	as, err := s.ListAdmins(ctx)
	if err != nil || len(as) != 2 || as[0].Name != "ann" || as[1].Name != "root" || !as[1].AllTenants() {
		t.Fatalf("list: %+v %v", as, err)
	}

	// Sessions: create, read, touch; a password change ends them.
	sess := func(h byte, admin string) *store.AdminSession {
		return &store.AdminSession{Hash: sha(h), Admin: admin, Created: t0, LastSeen: t0, Expires: t0.Add(12 * time.Hour), Source: "192.0.2.1"}
	}
	for _, x := range []*store.AdminSession{sess(1, "ann"), sess(2, "ann"), sess(3, "root")} {
		if err := s.CreateAdminSession(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.AdminSession(ctx, sha(1))
	if err != nil || got.Admin != "ann" || !got.Expires.Equal(t0.Add(12*time.Hour)) || got.Source != "192.0.2.1" {
		t.Fatalf("session: %+v %v", got, err)
	}
	if err := s.TouchAdminSession(ctx, sha(1), t0.Add(5*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.AdminSession(ctx, sha(1)); !got.LastSeen.Equal(t0.Add(5 * time.Minute)) {
		t.Fatalf("touch: %+v", got)
	}
	_, err = s.AdminSession(ctx, sha(9))
	wantKind(t, err, scimerr.NotFound)

	if err := s.SetAdminPassword(ctx, "ann", "$argon2id$z", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.SetAdminPassword(ctx, "nobody", "h", t0), scimerr.NotFound)
	for _, h := range []byte{1, 2} {
		_, err = s.AdminSession(ctx, sha(h))
		wantKind(t, err, scimerr.NotFound)
	}
	if a, _ = s.Admin(ctx, "ann"); a.PasswordHash != "$argon2id$z" || !a.PasswordChanged.Equal(t0.Add(time.Hour)) {
		t.Fatalf("password: %+v", a)
	}
	if _, err := s.AdminSession(ctx, sha(3)); err != nil {
		t.Fatalf("another admin's session ended: %v", err)
	}

	// Sign-out, delete.
	if err := s.DeleteAdminSession(ctx, sha(3)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAdminSession(ctx, sha(3)); err != nil {
		t.Fatalf("deleting a missing session: %v", err)
	}
	if err := s.CreateAdminSession(ctx, sess(4, "root")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteAdmin(ctx, "root"); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.DeleteAdmin(ctx, "root"), scimerr.NotFound)
	_, err = s.AdminSession(ctx, sha(4))
	wantKind(t, err, scimerr.NotFound)
}

func testAdminSessions(t *testing.T, s store.Store, _ *env) {
	ctx := context.Background()
	if err := s.CreateAdmin(ctx, &store.Admin{Name: "root", PasswordHash: "h", Created: t0, PasswordChanged: t0}); err != nil {
		t.Fatal(err)
	}
	mk := func(h byte, seen, expires time.Time) {
		if err := s.CreateAdminSession(ctx, &store.AdminSession{Hash: sha(h), Admin: "root", Created: t0, LastSeen: seen, Expires: expires}); err != nil {
			t.Fatal(err)
		}
	}
	mk(1, t0, t0.Add(time.Hour))                           // live
	mk(2, t0.Add(-time.Hour), t0.Add(time.Hour))           // idle
	mk(3, t0, t0.Add(-time.Minute))                        // past its absolute expiry
	mk(4, t0.Add(-10*time.Minute), t0.Add(10*time.Minute)) // live
	n, err := s.PurgeAdminSessions(ctx, t0, t0.Add(-30*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("purge: %d %v", n, err)
	}
	for h, live := range map[byte]bool{1: true, 2: false, 3: false, 4: true} {
		_, err := s.AdminSession(ctx, sha(h))
		if (err == nil) != live {
			t.Errorf("session %d: live=%v err=%v", h, live, err)
		}
	}

	// Flash: read once, even by racing readers.
	if f, err := s.TakeAdminFlash(ctx, sha(1)); err != nil || f != nil {
		t.Fatalf("empty flash: %q %v", f, err)
	}
	if f, err := s.TakeAdminFlash(ctx, sha(9)); err != nil || f != nil {
		t.Fatalf("flash of a missing session: %q %v", f, err)
	}
	if err := s.SetAdminFlash(ctx, sha(1), []byte("sealed")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AdminSession(ctx, sha(1)); err != nil || !got.HasFlash {
		t.Fatalf("session with a flash: %+v %v", got, err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		hits int
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f, err := s.TakeAdminFlash(ctx, sha(1))
			if err != nil {
				t.Error(err)
				return
			}
			if f != nil {
				mu.Lock()
				hits++
				mu.Unlock()
				if !bytes.Equal(f, []byte("sealed")) {
					t.Errorf("flash %q", f)
				}
			}
		}()
	}
	wg.Wait()
	if hits != 1 {
		t.Fatalf("flash read %d times, want once", hits)
	}
	if got, err := s.AdminSession(ctx, sha(1)); err != nil || got.HasFlash {
		t.Fatalf("session after its flash was taken: %+v %v", got, err)
	}

	// Client lifetimes.
	c := oauthClient("default", "c1", "entra")
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.SetClientLifetimes(ctx, "c1", 5*time.Minute, 48*time.Hour); err != nil {
		t.Fatal(err)
	}
	got, err := s.Client(ctx, "c1")
	if err != nil || got.AccessTTL != 5*time.Minute || got.RefreshTTL != 48*time.Hour {
		t.Fatalf("lifetimes: %+v %v", got, err)
	}
	wantKind(t, s.SetClientLifetimes(ctx, "nope", time.Minute, time.Hour), scimerr.NotFound)
}
