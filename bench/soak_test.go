package bench

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/app"
)

// TestSoak runs mixed SCIM traffic at a steady rate against a real server
// on loopback and samples, per window, the live heap, goroutines, open file
// descriptors, throughput and latency. It fails on goroutine or descriptor
// growth (leaks); memory and latency are reported for bench/RESULTS.md.
//
// CI runs a few seconds. By hand (figures in RESULTS.md):
//
//	PAMSCIM_SOAK=10m PAMSCIM_SOAK_RATE=300 go test -run='^TestSoak$' -count=1 -v -timeout=30m ./bench
func TestSoak(t *testing.T) {
	dur, window, rate, population, warmups := 4*time.Second, time.Second, 60, 50, 3
	if v := os.Getenv("PAMSCIM_SOAK"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("PAMSCIM_SOAK: %v", err)
		}
		dur, window, rate, population, warmups = d, 30*time.Second, 300, 1000, 20
	}
	if v := os.Getenv("PAMSCIM_SOAK_RATE"); v != "" {
		fmt.Sscan(v, &rate)
	}
	data := filepath.Join(t.TempDir(), "data")
	cfg := &app.Config{Listen: "127.0.0.1:0", Data: data, ShutdownTimeout: 10 * time.Second, LogLevel: "error"}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, cfg, io.Discard, func(a string) { addrc <- a }) }()
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a + "/scim/v2"
	case err := <-done:
		t.Fatal(err)
	}
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}()
	tok, err := os.ReadFile(filepath.Join(data, "bootstrap-token"))
	if err != nil {
		t.Fatal(err)
	}
	s := &soaker{
		c:     &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		base:  base,
		token: strings.TrimSpace(string(tok)),
	}
	// A starting population, so reads and PATCHes have targets.
	for i := 0; i < population; i++ {
		s.create(t)
	}
	gid := s.mustID(t, "POST", "/Groups", `{"displayName":"soak"}`)
	// Warm the pools (SQLite readers, connections) so that the idle
	// baseline is the server's steady idle state, not its cold start.
	var warm sync.WaitGroup
	for i := 0; i < 32; i++ {
		warm.Add(1)
		go func() {
			defer warm.Done()
			for j := 0; j < warmups; j++ {
				s.do("GET", "/Users?startIndex=1&count=50", "")
			}
		}()
	}
	warm.Wait()
	base0 := s.quiesce()

	// Open-loop load: requests start on a fixed schedule whatever the
	// latency, as a provisioning platform's do; a pool of 32 senders.
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	work := make(chan struct{}, 1024)
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, 7))
			for range work {
				s.one(t, r, gid)
			}
		}(uint64(i))
	}
	s.sample() // starts the first window
	end := time.Now().Add(dur)
	next := time.Now().Add(window)
	var samples []soakSample
	dropped := 0
	for now := range tick.C {
		if now.After(end) {
			break
		}
		select {
		case work <- struct{}{}:
		default:
			dropped++ // the server fell behind the schedule
		}
		if now.After(next) {
			samples = append(samples, s.sample())
			next = next.Add(window)
		}
	}
	close(work)
	wg.Wait()
	samples = append(samples, s.sample())
	after := s.quiesce()

	t.Logf("soak: %s at %d req/s scheduled, %d-request windows; %d schedule slots missed", dur, rate, rate*int(window/time.Second), dropped)
	t.Logf("%-6s %9s %9s %9s %9s %11s %6s %4s %7s %6s", "window", "req/s", "p50", "p99", "max", "live heap", "gorout", "fds", "errors", "load1")
	for i, sm := range samples {
		t.Logf("%-6d %9.0f %9s %9s %9s %8.1f MiB %6d %4d %7d %6s", i+1, sm.rps, sm.p50.Round(10*time.Microsecond), sm.p99.Round(10*time.Microsecond), sm.max.Round(10*time.Microsecond), float64(sm.heap)/(1<<20), sm.goroutines, sm.fds, sm.errors, sm.load)
	}
	t.Logf("idle before load: %d goroutines, %d fds, %.1f MiB live heap; idle after: %d goroutines, %d fds, %.1f MiB",
		base0.goroutines, base0.fds, float64(base0.heap)/(1<<20), after.goroutines, after.fds, float64(after.heap)/(1<<20))
	if p := os.Getenv("PAMSCIM_SOAK_HEAPPROFILE"); p != "" {
		f, err := os.Create(p)
		if err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	if errs := s.errs; errs > 0 {
		t.Errorf("%d requests failed", errs)
	}
	// Leaks: once the load stops and idle keep-alive connections are
	// closed, the server must be back to its idle goroutines and
	// descriptors (a little slack for connections still closing).
	if after.goroutines > base0.goroutines+5 {
		t.Errorf("goroutines: %d idle before the load, %d idle after", base0.goroutines, after.goroutines)
	}
	if after.fds > base0.fds+5 {
		t.Errorf("open file descriptors: %d idle before the load, %d idle after", base0.fds, after.fds)
	}
}

// quiesce closes idle client connections, lets the server notice, and
// samples the idle state.
func (s *soaker) quiesce() soakSample {
	var sm soakSample
	for i := 0; i < 50; i++ {
		s.c.CloseIdleConnections()
		time.Sleep(100 * time.Millisecond)
		sm = s.sample()
		if i > 5 && sm.goroutines <= s.lastIdle {
			break
		}
		s.lastIdle = sm.goroutines
	}
	return sm
}

type soakSample struct {
	rps             float64
	p50, p99, max   time.Duration
	heap            uint64
	goroutines, fds int
	errors          int
	load            string // the machine's 1-minute load average
}

type soaker struct {
	c      *http.Client
	base   string
	token  string
	mu     sync.Mutex
	ids    []string
	lat    []time.Duration
	errs   int
	werrs  int
	wstart time.Time
	seq    int
	// lastIdle helps quiesce see the goroutine count settle.
	lastIdle int
}

func (s *soaker) sample() soakSample {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fds, _ := os.ReadDir("/proc/self/fd")
	s.mu.Lock()
	lat := s.lat
	s.lat = nil
	errs := s.werrs
	s.werrs = 0
	start := s.wstart
	s.wstart = time.Now()
	s.mu.Unlock()
	sm := soakSample{heap: ms.HeapInuse, goroutines: runtime.NumGoroutine(), fds: len(fds), errors: errs}
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		sm.load = strings.Fields(string(la))[0]
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		sm.p50, sm.p99, sm.max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
		if !start.IsZero() {
			sm.rps = float64(len(lat)) / time.Since(start).Seconds()
		}
	}
	return sm
}

func (s *soaker) do(method, path, body string) (int, string, time.Duration, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, s.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/scim+json")
	t0 := time.Now()
	res, err := s.c.Do(req)
	if err != nil {
		return 0, "", time.Since(t0), err
	}
	raw, err := io.ReadAll(res.Body)
	res.Body.Close()
	return res.StatusCode, string(raw), time.Since(t0), err
}

func (s *soaker) mustID(t *testing.T, method, path, body string) string {
	st, raw, _, err := s.do(method, path, body)
	if err != nil || st != 201 {
		t.Fatalf("%s %s: %d %v %s", method, path, st, err, raw)
	}
	i := strings.Index(raw, `"id":"`)
	return strings.Clone(raw[i+6 : i+6+36]) // not a slice pinning the whole body
}

func (s *soaker) create(t *testing.T) {
	s.mu.Lock()
	s.seq++
	n := s.seq
	s.mu.Unlock()
	id := s.mustID(t, "POST", "/Users", fmt.Sprintf(`{"userName":"soak%d@example.com","name":{"givenName":"S","familyName":"%d"},"emails":[{"value":"soak%d@example.com","type":"work","primary":true}],"active":true}`, n, n, n))
	s.mu.Lock()
	s.ids = append(s.ids, id)
	s.mu.Unlock()
}

// one sends one request of the mix: reads dominate, as in a provisioning
// cycle (match, then write).
func (s *soaker) one(t *testing.T, r *rand.Rand, gid string) {
	s.mu.Lock()
	id := s.ids[r.IntN(len(s.ids))]
	s.seq++
	n := s.seq
	s.mu.Unlock()
	var method, path, body string
	want := 200
	switch k := r.IntN(100); {
	case k < 35:
		method, path = "GET", "/Users/"+id
	case k < 55:
		method, path = "GET", "/Users?filter="+url.QueryEscape(fmt.Sprintf(`userName eq "soak%d@example.com"`, r.IntN(n)+1))
	case k < 65:
		method, path = "GET", "/Users?startIndex=1&count=50"
	case k < 80:
		method, path, want = "POST", "/Users", 201
		body = fmt.Sprintf(`{"userName":"soak%d@example.com","active":true}`, n)
	case k < 93:
		method, path, want = "PATCH", "/Users/"+id, 204
		body = fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"t%d"}]}`, n)
	default:
		method, path, want = "PATCH", "/Groups/"+gid, 204
		body = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"` + id + `"}]}]}`
	}
	st, raw, d, err := s.do(method, path, body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lat = append(s.lat, d)
	if err != nil || (st != want && !(method == "PATCH" && st == 200)) {
		s.errs++
		s.werrs++
		if s.errs <= 5 {
			t.Logf("%s %s: %d %v %.200s", method, path, st, err, raw)
		}
		return
	}
	if method == "POST" {
		i := strings.Index(raw, `"id":"`)
		s.ids = append(s.ids, strings.Clone(raw[i+6:i+6+36]))
	}
}
