package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// CreateAdmin stores a new console administrator.
func (db *DB) CreateAdmin(ctx context.Context, a *store.Admin) error {
	if a.Tenant != "" {
		if err := db.needTenant(ctx, a.Tenant); err != nil {
			return err
		}
	}
	_, err := db.wdb.ExecContext(ctx, db.q(`INSERT INTO admins (name, tenant, password_hash, created, password_changed) VALUES ($1, $2, $3, $4, $5)`),
		a.Name, a.Tenant, a.PasswordHash, micros(a.Created), micros(a.PasswordChanged))
	if err != nil {
		if db.f.IsUnique(err) {
			return scimerr.New(scimerr.Uniqueness, "an administrator named %q already exists", a.Name)
		}
		return fmt.Errorf("create admin: %w", err)
	}
	return nil
}

const adminCols = `name, tenant, password_hash, created, password_changed, last_sign_in`

func scanAdmin(s rowScanner) (*store.Admin, error) {
	var (
		a                store.Admin
		created, changed int64
		last             sql.NullInt64
	)
	if err := s.Scan(&a.Name, &a.Tenant, &a.PasswordHash, &created, &changed, &last); err != nil {
		return nil, err
	}
	a.Created, a.PasswordChanged, a.LastSignIn = fromMicros(created), fromMicros(changed), timePtr(last)
	return &a, nil
}

// Admin returns an administrator by name.
func (db *DB) Admin(ctx context.Context, name string) (*store.Admin, error) {
	a, err := scanAdmin(db.rdb.QueryRowContext(ctx, db.q(`SELECT `+adminCols+` FROM admins WHERE name = $1`), name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scimerr.New(scimerr.NotFound, "no administrator %q", name)
	}
	return a, err
}

// ListAdmins lists administrators by name.
func (db *DB) ListAdmins(ctx context.Context) ([]*store.Admin, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT `+adminCols+` FROM admins ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.Admin
	for rows.Next() {
		a, err := scanAdmin(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// SetAdminPassword replaces the hash and ends the administrator's sessions.
func (db *DB) SetAdminPassword(ctx context.Context, name, hash string, at time.Time) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, db.q(`UPDATE admins SET password_hash = $1, password_changed = $2 WHERE name = $3`), hash, micros(at), name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return scimerr.New(scimerr.NotFound, "no administrator %q", name)
		}
		_, err = tx.ExecContext(ctx, db.q(`DELETE FROM admin_sessions WHERE admin = $1`), name)
		return err
	})
}

// DeleteAdmin removes an administrator and their sessions.
func (db *DB) DeleteAdmin(ctx context.Context, name string) error {
	return db.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, db.q(`DELETE FROM admin_sessions WHERE admin = $1`), name); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, db.q(`DELETE FROM admins WHERE name = $1`), name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return scimerr.New(scimerr.NotFound, "no administrator %q", name)
		}
		return nil
	})
}

// AdminSignedIn records a sign-in.
func (db *DB) AdminSignedIn(ctx context.Context, name string, at time.Time) error {
	_, err := db.wdb.ExecContext(ctx, db.q(`UPDATE admins SET last_sign_in = $1 WHERE name = $2`), micros(at), name)
	return err
}

// CreateAdminSession stores a session.
func (db *DB) CreateAdminSession(ctx context.Context, s *store.AdminSession) error {
	_, err := db.wdb.ExecContext(ctx, db.q(`INSERT INTO admin_sessions (hash, admin, created, last_seen, expires, source) VALUES ($1, $2, $3, $4, $5, $6)`),
		s.Hash, s.Admin, micros(s.Created), micros(s.LastSeen), micros(s.Expires), s.Source)
	if err != nil {
		return fmt.Errorf("create admin session: %w", err)
	}
	return nil
}

// AdminSession returns a session by hash.
func (db *DB) AdminSession(ctx context.Context, hash []byte) (*store.AdminSession, error) {
	var (
		s                      store.AdminSession
		created, seen, expires int64
	)
	err := db.rdb.QueryRowContext(ctx, db.q(`SELECT hash, admin, created, last_seen, expires, source, flash IS NOT NULL FROM admin_sessions WHERE hash = $1`), hash).
		Scan(&s.Hash, &s.Admin, &created, &seen, &expires, &s.Source, &s.HasFlash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scimerr.New(scimerr.NotFound, "no such session")
	}
	if err != nil {
		return nil, err
	}
	s.Created, s.LastSeen, s.Expires = fromMicros(created), fromMicros(seen), fromMicros(expires)
	return &s, nil
}

// TouchAdminSession records activity.
func (db *DB) TouchAdminSession(ctx context.Context, hash []byte, at time.Time) error {
	_, err := db.wdb.ExecContext(ctx, db.q(`UPDATE admin_sessions SET last_seen = $1 WHERE hash = $2`), micros(at), hash)
	return err
}

// DeleteAdminSession ends a session.
func (db *DB) DeleteAdminSession(ctx context.Context, hash []byte) error {
	_, err := db.wdb.ExecContext(ctx, db.q(`DELETE FROM admin_sessions WHERE hash = $1`), hash)
	return err
}

// SetAdminFlash stores the session's flash.
func (db *DB) SetAdminFlash(ctx context.Context, hash []byte, flash []byte) error {
	_, err := db.wdb.ExecContext(ctx, db.q(`UPDATE admin_sessions SET flash = $1 WHERE hash = $2`), flash, hash)
	return err
}

// TakeAdminFlash reads and clears the session's flash in one transaction,
// so two page views racing for it cannot both get it.
func (db *DB) TakeAdminFlash(ctx context.Context, hash []byte) ([]byte, error) {
	var out []byte
	err := db.withTx(ctx, func(tx *sql.Tx) error {
		out = nil
		err := tx.QueryRowContext(ctx, db.q(`SELECT flash FROM admin_sessions WHERE hash = $1`+db.f.ForUpdate), hash).Scan(&out)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && len(out) == 0) {
			out = nil
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, db.q(`UPDATE admin_sessions SET flash = NULL WHERE hash = $1`), hash)
		return err
	})
	return out, err
}

// PurgeAdminSessions deletes expired and idle sessions.
func (db *DB) PurgeAdminSessions(ctx context.Context, expiredBefore, idleBefore time.Time) (int, error) {
	res, err := db.wdb.ExecContext(ctx, db.q(`DELETE FROM admin_sessions WHERE expires < $1 OR last_seen < $2`), micros(expiredBefore), micros(idleBefore))
	if err != nil {
		return 0, err
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// SetClientLifetimes sets a client's token lifetimes.
func (db *DB) SetClientLifetimes(ctx context.Context, id string, access, refresh time.Duration) error {
	res, err := db.wdb.ExecContext(ctx, db.q(`UPDATE oauth_clients SET access_ttl = $1, refresh_ttl = $2 WHERE id = $3`),
		int64(access/time.Second), int64(refresh/time.Second), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return scimerr.New(scimerr.NotFound, "no client %q", id)
	}
	return nil
}
