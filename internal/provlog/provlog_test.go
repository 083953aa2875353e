package provlog

import (
	"bytes"
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
	"github.com/pamscim/pamscim/internal/store/sqlstore"
)

func openStore(t *testing.T) (*sqlstore.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pamscim.db")
	st, err := sqlite.OpenFile(context.Background(), path, schema.Default(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

func raw(tenant, path string, status int, req, resp string) *Raw {
	return &Raw{
		Entry:   store.LogEntry{Tenant: tenant, At: time.Now(), Method: "POST", Path: path, Status: status, Duration: time.Millisecond, Client: "entra"},
		ReqBody: []byte(req), RespBody: []byte(resp), ReqSize: int64(len(req)), RespSize: int64(len(resp)),
		ReqType: "application/scim+json", RespType: "application/scim+json", ReqComplete: true, RespComplete: true,
	}
}

func TestRecorderStoresRedactedOnClose(t *testing.T) {
	st, _ := openStore(t)
	// A long flush interval: only Close can have stored these.
	r := New(st, schema.Default(), Options{FlushEvery: time.Hour, MaxBody: 40})
	r.Record(raw("default", "/scim/v2/Users", 201, `{"userName":"a","password":"`+secret+`"}`, `{"id":"1","userName":"a"}`))
	r.Record(raw("acme", "/scim/v2/Users", 400, `{"userName":"b","password":"`+secret+`",}`, `{"detail":"`+secret+`"}`))
	big := raw("default", "/scim/v2/Groups", 200, "", strings.Repeat("x", 100))
	r.Record(big)
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s := r.Stats(); s.Recorded != 3 || s.Dropped != 0 {
		t.Fatalf("stats %+v", s)
	}
	es, err := st.QueryLog(context.Background(), store.LogQuery{AllTenants: true})
	if err != nil || len(es) != 3 {
		t.Fatalf("%d entries, %v", len(es), err)
	}
	for _, e := range es {
		if bytes.Contains(e.RequestBody, []byte(secret[:8])) || bytes.Contains(e.ResponseBody, []byte(secret[:8])) {
			t.Errorf("secret stored: %s / %s", e.RequestBody, e.ResponseBody)
		}
		if e.Path == "/scim/v2/Groups" && !strings.HasSuffix(string(e.ResponseBody), "[pamscim: body cut, 100 bytes in all]") {
			t.Errorf("cut body: %q", e.ResponseBody)
		}
	}
	// After Close, records are dropped, not stored or blocked on.
	r.Record(raw("default", "/x", 200, "", ""))
}

// TestRecorderDropsWhenFull holds SQLite's write lock from another
// connection, as a long transaction of another process would: the writer
// blocks in AppendLog, the buffer fills, and Record drops instead of
// blocking the caller.
func TestRecorderDropsWhenFull(t *testing.T) {
	st, path := openStore(t)
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	r := New(st, schema.Default(), Options{Buffer: 4, BatchSize: 1, FlushEvery: time.Millisecond})
	start := time.Now()
	for range 100 {
		r.Record(raw("default", "/scim/v2/Users", 201, `{}`, `{}`))
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Record blocked for %s", d)
	}
	if s := r.Stats(); s.Dropped < 90 {
		t.Fatalf("dropped %d of 100 with a buffer of 4 and a blocked store", s.Dropped)
	}
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := r.Stats()
	if s.Recorded+s.Dropped != 100 || s.Recorded == 0 {
		t.Fatalf("stats after release: %+v", s)
	}
}

func TestRecorderPrunes(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	old := time.Now().Add(-48 * time.Hour)
	var es []store.LogEntry
	for i := range 10 {
		es = append(es, store.LogEntry{Tenant: "default", At: old.Add(time.Duration(i) * time.Second), Method: "GET", Path: "/scim/v2/Users", Status: 200})
	}
	for i := range 5 {
		es = append(es, store.LogEntry{Tenant: "default", At: time.Now().Add(time.Duration(-i) * time.Second), Method: "GET", Path: "/scim/v2/Groups", Status: 200})
	}
	if err := st.AppendLog(ctx, es); err != nil {
		t.Fatal(err)
	}
	r := New(st, schema.Default(), Options{Retention: 24 * time.Hour, MaxEntries: 3, PruneEvery: time.Hour})
	deadline := time.Now().Add(10 * time.Second)
	for r.Stats().Pruned < 12 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := r.Close(ctx); err != nil {
		t.Fatal(err)
	}
	left, _ := st.QueryLog(ctx, store.LogQuery{Tenant: "default"})
	if r.Stats().Pruned != 12 || len(left) != 3 {
		t.Fatalf("pruned %d, %d left", r.Stats().Pruned, len(left))
	}
	for _, e := range left {
		if e.Path != "/scim/v2/Groups" {
			t.Fatalf("kept an old entry: %+v", e)
		}
	}
}

// TestRecorderPrunesBytes: --log-max-bytes reaches the store. A limit
// smaller than any block keeps nothing; the default keeps everything small.
func TestRecorderPrunesBytes(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxBytes int64
		left     int
	}{
		{"one byte", 1, 0},
		{"default", 0, 5},
		{"no limit", -1, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, _ := openStore(t)
			ctx := context.Background()
			var es []store.LogEntry
			for i := range 5 {
				es = append(es, store.LogEntry{Tenant: "default", At: time.Now(), Method: "GET", Path: "/scim/v2/Users", Status: 200, RequestBody: []byte(`{"i":` + strconv.Itoa(i) + `}`)})
			}
			if err := st.AppendLog(ctx, es); err != nil {
				t.Fatal(err)
			}
			r := New(st, schema.Default(), Options{Retention: -1, MaxEntries: -1, MaxBytes: tc.maxBytes, PruneEvery: time.Hour})
			// Once more, to the end, whatever the loop's first one did.
			r.prune()
			if err := r.Close(ctx); err != nil {
				t.Fatal(err)
			}
			left, _ := st.QueryLog(ctx, store.LogQuery{Tenant: "default"})
			if len(left) != tc.left || r.Stats().Pruned != uint64(5-tc.left) {
				t.Fatalf("pruned %d, %d left, want %d left", r.Stats().Pruned, len(left), tc.left)
			}
		})
	}
}
