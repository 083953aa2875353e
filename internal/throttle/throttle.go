// Package throttle keeps per-key token buckets (golang.org/x/time/rate) for
// the two limits pamscim enforces: failed authentications per client, per
// account and per source address, and requests per credential on the SCIM
// API.
//
// The buckets live in the memory of one instance. With several instances
// behind a load balancer each keeps its own, so the effective limit is the
// per-instance limit times the number of instances the traffic reaches;
// whatever must hold across instances (refresh-token reuse, assertion
// replay, revocation) is decided in the database instead.
package throttle

import (
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxKeys bounds the memory one Limiter may use; beyond it, buckets that
// have refilled (idle keys) are dropped first, then the whole map if an
// attacker keeps every bucket busy — which at worst forgets some debts.
const maxKeys = 100_000

// Limiter is a set of token buckets, one per key.
type Limiter struct {
	limit rate.Limit
	burst int

	mu sync.Mutex
	m  map[string]*rate.Limiter
}

// NewLimiter returns buckets that refill at perSecond and hold burst.
func NewLimiter(perSecond float64, burst int) *Limiter {
	if burst < 1 {
		burst = 1
	}
	return &Limiter{limit: rate.Limit(perSecond), burst: burst, m: map[string]*rate.Limiter{}}
}

func (l *Limiter) bucket(key string, now time.Time) *rate.Limiter {
	b, ok := l.m[key]
	if !ok {
		if len(l.m) >= maxKeys {
			l.evict(now)
		}
		b = rate.NewLimiter(l.limit, l.burst)
		l.m[key] = b
	}
	return b
}

func (l *Limiter) evict(now time.Time) {
	for k, b := range l.m {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.m, k)
		}
	}
	if len(l.m) >= maxKeys {
		l.m = map[string]*rate.Limiter{}
	}
}

// Allow takes one token for key. When none is left it returns false and how
// long until one is.
func (l *Limiter) Allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, now)
	if b.AllowN(now, 1) {
		return true, 0
	}
	return false, l.wait(b, now)
}

// Blocked reports, without taking a token, whether key's bucket is empty,
// and if so how long until it is not.
func (l *Limiter) Blocked(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[key]
	if !ok || b.TokensAt(now) >= 1 {
		return false, 0
	}
	return true, l.wait(b, now)
}

// Take takes one token for key if there is one (an empty bucket stays
// empty: debts do not pile up, so refill time stays bounded).
func (l *Limiter) Take(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.bucket(key, now).AllowN(now, 1)
}

func (l *Limiter) wait(b *rate.Limiter, now time.Time) time.Duration {
	missing := 1 - b.TokensAt(now)
	if missing <= 0 || l.limit <= 0 {
		return time.Second
	}
	return time.Duration(math.Ceil(missing / float64(l.limit) * float64(time.Second)))
}

// Len is the number of keys held (tests).
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// RetryAfter formats a wait as whole seconds for a Retry-After header,
// rounding up so that a client that waits that long is let in.
func RetryAfter(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}

// FailurePolicy sets the buckets of failed authentications: each failure
// takes a token; an empty bucket refuses further attempts with 429 until it
// refills. Refill is steady, never an escalating lock-out, so the rightful
// owner of a client waits at most one refill interval after an attack stops.
type FailurePolicy struct {
	PerSourceBurst int           // failures a source address may make in a row (default 20)
	PerSourceEvery time.Duration // one more per this interval (default 3 s)
	PerClientBurst int           // per client id (default 10)
	PerClientEvery time.Duration // (default 6 s)
	PerUserBurst   int           // per service account (password grant; default 5)
	PerUserEvery   time.Duration // (default 12 s)
	// TrustFor is how long a source that authenticated a client successfully
	// stays exempt from that client's bucket (default 24 h): an attacker
	// guessing a client's secret from elsewhere cannot lock the client's
	// own connector out.
	TrustFor time.Duration
}

func (p *FailurePolicy) defaults() {
	def := func(b *int, e *time.Duration, db int, de time.Duration) {
		if *b <= 0 {
			*b = db
		}
		if *e <= 0 {
			*e = de
		}
	}
	def(&p.PerSourceBurst, &p.PerSourceEvery, 20, 3*time.Second)
	def(&p.PerClientBurst, &p.PerClientEvery, 10, 6*time.Second)
	def(&p.PerUserBurst, &p.PerUserEvery, 5, 12*time.Second)
	if p.TrustFor <= 0 {
		p.TrustFor = 24 * time.Hour
	}
}

// Failures tracks failed authentications.
type Failures struct {
	policy             FailurePolicy
	source, client, us *Limiter

	mu      sync.Mutex
	trusted map[[2]string]time.Time
}

// NewFailures returns failure buckets with the policy (zero fields take
// their defaults).
func NewFailures(p FailurePolicy) *Failures {
	p.defaults()
	every := func(d time.Duration) float64 { return 1 / d.Seconds() }
	return &Failures{
		policy:  p,
		source:  NewLimiter(every(p.PerSourceEvery), p.PerSourceBurst),
		client:  NewLimiter(every(p.PerClientEvery), p.PerClientBurst),
		us:      NewLimiter(every(p.PerUserEvery), p.PerUserBurst),
		trusted: map[[2]string]time.Time{},
	}
}

// Check reports whether an attempt from source for client (and account, if
// not empty) must be refused now, and for how long.
func (f *Failures) Check(source, client, account string, now time.Time) (bool, time.Duration) {
	if b, d := f.source.Blocked(source, now); b {
		return true, d
	}
	if client != "" && !f.isTrusted(source, client, now) {
		if b, d := f.client.Blocked(client, now); b {
			return true, d
		}
	}
	if account != "" {
		if b, d := f.us.Blocked(account, now); b {
			return true, d
		}
	}
	return false, 0
}

// Failed records a failed attempt.
func (f *Failures) Failed(source, client, account string, now time.Time) {
	f.source.Take(source, now)
	if client != "" && !f.isTrusted(source, client, now) {
		f.client.Take(client, now)
	}
	if account != "" {
		f.us.Take(account, now)
	}
}

// Succeeded marks source as trusted for client.
func (f *Failures) Succeeded(source, client string, now time.Time) {
	if client == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.trusted) >= maxKeys {
		for k, t := range f.trusted {
			if now.Sub(t) > f.policy.TrustFor {
				delete(f.trusted, k)
			}
		}
		if len(f.trusted) >= maxKeys {
			f.trusted = map[[2]string]time.Time{}
		}
	}
	f.trusted[[2]string{source, client}] = now
}

func (f *Failures) isTrusted(source, client string, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.trusted[[2]string{source, client}]
	return ok && now.Sub(t) <= f.policy.TrustFor
}

// SourceIP returns the address a request came from: the peer address, or,
// when the peer is one of the trusted proxies, the right-most address in
// X-Forwarded-For that is not itself a trusted proxy.
func SourceIP(r *http.Request, trusted []netip.Prefix) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || len(trusted) == 0 || !inAny(peer, trusted) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		if !inAny(a, trusted) {
			return a.String()
		}
	}
	return host
}

func inAny(a netip.Addr, ps []netip.Prefix) bool {
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
