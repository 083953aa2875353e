package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: micros(*t), Valid: true}
}

func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// CreateToken stores a new named token. A live token with the same name in
// the tenant is a Uniqueness error.
func (db *DB) CreateToken(ctx context.Context, t *store.Token) error {
	ok, err := db.TenantExists(ctx, t.Tenant)
	if err != nil {
		return err
	}
	if !ok {
		return scimerr.New(scimerr.NotFound, "tenant %q does not exist", t.Tenant)
	}
	_, err = db.wdb.ExecContext(ctx, db.q(`INSERT INTO tokens (hash, tenant, name, scopes, created, expires, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)`),
		t.Hash, t.Tenant, t.Name, strings.Join(t.Scopes, " "), micros(t.Created), nullMicros(t.Expires), t.CreatedBy)
	if err != nil {
		if db.f.IsUnique(err) {
			return scimerr.New(scimerr.Uniqueness, "a token named %q already exists in tenant %q", t.Name, t.Tenant)
		}
		return fmt.Errorf("create token: %w", err)
	}
	return nil
}

const tokenCols = `hash, tenant, name, scopes, created, expires, last_used, revoked, created_by`

func scanToken(s rowScanner) (*store.Token, error) {
	var (
		t                      store.Token
		scopes                 string
		created                int64
		expires, used, revoked sql.NullInt64
	)
	if err := s.Scan(&t.Hash, &t.Tenant, &t.Name, &scopes, &created, &expires, &used, &revoked, &t.CreatedBy); err != nil {
		return nil, err
	}
	t.Scopes = strings.Fields(scopes)
	t.Created = fromMicros(created)
	t.Expires, t.LastUsed, t.Revoked = timePtr(expires), timePtr(used), timePtr(revoked)
	return &t, nil
}

// TokenByHash returns the token with the given hash.
func (db *DB) TokenByHash(ctx context.Context, hash []byte) (*store.Token, error) {
	t, err := scanToken(db.rdb.QueryRowContext(ctx, db.q(`SELECT `+tokenCols+` FROM tokens WHERE hash = $1`), hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scimerr.New(scimerr.NotFound, "no such token")
	}
	return t, err
}

// ListTokens lists a tenant's tokens, or every tenant's when tenant is "".
func (db *DB) ListTokens(ctx context.Context, tenant string) ([]*store.Token, error) {
	rows, err := db.rdb.QueryContext(ctx, db.q(`SELECT `+tokenCols+` FROM tokens WHERE ($1 = '' OR tenant = $1) ORDER BY tenant, name, created`), tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes the live token with the given name.
func (db *DB) RevokeToken(ctx context.Context, tenant, name string, at time.Time) error {
	defer db.revoked()
	res, err := db.wdb.ExecContext(ctx, db.q(`UPDATE tokens SET revoked = $1 WHERE tenant = $2 AND name = $3 AND revoked IS NULL`), micros(at), tenant, name)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return scimerr.New(scimerr.NotFound, "no live token named %q in tenant %q", name, tenant)
	}
	return nil
}

// TouchToken records a use; callers limit how often they call it.
func (db *DB) TouchToken(ctx context.Context, hash []byte, at time.Time) error {
	_, err := db.wdb.ExecContext(ctx, db.q(`UPDATE tokens SET last_used = $1 WHERE hash = $2`), micros(at), hash)
	return err
}

// CountTokens counts every token ever created.
func (db *DB) CountTokens(ctx context.Context) (int, error) {
	var n int
	err := db.rdb.QueryRowContext(ctx, `SELECT count(*) FROM tokens`).Scan(&n)
	return n, err
}

// CreateTenant creates a tenant with the default roles catalogue.
func (db *DB) CreateTenant(ctx context.Context, name string, at time.Time) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, db.q(`INSERT INTO tenants (name, created) VALUES ($1, $2)`), name, micros(at))
		if err != nil && db.f.IsUnique(err) {
			return scimerr.New(scimerr.Uniqueness, "tenant %q already exists", name)
		}
		if err != nil {
			return err
		}
		return db.seedCatalogue(ctx, tx, name, at)
	})
}

// ListTenants lists tenants by name.
func (db *DB) ListTenants(ctx context.Context) ([]store.Tenant, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT name, created FROM tenants ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Tenant
	for rows.Next() {
		var t store.Tenant
		var c int64
		if err := rows.Scan(&t.Name, &c); err != nil {
			return nil, err
		}
		t.Created = fromMicros(c)
		out = append(out, t)
	}
	return out, rows.Err()
}

// TenantExists reports whether a tenant exists.
func (db *DB) TenantExists(ctx context.Context, name string) (bool, error) {
	var n int
	err := db.rdb.QueryRowContext(ctx, db.q(`SELECT count(*) FROM tenants WHERE name = $1`), name).Scan(&n)
	return n > 0, err
}

// Secret returns the named secret, creating it on first use. The insert
// ignores a concurrent creator's row, and the read that follows returns
// whichever value won.
func (db *DB) Secret(ctx context.Context, name string, gen func() []byte) ([]byte, error) {
	var v []byte
	err := db.rdb.QueryRowContext(ctx, db.q(`SELECT value FROM secrets WHERE name = $1`), name).Scan(&v)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if _, err := db.wdb.ExecContext(ctx, db.q(`INSERT INTO secrets (name, value, created) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`),
		name, gen(), micros(time.Now())); err != nil {
		return nil, fmt.Errorf("create secret: %w", err)
	}
	err = db.wdb.QueryRowContext(ctx, db.q(`SELECT value FROM secrets WHERE name = $1`), name).Scan(&v)
	return v, err
}
