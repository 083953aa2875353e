package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pamscim/pamscim/internal/filter"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
)

// The hot lookups of identity platforms must be index searches, never a
// scan of every resource of the type: the query plan SQLite chooses on the
// real schema is read back and every step that reads resources must be a
// SEARCH. A plan is cheap to read, so this guards the 1,000,000-user figures
// of bench/RESULTS.md without timing anything.
func TestHotFiltersUseIndexes(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	reg := schema.Default()
	st, err := sqlite.Open(ctx, dir, reg, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The planner decides with the statistics a running store keeps
	// (Optimize), so the store holds enough users for them to mean
	// something.
	ut := reg.ResourceType("User")
	var rs []*store.Resource
	for i := range 5000 {
		in, err := ut.Normalize(map[string]any{"schemas": []any{schema.UserURN},
			"userName": fmt.Sprintf("user%05d@example.com", i), "externalId": fmt.Sprintf("ext%05d", i), "active": i%2 == 0,
			"emails": []any{map[string]any{"value": fmt.Sprintf("user%05d@example.com", i), "type": "work"}}})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		rs = append(rs, &store.Resource{Tenant: store.DefaultTenant, Type: "User", ID: uuid.NewString(), Doc: in.Doc, Version: 1, Created: now, Modified: now})
	}
	if err := st.CreateBatch(ctx, ut, rs); err != nil {
		t.Fatal(err)
	}
	// A group of half the users, so that the statistics know memberships.
	gt := reg.ResourceType("Group")
	gin, err := gt.Normalize(map[string]any{"schemas": []any{schema.GroupURN}, "displayName": "Vault admins"})
	if err != nil {
		t.Fatal(err)
	}
	var members []string
	for _, r := range rs[:2500] {
		members = append(members, r.ID)
	}
	now := time.Now()
	if err := st.Create(ctx, gt, &store.Resource{Tenant: store.DefaultTenant, Type: "Group", ID: uuid.NewString(), Doc: gin.Doc, Version: 1, Created: now, Modified: now}, members); err != nil {
		t.Fatal(err)
	}
	if err := st.Optimize(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, sqlite.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, tc := range []struct {
		rtype, filter string
	}{
		{"User", `userName eq "bjensen@example.com"`},
		{"User", `userName sw "bjen"`},
		{"User", `userName sw "BJen"`},
		{"User", `externalId eq "00u1"`},
		{"User", `externalId sw "00u"`},
		{"User", `id eq "2819c223-7f76-453a-919d-413861904646"`},
		{"User", `id sw "2819"`},
		{"User", `emails.value eq "bjensen@example.com"`},
		{"User", `emails[type eq "work"].value eq "bjensen@example.com"`},
		{"User", `emails.value sw "bjensen@"`},
		{"User", `userName eq "a" or userName eq "b"`},
		{"User", `userName sw "a" and active eq true`},
		{"Group", `displayName eq "Vault admins"`},
		{"Group", `displayName sw "Vault"`},
		{"Group", `members.value eq "2819c223-7f76-453a-919d-413861904646"`},
		// Nested membership walks: each recursive step must probe the
		// membership index per row found, not read every membership.
		{"User", `groups.value eq "2819c223-7f76-453a-919d-413861904646"`},
	} {
		t.Run(tc.rtype+" "+tc.filter, func(t *testing.T) {
			rt := reg.ResourceType(tc.rtype)
			if rt == nil {
				t.Fatalf("no resource type %s", tc.rtype)
			}
			e, err := filter.Parse(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			if e, err = filter.Bind(rt, e); err != nil {
				t.Fatal(err)
			}
			frag, args, err := filter.Compile(e, filter.SQLite, 3)
			if err != nil {
				t.Fatal(err)
			}
			q := "EXPLAIN QUERY PLAN SELECT r.id, r.doc FROM resources r WHERE r.tenant = ?1 AND r.rtype = ?2 AND (" + frag + ") ORDER BY r.id LIMIT 101"
			rows, err := db.QueryContext(ctx, q, append([]any{"default", rt.Name}, args...)...)
			if err != nil {
				t.Fatalf("%v\n%s", err, q)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			for _, step := range plan {
				// "SCAN r USING INDEX resources_list" walks every resource
				// of the type; only SEARCH steps are bounded by the filter.
				whole := strings.HasPrefix(step, "SCAN r") || strings.HasPrefix(step, "SCAN resources") || strings.HasPrefix(step, "SCAN av") ||
					strings.HasSuffix(step, "(tenant=? AND rtype=?)") || strings.HasSuffix(step, "(tenant=?)")
				if whole {
					t.Errorf("a step reads every row:\n  %s\nplan:\n  %s\nsql: %s", step, strings.Join(plan, "\n  "), frag)
				}
			}
		})
	}
}
