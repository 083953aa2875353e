package bench

// The profiling benchmarks of issue 9, part 4: the workloads W1 (creates),
// W2 (userName eq lookups) and W6 (a mixed sync, mostly reads) against the
// whole server as `pamscim serve` runs it (app.Serve: PAM guard, audit
// trail, OAuth endpoints; only the per-token rate limit is off), in this
// process on a real loopback listener, next to the ceiling: a trivial Go
// HTTP server answering a canned SCIM body, measured by the same client in
// the same run.
//
//	PAMSCIM_BENCH_PERF_USERS   users seeded before measuring (default 100,000)
//	PAMSCIM_BENCH_CLIENTS      concurrent keep-alive clients (default 8)
//	PAMSCIM_BENCH_SYNC         SQLite synchronous: NORMAL (default) or FULL
//	PAMSCIM_BENCH_CPUPROFILE   a directory: each benchmark writes <name>.cpu
//	                           there, covering only its measured requests
//	PAMSCIM_BENCH_MEMPROFILE   the same for allocations (<name>.mem)
//
// go test -cpuprofile would also profile the seeding, which dwarfs the
// measured part; hence the profiles taken here.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pamscim/pamscim/internal/app"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store/sqlite"
)

type perfFix struct {
	url, token string
	n          int // seeded users: seed%07d@contoso.com, 0 ≤ k < n
	ids        []string
	stop       func()
}

var (
	perfOnce sync.Once
	perfF    *perfFix
)

// perfSetup seeds a data directory straight through the store (batches of
// 5,000 per transaction), closes it and serves it with app.Serve.
func perfSetup(b *testing.B) *perfFix {
	perfOnce.Do(func() {
		dir, _ := os.MkdirTemp("", "pamscim-perf-")
		data := filepath.Join(dir, "data")
		ctx := context.Background()
		reg := schema.Default()
		st, err := sqlite.Open(ctx, data, reg, sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := envInt("PAMSCIM_BENCH_PERF_USERS", 100_000)
		start := time.Now()
		ids := seedEntraUsers(b, st, n, 5000, "seed")
		if err := st.Optimize(ctx); err != nil {
			b.Fatal(err)
		}
		st.Close()
		fmt.Fprintf(os.Stderr, "perf: seeded %d users in %v\n", n, time.Since(start).Round(time.Millisecond))

		sctx, cancel := context.WithCancel(ctx)
		addr := make(chan string, 1)
		done := make(chan error, 1)
		// PAMSCIM_BENCH_LOG=off measures without the provisioning log.
		cfg := &app.Config{Data: data, Listen: "127.0.0.1:0", LogLevel: "error", Synchronous: os.Getenv("PAMSCIM_BENCH_SYNC")}
		cfg.ProvLog = os.Getenv("PAMSCIM_BENCH_LOG")
		go func() { done <- app.Serve(sctx, cfg, io.Discard, func(a string) { addr <- a }) }()
		var a string
		select {
		case a = <-addr:
		case err := <-done:
			b.Fatal(err)
		}
		tok, err := os.ReadFile(cfg.BootstrapFile())
		if err != nil {
			b.Fatal(err)
		}
		perfF = &perfFix{url: "http://" + a + "/scim/v2", token: strings.TrimSpace(string(tok)), n: n, ids: ids, stop: func() {
			cancel()
			<-done
			os.RemoveAll(dir)
		}}
	})
	if perfF == nil {
		b.Fatal("perf fixture failed")
	}
	return perfF
}

var perfClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxIdleConns: 256}}

// perfReq is one request of a workload and what a right answer holds.
type perfReq struct {
	method, url string
	body        []byte
	want        int
	// contains, when set, must occur in the response body: a fast wrong
	// answer is a failure.
	contains string
}

// perfRun sends b.N requests from PAMSCIM_BENCH_CLIENTS clients and
// reports throughput and latency percentiles.
func perfRun(b *testing.B, token string, next func(r *rand.Rand, i int64) perfReq) {
	clients := envInt("PAMSCIM_BENCH_CLIENTS", 8)
	var lat latencies
	var seq atomic.Int64
	var failed atomic.Value
	stopProfile := perfProfile(b)
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), 9))
			buf := make([]byte, 0, 64<<10)
			for {
				i := seq.Add(1) - 1
				if i >= int64(b.N) || failed.Load() != nil {
					return
				}
				q := next(r, i)
				req, _ := http.NewRequest(q.method, q.url, bytes.NewReader(q.body))
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				if q.body != nil {
					req.Header.Set("Content-Type", "application/scim+json")
				}
				t := time.Now()
				res, err := perfClient.Do(req)
				if err != nil {
					failed.Store(err.Error())
					return
				}
				w := bytes.NewBuffer(buf[:0])
				_, _ = io.Copy(w, res.Body)
				res.Body.Close()
				lat.add(time.Since(t))
				if res.StatusCode != q.want || (q.contains != "" && !bytes.Contains(w.Bytes(), []byte(q.contains))) {
					failed.Store(fmt.Sprintf("%s %s: %d, want %d with %q: %.300s", q.method, q.url, res.StatusCode, q.want, q.contains, w.Bytes()))
					return
				}
			}
		}(c)
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	stopProfile()
	if f := failed.Load(); f != nil {
		b.Fatal(f)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	// CPU time of the process (server and client) per request: unlike
	// req/s it does not move with what else the shared machine runs, so
	// it is the figure to compare between two versions.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/req")
	lat.report(b)
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// perfProfile starts the CPU profile (and arms the heap profile) when asked.
func perfProfile(b *testing.B) func() {
	name := strings.NewReplacer("/", "_", "=", "-").Replace(b.Name())
	var stops []func()
	if dir := os.Getenv("PAMSCIM_BENCH_CPUPROFILE"); dir != "" {
		f, err := os.Create(filepath.Join(dir, name+".cpu"))
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
	}
	if dir := os.Getenv("PAMSCIM_BENCH_MEMPROFILE"); dir != "" {
		old := runtime.MemProfileRate
		runtime.MemProfileRate = 4096
		stops = append(stops, func() {
			f, err := os.Create(filepath.Join(dir, name+".mem"))
			if err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
			runtime.MemProfileRate = old
		})
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}
}

var perfCreateSeq atomic.Int64

func perfCreate(f *perfFix) perfReq {
	name := fmt.Sprintf("w1-%09d-%s", perfCreateSeq.Add(1), uuid.NewString()[:8])
	return perfReq{method: "POST", url: f.url + "/Users", body: mustJSON(entraUser(name)), want: 201, contains: name + "@contoso.com"}
}

func perfLookup(f *perfFix, r *rand.Rand) perfReq {
	k := r.IntN(f.n)
	name := fmt.Sprintf("seed%07d@contoso.com", k)
	return perfReq{method: "GET", url: f.url + "/Users?filter=" + url.QueryEscape(`userName eq "`+name+`"`), want: 200,
		contains: `"totalResults":1,`}
}

// BenchmarkPerfW1 is W1, the initial load: POST /Users (201 with the body).
func BenchmarkPerfW1(b *testing.B) {
	f := perfSetup(b)
	perfRun(b, f.token, func(*rand.Rand, int64) perfReq { return perfCreate(f) })
}

// BenchmarkPerfW2 is W2: userName eq lookups of random seeded users, each
// answer checked to hold exactly one result.
func BenchmarkPerfW2(b *testing.B) {
	f := perfSetup(b)
	perfRun(b, f.token, func(r *rand.Rand, _ int64) perfReq { return perfLookup(f, r) })
}

// BenchmarkPerfGet is GET /Users/{id} of random seeded users.
func BenchmarkPerfGet(b *testing.B) {
	f := perfSetup(b)
	perfRun(b, f.token, func(r *rand.Rand, _ int64) perfReq {
		id := f.ids[r.IntN(len(f.ids))]
		return perfReq{method: "GET", url: f.url + "/Users/" + id, want: 200, contains: id}
	})
}

// BenchmarkPerfW6 is W6, a mixed identity-platform sync, mostly reads:
// 45 % GET /Users/{id}, 35 % userName eq lookups, 12 % PATCH (Entra-style
// replace of title and active), 8 % POST /Users.
func BenchmarkPerfW6(b *testing.B) {
	f := perfSetup(b)
	perfRun(b, f.token, func(r *rand.Rand, _ int64) perfReq {
		switch p := r.IntN(100); {
		case p < 45:
			id := f.ids[r.IntN(len(f.ids))]
			return perfReq{method: "GET", url: f.url + "/Users/" + id, want: 200, contains: id}
		case p < 80:
			return perfLookup(f, r)
		case p < 92:
			id := f.ids[r.IntN(len(f.ids))]
			title := fmt.Sprintf("T%d", r.IntN(1_000_000))
			body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"title","value":"` + title + `"},{"op":"Replace","path":"active","value":"True"}]}`
			return perfReq{method: "PATCH", url: f.url + "/Users/" + id + "?attributes=title", body: []byte(body), want: 200, contains: `"` + title + `"`}
		default:
			return perfCreate(f)
		}
	})
}

// BenchmarkPerfCeiling is the same client against a trivial Go HTTP
// server that answers a canned SCIM user: the most this machine does
// through HTTP, measured in the same run.
func BenchmarkPerfCeiling(b *testing.B) {
	body := mustJSON(map[string]any{"schemas": []string{schema.UserURN}, "id": "2819c223-7f76-453a-919d-413861904646",
		"userName": "seed0000001@contoso.com", "active": true, "meta": map[string]any{"resourceType": "User", "version": `W/"1"`}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		w.Write(body)
	}))
	defer srv.Close()
	perfRun(b, "", func(*rand.Rand, int64) perfReq {
		return perfReq{method: "GET", url: srv.URL + "/scim/v2/Users/2819c223-7f76-453a-919d-413861904646", want: 200, contains: "2819c223"}
	})
}
