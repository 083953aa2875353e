package sqlite_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/pamscim/pamscim/internal/store"
)

// TestListTotal: totalResults is right whether the store knows it from the
// page (a last page reached by index paging) or counts it (a full page, a
// page past the end, keyset pages).
func TestListTotal(t *testing.T) {
	ctx := context.Background()
	db, reg := openGrouped(t)
	db.SetGuard(nil)
	rt := reg.ResourceType("User")
	var rs []*store.Resource
	for i := 0; i < 7; i++ {
		rs = append(rs, newUser(fmt.Sprintf("total%02d", i)))
	}
	if err := db.CreateBatch(ctx, rt, rs); err != nil {
		t.Fatal(err)
	}
	first, err := db.List(ctx, store.Query{Tenant: store.DefaultTenant, Type: rt, StartIndex: 1, Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		q     store.Query
		total int
		n     int
	}{
		{"first page, all matches", store.Query{StartIndex: 1, Count: 10}, 7, 7},
		{"first page, exactly all", store.Query{StartIndex: 1, Count: 7}, 7, 7},
		{"first page of several", store.Query{StartIndex: 1, Count: 3}, 7, 3},
		{"last page by offset", store.Query{StartIndex: 6, Count: 3}, 7, 2},
		{"page past the end", store.Query{StartIndex: 9, Count: 3}, 7, 0},
		{"count only", store.Query{StartIndex: 1, Count: 0}, 7, 0},
		{"keyset page after the first", store.Query{Count: 10, After: first.Last}, 7, 4},
		{"no match", store.Query{StartIndex: 1, Count: 10, Tenant: "other"}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Type = rt
			if q.Tenant == "" {
				q.Tenant = store.DefaultTenant
			}
			p, err := db.List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if p.Total != tc.total || len(p.Resources) != tc.n {
				t.Fatalf("total %d with %d resources, want %d with %d", p.Total, len(p.Resources), tc.total, tc.n)
			}
		})
	}
}
