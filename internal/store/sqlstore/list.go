package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/pamscim/pamscim/internal/store"
)

// List returns one page of resources. Index paging uses OFFSET; keyset
// paging (After/Before) seeks on (sort key, id) so that any page costs what
// the first one costs.
func (db *DB) List(ctx context.Context, q store.Query) (*store.Page, error) {
	rt := q.Type
	where := "r.tenant = $1 AND r.rtype = $2"
	args := []any{q.Tenant, rt.Name}
	if q.Filter != nil {
		if db.f.CompileFilter == nil {
			return nil, fmt.Errorf("filtering is not available on %s", db.f.Name)
		}
		frag, fargs, err := db.f.CompileFilter(q.Filter, len(args)+1)
		if err != nil {
			return nil, err
		}
		where += " AND (" + frag + ")"
		args = append(args, fargs...)
	}
	// The count runs the filter alone, without the keyset's arguments
	// appended below.
	whereArgs := args[:len(args):len(args)]
	page := &store.Page{}
	count := func() error {
		if err := db.rdb.QueryRowContext(ctx, db.q(`SELECT count(*) FROM resources r WHERE `+where), whereArgs...).Scan(&page.Total); err != nil {
			return fmt.Errorf("count: %w", err)
		}
		return nil
	}
	if q.Count <= 0 {
		if !q.NoTotal {
			if err := count(); err != nil {
				return nil, err
			}
		}
		return page, nil
	}

	skey := "NULL"
	if q.SortBy != nil {
		if db.f.OrderBy == nil {
			return nil, fmt.Errorf("sorting is not available on %s", db.f.Name)
		}
		expr, err := db.f.OrderBy(rt, q.SortBy)
		if err != nil {
			return nil, err
		}
		skey = expr
	}
	desc := q.Descending
	backward := q.Before != nil
	// Reading backwards (the page before a key) walks the order reversed
	// and flips the rows afterwards.
	walkDesc := desc != backward
	seek := q.After
	if backward {
		seek = q.Before
	}
	keyset := ""
	if seek != nil {
		cond, cargs := keysetCond(skey, q.SortBy != nil, walkDesc, seek, len(args)+1)
		keyset = " AND " + cond
		args = append(args, cargs...)
	}
	dir := "ASC"
	nullsDir := "ASC" // (key IS NULL) ASC puts values with no key last
	if walkDesc {
		dir, nullsDir = "DESC", "DESC"
	}
	order := "r.id " + dir
	if q.SortBy != nil {
		order = fmt.Sprintf("(%s) IS NULL %s, %s %s, r.id %s", skey, nullsDir, skey, dir, dir)
	}
	limit := q.Count + 1
	sqlText := fmt.Sprintf(`SELECT r.id, r.doc, r.version, r.created, r.modified, %s FROM resources r WHERE %s%s ORDER BY %s LIMIT %d`,
		skey, where, keyset, order, limit)
	if seek == nil && q.StartIndex > 1 {
		// A deferred join: the OFFSET walk selects ids only, which the
		// (tenant, rtype, id) index answers without reading a document,
		// and only the page's rows are read whole (bench/RESULTS.md: the
		// last page of 200,000 users went from 164 ms to 64 ms).
		sqlText = fmt.Sprintf(`SELECT r.id, r.doc, r.version, r.created, r.modified, %s FROM resources r WHERE r.tenant = $1 AND r.id IN (SELECT r.id FROM resources r WHERE %s ORDER BY %s LIMIT %d OFFSET %d) ORDER BY %s`,
			skey, where, order, limit, q.StartIndex-1, order)
	}
	rows, err := db.rdb.QueryContext(ctx, db.q(sqlText), args...)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	defer rows.Close()
	var keys []store.Key
	for rows.Next() {
		var sk any
		r, err := scanResource(scanWithExtra{rows, &sk}, q.Tenant, rt)
		if err != nil {
			return nil, err
		}
		if b, ok := sk.([]byte); ok {
			sk = string(b)
		}
		page.Resources = append(page.Resources, r)
		keys = append(keys, store.Key{Sort: sk, ID: r.ID})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	more := len(page.Resources) > q.Count
	if more {
		page.Resources = page.Resources[:q.Count]
		keys = keys[:q.Count]
	}
	if backward {
		for i, j := 0, len(keys)-1; i < j; i, j = i+1, j-1 {
			keys[i], keys[j] = keys[j], keys[i]
			page.Resources[i], page.Resources[j] = page.Resources[j], page.Resources[i]
		}
		page.HasPrev, page.HasMore = more, true
	} else {
		page.HasMore = more
		page.HasPrev = seek != nil || q.StartIndex > 1
	}
	if len(keys) > 0 {
		page.First, page.Last = &keys[0], &keys[len(keys)-1]
	}
	if !q.NoTotal {
		if seek == nil && !more && (q.StartIndex <= 1 || len(page.Resources) > 0) {
			// The page holds the last match and every match before it
			// was skipped by the offset: the total is known without a
			// count, which for a userName lookup was one query of three.
			page.Total = max(q.StartIndex-1, 0) + len(page.Resources)
		} else if err := count(); err != nil {
			return nil, err
		}
	}
	if err := db.loadRelations(ctx, db.rdb, rt, page.Resources, q.Options); err != nil {
		return nil, err
	}
	return page, nil
}

// keysetCond is the condition "row comes after key" in the walk order, where
// rows without a sort value come last when walking ascending.
func keysetCond(skey string, sorted, desc bool, k *store.Key, n int) (string, []any) {
	cmp := ">"
	if desc {
		cmp = "<"
	}
	if !sorted {
		return fmt.Sprintf("r.id %s $%d", cmp, n), []any{k.ID}
	}
	if k.Sort == nil {
		if desc {
			// Descending walks nulls first: after a null key come the
			// remaining nulls, then every row with a value.
			return fmt.Sprintf("((%[1]s) IS NOT NULL OR r.id < $%[2]d)", skey, n), []any{k.ID}
		}
		return fmt.Sprintf("((%[1]s) IS NULL AND r.id > $%[2]d)", skey, n), []any{k.ID}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "((%[1]s) %[2]s $%[3]d OR ((%[1]s) = $%[3]d AND r.id %[2]s $%[4]d)", skey, cmp, n, n+1)
	if !desc {
		fmt.Fprintf(&b, " OR (%s) IS NULL", skey)
	}
	b.WriteString(")")
	return b.String(), []any{k.Sort, k.ID}
}

type scanWithExtra struct {
	s     rowScanner
	extra *any
}

func (s scanWithExtra) Scan(dest ...any) error {
	return s.s.Scan(append(dest, s.extra)...)
}
