package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// pruneChunk bounds one DELETE (in blocks), so that pruning a large backlog
// leaves the writer (SQLite has one) to SCIM writes between chunks.
const pruneChunk = 100

// AppendLog stores a batch of provisioning log entries: one block per
// tenant (logblock.go), compressed before the transaction so that the
// writer is held only for a few INSERTs.
func (db *DB) AppendLog(ctx context.Context, entries []store.LogEntry) error {
	for len(entries) > 0 {
		part := entries[:min(len(entries), maxBatchEntries)]
		if err := db.appendBatch(ctx, part); err != nil {
			return fmt.Errorf("append log: %w", err)
		}
		entries = entries[len(part):]
	}
	return nil
}

func (db *DB) appendBatch(ctx context.Context, entries []store.LogEntry) error {
	var blocks []logBlock
	for _, idx := range splitBlocks(entries) {
		part := make([]store.LogEntry, len(idx))
		for i, j := range idx {
			part[i] = entries[j]
		}
		b := encodeBlock(part, idx)
		b.tenant = entries[idx[0]].Tenant
		blocks = append(blocks, b)
	}
	tx, err := db.wdb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var batch int64
	if err := tx.QueryRowContext(ctx, `UPDATE provlog_counter SET batch = batch + 1 RETURNING batch`).Scan(&batch); err != nil {
		return err
	}
	for _, b := range blocks {
		if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO provlog_blocks (batch, tenant, n, first_at, last_at, meta, bodies) VALUES ($1, $2, $3, $4, $5, $6, $7)`),
			batch, b.tenant, b.n, b.firstAt, b.lastAt, b.meta, b.bodies); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// splitBlocks groups the positions of entries by tenant, in order of first
// appearance, and cuts each tenant's list into blocks of at most
// blockEntries entries and blockBodyBytes of bodies.
func splitBlocks(entries []store.LogEntry) [][]int {
	var (
		order  []string
		byTen  = map[string][]int{}
		blocks [][]int
	)
	for i := range entries {
		t := entries[i].Tenant
		if _, ok := byTen[t]; !ok {
			order = append(order, t)
		}
		byTen[t] = append(byTen[t], i)
	}
	for _, t := range order {
		var (
			cur   []int
			bytes int
		)
		for _, i := range byTen[t] {
			sz := len(entries[i].RequestBody) + len(entries[i].ResponseBody)
			if len(cur) > 0 && (len(cur) >= blockEntries || bytes+sz > blockBodyBytes) {
				blocks = append(blocks, cur)
				cur, bytes = nil, 0
			}
			cur = append(cur, i)
			bytes += sz
		}
		blocks = append(blocks, cur)
	}
	return blocks
}

// entryID is the id of the entry at pos in batch.
func entryID(batch int64, pos int) int64 { return batch<<posBits | int64(pos) }

// logMatcher is a LogQuery's conditions on one entry.
type logMatcher struct {
	lo, hi       int
	path         string // lower-cased
	client, rid  string
	since, until int64 // micros; 0: none
	before       int64
}

func newLogMatcher(q store.LogQuery) (*logMatcher, error) {
	lo, hi, err := store.StatusRange(q.Status)
	if err != nil {
		return nil, err
	}
	m := &logMatcher{lo: lo, hi: hi, path: lowerASCII(q.Path), client: q.Client, rid: q.ResourceID, before: q.BeforeID}
	if !q.Since.IsZero() {
		m.since = micros(q.Since)
	}
	if !q.Until.IsZero() {
		m.until = micros(q.Until)
	}
	return m, nil
}

func (m *logMatcher) match(e *store.LogEntry) bool {
	if m.lo != 0 && (e.Status < m.lo || e.Status > m.hi) {
		return false
	}
	if m.before > 0 && e.ID >= m.before {
		return false
	}
	if m.client != "" && e.Client != m.client {
		return false
	}
	if m.rid != "" && e.ResourceID != m.rid {
		return false
	}
	at := micros(e.At)
	if (m.since != 0 && at < m.since) || (m.until != 0 && at >= m.until) {
		return false
	}
	// Lower-cased on both sides, ASCII only: a path is ASCII unless a
	// client percent-encoded something else, and then it is searched as
	// typed.
	return m.path == "" || strings.Contains(lowerASCII(e.Path), m.path)
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// foundEntry is an entry a query chose, and its block.
type foundEntry struct {
	be    blockEntry
	block int64
}

// QueryLog returns the entries matching q, newest first. It walks the
// blocks newest first (the tenant's index, or the batch index for every
// tenant), skipping those outside the time range without decompressing
// them, and matches entries in Go; then it reads the bodies of the few
// blocks the page came from.
func (db *DB) QueryLog(ctx context.Context, q store.LogQuery) ([]store.LogEntry, error) {
	m, err := newLogMatcher(q)
	if err != nil {
		return nil, err
	}
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if !q.AllTenants || q.Tenant != "" {
		// Without AllTenants an empty tenant matches nothing rather than
		// everything.
		add("tenant = $?", q.Tenant)
	}
	if q.BeforeID > 0 {
		add("batch <= $?", q.BeforeID>>posBits)
	}
	if m.since != 0 {
		add("last_at >= $?", m.since)
	}
	if m.until != 0 {
		add("first_at < $?", m.until)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, store.MaxLogLimit)
	text := `SELECT id, batch, tenant, meta FROM provlog_blocks`
	if len(where) > 0 {
		text += ` WHERE ` + strings.Join(where, " AND ")
	}
	text += ` ORDER BY batch DESC, id DESC`
	found, err := db.scanBlocks(ctx, db.f.Rebind(text), args, m, limit)
	if err != nil {
		return nil, fmt.Errorf("query log: %w", err)
	}
	if err := db.fillBodies(ctx, found); err != nil {
		return nil, fmt.Errorf("query log: %w", err)
	}
	out := make([]store.LogEntry, len(found))
	for i := range found {
		out[i] = found[i].be.e
	}
	return out, nil
}

// scanBlocks reads blocks in the order of the query and returns up to limit
// matching entries, newest first. The blocks of one batch are read together
// and their entries merged by position: a batch holds one block per tenant.
func (db *DB) scanBlocks(ctx context.Context, text string, args []any, m *logMatcher, limit int) ([]foundEntry, error) {
	rows, err := db.rdb.QueryContext(ctx, text, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		out   []foundEntry
		group []foundEntry
		gb    int64 = -1
	)
	flush := func() {
		slices.SortFunc(group, func(a, b foundEntry) int { return b.be.pos - a.be.pos })
		for _, f := range group {
			if len(out) >= limit {
				break
			}
			if m.match(&f.be.e) {
				out = append(out, f)
			}
		}
		group = group[:0]
	}
	for rows.Next() {
		var (
			id, batch int64
			tenant    string
			meta      []byte
		)
		if err := rows.Scan(&id, &batch, &tenant, &meta); err != nil {
			return nil, err
		}
		if batch != gb {
			flush()
			if len(out) >= limit {
				return out, nil
			}
			gb = batch
		}
		es, _, err := decodeMeta(meta)
		if err != nil {
			return nil, fmt.Errorf("block %d: %w", id, err)
		}
		for _, be := range es {
			be.e.ID, be.e.Tenant = entryID(batch, be.pos), tenant
			group = append(group, foundEntry{be: be, block: id})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	flush()
	return out, nil
}

// fillBodies reads the bodies of found entries, a block at a time. The
// block is read whole again (meta too): pruning may have rewritten it
// since, and an entry it dropped is then given without bodies.
func (db *DB) fillBodies(ctx context.Context, found []foundEntry) error {
	type located struct {
		at  map[int]blockEntry
		raw []byte
	}
	blocks := map[int64]*located{}
	for i := range found {
		f := &found[i]
		if f.be.reqLen == 0 && f.be.respLen == 0 {
			f.be.e.RequestBody, f.be.e.ResponseBody = []byte{}, []byte{}
			continue
		}
		l, ok := blocks[f.block]
		if !ok {
			l = &located{}
			blocks[f.block] = l
			var meta, bodies []byte
			err := db.rdb.QueryRowContext(ctx, db.q(`SELECT meta, bodies FROM provlog_blocks WHERE id = $1`), f.block).Scan(&meta, &bodies)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if err == nil {
				es, size, err := decodeMeta(meta)
				if err != nil {
					return fmt.Errorf("block %d: %w", f.block, err)
				}
				if l.raw, err = decodeBodies(bodies, size); err != nil {
					return fmt.Errorf("block %d: %w", f.block, err)
				}
				l.at = make(map[int]blockEntry, len(es))
				for _, be := range es {
					l.at[be.pos] = be
				}
			}
		}
		be, ok := l.at[f.be.pos]
		if !ok {
			f.be.e.RequestBody, f.be.e.ResponseBody = []byte{}, []byte{}
			continue
		}
		be.e = f.be.e
		be.withBodies(l.raw)
		f.be = be
	}
	return nil
}

// LogEntry returns one entry of tenant.
func (db *DB) LogEntry(ctx context.Context, tenant string, id int64) (*store.LogEntry, error) {
	notFound := scimerr.New(scimerr.NotFound, "log entry %d not found", id)
	if id <= 0 {
		return nil, notFound
	}
	batch, pos := id>>posBits, int(id&(maxBatchEntries-1))
	rows, err := db.rdb.QueryContext(ctx, db.q(`SELECT meta, bodies FROM provlog_blocks WHERE tenant = $1 AND batch = $2 ORDER BY id`), tenant, batch)
	if err != nil {
		return nil, fmt.Errorf("log entry: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var meta, bodies []byte
		if err := rows.Scan(&meta, &bodies); err != nil {
			return nil, fmt.Errorf("log entry: %w", err)
		}
		es, size, err := decodeMeta(meta)
		if err != nil {
			return nil, fmt.Errorf("log entry: %w", err)
		}
		for _, be := range es {
			if be.pos != pos {
				continue
			}
			raw, err := decodeBodies(bodies, size)
			if err != nil {
				return nil, fmt.Errorf("log entry: %w", err)
			}
			be.withBodies(raw)
			be.e.ID, be.e.Tenant = id, tenant
			return &be.e, nil
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("log entry: %w", err)
	}
	return nil, notFound
}

// PruneLog deletes old entries: whole blocks where every entry goes, and
// the one block per tenant and limit that holds both kinds is rewritten
// with the entries that stay (their ids unchanged).
func (db *DB) PruneLog(ctx context.Context, tenant string, lim store.LogLimits) (int64, error) {
	olderThan := lim.OlderThan
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
			cut := micros(olderThan)
			n, err := db.pruneBlocks(ctx, `tenant = $1 AND last_at < $2`, t, cut)
			total += n
			if err != nil {
				return total, err
			}
			// What is left and starts before the cut holds both.
			n, err = db.rewriteBlocks(ctx, `tenant = $1 AND first_at < $2`, []any{t, cut}, func(es []blockEntry) []blockEntry {
				return slices.DeleteFunc(es, func(be blockEntry) bool { return micros(be.e.At) < cut })
			})
			total += n
			if err != nil {
				return total, err
			}
		}
		if lim.MaxEntries > 0 || lim.MaxBytes > 0 {
			n, err := db.pruneSize(ctx, t, lim.MaxEntries, lim.MaxBytes)
			total += n
			if err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// pruneSize keeps the newest maxEntries entries of tenant, in the newest
// blocks that fit in maxBytes together (either 0: no such limit).
func (db *DB) pruneSize(ctx context.Context, tenant string, maxEntries int, maxBytes int64) (int64, error) {
	// Walk the tenant's blocks newest first to the one that passes a
	// limit: of it, the newest entries within maxEntries stay (none when
	// it is the bytes that pass); everything older goes.
	rows, err := db.rdb.QueryContext(ctx, db.q(`SELECT id, batch, n, length(meta) + length(bodies) FROM provlog_blocks WHERE tenant = $1 ORDER BY batch DESC, id DESC`), tenant)
	if err != nil {
		return 0, fmt.Errorf("prune log: %w", err)
	}
	var (
		seen             int
		size             int64
		cutID, cutBatch  int64
		keepInCut, found = 0, false
	)
	for rows.Next() {
		var (
			id, batch, sz int64
			n             int
		)
		if err := rows.Scan(&id, &batch, &n, &sz); err != nil {
			rows.Close()
			return 0, fmt.Errorf("prune log: %w", err)
		}
		if maxBytes > 0 && size+sz > maxBytes {
			cutID, cutBatch, keepInCut, found = id, batch, 0, true
			break
		}
		if maxEntries > 0 && seen+n > maxEntries {
			cutID, cutBatch, keepInCut, found = id, batch, maxEntries-seen, true
			break
		}
		seen += n
		size += sz
	}
	rows.Close()
	if err := rows.Err(); err != nil || !found {
		if err != nil {
			return 0, fmt.Errorf("prune log: %w", err)
		}
		return 0, nil
	}
	total, err := db.pruneBlocks(ctx, `tenant = $1 AND (batch < $2 OR (batch = $2 AND id < $3))`, tenant, cutBatch, cutID)
	if err != nil {
		return total, err
	}
	if keepInCut == 0 {
		n, err := db.pruneBlocks(ctx, `id = $1`, cutID)
		return total + n, err
	}
	n, err := db.rewriteBlocks(ctx, `id = $1`, []any{cutID}, func(es []blockEntry) []blockEntry {
		// Entries are in position order: the newest are last.
		return es[max(0, len(es)-keepInCut):]
	})
	return total + n, err
}

// pruneBlocks deletes the blocks matching cond, in chunks, and returns how
// many entries they held.
func (db *DB) pruneBlocks(ctx context.Context, cond string, args ...any) (int64, error) {
	stmt := db.q(`DELETE FROM provlog_blocks WHERE id IN (SELECT id FROM provlog_blocks WHERE ` + cond + ` ORDER BY id LIMIT ` + strconv.Itoa(pruneChunk) + `) RETURNING n`)
	var total int64
	for {
		rows, err := db.wdb.QueryContext(ctx, stmt, args...)
		if err != nil {
			return total, fmt.Errorf("prune log: %w", err)
		}
		blocks := 0
		for rows.Next() {
			var n int64
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return total, fmt.Errorf("prune log: %w", err)
			}
			total += n
			blocks++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return total, fmt.Errorf("prune log: %w", err)
		}
		if blocks < pruneChunk {
			return total, nil
		}
	}
}

// rewriteBlocks replaces each block matching cond with the entries keep
// leaves of it (never none: cond selects blocks where some stay), and
// returns how many entries went. A block another writer changed meanwhile
// (two instances pruning at once) is left to it.
func (db *DB) rewriteBlocks(ctx context.Context, cond string, args []any, keep func([]blockEntry) []blockEntry) (int64, error) {
	type old struct {
		id, batch    int64
		n            int
		meta, bodies []byte
	}
	rows, err := db.rdb.QueryContext(ctx, db.q(`SELECT id, batch, n, meta, bodies FROM provlog_blocks WHERE `+cond), args...)
	if err != nil {
		return 0, fmt.Errorf("prune log: %w", err)
	}
	var olds []old
	for rows.Next() {
		var o old
		if err := rows.Scan(&o.id, &o.batch, &o.n, &o.meta, &o.bodies); err != nil {
			rows.Close()
			return 0, fmt.Errorf("prune log: %w", err)
		}
		olds = append(olds, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("prune log: %w", err)
	}
	var total int64
	for _, o := range olds {
		es, size, err := decodeMeta(o.meta)
		if err != nil {
			return total, fmt.Errorf("prune log: block %d: %w", o.id, err)
		}
		raw, err := decodeBodies(o.bodies, size)
		if err != nil {
			return total, fmt.Errorf("prune log: block %d: %w", o.id, err)
		}
		kept := keep(es)
		if len(kept) == len(es) {
			continue
		}
		part := make([]store.LogEntry, len(kept))
		pos := make([]int, len(kept))
		for i := range kept {
			kept[i].withBodies(raw)
			part[i], pos[i] = kept[i].e, kept[i].pos
		}
		var res sql.Result
		if len(kept) == 0 {
			res, err = db.wdb.ExecContext(ctx, db.q(`DELETE FROM provlog_blocks WHERE id = $1 AND n = $2`), o.id, o.n)
		} else {
			b := encodeBlock(part, pos)
			res, err = db.wdb.ExecContext(ctx, db.q(`UPDATE provlog_blocks SET n = $1, first_at = $2, last_at = $3, meta = $4, bodies = $5 WHERE id = $6 AND n = $7`),
				b.n, b.firstAt, b.lastAt, b.meta, b.bodies, o.id, o.n)
		}
		if err != nil {
			return total, fmt.Errorf("prune log: %w", err)
		}
		if k, err := res.RowsAffected(); err == nil && k == 1 {
			total += int64(len(es) - len(kept))
		}
	}
	return total, nil
}

func (db *DB) logTenants(ctx context.Context) ([]string, error) {
	// A skip scan over the (tenant, batch) index: one probe per tenant
	// instead of reading every block, which DISTINCT would.
	rows, err := db.rdb.QueryContext(ctx, `WITH RECURSIVE t(name) AS (
  SELECT min(tenant) FROM provlog_blocks
  UNION ALL
  SELECT (SELECT min(tenant) FROM provlog_blocks WHERE tenant > t.name) FROM t WHERE t.name IS NOT NULL
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
