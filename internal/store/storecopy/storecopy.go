// Package storecopy moves a whole pamscim deployment between stores
// (SQLite to PostgreSQL and back) and makes online backups of the SQLite
// store. It works on tables, not on resources: every row of every table
// goes across as it is stored, so secrets stay encrypted with the same key,
// token hashes stay valid, and the cursor key (and so every cursor a client
// holds) survives the move.
package storecopy

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/pamscim/pamscim/internal/store/sqlstore"
)

// Options tune Copy.
type Options struct {
	// Overwrite allows a destination that already holds users, groups or
	// tokens; its rows are replaced.
	Overwrite bool
	// Progress, when set, is called after each table.
	Progress func(table string, rows int)
}

// TableCount is how many rows one table had.
type TableCount struct {
	Table string
	Rows  int
}

// engine is what differs in reading the catalog.
type engine struct {
	name string
	db   *sql.DB
}

type column struct {
	name, typ string
	serial    bool // PostgreSQL: identity or sequence default
	identity  bool // PostgreSQL: an identity column
}

// Copy copies every table of from into to, in one read snapshot of from
// and one write transaction on to: the destination ends up with all of it
// or, on any error, unchanged. Both stores must be at the same migration
// version (open both with the same pamscim). The source may be serving
// while it runs.
func Copy(ctx context.Context, from, to *sqlstore.DB, opt Options) ([]TableCount, error) {
	if err := sameVersion(ctx, from, to); err != nil {
		return nil, err
	}
	_, srcR := from.Handles()
	dstW, _ := to.Handles()
	src := engine{from.FlavorName(), srcR}
	dst := engine{to.FlavorName(), dstW}
	tables, err := dst.tables(ctx)
	if err != nil {
		return nil, fmt.Errorf("destination tables: %w", err)
	}
	srcTables, err := src.tables(ctx)
	if err != nil {
		return nil, fmt.Errorf("source tables: %w", err)
	}
	if !slices.Equal(sortedCopy(tables), sortedCopy(srcTables)) {
		return nil, fmt.Errorf("the stores have different tables (source %v, destination %v)", srcTables, tables)
	}
	if !opt.Overwrite {
		// Migrations seed some rows (the default tenant, PAM roles); a
		// store that has served has a token, and users or groups.
		for what, q := range map[string]string{
			"tokens":           "SELECT count(*) FROM tokens",
			"users and groups": "SELECT count(*) FROM resources WHERE rtype IN ('User', 'Group')",
		} {
			var n int
			if err := dstW.QueryRowContext(ctx, q).Scan(&n); err != nil {
				return nil, err
			}
			if n > 0 {
				return nil, fmt.Errorf("the destination is in use (it has %d %s); copy into a new store, or pass --overwrite to replace its contents", n, what)
			}
		}
	}
	order, err := dst.fkOrder(ctx, tables)
	if err != nil {
		return nil, err
	}
	// Read before the write transaction: SQLite's writer pool has one
	// connection, which the transaction holds.
	cols := map[string][]column{}
	for _, t := range order {
		if cols[t], err = dst.columns(ctx, t); err != nil {
			return nil, fmt.Errorf("columns of %s: %w", t, err)
		}
	}

	stx, err := src.db.BeginTx(ctx, src.snapshot())
	if err != nil {
		return nil, fmt.Errorf("source snapshot: %w", err)
	}
	defer stx.Rollback()
	dtx, err := dst.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer dtx.Rollback()
	for i := len(order) - 1; i >= 0; i-- {
		if _, err := dtx.ExecContext(ctx, "DELETE FROM "+quoteIdent(order[i])); err != nil {
			return nil, fmt.Errorf("empty %s: %w", order[i], err)
		}
	}
	var counts []TableCount
	for _, t := range order {
		cols := cols[t]
		n, err := copyTable(ctx, stx, dtx, dst.name, t, cols)
		if err != nil {
			return nil, fmt.Errorf("copy %s: %w", t, err)
		}
		if dst.name == "postgres" {
			for _, c := range cols {
				if c.serial {
					q := fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%s', '%s'), coalesce(max(%s), 0) + 1, false) FROM %s", t, c.name, quoteIdent(c.name), quoteIdent(t))
					if _, err := dtx.ExecContext(ctx, q); err != nil {
						return nil, fmt.Errorf("sequence of %s.%s: %w", t, c.name, err)
					}
				}
			}
		}
		counts = append(counts, TableCount{t, n})
		if opt.Progress != nil {
			opt.Progress(t, n)
		}
	}
	if err := dtx.Commit(); err != nil {
		return nil, fmt.Errorf("commit: %w", err)
	}
	// Fresh planner statistics: the copied tables are all new to it.
	if dst.name == "postgres" {
		_, _ = dst.db.ExecContext(ctx, "ANALYZE")
	} else {
		_ = to.Optimize(ctx)
	}
	return counts, nil
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

func sameVersion(ctx context.Context, a, b *sqlstore.DB) error {
	ma, err := a.Migrations(ctx)
	if err != nil {
		return fmt.Errorf("source migrations: %w", err)
	}
	mb, err := b.Migrations(ctx)
	if err != nil {
		return fmt.Errorf("destination migrations: %w", err)
	}
	names := func(ms []sqlstore.Migration) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Name)
		}
		return out
	}
	if !slices.Equal(names(ma), names(mb)) {
		return fmt.Errorf("the stores are at different migration versions (source %v, destination %v); run the same pamscim on both", names(ma), names(mb))
	}
	return nil
}

// snapshot is the source transaction: one consistent view of every table.
// SQLite's read transaction on a WAL database is one; PostgreSQL needs
// REPEATABLE READ for it.
func (e engine) snapshot() *sql.TxOptions {
	if e.name == "postgres" {
		return &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	return nil
}

func (e engine) tables(ctx context.Context) ([]string, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> 'schema_migrations' ORDER BY name`
	if e.name == "postgres" {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' ORDER BY table_name`
	}
	return queryStrings(ctx, e.db, q)
}

func queryStrings(ctx context.Context, db *sql.DB, q string, args ...any) ([]string, error) {
	rows, err := db.QueryContext(ctx, q, args...)
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

func (e engine) columns(ctx context.Context, table string) ([]column, error) {
	var cols []column
	if e.name == "postgres" {
		rows, err := e.db.QueryContext(ctx, `SELECT column_name, data_type, is_identity = 'YES' OR coalesce(column_default, '') LIKE 'nextval(%', is_identity = 'YES'
			FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var c column
			if err := rows.Scan(&c.name, &c.typ, &c.serial, &c.identity); err != nil {
				return nil, err
			}
			cols = append(cols, c)
		}
		return cols, rows.Err()
	}
	rows, err := e.db.QueryContext(ctx, `SELECT name, type FROM pragma_table_info(?1) ORDER BY cid`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ); err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// fkOrder orders tables so that every table comes after the tables its
// foreign keys reference.
func (e engine) fkOrder(ctx context.Context, tables []string) ([]string, error) {
	deps := map[string][]string{}
	for _, t := range tables {
		var refs []string
		var err error
		if e.name == "postgres" {
			refs, err = queryStrings(ctx, e.db, `SELECT DISTINCT r.relname FROM pg_constraint c
				JOIN pg_class t ON t.oid = c.conrelid JOIN pg_class r ON r.oid = c.confrelid
				JOIN pg_namespace n ON n.oid = t.relnamespace
				WHERE c.contype = 'f' AND n.nspname = current_schema() AND t.relname = $1`, t)
		} else {
			refs, err = queryStrings(ctx, e.db, `SELECT DISTINCT "table" FROM pragma_foreign_key_list(?1)`, t)
		}
		if err != nil {
			return nil, fmt.Errorf("foreign keys of %s: %w", t, err)
		}
		deps[t] = refs
	}
	var out []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(t string) error
	visit = func(t string) error {
		switch state[t] {
		case 1:
			return fmt.Errorf("foreign keys form a cycle through %s", t)
		case 2:
			return nil
		}
		state[t] = 1
		for _, r := range deps[t] {
			if r != t {
				if err := visit(r); err != nil {
					return err
				}
			}
		}
		state[t] = 2
		out = append(out, t)
		return nil
	}
	for _, t := range tables {
		if err := visit(t); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// copyTable streams the rows of one table into batched multi-row INSERTs.
func copyTable(ctx context.Context, stx, dtx *sql.Tx, dstEngine, table string, cols []column) (int, error) {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = quoteIdent(c.name)
	}
	list := strings.Join(names, ", ")
	// The source's ids go across as they are, GENERATED ALWAYS or not.
	overriding := ""
	for _, c := range cols {
		if c.identity {
			overriding = " OVERRIDING SYSTEM VALUE"
		}
	}
	rows, err := stx.QueryContext(ctx, "SELECT "+list+" FROM "+quoteIdent(table))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	// Both engines bind at least 32,766 parameters per statement.
	per := max(1, min(500, 30000/len(cols)))
	batch := make([]any, 0, per*len(cols))
	n := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		var b strings.Builder
		b.WriteString("INSERT INTO " + quoteIdent(table) + " (" + list + ")" + overriding + " VALUES ")
		k := 1
		for r := 0; r < len(batch)/len(cols); r++ {
			if r > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for c := range cols {
				if c > 0 {
					b.WriteString(", ")
				}
				if dstEngine == "postgres" {
					fmt.Fprintf(&b, "$%d", k)
				} else {
					fmt.Fprintf(&b, "?%d", k)
				}
				k++
			}
			b.WriteByte(')')
		}
		if _, err := dtx.ExecContext(ctx, b.String(), batch...); err != nil {
			return err
		}
		batch = batch[:0]
		return nil
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, c := range cols {
			v, err := convert(vals[i], dstEngine, c.typ)
			if err != nil {
				return n, fmt.Errorf("column %s: %w", c.name, err)
			}
			batch = append(batch, v)
		}
		n++
		if len(batch) >= per*len(cols) {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	return n, flush()
}

// convert adapts a value read from one engine to a column of the other:
// SQLite keeps booleans as 1 and 0 and JSON as text, PostgreSQL has
// boolean and jsonb.
func convert(v any, dstEngine, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	typ = strings.ToLower(typ)
	if dstEngine == "postgres" {
		switch typ {
		case "boolean":
			switch x := v.(type) {
			case int64:
				return x != 0, nil
			case bool:
				return x, nil
			}
			return nil, fmt.Errorf("%T is not a boolean", v)
		case "bytea":
			if s, ok := v.(string); ok {
				return []byte(s), nil
			}
		case "text", "character varying", "jsonb", "json":
			if b, ok := v.([]byte); ok {
				return string(b), nil
			}
		}
		return v, nil
	}
	switch x := v.(type) {
	case bool:
		if x {
			return int64(1), nil
		}
		return int64(0), nil
	case map[string]any, []any:
		b, err := json.Marshal(x)
		return string(b), err
	case []byte:
		if !strings.Contains(typ, "blob") {
			return string(x), nil
		}
	}
	return v, nil
}

// ErrNotSQLite is returned by Backup for a PostgreSQL store.
var ErrNotSQLite = errors.New("backup makes copies of the SQLite store; back up PostgreSQL with pg_dump, or copy it into a SQLite store with 'pamscim copy' (docs/operations.md)")

// BackupFile is the database file a backup directory holds: a backup is a
// data directory, usable as it is with --data.
const BackupFile = "pamscim.db"

// Backup writes a consistent copy of a SQLite store, taken while it may be
// serving, into a new data directory dir (which must not exist or must be
// empty), and returns the path of the database file it wrote.
func Backup(ctx context.Context, st *sqlstore.DB, dir string) (string, error) {
	if st.FlavorName() != "sqlite" {
		return "", ErrNotSQLite
	}
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return "", fmt.Errorf("backup directory %s is not empty", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	path, err := filepath.Abs(filepath.Join(dir, BackupFile))
	if err != nil {
		return "", err
	}
	w, _ := st.Handles()
	// VACUUM INTO reads one snapshot and writes a compact, self-contained
	// database (no WAL beside it); writers of the source are not blocked.
	if _, err := w.ExecContext(ctx, `VACUUM INTO ?1`, path); err != nil {
		_ = os.Remove(path)
		return "", fmt.Errorf("backup: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		return "", err
	}
	return path, nil
}
