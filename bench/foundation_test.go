// Package bench holds pamscim's benchmarks. They run only when asked
// (go test -bench), never as part of the test suite; results and the
// commands that produced them are in RESULTS.md.
package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pamscim/pamscim/internal/api"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
)

// seedUsers is how many users the store holds before measuring; override
// with PAMSCIM_BENCH_USERS. Seeding goes straight into the store in
// batches of 5,000 per transaction to keep setup short; every measured
// request goes over HTTP.
func seedUsers() int {
	if n, err := strconv.Atoi(os.Getenv("PAMSCIM_BENCH_USERS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

type fixture struct {
	url    string
	token  string
	ids    []string
	groups map[int]string // group size → id (write_test.go)
	close  func()
}

var (
	fixOnce sync.Once
	fix     *fixture
)

// setup starts a real server on a real listener over a SQLite file seeded
// with seedUsers() users shaped as Entra ID creates them. The store is
// seeded directly (one transaction per user, as the API does) to keep setup
// time short; every measured request goes over HTTP.
func setup(b *testing.B) *fixture {
	fixOnce.Do(func() {
		dir, _ := os.MkdirTemp("", "pamscim-bench-")
		reg := schema.Default()
		ctx := context.Background()
		st, err := sqlite.Open(ctx, filepath.Join(dir, "data"), reg, sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := seedUsers()
		start := time.Now()
		ids := seedEntraUsers(b, st, n, 5000, "seed")
		if err := st.Optimize(ctx); err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(os.Stderr, "seeded %d users in %v\n", n, time.Since(start).Round(time.Millisecond))
		au := auth.NewService(st)
		tok, _, _ := au.CreateToken(ctx, store.DefaultTenant, "bench", []string{auth.ScopeRead, auth.ScopeWrite}, 0, "bench")
		srv := httptest.NewServer(api.New(reg, st, au, api.Config{}, nil).Handler())
		fix = &fixture{url: srv.URL + "/scim/v2", token: tok, ids: ids, close: func() { srv.Close(); st.Close(); os.RemoveAll(dir) }}
	})
	return fix
}

func entraUser(name string) map[string]any {
	return map[string]any{
		"schemas":                []any{schema.UserURN, schema.EnterpriseUserURN},
		"externalId":             name + "-ext",
		"userName":               name + "@contoso.com",
		"active":                 true,
		"name":                   map[string]any{"givenName": "Given", "familyName": name, "formatted": "Given " + name},
		"emails":                 []any{map[string]any{"value": name + "@contoso.com", "type": "work", "primary": true}},
		schema.EnterpriseUserURN: map[string]any{"employeeNumber": "701984", "department": "Sales"},
	}
}

var client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func do(b *testing.B, f *fixture, method, url string, body []byte, want int) {
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "application/scim+json")
	res, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		b.Fatalf("%s %s: status %d, want %d", method, url, res.StatusCode, want)
	}
}

// latencies records per-request durations and reports percentiles.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func (l *latencies) report(b *testing.B) {
	sort.Slice(l.d, func(i, j int) bool { return l.d[i] < l.d[j] })
	if len(l.d) == 0 {
		return
	}
	pct := func(p float64) float64 { return float64(l.d[int(float64(len(l.d)-1)*p)].Microseconds()) }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// BenchmarkPostUsers measures POST /Users throughput with 8 concurrent
// clients on a store that already holds seedUsers() users.
func BenchmarkPostUsers(b *testing.B) {
	f := setup(b)
	var seq atomic.Int64
	var lat latencies
	b.SetParallelism(4) // 4 × GOMAXPROCS(2) = 8 concurrent clients
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := mustJSON(entraUser(fmt.Sprintf("post%09d-%s", seq.Add(1), uuid.NewString()[:8])))
			t := time.Now()
			do(b, f, "POST", f.url+"/Users", body, 201)
			lat.add(time.Since(t))
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	lat.report(b)
}

// BenchmarkGetUser measures GET /Users/{id} latency, one client at a time,
// over random users of the seeded store.
func BenchmarkGetUser(b *testing.B) {
	f := setup(b)
	var lat latencies
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := f.ids[(i*7919)%len(f.ids)]
		t := time.Now()
		do(b, f, "GET", f.url+"/Users/"+id, nil, 200)
		lat.add(time.Since(t))
	}
	lat.report(b)
}

// BenchmarkGetUserParallel is the same with 8 concurrent clients.
func BenchmarkGetUserParallel(b *testing.B) {
	f := setup(b)
	var lat latencies
	var i atomic.Int64
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := f.ids[(i.Add(1)*7919)%int64(len(f.ids))]
			t := time.Now()
			do(b, f, "GET", f.url+"/Users/"+id, nil, 200)
			lat.add(time.Since(t))
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	lat.report(b)
}
