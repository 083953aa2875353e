package storetest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

func testProvLog(t *testing.T, s store.Store, _ *env) {
	ctx := context.Background()
	mk := func(i int, tenant, method, path string, status int, client, rid string) store.LogEntry {
		return store.LogEntry{
			Tenant: tenant, At: t0.Add(time.Duration(i) * time.Second), Method: method, Path: path,
			Query: "filter=userName+eq+%22x%22", Status: status, Duration: time.Duration(i)*time.Millisecond + 1234*time.Nanosecond,
			Client: client, ResourceType: "User", ResourceID: rid, RequestID: fmt.Sprintf("req-%d", i),
			RequestBody: []byte(`{"userName":"u` + fmt.Sprint(i) + `"}`), ResponseBody: []byte("\x00\xff binary is kept"),
		}
	}
	batch := []store.LogEntry{
		mk(0, "default", "POST", "/scim/v2/Users", 201, "token:entra", "u1"),
		mk(1, "default", "PATCH", "/scim/v2/Users/u1", 200, "client:okta", "u1"),
		mk(2, "default", "POST", "/scim/v2/Users", 409, "token:entra", ""),
		mk(3, "acme", "POST", "/scim/v2/Users", 500, "token:entra", "u9"),
		mk(4, "default", "GET", "/scim/v2/Groups/g_1", 404, "client:okta", "g_1"),
		mk(5, "default", "DELETE", "/scim/v2/Users/u1", 204, "token:entra", "u1"),
	}
	// A path decoded from %00 and %FF must not fail the batch.
	odd := mk(6, "default", "GET", "/scim/v2/Users/\x00\xff", 404, "token:entra", "")
	odd.RequestBody, odd.ResponseBody = nil, nil
	batch = append(batch, odd)
	if err := s.AppendLog(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendLog(ctx, nil); err != nil {
		t.Fatal("empty batch:", err)
	}

	query := func(q store.LogQuery) []store.LogEntry {
		t.Helper()
		es, err := s.QueryLog(ctx, q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		for i := 1; i < len(es); i++ {
			if es[i].ID >= es[i-1].ID {
				t.Fatalf("not newest first: %d then %d", es[i-1].ID, es[i].ID)
			}
		}
		return es
	}
	reqIDs := func(es []store.LogEntry) string {
		var b bytes.Buffer
		for _, e := range es {
			fmt.Fprintf(&b, "%s ", e.RequestID)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name string
		q    store.LogQuery
		want string
	}{
		{"tenant", store.LogQuery{Tenant: "default"}, "req-6 req-5 req-4 req-2 req-1 req-0 "},
		{"other tenant", store.LogQuery{Tenant: "acme"}, "req-3 "},
		{"no tenant sees nothing", store.LogQuery{}, ""},
		{"unknown tenant", store.LogQuery{Tenant: "nobody"}, ""},
		{"all tenants", store.LogQuery{AllTenants: true}, "req-6 req-5 req-4 req-3 req-2 req-1 req-0 "},
		{"all tenants, one named", store.LogQuery{AllTenants: true, Tenant: "acme"}, "req-3 "},
		{"exact status", store.LogQuery{Tenant: "default", Status: "409"}, "req-2 "},
		{"class", store.LogQuery{Tenant: "default", Status: "4xx"}, "req-6 req-4 req-2 "},
		{"class 2xx", store.LogQuery{Tenant: "default", Status: "2XX"}, "req-5 req-1 req-0 "},
		{"error", store.LogQuery{Tenant: "default", Status: "error"}, "req-6 req-4 req-2 "},
		{"error other tenant", store.LogQuery{Tenant: "acme", Status: "error"}, "req-3 "},
		{"5xx scoped", store.LogQuery{Tenant: "default", Status: "5xx"}, ""},
		{"path substring, any case", store.LogQuery{Tenant: "default", Path: "/GROUPS/"}, "req-4 "},
		{"path with LIKE wildcards is literal", store.LogQuery{Tenant: "default", Path: "g_1"}, "req-4 "},
		{"path % is literal", store.LogQuery{Tenant: "default", Path: "%"}, ""},
		{"path _ is literal", store.LogQuery{Tenant: "default", Path: "Users_"}, ""},
		{"client", store.LogQuery{Tenant: "default", Client: "client:okta"}, "req-4 req-1 "},
		{"resource id", store.LogQuery{Tenant: "default", ResourceID: "u1"}, "req-5 req-1 req-0 "},
		{"resource id scoped", store.LogQuery{Tenant: "default", ResourceID: "u9"}, ""},
		{"since", store.LogQuery{Tenant: "default", Since: t0.Add(4 * time.Second)}, "req-6 req-5 req-4 "},
		{"until", store.LogQuery{Tenant: "default", Until: t0.Add(2 * time.Second)}, "req-1 req-0 "},
		{"limit keeps the newest", store.LogQuery{Tenant: "default", Limit: 2}, "req-6 req-5 "},
		{"combined", store.LogQuery{Tenant: "default", Status: "2xx", Client: "token:entra", ResourceID: "u1"}, "req-5 req-0 "},
	} {
		if got := reqIDs(query(tc.q)); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
	for _, bad := range []string{"41", "4x", "6xx", "abc", "2000", "099", "-1"} {
		_, err := s.QueryLog(ctx, store.LogQuery{Tenant: "default", Status: bad})
		wantKind(t, err, scimerr.InvalidValue)
	}

	// Paging with BeforeID walks every entry once.
	var seen []string
	before := int64(0)
	for range 10 {
		page := query(store.LogQuery{Tenant: "default", Limit: 4, BeforeID: before})
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			seen = append(seen, e.RequestID)
		}
		before = page[len(page)-1].ID
	}
	if fmt.Sprint(seen) != "[req-6 req-5 req-4 req-2 req-1 req-0]" {
		t.Fatalf("paging: %v", seen)
	}

	// One entry, whole; and never another tenant's.
	all := query(store.LogQuery{Tenant: "default"})
	want := batch[1]
	var id int64
	for _, e := range all {
		if e.RequestID == "req-1" {
			id = e.ID
		}
	}
	got, err := s.LogEntry(ctx, "default", id)
	if err != nil {
		t.Fatal(err)
	}
	want.ID = id
	if got.ID != want.ID || got.Tenant != want.Tenant || !got.At.Equal(want.At) || got.Method != want.Method ||
		got.Path != want.Path || got.Query != want.Query || got.Status != want.Status || got.Duration != want.Duration ||
		got.Client != want.Client || got.ResourceType != want.ResourceType || got.ResourceID != want.ResourceID ||
		got.RequestID != want.RequestID || !bytes.Equal(got.RequestBody, want.RequestBody) || !bytes.Equal(got.ResponseBody, want.ResponseBody) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
	_, err = s.LogEntry(ctx, "acme", id)
	wantKind(t, err, scimerr.NotFound)
	_, err = s.LogEntry(ctx, "default", id+1000)
	wantKind(t, err, scimerr.NotFound)
	if e := query(store.LogQuery{Tenant: "default", Limit: 1})[0]; len(e.RequestBody) != 0 || len(e.ResponseBody) != 0 || !e.At.Equal(t0.Add(6*time.Second)) {
		t.Fatalf("absent bodies: %+v", e)
	}

	// A batch larger than one INSERT statement.
	var big []store.LogEntry
	for i := range 450 {
		big = append(big, mk(100+i, "big", "GET", "/scim/v2/Users", 200, "token:bulk", ""))
	}
	if err := s.AppendLog(ctx, big); err != nil {
		t.Fatal(err)
	}
	if n := len(query(store.LogQuery{Tenant: "big", Limit: store.MaxLogLimit})); n != 450 {
		t.Fatalf("big batch: %d stored", n)
	}
	// Ids only grow, across batches.
	bigAll := query(store.LogQuery{Tenant: "big", Limit: store.MaxLogLimit})
	if a, b := bigAll[0].ID, all[0].ID; a <= b {
		t.Fatalf("later batch has id %d, earlier %d", a, b)
	}
	// Every entry of a large batch reads back whole by its id, and the
	// page's bodies are the entry's own.
	for _, i := range []int{0, 1, 255, 256, 257, 449} {
		e := bigAll[len(bigAll)-1-i]
		if e.RequestID != fmt.Sprintf("req-%d", 100+i) || string(e.RequestBody) != fmt.Sprintf(`{"userName":"u%d"}`, 100+i) {
			t.Fatalf("big batch entry %d: %s %q", i, e.RequestID, e.RequestBody)
		}
		got, err := s.LogEntry(ctx, "big", e.ID)
		if err != nil || got.RequestID != e.RequestID || !bytes.Equal(got.RequestBody, e.RequestBody) || !got.At.Equal(e.At) {
			t.Fatalf("big batch entry %d by id: %+v, %v", i, got, err)
		}
	}
	newest := bigAll[0]

	// Pruning: by count in one tenant leaves the others alone.
	n, err := s.PruneLog(ctx, "big", store.LogLimits{MaxEntries: 100})
	if err != nil || n != 350 {
		t.Fatalf("prune by count: %d, %v", n, err)
	}
	left := query(store.LogQuery{Tenant: "big", Limit: store.MaxLogLimit})
	if len(left) != 100 || left[len(left)-1].RequestID != "req-450" {
		t.Fatalf("after prune by count: %d left, oldest %s", len(left), left[len(left)-1].RequestID)
	}
	// Pruning keeps the ids of what stays.
	if left[0].ID != newest.ID || left[0].RequestID != newest.RequestID {
		t.Fatalf("after prune the newest is %d %s, was %d %s", left[0].ID, left[0].RequestID, newest.ID, newest.RequestID)
	}
	if got, err := s.LogEntry(ctx, "big", left[99].ID); err != nil || got.RequestID != "req-450" || string(got.RequestBody) != `{"userName":"u450"}` {
		t.Fatalf("kept entry by id after prune: %+v, %v", got, err)
	}
	_, err = s.LogEntry(ctx, "big", bigAll[100].ID)
	wantKind(t, err, scimerr.NotFound)
	if a, b := len(query(store.LogQuery{Tenant: "default"})), len(query(store.LogQuery{Tenant: "acme"})); a != 6 || b != 1 {
		t.Fatalf("pruning one tenant touched another: default %d, acme %d", a, b)
	}
	// By age, every tenant: default keeps req-3.. (at >= t0+3s), acme's req-3 stays.
	n, err = s.PruneLog(ctx, "", store.LogLimits{OlderThan: t0.Add(3 * time.Second)})
	if err != nil || n != 3 {
		t.Fatalf("prune by age: %d, %v", n, err)
	}
	if got := reqIDs(query(store.LogQuery{AllTenants: true, Until: t0.Add(100 * time.Second)})); got != "req-6 req-5 req-4 req-3 " {
		t.Fatalf("after prune by age: %q", got)
	}
	// By count, every tenant.
	n, err = s.PruneLog(ctx, "", store.LogLimits{MaxEntries: 1})
	if err != nil || n != 2+99 {
		t.Fatalf("prune every tenant by count: %d, %v", n, err)
	}
	for tenant, want := range map[string]string{"default": "req-6 ", "acme": "req-3 ", "big": "req-549 "} {
		if got := reqIDs(query(store.LogQuery{Tenant: tenant})); got != want {
			t.Errorf("%s after prune: %q, want %q", tenant, got, want)
		}
	}
	// Large bodies: a batch whose bodies are more than a block holds is
	// split, and every body comes back byte for byte.
	var heavy []store.LogEntry
	for i := range 80 {
		e := mk(1000+i, "heavy", "PUT", "/scim/v2/Users/x", 200, "token:entra", "x")
		e.RequestBody = bytes.Repeat([]byte{byte(i)}, 64<<10)
		e.ResponseBody = []byte(fmt.Sprintf("%d%s", i, bytes.Repeat([]byte("z"), 64<<10)))
		heavy = append(heavy, e)
	}
	if err := s.AppendLog(ctx, heavy); err != nil {
		t.Fatal(err)
	}
	hs := query(store.LogQuery{Tenant: "heavy", Limit: store.MaxLogLimit})
	if len(hs) != 80 {
		t.Fatalf("heavy: %d entries", len(hs))
	}
	for j, e := range hs {
		i := 79 - j
		if !bytes.Equal(e.RequestBody, heavy[i].RequestBody) || !bytes.Equal(e.ResponseBody, heavy[i].ResponseBody) {
			t.Fatalf("heavy entry %d: bodies differ (%d, %d bytes)", i, len(e.RequestBody), len(e.ResponseBody))
		}
	}
	if got, err := s.LogEntry(ctx, "heavy", hs[0].ID); err != nil || !bytes.Equal(got.ResponseBody, heavy[79].ResponseBody) {
		t.Fatalf("heavy entry by id: %v", err)
	}
	// Time bounds that fall inside a batch.
	if got := reqIDs(query(store.LogQuery{Tenant: "heavy", Since: t0.Add(1077 * time.Second), Until: t0.Add(1079 * time.Second)})); got != "req-1078 req-1077 " {
		t.Fatalf("heavy time range: %q", got)
	}

	// By bytes as stored: ten batches of 20 entries whose bodies do not
	// compress (about 21 KB a block); 70,000 bytes keep the newest three
	// blocks, whole.
	rnd := rand.New(rand.NewPCG(1, 2))
	for k := range 10 {
		var batch []store.LogEntry
		for i := range 20 {
			e := mk(2000+k*20+i, "bytes", "POST", "/scim/v2/Users", 201, "token:entra", "")
			e.RequestBody = make([]byte, 1024)
			for j := range e.RequestBody {
				e.RequestBody[j] = byte(rnd.Uint32())
			}
			e.ResponseBody = nil
			batch = append(batch, e)
		}
		if err := s.AppendLog(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.PruneLog(ctx, "bytes", store.LogLimits{MaxBytes: 1 << 30}); err != nil || n != 0 {
		t.Fatalf("prune by bytes under the limit: %d, %v", n, err)
	}
	n, err = s.PruneLog(ctx, "bytes", store.LogLimits{MaxBytes: 70_000})
	if err != nil || n != 140 {
		t.Fatalf("prune by bytes: %d, %v", n, err)
	}
	left = query(store.LogQuery{Tenant: "bytes", Limit: store.MaxLogLimit})
	if len(left) != 60 || left[0].RequestID != "req-2199" || left[59].RequestID != "req-2140" {
		t.Fatalf("after prune by bytes: %d left, %s … %s", len(left), left[0].RequestID, left[len(left)-1].RequestID)
	}
	// The entry limit and the bytes limit together: the nearer wins.
	if n, err := s.PruneLog(ctx, "bytes", store.LogLimits{MaxBytes: 70_000, MaxEntries: 50}); err != nil || n != 10 {
		t.Fatalf("prune by entries within bytes: %d, %v", n, err)
	}
	if n, err := s.PruneLog(ctx, "bytes", store.LogLimits{MaxBytes: 30_000, MaxEntries: 50}); err != nil || n != 30 {
		t.Fatalf("prune by bytes within entries: %d, %v", n, err)
	}
	if got := len(query(store.LogQuery{Tenant: "bytes", Limit: store.MaxLogLimit})); got != 20 {
		t.Fatalf("bytes tenant keeps %d, want the newest block's 20", got)
	}

	// Concurrent batches (two instances on one PostgreSQL, or a prune
	// racing the recorder) each get batch numbers of their own: every entry
	// stored once, every id distinct.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 5 {
				var batch []store.LogEntry
				for i := range 10 {
					batch = append(batch, mk(3000+w*100+k*10+i, "race", "GET", "/scim/v2/Users", 200, fmt.Sprintf("w%d", w), ""))
				}
				if err := s.AppendLog(ctx, batch); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	raced := query(store.LogQuery{Tenant: "race", Limit: store.MaxLogLimit})
	ids := map[int64]bool{}
	for _, e := range raced {
		ids[e.ID] = true
	}
	if len(raced) != 400 || len(ids) != 400 {
		t.Fatalf("concurrent batches: %d entries, %d distinct ids, want 400", len(raced), len(ids))
	}

	// Nothing to prune is not an error.
	if n, err := s.PruneLog(ctx, "nobody", store.LogLimits{OlderThan: t0.Add(time.Hour), MaxEntries: 1, MaxBytes: 1}); err != nil || n != 0 {
		t.Fatalf("prune empty tenant: %d, %v", n, err)
	}
}
