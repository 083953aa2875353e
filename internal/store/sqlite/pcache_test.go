package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestPageCacheBuffer: the page cache buffer (pcache.go) was set up, which
// only works before the process's first SQLite connection, and pages read
// by a connection come from it, not from malloc, also after another
// connection's write emptied the reader's cache.
func TestPageCacheBuffer(t *testing.T) {
	if pageCacheErr != nil {
		t.Fatal(pageCacheErr)
	}
	ctx := context.Background()
	dsn := fileURI(filepath.Join(t.TempDir(), "p.db")) + "?_pragma=journal_mode(WAL)"
	w, r := openCached(dsn), openCached(dsn)
	defer w.Close()
	defer r.Close()
	if _, err := w.ExecContext(ctx, `CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)`); err != nil {
		t.Fatal(err)
	}
	_, overflow0 := pageCacheStatus()
	pad := strings.Repeat("x", 1000)
	for round := range 3 {
		for i := range 500 {
			if _, err := w.ExecContext(ctx, `INSERT INTO t (v) VALUES ($1)`, pad); err != nil {
				t.Fatal(err)
			}
			_ = i
		}
		var n int
		var total int64
		if err := r.QueryRowContext(ctx, `SELECT count(*), sum(length(v)) FROM t`).Scan(&n, &total); err != nil {
			t.Fatal(err)
		}
		if n != 500*(round+1) {
			t.Fatalf("round %d: %d rows", round, n)
		}
		used, overflow := pageCacheStatus()
		if used < 100 {
			t.Errorf("round %d: %d page cache slots in use after reading %d rows of 1 KB, want the pages in the buffer", round, used, n)
		}
		if overflow != overflow0 {
			t.Errorf("round %d: %d bytes of page cache from malloc (was %d)", round, overflow, overflow0)
		}
	}
}
