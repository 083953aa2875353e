// Package postgres opens the PostgreSQL store, for deployments where
// several pamscim instances share one database behind a load balancer. It
// uses pgx v5 through its database/sql adapter, so that the SQL in sqlstore
// is the same as SQLite's; only the Flavor differs.
//
// Several instances may start at once against one database: migrations run
// under a transaction-scoped advisory lock, so each is applied exactly once
// and the others wait for it.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/pamscim/pamscim/internal/filter"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are the store's migrations, NNNN_name.sql.
func Migrations() fs.FS {
	s, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err)
	}
	return s
}

// migrateLock serialises migrations across instances; the key is "pamscim"
// in ASCII, so that it does not collide with another application's lock.
const migrateLock = `SELECT pg_advisory_xact_lock(31632567385385325)`

// defaultMaxConns is the pool size when the URL sets no pool_max_conns:
// pgxpool's default (4 on a small machine) starves a busy server whose
// requests mostly wait on the network.
const defaultMaxConns = 16

// IsURL reports whether s names a PostgreSQL database.
func IsURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// Open connects to the database named by url and applies pending
// migrations. The URL takes libpq's parameters (sslmode, sslrootcert,
// sslcert, sslkey, connect_timeout, search_path, ...) and pgxpool's pool
// sizes (pool_max_conns, default 16; pool_min_conns, the idle connections
// kept at least; pool_max_conn_lifetime; pool_max_conn_idle_time).
func Open(ctx context.Context, url string, reg *schema.Registry) (*sqlstore.DB, error) {
	db, err := connect(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := Migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return sqlstore.New(db, db, Flavor(), reg), nil
}

// Migrate applies pending migrations to db, returning their names.
func Migrate(ctx context.Context, db *sql.DB) ([]string, error) {
	applied, err := sqlstore.Migrate(ctx, db, Migrations(), func(s string) string { return s }, migrateLock)
	if err != nil {
		return applied, fmt.Errorf("postgres migrations: %w", err)
	}
	return applied, nil
}

// Connect opens a connection pool on the database named by url without
// migrating it.
func Connect(ctx context.Context, url string) (*sql.DB, error) { return connect(ctx, url) }

func connect(ctx context.Context, url string) (*sql.DB, error) {
	if !IsURL(url) {
		return nil, fmt.Errorf("database URL must start with postgres://")
	}
	// pgxpool's parser takes the pool_* parameters out of the URL (pgx
	// would send them to the server as settings); database/sql is the
	// pool, so that closing the store closes its connections.
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message repeats the URL, password included.
		return nil, fmt.Errorf("database URL: %s", redactErr(err, url))
	}
	maxConns := int(cfg.MaxConns)
	if !strings.Contains(url, "pool_max_conns") {
		maxConns = defaultMaxConns
	}
	db := stdlib.OpenDB(*cfg.ConnConfig)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(max(int(cfg.MinConns), maxConns/2))
	db.SetConnMaxLifetime(cfg.MaxConnLifetime)
	db.SetConnMaxIdleTime(cfg.MaxConnIdleTime)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres at %s: %s", Redact(url), redactErr(err, url))
	}
	return db, nil
}

// Redact returns url without its password, for messages and logs.
func Redact(url string) string {
	cfg, err := pgconn.ParseConfig(url)
	if err != nil || cfg.Password == "" {
		return url
	}
	return strings.Replace(url, ":"+cfg.Password+"@", ":xxxxx@", 1)
}

func redactErr(err error, url string) string {
	msg := err.Error()
	if cfg, perr := pgconn.ParseConfig(url); perr == nil && cfg.Password != "" {
		msg = strings.ReplaceAll(msg, cfg.Password, "xxxxx")
	}
	return msg
}

// PostgreSQL error codes the store distinguishes.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeUntranslatable       = "22P05" // \u0000 in jsonb
	codeBadCharacter         = "22021" // a NUL byte in text
	codeIndexRowTooBig       = "54000"
)

func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Flavor is the PostgreSQL dialect of sqlstore.
func Flavor() sqlstore.Flavor {
	return sqlstore.Flavor{
		Name:   "postgres",
		Rebind: func(s string) string { return s },
		IsUnique: func(err error) bool {
			return pgCode(err) == codeUniqueViolation
		},
		IsRetryable: func(err error) bool {
			c := pgCode(err)
			return c == codeSerializationFailure || c == codeDeadlockDetected
		},
		// Update and Delete read the row FOR UPDATE: concurrent writers of
		// one resource queue on its row lock (READ COMMITTED), and an
		// AddMembers that found a user holds it FOR SHARE, so a concurrent
		// Delete of that user waits instead of leaving a dangling member.
		ForUpdate: " FOR UPDATE",
		ForShare:  " FOR SHARE",
		JSONText: func(doc, key string) string {
			return "(" + doc + " ->> '" + key + "')"
		},
		MapError:      mapError,
		CompileFilter: compileFilter,
		OrderBy:       orderBy,
	}
}

func mapError(err error) error {
	switch pgCode(err) {
	case codeUntranslatable, codeBadCharacter:
		return scimerr.New(scimerr.InvalidValue, "a value contains the NUL character (U+0000), which PostgreSQL cannot store")
	case codeIndexRowTooBig:
		return scimerr.New(scimerr.InvalidValue, "a value is too long to be indexed")
	}
	return err
}

func compileFilter(expr any, first int) (string, []any, error) {
	e, ok := expr.(filter.Expr)
	if !ok {
		return "", nil, fmt.Errorf("filter of type %T is not a filter.Expr", expr)
	}
	return filter.Compile(e, filter.Postgres, first)
}

func orderBy(rt *schema.ResourceType, p *schema.Path) (string, error) {
	return filter.OrderBy(rt, p, false, filter.Postgres)
}
