package filter

import (
	"database/sql"
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/pamscim/pamscim/internal/schema"
)

// The tables of the store's first migration, as the brief gives them.
const testSchema = `
CREATE TABLE resources (
  tenant TEXT NOT NULL, rtype TEXT NOT NULL, id TEXT NOT NULL,
  ext_id TEXT, ukey TEXT, dname TEXT, active INTEGER,
  doc TEXT NOT NULL, version INTEGER NOT NULL,
  created INTEGER NOT NULL, modified INTEGER NOT NULL,
  PRIMARY KEY (tenant, id)) WITHOUT ROWID;
CREATE TABLE members (tenant TEXT, group_id TEXT, member_id TEXT, member_type TEXT, PRIMARY KEY(tenant, group_id, member_id)) WITHOUT ROWID;
CREATE INDEX members_rev ON members(tenant, member_id, group_id);
CREATE TABLE attr_values (tenant TEXT, rtype TEXT, attr TEXT, val TEXT, res_id TEXT, PRIMARY KEY(tenant, rtype, attr, val, res_id)) WITHOUT ROWID;
`

const testTenant = "t1"

// testRegistry is the default registry plus an extension with the types
// RFC 7643's User lacks (dateTime, integer, decimal, binary, multi-valued
// strings), so that Compile is tested on every type.
func testRegistry() *schema.Registry {
	reg := schema.Default()
	ext := &schema.Schema{ID: extraURN, Name: "Extra", Attributes: []*schema.Attribute{
		{Name: "hired", Type: schema.TypeDateTime},
		{Name: "level", Type: schema.TypeInteger},
		{Name: "score", Type: schema.TypeDecimal},
		{Name: "badge", Type: schema.TypeBinary},
		{Name: "tags", Type: schema.TypeString, MultiValued: true},
		{Name: "code", Type: schema.TypeString, CaseExact: true},
		{Name: "flag", Type: schema.TypeBoolean},
	}}
	reg.AddSchema(ext, true)
	u := reg.ResourceType("User")
	u.Extensions = append(u.Extensions, schema.Extension{Schema: ext})
	return reg
}

const extraURN = "urn:pamscim:test:2.0:Extra"

type testDB struct {
	t  testing.TB
	db *sql.DB
	tx *sql.Tx // when set, insert writes through it
	d  Dialect // SQLite unless set
}

func (d *testDB) dialect() Dialect {
	if d.d == nil {
		return SQLite
	}
	return d.d
}

// questionN matches the ?N placeholders the test statements are written
// with; PostgreSQL wants $N.
var questionN = regexp.MustCompile(`\?(\d+)`)

func (d *testDB) rebind(q string) string {
	if _, ok := d.dialect().(PostgresDialect); ok {
		return questionN.ReplaceAllString(q, "$$$1")
	}
	return q
}

func (d *testDB) exec(q string, args ...any) (sql.Result, error) {
	q = d.rebind(q)
	if d.tx != nil {
		return d.tx.Exec(q, args...)
	}
	return d.db.Exec(q, args...)
}

func openTestDB(t testing.TB) *testDB {
	t.Helper()
	return openTestDSN(t, "file:"+filepath.Join(t.TempDir(), "f.db")+"?_pragma=journal_mode(WAL)")
}

func openTestDSN(t testing.TB, dsn string) *testDB {
	t.Helper()
	RegisterSQLiteFunctions()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(testSchema); err != nil {
		t.Fatal(err)
	}
	return &testDB{t: t, db: db}
}

// insert stores r the way the store does: hot columns computed from the
// document (sqlstore.columns), folded e-mail values in attr_values,
// members in the members table.
func (d *testDB) insert(tenant string, rt *schema.ResourceType, r *Resource) {
	d.t.Helper()
	body, err := json.Marshal(r.Doc)
	if err != nil {
		d.t.Fatal(err)
	}
	var ext, ukey, dname, active any
	if s, ok := r.Doc["externalId"].(string); ok {
		ext = s
	}
	if a := rt.UniqueAttr; a != nil {
		if s, ok := r.Doc[a.Name].(string); ok {
			ukey = a.Key(s) // as the store keeps it
		}
	}
	if a := rt.DisplayAttr; a != nil {
		if s, ok := r.Doc[a.Name].(string); ok {
			dname = fold(s)
		}
	}
	if b, ok := r.Doc["active"].(bool); ok && rt.Schema.Attr("active") != nil {
		active = b // SQLite binds a bool as 1 or 0
	}
	_, err = d.exec(`INSERT INTO resources VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10)`,
		tenant, rt.Name, r.ID, ext, ukey, dname, active, string(body), r.Created.UnixMicro(), r.Modified.UnixMicro())
	if err != nil {
		d.t.Fatal(err)
	}
	for _, p := range DefaultIndexed[rt.Name] {
		attr, sub, _ := strings.Cut(p, ".")
		list, _ := r.Doc[attr].([]any)
		seen := map[string]bool{}
		for _, el := range list {
			m, _ := el.(map[string]any)
			if s, ok := m[sub].(string); ok && !seen[fold(s)] {
				seen[fold(s)] = true
				if _, err := d.exec(`INSERT INTO attr_values VALUES (?1, ?2, ?3, ?4, ?5)`, tenant, rt.Name, p, fold(s), r.ID); err != nil {
					d.t.Fatal(err)
				}
			}
		}
	}
	for _, m := range r.Members {
		if _, err := d.exec(`INSERT INTO members VALUES (?1, ?2, ?3, ?4)`, tenant, r.ID, m.ID, m.Type); err != nil {
			d.t.Fatal(err)
		}
	}
}

// query runs a compiled filter the way the store's List does and returns
// the matching ids in order.
func (d *testDB) query(tenant string, rt *schema.ResourceType, e Expr) ([]string, string, error) {
	where := d.rebind("r.tenant = ?1 AND r.rtype = ?2")
	args := []any{tenant, rt.Name}
	if e != nil {
		frag, fargs, err := Compile(e, d.dialect(), 3)
		if err != nil {
			return nil, "", err
		}
		where += " AND (" + frag + ")"
		args = append(args, fargs...)
	}
	q := "SELECT r.id FROM resources r WHERE " + where + " ORDER BY r.id"
	rows, err := d.db.Query(q, args...)
	if err != nil {
		return nil, q, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, q, err
		}
		ids = append(ids, id)
	}
	return ids, q, rows.Err()
}

func evalIDs(rt *schema.ResourceType, e Expr, rs []*Resource) []string {
	var ids []string
	for _, r := range rs {
		if Eval(rt, e, r) {
			ids = append(ids, r.ID)
		}
	}
	slices.Sort(ids)
	return ids
}

// mustBind parses and binds, failing the test on error.
func mustBind(t testing.TB, rt *schema.ResourceType, f string) Expr {
	t.Helper()
	e, err := Parse(f)
	if err != nil {
		t.Fatalf("Parse(%q): %v", f, err)
	}
	b, err := Bind(rt, e)
	if err != nil {
		t.Fatalf("Bind(%q): %v", f, err)
	}
	return b
}

// doc decodes a JSON document with numbers as json.Number, as the store does.
func doc(t testing.TB, s string) schema.Doc {
	t.Helper()
	d, err := schema.DecodeObject([]byte(s))
	if err != nil {
		t.Fatalf("doc %s: %v", s, err)
	}
	return d
}

var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
