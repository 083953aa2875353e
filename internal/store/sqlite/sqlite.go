// Package sqlite opens the embedded SQLite store: a pure-Go driver (no cgo),
// WAL mode, one writer connection with IMMEDIATE transactions and a pool of
// readers, so the CLI can work on the data directory while a server runs.
package sqlite

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the database file inside the data directory.
const FileName = "pamscim.db"

// Options tune the store.
type Options struct {
	// Synchronous is SQLite's synchronous pragma: NORMAL (the default) keeps
	// every committed write through a process crash; FULL also through a
	// power loss, at the cost of an fsync per commit.
	Synchronous string
	// Readers is the size of the read pool (default 8).
	Readers int
}

// Open opens (creating if needed, mode 0700) the data directory and its
// database, and applies pending migrations.
func Open(ctx context.Context, dir string, reg *schema.Registry, opt Options) (*sqlstore.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	return OpenFile(ctx, filepath.Join(dir, FileName), reg, opt)
}

// OpenFile opens the database file at path.
func OpenFile(ctx context.Context, path string, reg *schema.Registry, opt Options) (*sqlstore.DB, error) {
	if opt.Synchronous == "" {
		opt.Synchronous = "NORMAL"
	}
	switch opt.Synchronous {
	case "NORMAL", "FULL", "EXTRA":
	default:
		return nil, fmt.Errorf("synchronous must be NORMAL, FULL or EXTRA, not %q", opt.Synchronous)
	}
	if opt.Readers <= 0 {
		opt.Readers = 8
	}
	registerFunctions()
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+opt.Synchronous+")")
	q.Add("_pragma", "foreign_keys(1)")
	// Checkpoint every 10,000 WAL pages (40 MB) rather than SQLite's 1,000:
	// a page that many writes touch (an index leaf, the audit table's
	// last page) is copied into the database once per checkpoint, not once
	// per 1,000 pages; the checkpoints inside commits were an eighth of a
	// create's CPU (docs/durability.md for what it means with NORMAL).
	q.Add("_pragma", "wal_autocheckpoint(10000)")
	q.Set("_txlock", "immediate")
	dsn := fileURI(path) + "?" + q.Encode()
	// Both pools keep each connection's compiled statements (stmtcache.go).
	wdb := openCached(dsn)
	// One writer: SQLite has one write lock, and queueing in Go is cheaper
	// than busy-waiting in SQLite.
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	wdb.SetConnMaxLifetime(0)
	if _, err := sqlstore.Migrate(ctx, wdb, mustSub(migrations, "migrations"), sqlstore.RebindQuestion, ""); err != nil {
		wdb.Close()
		return nil, err
	}
	_ = os.Chmod(path, 0o600)
	q.Add("_pragma", "query_only(1)")
	q.Del("_txlock")
	rdb := openCached(fileURI(path) + "?" + q.Encode())
	rdb.SetMaxOpenConns(opt.Readers)
	rdb.SetMaxIdleConns(opt.Readers)
	db := sqlstore.New(wdb, rdb, Flavor(), reg)
	if err := db.Optimize(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("optimize: %w", err)
	}
	return db, nil
}

func mustSub(f fs.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return s
}

// Flavor is the SQLite dialect of sqlstore.
func Flavor() sqlstore.Flavor {
	return sqlstore.Flavor{
		Name:   "sqlite",
		Rebind: sqlstore.RebindQuestion,
		IsUnique: func(err error) bool {
			var e *sqlite.Error
			if errors.As(err, &e) {
				return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
			}
			return false
		},
		IsRetryable: func(err error) bool {
			var e *sqlite.Error
			if errors.As(err, &e) {
				return e.Code()&0xff == sqlite3.SQLITE_BUSY
			}
			return false
		},
		CompileFilter: compileFilter,
		// 0x10002: analyse every table whose statistics are missing or stale,
		// with a bounded sample so that it stays quick on big tables.
		Optimize: "PRAGMA analysis_limit=2000; PRAGMA optimize=0x10002;",
		OrderBy:  orderBy,
		// One writer: concurrent writes share transactions (sqlstore/group.go).
		GroupCommit: 64,
	}
}

// fileURI makes a SQLite URI filename of a path. SQLite decodes %XX in URI
// filenames and ends the path at '?' or '#', so a data directory named
// "a#b" would otherwise open the database "a" — silently another store.
func fileURI(path string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return "file:" + r.Replace(path)
}
