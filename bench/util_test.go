package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlstore"
)

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestMain removes the seeded store when the benchmarks are done.
func TestMain(m *testing.M) {
	code := m.Run()
	if fix != nil {
		fix.close()
	}
	if oauthF != nil {
		oauthF.close()
	}
	if pamF != nil {
		pamF.close()
	}
	if perfF != nil {
		perfF.stop()
	}
	os.Exit(code)
}

// seedEntraUsers creates n users shaped as Entra ID creates them (userName
// prefix + a 7-digit number) straight through the store, batch users per
// transaction, and returns their ids in order. The ids are UUIDv4, as the
// figures recorded before time-ordered ids were seeded, so that a seeded
// store reads as it did then; what a benchmark creates over HTTP gets the
// server's own ids.
func seedEntraUsers(b testing.TB, st *sqlstore.DB, n, batch int, prefix string) []string {
	ctx := context.Background()
	rt := schema.Default().ResourceType("User")
	ids := make([]string, 0, n)
	for i := 0; i < n; i += batch {
		var rs []*store.Resource
		for j := i; j < min(n, i+batch); j++ {
			in, err := rt.Normalize(entraUser(fmt.Sprintf("%s%07d", prefix, j)))
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now().UTC()
			r := &store.Resource{Tenant: store.DefaultTenant, Type: "User", ID: uuid.NewString(), Doc: in.Doc, Version: 1, Created: now, Modified: now}
			rs = append(rs, r)
			ids = append(ids, r.ID)
		}
		if err := st.CreateBatch(ctx, rt, rs); err != nil {
			b.Fatal(err)
		}
	}
	return ids
}
