package postgres_test

import (
	"context"
	"database/sql"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/filter"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/postgres"
	"github.com/pamscim/pamscim/internal/store/postgres/pgtest"
	"github.com/pamscim/pamscim/internal/store/sqlite"
	"github.com/pamscim/pamscim/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, reg *schema.Registry) store.Store {
		s, err := postgres.Open(context.Background(), pgtest.Schema(t), reg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestConcurrentMigrate starts several stores at once on one empty schema:
// every migration must be applied exactly once and every store must open.
func TestConcurrentMigrate(t *testing.T) {
	u := pgtest.Schema(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(context.Background(), u, schema.Default())
			if err == nil {
				err = s.Ping(context.Background())
				s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	db := pgtest.OpenURL(t, u)
	var rows, distinct int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	files, _ := fs.Glob(postgres.Migrations(), "*.sql")
	if rows != len(files) || distinct != len(files) {
		t.Errorf("schema_migrations has %d rows (%d versions), want %d", rows, distinct, len(files))
	}
	var tenants int
	if err := db.QueryRow(`SELECT count(*) FROM tenants`).Scan(&tenants); err != nil || tenants != 1 {
		t.Errorf("tenants: %d rows (%v), want the one default tenant", tenants, err)
	}
}

// TestMigrationsMirrorSQLite: every SQLite migration has a PostgreSQL one
// of the same name, so both stores have the same tables at every version.
func TestMigrationsMirrorSQLite(t *testing.T) {
	names := func(dir string) []string {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range ents {
			if strings.HasSuffix(e.Name(), ".sql") {
				out = append(out, e.Name())
			}
		}
		sort.Strings(out)
		return out
	}
	lite, pg := names(filepath.Join("..", "sqlite", "migrations")), names("migrations")
	have := map[string]bool{}
	for _, n := range pg {
		have[n] = true
	}
	for _, n := range lite {
		if !have[n] {
			t.Errorf("internal/store/sqlite/migrations/%s has no PostgreSQL twin in internal/store/postgres/migrations", n)
		}
		delete(have, n)
	}
	for n := range have {
		t.Errorf("internal/store/postgres/migrations/%s has no SQLite twin", n)
	}
}

// TestMigrationHasFilterFunctions: the SQL functions the filter dialect
// calls are the ones a migration creates; changing filter.PostgresFunctions
// needs a new migration.
func TestMigrationHasFilterFunctions(t *testing.T) {
	want := filter.PostgresFunctions()
	files, _ := fs.Glob(postgres.Migrations(), "*.sql")
	for i := len(files) - 1; i >= 0; i-- {
		b, _ := fs.ReadFile(postgres.Migrations(), files[i])
		if strings.Contains(string(b), "CREATE OR REPLACE FUNCTION scim_fold") {
			if !strings.Contains(string(b), want) {
				t.Fatalf("%s defines scim_fold/scim_time differently from filter.PostgresFunctions(); add a migration with the new text", files[i])
			}
			return
		}
	}
	t.Fatal("no migration creates the filter functions")
}

func TestRedact(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"postgres://app:s3cret@db:5432/x?sslmode=require", "postgres://app:xxxxx@db:5432/x?sslmode=require"},
		{"postgres://app@db/x", "postgres://app@db/x"},
	} {
		if got := postgres.Redact(c.in); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestOpenErrors: a bad URL or an unreachable server is a clear error
// without the password in it.
func TestOpenErrors(t *testing.T) {
	for _, u := range []string{
		"mysql://x",
		"postgres://app:s3cret@127.0.0.1:1/x?sslmode=disable&connect_timeout=2",
		"postgres://app:s3cret@127.0.0.1:5432/x?sslmode=bogus",
		"postgres://app:s3cret@127.0.0.1:5432/x?pool_max_conns=zero",
		// TLS settings are honoured: a CA file that does not exist.
		"postgres://app:s3cret@127.0.0.1:5432/x?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
	} {
		_, err := postgres.Open(context.Background(), u, schema.Default())
		if err == nil {
			t.Errorf("Open(%q): no error", u)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q): error shows the password: %v", u, err)
		}
	}
}

// TestValuesPostgresCannotStore: a NUL character, or an indexed value
// longer than a btree entry, is the client's invalidValue, not a 500; and
// nothing is stored.
func TestValuesPostgresCannotStore(t *testing.T) {
	ctx := context.Background()
	reg := schema.Default()
	s, err := postgres.Open(ctx, pgtest.Schema(t), reg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	user := reg.ResourceType("User")
	now := time.Now()
	for name, doc := range map[string]schema.Doc{
		"NUL in a document value": {"userName": "nul", "title": "a\x00b"},
		"NUL in a key column":     {"userName": "a\x00b"},
		"huge indexed value":      {"userName": incompressible(9000)},
	} {
		r := &store.Resource{Tenant: store.DefaultTenant, Type: "User", ID: "id-" + strings.ReplaceAll(name, " ", "-"), Doc: doc, Version: 1, Created: now, Modified: now}
		err := s.Create(ctx, user, r, nil)
		if k := scimerr.KindOf(err); k != scimerr.InvalidValue {
			t.Errorf("%s: got %v (%v), want InvalidValue", name, k, err)
		}
		if _, err := s.Get(ctx, user, store.DefaultTenant, r.ID, store.GetOptions{}); scimerr.KindOf(err) != scimerr.NotFound {
			t.Errorf("%s: stored after all (%v)", name, err)
		}
	}
}

// incompressible returns n characters that PostgreSQL's index compression
// cannot shrink below a btree entry's limit.
func incompressible(n int) string {
	var b strings.Builder
	x := uint32(2463534242)
	for b.Len() < n {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.WriteByte("abcdefghijklmnopqrstuvwxyz0123456789"[x%36])
	}
	return b.String()
}

// TestSchemasMatchSQLite: after all migrations both stores have the same
// tables with the same columns, so the SQL written once in sqlstore and
// pamscim copy work on either.
func TestSchemasMatchSQLite(t *testing.T) {
	ctx := context.Background()
	pg, err := postgres.Open(ctx, pgtest.Schema(t), schema.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	lite, err := sqlite.Open(ctx, t.TempDir(), schema.Default(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	columns := func(db *sql.DB, q string) map[string]bool {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]bool{}
		for rows.Next() {
			var table, col string
			if err := rows.Scan(&table, &col); err != nil {
				t.Fatal(err)
			}
			out[table+"."+col] = true
		}
		return out
	}
	pw, _ := pg.Handles()
	lw, _ := lite.Handles()
	p := columns(pw, `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`)
	l := columns(lw, `SELECT m.name, c.name FROM sqlite_master m, pragma_table_info(m.name) c WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`)
	for c := range l {
		if !p[c] {
			t.Errorf("SQLite has %s, PostgreSQL does not", c)
		}
	}
	for c := range p {
		if !l[c] {
			t.Errorf("PostgreSQL has %s, SQLite does not", c)
		}
	}
	if len(p) < 20 {
		t.Fatalf("only %d columns found", len(p))
	}
}
