package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestStatementCache runs the statement cache's cases against a real file:
// reuse, a query nested in a loop over the same query's rows, errors that
// leave the cached statement usable, eviction past the bound with a
// statement still in use, and transactions on the cached statements.
func TestStatementCache(t *testing.T) {
	ctx := context.Background()
	db := openCached(fileURI(filepath.Join(t.TempDir(), "c.db")) + "?_pragma=journal_mode(WAL)")
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection: every statement meets its cached copy
	if _, err := db.ExecContext(ctx, `CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 5; i++ {
		if _, err := db.ExecContext(ctx, `INSERT INTO t (k, v) VALUES (?1, ?2)`, i, fmt.Sprint("v", i)); err != nil {
			t.Fatal(err)
		}
	}
	sum := func(q string, args ...any) int {
		t.Helper()
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var k int
			if err := rows.Scan(&k); err != nil {
				t.Fatal(err)
			}
			n += k
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return n
	}
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"reused with other arguments", func(t *testing.T) {
			for i := 1; i <= 5; i++ {
				if got := sum(`SELECT k FROM t WHERE k >= ?1`, i); got != (i+5)*(5-i+1)/2 {
					t.Fatalf("k >= %d: sum %d", i, got)
				}
			}
		}},
		{"same text inside a loop over its rows", func(t *testing.T) {
			const q = `SELECT k FROM t WHERE k >= ?1 ORDER BY k`
			rows, err := db.QueryContext(ctx, q, 1)
			if err != nil {
				t.Fatal(err)
			}
			// The nested query cannot run on the only connection while
			// rows hold it in database/sql, so use a transaction, whose
			// statements share one connection by design.
			rows.Close()
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			outer, err := tx.QueryContext(ctx, q, 1)
			if err != nil {
				t.Fatal(err)
			}
			var seen []string
			for outer.Next() {
				var k int
				if err := outer.Scan(&k); err != nil {
					t.Fatal(err)
				}
				inner, err := tx.QueryContext(ctx, q, k)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for inner.Next() {
					n++
				}
				inner.Close()
				seen = append(seen, fmt.Sprintf("%d:%d", k, n))
			}
			if err := outer.Err(); err != nil {
				t.Fatal(err)
			}
			outer.Close()
			if got := strings.Join(seen, " "); got != "1:5 2:4 3:3 4:2 5:1" {
				t.Fatalf("outer loop saw %q", got)
			}
		}},
		{"a failed statement stays usable", func(t *testing.T) {
			const ins = `INSERT INTO t (k, v) VALUES (?1, ?2)`
			if _, err := db.ExecContext(ctx, ins, 100, "v1"); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
				t.Fatalf("duplicate v: %v", err)
			}
			if _, err := db.ExecContext(ctx, ins, 100, "v100"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ExecContext(ctx, `DELETE FROM t WHERE k = ?1`, 100); err != nil {
				t.Fatal(err)
			}
		}},
		{"eviction past the bound, one evicted statement in use", func(t *testing.T) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			held, err := tx.QueryContext(ctx, `SELECT k FROM t ORDER BY k`)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < stmtCacheSize+10; i++ {
				var n int
				if err := tx.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) + %d FROM t`, i)).Scan(&n); err != nil || n != 5+i {
					t.Fatalf("statement %d: %d %v", i, n, err)
				}
			}
			n := 0
			for held.Next() {
				n++
			}
			if err := held.Close(); err != nil || n != 5 {
				t.Fatalf("held rows after eviction: %d rows, %v", n, err)
			}
		}},
		{"rolled back writes through cached statements", func(t *testing.T) {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO t (k, v) VALUES (?1, ?2)`, 200, "v200"); err != nil {
				t.Fatal(err)
			}
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			if got := sum(`SELECT k FROM t WHERE k >= ?1`, 1); got != 15 {
				t.Fatalf("after rollback: sum %d", got)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.run)
	}
}
