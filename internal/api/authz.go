package api

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/pamscim/pamscim/internal/audit"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/metrics"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/throttle"
)

// security is what internal/app wires in beyond the token check: the audit
// trail, failed-authentication buckets and the per-credential request rate.
// Each part is optional; a zero value checks tokens and scopes only.
type security struct {
	audit    audit.Recorder
	failures *throttle.Failures
	rate     *throttle.Limiter
	trusted  []netip.Prefix
}

// UseAudit records SCIM writes and refused bearer tokens in rec.
func (s *Server) UseAudit(rec audit.Recorder) { s.sec.audit = rec }

// UseFailures counts refused bearer tokens per source address in f (the
// token endpoint's buckets, so a source guessing at either is slowed down at
// both) and refuses a source whose bucket is empty with 429.
func (s *Server) UseFailures(f *throttle.Failures) { s.sec.failures = f }

// UseRateLimit caps the requests of each credential (a named token, or an
// OAuth client over all its access tokens) at perSecond with a burst;
// beyond it requests get 429 with Retry-After. perSecond <= 0 turns it off.
func (s *Server) UseRateLimit(perSecond float64, burst int) {
	if perSecond <= 0 {
		s.sec.rate = nil
		return
	}
	s.sec.rate = throttle.NewLimiter(perSecond, burst)
}

// UseTrustedProxies names the proxies whose X-Forwarded-For gives the
// source address for throttling and the audit trail.
func (s *Server) UseTrustedProxies(p []netip.Prefix) { s.sec.trusted = p }

// Handle mounts another handler (the OAuth endpoints) behind the server's
// logging, limits and panic recovery.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// authorize authenticates the request's bearer token, applies the failure
// and rate limits and checks scope. On refusal it writes the error and
// returns nil.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, scope string) *http.Request {
	now := time.Now()
	src := throttle.SourceIP(r, s.sec.trusted)
	if f := s.sec.failures; f != nil {
		if blocked, wait := f.Check(src, "", "", now); blocked {
			s.limited(metrics.ReasonAuthFailures)
			w.Header().Set("Retry-After", throttle.RetryAfter(wait))
			s.writeError(w, r, scimerr.New(scimerr.TooManyRequests, "too many requests with invalid tokens from this address"))
			return nil
		}
	}
	p, err := s.auth.Authenticate(r.Context(), r.Header.Get("Authorization"))
	if err != nil {
		if scimerr.KindOf(err) == scimerr.Unauthorized {
			s.refuseToken(w, r, src, now, err)
		}
		s.writeError(w, r, err)
		return nil
	}
	if rec, ok := w.(*statusRecorder); ok {
		rec.tenant, rec.token = p.Tenant, p.TokenName
	}
	noteCaller(r.Context(), p)
	if s.sec.rate != nil {
		if ok, wait := s.sec.rate.Allow(p.RateKey(), now); !ok {
			s.limited(metrics.ReasonCredentialRate)
			w.Header().Set("Retry-After", throttle.RetryAfter(wait))
			s.writeError(w, r, scimerr.New(scimerr.TooManyRequests, "this token's request rate is exceeded"))
			return nil
		}
	}
	if !p.Can(scope) {
		// RFC 6750 §3.1: the scope the request needs.
		w.Header().Set("WWW-Authenticate", `Bearer realm="pamscim", error="insufficient_scope", scope="`+scope+`"`)
		s.writeError(w, r, scimerr.New(scimerr.Forbidden, "the token lacks the %s scope", scope))
		return nil
	}
	return r.WithContext(context.WithValue(r.Context(), principalKey, p))
}

// refuseToken counts, audits and describes (WWW-Authenticate) a refused
// bearer token.
func (s *Server) refuseToken(w http.ResponseWriter, r *http.Request, src string, now time.Time, err error) {
	if errors.Is(err, auth.ErrNoToken) {
		// RFC 6750 §3.1: no error code when no credentials were sent.
		w.Header().Set("WWW-Authenticate", `Bearer realm="pamscim"`)
		return
	}
	if f := s.sec.failures; f != nil {
		f.Failed(src, "", "", now)
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="pamscim", error="invalid_token"`)
	if s.sec.audit == nil {
		return
	}
	ev := store.AuditEvent{Event: audit.TokenRefused, Outcome: audit.Failure, Source: src, Detail: r.Method + " " + r.URL.Path}
	var rf *auth.Refusal
	if errors.As(err, &rf) {
		ev.Tenant, ev.Actor = rf.Tenant, rf.Actor
		noteRefused(r.Context(), rf.Tenant, rf.Client)
		ev.Detail = rf.Reason + ": " + ev.Detail
	}
	if ev.Actor == "" {
		ev.Actor = "unknown token"
	}
	s.sec.audit.Record(r.Context(), ev)
}

// auditing prepares the audit event of a SCIM write; op is create,
// replace, patch or delete. The write is to be made with the returned
// request's context, which carries the event to the store: the store
// writes it in the write's own transaction, so that one COMMIT holds both
// (a second COMMIT per write was a fifth of a create). done is called
// after the write succeeded: it records the event itself if the store did
// not (a recorder that cannot, a store that cannot), and a failure to
// record is then logged by the recorder, not returned to the client.
func (s *Server) auditing(r *http.Request, rt *schema.ResourceType, op, id string) (*http.Request, func()) {
	if s.sec.audit == nil {
		return r, func() {}
	}
	p := principalOf(r.Context())
	if p == nil {
		return r, func() {}
	}
	e := store.AuditEvent{Tenant: p.Tenant, Actor: p.Actor(), Event: "scim." + strings.ToLower(op),
		Type: rt.Name, Object: id, Source: throttle.SourceIP(r, s.sec.trusted)}
	t, ok := s.sec.audit.(audit.TxRecorder)
	if !ok {
		return r, func() { s.sec.audit.Record(r.Context(), e) }
	}
	pa := t.Pending(e)
	if pa == nil {
		return r, func() { s.sec.audit.Record(r.Context(), e) }
	}
	return r.WithContext(store.WithPendingAudit(r.Context(), pa)), func() {
		if !pa.Recorded {
			s.sec.audit.Record(r.Context(), pa.Event)
		}
	}
}
