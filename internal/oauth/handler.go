package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/pamscim/pamscim/internal/audit"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/throttle"
)

// Endpoint paths. Seed 000's connectors call /scim/oauth/token; /oauth2/token
// is the conventional name.
var (
	TokenPaths  = []string{"/scim/oauth/token", "/oauth2/token"}
	RevokePaths = []string{"/scim/oauth/revoke", "/oauth2/revoke"}
)

// MetadataPath is the RFC 8414 metadata document.
const MetadataPath = "/.well-known/oauth-authorization-server"

const maxFormBytes = 64 << 10

// Register mounts the endpoints through handle (an http.ServeMux's Handle).
func (s *Service) Register(handle func(pattern string, h http.Handler)) {
	for _, p := range TokenPaths {
		handle("POST "+p, http.HandlerFunc(s.handleToken))
		handle(p, methodNotAllowed())
	}
	for _, p := range RevokePaths {
		handle("POST "+p, http.HandlerFunc(s.handleRevoke))
		handle(p, methodNotAllowed())
	}
	handle("GET "+MetadataPath, http.HandlerFunc(s.handleMetadata))
}

// tokenError is an RFC 6749 §5.2 error response.
type tokenError struct {
	status     int
	code       string
	desc       string
	retryAfter time.Duration
	cause      error // for the server log only
}

func (e *tokenError) Error() string { return e.code + ": " + e.desc }

func errf(status int, code, format string, args ...any) *tokenError {
	return &tokenError{status: status, code: code, desc: fmt.Sprintf(format, args...)}
}

func invalidRequest(format string, args ...any) *tokenError {
	return errf(http.StatusBadRequest, "invalid_request", format, args...)
}

// One description for an unknown client and a wrong credential, so that the
// answer does not say which client ids exist.
var errClientAuth = errf(http.StatusUnauthorized, "invalid_client", "client authentication failed")

// errNoClientAuth answers a request that carries no client authentication
// at all; readCredential returns this very value, so that the token
// endpoint can tell it from a failed authentication.
var errNoClientAuth = errf(http.StatusUnauthorized, "invalid_client", "client authentication is required (HTTP Basic, client_secret or client_assertion)")

// errNotAlone answers a refresh request without client authentication
// whose refresh token may not be used alone: an unknown, malformed or
// foreign string, or a token of a client that requires authentication.
// It is one answer for all of them, so that the endpoint never confirms
// that a string is a refresh token to someone who cannot use it — as an
// authenticated client gets invalid_grant alike for another client's
// token and for an unknown one. It is the answer RFC 6749 §5.2 gives a
// request with no client authentication (invalid_client, 401), so a
// server where no client allows refresh tokens alone answers exactly as
// it did before the setting existed.
var errNotAlone = errf(http.StatusUnauthorized, "invalid_client",
	"client authentication is required (HTTP Basic, client_secret or client_assertion); a refresh token is exchanged without it only for a client an administrator allows refresh tokens alone")

// grantRefreshAlone names, in the audit trail, an exchange of a refresh
// token without client authentication.
const grantRefreshAlone = GrantRefresh + " (without client authentication)"

// revokeAlone names, in the audit trail, a revocation by a refresh token
// presented without client authentication (seed 000's connector holds no
// secret, so it can end its own grant only this way).
const revokeAlone = "revoke (without client authentication)"

func serverError(err error) *tokenError {
	return &tokenError{status: http.StatusInternalServerError, code: "server_error", desc: "internal server error", cause: err}
}

func methodNotAllowed() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", "POST")
		writeError(w, errf(http.StatusMethodNotAllowed, "invalid_request", "the token endpoint takes POST only"))
	})
}

func noStore(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, e *tokenError) {
	h := w.Header()
	noStore(h)
	switch e.status {
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Basic realm="pamscim", charset="UTF-8"`)
	case http.StatusTooManyRequests:
		h.Set("Retry-After", throttle.RetryAfter(e.retryAfter))
	}
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.desc})
}

func (s *Service) fail(w http.ResponseWriter, r *http.Request, e *tokenError) {
	if e.cause != nil {
		s.log.ErrorContext(r.Context(), "token endpoint", "path", r.URL.Path, "err", e.cause)
	}
	writeError(w, e)
}

// secretParams must never travel in a URL (RFC 6749 §2.3.1, §3.2).
var secretParams = []string{"client_secret", "client_assertion", "password", "refresh_token", "token"}

// readForm reads a form-encoded body: no repeated parameters, no secrets in
// the query string.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, *tokenError) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, invalidRequest("the body must be application/x-www-form-urlencoded")
	}
	if q := r.URL.Query(); len(q) > 0 {
		for _, p := range secretParams {
			if q.Has(p) {
				return nil, invalidRequest("%s must be sent in the body, never in the URL", p)
			}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		return nil, invalidRequest("the body could not be read or exceeds %d bytes", maxFormBytes)
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, invalidRequest("the body is not a valid form encoding")
	}
	for k, v := range form {
		if len(v) > 1 {
			return nil, invalidRequest("parameter %q is repeated", k)
		}
	}
	return form, nil
}

// credential is what a request presents to authenticate its client.
type credential struct {
	id, secret, assertion string
	method                string
}

// readCredential finds the client authentication of a request: HTTP Basic,
// form fields, or a client assertion — exactly one (RFC 6749 §2.3).
func readCredential(r *http.Request, form url.Values) (*credential, *tokenError) {
	c := &credential{}
	user, pass, basic := r.BasicAuth()
	fid, fsecret := form.Get("client_id"), form.Get("client_secret")
	atype, assertion := form.Get("client_assertion_type"), form.Get("client_assertion")
	methods := 0
	for _, b := range []bool{basic, fsecret != "", assertion != "" || atype != ""} {
		if b {
			methods++
		}
	}
	if methods > 1 {
		return nil, invalidRequest("use exactly one client authentication method")
	}
	switch {
	case basic:
		var err1, err2 error
		c.id, err1 = url.QueryUnescape(user)
		c.secret, err2 = url.QueryUnescape(pass)
		if err1 != nil || err2 != nil {
			return nil, invalidRequest("the Basic credentials are not form-encoded")
		}
		c.method = "client_secret_basic"
		if fid != "" && fid != c.id {
			return nil, invalidRequest("client_id differs from the Basic credentials")
		}
	case assertion != "" || atype != "":
		if atype != AssertionType {
			return nil, invalidRequest("client_assertion_type must be %s", AssertionType)
		}
		if assertion == "" {
			return nil, invalidRequest("client_assertion is missing")
		}
		iss, err := unverifiedIssuer(assertion)
		if err != nil {
			e := *errClientAuth
			e.desc = "the client assertion is not a valid JWT: " + err.Error()
			return nil, &e
		}
		if fid != "" && fid != iss {
			return nil, invalidRequest("client_id differs from the assertion's issuer")
		}
		c.id, c.assertion, c.method = iss, assertion, "private_key_jwt"
	case fsecret != "":
		c.id, c.secret, c.method = fid, fsecret, "client_secret_post"
	default:
		return nil, errNoClientAuth
	}
	if c.id == "" {
		return nil, errClientAuth
	}
	return c, nil
}

// issuer is the authorization server's issuer URL.
func (s *Service) issuer(r *http.Request) string {
	if s.cfg.Issuer != "" {
		return s.cfg.Issuer
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// authenticateClient checks the credential. A nil client with a nil error
// never happens.
func (s *Service) authenticateClient(ctx context.Context, r *http.Request, cred *credential) (*store.OAuthClient, *tokenError) {
	if len(cred.id) > 200 {
		return nil, errClientAuth
	}
	c, err := s.st.Client(ctx, cred.id)
	if err != nil {
		if isNotFound(err) {
			// Spend what a real check spends.
			clientSecretOK(&store.OAuthClient{SecretHash: make([]byte, 32)}, cred.secret)
			return nil, errClientAuth
		}
		return nil, serverError(err)
	}
	if cred.assertion != "" {
		if c.PublicKey == "" {
			return c, errClientAuth
		}
		iss := s.issuer(r)
		auds := []string{iss}
		for _, p := range TokenPaths {
			auds = append(auds, iss+p)
		}
		if err := s.verifyAssertion(ctx, c, cred.assertion, auds); err != nil {
			var se *scimerr.Error
			if errors.As(err, &se) || errors.Is(err, context.Canceled) {
				return c, serverError(err)
			}
			e := *errClientAuth
			e.desc = "the client assertion was refused: " + err.Error()
			return c, &e
		}
		return c, nil
	}
	if !clientSecretOK(c, cred.secret) {
		return c, errClientAuth
	}
	return c, nil
}

// grantScopes resolves the scope parameter against what the grant allows.
func grantScopes(requested string, allowed ...[]string) ([]string, *tokenError) {
	ok := func(sc string) bool {
		for _, a := range allowed {
			if !slices.Contains(a, sc) && !(sc == auth.ScopeRead && slices.Contains(a, auth.ScopeWrite)) {
				return false
			}
		}
		return true
	}
	var out []string
	if strings.TrimSpace(requested) == "" {
		for _, sc := range []string{auth.ScopeRead, auth.ScopeWrite} {
			if ok(sc) && slices.Contains(allowed[0], sc) {
				out = append(out, sc)
			}
		}
		if len(out) == 0 {
			return nil, errf(http.StatusBadRequest, "invalid_scope", "no scope is allowed for this grant")
		}
		return out, nil
	}
	for _, f := range strings.Fields(requested) {
		want := []string{f}
		if f == "scim" {
			want = []string{auth.ScopeRead, auth.ScopeWrite}
		} else if f != auth.ScopeRead && f != auth.ScopeWrite {
			return nil, errf(http.StatusBadRequest, "invalid_scope", "unknown scope %q (scim:read, scim:write or scim)", f)
		}
		for _, sc := range want {
			if !ok(sc) {
				return nil, errf(http.StatusBadRequest, "invalid_scope", "scope %q is not allowed for this client", sc)
			}
			if !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		}
	}
	return out, nil
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
}

func (s *Service) handleToken(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := s.now()
	src := throttle.SourceIP(r, s.cfg.TrustedProxies)
	form, terr := readForm(w, r)
	if terr != nil {
		s.fail(w, r, terr)
		return
	}
	grant := form.Get("grant_type")
	switch grant {
	case "":
		s.fail(w, r, invalidRequest("grant_type is required"))
		return
	case GrantClientCredentials, GrantPassword, GrantRefresh:
	default:
		s.fail(w, r, errf(http.StatusBadRequest, "unsupported_grant_type", "grant_type %q is not supported (client_credentials, password, refresh_token)", grant))
		return
	}
	cred, terr := readCredential(r, form)
	if terr == errNoClientAuth && grant == GrantRefresh {
		// Seed 000: grant_type=refresh_token&refresh_token=… and nothing else.
		resp, terr := s.refreshAlone(ctx, r, src, form)
		if terr != nil {
			s.fail(w, r, terr)
			return
		}
		noStore(w.Header())
		writeJSON(w, http.StatusOK, resp)
		return
	}
	if terr != nil {
		if terr.status == http.StatusUnauthorized {
			s.fail(w, r, s.refused(ctx, r, src, nil, "", grant, terr))
			return
		}
		s.fail(w, r, terr)
		return
	}
	account := ""
	if grant == GrantPassword && form.Get("username") != "" {
		account = cred.id + "\x00" + form.Get("username")
	}
	if blocked, wait := s.failures.Check(src, cred.id, account, now); blocked {
		e := errf(http.StatusTooManyRequests, "slow_down", "too many failed attempts; retry after %s", wait.Round(time.Second))
		e.retryAfter = wait
		s.fail(w, r, e)
		return
	}
	c, terr := s.authenticateClient(ctx, r, cred)
	if terr != nil {
		if terr.status == http.StatusUnauthorized {
			s.failures.Failed(src, cred.id, "", now)
			terr = s.refused(ctx, r, src, c, "", grant, terr)
		}
		s.fail(w, r, terr)
		return
	}
	s.failures.Succeeded(src, c.ID, now)
	if !slices.Contains(c.Grants, grant) {
		s.fail(w, r, s.refused(ctx, r, src, c, "", grant,
			errf(http.StatusBadRequest, "unauthorized_client", "this client may not use the %s grant", grant)))
		return
	}
	var resp *tokenResponse
	switch grant {
	case GrantClientCredentials:
		resp, terr = s.grantClientCredentials(ctx, r, src, c, form)
	case GrantPassword:
		resp, terr = s.grantPassword(ctx, r, src, c, form, account)
	case GrantRefresh:
		resp, terr = s.grantRefresh(ctx, r, src, c, form)
	}
	if terr != nil {
		s.fail(w, r, terr)
		return
	}
	noStore(w.Header())
	writeJSON(w, http.StatusOK, resp)
}

// refused audits a refusal and returns it.
func (s *Service) refused(ctx context.Context, r *http.Request, src string, c *store.OAuthClient, account, grant string, e *tokenError) *tokenError {
	ev := store.AuditEvent{Event: audit.TokenRefused, Outcome: audit.Failure, Source: src,
		Detail: fmt.Sprintf("grant=%s error=%s: %s", grant, e.code, e.desc)}
	if c != nil {
		ev.Tenant, ev.Actor = c.Tenant, "client:"+c.ID
		if account != "" {
			ev.Actor += "/account:" + account
		}
	} else {
		// An unknown client id is not recorded: it may be a mistyped secret.
		ev.Actor = "unknown client"
	}
	s.audit.Record(ctx, ev)
	return e
}

// issue creates and stores an access token and, when allowed, a refresh token.
func (s *Service) issue(ctx context.Context, c *store.OAuthClient, subject, family string, scopes, refreshScopes []string, withRefresh bool, rotate []byte) (*tokenResponse, []*store.OAuthToken, *tokenError) {
	now := s.now().UTC()
	access := auth.NewSecret(auth.AccessPrefix)
	toks := []*store.OAuthToken{{Hash: auth.Hash(access), Kind: store.KindAccess, Tenant: c.Tenant, ClientID: c.ID, Subject: subject,
		Family: family, Scopes: scopes, Created: now, Expires: now.Add(c.AccessTTL)}}
	resp := &tokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(c.AccessTTL / time.Second), Scope: strings.Join(scopes, " ")}
	if withRefresh {
		refresh, t := newRefreshToken(c, subject, family, refreshScopes, now)
		toks = append(toks, t)
		resp.RefreshToken = refresh
	}
	var err error
	if rotate != nil {
		err = s.st.RotateRefreshToken(ctx, rotate, now, toks...)
	} else {
		err = s.st.IssueTokens(ctx, toks...)
	}
	if err != nil {
		if scimerr.KindOf(err) == scimerr.Conflict {
			return nil, nil, errf(http.StatusBadRequest, "invalid_grant", "the refresh token was already used")
		}
		return nil, nil, serverError(err)
	}
	return resp, toks, nil
}

// newRefreshToken mints a refresh token of c with c's refresh-token
// lifetime: the secret, and the row that stores its hash.
func newRefreshToken(c *store.OAuthClient, subject, family string, scopes []string, now time.Time) (string, *store.OAuthToken) {
	refresh := auth.NewSecret(auth.RefreshPrefix)
	return refresh, &store.OAuthToken{Hash: auth.Hash(refresh), Kind: store.KindRefresh, Tenant: c.Tenant, ClientID: c.ID, Subject: subject,
		Family: family, Scopes: scopes, Created: now, Expires: now.Add(c.RefreshTTL)}
}

func (s *Service) issued(ctx context.Context, src string, c *store.OAuthClient, account, grant, event, family string, resp *tokenResponse) {
	actor := "client:" + c.ID
	if account != "" {
		actor += "/account:" + account
	}
	s.audit.Record(ctx, store.AuditEvent{Tenant: c.Tenant, Actor: actor, Event: event, Object: "family:" + family, Source: src,
		Detail: fmt.Sprintf("grant=%s scope=%s expires_in=%d refresh=%t", grant, resp.Scope, resp.ExpiresIn, resp.RefreshToken != "")})
}

func (s *Service) grantClientCredentials(ctx context.Context, r *http.Request, src string, c *store.OAuthClient, form url.Values) (*tokenResponse, *tokenError) {
	scopes, terr := grantScopes(form.Get("scope"), c.Scopes)
	if terr != nil {
		return nil, s.refused(ctx, r, src, c, "", GrantClientCredentials, terr)
	}
	family := uuid.NewString()
	resp, _, terr := s.issue(ctx, c, "", family, scopes, scopes, slices.Contains(c.Grants, GrantRefresh), nil)
	if terr != nil {
		return nil, terr
	}
	s.issued(ctx, src, c, "", GrantClientCredentials, audit.TokenIssued, family, resp)
	return resp, nil
}

func (s *Service) grantPassword(ctx context.Context, r *http.Request, src string, c *store.OAuthClient, form url.Values, accountKey string) (*tokenResponse, *tokenError) {
	user, pass := form.Get("username"), form.Get("password")
	if user == "" || pass == "" {
		return nil, invalidRequest("the password grant needs username and password")
	}
	a, err := s.st.ServiceAccount(ctx, c.Tenant, user)
	if err != nil && !isNotFound(err) {
		return nil, serverError(err)
	}
	hash := ""
	if a != nil {
		hash = a.PasswordHash
	}
	if !auth.CheckPassword(hash, pass) {
		s.failures.Failed(src, "", accountKey, s.now())
		known := ""
		if a != nil {
			known = a.Name // an unknown username may be a mistyped password: not recorded
		}
		return nil, s.refused(ctx, r, src, c, known, GrantPassword, errf(http.StatusBadRequest, "invalid_grant", "the username or password is wrong"))
	}
	scopes, terr := grantScopes(form.Get("scope"), c.Scopes, a.Scopes)
	if terr != nil {
		return nil, s.refused(ctx, r, src, c, a.Name, GrantPassword, terr)
	}
	family := uuid.NewString()
	resp, _, terr := s.issue(ctx, c, a.Name, family, scopes, scopes, slices.Contains(c.Grants, GrantRefresh), nil)
	if terr != nil {
		return nil, terr
	}
	s.issued(ctx, src, c, a.Name, GrantPassword, audit.TokenIssued, family, resp)
	return resp, nil
}

func (s *Service) grantRefresh(ctx context.Context, r *http.Request, src string, c *store.OAuthClient, form url.Values) (*tokenResponse, *tokenError) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, invalidRequest("refresh_token is required")
	}
	bad := func() *tokenError {
		s.failures.Failed(src, "", "", s.now())
		return s.refused(ctx, r, src, c, "", GrantRefresh, errf(http.StatusBadRequest, "invalid_grant", "the refresh token is not valid"))
	}
	if !strings.HasPrefix(rt, auth.RefreshPrefix) || len(rt) > 512 {
		return nil, bad()
	}
	h := auth.Hash(rt)
	t, err := s.st.OAuthToken(ctx, h)
	if err != nil {
		if isNotFound(err) {
			return nil, bad()
		}
		return nil, serverError(err)
	}
	// A token of another client is "not valid" to this one: the answer must
	// not confirm that it exists.
	if t.Kind != store.KindRefresh || t.ClientID != c.ID {
		return nil, bad()
	}
	return s.exchangeRefresh(ctx, r, src, c, t, form, GrantRefresh)
}

// refreshAlone is the refresh_token grant without client authentication:
// the client is the refresh token's own, which must allow refresh tokens
// alone (store.OAuthClient.RefreshTokenAlone). Whatever else is presented
// gets errNotAlone and counts as a failed attempt of the source, as a
// wrong secret or an unknown bearer token does: a source guessing at
// refresh tokens is slowed down like one guessing at either. A client_id
// parameter, which an unauthenticated client may send (RFC 6749 §3.2.1),
// must name the token's client.
func (s *Service) refreshAlone(ctx context.Context, r *http.Request, src string, form url.Values) (*tokenResponse, *tokenError) {
	c, t, terr := s.aloneToken(ctx, r, src, form.Get("refresh_token"), form, grantRefreshAlone)
	if terr != nil {
		return nil, terr
	}
	if !slices.Contains(c.Grants, GrantRefresh) {
		return nil, s.refused(ctx, r, src, c, "", grantRefreshAlone,
			errf(http.StatusBadRequest, "unauthorized_client", "this client may not use the %s grant", GrantRefresh))
	}
	resp, terr := s.exchangeRefresh(ctx, r, src, c, t, form, grantRefreshAlone)
	if terr == nil {
		s.failures.Succeeded(src, c.ID, s.now())
	}
	return resp, terr
}

// aloneToken reads rt, the refresh token a request without client
// authentication presents (refresh_token at the token endpoint, token at
// the revocation endpoint), and returns it with its client when that client
// allows refresh tokens alone. Anything else is errNotAlone, counted as a
// failed attempt of the source; what names the request in the audit trail.
func (s *Service) aloneToken(ctx context.Context, r *http.Request, src, rt string, form url.Values, what string) (*store.OAuthClient, *store.OAuthToken, *tokenError) {
	if rt == "" {
		return nil, nil, s.refused(ctx, r, src, nil, "", what, errNoClientAuth)
	}
	now := s.now()
	if blocked, wait := s.failures.Check(src, "", "", now); blocked {
		e := errf(http.StatusTooManyRequests, "slow_down", "too many failed attempts; retry after %s", wait.Round(time.Second))
		e.retryAfter = wait
		return nil, nil, e
	}
	// The trail says why (an administrator reads it); the answer does not.
	notAlone := func(t *store.OAuthToken, why string) *tokenError {
		s.failures.Failed(src, "", "", now)
		ev := store.AuditEvent{Event: audit.TokenRefused, Outcome: audit.Failure, Source: src, Actor: "unknown client",
			Detail: fmt.Sprintf("grant=%s error=%s: %s", what, errNotAlone.code, why)}
		if t != nil {
			ev.Tenant, ev.Actor = t.Tenant, "client:"+t.ClientID
		}
		s.audit.Record(ctx, ev)
		return errNotAlone
	}
	if !strings.HasPrefix(rt, auth.RefreshPrefix) || len(rt) > 512 {
		return nil, nil, notAlone(nil, "not a refresh token")
	}
	h := auth.Hash(rt)
	// The client's setting comes with the token: a second read for a known
	// token would tell it from an unknown one by the answer's time.
	t, err := s.st.OAuthToken(ctx, h)
	if err != nil {
		if isNotFound(err) {
			return nil, nil, notAlone(nil, "unknown refresh token")
		}
		return nil, nil, serverError(err)
	}
	if t.Kind != store.KindRefresh {
		return nil, nil, notAlone(nil, "not a refresh token")
	}
	if !t.ClientRefreshTokenAlone {
		return nil, nil, notAlone(t, "the client does not allow refresh tokens alone: it must authenticate")
	}
	if id := form.Get("client_id"); id != "" && id != t.ClientID {
		return nil, nil, notAlone(nil, "client_id is not the refresh token's client")
	}
	c, err := s.st.Client(ctx, t.ClientID)
	if err != nil {
		if isNotFound(err) {
			return nil, nil, notAlone(nil, "unknown refresh token")
		}
		return nil, nil, serverError(err)
	}
	if !c.RefreshTokenAlone { // turned off since the token was read
		return nil, nil, notAlone(t, "the client does not allow refresh tokens alone: it must authenticate")
	}
	return c, t, nil
}

// exchangeRefresh rotates t, a refresh token of c, for a new access and
// refresh token; grant names the exchange in the audit trail.
func (s *Service) exchangeRefresh(ctx context.Context, r *http.Request, src string, c *store.OAuthClient, t *store.OAuthToken, form url.Values, grant string) (*tokenResponse, *tokenError) {
	bad := func(why string) *tokenError {
		s.failures.Failed(src, "", "", s.now())
		return s.refused(ctx, r, src, c, "", grant, errf(http.StatusBadRequest, "invalid_grant", "%s", why))
	}
	if t.Revoked != nil {
		return nil, bad("the refresh token has been revoked")
	}
	now := s.now()
	if !now.Before(t.Expires) {
		return nil, bad("the refresh token has expired")
	}
	if t.Used != nil {
		return nil, s.reused(ctx, r, src, c, t, grant)
	}
	scopes, terr := grantScopes(form.Get("scope"), t.Scopes, c.Scopes)
	if terr != nil {
		return nil, s.refused(ctx, r, src, c, t.Subject, grant, terr)
	}
	if t.Subject != "" {
		if _, err := s.st.ServiceAccount(ctx, c.Tenant, t.Subject); err != nil {
			if isNotFound(err) {
				return nil, bad("the service account no longer exists")
			}
			return nil, serverError(err)
		}
	}
	resp, _, terr := s.issue(ctx, c, t.Subject, t.Family, scopes, t.Scopes, true, t.Hash)
	if terr != nil {
		if terr.code == "invalid_grant" {
			// Another request exchanged it between our read and our write.
			return nil, s.reused(ctx, r, src, c, t, grant)
		}
		return nil, terr
	}
	s.issued(ctx, src, c, t.Subject, grant, audit.TokenRefreshed, t.Family, resp)
	return resp, nil
}

// reused revokes the chain of a refresh token presented after it was
// exchanged (RFC 9700 §4.14.2): one of the presenters is not its owner.
func (s *Service) reused(ctx context.Context, r *http.Request, src string, c *store.OAuthClient, t *store.OAuthToken, grant string) *tokenError {
	n, err := s.st.RevokeTokenFamily(ctx, t.Family, s.now().UTC())
	if err != nil {
		return serverError(err)
	}
	actor := "client:" + c.ID
	if t.Subject != "" {
		actor += "/account:" + t.Subject
	}
	s.audit.Record(ctx, store.AuditEvent{Tenant: c.Tenant, Actor: actor, Event: audit.TokenReused, Outcome: audit.Failure, Object: "family:" + t.Family, Source: src,
		Detail: fmt.Sprintf("a used refresh token was presented again (grant=%s); %d tokens of its chain revoked", grant, n)})
	return errf(http.StatusBadRequest, "invalid_grant", "the refresh token was already used; its whole chain is now revoked")
}

// handleRevoke is RFC 7009: a client revokes one of its own tokens; revoking
// either token of a grant revokes its whole chain. Unknown tokens are not an
// error (§2.2).
func (s *Service) handleRevoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	now := s.now()
	src := throttle.SourceIP(r, s.cfg.TrustedProxies)
	form, terr := readForm(w, r)
	if terr != nil {
		s.fail(w, r, terr)
		return
	}
	cred, terr := readCredential(r, form)
	if terr == errNoClientAuth {
		// A refresh token of a client allowed refresh tokens alone
		// revokes its own chain without the client's authentication, as
		// it is exchanged without it. Anything else gets the one 401 of an
		// unauthenticated request, whether the token exists or not.
		c, t, terr := s.aloneToken(ctx, r, src, form.Get("token"), form, revokeAlone)
		if terr != nil {
			s.fail(w, r, terr)
			return
		}
		if t.Revoked == nil {
			n, err := s.st.RevokeTokenFamily(ctx, t.Family, now.UTC())
			if err != nil {
				s.fail(w, r, serverError(err))
				return
			}
			s.audit.Record(ctx, store.AuditEvent{Tenant: c.Tenant, Actor: "client:" + c.ID, Event: audit.TokenRevoked, Object: "family:" + t.Family, Source: src,
				Detail: fmt.Sprintf("revocation endpoint, refresh token presented without client authentication; %d tokens revoked", n)})
		}
		s.failures.Succeeded(src, c.ID, now)
		noStore(w.Header())
		w.WriteHeader(http.StatusOK)
		return
	}
	if terr != nil {
		s.fail(w, r, terr)
		return
	}
	if blocked, wait := s.failures.Check(src, cred.id, "", now); blocked {
		e := errf(http.StatusTooManyRequests, "slow_down", "too many failed attempts")
		e.retryAfter = wait
		s.fail(w, r, e)
		return
	}
	c, terr := s.authenticateClient(ctx, r, cred)
	if terr != nil {
		if terr.status == http.StatusUnauthorized {
			s.failures.Failed(src, cred.id, "", now)
			terr = s.refused(ctx, r, src, c, "", "revoke", terr)
		}
		s.fail(w, r, terr)
		return
	}
	s.failures.Succeeded(src, c.ID, now)
	tok := form.Get("token")
	if tok == "" {
		s.fail(w, r, invalidRequest("token is required"))
		return
	}
	if len(tok) <= 512 {
		t, err := s.st.OAuthToken(ctx, auth.Hash(tok))
		switch {
		case err == nil && t.ClientID == c.ID && t.Revoked == nil:
			n, err := s.st.RevokeTokenFamily(ctx, t.Family, now.UTC())
			if err != nil {
				s.fail(w, r, serverError(err))
				return
			}
			s.audit.Record(ctx, store.AuditEvent{Tenant: c.Tenant, Actor: "client:" + c.ID, Event: audit.TokenRevoked, Object: "family:" + t.Family, Source: src,
				Detail: fmt.Sprintf("revocation endpoint, %s token presented; %d tokens revoked", t.Kind, n)})
		case err != nil && !isNotFound(err):
			s.fail(w, r, serverError(err))
			return
		}
	}
	noStore(w.Header())
	w.WriteHeader(http.StatusOK)
}

// handleMetadata serves RFC 8414 authorization-server metadata.
func (s *Service) handleMetadata(w http.ResponseWriter, r *http.Request) {
	iss := s.issuer(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"token_endpoint":                        iss + TokenPaths[0],
		"revocation_endpoint":                   iss + RevokePaths[0],
		"grant_types_supported":                 []string{GrantClientCredentials, GrantPassword, GrantRefresh},
		"response_types_supported":              []string{},
		"scopes_supported":                      []string{auth.ScopeRead, auth.ScopeWrite, "scim"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported":      SigningAlgs,
		"revocation_endpoint_auth_methods_supported":            []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"revocation_endpoint_auth_signing_alg_values_supported": SigningAlgs,
		"service_documentation":                                 "https://github.com/pamscim/pamscim#oauth-20",
	})
}
