package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

const provlogCols = `id, tenant, at, method, path, query, status, duration_ns, client, rtype, rid, request_id, req_body, resp_body`

// logRows is how many entries one INSERT carries. PostgreSQL takes a
// statement per round trip, so more rows per statement is better up to a
// few hundred. SQLite gets one row per statement inside one transaction:
// a statement is prepared once and costs no round trip, while a multi-row
// INSERT costs twice over — modernc looks every bound parameter up by
// number in a list (sqlite3VListNumToName, quadratic in the parameters of
// one statement), and SQLite writes a statement journal (a temporary file)
// for any statement that changes more than one row inside a transaction.
func (db *DB) logRows() int {
	if db.f.Name == "postgres" {
		return 200
	}
	return 1
}

// logCols is the number of columns AppendLog binds per entry.
const logCols = 13

// pruneChunk bounds one DELETE, so that pruning a large backlog leaves the
// writer (SQLite has one) to SCIM writes between chunks.
const pruneChunk = 2000

// AppendLog stores a batch of provisioning log entries with multi-row
// INSERTs in one transaction: the recorder calls it a few times a second,
// and on SQLite every write takes the one writer connection, so one
// transaction per batch rather than per request keeps SCIM writes waiting
// as little as possible.
func (db *DB) AppendLog(ctx context.Context, entries []store.LogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	per := db.logRows()
	tx, err := db.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("append log: %w", err)
	}
	defer tx.Rollback()
	args := make([]any, 0, min(per, len(entries))*logCols)
	for start := 0; start < len(entries); start += per {
		part := entries[start:min(len(entries), start+per)]
		args = args[:0]
		for _, e := range part {
			args = append(args, text(e.Tenant), micros(e.At), text(e.Method), text(e.Path), text(e.Query), e.Status, int64(e.Duration),
				text(e.Client), text(e.ResourceType), text(e.ResourceID), text(e.RequestID), nonNil(e.RequestBody), nonNil(e.ResponseBody))
		}
		// At most per distinct texts: the cache stays small.
		if _, err := tx.ExecContext(ctx, db.q(logInsert(len(part))), args...); err != nil {
			return fmt.Errorf("append log: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("append log: %w", err)
	}
	return nil
}

// logInsert is the INSERT of n entries.
func logInsert(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO provlog (tenant, at, method, path, query, status, duration_ns, client, rtype, rid, request_id, req_body, resp_body) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range logCols {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(i*logCols + c + 1))
		}
		b.WriteByte(')')
	}
	return b.String()
}

// text makes a string storable in a PostgreSQL TEXT column, which refuses
// NUL and invalid UTF-8: a request path decoded from %00 or %FF would
// otherwise fail the whole batch.
func text(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// nonNil stores an absent body as an empty one: both columns are NOT NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// QueryLog returns the entries matching q, newest first.
func (db *DB) QueryLog(ctx context.Context, q store.LogQuery) ([]store.LogEntry, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if !q.AllTenants {
		// An empty tenant matches nothing rather than everything.
		add("tenant = $?", q.Tenant)
	} else if q.Tenant != "" {
		add("tenant = $?", q.Tenant)
	}
	lo, hi, err := store.StatusRange(q.Status)
	if err != nil {
		return nil, err
	}
	if lo != 0 {
		if lo == hi {
			add("status = $?", lo)
		} else {
			add("status >= $?", lo)
			add("status <= $?", hi)
		}
	}
	if q.Path != "" {
		// Lower-cased on both sides: SQLite's LIKE ignores ASCII case and
		// PostgreSQL's does not, and one store must answer like the other.
		add(`lower(path) LIKE $? ESCAPE '\'`, "%"+likeEscape(strings.ToLower(q.Path))+"%")
	}
	if q.Client != "" {
		add("client = $?", q.Client)
	}
	if q.ResourceID != "" {
		add("rid = $?", q.ResourceID)
	}
	if !q.Since.IsZero() {
		add("at >= $?", micros(q.Since))
	}
	if !q.Until.IsZero() {
		add("at < $?", micros(q.Until))
	}
	if q.BeforeID > 0 {
		add("id < $?", q.BeforeID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, store.MaxLogLimit)
	text := `SELECT ` + provlogCols + ` FROM provlog`
	if len(where) > 0 {
		text += ` WHERE ` + strings.Join(where, " AND ")
	}
	text += ` ORDER BY id DESC LIMIT ` + strconv.Itoa(limit)
	rows, err := db.rdb.QueryContext(ctx, db.f.Rebind(text), args...)
	if err != nil {
		return nil, fmt.Errorf("query log: %w", err)
	}
	defer rows.Close()
	var out []store.LogEntry
	for rows.Next() {
		e, err := scanLog(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, rows.Err()
}

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

func scanLog(sc interface{ Scan(...any) error }) (*store.LogEntry, error) {
	var (
		e      store.LogEntry
		at, ns int64
	)
	if err := sc.Scan(&e.ID, &e.Tenant, &at, &e.Method, &e.Path, &e.Query, &e.Status, &ns, &e.Client,
		&e.ResourceType, &e.ResourceID, &e.RequestID, &e.RequestBody, &e.ResponseBody); err != nil {
		return nil, err
	}
	e.At = fromMicros(at)
	e.Duration = time.Duration(ns)
	return &e, nil
}

// LogEntry returns one entry of tenant.
func (db *DB) LogEntry(ctx context.Context, tenant string, id int64) (*store.LogEntry, error) {
	row := db.rdb.QueryRowContext(ctx, db.q(`SELECT `+provlogCols+` FROM provlog WHERE tenant = $1 AND id = $2`), tenant, id)
	e, err := scanLog(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, scimerr.New(scimerr.NotFound, "log entry %d not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("log entry: %w", err)
	}
	return e, nil
}

// PruneLog deletes old entries in chunks of pruneChunk rows.
func (db *DB) PruneLog(ctx context.Context, tenant string, olderThan time.Time, keepMax int) (int64, error) {
	tenants := []string{tenant}
	if tenant == "" {
		var err error
		if tenants, err = db.logTenants(ctx); err != nil {
			return 0, err
		}
	}
	var total int64
	for _, t := range tenants {
		if !olderThan.IsZero() {
			n, err := db.pruneChunks(ctx, `DELETE FROM provlog WHERE id IN (SELECT id FROM provlog WHERE tenant = $1 AND at < $2 ORDER BY id LIMIT `+strconv.Itoa(pruneChunk)+`)`, t, micros(olderThan))
			total += n
			if err != nil {
				return total, err
			}
		}
		if keepMax > 0 {
			// The newest id that goes: everything at or below it is beyond
			// the newest keepMax.
			var cut sql.NullInt64
			err := db.rdb.QueryRowContext(ctx, db.q(`SELECT id FROM provlog WHERE tenant = $1 ORDER BY id DESC LIMIT 1 OFFSET $2`), t, keepMax).Scan(&cut)
			if errors.Is(err, sql.ErrNoRows) || (err == nil && !cut.Valid) {
				continue
			}
			if err != nil {
				return total, fmt.Errorf("prune log: %w", err)
			}
			n, err := db.pruneChunks(ctx, `DELETE FROM provlog WHERE id IN (SELECT id FROM provlog WHERE tenant = $1 AND id <= $2 ORDER BY id LIMIT `+strconv.Itoa(pruneChunk)+`)`, t, cut.Int64)
			total += n
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

func (db *DB) pruneChunks(ctx context.Context, stmt string, args ...any) (int64, error) {
	var total int64
	for {
		res, err := db.wdb.ExecContext(ctx, db.q(stmt), args...)
		if err != nil {
			return total, fmt.Errorf("prune log: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("prune log: %w", err)
		}
		total += n
		if n < pruneChunk {
			return total, nil
		}
	}
}

func (db *DB) logTenants(ctx context.Context) ([]string, error) {
	// A skip scan over the (tenant, id) index: one index probe per tenant
	// instead of reading every row, which DISTINCT would.
	rows, err := db.rdb.QueryContext(ctx, `WITH RECURSIVE t(name) AS (
  SELECT min(tenant) FROM provlog
  UNION ALL
  SELECT (SELECT min(tenant) FROM provlog WHERE tenant > t.name) FROM t WHERE t.name IS NOT NULL
) SELECT name FROM t WHERE name IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("prune log: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
