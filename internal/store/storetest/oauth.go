package storetest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

func sha(b byte) []byte {
	h := make([]byte, 32)
	for i := range h {
		h[i] = b
	}
	return h
}

func oauthClient(tenant, id, name string) *store.OAuthClient {
	return &store.OAuthClient{ID: id, Tenant: tenant, Name: name, SecretHash: sha(byte(len(id))), Scopes: []string{"scim:read", "scim:write"},
		Grants: []string{"client_credentials", "refresh_token"}, AccessTTL: 15 * time.Minute, RefreshTTL: 720 * time.Hour, Created: t0, SecretChanged: t0, CreatedBy: "test"}
}

func tok(kind, client, family string, h byte, expires time.Time) *store.OAuthToken {
	return &store.OAuthToken{Hash: sha(h), Kind: kind, Tenant: "default", ClientID: client, Family: family,
		Scopes: []string{"scim:read"}, Created: t0, Expires: expires}
}

func testClients(t *testing.T, s store.Store, _ *env) {
	ctx := context.Background()
	if err := s.CreateTenant(ctx, "acme", t0); err != nil {
		t.Fatal(err)
	}
	c := oauthClient("default", "c1", "entra")
	if err := s.CreateClient(ctx, c); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.CreateClient(ctx, oauthClient("default", "c2", "entra")), scimerr.Uniqueness)
	wantKind(t, s.CreateClient(ctx, oauthClient("nowhere", "c3", "x")), scimerr.NotFound)
	key := oauthClient("acme", "c4", "entra") // the same name in another tenant
	key.SecretHash, key.PublicKey = nil, "-----BEGIN PUBLIC KEY-----"
	if err := s.CreateClient(ctx, key); err != nil {
		t.Fatal(err)
	}
	got, err := s.Client(ctx, "c1")
	if err != nil || got.Name != "entra" || string(got.SecretHash) != string(c.SecretHash) || got.AccessTTL != c.AccessTTL ||
		got.RefreshTTL != c.RefreshTTL || len(got.Grants) != 2 || len(got.Scopes) != 2 || !got.Created.Equal(t0) || got.LastUsed != nil {
		t.Fatalf("%+v %v", got, err)
	}
	if got, _ := s.Client(ctx, "c4"); got.SecretHash != nil || got.PublicKey == "" {
		t.Fatalf("key client: %+v", got)
	}
	_, err = s.Client(ctx, "nope")
	wantKind(t, err, scimerr.NotFound)
	if all, _ := s.ListClients(ctx, ""); len(all) != 2 {
		t.Fatalf("list: %d", len(all))
	}
	if acme, _ := s.ListClients(ctx, "acme"); len(acme) != 1 || acme[0].ID != "c4" {
		t.Fatalf("list acme: %v", acme)
	}

	// Tokens, rotation of the credential with and without revocation.
	exp := t0.Add(time.Hour)
	// A refresh token alone (an administrator's, from the console) is not a
	// use of the client.
	if err := s.IssueTokens(ctx, tok(store.KindRefresh, "c1", "f0", 3, exp)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Client(ctx, "c1"); got.LastUsed != nil {
		t.Fatal("a refresh token issued alone recorded the client's use")
	}
	if err := s.IssueTokens(ctx, tok(store.KindAccess, "c1", "f1", 1, exp), tok(store.KindRefresh, "c1", "f1", 2, exp)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Client(ctx, "c1"); got.LastUsed == nil {
		t.Fatal("issuing does not record the client's use")
	}
	at, err := s.OAuthToken(ctx, sha(1))
	if err != nil || at.Kind != store.KindAccess || at.ClientName != "entra" || at.Family != "f1" || !at.Expires.Equal(exp) || at.Revoked != nil || at.Used != nil {
		t.Fatalf("%+v %v", at, err)
	}
	if err := s.SetClientCredential(ctx, "c1", sha(9), "", t0, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Client(ctx, "c1"); string(got.SecretHash) != string(sha(9)) {
		t.Fatal("secret not replaced")
	}
	if at, _ := s.OAuthToken(ctx, sha(1)); at.Revoked != nil {
		t.Fatal("rotation without revoke revoked")
	}
	if err := s.SetClientCredential(ctx, "c1", sha(10), "", t0, true); err != nil {
		t.Fatal(err)
	}
	for _, h := range []byte{1, 3} {
		if at, _ := s.OAuthToken(ctx, sha(h)); at.Revoked == nil {
			t.Fatalf("rotation with revoke did not revoke token %d", h)
		}
	}
	wantKind(t, s.SetClientCredential(ctx, "nope", nil, "", t0, false), scimerr.NotFound)

	// Refresh tokens alone: off unless set, at creation or later, and read
	// with the client's tokens as with the client.
	if got, _ := s.Client(ctx, "c1"); got.RefreshTokenAlone {
		t.Fatal("refresh tokens alone is on by default")
	}
	alone := oauthClient("default", "c5", "beyondinsight")
	alone.RefreshTokenAlone = true
	if err := s.CreateClient(ctx, alone); err != nil {
		t.Fatal(err)
	}
	if err := s.IssueTokens(ctx, tok(store.KindRefresh, "c5", "f5", 5, exp), tok(store.KindRefresh, "c1", "f6", 6, exp)); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		set  func() error
		want map[string]bool // client id -> setting
	}{
		{func() error { return nil }, map[string]bool{"c1": false, "c5": true}},
		{func() error { return s.SetClientRefreshTokenAlone(ctx, "c1", true) }, map[string]bool{"c1": true, "c5": true}},
		{func() error { return s.SetClientRefreshTokenAlone(ctx, "c5", false) }, map[string]bool{"c1": true, "c5": false}},
		{func() error { return s.SetClientRefreshTokenAlone(ctx, "c1", false) }, map[string]bool{"c1": false, "c5": false}},
	} {
		if err := step.set(); err != nil {
			t.Fatal(err)
		}
		for id, want := range step.want {
			if got, _ := s.Client(ctx, id); got.RefreshTokenAlone != want {
				t.Fatalf("client %s: refresh tokens alone %t, want %t", id, got.RefreshTokenAlone, want)
			}
			h := map[string]byte{"c5": 5, "c1": 6}[id]
			if rt, err := s.OAuthToken(ctx, sha(h)); err != nil || rt.ClientRefreshTokenAlone != want {
				t.Fatalf("token of %s: %+v %v, want the setting %t", id, rt, err, want)
			}
		}
		listed, _ := s.ListClients(ctx, "default")
		for _, cl := range listed {
			if cl.RefreshTokenAlone != step.want[cl.ID] {
				t.Fatalf("listed %s: refresh tokens alone %t", cl.ID, cl.RefreshTokenAlone)
			}
		}
	}
	wantKind(t, s.SetClientRefreshTokenAlone(ctx, "nope", true), scimerr.NotFound)

	// Deleting a client makes its tokens unreadable at once.
	if err := s.IssueTokens(ctx, tok(store.KindAccess, "c4", "f4", 4, exp)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteClient(ctx, "c4", t0); err != nil {
		t.Fatal(err)
	}
	_, err = s.OAuthToken(ctx, sha(4))
	wantKind(t, err, scimerr.NotFound)
	wantKind(t, s.DeleteClient(ctx, "c4", t0), scimerr.NotFound)
}

func testServiceAccounts(t *testing.T, s store.Store, _ *env) {
	ctx := context.Background()
	a := &store.ServiceAccount{Tenant: "default", Name: "svc", PasswordHash: "$argon2id$x", Scopes: []string{"scim:read"}, Created: t0, PasswordChanged: t0}
	if err := s.CreateServiceAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.CreateServiceAccount(ctx, a), scimerr.Uniqueness)
	got, err := s.ServiceAccount(ctx, "default", "svc")
	if err != nil || got.PasswordHash != a.PasswordHash || len(got.Scopes) != 1 {
		t.Fatalf("%+v %v", got, err)
	}
	_, err = s.ServiceAccount(ctx, "other", "svc")
	wantKind(t, err, scimerr.NotFound)
	if err := s.CreateClient(ctx, oauthClient("default", "c1", "c")); err != nil {
		t.Fatal(err)
	}
	t1 := tok(store.KindAccess, "c1", "f", 1, t0.Add(time.Hour))
	t1.Subject = "svc"
	t2 := tok(store.KindAccess, "c1", "g", 2, t0.Add(time.Hour)) // another subject's
	if err := s.IssueTokens(ctx, t1, t2); err != nil {
		t.Fatal(err)
	}
	if err := s.SetServicePassword(ctx, "default", "svc", "$argon2id$y", t0); err != nil {
		t.Fatal(err)
	}
	if x, _ := s.OAuthToken(ctx, sha(1)); x.Revoked == nil {
		t.Fatal("a new password did not revoke the account's tokens")
	}
	if x, _ := s.OAuthToken(ctx, sha(2)); x.Revoked != nil {
		t.Fatal("a new password revoked another's token")
	}
	if l, _ := s.ListServiceAccounts(ctx, ""); len(l) != 1 || l[0].PasswordHash != "$argon2id$y" {
		t.Fatalf("%v", l)
	}
	if err := s.DeleteServiceAccount(ctx, "default", "svc", t0); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.DeleteServiceAccount(ctx, "default", "svc", t0), scimerr.NotFound)
	wantKind(t, s.SetServicePassword(ctx, "default", "svc", "x", t0), scimerr.NotFound)
}

func testRefreshRotation(t *testing.T, s store.Store, _ *env) {
	ctx := context.Background()
	if err := s.CreateClient(ctx, oauthClient("default", "c1", "c")); err != nil {
		t.Fatal(err)
	}
	exp := t0.Add(time.Hour)
	if err := s.IssueTokens(ctx, tok(store.KindAccess, "c1", "f", 1, exp), tok(store.KindRefresh, "c1", "f", 2, exp)); err != nil {
		t.Fatal(err)
	}
	// Many presenters of one refresh token: exactly one rotation happens.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.RotateRefreshToken(ctx, sha(2), t0, tok(store.KindAccess, "c1", "f", byte(10+2*i), exp), tok(store.KindRefresh, "c1", "f", byte(11+2*i), exp))
			if err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if scimerr.KindOf(err) != scimerr.Conflict {
				t.Errorf("rotate: %v", err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d rotations of one refresh token", wins)
	}
	if old, _ := s.OAuthToken(ctx, sha(2)); old.Used == nil {
		t.Fatal("the rotated token is not marked used")
	}
	// An access token cannot be rotated.
	wantKind(t, s.RotateRefreshToken(ctx, sha(1), t0), scimerr.Conflict)
	n, err := s.RevokeTokenFamily(ctx, "f", t0)
	if err != nil || n != 4 { // access, old refresh (used but live), new access, new refresh
		t.Fatalf("family revoked %d, %v", n, err)
	}
	wantKind(t, s.RotateRefreshToken(ctx, sha(2), t0), scimerr.Conflict)
	if n, _ := s.RevokeTokenFamily(ctx, "f", t0); n != 0 {
		t.Fatalf("revoked twice: %d", n)
	}
	if err := s.IssueTokens(ctx, tok(store.KindAccess, "c1", "g", 50, exp)); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.RevokeClientTokens(ctx, "c1", t0); n != 1 {
		t.Fatalf("client tokens revoked: %d", n)
	}
	// Assertion ids: a replay is refused until purged.
	if err := s.UseAssertionID(ctx, "c1", "jti-1", t0.Add(time.Minute), t0); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.UseAssertionID(ctx, "c1", "jti-1", t0.Add(time.Minute), t0), scimerr.Uniqueness)
	if err := s.UseAssertionID(ctx, "c2", "jti-1", t0.Add(time.Minute), t0); err != nil {
		t.Fatal("jti is per client:", err)
	}
	purged, err := s.PurgeOAuth(ctx, t0.Add(2*time.Hour))
	if err != nil || purged < 7 {
		t.Fatalf("purged %d, %v", purged, err)
	}
	_, err = s.OAuthToken(ctx, sha(1))
	wantKind(t, err, scimerr.NotFound)
	if err := s.UseAssertionID(ctx, "c1", "jti-1", t0.Add(3*time.Hour), t0); err != nil {
		t.Fatal("a purged jti:", err)
	}
}

func testAudit(t *testing.T, s store.Store, _ *env) {
	ctx := context.Background()
	add := func(at time.Time, tenant, actor, event, outcome, typ, obj string) {
		t.Helper()
		if err := s.AppendAudit(ctx, &store.AuditEvent{Time: at, Tenant: tenant, Actor: actor, Event: event, Outcome: outcome, Type: typ, Object: obj, Source: "192.0.2.1", Detail: "d"}); err != nil {
			t.Fatal(err)
		}
	}
	add(t0, "default", "client:c1", "token.issued", "success", "", "family:f")
	add(t0.Add(time.Second), "default", "client:c1", "scim.create", "success", "User", "u1")
	add(t0.Add(2*time.Second), "acme", "token:x", "token.refused", "failure", "", "")
	add(t0.Add(3*time.Second), "default", "client:c1", "scim.delete", "success", "User", "u1")
	add(t0.Add(4*time.Second), "default", "cli", "tokenX.odd", "success", "", "") // "token." must not match it
	count := func(q store.AuditQuery) int {
		t.Helper()
		evs, err := s.ListAudit(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].Time.Before(evs[i-1].Time) {
				t.Fatal("not oldest first")
			}
		}
		return len(evs)
	}
	for _, tc := range []struct {
		name string
		q    store.AuditQuery
		want int
	}{
		{"all", store.AuditQuery{}, 5},
		{"tenant", store.AuditQuery{Tenant: "acme"}, 1},
		{"actor", store.AuditQuery{Actor: "client:c1"}, 3},
		{"event", store.AuditQuery{Event: "scim.create"}, 1},
		{"event prefix", store.AuditQuery{Event: "token."}, 2},
		{"outcome", store.AuditQuery{Outcome: "failure"}, 1},
		{"type and object", store.AuditQuery{Type: "User", Object: "u1"}, 2},
		{"since", store.AuditQuery{Since: t0.Add(2 * time.Second)}, 3},
		{"until", store.AuditQuery{Until: t0.Add(2 * time.Second)}, 2},
		{"limit keeps the newest", store.AuditQuery{Limit: 2, Event: "scim."}, 2},
	} {
		if got := count(tc.q); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	evs, _ := s.ListAudit(ctx, store.AuditQuery{Limit: 1})
	if len(evs) != 1 || evs[0].Event != "tokenX.odd" || evs[0].ID == 0 || !evs[0].Time.Equal(t0.Add(4*time.Second)) || evs[0].Source != "192.0.2.1" {
		t.Fatalf("newest: %+v", evs[0])
	}
}
