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
	"runtime/pprof"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pamscim/pamscim/internal/api"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/metrics"
	"github.com/pamscim/pamscim/internal/provlog"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
	"github.com/pamscim/pamscim/internal/store/sqlstore"
)

// provlogServer is one server as `pamscim serve` wires it (metrics on),
// with or without the provisioning log, over its own SQLite file.
type provlogServer struct {
	url, token string
	rec        *provlog.Recorder
	st         *sqlstore.DB
	close      func()
}

func newProvlogServer(b *testing.B, dir string, users int, logOn bool) *provlogServer {
	reg := schema.Default()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, dir, reg, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	seedEntraUsers(b, st, users, 5000, "seed")
	if err := st.Optimize(ctx); err != nil {
		b.Fatal(err)
	}
	au := auth.NewService(st)
	tok, _, _ := au.CreateToken(ctx, store.DefaultTenant, "bench", []string{auth.ScopeRead, auth.ScopeWrite}, 0, "bench")
	s := api.New(reg, st, au, api.Config{}, nil)
	s.UseMetrics(metrics.New(metrics.Build{Version: "bench"}))
	p := &provlogServer{token: tok, st: st}
	if logOn {
		p.rec = provlog.New(st, reg, provlog.Options{})
		s.UseProvLog(p.rec)
	}
	srv := httptest.NewServer(s.Handler())
	p.url = srv.URL + "/scim/v2"
	p.close = func() {
		srv.Close()
		if p.rec != nil {
			_ = p.rec.Close(context.Background())
		}
		st.Close()
	}
	return p
}

// BenchmarkProvLogOverhead measures what the provisioning log adds to
// creates (W1): two servers over two SQLite files seeded alike, one with
// the log and one without (metrics on in both, as serve runs), driven in
// alternating rounds of the same load so that the machine's other work
// falls on both alike. Each b.N iteration is one round: ROUND creates by 8
// concurrent clients on each server, the order of the two flipping every
// round. It reports each mode's throughput, mean, p50 and p99, and the
// added latency in percent.
func BenchmarkProvLogOverhead(b *testing.B) {
	users := 20_000
	if n, err := strconv.Atoi(os.Getenv("PAMSCIM_BENCH_USERS")); err == nil && n > 0 {
		users = n
	}
	round := 2000
	if n, err := strconv.Atoi(os.Getenv("PAMSCIM_BENCH_ROUND")); err == nil && n > 0 {
		round = n
	}
	// 8 clients saturate 2 cores, so there every microsecond of CPU the
	// log spends shows as latency; 2 is an identity platform's own pace
	// (Entra ID provisions one request at a time per job).
	clients := 8
	if n, err := strconv.Atoi(os.Getenv("PAMSCIM_BENCH_CLIENTS")); err == nil && n > 0 {
		clients = n
	}
	dir := b.TempDir()
	servers := map[string]*provlogServer{}
	// Each server's goroutines (its listener's, and so every connection's;
	// the store's and the recorder's) and its clients carry a profiler
	// label, so that a -cpuprofile tells the two apart:
	// go tool pprof -tagfocus server=on …
	for _, mode := range []string{"off", "on"} {
		pprof.Do(context.Background(), pprof.Labels("server", mode), func(context.Context) {
			servers[mode] = newProvlogServer(b, filepath.Join(dir, mode), users, mode == "on")
		})
	}
	defer servers["off"].close()
	defer servers["on"].close()
	cl := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var seq, offSent atomic.Int64 // creates sent to both servers; to the one without the log
	type stats struct {
		lat     []time.Duration
		elapsed time.Duration
		n       int
		cpu     time.Duration // process CPU time, user + system
	}
	res := map[string]*stats{"off": {}, "on": {}}
	load := func(mode string) {
		s := servers[mode]
		var (
			mu   sync.Mutex
			lat  = make([]time.Duration, 0, round)
			left atomic.Int64
			wg   sync.WaitGroup
		)
		left.Store(int64(round))
		cpu0 := procCPU()
		start := time.Now()
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("server", mode)))
				local := make([]time.Duration, 0, round/8+1)
				for left.Add(-1) >= 0 {
					body := mustJSON(entraUser(fmt.Sprintf("plog%09d-%s", seq.Add(1), uuid.NewString()[:8])))
					req, _ := http.NewRequest("POST", s.url+"/Users", bytes.NewReader(body))
					req.Header.Set("Authorization", "Bearer "+s.token)
					req.Header.Set("Content-Type", "application/scim+json")
					t := time.Now()
					r, err := cl.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, r.Body)
					r.Body.Close()
					local = append(local, time.Since(t))
					if r.StatusCode != 201 {
						b.Errorf("%s: status %d", mode, r.StatusCode)
						return
					}
				}
				mu.Lock()
				lat = append(lat, local...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		st := res[mode]
		st.elapsed += time.Since(start)
		if s.rec != nil {
			// The log's work for this round (redaction, the batch
			// inserts) is this round's CPU, not the next one's.
			want := uint64(seq.Load() - offSent.Load())
			deadline := time.Now().Add(30 * time.Second)
			for s.rec.Stats().Recorded+s.rec.Stats().Dropped < want && time.Now().Before(deadline) {
				time.Sleep(2 * time.Millisecond)
			}
		} else {
			offSent.Add(int64(len(lat)))
		}
		st.cpu += procCPU() - cpu0
		st.n += len(lat)
		st.lat = append(st.lat, lat...)
	}
	// One warm-up round each (pools, page cache, JIT of the query plans).
	load("off")
	load("on")
	for _, st := range res {
		*st = stats{}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			load("off")
			load("on")
		} else {
			load("on")
			load("off")
		}
	}
	b.StopTimer()
	// Everything logged was stored, nothing dropped.
	rec := servers["on"].rec
	deadline := time.Now().Add(30 * time.Second)
	for rec.Stats().Recorded+rec.Stats().Dropped < uint64(res["on"].n+round) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	ps := rec.Stats()
	mean, cpu := map[string]float64{}, map[string]float64{}
	for _, mode := range []string{"off", "on"} {
		st := res[mode]
		sort.Slice(st.lat, func(i, j int) bool { return st.lat[i] < st.lat[j] })
		var sum time.Duration
		for _, d := range st.lat {
			sum += d
		}
		if len(st.lat) == 0 {
			b.Fatal("no requests")
		}
		mean[mode] = float64(sum.Microseconds()) / float64(len(st.lat))
		pct := func(p float64) float64 { return float64(st.lat[int(float64(len(st.lat)-1)*p)].Microseconds()) }
		b.ReportMetric(float64(st.n)/st.elapsed.Seconds(), mode+"-req/s")
		b.ReportMetric(mean[mode], mode+"-mean-µs")
		b.ReportMetric(pct(0.50), mode+"-p50-µs")
		b.ReportMetric(pct(0.99), mode+"-p99-µs")
		cpu[mode] = float64(st.cpu.Microseconds()) / float64(st.n)
		b.ReportMetric(cpu[mode], mode+"-cpu-µs/req")
	}
	b.ReportMetric(100*(mean["on"]-mean["off"])/mean["off"], "added-latency-%")
	b.ReportMetric(100*(cpu["on"]-cpu["off"])/cpu["off"], "added-cpu-%")
	b.ReportMetric(float64(ps.Dropped), "log-dropped")
	fmt.Fprintf(os.Stderr, "provisioning log: %d entries stored, %d dropped; %d creates per mode\n", ps.Recorded, ps.Dropped, res["on"].n)
}

// procCPU is the process's CPU time so far (user and system): unlike
// latency, it does not grow with what the machine's other processes do, so
// it shows the log's own cost on a shared machine.
func procCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkProvLogAppend measures the store side of the provisioning log
// alone: batches of 100 Entra-shaped entries (request and response bodies
// of a create, each user its own) appended to a SQLite store, as the
// recorder does every 200 ms under load. It reports the cost per entry and
// the bytes an entry takes in the store.
func BenchmarkProvLogAppend(b *testing.B) {
	reg := schema.Default()
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "data"), reg, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	batches := make([][]store.LogEntry, 8)
	for k := range batches {
		batch := make([]store.LogEntry, 100)
		for i := range batch {
			name := fmt.Sprintf("append%03d-%03d", k, i)
			id := uuid.NewString()
			req := mustJSON(entraUser(name))
			u := entraUser(name)
			u["id"] = id
			u["meta"] = map[string]any{"resourceType": "User", "created": time.Now().Format(time.RFC3339Nano),
				"lastModified": time.Now().Format(time.RFC3339Nano), "version": `W/"1"`, "location": "https://scim.example/scim/v2/Users/" + id}
			batch[i] = store.LogEntry{Tenant: store.DefaultTenant, At: time.Now(), Method: "POST", Path: "/scim/v2/Users", Status: 201,
				Duration: time.Millisecond, Client: "entra", ResourceType: "User", ResourceID: id, RequestID: "abcd-" + strconv.Itoa(i),
				RequestBody: req, ResponseBody: mustJSON(u)}
		}
		batches[k] = batch
	}
	cpu0 := procCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := st.AppendLog(context.Background(), batches[i%len(batches)]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	entries := float64(b.N * 100)
	b.ReportMetric(float64(b.Elapsed().Microseconds())/entries, "µs/entry")
	b.ReportMetric(float64((procCPU()-cpu0).Microseconds())/entries, "cpu-µs/entry")
	var raw, stored float64
	for _, e := range batches[0] {
		raw += float64(len(e.RequestBody) + len(e.ResponseBody))
	}
	w, _ := st.Handles()
	if err := w.QueryRow(`SELECT coalesce(sum(length(meta) + length(bodies)), 0) FROM provlog_blocks`).Scan(&stored); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(raw/100, "body-bytes/entry")
	b.ReportMetric(stored/entries, "stored-bytes/entry")
}

// BenchmarkProvLogQuery measures searching a full log: 100,000 entries of
// one tenant (the default --log-max-entries), as the console and
// `pamscim log` search it. "newest" is the first page (100 entries with
// bodies); "rare" a filter that matches one entry in 10,000, so the search
// reads every block; "entry" one entry by id.
func BenchmarkProvLogQuery(b *testing.B) {
	reg := schema.Default()
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "data"), reg, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	var ids []int64
	for k := range 400 {
		batch := make([]store.LogEntry, 250)
		for i := range batch {
			n := k*250 + i
			name := fmt.Sprintf("q%06d", n)
			client, status := "entra", 201
			if n%10000 == 0 {
				client, status = "okta", 409
			}
			batch[i] = store.LogEntry{Tenant: store.DefaultTenant, At: time.Now(), Method: "POST", Path: "/scim/v2/Users", Status: status,
				Duration: time.Millisecond, Client: client, ResourceType: "User", ResourceID: uuid.NewString(), RequestID: name,
				RequestBody: mustJSON(entraUser(name)), ResponseBody: mustJSON(entraUser(name))}
		}
		if err := st.AppendLog(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	es, err := st.QueryLog(ctx, store.LogQuery{Tenant: store.DefaultTenant, Limit: store.MaxLogLimit})
	if err != nil || len(es) != store.MaxLogLimit {
		b.Fatal(len(es), err)
	}
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	for _, tc := range []struct {
		name string
		q    store.LogQuery
		want int
	}{
		{"newest", store.LogQuery{Tenant: store.DefaultTenant, Limit: 100}, 100},
		{"rare", store.LogQuery{Tenant: store.DefaultTenant, Client: "okta", Status: "409"}, 10},
		{"path", store.LogQuery{Tenant: store.DefaultTenant, Path: "/groups", Limit: 100}, 0},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				es, err := st.QueryLog(ctx, tc.q)
				if err != nil || len(es) != tc.want {
					b.Fatal(len(es), err)
				}
			}
		})
	}
	b.Run("entry", func(b *testing.B) {
		i := 0
		for b.Loop() {
			e, err := st.LogEntry(ctx, store.DefaultTenant, ids[i%len(ids)])
			if err != nil || len(e.RequestBody) == 0 {
				b.Fatal(err)
			}
			i++
		}
	})
}
