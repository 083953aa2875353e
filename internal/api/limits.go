package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pamscim/pamscim/internal/metrics"
	"github.com/pamscim/pamscim/internal/scimerr"
)

// Limits bound what the server takes on at once, so that a flood degrades
// into 429s with Retry-After instead of into unbounded memory, and a client
// that sends slowly holds a request slot only until its deadline.
type Limits struct {
	// MaxInFlight caps the requests being handled at once (default 128;
	// negative: no cap). Health, readiness and metrics are never capped, so
	// an orchestrator can still see an overloaded instance.
	MaxInFlight int
	// QueueWait is how long a request may wait for a free slot before it is
	// answered 429 (default 1 s): short bursts queue, floods are refused.
	QueueWait time.Duration
	// RequestTimeout bounds one request from the end of its headers to the
	// end of its response, body upload included (default 30 s; Entra and
	// Okta give up after 60 s). A body that has not arrived by then gets
	// 408; a handler still working gets its context cancelled and a 503.
	RequestTimeout time.Duration
	// RetryAfter is the Retry-After of a 429 (default 1 s, whole seconds).
	RetryAfter time.Duration
}

func (l *Limits) defaults() {
	if l.MaxInFlight == 0 {
		l.MaxInFlight = 128
	}
	if l.QueueWait <= 0 {
		l.QueueWait = time.Second
	}
	if l.RequestTimeout <= 0 {
		l.RequestTimeout = 30 * time.Second
	}
	if l.RetryAfter < time.Second {
		l.RetryAfter = time.Second
	}
}

// uncapped paths answer even when every slot is taken.
func uncapped(path string) bool {
	return path == "/healthz" || path == "/readyz" || path == "/metrics" || strings.HasPrefix(path, "/debug/")
}

// limitRequests applies Limits. It is the outermost middleware: it logs
// its own refusals and timeouts, and the request log inside it records what
// the handler did.
func (s *Server) limitRequests(next http.Handler) http.Handler {
	l := s.cfg.Limits
	var slots chan struct{}
	if l.MaxInFlight > 0 {
		slots = make(chan struct{}, l.MaxInFlight)
	}
	retry := strconv.Itoa(int((l.RetryAfter + time.Second - 1) / time.Second))
	pool := newWorkers(workerIdle)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if uncapped(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		if slots != nil {
			select {
			case slots <- struct{}{}:
			default:
				t := time.NewTimer(l.QueueWait)
				select {
				case slots <- struct{}{}:
					t.Stop()
				case <-t.C:
					s.limited(metrics.ReasonInFlight)
					s.log.Warn("refused: too many requests in flight", "method", r.Method, "path", r.URL.Path, "max_in_flight", l.MaxInFlight)
					w.Header().Set("Retry-After", retry)
					if r.ContentLength != 0 {
						// Without it net/http reads up to 256 KiB of the
						// unread body before answering: a flood would hold
						// a goroutine per refused upload, and a client
						// still sending would not see its 429 until done.
						w.Header().Set("Connection", "close")
					}
					s.writeError(w, r, scimerr.New(scimerr.TooManyRequests, "the server is handling %d requests; retry after %s s", l.MaxInFlight, retry))
					return
				case <-r.Context().Done():
					t.Stop()
					return
				}
			}
		}
		release := func() {
			if slots != nil {
				<-slots
			}
		}
		deadline := start.Add(l.RequestTimeout)
		// The connection's read deadline bounds the body upload (a stalled
		// body fails the handler's read with 408); the write deadline bounds
		// a client that does not read its answer.
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(deadline)
		_ = rc.SetWriteDeadline(deadline.Add(5 * time.Second))
		ctx, cancel := context.WithDeadline(r.Context(), deadline)
		r = r.WithContext(ctx)
		body := &watchedBody{ReadCloser: r.Body}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = body
		}

		// The handler writes into a buffer so that, should it still be
		// working at the deadline (a store call that does not watch its
		// context, such as SQLite waiting on a lock another process holds),
		// the client gets a clean 503 instead of a cut connection. The
		// handler's slot is given back only when it really finishes: the
		// cap counts work, not answers.
		bw := &bufferedWriter{h: make(http.Header)}
		done := make(chan any, 1) // the handler's panic, or nil
		pool.run(func() {
			var p any
			defer func() {
				bw.mu.Lock()
				bw.finished = true
				bw.mu.Unlock()
				cancel()
				release()
				done <- p
			}()
			defer func() { p = recover() }()
			next.ServeHTTP(bw, r)
		})
		select {
		case p := <-done:
			if p != nil {
				panic(p) // http.ErrAbortHandler: let net/http abort the connection
			}
			bw.copyTo(w)
			return
		case <-ctx.Done():
		}
		bw.mu.Lock()
		finished := bw.finished
		bw.timedOut = !finished
		bw.mu.Unlock()
		switch {
		case finished:
			if p := <-done; p != nil {
				panic(p)
			}
			bw.copyTo(w)
		case time.Now().Before(deadline):
			// The client went away; the handler finishes on its own.
		case body.waiting.Load():
			s.log.Warn("request body timed out", "method", r.Method, "path", r.URL.Path, "timeout", l.RequestTimeout)
			s.writeError(w, r, scimerr.New(scimerr.RequestTimeout, "the request body did not arrive within %s", l.RequestTimeout))
		default:
			s.log.Warn("request timed out", "method", r.Method, "path", r.URL.Path, "timeout", l.RequestTimeout)
			w.Header().Set("Retry-After", retry)
			s.writeError(w, r, scimerr.New(scimerr.Unavailable, "the request did not finish within the server's request timeout of %s", l.RequestTimeout))
		}
	})
}

// watchedBody notes when the handler is waiting for body bytes, to tell a
// slow client (408) from a slow server (503) at the deadline.
type watchedBody struct {
	io.ReadCloser
	waiting atomic.Bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.waiting.Store(true)
	defer b.waiting.Store(false)
	return b.ReadCloser.Read(p)
}

// bufferedWriter holds a handler's answer until it is complete.
type bufferedWriter struct {
	mu       sync.Mutex
	h        http.Header
	buf      bytes.Buffer
	code     int
	timedOut bool // the client was answered 503: drop what comes
	finished bool // the handler returned
}

func (b *bufferedWriter) Header() http.Header { return b.h }

func (b *bufferedWriter) WriteHeader(code int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.code == 0 {
		b.code = code
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.timedOut {
		return 0, http.ErrHandlerTimeout
	}
	if b.code == 0 {
		b.code = http.StatusOK
	}
	return b.buf.Write(p)
}

func (b *bufferedWriter) copyTo(w http.ResponseWriter) {
	b.mu.Lock()
	defer b.mu.Unlock()
	dst := w.Header()
	for k, v := range b.h {
		dst[k] = v
	}
	if b.code == 0 {
		b.code = http.StatusOK
	}
	w.WriteHeader(b.code)
	_, _ = w.Write(b.buf.Bytes())
}

// requestTimedOut reports whether r's deadline from limitRequests has
// passed (the context may say Canceled when the connection's read deadline
// fired first, so the clock decides).
func requestTimedOut(r *http.Request) bool {
	dl, ok := r.Context().Deadline()
	return ok && r.Context().Err() != nil && !time.Now().Before(dl)
}

// workerIdle is how long a handler goroutine waits for the next request
// before it exits.
const workerIdle = 10 * time.Second

// workers runs handlers on goroutines that outlive one request. A store
// call needs a deep stack (SQLite is C translated to Go), and a goroutine
// started per request began at 8 KiB and grew by copying on every request:
// 11 % of a userName lookup's CPU (bench/RESULTS.md). A worker keeps its
// grown stack for the next request; idle workers exit after workerIdle, so
// a burst leaves nothing behind. How many run at once is bounded by the
// request slots, not here.
type workers struct {
	idle    chan func() // unbuffered: a send succeeds only to a waiting worker
	timeout time.Duration
	spawned atomic.Int64 // goroutines started: far fewer than requests when reused
}

func newWorkers(idle time.Duration) *workers {
	return &workers{idle: make(chan func()), timeout: idle}
}

// run starts f on an idle worker, or on a new one when none waits. f must
// not panic (the limiter's handler function recovers).
func (p *workers) run(f func()) {
	select {
	case p.idle <- f:
	default:
		p.spawned.Add(1)
		go p.loop(f)
	}
}

func (p *workers) loop(f func()) {
	t := time.NewTimer(p.timeout)
	defer t.Stop()
	for {
		f()
		f = nil // let the request be collected while idle
		t.Reset(p.timeout)
		select {
		case f = <-p.idle:
		case <-t.C:
			return
		}
	}
}
