// Package sqlstore implements store.Store over database/sql. The SQL is
// written once, in PostgreSQL's $N placeholder style; a Flavor adapts it to
// each engine (SQLite rewrites $N to ?N, which binds by number in every
// driver — a bare ? does not, see STACK.md §2.2). The sqlite and postgres
// packages open the connections and pick the flavor.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pamscim/pamscim/internal/filter"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// Flavor is what differs between SQL engines.
type Flavor struct {
	Name string
	// Rebind rewrites $N placeholders for the engine.
	Rebind func(string) string
	// IsUnique reports whether err is a unique-constraint violation.
	IsUnique func(error) bool
	// IsRetryable reports whether a transaction should be retried
	// (serialization failure, deadlock).
	IsRetryable func(error) bool
	// ForUpdate is appended to the SELECT that reads a row about to be updated.
	ForUpdate string
	// ForShare is appended to the SELECT that checks that the members being
	// added exist, so that a concurrent Delete of one waits (PostgreSQL;
	// SQLite has one writer at a time).
	ForShare string
	// JSONText returns the SQL text value of the top-level key of the JSON
	// document doc; SQLite's json_extract when nil.
	JSONText func(doc, key string) string
	// MapError, when set, turns an engine error from a write into a typed
	// error (a value the engine cannot store is the client's mistake).
	MapError func(error) error
	// CompileFilter compiles a bound filter expression into a WHERE fragment
	// whose placeholders start at $first.
	CompileFilter func(expr any, first int) (string, []any, error)
	// Optimize is the statement that refreshes planner statistics.
	Optimize string
	// OrderBy returns the SQL sort key of a path.
	OrderBy func(rt *schema.ResourceType, p *schema.Path) (string, error)
	// GroupCommit, above 1, runs concurrent resource writes and audit
	// events in shared transactions of up to that many (group.go).
	GroupCommit int
}

var dollarN = regexp.MustCompile(`\$(\d+)`)

// RebindQuestion rewrites $N to ?N (SQLite).
func RebindQuestion(q string) string { return dollarN.ReplaceAllString(q, "?$1") }

// DB is a store.Store over one database. Writes go through wdb, reads
// through rdb; for SQLite they are two pools on one file (one writer
// connection, many readers), for PostgreSQL the same pool.
type DB struct {
	wdb, rdb *sql.DB
	f        Flavor
	reg      *schema.Registry
	// indexed lists the multi-valued sub-attribute paths copied into
	// attr_values, per resource type name.
	indexed map[string][]string
	qcache  sync.Map
	gcache  sync.Map // groupsSQL's queries by number of resources
	// guard enforces the rules across resources (internal/pam).
	guard store.Guard
	// group commits concurrent writes together (nil: each alone).
	group *committer
	// epoch counts token revocations (store.TokenEpoch).
	epoch atomic.Uint64
	// writes counts write transactions (store.WriteEpoch).
	writes atomic.Uint64
}

var (
	_ store.TokenEpoch = (*DB)(nil)
	_ store.WriteEpoch = (*DB)(nil)
)

// WriteEpoch returns the number of write transactions made through db.
func (db *DB) WriteEpoch() uint64 { return db.writes.Load() }

// TokenEpoch returns the number of revocations made through db.
func (db *DB) TokenEpoch() uint64 { return db.epoch.Load() }

// revoked moves the token epoch. Callers defer it, so it moves after the
// revoking transaction has committed (or failed): a cache that read the
// epoch before reading a token then sees the move.
func (db *DB) revoked() { db.epoch.Add(1) }

var _ store.Store = (*DB)(nil)

// New returns a store over already-migrated databases.
func New(wdb, rdb *sql.DB, f Flavor, reg *schema.Registry) *DB {
	// The filter compiler reads attr_values for the same paths, so both
	// take them from one list.
	db := &DB{wdb: wdb, rdb: rdb, f: f, reg: reg, indexed: filter.DefaultIndexed}
	if f.GroupCommit > 1 {
		db.group = newCommitter(db, f.GroupCommit)
	}
	return db
}

// Close closes both pools, after the group of writes being committed.
func (db *DB) Close() error {
	if db.group != nil {
		db.group.close()
	}
	err := db.wdb.Close()
	if db.rdb != db.wdb {
		if e := db.rdb.Close(); err == nil {
			err = e
		}
	}
	return err
}

// Ping checks the store answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.rdb.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// q returns the query rebound for the flavor, cached.
func (db *DB) q(s string) string {
	if v, ok := db.qcache.Load(s); ok {
		return v.(string)
	}
	r := db.f.Rebind(s)
	db.qcache.Store(s, r)
	return r
}

func micros(t time.Time) int64 { return t.UTC().UnixMicro() }
func fromMicros(v int64) time.Time {
	return time.UnixMicro(v).UTC()
}

// fold is the case folding used for every case-insensitive key. The filter
// compiler binds values folded with the same function.
func fold(s string) string { return strings.ToLower(s) }

// columns computes the hot lookup columns of a document.
func columns(rt *schema.ResourceType, doc schema.Doc) (ext, ukey, dname sql.NullString, active sql.NullBool) {
	if s, ok := doc["externalId"].(string); ok {
		ext = sql.NullString{String: s, Valid: true}
	}
	if a := rt.UniqueAttr; a != nil {
		if s, ok := doc[a.Name].(string); ok {
			// PRECIS for userName (schema.PrepareUserName), lower
			// case for other names; filters bind their values alike.
			ukey = sql.NullString{String: a.Key(s), Valid: true}
		}
	}
	if rt.UniqueKey != nil {
		if k := rt.UniqueKey(doc); k != "" {
			ukey = sql.NullString{String: k, Valid: true}
		}
	}
	if a := rt.DisplayAttr; a != nil {
		if s, ok := doc[a.Name].(string); ok {
			dname = sql.NullString{String: fold(s), Valid: true}
		}
	}
	if b, ok := doc["active"].(bool); ok && rt.Schema.Attr("active") != nil {
		// SQLite stores it as 1 or 0, PostgreSQL as a boolean.
		active = sql.NullBool{Bool: b, Valid: true}
	}
	return
}

// indexedValues returns the folded values of the indexed multi-valued
// attributes of doc, as (attr path, value) pairs.
func (db *DB) indexedValues(rt *schema.ResourceType, doc schema.Doc) [][2]string {
	var out [][2]string
	for _, p := range db.indexed[rt.Name] {
		attr, sub, _ := strings.Cut(p, ".")
		list, _ := doc[attr].([]any)
		if m, ok := doc[attr].(map[string]any); ok {
			list = []any{m} // a single-valued reference such as container.value
		}
		seen := map[string]bool{}
		for _, el := range list {
			m, _ := el.(map[string]any)
			if s, ok := m[sub].(string); ok && !seen[fold(s)] {
				seen[fold(s)] = true
				out = append(out, [2]string{p, fold(s)})
			}
		}
	}
	return out
}

func encodeDoc(doc schema.Doc) (string, error) {
	b, err := json.Marshal(doc)
	return string(b), err
}

func decodeDoc(s string) (schema.Doc, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}

func (db *DB) uniqueErr(rt *schema.ResourceType, doc schema.Doc) error {
	name, val := "unique attribute", ""
	if rt.UniqueName != "" {
		return scimerr.New(scimerr.Uniqueness, "a %s already exists", rt.UniqueName)
	}
	if rt.UniqueAttr != nil {
		name = rt.UniqueAttr.Name
		val, _ = doc[name].(string)
	}
	return scimerr.New(scimerr.Uniqueness, "%s %q is already in use by another %s", name, val, rt.Name)
}

// withTx runs fn in a write transaction, retrying serialization failures.
func (db *DB) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	// The epoch moves after the commit (or failure), before the writer is
	// answered: a reader that read it before counting sees the move.
	defer db.writes.Add(1)
	for attempt := 0; ; attempt++ {
		tx, err := db.wdb.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		err = fn(tx)
		if err == nil {
			err = tx.Commit()
		} else {
			_ = tx.Rollback()
		}
		if err != nil && db.f.IsRetryable != nil && db.f.IsRetryable(err) && attempt < 10 {
			time.Sleep(time.Duration(attempt+1) * time.Millisecond)
			continue
		}
		if err != nil && db.f.MapError != nil {
			err = db.f.MapError(err)
		}
		return err
	}
}

// Create stores a new resource with its initial members.
func (db *DB) Create(ctx context.Context, rt *schema.ResourceType, r *store.Resource, members []string) error {
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		t := &txn{db: db, tx: tx, tenant: r.Tenant, id: r.ID, rt: rt, creating: true, pending: dedupe(members)}
		if _, err := db.guardWrite(ctx, t, r, nil, t.pending); err != nil {
			return err
		}
		t.creating = false
		if err := db.insert(ctx, tx, rt, r); err != nil {
			return err
		}
		if len(members) > 0 {
			if _, err := t.AddMembers(ctx, members); err != nil {
				return err
			}
			if labels := store.Labels(r.Members); len(labels) > 0 {
				if err := t.LabelMembers(ctx, labels); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// insert writes one new resource row and its indexed values.
func (db *DB) insert(ctx context.Context, tx *sql.Tx, rt *schema.ResourceType, r *store.Resource) error {
	body, err := encodeDoc(r.Doc)
	if err != nil {
		return err
	}
	ext, ukey, dname, active := columns(rt, r.Doc)
	_, err = tx.ExecContext(ctx, db.q(`INSERT INTO resources (tenant, rtype, id, ext_id, ukey, dname, active, doc, version, created, modified)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`),
		r.Tenant, rt.Name, r.ID, ext, ukey, dname, active, body, r.Version, micros(r.Created), micros(r.Modified))
	if err != nil {
		if db.f.IsUnique(err) {
			return db.uniqueErr(rt, r.Doc)
		}
		return fmt.Errorf("insert resource: %w", err)
	}
	return db.writeIndexed(ctx, tx, rt, r.Tenant, r.ID, r.Doc, false)
}

func (db *DB) writeIndexed(ctx context.Context, tx *sql.Tx, rt *schema.ResourceType, tenant, id string, doc schema.Doc, replace bool) error {
	if len(db.indexed[rt.Name]) == 0 {
		return nil
	}
	if replace {
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM attr_values WHERE tenant = $1 AND res_id = $2`), tenant, id); err != nil {
			return err
		}
	}
	for _, kv := range db.indexedValues(rt, doc) {
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO attr_values (tenant, rtype, attr, val, res_id) VALUES ($1, $2, $3, $4, $5)`),
			tenant, rt.Name, kv[0], kv[1], id); err != nil {
			return fmt.Errorf("index values: %w", err)
		}
	}
	return nil
}

const selectCols = `id, doc, version, created, modified`

type rowScanner interface{ Scan(...any) error }

func scanResource(s rowScanner, tenant string, rt *schema.ResourceType) (*store.Resource, error) {
	var (
		r        = &store.Resource{Tenant: tenant, Type: rt.Name}
		body     string
		cr, modi int64
	)
	if err := s.Scan(&r.ID, &body, &r.Version, &cr, &modi); err != nil {
		return nil, err
	}
	doc, err := decodeDoc(body)
	if err != nil {
		return nil, fmt.Errorf("stored document of %s %s: %w", rt.Name, r.ID, err)
	}
	r.Doc, r.Created, r.Modified = doc, fromMicros(cr), fromMicros(modi)
	return r, nil
}

func notFound(rt *schema.ResourceType, id string) error {
	return scimerr.New(scimerr.NotFound, "%s %q not found", rt.Name, id)
}

// Get returns one resource.
func (db *DB) Get(ctx context.Context, rt *schema.ResourceType, tenant, id string, opt store.GetOptions) (*store.Resource, error) {
	row := db.rdb.QueryRowContext(ctx, db.q(`SELECT `+selectCols+` FROM resources WHERE tenant = $1 AND id = $2 AND rtype = $3`), tenant, id, rt.Name)
	r, err := scanResource(row, tenant, rt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(rt, id)
	}
	if err != nil {
		return nil, err
	}
	if err := db.loadRelations(ctx, db.rdb, rt, []*store.Resource{r}, opt); err != nil {
		return nil, err
	}
	return r, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// groupsSQL returns groupsOfMany's two queries for n resources, built once
// per n (the display expression walks the registry).
func (db *DB) groupsSQL(n int) (probe, walk string) {
	if v, ok := db.gcache.Load(n); ok {
		q := v.(*[2]string)
		return q[0], q[1]
	}
	in := placeholders(2, n)
	q := &[2]string{
		db.f.Rebind(`SELECT 1 FROM members WHERE tenant = $1 AND member_id IN (` + in + `) LIMIT 1`),
		db.f.Rebind(`WITH RECURSIVE g(member, id, direct) AS (
			SELECT member_id, group_id, 1 FROM members WHERE tenant = $1 AND member_id IN (` + in + `)
			UNION
			SELECT g.member, m.group_id, 0 FROM g CROSS JOIN members m WHERE m.tenant = $1 AND m.member_id = g.id
		)
		SELECT g.member, g.id, max(g.direct), (SELECT ` + db.displayExpr("r") + ` FROM resources r WHERE r.tenant = $1 AND r.id = g.id)
		FROM g GROUP BY g.member, g.id ORDER BY g.member, g.id`),
	}
	db.gcache.Store(n, q)
	return q[0], q[1]
}

// displayExpr is the SQL expression for the display name of a referenced
// resource: its DisplayAttr, else its UniqueAttr.
func (db *DB) displayExpr(alias string) string {
	var names []string
	seen := map[string]bool{}
	for _, rt := range db.reg.ResourceTypes() {
		for _, a := range []*schema.Attribute{rt.DisplayAttr, rt.UniqueAttr} {
			if a != nil && !seen[a.Name] {
				seen[a.Name] = true
				names = append(names, db.jsonText(alias+".doc", a.Name))
			}
		}
	}
	if len(names) == 0 {
		return "''"
	}
	return "coalesce(" + strings.Join(names, ", ") + ", '')"
}

// jsonText is the text value of a top-level key of a JSON document column.
func (db *DB) jsonText(doc, key string) string {
	if db.f.JSONText != nil {
		return db.f.JSONText(doc, key)
	}
	return fmt.Sprintf("json_extract(%s, '$.%s')", doc, key)
}

func (db *DB) loadRelations(ctx context.Context, q querier, rt *schema.ResourceType, rs []*store.Resource, opt store.GetOptions) error {
	if len(rs) == 0 {
		return nil
	}
	if opt.Members && rt.RelAttr(schema.RelMembers) != nil {
		for _, r := range rs {
			ms, err := db.members(ctx, q, r.Tenant, r.ID)
			if err != nil {
				return err
			}
			r.Members = ms
		}
	}
	if opt.Groups && rt.RelAttr(schema.RelGroups) != nil {
		// One query for the whole page, not one per resource.
		byID := make(map[string]*store.Resource, len(rs))
		ids := make([]string, 0, len(rs))
		for _, r := range rs {
			byID[r.ID] = r
			ids = append(ids, r.ID)
			r.Groups = nil
		}
		for _, c := range chunks(ids) {
			if err := db.groupsOfMany(ctx, q, rs[0].Tenant, c, byID); err != nil {
				return err
			}
		}
	}
	return nil
}

// groupsOfMany reads the groups (direct and nested) of several resources
// at once into their Groups fields. The recursive step is a CROSS JOIN so
// that SQLite walks the few groups found so far and probes members_rev
// for each; joined the other way it read every membership of the tenant
// for each step (a user in a group of 10,000: 0.5 ms → 2.9 ms per GET).
// PostgreSQL plans it by its statistics either way.
//
// A probe of members_rev comes first: when none of the resources is a
// member of anything (a new user, most of a directory before its groups
// are pushed) the recursive query is not run. Its setup (the UNION's and
// the GROUP BY's temporary tables, the sorter) was a tenth of a userName
// lookup for a user in no group; the probe is one index seek.
func (db *DB) groupsOfMany(ctx context.Context, q querier, tenant string, ids []string, byID map[string]*store.Resource) error {
	args := make([]any, 0, 1+len(ids))
	args = append(args, tenant)
	for _, id := range ids {
		args = append(args, id)
	}
	probe, walk := db.groupsSQL(len(ids))
	var one int
	switch err := q.QueryRowContext(ctx, probe, args...).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("read groups: %w", err)
	}
	rows, err := q.QueryContext(ctx, walk, args...)
	if err != nil {
		return fmt.Errorf("read groups: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var member string
		var g store.GroupRef
		var direct int
		if err := rows.Scan(&member, &g.ID, &direct, &g.Display); err != nil {
			return err
		}
		g.Direct = direct == 1
		if r := byID[member]; r != nil {
			r.Groups = append(r.Groups, g)
		}
	}
	return rows.Err()
}

func (db *DB) members(ctx context.Context, q querier, tenant, id string) ([]store.Member, error) {
	rows, err := q.QueryContext(ctx, db.q(`SELECT m.member_id, m.member_type, coalesce(m.label, `+db.displayExpr("r")+`)
		FROM members m LEFT JOIN resources r ON r.tenant = m.tenant AND r.id = m.member_id
		WHERE m.tenant = $1 AND m.group_id = $2 ORDER BY m.member_id`), tenant, id)
	if err != nil {
		return nil, fmt.Errorf("read members: %w", err)
	}
	defer rows.Close()
	out := []store.Member{}
	for rows.Next() {
		var m store.Member
		if err := rows.Scan(&m.ID, &m.Type, &m.Display); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// Update runs fn on the current resource in one write transaction.
func (db *DB) Update(ctx context.Context, rt *schema.ResourceType, tenant, id string, now time.Time, fn store.UpdateFunc) (*store.Resource, error) {
	var out *store.Resource
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		out = nil
		row := tx.QueryRowContext(ctx, db.q(`SELECT `+selectCols+` FROM resources WHERE tenant = $1 AND id = $2 AND rtype = $3`+db.f.ForUpdate), tenant, id, rt.Name)
		cur, err := scanResource(row, tenant, rt)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(rt, id)
		}
		if err != nil {
			return err
		}
		before, _ := encodeDoc(cur.Doc)
		t := &txn{db: db, tx: tx, tenant: tenant, id: id, rt: rt}
		changed, err := fn(ctx, cur, t)
		if err != nil {
			return err
		}
		old, err := decodeDoc(before)
		if err != nil {
			return err
		}
		sealed, err := db.guardWrite(ctx, t, cur, old, t.added)
		if err != nil {
			return err
		}
		changed = changed || sealed
		after, err := encodeDoc(cur.Doc)
		if err != nil {
			return err
		}
		docChanged := after != before
		if !changed && !docChanged && !t.changed {
			out = cur
			return nil
		}
		cur.Version++
		cur.Modified = now
		if !cur.Modified.After(cur.Created) {
			cur.Modified = cur.Created
		}
		ext, ukey, dname, active := columns(rt, cur.Doc)
		_, err = tx.ExecContext(ctx, db.q(`UPDATE resources SET ext_id = $1, ukey = $2, dname = $3, active = $4, doc = $5, version = $6, modified = $7
			WHERE tenant = $8 AND id = $9`), ext, ukey, dname, active, after, cur.Version, micros(cur.Modified), tenant, id)
		if err != nil {
			if db.f.IsUnique(err) {
				return db.uniqueErr(rt, cur.Doc)
			}
			return fmt.Errorf("update resource: %w", err)
		}
		if docChanged {
			if err := db.writeIndexed(ctx, tx, rt, tenant, id, cur.Doc, true); err != nil {
				return err
			}
		}
		out = cur
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete removes a resource and its memberships, in both directions. Groups
// that lose a member get a new version, since their members changed.
func (db *DB) Delete(ctx context.Context, rt *schema.ResourceType, tenant, id string, check func(*store.Resource) error) error {
	return db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		row := tx.QueryRowContext(ctx, db.q(`SELECT `+selectCols+` FROM resources WHERE tenant = $1 AND id = $2 AND rtype = $3`+db.f.ForUpdate), tenant, id, rt.Name)
		cur, err := scanResource(row, tenant, rt)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(rt, id)
		}
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(cur); err != nil {
				return err
			}
		}
		if err := db.guardDelete(ctx, &txn{db: db, tx: tx, tenant: tenant, id: id, rt: rt}, cur); err != nil {
			return err
		}
		now := micros(time.Now())
		stmts := []string{
			`UPDATE resources SET version = version + 1, modified = $3
				WHERE tenant = $1 AND id IN (SELECT group_id FROM members WHERE tenant = $1 AND member_id = $2)`,
			`DELETE FROM members WHERE tenant = $1 AND member_id = $2`,
			`DELETE FROM members WHERE tenant = $1 AND group_id = $2`,
			`DELETE FROM attr_values WHERE tenant = $1 AND res_id = $2`,
			`DELETE FROM pam_sealed WHERE tenant = $1 AND id = $2`,
			`DELETE FROM resources WHERE tenant = $1 AND id = $2`,
		}
		for i, s := range stmts {
			args := []any{tenant, id}
			if i == 0 {
				args = append(args, now)
			}
			if _, err := tx.ExecContext(ctx, db.q(s), args...); err != nil {
				return fmt.Errorf("delete: %w", err)
			}
		}
		return nil
	})
}

// txn implements store.Tx inside an Update or Create.
type txn struct {
	db      *DB
	tx      *sql.Tx
	rt      *schema.ResourceType
	tenant  string
	id      string
	changed bool
	// creating: the resource row is not written yet; pending are the
	// members it will get. added lists the members this write added.
	creating bool
	pending  []string
	added    []string
}

func (t *txn) Members(ctx context.Context) ([]store.Member, error) {
	return t.db.members(ctx, t.tx, t.tenant, t.id)
}

const chunk = 400

func chunks(ids []string) [][]string {
	var out [][]string
	for len(ids) > chunk {
		out = append(out, ids[:chunk])
		ids = ids[chunk:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

func placeholders(first, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "$%d", first+i)
	}
	return b.String()
}

func (t *txn) HasMembers(ctx context.Context, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	err := t.lookup(ctx, `SELECT member_id, '' FROM members WHERE tenant = $1 AND group_id = $2 AND member_id IN (%s)`,
		[]any{t.tenant, t.id}, dedupe(ids), func(id, _ string) { out[id] = true })
	return out, err
}

// lookup runs query (whose IN list is %s) for ids in chunks, after the
// fixed args, and calls fn with the two columns of every row.
func (t *txn) lookup(ctx context.Context, query string, fixed []any, ids []string, fn func(a, b string)) error {
	for _, c := range chunks(ids) {
		args := append([]any(nil), fixed...)
		for _, id := range c {
			args = append(args, id)
		}
		rows, err := t.tx.QueryContext(ctx, t.db.q(fmt.Sprintf(query, placeholders(len(fixed)+1, len(c)))), args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var x, y string
			if err := rows.Scan(&x, &y); err != nil {
				rows.Close()
				return err
			}
			fn(x, y)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// memberTypes resolves ids to resource type names, refusing ids that do not
// exist in the tenant or are of a type the group cannot hold.
func (t *txn) memberTypes(ctx context.Context, ids []string) (map[string]string, error) {
	types := map[string]string{}
	if err := t.lookup(ctx, `SELECT id, rtype FROM resources WHERE tenant = $1 AND id IN (%s)`+t.db.f.ForShare,
		[]any{t.tenant}, ids, func(id, rtype string) { types[id] = rtype }); err != nil {
		return nil, err
	}
	var missing []string
	for _, id := range ids {
		if _, ok := types[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return nil, &store.MissingMembersError{IDs: missing}
	}
	for _, id := range ids {
		typ := types[id]
		allowed := false
		for _, mt := range t.rt.MemberTypes {
			allowed = allowed || mt == typ
		}
		if !allowed {
			return nil, scimerr.New(scimerr.InvalidValue, "member %q is a %s, which a %s cannot hold", id, typ, t.rt.Name)
		}
		if id == t.id {
			return nil, scimerr.New(scimerr.InvalidValue, "a %s cannot be a member of itself", t.rt.Name)
		}
	}
	return types, nil
}

func (t *txn) AddMembers(ctx context.Context, ids []string) (int, error) {
	ids = dedupe(ids)
	if len(ids) == 0 {
		return 0, nil
	}
	types, err := t.memberTypes(ctx, ids)
	if err != nil {
		return 0, err
	}
	have, err := t.HasMembers(ctx, ids)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		if have[id] {
			continue
		}
		if _, err := t.tx.ExecContext(ctx, t.db.q(`INSERT INTO members (tenant, group_id, member_id, member_type) VALUES ($1, $2, $3, $4)`),
			t.tenant, t.id, id, types[id]); err != nil {
			if t.db.f.IsUnique(err) {
				return n, t.memberTaken(ctx, id)
			}
			return n, fmt.Errorf("add member: %w", err)
		}
		t.added = append(t.added, id)
		n++
	}
	if n > 0 {
		t.changed = true
	}
	return n, nil
}

// LabelMembers sets the labels clients gave members; an empty label clears
// one. Ids that are not members are skipped.
func (t *txn) LabelMembers(ctx context.Context, labels map[string]string) error {
	for id, label := range labels {
		var v any
		if label != "" {
			v = label
		}
		res, err := t.tx.ExecContext(ctx, t.db.q(`UPDATE members SET label = $4 WHERE tenant = $1 AND group_id = $2 AND member_id = $3
			AND label IS DISTINCT FROM $4`), t.tenant, t.id, id, v)
		if err != nil {
			return fmt.Errorf("label member: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			t.changed = true
		}
	}
	return nil
}

func (t *txn) RemoveMembers(ctx context.Context, ids []string) (int, error) {
	n := 0
	for _, c := range chunks(dedupe(ids)) {
		args := []any{t.tenant, t.id}
		for _, id := range c {
			args = append(args, id)
		}
		res, err := t.tx.ExecContext(ctx, t.db.q(`DELETE FROM members WHERE tenant = $1 AND group_id = $2 AND member_id IN (`+placeholders(3, len(c))+`)`), args...)
		if err != nil {
			return n, fmt.Errorf("remove members: %w", err)
		}
		k, _ := res.RowsAffected()
		n += int(k)
	}
	if n > 0 {
		t.changed = true
	}
	return n, nil
}

func (t *txn) SetMembers(ctx context.Context, ids []string) (bool, error) {
	ids = dedupe(ids)
	cur, err := t.Members(ctx)
	if err != nil {
		return false, err
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var drop []string
	have := map[string]bool{}
	for _, m := range cur {
		have[m.ID] = true
		if !want[m.ID] {
			drop = append(drop, m.ID)
		}
	}
	var add []string
	for _, id := range ids {
		if !have[id] {
			add = append(add, id)
		}
	}
	if _, err := t.RemoveMembers(ctx, drop); err != nil {
		return false, err
	}
	if _, err := t.AddMembers(ctx, add); err != nil {
		return false, err
	}
	return len(add)+len(drop) > 0, nil
}

// CreateBatch stores many new resources (without members) in one
// transaction: all or none. Loading tools and benchmarks use it; the API
// creates one resource per transaction.
func (db *DB) CreateBatch(ctx context.Context, rt *schema.ResourceType, rs []*store.Resource) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		for _, r := range rs {
			if err := db.insert(ctx, tx, rt, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// Optimize refreshes the query planner's statistics where they are stale
// (SQLite's PRAGMA optimize; ANALYZE-like on PostgreSQL is autovacuum's job).
// Without them SQLite may walk the id index of a million users to honour
// ORDER BY instead of looking a userName up in its own index.
func (db *DB) Optimize(ctx context.Context) error {
	if db.f.Optimize == "" {
		return nil
	}
	_, err := db.wdb.ExecContext(ctx, db.f.Optimize)
	return err
}
