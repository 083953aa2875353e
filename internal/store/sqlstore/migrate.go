package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migrate applies the forward-only migrations in fsys (files named
// NNNN_name.sql) that the database has not seen yet, each in its own
// transaction, recording them in schema_migrations. lock, if set, runs first
// inside each transaction (PostgreSQL takes an advisory lock there so that
// several instances starting at once apply each migration once).
func Migrate(ctx context.Context, db *sql.DB, fsys fs.FS, rebind func(string) string, lock string) (applied []string, err error) {
	// Under the lock too: PostgreSQL's CREATE TABLE IF NOT EXISTS is not
	// safe against a concurrent one (a duplicate key in pg_type).
	if err := func() error {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if lock != "" {
			if _, err := tx.ExecContext(ctx, lock); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied BIGINT NOT NULL)`); err != nil {
			return err
		}
		return tx.Commit()
	}(); err != nil {
		return nil, fmt.Errorf("migrations table: %w", err)
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	for _, name := range names {
		v, err := strconv.Atoi(strings.SplitN(name, "_", 2)[0])
		if err != nil {
			return applied, fmt.Errorf("migration %s: name must start with a number", name)
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return applied, err
		}
		done, err := func() (bool, error) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return false, err
			}
			defer tx.Rollback()
			if lock != "" {
				if _, err := tx.ExecContext(ctx, lock); err != nil {
					return false, fmt.Errorf("migration lock: %w", err)
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, rebind(`SELECT count(*) FROM schema_migrations WHERE version = $1`), v).Scan(&n); err != nil {
				return false, err
			}
			if n > 0 {
				return false, nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return false, fmt.Errorf("migration %s: %w", name, err)
			}
			if _, err := tx.ExecContext(ctx, rebind(`INSERT INTO schema_migrations (version, name, applied) VALUES ($1, $2, $3)`), v, name, time.Now().UnixMicro()); err != nil {
				return false, err
			}
			return true, tx.Commit()
		}()
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, name)
		}
	}
	return applied, nil
}

// Migration is one applied migration.
type Migration struct {
	Version int
	Name    string
	Applied time.Time
}

// Migrations lists the applied migrations in order.
func (db *DB) Migrations(ctx context.Context) ([]Migration, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT version, name, applied FROM schema_migrations ORDER BY version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Migration
	for rows.Next() {
		var m Migration
		var at int64
		if err := rows.Scan(&m.Version, &m.Name, &at); err != nil {
			return nil, err
		}
		m.Applied = fromMicros(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Handles returns the write and read pools (the same pool on PostgreSQL),
// for tools that work on whole tables: copy and backup.
func (db *DB) Handles() (w, r *sql.DB) { return db.wdb, db.rdb }

// FlavorName names the engine: "sqlite" or "postgres".
func (db *DB) FlavorName() string { return db.f.Name }
