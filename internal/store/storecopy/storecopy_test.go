package storecopy_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/filter"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/postgres"
	"github.com/pamscim/pamscim/internal/store/postgres/pgtest"
	"github.com/pamscim/pamscim/internal/store/sqlite"
	"github.com/pamscim/pamscim/internal/store/sqlstore"
	"github.com/pamscim/pamscim/internal/store/storecopy"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)

func openSQLite(t *testing.T, dir string) *sqlstore.DB {
	t.Helper()
	s, err := sqlite.Open(context.Background(), dir, schema.Default(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostgres(t *testing.T) *sqlstore.DB {
	t.Helper()
	s, err := postgres.Open(context.Background(), pgtest.Schema(t), schema.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// fill stores users (one with a boolean, emails, an extension), groups
// with nested members, a second tenant, tokens (one revoked) and a secret.
func fill(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	reg := schema.Default()
	user, grp := reg.ResourceType("User"), reg.ResourceType("Group")
	if err := s.CreateTenant(ctx, "acme", t0); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := range 30 {
		tenant := store.DefaultTenant
		if i%3 == 0 {
			tenant = "acme"
		}
		r := &store.Resource{Tenant: tenant, Type: "User", ID: fmt.Sprintf("u%02d", i), Version: 1, Created: t0, Modified: t0.Add(time.Duration(i) * time.Second),
			Doc: schema.Doc{"userName": fmt.Sprintf("User%02d", i), "active": i%2 == 0, "title": "Ünïcödé ß",
				"emails": []any{map[string]any{"value": fmt.Sprintf("u%02d@Example.com", i), "type": "work", "primary": true}}}}
		if err := s.Create(ctx, user, r, nil); err != nil {
			t.Fatal(err)
		}
		if tenant == store.DefaultTenant {
			ids = append(ids, r.ID)
		}
	}
	g1 := &store.Resource{Tenant: store.DefaultTenant, Type: "Group", ID: "g1", Version: 1, Created: t0, Modified: t0, Doc: schema.Doc{"displayName": "Admins"}}
	if err := s.Create(ctx, grp, g1, ids[:5]); err != nil {
		t.Fatal(err)
	}
	g2 := &store.Resource{Tenant: store.DefaultTenant, Type: "Group", ID: "g2", Version: 1, Created: t0, Modified: t0, Doc: schema.Doc{"displayName": "Ops"}}
	if err := s.Create(ctx, grp, g2, append([]string{"g1"}, ids[5:8]...)); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"a", "b"} {
		tok := &store.Token{Hash: []byte{byte(i), 0, 255, 7}, Tenant: store.DefaultTenant, Name: name, Scopes: []string{"scim:read"}, Created: t0}
		if err := s.CreateToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeToken(ctx, store.DefaultTenant, "b", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Secret(ctx, "cursor-key", func() []byte { return []byte{1, 2, 3, 0, 200} }); err != nil {
		t.Fatal(err)
	}
}

// snapshot reads back everything fill stored, through the Store API.
func snapshot(t *testing.T, s store.Store) map[string]any {
	t.Helper()
	ctx := context.Background()
	reg := schema.Default()
	out := map[string]any{}
	for _, tenant := range []string{store.DefaultTenant, "acme"} {
		for _, rt := range []*schema.ResourceType{reg.ResourceType("User"), reg.ResourceType("Group")} {
			p, err := s.List(ctx, store.Query{Tenant: tenant, Type: rt, Count: 1000, Options: store.GetOptions{Members: true, Groups: true}})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Resources {
				out[tenant+"/"+r.ID] = fmt.Sprintf("%v %d %s %s %v %v", r.Doc, r.Version, r.Created.Format(time.RFC3339Nano), r.Modified.Format(time.RFC3339Nano), r.Members, r.Groups)
			}
		}
	}
	toks, err := s.ListTokens(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range toks {
		got, err := s.TokenByHash(ctx, tk.Hash)
		if err != nil {
			t.Fatal(err)
		}
		out["token/"+tk.Name] = fmt.Sprintf("%+v", *got)
	}
	ten, err := s.ListTenants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out["tenants"] = len(ten)
	key, err := s.Secret(ctx, "cursor-key", func() []byte { return []byte("new") })
	if err != nil {
		t.Fatal(err)
	}
	out["secret"] = fmt.Sprint(key)
	// A filter through attr_values and a boolean column.
	b, err := filter.Parse(`emails.value eq "U03@example.com" or active eq true`)
	if err != nil {
		t.Fatal(err)
	}
	e, err := filter.Bind(reg.ResourceType("User"), b)
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.List(ctx, store.Query{Tenant: store.DefaultTenant, Type: reg.ResourceType("User"), Filter: e, Count: 100})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range p.Resources {
		ids = append(ids, r.ID)
	}
	out["filtered"] = ids
	return out
}

// TestCopyRoundTrip moves a store from SQLite to PostgreSQL and back, and
// every resource, membership, token, tenant and secret survives unchanged.
func TestCopyRoundTrip(t *testing.T) {
	ctx := context.Background()
	lite := openSQLite(t, filepath.Join(t.TempDir(), "a"))
	fill(t, lite)
	want := snapshot(t, lite)
	if len(want["filtered"].([]string)) < 5 {
		t.Fatalf("fixture too weak: %v", want["filtered"])
	}

	pg := openPostgres(t)
	counts, err := storecopy.Copy(ctx, lite, pg, storecopy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, c := range counts {
		total += c.Rows
	}
	if total < 30+2+2+2+1 {
		t.Errorf("copied %d rows: %v", total, counts)
	}
	if got := snapshot(t, pg); !reflect.DeepEqual(got, want) {
		t.Fatalf("PostgreSQL copy differs:\n got %v\nwant %v", got, want)
	}

	back := openSQLite(t, filepath.Join(t.TempDir(), "b"))
	if _, err := storecopy.Copy(ctx, pg, back, storecopy.Options{}); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, back); !reflect.DeepEqual(got, want) {
		t.Fatalf("SQLite copy of the PostgreSQL copy differs:\n got %v\nwant %v", got, want)
	}

	// A destination in use is refused and left as it was.
	if _, err := storecopy.Copy(ctx, lite, back, storecopy.Options{}); err == nil {
		t.Fatal("copy into a store with resources: no error")
	}
	if got := snapshot(t, back); !reflect.DeepEqual(got, want) {
		t.Fatal("a refused copy changed the destination")
	}
	if _, err := storecopy.Copy(ctx, lite, back, storecopy.Options{Overwrite: true}); err != nil {
		t.Fatalf("--overwrite: %v", err)
	}
	if got := snapshot(t, back); !reflect.DeepEqual(got, want) {
		t.Fatal("an overwriting copy does not hold the source's data")
	}
}

// TestCopyAllOrNothing: a copy that fails half-way leaves the destination
// as it was.
func TestCopyAllOrNothing(t *testing.T) {
	ctx := context.Background()
	lite := openSQLite(t, filepath.Join(t.TempDir(), "a"))
	fill(t, lite)
	// A NUL character: SQLite keeps it, PostgreSQL cannot.
	w, _ := lite.Handles()
	if _, err := w.Exec(`UPDATE resources SET ext_id = 'a' || char(0) || 'b' WHERE id = 'u29'`); err != nil {
		t.Fatal(err)
	}
	pg := openPostgres(t)
	if _, err := storecopy.Copy(ctx, lite, pg, storecopy.Options{}); err == nil {
		t.Fatal("no error copying a value PostgreSQL cannot store")
	}
	pw, _ := pg.Handles()
	for _, table := range []string{"members", "tokens", "secrets", "attr_values"} {
		var n int
		if err := pw.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s has %d rows after a failed copy (%v)", table, n, err)
		}
	}
}

// TestBackupOnline takes a backup while a writer keeps creating users: the
// backup opens as a store, passes SQLite's integrity check, and holds every
// user created before it started.
func TestBackupOnline(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	s := openSQLite(t, dir)
	fill(t, s)
	user := schema.Default().ResourceType("User")
	var created atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			r := &store.Resource{Tenant: store.DefaultTenant, Type: "User", ID: fmt.Sprintf("w%05d", i), Version: 1, Created: t0, Modified: t0,
				Doc: schema.Doc{"userName": fmt.Sprintf("writer%05d", i)}}
			if err := s.Create(ctx, user, r, nil); err != nil {
				t.Error(err)
				return
			}
			created.Add(1)
		}
	}()
	for created.Load() < 20 {
		time.Sleep(time.Millisecond)
	}
	before := created.Load()
	bdir := filepath.Join(t.TempDir(), "backup")
	path, err := storecopy.Backup(ctx, s, bdir)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	var ok string
	if err := raw.QueryRow(`PRAGMA integrity_check`).Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q %v", ok, err)
	}
	raw.Close()
	b := openSQLite(t, bdir)
	p, err := b.List(ctx, store.Query{Tenant: store.DefaultTenant, Type: user, Count: 0})
	if err != nil {
		t.Fatal(err)
	}
	if int64(p.Total) < 20+before {
		t.Errorf("backup holds %d users, want at least %d", p.Total, 20+before)
	}
	if _, err := storecopy.Backup(ctx, s, bdir); err == nil {
		t.Error("backup into a non-empty directory: no error")
	}
}

func TestBackupPostgresRefused(t *testing.T) {
	pg := openPostgres(t)
	if _, err := storecopy.Backup(context.Background(), pg, t.TempDir()); !errors.Is(err, storecopy.ErrNotSQLite) {
		t.Fatalf("got %v, want ErrNotSQLite", err)
	}
}
