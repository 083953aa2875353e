package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pamscim/pamscim/internal/store"
)

// AppendAudit appends one audit event, as a write of its own (grouped with
// others on SQLite). A SCIM write's own event is not appended here: it
// comes with the write (store.PendingAudit) and is inserted in the write's
// transaction (group.go's write).
func (db *DB) AppendAudit(ctx context.Context, e *store.AuditEvent) error {
	var err error
	if db.group == nil {
		// One statement commits by itself; no BEGIN/COMMIT round trips.
		_, err = db.wdb.ExecContext(ctx, db.q(insertAudit), auditArgs(e)...)
	} else {
		// Not a SCIM write's own event: that one is in its transaction.
		ctx = store.WithPendingAudit(ctx, nil)
		err = db.write(ctx, func(ctx context.Context, tx *sql.Tx) error { return db.insertAudit(ctx, tx, e) })
	}
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	return nil
}

const insertAudit = `INSERT INTO audit (at, tenant, actor, event, outcome, rtype, object, source, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`

func auditArgs(e *store.AuditEvent) []any {
	return []any{micros(e.Time), e.Tenant, e.Actor, e.Event, e.Outcome, e.Type, e.Object, e.Source, e.Detail}
}

// insertAudit writes e in tx.
func (db *DB) insertAudit(ctx context.Context, tx *sql.Tx, e *store.AuditEvent) error {
	_, err := tx.ExecContext(ctx, db.q(insertAudit), auditArgs(e)...)
	return err
}

// ListAudit returns the newest events matching q, oldest first.
func (db *DB) ListAudit(ctx context.Context, q store.AuditQuery) ([]*store.AuditEvent, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if q.Tenant != "" {
		add("tenant = $?", q.Tenant)
	}
	if q.Actor != "" {
		add("actor = $?", q.Actor)
	}
	if q.Event != "" {
		if p, ok := strings.CutSuffix(q.Event, "."); ok {
			// A prefix compare that needs no LIKE escaping.
			add("substr(event, 1, "+strconv.Itoa(len(p)+1)+") = $?", p+".")
		} else {
			add("event = $?", q.Event)
		}
	}
	if q.Outcome != "" {
		add("outcome = $?", q.Outcome)
	}
	if q.Type != "" {
		add("rtype = $?", q.Type)
	}
	if q.Object != "" {
		add("object = $?", q.Object)
	}
	if !q.Since.IsZero() {
		add("at >= $?", micros(q.Since))
	}
	if !q.Until.IsZero() {
		add("at < $?", micros(q.Until))
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	sqlText := `SELECT id, at, tenant, actor, event, outcome, rtype, object, source, detail FROM audit`
	if len(where) > 0 {
		sqlText += ` WHERE ` + strings.Join(where, " AND ")
	}
	sqlText += ` ORDER BY at DESC, id DESC LIMIT ` + strconv.Itoa(limit)
	rows, err := db.rdb.QueryContext(ctx, db.f.Rebind(sqlText), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.AuditEvent
	for rows.Next() {
		var (
			e  store.AuditEvent
			at int64
		)
		if err := rows.Scan(&e.ID, &at, &e.Tenant, &e.Actor, &e.Event, &e.Outcome, &e.Type, &e.Object, &e.Source, &e.Detail); err != nil {
			return nil, err
		}
		e.Time = fromMicros(at)
		out = append(out, &e)
	}
	slices.Reverse(out)
	return out, rows.Err()
}
