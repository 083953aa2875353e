package console

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/oauth"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// page is what every template gets.
type page struct {
	Title  string
	Nav    string // the active navigation item
	Admin  *store.Admin
	CSRF   string
	Tenant string
	// NavTenant is the tenant the navigation links to: the page's, or on
	// pages outside a tenant the administrator's own (default for all).
	NavTenant string
	Tenants   []string // the tenant switcher of an all-tenants administrator
	Flash     *flash
	Error     string
	Data      any
}

var pageNames = []string{"login", "error", "tenants", "dashboard", "clients", "tokens", "log", "logentry", "audit"}

func (c *Console) parseTemplates() error {
	funcs := template.FuncMap{
		"when": func(t any) string {
			switch v := t.(type) {
			case time.Time:
				if v.IsZero() {
					return "-"
				}
				return v.UTC().Format("2006-01-02 15:04:05")
			case *time.Time:
				if v == nil {
					return "-"
				}
				return v.UTC().Format("2006-01-02 15:04:05")
			}
			return ""
		},
		"dur": fmtDuration,
		// unq shows a logged query string as it was meant
		// (filter=userName eq "x"), not percent-encoded.
		"unq": func(q string) string {
			if u, err := url.QueryUnescape(q); err == nil {
				return u
			}
			return q
		},
		"tp":   tenantPath,
		"join": strings.Join,
		"ms": func(d time.Duration) string {
			return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
		},
		"statusClass": func(code int) string {
			switch {
			case code >= 500:
				return "st st-5xx"
			case code >= 400:
				return "st st-4xx"
			}
			return "st st-ok"
		},
	}
	c.pages = map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("console template %s: %w", name, err)
		}
		c.pages[name] = t
	}
	return nil
}

// render executes a page into a buffer first, so that a template error is a
// clean 500 rather than half a page.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	var buf bytes.Buffer
	if err := c.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		c.log.ErrorContext(r.Context(), "console template", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// show renders a signed-in page.
func (c *Console) show(w http.ResponseWriter, r *http.Request, s *session, status int, name, nav, title string, data any, errMsg string) {
	if s.hasFlash {
		// Taken here, on a page that shows it, never on a redirect.
		s.flash = c.takeFlash(r.Context(), s)
	}
	p := &page{Title: title, Nav: nav, Admin: s.admin, CSRF: s.csrf, Tenant: s.tenant, NavTenant: s.tenant, Flash: s.flash, Error: errMsg, Data: data}
	if p.NavTenant == "" {
		p.NavTenant = homeTenant(s.admin)
	}
	if s.admin.AllTenants() {
		if ts, err := c.st.ListTenants(r.Context()); err == nil {
			for _, t := range ts {
				p.Tenants = append(p.Tenants, t.Name)
			}
		}
	}
	c.render(w, r, status, name, p)
}

// done ends a successful action: a flash for the next view and a 303 to
// the page (POST/redirect/GET, so a reload never repeats the action).
func (c *Console) done(w http.ResponseWriter, r *http.Request, s *session, to string, f *flash) {
	if f != nil {
		if err := c.setFlash(r.Context(), s, f); err != nil {
			c.internal(w, r, err)
			return
		}
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// ---- sign-in ----

// loginData is the sign-in form: the name typed, the page to go to after
// it, and why it is asked (a session that ended).
type loginData struct {
	Name, Next string
	Ended      string
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if s, err := c.loadSession(r); err == nil && s != nil {
		http.Redirect(w, r, cmp.Or(next, Prefix), http.StatusSeeOther)
		return
	}
	d := loginData{Next: next}
	if r.URL.Query().Get("ended") != "" {
		d.Ended = "Your session has ended: sessions end after " + inWords(c.cfg.IdleTimeout) + " without activity, " +
			inWords(c.cfg.MaxAge) + " after sign-in, or at sign-out. Sign in again to go on."
	}
	c.render(w, r, http.StatusOK, "login", &page{Title: "Sign in", Data: d})
}

// inWords says a session lifetime as a person would: "30 minutes", "12 hours".
func inWords(d time.Duration) string {
	n, unit := int64(d/time.Minute), "minute"
	if d%time.Hour == 0 {
		n, unit = int64(d/time.Hour), "hour"
	}
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		c.render(w, r, http.StatusBadRequest, "login", &page{Title: "Sign in", Data: loginData{}, Error: "The form could not be read."})
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("name"))
	password := r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"))
	src := c.source(r)
	now := c.now()
	// The account key is the name as typed, known or not, so that the
	// throttle behaves the same for both and reveals nothing.
	acct := "admin\x00" + name
	if blocked, wait := c.failures.Check(src, "", acct, now); blocked {
		w.Header().Set("Retry-After", strconvSeconds(wait))
		c.record(r, store.AuditEvent{Actor: "admin:" + name, Event: EventSignIn, Outcome: "failure", Detail: "throttled"})
		c.render(w, r, http.StatusTooManyRequests, "login", &page{Title: "Sign in", Data: loginData{Name: name, Next: next},
			Error: "Too many failed attempts. Wait " + strconvSeconds(wait) + " seconds and try again."})
		return
	}
	var hash string
	a, err := c.st.Admin(r.Context(), name)
	switch {
	case err == nil:
		hash = a.PasswordHash
	case scimerr.KindOf(err) != scimerr.NotFound:
		c.internal(w, r, err)
		return
	}
	// CheckPassword spends the same argon2id work on an unknown name.
	if !auth.CheckPassword(hash, password) || name == "" || len(name) > 200 {
		c.failures.Failed(src, "", acct, now)
		tenant := ""
		if a != nil {
			tenant = a.Tenant
		}
		c.record(r, store.AuditEvent{Tenant: tenant, Actor: "admin:" + name, Event: EventSignIn, Outcome: "failure", Detail: "wrong name or password"})
		c.render(w, r, http.StatusUnauthorized, "login", &page{Title: "Sign in", Data: loginData{Name: name, Next: next}, Error: "Wrong name or password."})
		return
	}
	raw := newSessionID()
	h := hashID(raw)
	ctx := r.Context()
	// Old sessions of everyone go when someone signs in: cheap, and keeps
	// the table small without a sweeper.
	_, _ = c.st.PurgeAdminSessions(ctx, now, now.Add(-c.cfg.IdleTimeout))
	if err := c.st.CreateAdminSession(ctx, &store.AdminSession{Hash: h, Admin: a.Name, Created: now, LastSeen: now, Expires: now.Add(c.cfg.MaxAge), Source: src}); err != nil {
		c.internal(w, r, err)
		return
	}
	_ = c.st.AdminSignedIn(ctx, a.Name, now)
	c.record(r, store.AuditEvent{Tenant: homeTenant(a), Actor: "admin:" + a.Name, Event: EventSignIn, Detail: "console session"})
	c.setCookie(w, r, base64.RawURLEncoding.EncodeToString(raw), 0)
	http.Redirect(w, r, cmp.Or(next, Prefix), http.StatusSeeOther)
}

func strconvSeconds(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	return strconv.FormatInt(max(s, 1), 10)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, s *session) {
	if err := c.st.DeleteAdminSession(r.Context(), s.hash); err != nil {
		c.internal(w, r, err)
		return
	}
	c.record(r, store.AuditEvent{Tenant: homeTenant(s.admin), Actor: s.actor(), Event: EventSignOut})
	c.setCookie(w, r, "", -1)
	http.Redirect(w, r, Prefix+"login", http.StatusSeeOther)
}

// ---- tenants ----

// homeTenant is where an administrator lands after signing in: their
// tenant, or the default tenant for an administrator of all tenants. Their
// sign-ins and sign-outs are audited in it, so that its audit trail shows
// who used the console.
func homeTenant(a *store.Admin) string {
	if a.Tenant == "" {
		return store.DefaultTenant
	}
	return a.Tenant
}

func (c *Console) home(w http.ResponseWriter, r *http.Request, s *session) {
	http.Redirect(w, r, tenantPath(homeTenant(s.admin), ""), http.StatusSeeOther)
}

// switchTenant opens another tenant on the page of the same section (its
// clients for its clients, and so on): switching is to compare or to do the
// same thing elsewhere. Object pages (a log entry) open the section's list,
// since the object is the other tenant's.
func (c *Console) switchTenant(w http.ResponseWriter, r *http.Request, s *session) {
	t := r.URL.Query().Get("tenant")
	if t == "" {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	to := r.URL.Query().Get("to")
	if !slices.Contains(sections, to) {
		to = ""
	}
	http.Redirect(w, r, tenantPath(t, to), http.StatusSeeOther)
}

// sections are the pages of a tenant the switcher keeps ("" is the
// dashboard).
var sections = []string{"clients", "tokens", "log", "audit"}

var tenantName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

func (c *Console) tenantsPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.showTenants(w, r, s, http.StatusOK, "")
}

func (c *Console) showTenants(w http.ResponseWriter, r *http.Request, s *session, status int, errMsg string) {
	ts, err := c.st.ListTenants(r.Context())
	if err != nil {
		c.internal(w, r, err)
		return
	}
	var mine []store.Tenant
	for _, t := range ts {
		if s.admin.AllTenants() || t.Name == s.admin.Tenant {
			mine = append(mine, t)
		}
	}
	c.show(w, r, s, status, "tenants", "tenants", "Tenants", mine, errMsg)
}

func (c *Console) createTenant(w http.ResponseWriter, r *http.Request, s *session) {
	if !s.admin.AllTenants() {
		c.fail(w, r, http.StatusForbidden, "Only an administrator of all tenants may create tenants.")
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("name"))
	if !tenantName.MatchString(name) {
		c.showTenants(w, r, s, http.StatusBadRequest, "A tenant name is 1 to 63 lower-case letters, digits, dots, dashes or underscores, starting with a letter or digit.")
		return
	}
	if err := c.st.CreateTenant(r.Context(), name, c.now().UTC()); err != nil {
		if scimerr.KindOf(err) == scimerr.Uniqueness {
			c.showTenants(w, r, s, http.StatusConflict, errorText(err))
			return
		}
		c.internal(w, r, err)
		return
	}
	c.record(r, store.AuditEvent{Tenant: name, Actor: s.actor(), Event: EventTenantCreated, Object: "tenant:" + name})
	c.done(w, r, s, Prefix+"tenants", &flash{Message: "Tenant " + name + " created."})
}

// ---- dashboard ----

type count struct {
	Name  string // the endpoint, e.g. ContainerPermissions
	Label string // its words, e.g. "Container Permissions", which wrap in a narrow box
	Count int
}

// words splits a CamelCase endpoint name into its words.
func words(name string) string {
	var b strings.Builder
	for i, r := range name {
		if i > 0 && unicode.IsUpper(r) && !unicode.IsUpper(rune(name[i-1])) {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

type dashboardData struct {
	Counts       []count
	Clients      int
	ActiveTokens int
	Errors       []errorRow
}

// errorRow is a failed request on the dashboard with why it failed, so
// that the reason is read at a glance rather than by opening each entry.
type errorRow struct {
	store.LogEntry
	Why string
}

// scimReason is a SCIM error response's scimType and detail (RFC 7644
// §3.12), "" for any other body.
func scimReason(body []byte) string {
	var e struct {
		ScimType string `json:"scimType"`
		Detail   string `json:"detail"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	why := e.Detail
	if e.ScimType != "" {
		why = strings.TrimSuffix(e.ScimType+": "+e.Detail, ": ")
	}
	if r := []rune(why); len(r) > 200 {
		why = string(r[:200]) + "…"
	}
	return why
}

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	var d dashboardData
	for _, rt := range c.reg.ResourceTypes() {
		p, err := c.st.List(ctx, store.Query{Tenant: s.tenant, Type: rt, Count: 0})
		if err != nil {
			c.internal(w, r, err)
			return
		}
		name := strings.TrimPrefix(rt.Endpoint, "/")
		d.Counts = append(d.Counts, count{name, words(name), p.Total})
	}
	cs, err := c.st.ListClients(ctx, s.tenant)
	if err != nil {
		c.internal(w, r, err)
		return
	}
	d.Clients = len(cs)
	ts, err := c.st.ListTokens(ctx, s.tenant)
	if err != nil {
		c.internal(w, r, err)
		return
	}
	now := c.now()
	for _, t := range ts {
		if t.Revoked == nil && (t.Expires == nil || now.Before(*t.Expires)) {
			d.ActiveTokens++
		}
	}
	errs, err := c.st.QueryLog(ctx, store.LogQuery{Tenant: s.tenant, Status: "error", Limit: 10})
	if err != nil {
		c.internal(w, r, err)
		return
	}
	for _, e := range errs {
		// QueryLog gives the bodies with the entries (a block is read
		// once for all of its entries): the reason is in the response.
		d.Errors = append(d.Errors, errorRow{LogEntry: e, Why: scimReason(e.ResponseBody)})
	}
	c.show(w, r, s, http.StatusOK, "dashboard", "dashboard", "Dashboard", d, "")
}

// ---- OAuth clients ----

type clientRow struct {
	*store.OAuthClient
	KeyAuth bool
	Refresh bool // may use refresh tokens, so the console may mint one
}

type clientsData struct {
	Clients []clientRow
	Form    clientForm
}

type clientForm struct {
	Name                  string
	Read, Write           bool
	CC, Password, Refresh bool
	RefreshAlone          bool
	AccessTTL, RefreshTTL string
}

func defaultClientForm() clientForm {
	return clientForm{Read: true, Write: true, CC: true, Refresh: true,
		AccessTTL: fmtDuration(oauth.DefaultAccessTTL), RefreshTTL: fmtDuration(oauth.DefaultRefreshTTL)}
}

func (c *Console) clientsPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.showClients(w, r, s, http.StatusOK, defaultClientForm(), "")
}

func (c *Console) showClients(w http.ResponseWriter, r *http.Request, s *session, status int, f clientForm, errMsg string) {
	cs, err := c.st.ListClients(r.Context(), s.tenant)
	if err != nil {
		c.internal(w, r, err)
		return
	}
	d := clientsData{Form: f}
	for _, cl := range cs {
		d.Clients = append(d.Clients, clientRow{cl, cl.PublicKey != "", slices.Contains(cl.Grants, oauth.GrantRefresh)})
	}
	c.show(w, r, s, status, "clients", "clients", "OAuth clients", d, errMsg)
}

func checked(r *http.Request, name string) bool { return r.PostForm.Get(name) != "" }

func (c *Console) createClient(w http.ResponseWriter, r *http.Request, s *session) {
	f := clientForm{Name: strings.TrimSpace(r.PostForm.Get("name")), Read: checked(r, "scope_read"), Write: checked(r, "scope_write"),
		CC: checked(r, "grant_client_credentials"), Password: checked(r, "grant_password"), Refresh: checked(r, "grant_refresh_token"),
		RefreshAlone: checked(r, "refresh_alone"), AccessTTL: r.PostForm.Get("access_ttl"), RefreshTTL: r.PostForm.Get("refresh_ttl")}
	bad := func(msg string) { c.showClients(w, r, s, http.StatusBadRequest, f, msg) }
	if f.Name == "" || len(f.Name) > 100 {
		bad("Give the client a name of at most 100 characters.")
		return
	}
	var scopes, grants []string
	if f.Read {
		scopes = append(scopes, auth.ScopeRead)
	}
	if f.Write {
		scopes = append(scopes, auth.ScopeWrite)
	}
	if f.CC {
		grants = append(grants, oauth.GrantClientCredentials)
	}
	if f.Password {
		grants = append(grants, oauth.GrantPassword)
	}
	if f.Refresh {
		grants = append(grants, oauth.GrantRefresh)
	}
	if len(scopes) == 0 {
		bad("Choose at least one scope.")
		return
	}
	if _, err := oauth.ParseGrants(strings.Join(grants, " ")); err != nil || len(grants) == 0 {
		bad("Choose client credentials or password (the refresh token grant alone grants nothing).")
		return
	}
	if f.RefreshAlone && !f.Refresh {
		bad("Refresh token alone needs the refresh token grant.")
		return
	}
	access, err := ParseTTL(f.AccessTTL)
	if err != nil {
		bad("Access token lifetime: " + err.Error())
		return
	}
	refresh, err := ParseTTL(f.RefreshTTL)
	if err != nil {
		bad("Refresh token lifetime: " + err.Error())
		return
	}
	if status, msg := c.confirmPassword(w, r, s, "creating client "+strconv.Quote(f.Name), ""); status != 0 {
		c.showClients(w, r, s, status, f, msg)
		return
	}
	cl, secret, err := c.oauth.CreateClient(r.Context(), oauth.ClientSpec{Tenant: s.tenant, Name: f.Name, Scopes: scopes, Grants: grants, AccessTTL: access, RefreshTTL: refresh,
		RefreshTokenAlone: f.RefreshAlone}, s.actor())
	if err != nil {
		if k := scimerr.KindOf(err); k == scimerr.Uniqueness || k == scimerr.NotFound {
			c.showClients(w, r, s, http.StatusConflict, f, errorText(err))
			return
		}
		c.internal(w, r, err)
		return
	}
	c.done(w, r, s, tenantPath(s.tenant, "clients"), &flash{Kind: "client", Title: "Client " + cl.Name + " created", Label: "Client secret",
		Secret: secret, ID: cl.ID, Tenant: s.tenant})
}

// tenantClient reads the client named in the path, 404 unless it is the
// page's tenant's.
func (c *Console) tenantClient(w http.ResponseWriter, r *http.Request, s *session) *store.OAuthClient {
	cl, err := c.st.Client(r.Context(), r.PathValue("id"))
	if err == nil && cl.Tenant == s.tenant {
		return cl
	}
	if err != nil && scimerr.KindOf(err) != scimerr.NotFound {
		c.internal(w, r, err)
		return nil
	}
	c.fail(w, r, http.StatusNotFound, "There is no such client in this tenant.")
	return nil
}

func (c *Console) rotateClient(w http.ResponseWriter, r *http.Request, s *session) {
	cl := c.tenantClient(w, r, s)
	if cl == nil {
		return
	}
	if cl.PublicKey != "" {
		c.showClients(w, r, s, http.StatusBadRequest, defaultClientForm(), "Client "+cl.Name+" authenticates with a key; set its new public key with pamscim oauth rotate-secret --public-key.")
		return
	}
	if status, msg := c.confirmPassword(w, r, s, "recycling the secret of "+cl.Name, "client:"+cl.ID); status != 0 {
		c.showClients(w, r, s, status, defaultClientForm(), msg)
		return
	}
	revoke := checked(r, "revoke_tokens")
	secret, err := c.oauth.RotateSecret(r.Context(), cl.ID, "", revoke, s.actor())
	if err != nil {
		c.internal(w, r, err)
		return
	}
	msg := "The previous secret no longer works."
	if revoke {
		msg += " Every token the client held was revoked."
	}
	c.done(w, r, s, tenantPath(s.tenant, "clients"), &flash{Kind: "client", Title: "New secret for " + cl.Name, Label: "Client secret",
		Secret: secret, ID: cl.ID, Tenant: s.tenant, Message: msg})
}

func (c *Console) setLifetimes(w http.ResponseWriter, r *http.Request, s *session) {
	cl := c.tenantClient(w, r, s)
	if cl == nil {
		return
	}
	access, err := ParseTTL(r.PostForm.Get("access_ttl"))
	if err == nil {
		var refresh time.Duration
		if refresh, err = ParseTTL(r.PostForm.Get("refresh_ttl")); err == nil {
			if err := c.st.SetClientLifetimes(r.Context(), cl.ID, access, refresh); err != nil {
				c.internal(w, r, err)
				return
			}
			c.record(r, store.AuditEvent{Tenant: s.tenant, Actor: s.actor(), Event: EventLifetimes, Object: "client:" + cl.ID,
				Detail: "access=" + fmtDuration(access) + " refresh=" + fmtDuration(refresh)})
			c.done(w, r, s, tenantPath(s.tenant, "clients"), &flash{Message: "Token lifetimes of " + cl.Name + " saved; tokens already issued keep theirs."})
			return
		}
	}
	c.showClients(w, r, s, http.StatusBadRequest, defaultClientForm(), "Lifetimes of "+cl.Name+": "+err.Error())
}

// issueRefreshToken is seed 000's "Generate Refresh Token": a refresh
// token for the client, shown once, for a connector that is configured
// with one.
func (c *Console) issueRefreshToken(w http.ResponseWriter, r *http.Request, s *session) {
	cl := c.tenantClient(w, r, s)
	if cl == nil {
		return
	}
	noGrant := "Client " + cl.Name + " may not use refresh tokens: its grants do not include refresh_token. Create a client with the refresh token grant."
	// Checked before the password, which would be asked in vain.
	if !slices.Contains(cl.Grants, oauth.GrantRefresh) {
		c.showClients(w, r, s, http.StatusBadRequest, defaultClientForm(), noGrant)
		return
	}
	if status, msg := c.confirmPassword(w, r, s, "generating a refresh token for "+cl.Name, "client:"+cl.ID); status != 0 {
		c.showClients(w, r, s, status, defaultClientForm(), msg)
		return
	}
	rt, t, err := c.oauth.IssueRefreshToken(r.Context(), cl.ID, s.actor())
	if err != nil {
		if scimerr.KindOf(err) == scimerr.InvalidValue {
			c.showClients(w, r, s, http.StatusBadRequest, defaultClientForm(), noGrant)
			return
		}
		c.internal(w, r, err)
		return
	}
	authn := "grant_type=refresh_token and the client's ID and secret"
	if cl.PublicKey != "" {
		authn = "grant_type=refresh_token and the client's signed JWT (private_key_jwt)"
	}
	if cl.RefreshTokenAlone {
		authn = "grant_type=refresh_token&refresh_token=… and nothing else (this client allows refresh tokens alone)"
	}
	c.done(w, r, s, tenantPath(s.tenant, "clients"), &flash{Kind: "refresh", Title: "Refresh token for " + cl.Name, Label: "Refresh token",
		Secret: rt, ID: cl.ID, Tenant: s.tenant,
		Message: "Scope " + strings.Join(t.Scopes, " ") + "; it expires " + t.Expires.UTC().Format("2006-01-02 15:04") + " UTC (the client's refresh token lifetime, " + fmtDuration(cl.RefreshTTL) + "). " +
			"Exchange it at " + oauth.TokenPaths[0] + " with " + authn + ": each exchange returns an access token and a new refresh token, and this one stops working."})
}

// setRefreshAlone turns the client's "refresh token alone" setting on
// (on=1) or off (on=0): whether the token endpoint exchanges its refresh
// tokens without the client's authentication, for a connector that is
// given a refresh token and never the secret (seed 000).
func (c *Console) setRefreshAlone(w http.ResponseWriter, r *http.Request, s *session) {
	cl := c.tenantClient(w, r, s)
	if cl == nil {
		return
	}
	var on bool
	switch r.PostForm.Get("on") {
	case "1":
		on = true
	case "0":
	default:
		c.fail(w, r, http.StatusBadRequest, "The form does not say whether to allow refresh tokens alone.")
		return
	}
	// Turning it on makes every refresh token the client holds a credential
	// by itself; turning it off only takes that away.
	if on && slices.Contains(cl.Grants, oauth.GrantRefresh) {
		if status, msg := c.confirmPassword(w, r, s, "allowing refresh tokens of "+cl.Name+" alone", "client:"+cl.ID); status != 0 {
			c.showClients(w, r, s, status, defaultClientForm(), msg)
			return
		}
	}
	changed, err := c.oauth.SetRefreshTokenAlone(r.Context(), cl.ID, on, s.actor())
	if err != nil {
		if scimerr.KindOf(err) == scimerr.InvalidValue {
			c.showClients(w, r, s, http.StatusBadRequest, defaultClientForm(), "Client "+cl.Name+" may not use refresh tokens: its grants do not include refresh_token.")
			return
		}
		c.internal(w, r, err)
		return
	}
	msg := cl.Name + " must authenticate again to exchange a refresh token; its refresh tokens still work with its authentication."
	if on {
		msg = cl.Name + "'s refresh tokens are now exchanged alone, with no client ID or secret: keep them as secret as a client secret."
	}
	if !changed {
		msg = "Nothing changed: " + msg
	}
	c.done(w, r, s, tenantPath(s.tenant, "clients"), &flash{Message: msg})
}

func (c *Console) deleteClient(w http.ResponseWriter, r *http.Request, s *session) {
	cl := c.tenantClient(w, r, s)
	if cl == nil {
		return
	}
	if err := c.oauth.DeleteClient(r.Context(), cl.ID, s.actor()); err != nil {
		c.internal(w, r, err)
		return
	}
	c.done(w, r, s, tenantPath(s.tenant, "clients"), &flash{Message: "Client " + cl.Name + " deleted; its tokens were revoked."})
}

// ---- SCIM tokens ----

type tokenRow struct {
	*store.Token
	State string
}

type tokensData struct {
	Tokens []tokenRow
	Expiry []expiryChoice
	Form   tokenForm
}

// tokenForm is the new-token form, filled again after a refusal.
type tokenForm struct {
	Name        string
	Read, Write bool
	Expires     string
}

func defaultTokenForm() tokenForm {
	f := tokenForm{Read: true, Write: true}
	for _, e := range expiries {
		if e.Default {
			f.Expires = e.Value
		}
	}
	return f
}

type expiryChoice struct {
	Value, Label string
	Default      bool
}

// expiries is the list of seed 002's "select an expiration date from the list".
var expiries = []expiryChoice{{"30d", "30 days", false}, {"90d", "90 days", true}, {"180d", "180 days", false}, {"365d", "1 year", false}, {"never", "Never", false}}

func (c *Console) tokensPage(w http.ResponseWriter, r *http.Request, s *session) {
	c.showTokens(w, r, s, http.StatusOK, defaultTokenForm(), "")
}

func (c *Console) showTokens(w http.ResponseWriter, r *http.Request, s *session, status int, f tokenForm, errMsg string) {
	ts, err := c.st.ListTokens(r.Context(), s.tenant)
	if err != nil {
		c.internal(w, r, err)
		return
	}
	now := c.now()
	d := tokensData{Expiry: expiries, Form: f}
	for _, t := range ts {
		st := "active"
		switch {
		case t.Revoked != nil:
			st = "revoked"
		case t.Expires != nil && !now.Before(*t.Expires):
			st = "expired"
		}
		d.Tokens = append(d.Tokens, tokenRow{t, st})
	}
	c.show(w, r, s, status, "tokens", "tokens", "SCIM tokens", d, errMsg)
}

func (c *Console) createToken(w http.ResponseWriter, r *http.Request, s *session) {
	f := tokenForm{Name: strings.TrimSpace(r.PostForm.Get("name")), Read: checked(r, "scope_read"), Write: checked(r, "scope_write"), Expires: r.PostForm.Get("expires")}
	bad := func(status int, msg string) { c.showTokens(w, r, s, status, f, msg) }
	name := f.Name
	if name == "" || len(name) > 100 {
		bad(http.StatusBadRequest, "Give the token a name of at most 100 characters.")
		return
	}
	var scopes []string
	if f.Read {
		scopes = append(scopes, auth.ScopeRead)
	}
	if f.Write {
		scopes = append(scopes, auth.ScopeWrite)
	}
	if len(scopes) == 0 {
		bad(http.StatusBadRequest, "Choose at least one scope.")
		return
	}
	var ttl time.Duration
	exp := f.Expires
	if !slices.ContainsFunc(expiries, func(e expiryChoice) bool { return e.Value == exp }) {
		bad(http.StatusBadRequest, "Choose an expiry from the list.")
		return
	}
	if exp != "never" {
		ttl, _ = ParseTTL(exp)
	}
	if status, msg := c.confirmPassword(w, r, s, "creating token "+strconv.Quote(name), "token:"+name); status != 0 {
		bad(status, msg)
		return
	}
	secret, t, err := c.tokens.CreateToken(r.Context(), s.tenant, name, scopes, ttl, s.actor())
	if err != nil {
		if scimerr.KindOf(err) == scimerr.Uniqueness {
			bad(http.StatusConflict, "There is already a live token named "+strconv.Quote(name)+" in this tenant; choose another name, or revoke that one first.")
			return
		}
		c.internal(w, r, err)
		return
	}
	msg := "It never expires."
	if t.Expires != nil {
		msg = "It expires " + t.Expires.UTC().Format("2006-01-02 15:04") + " UTC."
	}
	c.done(w, r, s, tenantPath(s.tenant, "tokens"), &flash{Kind: "token", Title: "Token " + name + " created", Label: "SCIM token",
		Secret: secret, Tenant: s.tenant, Message: msg})
}

func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request, s *session) {
	name := r.PostForm.Get("name")
	if err := c.tokens.RevokeToken(r.Context(), s.tenant, name, s.actor()); err != nil {
		if scimerr.KindOf(err) == scimerr.NotFound {
			c.showTokens(w, r, s, http.StatusNotFound, defaultTokenForm(), "There is no live token by that name in this tenant.")
			return
		}
		c.internal(w, r, err)
		return
	}
	c.done(w, r, s, tenantPath(s.tenant, "tokens"), &flash{Message: "Token " + name + " revoked; it is refused from now on."})
}

// ---- provisioning log ----

type logData struct {
	Back     template.URL // this list's filters, carried by Open so the entry links back to them (url.Values.Encode: escaped already)
	Q        store.LogQuery
	Entries  []store.LogEntry
	Older    string // URL of the next page, "" when none
	Filter   bool
	Statuses []string
}

var statusChoices = []string{"", "error", "4xx", "5xx", "409", "400", "401", "404", "2xx"}

func (c *Console) logPage(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.URL.Query()
	q := store.LogQuery{Tenant: s.tenant, Status: strings.TrimSpace(v.Get("status")), Path: strings.TrimSpace(v.Get("path")),
		Client: strings.TrimSpace(v.Get("client")), ResourceID: strings.TrimSpace(v.Get("resource")), Limit: 50}
	if b := v.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			c.fail(w, r, http.StatusBadRequest, "before must be a log entry id.")
			return
		}
		q.BeforeID = n
	}
	d := logData{Q: q, Back: template.URL(logFilters(v).Encode()), Statuses: statusChoices, Filter: q.Status != "" || q.Path != "" || q.Client != "" || q.ResourceID != ""}
	if _, _, err := store.StatusRange(q.Status); err != nil {
		c.show(w, r, s, http.StatusBadRequest, "log", "log", "Provisioning log", d, "Status: give a code such as 409, a class such as 4xx, or error.")
		return
	}
	es, err := c.st.QueryLog(r.Context(), q)
	if err != nil {
		if scimerr.KindOf(err) == scimerr.InvalidValue {
			c.show(w, r, s, http.StatusBadRequest, "log", "log", "Provisioning log", d, errorText(err))
			return
		}
		c.internal(w, r, err)
		return
	}
	d.Entries = es
	if len(es) == q.Limit {
		nv := r.URL.Query()
		nv.Set("before", strconv.FormatInt(es[len(es)-1].ID, 10))
		d.Older = tenantPath(s.tenant, "log") + "?" + nv.Encode()
	}
	c.show(w, r, s, http.StatusOK, "log", "log", "Provisioning log", d, "")
}

// logFilterKeys are the log list's query parameters: an entry opened from a
// filtered list carries them, and links back to the same list.
var logFilterKeys = []string{"status", "path", "client", "resource", "before"}

func logFilters(v url.Values) url.Values {
	out := url.Values{}
	for _, k := range logFilterKeys {
		if x := strings.TrimSpace(v.Get(k)); x != "" {
			out.Set(k, x)
		}
	}
	return out
}

type logEntryData struct {
	Back         string // the list it was opened from
	Filtered     bool
	E            *store.LogEntry
	Request      string
	Response     string
	ResourceLink string
}

// pretty indents a JSON body for reading; anything else is shown as is.
func pretty(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	var out bytes.Buffer
	if json.Indent(&out, b, "", "  ") == nil {
		return out.String()
	}
	return string(b)
}

func (c *Console) logEntryPage(w http.ResponseWriter, r *http.Request, s *session) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		c.fail(w, r, http.StatusNotFound, "There is no such log entry.")
		return
	}
	e, err := c.st.LogEntry(r.Context(), s.tenant, id)
	if err != nil {
		if scimerr.KindOf(err) == scimerr.NotFound {
			c.fail(w, r, http.StatusNotFound, "There is no such log entry in this tenant.")
			return
		}
		c.internal(w, r, err)
		return
	}
	d := logEntryData{E: e, Back: tenantPath(s.tenant, "log"), Request: pretty(e.RequestBody), Response: pretty(e.ResponseBody)}
	if f := logFilters(r.URL.Query()); len(f) > 0 {
		d.Back += "?" + f.Encode()
		d.Filtered = f.Has("status") || f.Has("path") || f.Has("client") || f.Has("resource")
	}
	c.show(w, r, s, http.StatusOK, "logentry", "log", fmt.Sprintf("Log entry %d", e.ID), d, "")
}

// ---- audit trail ----

type auditData struct {
	Q      store.AuditQuery
	Events []*store.AuditEvent
}

func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.URL.Query()
	q := store.AuditQuery{Tenant: s.tenant, Event: strings.TrimSpace(v.Get("event")), Actor: strings.TrimSpace(v.Get("actor")),
		Outcome: v.Get("outcome"), Object: strings.TrimSpace(v.Get("object")), Limit: 200}
	if q.Outcome != "" && q.Outcome != "success" && q.Outcome != "failure" {
		q.Outcome = ""
	}
	evs, err := c.st.ListAudit(r.Context(), q)
	if err != nil {
		c.internal(w, r, err)
		return
	}
	slices.Reverse(evs) // newest first on screen
	c.show(w, r, s, http.StatusOK, "audit", "audit", "Audit trail", auditData{Q: q, Events: evs}, "")
}

func hashID(raw []byte) []byte { return auth.Hash(string(raw)) }

// ---- re-authentication ----

// EventReauth is a refused confirmation of the administrator's password
// before a credential is made (a success is not recorded separately: the
// action it allowed is).
const EventReauth = "admin.reauth"

// ReauthField is the form field of the administrator's password, asked
// again before an action that makes a long-lived credential.
const ReauthField = "admin_password"

// confirmPassword checks the administrator's password, typed again into
// the form of an action that makes or reveals a long-lived credential (a
// client secret, a SCIM token, a refresh token) or lets a refresh token be
// used alone. A session cookie that leaked — from a shared workstation, a
// proxy log, a browser extension — is then not enough to mint a credential
// that outlives the session. Wrong passwords count against the sign-in
// throttle of the administrator and of the source address, so a stolen
// session cannot be used to guess the password faster than the sign-in
// form can. It returns 0 when the password is right, else the status and
// the message to show; what says what was not done.
func (c *Console) confirmPassword(w http.ResponseWriter, r *http.Request, s *session, what, object string) (int, string) {
	pw := r.PostForm.Get(ReauthField)
	if pw == "" {
		return http.StatusBadRequest, "Type your password to confirm: " + what + " was not done."
	}
	src, now := c.source(r), c.now()
	acct := "admin\x00" + s.admin.Name
	fail := func(detail string) {
		c.record(r, store.AuditEvent{Tenant: s.tenant, Actor: s.actor(), Event: EventReauth, Outcome: "failure", Object: object, Detail: detail})
	}
	if blocked, wait := c.failures.Check(src, "", acct, now); blocked {
		w.Header().Set("Retry-After", strconvSeconds(wait))
		fail("throttled: " + what)
		return http.StatusTooManyRequests, "Too many wrong passwords. Wait " + strconvSeconds(wait) + " seconds and try again: " + what + " was not done."
	}
	if !auth.CheckPassword(s.admin.PasswordHash, pw) {
		c.failures.Failed(src, "", acct, now)
		fail("wrong password: " + what)
		return http.StatusForbidden, "That is not your password: " + what + " was not done. Type the password you sign in with."
	}
	return 0, ""
}
