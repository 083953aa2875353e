package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/metrics"
	"github.com/pamscim/pamscim/internal/provlog"
	"github.com/pamscim/pamscim/internal/store"
)

// observer is what the outermost middleware feeds: the provisioning log
// and the metrics. Either may be nil.
type observer struct {
	plog *provlog.Recorder
	met  *metrics.Metrics
}

// UseProvLog records every SCIM request in rec (internal/provlog).
func (s *Server) UseProvLog(rec *provlog.Recorder) { s.obs.plog = rec }

// UseMetrics counts requests, store calls and refusals in m. It also wraps
// the server's store so that its calls are timed (metrics.InstrumentStore);
// call it before serving.
func (s *Server) UseMetrics(m *metrics.Metrics) {
	s.obs.met = m
	s.store = m.InstrumentStore(s.store)
}

// limited counts a 429 by reason.
func (s *Server) limited(reason string) { s.obs.met.RateLimited(reason) }

// reqInfo is what the handlers learn about a request that the outermost
// middleware records once the answer is out: the route and the caller. A
// pointer to it rides in the context, so every copy of the request made
// further in (limits, trailing slash, authentication) fills in the same one.
type reqInfo struct {
	mu      sync.Mutex
	pattern string
	tenant  string
	client  string
	// body is the request body as the handler read it (readBody), and
	// bodyErr whether reading it failed. The handler's own bytes: noting
	// them costs no copy, and no reader wrapped around the body (each
	// frame more on that deep call path grew the connection goroutine's
	// stack, copied anew after every GC had shrunk it: 13 µs a request).
	body    []byte
	bodyErr bool
}

const infoKey ctxKey = 2

func infoOf(ctx context.Context) *reqInfo {
	i, _ := ctx.Value(infoKey).(*reqInfo)
	return i
}

// noteCaller records who made the request (authorize, refuseToken).
func noteCaller(ctx context.Context, p *auth.Principal) {
	if i := infoOf(ctx); i != nil && p != nil {
		i.mu.Lock()
		i.tenant, i.client = p.Tenant, p.TokenName
		i.mu.Unlock()
	}
}

// noteRefused records the tenant and name of a token that was refused but
// is known (expired, revoked), so that its tenant's log shows the 401 under
// the name its accepted requests have.
func noteRefused(ctx context.Context, tenant, client string) {
	if i := infoOf(ctx); i != nil && tenant != "" {
		i.mu.Lock()
		i.tenant, i.client = tenant, client
		i.mu.Unlock()
	}
}

// noteBody records the request body a handler read (readBody, Bulk), and
// whether it read all of it. The log takes b as it is: handlers decode
// bodies and never change them in place.
func noteBody(ctx context.Context, b []byte, complete bool) {
	if i := infoOf(ctx); i != nil {
		i.mu.Lock()
		i.body, i.bodyErr = b, !complete
		i.mu.Unlock()
	}
}

// notePattern wraps the mux: ServeMux sets r.Pattern on the request it
// routes, which is a copy the outer middleware never sees.
func notePattern(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		if i := infoOf(r.Context()); i != nil {
			i.mu.Lock()
			i.pattern = r.Pattern
			i.mu.Unlock()
		}
	})
}

// observe is the outermost middleware: it times every request, counts it
// by route, and hands SCIM requests to the provisioning log with their
// bodies. Nothing here waits on the store.
func (s *Server) observe(next http.Handler) http.Handler {
	if s.obs.plog == nil && s.obs.met == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &reqInfo{}
		r = r.WithContext(context.WithValue(r.Context(), infoKey, info))
		plog := s.obs.plog
		if plog != nil && !isSCIM(r.URL.Path) {
			plog = nil
		}
		var rid string
		// max 0: the status only (metrics without the log).
		cw := &captureWriter{ResponseWriter: w}
		if plog != nil {
			rid = requestID(r)
			w.Header().Set("X-Request-Id", rid)
			cw.max = plog.MaxCapture()
		}
		next.ServeHTTP(cw, r)
		d := time.Since(start)

		info.mu.Lock()
		pattern, tenant, client := info.pattern, info.tenant, info.client
		reqBody, reqErr := info.body, info.bodyErr
		info.body = nil // a handler that outlives its request must not change the entry
		info.mu.Unlock()
		status := cw.status
		if status == 0 {
			status = http.StatusOK // a handler that wrote nothing
		}
		s.obs.met.Request(endpointOf(pattern), r.Method, status, d)
		if plog == nil || tenant == "" {
			// No tenant: the token was unknown, and nobody's log may show
			// a request that no tenant can be shown to have made.
			return
		}
		e := &provlog.Raw{Entry: store.LogEntry{
			Tenant: tenant, At: start, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
			Status: status, Duration: d, Client: client, RequestID: rid,
		}}
		e.Entry.ResourceType, e.Entry.ResourceID = s.resourceOf(r.URL.Path, cw.Header().Get("Location"))
		// A body the handler did not read (refused before, or a GET) is
		// logged as none, as it was not part of the exchange.
		e.ReqSize = int64(len(reqBody))
		e.ReqBody = reqBody[:min(len(reqBody), plog.MaxCapture())]
		e.ReqComplete = !reqErr && len(e.ReqBody) == len(reqBody)
		if len(reqBody) > 0 {
			e.ReqType = r.Header.Get("Content-Type")
		}
		e.RespBody, e.RespSize, e.RespComplete = cw.buf, cw.n, cw.n == int64(len(cw.buf))
		e.RespType = cw.Header().Get("Content-Type")
		plog.Record(e)
	})
}

func isSCIM(p string) bool {
	return p == Prefix || strings.HasPrefix(p, Prefix+"/")
}

// endpointOf drops the method from a route pattern ("POST /scim/v2/Users"
// → "/scim/v2/Users"); the method is a label of its own.
func endpointOf(pattern string) string {
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		return pattern[i+1:]
	}
	return pattern
}

// resourceOf reads the resource type and id from a SCIM path, or from the
// Location of a created resource.
func (s *Server) resourceOf(path, location string) (rtype, id string) {
	rest := strings.TrimPrefix(path, Prefix)
	if location != "" {
		if i := strings.Index(location, Prefix+"/"); i >= 0 {
			rest = location[i+len(Prefix):]
		}
	}
	rest = strings.TrimPrefix(rest, "/")
	ep, id, _ := strings.Cut(rest, "/")
	if ep == "" {
		return "", ""
	}
	rt := s.reg.ByEndpoint("/" + ep)
	if rt == nil {
		return "", ""
	}
	if strings.HasPrefix(id, ".") || strings.Contains(id, "/") {
		id = "" // .search
	}
	return rt.Name, id
}

var (
	ridPrefix = func() string {
		var b [4]byte
		_, _ = rand.Read(b[:])
		return hex.EncodeToString(b[:])
	}()
	ridCounter atomic.Uint64
)

// requestID is the client's X-Request-Id when it is sane, else a new one:
// a per-process prefix and a counter, cheaper than a random id per request.
func requestID(r *http.Request) string {
	if v := r.Header.Get("X-Request-Id"); v != "" && len(v) <= 128 && printable(v) {
		return v
	}
	return ridPrefix + "-" + strconv.FormatUint(ridCounter.Add(1), 10)
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// captureWriter keeps the status and the first max bytes of the answer.
type captureWriter struct {
	http.ResponseWriter
	status int
	max    int
	buf    []byte
	n      int64
}

func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if room := c.max - len(c.buf); room > 0 {
		if c.buf == nil {
			// Handlers set Content-Length: allocate once, at its size.
			if n, err := strconv.Atoi(c.Header().Get("Content-Length")); err == nil && n > len(b) {
				c.buf = make([]byte, 0, min(n, c.max))
			}
		}
		c.buf = append(c.buf, b[:min(room, len(b))]...)
	}
	c.n += int64(len(b))
	return c.ResponseWriter.Write(b)
}

func (c *captureWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
