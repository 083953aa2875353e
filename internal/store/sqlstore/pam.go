package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

var (
	_ store.PAMStore = (*DB)(nil)
	_ store.GuardTx  = (*txn)(nil)
)

// SetGuard installs the guard that every Create, Update and Delete runs
// inside its transaction.
func (db *DB) SetGuard(g store.Guard) { db.guard = g }

// guardWrite runs the guard on a resource about to be stored and then
// checks that no sealed attribute is left in its document.
func (db *DB) guardWrite(ctx context.Context, t *txn, r *store.Resource, old schema.Doc, added []string) (bool, error) {
	changed := false
	if db.guard != nil {
		var err error
		changed, err = db.guard.BeforeWrite(ctx, &store.Write{Type: t.rt, Res: r, Old: old, Added: added, Tx: t})
		if err != nil {
			return false, err
		}
	}
	return changed, checkSealed(t.rt, r.Doc)
}

// checkSealed refuses a document that still holds a sealed attribute: a
// secret must never reach the database in plain text, so a store without
// a guard cannot take one.
func checkSealed(rt *schema.ResourceType, doc schema.Doc) error {
	for _, p := range rt.Sealed {
		path, err := rt.ResolvePath(p)
		if err != nil || path.Attr == nil {
			continue
		}
		m := doc
		if path.IsExtension() {
			m, _ = doc[path.Schema.ID].(map[string]any)
		}
		if _, ok := m[path.Attr.Name]; ok {
			return scimerr.New(scimerr.Internal, "%s must be sealed before it is stored, and this store has no secret box", p)
		}
	}
	return nil
}

func (db *DB) guardDelete(ctx context.Context, t *txn, r *store.Resource) error {
	if db.guard == nil {
		return nil
	}
	return db.guard.BeforeDelete(ctx, &store.Write{Type: t.rt, Res: r, Old: r.Doc, Tx: t})
}

// getMany reads resources of any type by id; lock is appended to the
// SELECT (FOR SHARE inside a write transaction).
func (db *DB) getMany(ctx context.Context, q querier, tenant string, ids []string, lock string) (map[string]*store.Resource, error) {
	out := make(map[string]*store.Resource, len(ids))
	for _, c := range chunks(dedupe(ids)) {
		args := []any{tenant}
		for _, id := range c {
			args = append(args, id)
		}
		rows, err := q.QueryContext(ctx, db.q(`SELECT id, rtype, doc, version, created, modified FROM resources WHERE tenant = $1 AND id IN (`+placeholders(2, len(c))+`)`+lock), args...)
		if err != nil {
			return nil, fmt.Errorf("read resources: %w", err)
		}
		for rows.Next() {
			r := &store.Resource{Tenant: tenant}
			var body string
			var cr, mo int64
			if err := rows.Scan(&r.ID, &r.Type, &body, &r.Version, &cr, &mo); err != nil {
				rows.Close()
				return nil, err
			}
			if r.Doc, err = decodeDoc(body); err != nil {
				rows.Close()
				return nil, err
			}
			r.Created, r.Modified = fromMicros(cr), fromMicros(mo)
			out[r.ID] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// GetMany returns resources of the tenant by id, of any type.
func (db *DB) GetMany(ctx context.Context, tenant string, ids []string) (map[string]*store.Resource, error) {
	return db.getMany(ctx, db.rdb, tenant, ids, "")
}

// Setting reads a server-wide setting.
func (db *DB) Setting(ctx context.Context, name string) (string, error) {
	return setting(ctx, db, db.rdb, name)
}

type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func setting(ctx context.Context, db *DB, q rowQuerier, name string) (string, error) {
	var v string
	err := q.QueryRowContext(ctx, db.q(`SELECT value FROM pam_settings WHERE name = $1`), name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// SetSetting writes a server-wide setting in a write transaction.
func (db *DB) SetSetting(ctx context.Context, name, value string) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.q(`INSERT INTO pam_settings (name, value) VALUES ($1, $2)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`), name, value)
		return err
	})
}

// SealedNotUnder returns sealed values whose key is not keyID.
func (db *DB) SealedNotUnder(ctx context.Context, keyID string, limit int) ([]store.Sealed, error) {
	rows, err := db.wdb.QueryContext(ctx, db.q(fmt.Sprintf(`SELECT tenant, id, attr, key_id, data FROM pam_sealed WHERE key_id <> $1 ORDER BY tenant, id, attr LIMIT %d`, limit)), keyID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Sealed
	for rows.Next() {
		var s store.Sealed
		if err := rows.Scan(&s.Tenant, &s.ID, &s.Attr, &s.KeyID, &s.Data); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Reseal replaces a sealed value if it is still under s.KeyID.
func (db *DB) Reseal(ctx context.Context, s store.Sealed, keyID string, data []byte) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.q(`UPDATE pam_sealed SET key_id = $1, data = $2 WHERE tenant = $3 AND id = $4 AND attr = $5 AND key_id = $6`),
			keyID, data, s.Tenant, s.ID, s.Attr, s.KeyID)
		return err
	})
}

// SealedValue returns one sealed value, or nil.
func (db *DB) SealedValue(ctx context.Context, tenant, id, attr string) (*store.Sealed, error) {
	s := &store.Sealed{Tenant: tenant, ID: id, Attr: attr}
	err := db.rdb.QueryRowContext(ctx, db.q(`SELECT key_id, data FROM pam_sealed WHERE tenant = $1 AND id = $2 AND attr = $3`), tenant, id, attr).Scan(&s.KeyID, &s.Data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// seedCatalogue gives a new tenant the default roles.
func (db *DB) seedCatalogue(ctx context.Context, tx *sql.Tx, tenant string, at time.Time) error {
	for _, e := range store.DefaultRoles {
		doc := schema.Doc{"value": e.Value, "display": e.Display, "type": e.Type, "supported": true}
		body, err := encodeDoc(doc)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO resources (tenant, rtype, id, ukey, dname, doc, version, created, modified)
			VALUES ($1, 'Role', $2, $3, $4, $5, 1, $6, $6)`), tenant, e.ID, fold(e.Value), fold(e.Display), body, micros(at)); err != nil {
			return fmt.Errorf("seed roles: %w", err)
		}
	}
	return nil
}

// The store.GuardTx side of txn.

// GetMany locks what it reads against a concurrent delete where the
// engine has row locks: a permission created while its container is being
// deleted either sees the container gone or is seen, and deleted, by the
// delete's cascade.
func (t *txn) GetMany(ctx context.Context, ids []string) (map[string]*store.Resource, error) {
	return t.db.getMany(ctx, t.tx, t.tenant, ids, t.db.f.ForShare)
}

func (t *txn) ByUnique(ctx context.Context, rt *schema.ResourceType, value string) (*store.Resource, error) {
	if rt.UniqueAttr != nil {
		value = rt.UniqueAttr.Key(value)
	}
	row := t.tx.QueryRowContext(ctx, t.db.q(`SELECT `+selectCols+` FROM resources WHERE tenant = $1 AND rtype = $2 AND ukey = $3`), t.tenant, rt.Name, value)
	r, err := scanResource(row, t.tenant, rt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return r, err
}

func (t *txn) Referrers(ctx context.Context, rtype, path, id string) ([]string, error) {
	rows, err := t.tx.QueryContext(ctx, t.db.q(`SELECT res_id FROM attr_values WHERE tenant = $1 AND rtype = $2 AND attr = $3 AND val = $4`),
		t.tenant, rtype, path, fold(id))
	if err != nil {
		return nil, fmt.Errorf("referrers: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (t *txn) DeleteReferrers(ctx context.Context, rtype, path, id string) (int, error) {
	ids, err := t.Referrers(ctx, rtype, path, id)
	if err != nil {
		return 0, err
	}
	for _, c := range chunks(ids) {
		args := []any{t.tenant}
		for _, id := range c {
			args = append(args, id)
		}
		in := placeholders(2, len(c))
		for _, s := range []string{
			`DELETE FROM attr_values WHERE tenant = $1 AND res_id IN (` + in + `)`,
			`DELETE FROM members WHERE tenant = $1 AND (group_id IN (` + in + `) OR member_id IN (` + in + `))`,
			`DELETE FROM pam_sealed WHERE tenant = $1 AND id IN (` + in + `)`,
			`DELETE FROM resources WHERE tenant = $1 AND id IN (` + in + `)`,
		} {
			if _, err := t.tx.ExecContext(ctx, t.db.q(s), args...); err != nil {
				return 0, fmt.Errorf("delete referrers: %w", err)
			}
		}
	}
	return len(ids), nil
}

func (t *txn) HasAnyMember(ctx context.Context) (bool, error) {
	if t.creating {
		return len(t.pending) > 0, nil
	}
	var n int
	err := t.tx.QueryRowContext(ctx, t.db.q(`SELECT count(*) FROM (SELECT 1 FROM members WHERE tenant = $1 AND group_id = $2 LIMIT 1) x`), t.tenant, t.id).Scan(&n)
	return n > 0, err
}

func (t *txn) GroupsOf(ctx context.Context, id string) ([]string, error) {
	rows, err := t.tx.QueryContext(ctx, t.db.q(`SELECT group_id FROM members WHERE tenant = $1 AND member_id = $2 ORDER BY group_id`), t.tenant, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (t *txn) UpdateOther(ctx context.Context, rt *schema.ResourceType, id string, fn func(doc schema.Doc) bool) error {
	row := t.tx.QueryRowContext(ctx, t.db.q(`SELECT `+selectCols+` FROM resources WHERE tenant = $1 AND id = $2 AND rtype = $3`+t.db.f.ForUpdate), t.tenant, id, rt.Name)
	cur, err := scanResource(row, t.tenant, rt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fn(cur.Doc) {
		return nil
	}
	body, err := encodeDoc(cur.Doc)
	if err != nil {
		return err
	}
	ext, ukey, dname, active := columns(rt, cur.Doc)
	if _, err := t.tx.ExecContext(ctx, t.db.q(`UPDATE resources SET ext_id = $1, ukey = $2, dname = $3, active = $4, doc = $5, version = version + 1, modified = $6
		WHERE tenant = $7 AND id = $8`), ext, ukey, dname, active, body, micros(time.Now()), t.tenant, id); err != nil {
		return fmt.Errorf("update %s %s: %w", rt.Name, id, err)
	}
	return t.db.writeIndexed(ctx, t.tx, rt, t.tenant, id, cur.Doc, true)
}

func (t *txn) PutSealed(ctx context.Context, attr, keyID string, data []byte) error {
	_, err := t.tx.ExecContext(ctx, t.db.q(`INSERT INTO pam_sealed (tenant, id, attr, key_id, data) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant, id, attr) DO UPDATE SET key_id = excluded.key_id, data = excluded.data`), t.tenant, t.id, attr, keyID, data)
	if err != nil {
		return fmt.Errorf("store sealed value: %w", err)
	}
	return nil
}

func (t *txn) DeleteSealed(ctx context.Context, id string) error {
	_, err := t.tx.ExecContext(ctx, t.db.q(`DELETE FROM pam_sealed WHERE tenant = $1 AND id = $2`), t.tenant, id)
	return err
}

// Setting reads a setting inside the write transaction, locking its row
// where the engine has row locks: a rotation's change of the active key
// then waits for every transaction that sealed under the old one.
func (t *txn) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := t.tx.QueryRowContext(ctx, t.db.q(`SELECT value FROM pam_settings WHERE name = $1`+t.db.f.ForUpdate), name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

// memberTaken turns a unique violation on the members table (an item of
// privileged data already in another container) into a 409 that names
// the holder.
func (t *txn) memberTaken(ctx context.Context, id string) error {
	var holder string
	_ = t.tx.QueryRowContext(ctx, t.db.q(`SELECT group_id FROM members WHERE tenant = $1 AND member_id = $2 AND group_id <> $3`), t.tenant, id, t.id).Scan(&holder)
	if holder == "" {
		return scimerr.New(scimerr.Uniqueness, "%q already belongs to another %s", id, t.rt.Name)
	}
	return scimerr.New(scimerr.Uniqueness, "%q already belongs to %s %q; an item belongs to at most one %s", id, t.rt.Name, holder, strings.ToLower(t.rt.Name))
}
