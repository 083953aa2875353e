package filter

import (
	"database/sql"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store/postgres/pgtest"
)

// The tables of the store's PostgreSQL migration, as the dialect expects
// them: jsonb documents, byte-wise ("C") text keys, a boolean active.
const testSchemaPostgres = `
CREATE TABLE resources (
  tenant text COLLATE "C" NOT NULL, rtype text COLLATE "C" NOT NULL, id text COLLATE "C" NOT NULL,
  ext_id text COLLATE "C", ukey text COLLATE "C", dname text COLLATE "C", active boolean,
  doc jsonb NOT NULL, version bigint NOT NULL,
  created bigint NOT NULL, modified bigint NOT NULL,
  PRIMARY KEY (tenant, id));
CREATE TABLE members (tenant text COLLATE "C", group_id text COLLATE "C", member_id text COLLATE "C", member_type text COLLATE "C", PRIMARY KEY(tenant, group_id, member_id));
CREATE INDEX members_rev ON members(tenant, member_id, group_id);
CREATE TABLE attr_values (tenant text COLLATE "C", rtype text COLLATE "C", attr text COLLATE "C", val text COLLATE "C", res_id text COLLATE "C", PRIMARY KEY(tenant, rtype, attr, val, res_id));
`

func openPostgresTestDB(t testing.TB) *testDB {
	t.Helper()
	db, _ := pgtest.Open(t)
	if _, err := db.Exec(testSchemaPostgres + PostgresFunctions()); err != nil {
		t.Fatal(err)
	}
	return &testDB{t: t, db: db, d: Postgres}
}

// forBackends runs a test that compares SQL with Eval on SQLite and on
// PostgreSQL (which skips without PAMSCIM_TEST_POSTGRES, and fails under
// CI=true).
func forBackends(t *testing.T, test func(*testing.T, func(testing.TB) *testDB)) {
	t.Run("sqlite", func(t *testing.T) { test(t, openTestDB) })
	t.Run("postgres", func(t *testing.T) { test(t, openPostgresTestDB) })
}

// TestPostgresTimeMatchesGo checks scim_time against schema.ParseDateTime
// on the forms Go accepts and the near misses it refuses.
func TestPostgresTimeMatchesGo(t *testing.T) {
	db := openPostgresTestDB(t)
	for _, s := range []string{
		"2024-01-02T03:04:05Z", "2024-01-02T3:04:05Z", "2024-01-02T03:04:05,5Z", "2024-01-02T03:04:05.1234567891234Z",
		"2024-01-02T03:04:05+24:00", "2024-01-02T03:04:05+23:59", "2024-01-02T03:04:05-05:30", "2024-01-02T03:04:05.123-05:30",
		"2024-01-02T03:04:05", "2024-01-02T03:04:05.5", "0000-01-02T03:04:05Z", "0000-03-01T00:00:00Z", "1969-12-31T23:59:59.999999Z",
		"2000-02-29T00:00:00Z", "2100-02-28T23:59:59Z", "9999-12-31T23:59:59.999999999Z", "1970-01-01T00:00:00Z",
		// refused
		"2024-01-02t03:04:05Z", "2024-01-02T03:04:05z", "2024-02-30T03:04:05Z", "2100-02-29T00:00:00Z", "2024-01-02T03:04:05.Z",
		"2024-01-02T03:04:05+0100", "2024-01-02T03:04:05+01", "2024-01-02T24:00:00Z", "2024-01-02T03:04:60Z",
		"2024-01-02 03:04:05Z", "2024-13-01T00:00:00Z", "2024-00-01T00:00:00Z", "2024-01-00T00:00:00Z", "", "x",
		"2024-01-02T03:04:05+25:00", "２０２４-01-02T03:04:05Z",
	} {
		var got sql.NullInt64
		if err := db.db.QueryRow(`SELECT scim_time($1)`, s).Scan(&got); err != nil {
			t.Fatalf("scim_time(%q): %v", s, err)
		}
		want := sql.NullInt64{}
		if tm, err := schema.ParseDateTime(s); err == nil {
			want = sql.NullInt64{Int64: tm.UnixMicro(), Valid: true}
		}
		if got != want {
			t.Errorf("scim_time(%q) = %v, Go says %v (%s)", s, got, want, time.UnixMicro(want.Int64).UTC())
		}
	}
}

// TestPostgresFoldMatchesGo checks scim_fold against fold on every rune
// that Go's folding changes, and on text mixing ASCII and other runes.
func TestPostgresFoldMatchesGo(t *testing.T) {
	db := openPostgresTestDB(t)
	var all []rune
	for r := rune(1); r < 0x20000; r++ {
		if r >= 0xD800 && r < 0xE000 {
			continue
		}
		all = append(all, r)
	}
	for i := 0; i < len(all); i += 4000 {
		s := string(all[i:min(i+4000, len(all))])
		var got string
		if err := db.db.QueryRow(`SELECT scim_fold($1)`, s).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := fold(s); got != want {
			gr, wr := []rune(got), []rune(want)
			for j := range wr {
				if j >= len(gr) || gr[j] != wr[j] {
					t.Fatalf("scim_fold differs from strings.ToLower at %U", []rune(s)[j])
				}
			}
			t.Fatalf("scim_fold differs from strings.ToLower in length")
		}
	}
	for _, s := range []string{"ABC", "İSTANBUL", "Straße", "\u212aELVIN", "ǄǅǆDŽ", "MixED Ünïcödé Ω"} {
		var got string
		if err := db.db.QueryRow(`SELECT scim_fold($1)`, s).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != fold(s) {
			t.Errorf("scim_fold(%q) = %q, want %q", s, got, fold(s))
		}
	}
}
