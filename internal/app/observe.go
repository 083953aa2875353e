package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/pamscim/pamscim/internal/api"
	"github.com/pamscim/pamscim/internal/metrics"
	"github.com/pamscim/pamscim/internal/provlog"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
)

// Observe is serve's provisioning log and metrics configuration.
type Observe struct {
	// ProvLog is "on" (the default) or "off".
	ProvLog string
	// LogRetention and LogMaxEntries bound the log per tenant (0: the
	// provlog defaults; negative: no limit of that kind).
	LogRetention  time.Duration
	LogMaxEntries int
	LogMaxBytes   int64
	// MetricsListen, when set, serves /metrics on a listener of its own
	// (and not on the main one).
	MetricsListen string
	// Build names the binary in pamscim_build_info.
	Build metrics.Build
	// MetricsReady, if not nil, receives the metrics listener's address.
	MetricsReady func(addr string)
}

func (c *Config) validateObserve() []error {
	var errs []error
	switch strings.ToLower(c.ProvLog) {
	case "", "on", "off":
	default:
		errs = append(errs, fmt.Errorf("--log must be on or off, not %q", c.ProvLog))
	}
	if c.MetricsListen != "" {
		if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
			errs = append(errs, fmt.Errorf("--metrics-listen: %v", err))
		}
	}
	return errs
}

// observed is what wireObserve started; close stops it after the HTTP
// server has drained.
type observed struct {
	met  *metrics.Metrics
	rec  *provlog.Recorder
	msrv *http.Server
	log  *slog.Logger
}

// wireObserve turns on the metrics (always) and the provisioning log
// (unless --log off) for srv.
func (c *Config) wireObserve(srv *api.Server, st store.Store, reg *schema.Registry, log *slog.Logger) (*observed, error) {
	o := &observed{met: metrics.New(c.Build), log: log}
	srv.UseMetrics(o.met)
	if !strings.EqualFold(c.ProvLog, "off") {
		o.rec = provlog.New(st, reg, provlog.Options{Retention: c.LogRetention, MaxEntries: c.LogMaxEntries, MaxBytes: c.LogMaxBytes, Log: log})
		o.met.WatchProvLog(func() (uint64, uint64, uint64) {
			s := o.rec.Stats()
			return s.Recorded, s.Dropped, s.Pruned
		})
		srv.UseProvLog(o.rec)
	}
	if c.MetricsListen == "" {
		// Open like /healthz: counts and latencies, never a tenant's data
		// or a path with an id in it. --metrics-listen moves it off a
		// public listener.
		srv.Handle("GET /metrics", o.met.Handler())
		return o, nil
	}
	ln, err := net.Listen("tcp", c.MetricsListen)
	if err != nil {
		o.close(context.Background())
		return nil, fmt.Errorf("--metrics-listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", o.met.Handler())
	o.msrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("metrics listening", "addr", ln.Addr().String())
	if c.MetricsReady != nil {
		c.MetricsReady(ln.Addr().String())
	}
	go func() {
		if err := o.msrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "err", err)
		}
	}()
	return o, nil
}

// close stops the metrics listener and stores what the provisioning log
// still holds (bounded by ctx).
func (o *observed) close(ctx context.Context) {
	if o.msrv != nil {
		_ = o.msrv.Shutdown(ctx)
	}
	if o.rec != nil {
		if err := o.rec.Close(ctx); err != nil {
			o.log.Warn("provisioning log: entries not stored at shutdown", "err", err)
		}
	}
}
