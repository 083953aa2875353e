// Package provlog records the provisioning log: every SCIM request with its
// method, path, status, duration, caller and redacted bodies, kept in the
// store for a configured time and count per tenant.
//
// Logging never slows or fails a request. The HTTP layer hands a Raw entry
// to Record, which only puts it on a buffered channel; one goroutine
// redacts the bodies and stores entries in batches (every FlushEvery or
// BatchSize entries). When the buffer is full the entry is dropped and
// counted (Stats.Dropped, exported as a metric), never waited for.
package provlog

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
)

// Defaults of Options.
const (
	DefaultBuffer     = 8192
	DefaultBatchSize  = 256
	DefaultFlushEvery = 200 * time.Millisecond
	DefaultMaxBody    = 64 << 10
	DefaultMaxCapture = 1 << 20
	DefaultRetention  = 30 * 24 * time.Hour
	DefaultMaxEntries = 100_000
	DefaultMaxBytes   = 1 << 30
	DefaultPruneEvery = 10 * time.Minute
	// maxPendingBytes bounds the captured bodies waiting in the buffer, so
	// that a burst of large requests cannot hold much memory.
	maxPendingBytes = 64 << 20
)

// Options configure a Recorder. Zero values take the defaults.
type Options struct {
	Buffer     int           // entries waiting to be stored
	BatchSize  int           // entries per store call
	FlushEvery time.Duration // longest an entry waits before it is stored
	MaxBody    int           // bytes of each body kept, after redaction
	MaxCapture int           // bytes of each body captured (for redaction)
	// Retention, MaxEntries and MaxBytes (as stored, compressed) bound
	// what is kept per tenant; negative means no limit of that kind.
	Retention  time.Duration
	MaxEntries int
	MaxBytes   int64
	PruneEvery time.Duration
	Log        *slog.Logger
}

func (o *Options) defaults() {
	if o.Buffer <= 0 {
		o.Buffer = DefaultBuffer
	}
	if o.BatchSize <= 0 {
		o.BatchSize = DefaultBatchSize
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = DefaultFlushEvery
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.MaxCapture < o.MaxBody {
		o.MaxCapture = max(DefaultMaxCapture, o.MaxBody)
	}
	if o.Retention == 0 {
		o.Retention = DefaultRetention
	}
	if o.MaxEntries == 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.PruneEvery <= 0 {
		o.PruneEvery = DefaultPruneEvery
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
}

// Raw is one request as the HTTP layer saw it: the entry without its
// bodies, and the bodies as captured (at most MaxCapture bytes each, not yet
// redacted). The Recorder owns the slices once Record has them.
type Raw struct {
	Entry                     store.LogEntry
	ReqBody, RespBody         []byte
	ReqSize, RespSize         int64 // bytes on the wire
	ReqType, RespType         string
	ReqComplete, RespComplete bool
}

// Stats counts what the recorder did since it started.
type Stats struct {
	Recorded uint64 // entries stored
	Dropped  uint64 // entries dropped: the buffer was full, or the store refused the batch
	Pruned   uint64 // entries removed by retention
}

// Recorder is the asynchronous batching writer.
type Recorder struct {
	st    store.LogStore
	red   *Redactor
	opt   Options
	ch    chan *Raw
	kick  chan struct{}
	bytes atomic.Int64

	recorded, dropped, pruned atomic.Uint64

	closeOnce sync.Once
	wg        sync.WaitGroup
	stop      chan struct{}
	done      chan struct{}
	now       func() time.Time
}

// New starts a recorder that stores into st; Close flushes and stops it.
func New(st store.LogStore, reg *schema.Registry, opt Options) *Recorder {
	opt.defaults()
	r := &Recorder{
		st: st, red: NewRedactor(reg), opt: opt,
		ch:   make(chan *Raw, opt.Buffer),
		kick: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}),
		now: time.Now,
	}
	r.wg.Add(2)
	go func() { defer r.wg.Done(); r.run() }()
	go func() { defer r.wg.Done(); r.pruneLoop() }()
	go func() { r.wg.Wait(); close(r.done) }()
	return r
}

// pruneLoop applies retention at start and every PruneEvery, apart from
// the writer so that a long first prune does not fill the buffer.
func (r *Recorder) pruneLoop() {
	t := time.NewTicker(r.opt.PruneEvery)
	defer t.Stop()
	for {
		r.prune()
		select {
		case <-r.stop:
			return
		case <-t.C:
		}
	}
}

// MaxCapture is how many bytes of each body the HTTP layer should capture.
func (r *Recorder) MaxCapture() int { return r.opt.MaxCapture }

// Stats returns the counters.
func (r *Recorder) Stats() Stats {
	return Stats{Recorded: r.recorded.Load(), Dropped: r.dropped.Load(), Pruned: r.pruned.Load()}
}

// Record queues e. It never blocks: a full buffer drops e and counts it.
func (r *Recorder) Record(e *Raw) {
	select {
	case <-r.stop:
		// Closed: nobody would store it.
		r.dropped.Add(1)
		return
	default:
	}
	n := int64(len(e.ReqBody) + len(e.RespBody))
	if r.bytes.Add(n) > maxPendingBytes {
		r.bytes.Add(-n)
		r.dropped.Add(1)
		return
	}
	select {
	case r.ch <- e:
		if len(r.ch) >= cap(r.ch)/2 {
			select {
			case r.kick <- struct{}{}:
			default:
			}
		}
	default:
		r.bytes.Add(-n)
		r.dropped.Add(1)
	}
}

// Close stores what is queued (within ctx) and stops the recorder. Records
// after Close are dropped.
func (r *Recorder) Close(ctx context.Context) error {
	r.closeOnce.Do(func() { close(r.stop) })
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (r *Recorder) run() {
	tick := time.NewTicker(r.opt.FlushEvery)
	defer tick.Stop()
	batch := make([]store.LogEntry, 0, r.opt.BatchSize)
	var (
		lastWarn time.Time
		failed   int
	)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		// Not the request's context: the entries outlive it. A store that
		// hangs must not hold the recorder forever.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := r.st.AppendLog(ctx, batch)
		cancel()
		if err != nil {
			r.dropped.Add(uint64(len(batch)))
			// A store that is down fails every batch: say so once a
			// minute, with the count, not five times a second.
			failed += len(batch)
			if now := time.Now(); now.Sub(lastWarn) >= time.Minute {
				r.opt.Log.Warn("provisioning log: could not store entries; they are dropped", "entries", failed, "err", err)
				lastWarn, failed = now, 0
			}
		} else {
			r.recorded.Add(uint64(len(batch)))
		}
		clear(batch) // let the bodies go
		batch = batch[:0]
	}
	add := func(e *Raw) {
		r.bytes.Add(-int64(len(e.ReqBody) + len(e.RespBody)))
		batch = append(batch, r.finish(e))
		if len(batch) >= r.opt.BatchSize {
			flush()
		}
	}
	// drain takes what is queued. The goroutine sleeps between ticks
	// rather than waking for every entry: a wake-up per request is a
	// context switch per request, which costs more on a busy machine than
	// the entry itself. kick wakes it early when the buffer fills up.
	drain := func() {
		for {
			select {
			case e := <-r.ch:
				add(e)
			default:
				return
			}
		}
	}
	for {
		select {
		case <-tick.C:
		case <-r.kick:
		case <-r.stop:
			drain()
			flush()
			return
		}
		drain()
		flush()
	}
}

// finish redacts and caps the bodies of e.
func (r *Recorder) finish(e *Raw) store.LogEntry {
	out := e.Entry
	req, secrets := r.red.Request(e.ReqBody, e.ReqType, e.ReqComplete)
	resp := r.red.Response(e.RespBody, e.RespType, e.RespComplete, secrets)
	out.RequestBody = Cut(req, r.opt.MaxBody, e.ReqComplete, e.ReqSize)
	out.ResponseBody = Cut(resp, r.opt.MaxBody, e.RespComplete, e.RespSize)
	// The redacted bodies may share the captured arrays (nothing to
	// redact): keep them, and the captured slices go with e.
	return out
}

// prune applies retention to every tenant.
func (r *Recorder) prune() {
	var lim store.LogLimits
	if r.opt.Retention > 0 {
		lim.OlderThan = r.now().Add(-r.opt.Retention)
	}
	lim.MaxEntries = max(r.opt.MaxEntries, 0)
	lim.MaxBytes = max(r.opt.MaxBytes, 0)
	if lim == (store.LogLimits{}) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	go func() {
		// Close stops a prune in progress: its chunks are transactions of
		// their own, so stopping between them loses nothing.
		select {
		case <-r.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	n, err := r.st.PruneLog(ctx, "", lim)
	r.pruned.Add(uint64(max(n, 0)))
	if err != nil {
		r.opt.Log.Warn("provisioning log: pruning failed", "err", err)
	} else if n > 0 {
		r.opt.Log.Info("provisioning log: pruned old entries", "entries", n)
	}
}
