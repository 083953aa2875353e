// Package api is pamscim's HTTP layer: routing, middleware (authentication,
// limits, logging, panic recovery), the SCIM handlers and the one place where
// typed errors become SCIM error responses.
package api

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

const contentType = "application/scim+json"

// Prefix is where the SCIM API is mounted.
const Prefix = "/scim/v2"

// Config configures a Server.
type Config struct {
	// BaseURL is the absolute SCIM base URL used in meta.location and
	// Location (e.g. https://scim.example.com/scim/v2). Empty: derived from
	// each request.
	BaseURL string
	// MaxBodyBytes caps request bodies (default 10 MiB).
	MaxBodyBytes int64
	// DefaultCount and MaxCount are the page sizes of list requests.
	DefaultCount int
	MaxCount     int
	// BulkMaxOperations and BulkMaxPayload are the Bulk limits advertised
	// in ServiceProviderConfig and enforced with 413 (defaults 1,000 and
	// the body limit).
	BulkMaxOperations int
	BulkMaxPayload    int64
	// UnknownMembers says what a write does with member ids that do not
	// exist: UnknownMembersIgnore (default) or UnknownMembersReject.
	UnknownMembers string
	// Limits bound concurrency and request time (limits.go).
	Limits Limits
	// QueryTimeout is the store's budget for one list or search; past it
	// the client gets 400 tooMany (query.go). Default DefaultQueryTimeout.
	QueryTimeout time.Duration
	// IndexPagingLimit, when positive, refuses index paging past that many
	// results with 400 tooMany; cursor paging is never limited.
	IndexPagingLimit int
}

// Server serves the SCIM API.
type Server struct {
	reg     *schema.Registry
	store   store.Store
	auth    *auth.Service
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	mux     *http.ServeMux
	cursors *cursors
	walks   *walks   // index paging's continuations (indexpage.go)
	sec     security // authz.go
	obs     observer // provisioning log and metrics (logrecord.go)
	// epoch is the store's write count, taken from the store given to New:
	// UseMetrics wraps the store in a type that does not have it.
	epoch store.WriteEpoch
}

// New returns a server.
func New(reg *schema.Registry, st store.Store, au *auth.Service, cfg Config, log *slog.Logger) *Server {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 10 << 20
	}
	if cfg.DefaultCount <= 0 {
		cfg.DefaultCount = 100
	}
	if cfg.MaxCount <= 0 {
		cfg.MaxCount = 1000
	}
	if cfg.UnknownMembers == "" {
		cfg.UnknownMembers = UnknownMembersIgnore
	}
	if cfg.BulkMaxOperations <= 0 {
		cfg.BulkMaxOperations = 1000
	}
	if cfg.BulkMaxPayload <= 0 || cfg.BulkMaxPayload > cfg.MaxBodyBytes {
		cfg.BulkMaxPayload = cfg.MaxBodyBytes
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	cfg.Limits.defaults()
	if cfg.QueryTimeout <= 0 {
		cfg.QueryTimeout = DefaultQueryTimeout
	}
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{reg: reg, store: st, auth: au, cfg: cfg, log: log, now: time.Now, mux: http.NewServeMux()}
	s.cursors = &cursors{st: st}
	s.walks = newWalks()
	s.epoch, _ = st.(store.WriteEpoch)
	s.routes()
	return s
}

// SetClock replaces the server's clock (tests).
func (s *Server) SetClock(now func() time.Time) { s.now = now }

// Handler returns the server's HTTP handler with its middleware.
func (s *Server) Handler() http.Handler {
	return s.observe(s.limitRequests(s.logRequests(s.recoverPanics(trimSlash(notePattern(s.mux))))))
}

// trimSlash serves "/scim/v2/Users/" as "/scim/v2/Users": Microsoft's SCIM
// test collection (and some Entra configurations) add a trailing slash.
func trimSlash(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; len(p) > len(Prefix)+1 && strings.HasSuffix(p, "/") && strings.HasPrefix(p, Prefix+"/") {
			r2 := *r
			u := *r.URL
			u.Path = strings.TrimRight(p, "/")
			u.RawPath = ""
			r2.URL = &u
			r = &r2
		}
		next.ServeHTTP(w, r)
	})
}

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// routes lists every route in one place. The method-less patterns are
// fallbacks: ServeMux prefers the more specific method patterns, so these
// only answer wrong methods, with a SCIM 405.
func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "ok\n")
	})
	m.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := s.store.Ping(ctx); err != nil {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})

	disc := func(pattern string, h handlerFunc) {
		m.Handle("GET "+Prefix+pattern, s.wrap(h, ""))
		m.Handle(Prefix+pattern, s.methodNotAllowed("GET, HEAD"))
	}
	disc("/ServiceProviderConfig", s.handleSPConfig)
	disc("/ResourceTypes", s.handleResourceTypes)
	disc("/ResourceTypes/{id}", s.handleResourceType)
	disc("/Schemas", s.handleSchemas)
	disc("/Schemas/{id}", s.handleSchema)

	for _, rt := range s.reg.ResourceTypes() {
		base := Prefix + rt.Endpoint
		m.Handle("GET "+base, s.wrap(s.typed(rt, s.handleList), auth.ScopeRead))
		m.Handle("POST "+base, s.wrap(s.typed(rt, s.handleCreate), auth.ScopeWrite))
		m.Handle("POST "+base+"/.search", s.wrap(s.typed(rt, s.handleSearch), auth.ScopeRead))
		m.Handle("GET "+base+"/{id}", s.wrap(s.typed(rt, s.handleGet), auth.ScopeRead))
		m.Handle("PUT "+base+"/{id}", s.wrap(s.typed(rt, s.handleReplace), auth.ScopeWrite))
		m.Handle("PATCH "+base+"/{id}", s.wrap(s.typed(rt, s.handlePatch), auth.ScopeWrite))
		m.Handle("DELETE "+base+"/{id}", s.wrap(s.typed(rt, s.handleDelete), auth.ScopeWrite))
		m.Handle(base, s.methodNotAllowed("GET, HEAD, POST"))
		m.Handle(base+"/{id}", s.methodNotAllowed("GET, HEAD, PUT, PATCH, DELETE"))
	}
	m.Handle("POST "+Prefix+"/.search", s.wrap(s.handleRootSearch, auth.ScopeRead))
	m.Handle("GET "+Prefix, s.wrap(s.handleRootList, auth.ScopeRead))
	m.Handle("GET "+Prefix+"/{$}", s.wrap(s.handleRootList, auth.ScopeRead))
	m.Handle("POST "+Prefix+"/Bulk", s.wrap(s.handleBulk, auth.ScopeWrite))
	m.Handle(Prefix+"/Bulk", s.methodNotAllowed("POST"))
	// /Me needs a User bound to the caller; tokens here belong to platforms,
	// not people, so RFC 7644 §3.11's answer for "not supported" applies.
	m.Handle(Prefix+"/Me", s.wrap(func(w http.ResponseWriter, r *http.Request) error {
		return scimerr.New(scimerr.NotImplemented, "/Me is not supported: tokens authenticate identity platforms, not users")
	}, auth.ScopeRead))
	m.Handle("/", s.wrap(func(w http.ResponseWriter, r *http.Request) error {
		return scimerr.New(scimerr.NotFound, "no endpoint at %s", r.URL.Path)
	}, ""))
}

func (s *Server) methodNotAllowed(allow string) http.Handler {
	return s.wrap(func(w http.ResponseWriter, r *http.Request) error {
		w.Header().Set("Allow", allow)
		return scimerr.New(scimerr.MethodNotAllowed, "method %s is not allowed on %s", r.Method, r.URL.Path)
	}, "")
}

type rtHandler func(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType) error

func (s *Server) typed(rt *schema.ResourceType, h rtHandler) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error { return h(w, r, rt) }
}

type ctxKey int

const principalKey ctxKey = 1

func principalOf(ctx context.Context) *auth.Principal {
	p, _ := ctx.Value(principalKey).(*auth.Principal)
	return p
}

// wrap authenticates (when scope is set), caps the body and writes errors.
func (s *Server) wrap(h handlerFunc, scope string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := innerPrincipal(r.Context()); p != nil && scope != "" {
			// An operation of a Bulk request: authenticated with the Bulk.
			if !p.Can(scope) {
				s.writeError(w, r, scimerr.New(scimerr.Forbidden, "the token lacks the %s scope", scope))
				return
			}
			r = r.WithContext(context.WithValue(r.Context(), principalKey, p))
		} else if scope != "" {
			if r = s.authorize(w, r, scope); r == nil {
				return
			}
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes)
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// readBody reads the whole request body within the size limit.
func (s *Server) readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	noteBody(r.Context(), b, err == nil)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, scimerr.New(scimerr.PayloadTooLarge, "request body exceeds the limit of %d bytes", s.cfg.MaxBodyBytes)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, scimerr.New(scimerr.RequestTimeout, "the request body did not arrive within %s", s.cfg.Limits.RequestTimeout)
		}
		return nil, scimerr.Wrap(scimerr.InvalidSyntax, err, "could not read the request body")
	}
	return b, nil
}

// baseURL is the absolute SCIM base for locations.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.BaseURL != "" {
		return s.cfg.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + Prefix
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
	tenant string
	token  string
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// logRequests writes one line per request: never a token or a body.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		s.log.LogAttrs(r.Context(), level, "request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(start)),
			slog.Int("bytes", rec.bytes),
			slog.String("tenant", rec.tenant),
			slog.String("token", rec.token),
		)
	})
}

// recoverPanics turns a panic into a SCIM 500 so that no input can take the
// server down; the stack goes to the log.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				s.writeError(w, r, scimerr.New(scimerr.Internal, "panic"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// writeJSON writes a SCIM JSON body.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
