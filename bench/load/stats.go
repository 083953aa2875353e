package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Result is one measured row: a workload (or one part of it, such as one
// group size of W4) against one server.
type Result struct {
	Workload    string  `json:"workload"` // W1…W6
	Key         string  `json:"key"`      // the row across servers: W1, W4/10000, W5/cursor…
	Name        string  `json:"name"`     // the row's label, e.g. "W4 add/remove, 10000 members"
	Concurrency int     `json:"concurrency"`
	Size        int     `json:"size,omitempty"` // users in the store, members in the group…
	Ops         int     `json:"ops"`            // timed requests sent
	OK          int     `json:"ok"`             // answered and verified
	Failed      int     `json:"failed"`         // transport error or unexpected HTTP status
	Wrong       int     `json:"wrong"`          // answered with the expected status but the wrong content
	Seconds     float64 `json:"seconds"`
	// Throughput is verified work per second in Unit: a wrong answer does not
	// count, however fast it came.
	Throughput float64 `json:"throughput"`
	// Answered is every answer with the expected status per second, verified
	// or not: the ceiling's figure, whose canned answers are never right.
	Answered float64 `json:"answered"`
	Unit     string  `json:"unit"` // "req/s", or "users/s" for exports
	P50Ms    float64 `json:"p50_ms"`
	P95Ms    float64 `json:"p95_ms"`
	P99Ms    float64 `json:"p99_ms"`
	MaxMs    float64 `json:"max_ms"`
	// Errors holds a few examples of failures and wrong answers.
	Errors  []string `json:"errors,omitempty"`
	Skipped string   `json:"skipped,omitempty"`
	Note    string   `json:"note,omitempty"`
}

// sample is what one timed operation reports.
type sample struct {
	lat   time.Duration // the request alone, not its verification
	fail  error         // transport error or unexpected status
	wrong error         // expected status, wrong content
	units int           // work done (users exported) when exact; else 1
	exact bool
}

// recorder gathers samples from many workers.
type recorder struct {
	mu     sync.Mutex
	lat    []time.Duration
	ok     int
	failed int
	wrong  int
	units  int
	wunits int
	errs   []string
	seen   map[string]bool
}

func (r *recorder) add(s sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	u := s.units
	if !s.exact {
		u = 1
	}
	switch {
	case s.fail != nil:
		r.failed++
		r.note("failed: " + s.fail.Error())
		return
	case s.wrong != nil:
		r.wrong++
		r.wunits += u
		r.note("wrong: " + s.wrong.Error())
	default:
		r.ok++
		r.units += u
	}
	r.lat = append(r.lat, s.lat)
}

// addWrong counts a wrong answer found after the timed phase (a PATCH that
// did not read back).
func (r *recorder) addWrong(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.wrong++
	if r.ok > 0 {
		r.ok--
	}
	r.note("wrong: " + err.Error())
}

// note keeps up to five distinct messages.
func (r *recorder) note(msg string) {
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if len(r.errs) < 5 && !r.seen[msg] {
		r.seen[msg] = true
		r.errs = append(r.errs, msg)
	}
}

func (r *recorder) result(workload, name string, conc int, elapsed time.Duration, unit string) Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	res := Result{Workload: workload, Name: name, Concurrency: conc, Ops: r.ok + r.failed + r.wrong,
		OK: r.ok, Failed: r.failed, Wrong: r.wrong, Seconds: elapsed.Seconds(), Unit: unit, Errors: r.errs}
	if s := elapsed.Seconds(); s > 0 {
		res.Throughput = float64(r.units) / s
		res.Answered = float64(r.units+r.wunits) / s
	}
	res.P50Ms, res.P95Ms, res.P99Ms = pct(r.lat, 0.50), pct(r.lat, 0.95), pct(r.lat, 0.99)
	if n := len(r.lat); n > 0 {
		res.MaxMs = ms(r.lat[n-1])
	}
	return res
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// pct is the nearest-rank percentile of sorted latencies.
func pct(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.5) - 1
	i = max(0, min(len(sorted)-1, i))
	return ms(sorted[i])
}

// drive runs op on conc workers, either n times in all (n > 0) or until d
// has passed, and returns the recorder and the wall time.
func drive(ctx context.Context, conc, n int, d time.Duration, op func(ctx context.Context, worker, i int) sample) (*recorder, time.Duration) {
	rec := &recorder{}
	var next atomic.Int64
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < max(1, conc); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if n > 0 && i >= n {
					return
				}
				if n <= 0 && time.Now().After(deadline) {
					return
				}
				rec.add(op(ctx, w, i))
			}
		}()
	}
	wg.Wait()
	return rec, time.Since(start)
}

func errorf(format string, a ...any) error { return fmt.Errorf(format, a...) }
