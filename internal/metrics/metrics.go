// Package metrics is pamscim's Prometheus instrumentation: one registry per
// server (no global state, so tests and several servers in one process do
// not share counters), the Go and process collectors, and the few series an
// operator watches: requests by endpoint, method and status with their
// latency, store call latency, token issuance and refusals, rate-limit
// refusals, group membership changes, provisioning log drops and the build.
//
// Endpoint labels are ServeMux patterns (r.Pattern), never raw paths, so
// their number is bounded by the routes.
package metrics

import (
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Build names the running binary (cmd/pamscim's version variables).
type Build struct {
	Version, Commit, Date string
}

// Metrics holds the collectors of one server.
type Metrics struct {
	reg *prometheus.Registry

	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	storeLat  *prometheus.HistogramVec
	storeErrs *prometheus.CounterVec
	tokens    *prometheus.CounterVec
	limited   *prometheus.CounterVec
	members   *prometheus.CounterVec
}

// latencyBuckets span a cached read (a few hundred microseconds) to a
// request at the default 30 s timeout.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// New returns the metrics of one server, registered in a registry of its own.
func New(b Build) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pamscim_http_requests_total",
		Help: "HTTP requests answered, by route pattern, method and status code.",
	}, []string{"endpoint", "method", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "pamscim_http_request_duration_seconds",
		Help:    "Time from the end of a request's headers to the end of its response, by route pattern and method.",
		Buckets: latencyBuckets,
	}, []string{"endpoint", "method"})
	m.storeLat = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "pamscim_store_operation_duration_seconds",
		Help:    "Latency of the SCIM API's store calls (create, get, update, delete, list), by operation.",
		Buckets: latencyBuckets,
	}, []string{"op"})
	m.storeErrs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pamscim_store_errors_total",
		Help: "Store calls that failed with an internal error (not a not-found or a conflict), by operation.",
	}, []string{"op"})
	m.tokens = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pamscim_token_events_total",
		Help: "Token events of the audit trail: issued, refused, refreshed, reused, revoked; by event and outcome.",
	}, []string{"event", "outcome"})
	m.limited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pamscim_rate_limited_total",
		Help: "Requests refused with 429, by reason: in_flight (the server's concurrency cap), credential_rate (a token's or client's request rate), auth_failures (a source's failed authentications).",
	}, []string{"reason"})
	m.members = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pamscim_group_member_changes_total",
		Help: "Members added to or removed from groups (and containers) by committed SCIM writes, by operation.",
	}, []string{"op"})
	for _, r := range []string{ReasonInFlight, ReasonCredentialRate, ReasonAuthFailures} {
		m.limited.WithLabelValues(r) // present at 0, so rate() works from the first refusal
	}
	for _, op := range []string{"added", "removed"} {
		m.members.WithLabelValues(op)
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pamscim_build_info",
		Help: "The running pamscim: version, commit and the Go toolchain; always 1.",
	}, []string{"version", "commit", "goversion"})
	build.WithLabelValues(b.Version, b.Commit, runtime.Version()).Set(1)
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.latency, m.storeLat, m.storeErrs, m.tokens, m.limited, m.members, build,
	)
	return m
}

// Registry is the metrics' registry (tests, extra collectors).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Request records one answered request. endpoint is the route pattern
// without its method ("" when no route matched, e.g. a request refused
// before routing).
func (m *Metrics) Request(endpoint, method string, code int, d time.Duration) {
	if m == nil {
		return
	}
	if endpoint == "" {
		endpoint = "unmatched"
	}
	method = knownMethod(method)
	m.requests.WithLabelValues(endpoint, method, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(endpoint, method).Observe(d.Seconds())
}

// storeCall records one store call.
func (m *Metrics) storeCall(op string, d time.Duration, internal bool) {
	m.storeLat.WithLabelValues(op).Observe(d.Seconds())
	if internal {
		m.storeErrs.WithLabelValues(op).Inc()
	}
}

// Token records a token event (an audit event named token.*).
func (m *Metrics) Token(event, outcome string) {
	if m == nil {
		return
	}
	m.tokens.WithLabelValues(event, outcome).Inc()
}

// Reasons of RateLimited.
const (
	ReasonInFlight       = "in_flight"
	ReasonCredentialRate = "credential_rate"
	ReasonAuthFailures   = "auth_failures"
)

// RateLimited records a 429.
func (m *Metrics) RateLimited(reason string) {
	if m == nil {
		return
	}
	m.limited.WithLabelValues(reason).Inc()
}

// Members records committed membership changes.
func (m *Metrics) Members(added, removed int) {
	if m == nil {
		return
	}
	if added > 0 {
		m.members.WithLabelValues("added").Add(float64(added))
	}
	if removed > 0 {
		m.members.WithLabelValues("removed").Add(float64(removed))
	}
}

// ProvLogStats are the provisioning log's counters (provlog.Stats).
type ProvLogStats func() (recorded, dropped, pruned uint64)

// WatchProvLog exports the provisioning log's counters, read at scrape time.
func (m *Metrics) WatchProvLog(stats ProvLogStats) {
	counter := func(name, help string, pick func(r, d, p uint64) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 {
			r, d, p := stats()
			return float64(pick(r, d, p))
		})
	}
	m.reg.MustRegister(
		counter("pamscim_provlog_entries_total", "Provisioning log entries stored.", func(r, _, _ uint64) uint64 { return r }),
		counter("pamscim_provlog_dropped_total", "Provisioning log entries dropped because the buffer was full or the store refused a batch (requests are never slowed or failed for the log).", func(_, d, _ uint64) uint64 { return d }),
		counter("pamscim_provlog_pruned_total", "Provisioning log entries removed by retention.", func(_, _, p uint64) uint64 { return p }),
	)
}

// knownMethod bounds the method label: anything unusual is OTHER.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}
