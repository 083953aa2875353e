// Package console is pamscim's web console at /admin/: administrators sign
// in and manage one tenant at a time — its OAuth clients, SCIM tokens,
// provisioning log and audit trail — in server-rendered html/template pages
// that need no JavaScript.
//
// Security, in the order a request meets it:
//   - every response carries a strict Content-Security-Policy (no script at
//     all, frame-ancestors 'none'), X-Frame-Options DENY, nosniff,
//     Referrer-Policy no-referrer and Cache-Control no-store;
//   - http.CrossOriginProtection refuses cross-origin unsafe requests, and
//     every form also carries a per-session synchronizer token (an HMAC of
//     the session id, so the server keeps nothing extra) that is checked in
//     constant time;
//   - a session is a random 256-bit id in an HttpOnly, SameSite=Strict
//     cookie limited to /admin/ (Secure under TLS or an https base URL);
//     only its SHA-256 is stored, with an idle and an absolute expiry;
//   - sign-in attempts are throttled per account and per source address,
//     and an unknown name costs the same argon2id check as a wrong password;
//   - the tenant in every /admin/t/{tenant}/ URL is checked against the
//     administrator's tenant before anything is read, and every object
//     (client, token, log entry) is read scoped to that tenant;
//   - a secret (client secret, SCIM token) is shown on the one page view
//     after it was made, from a flash sealed with a key derived from the
//     session cookie, which the store cannot open and returns only once.
package console

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/pamscim/pamscim/internal/audit"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/oauth"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/throttle"
)

// Prefix is where the console is mounted.
const Prefix = "/admin/"

// CookieName is the session cookie. It cannot use the __Host- prefix,
// which requires Path=/; the cookie is kept to /admin/ instead, so it is
// never sent to the SCIM API.
const CookieName = "pamscim_console"

// Audit events the console adds to those of internal/audit.
const (
	EventSignIn        = "admin.signin"
	EventSignOut       = "admin.signout"
	EventTenantCreated = "tenant.created"
	EventLifetimes     = "client.lifetimes"
)

// Defaults of Config.
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultMaxAge      = 12 * time.Hour
)

// MinIdleTimeout is the shortest idle expiry: a session's activity is
// written at most once a minute, so a shorter one would end sessions in
// use.
const MinIdleTimeout = time.Minute

// SecurityHeaders are set on every console response.
var SecurityHeaders = map[string]string{
	"Content-Security-Policy":      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	"X-Frame-Options":              "DENY",
	"X-Content-Type-Options":       "nosniff",
	"Referrer-Policy":              "no-referrer",
	"Cache-Control":                "no-store",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
}

// Config configures the console.
type Config struct {
	// BaseURL is the SCIM base URL; an https one makes the cookie Secure
	// even when TLS ends at a proxy, and its origin is trusted for the
	// cross-origin check (a proxy may rewrite Host).
	BaseURL string
	// TrustedProxies are the addresses whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// IdleTimeout ends a session after this long without a request
	// (0: DefaultIdleTimeout; at least MinIdleTimeout, at most MaxAge).
	IdleTimeout time.Duration
	// MaxAge ends a session this long after sign-in, whatever its activity
	// (0: DefaultMaxAge).
	MaxAge time.Duration
	// Failures sets the sign-in throttle (per source address and, as
	// "user", per administrator name).
	Failures throttle.FailurePolicy
}

// Console serves /admin/.
type Console struct {
	st       store.Store
	reg      *schema.Registry
	cfg      Config
	oauth    *oauth.Service
	tokens   *auth.Service
	audit    audit.Recorder
	failures *throttle.Failures
	pages    map[string]*template.Template
	log      *slog.Logger
	now      func() time.Time
	handler  http.Handler
}

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// New returns the console over st. log receives internal errors.
func New(st store.Store, reg *schema.Registry, cfg Config, log *slog.Logger) (*Console, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.MaxAge == 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.IdleTimeout < MinIdleTimeout || cfg.MaxAge < cfg.IdleTimeout {
		return nil, fmt.Errorf("console sessions: the idle expiry (%s) must be at least %s and at most the absolute expiry (%s)", cfg.IdleTimeout, MinIdleTimeout, cfg.MaxAge)
	}
	// Events recorded by the oauth and auth services on the console's
	// behalf get the request's source address from the context.
	rec := sourced{audit.New(st, log)}
	c := &Console{
		st: st, reg: reg, cfg: cfg, audit: rec, log: log, now: time.Now,
		oauth:    oauth.New(st, oauth.Config{}, rec, log),
		tokens:   auth.NewService(st),
		failures: throttle.NewFailures(cfg.Failures),
	}
	c.tokens.Audit = rec
	if err := c.parseTemplates(); err != nil {
		return nil, err
	}
	cop := http.NewCrossOriginProtection()
	if u, err := url.Parse(cfg.BaseURL); err == nil && u.Scheme != "" && u.Host != "" {
		if err := cop.AddTrustedOrigin(u.Scheme + "://" + u.Host); err != nil {
			return nil, err
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, http.StatusForbidden, "This request came from another site and was refused.")
	}))
	c.handler = securityHeaders(cop.Handler(c.routes()))
	return c, nil
}

// SetClock replaces the clock (tests).
func (c *Console) SetClock(now func() time.Time) {
	c.now = now
	c.oauth.SetClock(now)
	c.tokens.Now = now
}

// ServeHTTP serves a request under /admin/.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.handler.ServeHTTP(w, r) }

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range SecurityHeaders {
			w.Header().Set(k, v)
		}
		h.ServeHTTP(w, r)
	})
}

func (c *Console) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	// One segment: the files, never a listing of the directory.
	mux.Handle("GET /admin/static/{file}", http.StripPrefix("/admin/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /admin/login", c.loginPage)
	mux.HandleFunc("POST /admin/login", c.login)
	mux.Handle("POST /admin/logout", c.authed(c.logout))
	mux.Handle("GET /admin/{$}", c.authed(c.home))
	mux.Handle("GET /admin/switch", c.authed(c.switchTenant))
	mux.Handle("GET /admin/tenants", c.authed(c.tenantsPage))
	mux.Handle("POST /admin/tenants", c.authed(c.createTenant))
	t := "/admin/t/{tenant}"
	mux.Handle("GET "+t+"/{$}", c.scoped(c.dashboard))
	mux.Handle("GET "+t+"/clients", c.scoped(c.clientsPage))
	mux.Handle("POST "+t+"/clients", c.scoped(c.createClient))
	mux.Handle("POST "+t+"/clients/{id}/rotate", c.scoped(c.rotateClient))
	mux.Handle("POST "+t+"/clients/{id}/lifetimes", c.scoped(c.setLifetimes))
	mux.Handle("POST "+t+"/clients/{id}/delete", c.scoped(c.deleteClient))
	mux.Handle("POST "+t+"/clients/{id}/refresh-token", c.scoped(c.issueRefreshToken))
	mux.Handle("POST "+t+"/clients/{id}/refresh-alone", c.scoped(c.setRefreshAlone))
	mux.Handle("GET "+t+"/tokens", c.scoped(c.tokensPage))
	mux.Handle("POST "+t+"/tokens", c.scoped(c.createToken))
	// The token's name is a form field, not a path segment: a name such as
	// ".." would be resolved away by the browser before it was sent.
	mux.Handle("POST "+t+"/tokens/revoke", c.scoped(c.revokeToken))
	mux.Handle("GET "+t+"/log", c.scoped(c.logPage))
	mux.Handle("GET "+t+"/log/{id}", c.scoped(c.logEntryPage))
	mux.Handle("GET "+t+"/audit", c.scoped(c.auditPage))
	mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		c.fail(w, r, http.StatusNotFound, "There is no such page.")
	})
	return mux
}

// session is a signed-in request's state.
type session struct {
	admin  *store.Admin
	hash   []byte
	secret []byte // the cookie's raw id: the key of CSRF token and flash
	csrf   string
	tenant string // the tenant of a /admin/t/{tenant}/ page
	// hasFlash says a flash waits; show takes it into flash.
	hasFlash bool
	flash    *flash
}

func (s *session) actor() string { return "admin:" + s.admin.Name }

// derive returns a key for purpose from the session's id.
func (s *session) derive(purpose string) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("pamscim console " + purpose))
	return m.Sum(nil)
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, s *session)

func (c *Console) source(r *http.Request) string { return throttle.SourceIP(r, c.cfg.TrustedProxies) }

func (c *Console) secureCookie(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(c.cfg.BaseURL, "https://")
}

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, Secure: c.secureCookie(r), SameSite: http.SameSiteStrictMode})
}

// loadSession returns the request's live session, or nil.
func (c *Console) loadSession(r *http.Request) (*session, error) {
	ck, err := r.Cookie(CookieName)
	if err != nil {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(ck.Value)
	if err != nil || len(raw) != 32 {
		return nil, nil
	}
	ctx := r.Context()
	h := sha256.Sum256(raw)
	ss, err := c.st.AdminSession(ctx, h[:])
	if scimerr.KindOf(err) == scimerr.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := c.now()
	if !now.Before(ss.Expires) || now.Sub(ss.LastSeen) >= c.cfg.IdleTimeout {
		_ = c.st.DeleteAdminSession(ctx, h[:])
		return nil, nil
	}
	a, err := c.st.Admin(ctx, ss.Admin)
	if scimerr.KindOf(err) == scimerr.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// Activity is written at most once a minute, so reading pages does not
	// turn every view into a write.
	if now.Sub(ss.LastSeen) >= time.Minute {
		if err := c.st.TouchAdminSession(ctx, h[:], now); err != nil {
			return nil, err
		}
	}
	s := &session{admin: a, hash: h[:], secret: raw}
	s.csrf = base64.RawURLEncoding.EncodeToString(s.derive("csrf"))
	s.hasFlash = ss.HasFlash && r.Method == http.MethodGet
	return s, nil
}

// authed runs h for a signed-in administrator; an unsafe method must also
// carry the session's form token.
func (c *Console) authed(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := c.loadSession(r)
		if err != nil {
			c.internal(w, r, err)
			return
		}
		if s == nil {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				_, err := r.Cookie(CookieName)
				c.setCookie(w, r, "", -1)
				http.Redirect(w, r, loginURL(r, err == nil), http.StatusSeeOther)
				return
			}
			c.fail(w, r, http.StatusUnauthorized, "Your session has ended. Sign in again.")
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if err := r.ParseForm(); err != nil {
				c.fail(w, r, http.StatusBadRequest, "The form could not be read.")
				return
			}
			got := r.PostForm.Get("csrf")
			if subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) != 1 {
				c.fail(w, r, http.StatusForbidden, "The form's security token is missing or stale. Reload the page and try again.")
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), sourceKey{}, c.source(r))), s)
	})
}

// loginURL is where a page sends a request without a session: the sign-in
// page, told which page to return to (so a link opened after the session
// ended lands where it pointed) and whether a session had just ended (a
// cookie came but is no session any more), so that it can say why.
func loginURL(r *http.Request, ended bool) string {
	v := url.Values{}
	if r.URL.Path != Prefix {
		v.Set("next", r.URL.RequestURI())
	}
	if ended {
		v.Set("ended", "1")
	}
	if len(v) == 0 {
		return Prefix + "login"
	}
	return Prefix + "login?" + v.Encode()
}

// safeNext returns next when it is a console page to go to after sign-in,
// else "": a sign-in link must not become an open redirect (//host,
// https://host, /admin/../elsewhere, a backslash some browsers read as a
// slash).
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.ContainsAny(next, "\\\r\n\t") {
		return ""
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Fragment != "" {
		return ""
	}
	if p := path.Clean(u.Path); !strings.HasPrefix(p+"/", Prefix) || p == Prefix+"login" || p == Prefix+"logout" {
		return ""
	}
	return next
}

// scoped is authed for a /admin/t/{tenant}/ page: the tenant must exist and
// be the administrator's. Another tenant's pages answer 404, as a tenant
// that does not exist does, so tenant names cannot be probed.
func (c *Console) scoped(h handlerFunc) http.Handler {
	return c.authed(func(w http.ResponseWriter, r *http.Request, s *session) {
		tenant := r.PathValue("tenant")
		if !s.admin.AllTenants() && tenant != s.admin.Tenant {
			c.fail(w, r, http.StatusNotFound, "There is no such tenant.")
			return
		}
		ok, err := c.st.TenantExists(r.Context(), tenant)
		if err != nil {
			c.internal(w, r, err)
			return
		}
		if !ok {
			c.fail(w, r, http.StatusNotFound, "There is no such tenant.")
			return
		}
		s.tenant = tenant
		h(w, r, s)
	})
}

// newSessionID returns 32 random bytes.
func newSessionID() []byte {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return b
}

// flash is what one page view after a POST shows: a secret made by it.
type flash struct {
	Kind    string // "client" or "token"
	Title   string
	Label   string // what the secret is ("Client secret", "SCIM token")
	Secret  string
	ID      string // client id
	Tenant  string
	Message string
}

func (s *session) aead() (cipher.AEAD, error) {
	b, err := aes.NewCipher(s.derive("flash"))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// setFlash seals f for the session's next page view.
func (c *Console) setFlash(ctx context.Context, s *session, f *flash) error {
	plain, err := json.Marshal(f)
	if err != nil {
		return err
	}
	g, err := s.aead()
	if err != nil {
		return err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	return c.st.SetAdminFlash(ctx, s.hash, g.Seal(nonce, nonce, plain, s.hash))
}

func (c *Console) takeFlash(ctx context.Context, s *session) *flash {
	sealed, err := c.st.TakeAdminFlash(ctx, s.hash)
	if err != nil || len(sealed) == 0 {
		return nil
	}
	g, err := s.aead()
	if err != nil || len(sealed) < g.NonceSize() {
		return nil
	}
	plain, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], s.hash)
	if err != nil {
		return nil
	}
	var f flash
	if json.Unmarshal(plain, &f) != nil {
		return nil
	}
	return &f
}

type sourceKey struct{}

// sourced fills in an event's source address from the request context.
type sourced struct{ audit.Recorder }

func (s sourced) Record(ctx context.Context, e store.AuditEvent) {
	if src, ok := ctx.Value(sourceKey{}).(string); ok && e.Source == "" {
		e.Source = src
	}
	s.Recorder.Record(ctx, e)
}

// record writes a console action to the audit trail.
func (c *Console) record(r *http.Request, e store.AuditEvent) {
	e.Source = c.source(r)
	c.audit.Record(r.Context(), e)
}

// internal answers 500 and logs the cause (never shown: it may name tables).
func (c *Console) internal(w http.ResponseWriter, r *http.Request, err error) {
	c.log.ErrorContext(r.Context(), "console", "path", r.URL.Path, "err", err)
	c.fail(w, r, http.StatusInternalServerError, "Something went wrong on the server; the error is in its log.")
}

// fail renders an error page: with the console's navigation for a
// signed-in administrator, so that a wrong link is not a dead end.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if s, err := c.loadSession(r); err == nil && s != nil {
		s.hasFlash = false // a waiting secret stays for the page it belongs to
		c.show(w, r, s, status, "error", "", http.StatusText(status), msg, "")
		return
	}
	c.render(w, r, status, "error", &page{Title: http.StatusText(status), Data: msg})
}

// errorText is what the console says about a failed action.
func errorText(err error) string {
	var se *scimerr.Error
	if errors.As(err, &se) {
		return se.Detail
	}
	return err.Error()
}

// tenantPath is the URL of a page of tenant.
func tenantPath(tenant, rest string) string {
	return Prefix + "t/" + url.PathEscape(tenant) + "/" + rest
}

func fmtDuration(d time.Duration) string {
	switch {
	case d <= 0:
		return "-"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// ParseTTL reads a lifetime: a Go duration (15m, 720h) or whole days (30d).
func ParseTTL(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err == nil && days > 0 && days <= 3650 && fmt.Sprint(days) == n {
			return time.Duration(days) * 24 * time.Hour, nil
		}
		return 0, fmt.Errorf("%q is not a number of days", s)
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Minute || d > 3650*24*time.Hour {
		return 0, fmt.Errorf("%q: give a lifetime between 1m and 3650d, such as 15m, 12h or 30d", s)
	}
	return d, nil
}
