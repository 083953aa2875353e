package metrics

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pamscim/pamscim/internal/audit"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
)

func openStore(t *testing.T) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "data"), schema.Default(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func res(typ string, doc schema.Doc) *store.Resource {
	now := time.Now().UTC()
	return &store.Resource{Tenant: store.DefaultTenant, Type: typ, ID: uuid.NewString(), Doc: doc, Version: 1, Created: now, Modified: now}
}

// TestInstrumentStore counts membership changes only for committed writes,
// by their net effect, over a real store.
func TestInstrumentStore(t *testing.T) {
	m := New(Build{Version: "t"})
	st := m.InstrumentStore(openStore(t))
	reg := schema.Default()
	users, groups := reg.ResourceType("User"), reg.ResourceType("Group")
	ctx := context.Background()
	var ids []string
	for i := range 4 {
		u := res("User", schema.Doc{"userName": "u" + string(rune('a'+i))})
		if err := st.Create(ctx, users, u, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	g := res("Group", schema.Doc{"displayName": "g"})
	if err := st.Create(ctx, groups, g, ids[:2]); err != nil {
		t.Fatal(err)
	}
	update := func(fn func(tx store.Tx) error) error {
		_, err := st.Update(ctx, groups, store.DefaultTenant, g.ID, time.Now(), func(ctx context.Context, cur *store.Resource, tx store.Tx) (bool, error) {
			return true, fn(tx)
		})
		return err
	}
	// {a, b} → set {b, c, d}: +2 -1.
	if err := update(func(tx store.Tx) error {
		_, err := tx.SetMembers(ctx, []string{ids[1], ids[2], ids[3], ids[3]})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Adding one already there and removing one: -1.
	if err := update(func(tx store.Tx) error {
		if _, err := tx.AddMembers(ctx, []string{ids[1]}); err != nil {
			return err
		}
		_, err := tx.RemoveMembers(ctx, []string{ids[2]})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// A write that fails after changing members commits nothing: no count.
	if err := update(func(tx store.Tx) error {
		if _, err := tx.AddMembers(ctx, []string{ids[0]}); err != nil {
			return err
		}
		return scimerr.New(scimerr.PreconditionFailed, "version mismatch")
	}); err == nil {
		t.Fatal("the failing update succeeded")
	}
	if _, err := st.Get(ctx, users, store.DefaultTenant, "nope", store.GetOptions{}); err == nil {
		t.Fatal("found nothing")
	}
	if got := testutil.ToFloat64(m.members.WithLabelValues("added")); got != 4 { // 2 at create, 2 by set
		t.Errorf("added %v, want 4", got)
	}
	if got := testutil.ToFloat64(m.members.WithLabelValues("removed")); got != 2 {
		t.Errorf("removed %v, want 2", got)
	}
	// Timed calls; a not-found is not a store error.
	if n := testutil.CollectAndCount(m.storeLat); n != 3 { // create, update, get
		t.Errorf("%d store latency series", n)
	}
	if err := testutil.CollectAndCompare(m.storeErrs, strings.NewReader("")); err != nil {
		t.Error(err)
	}
}

// TestAuditCounts counts token events and passes every event on to the
// trail.
func TestAuditCounts(t *testing.T) {
	st := openStore(t)
	m := New(Build{})
	rec := m.Audit(audit.New(st, nil))
	ctx := context.Background()
	for _, e := range []store.AuditEvent{
		{Tenant: "default", Actor: "client:c", Event: audit.TokenIssued},
		{Tenant: "default", Actor: "client:c", Event: audit.TokenIssued, Outcome: audit.Success},
		{Tenant: "default", Actor: "client:c", Event: audit.TokenRefused, Outcome: audit.Failure},
		{Tenant: "default", Actor: "token:t", Event: audit.ScimCreate},
	} {
		rec.Record(ctx, e)
	}
	want := `
# HELP pamscim_token_events_total Token events of the audit trail: issued, refused, refreshed, reused, revoked; by event and outcome.
# TYPE pamscim_token_events_total counter
pamscim_token_events_total{event="token.issued",outcome="success"} 2
pamscim_token_events_total{event="token.refused",outcome="failure"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "pamscim_token_events_total"); err != nil {
		t.Fatal(err)
	}
	evs, err := st.ListAudit(ctx, store.AuditQuery{})
	if err != nil || len(evs) != 4 {
		t.Fatalf("trail: %d events, %v", len(evs), err)
	}
	// A nil Metrics changes nothing.
	var none *Metrics
	if none.Audit(rec) != rec || none.InstrumentStore(st) != st {
		t.Fatal("nil metrics wrapped")
	}
	none.Request("/x", "GET", 200, time.Millisecond)
	none.RateLimited(ReasonInFlight)
}

func TestRequestLabelsBounded(t *testing.T) {
	m := New(Build{})
	m.Request("", "BREW", 418, time.Millisecond)
	m.Request("/scim/v2/Users", "GET", 200, time.Millisecond)
	want := `
# HELP pamscim_http_requests_total HTTP requests answered, by route pattern, method and status code.
# TYPE pamscim_http_requests_total counter
pamscim_http_requests_total{code="200",endpoint="/scim/v2/Users",method="GET"} 1
pamscim_http_requests_total{code="418",endpoint="unmatched",method="OTHER"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), "pamscim_http_requests_total"); err != nil {
		t.Fatal(err)
	}
}
