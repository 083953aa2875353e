package bench

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pamscim/pamscim/internal/api"
	"github.com/pamscim/pamscim/internal/audit"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/oauth"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
)

// oauthFix is a server with the OAuth endpoints, the audit trail and the
// default rate limit, over a store that already holds PAMSCIM_BENCH_TOKENS
// issued OAuth tokens (default 100,000) so that lookups are not into an
// empty table.
type oauthFix struct {
	dir         string
	st          store.Store
	au          *auth.Service
	srv         *httptest.Server
	id, secret  string
	pat, access string
	userID      string
	httpc       *http.Client
	closeOnce   sync.Once
}

func newOAuthFix(b *testing.B) *oauthFix {
	b.Helper()
	ctx := context.Background()
	reg := schema.Default()
	// Not b.TempDir: the fixture outlives the benchmark that creates it.
	dir, err := os.MkdirTemp("", "pamscim-bench-oauth-")
	if err != nil {
		b.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(dir, "data"), reg, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	au := auth.NewService(st)
	rec := audit.New(st, nil)
	srv := api.New(reg, st, au, api.Config{}, nil)
	svc := oauth.New(st, oauth.Config{}, rec, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	svc.Register(srv.Handle)
	srv.UseAudit(rec)
	srv.UseFailures(svc.Failures())
	srv.UseRateLimit(1e9, 1e9) // measure the limiter's cost, never its refusals
	hs := httptest.NewServer(srv.Handler())
	f := &oauthFix{dir: dir, st: st, au: au, srv: hs, httpc: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	c, secret, err := svc.CreateClient(ctx, oauth.ClientSpec{Tenant: store.DefaultTenant, Name: "bench"}, "bench")
	if err != nil {
		b.Fatal(err)
	}
	f.id, f.secret = c.ID, secret
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("PAMSCIM_BENCH_TOKENS")); err == nil && v >= 0 {
		n = v
	}
	now := time.Now()
	for i := 0; i < n; i += 1000 {
		batch := make([]*store.OAuthToken, 0, 1000)
		for j := 0; j < 1000 && i+j < n; j++ {
			batch = append(batch, &store.OAuthToken{Hash: auth.Hash(auth.NewSecret(auth.AccessPrefix)), Kind: store.KindAccess, Tenant: store.DefaultTenant,
				ClientID: c.ID, Family: uuid.NewString(), Scopes: []string{auth.ScopeRead}, Created: now, Expires: now.Add(time.Hour)})
		}
		if err := st.IssueTokens(ctx, batch...); err != nil {
			b.Fatal(err)
		}
	}
	if f.pat, _, err = au.CreateToken(ctx, store.DefaultTenant, "bench", []string{auth.ScopeRead, auth.ScopeWrite}, 0, "bench"); err != nil {
		b.Fatal(err)
	}
	f.access = f.tokenRequest(b)
	f.userID = f.do(b, "POST", "/scim/v2/Users", f.pat, `{"schemas":["`+schema.UserURN+`"],"userName":"bench"}`, 201)
	return f
}

func (f *oauthFix) close() {
	f.closeOnce.Do(func() { f.srv.Close(); f.st.Close(); os.RemoveAll(f.dir) })
}

// tokenRequest runs one client_credentials grant and returns the access token.
func (f *oauthFix) tokenRequest(b *testing.B) string {
	req, _ := http.NewRequest("POST", f.srv.URL+"/scim/oauth/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(f.id, f.secret)
	res, err := f.httpc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		b.Fatalf("token: %d %s", res.StatusCode, body)
	}
	s := string(body)
	i := strings.Index(s, auth.AccessPrefix)
	return s[i : i+len(auth.AccessPrefix)+43]
}

// do sends a request and returns the created id (for 201) or "".
func (f *oauthFix) do(b *testing.B, method, path, token, body string, want int) string {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	res, err := f.httpc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != want {
		b.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	if want == 201 {
		s := string(raw)
		i := strings.Index(s, `"id":"`)
		return s[i+6 : i+6+36]
	}
	return ""
}

var (
	oauthOnce sync.Once
	oauthF    *oauthFix
)

func getOAuthFix(b *testing.B) *oauthFix {
	oauthOnce.Do(func() { oauthF = newOAuthFix(b) })
	return oauthF
}

// BenchmarkTokenEndpoint: client_credentials grants (Basic auth, an access
// and a refresh token stored, one audit row) from 8 concurrent clients.
func BenchmarkTokenEndpoint(b *testing.B) {
	f := getOAuthFix(b)
	b.SetParallelism(4) // × GOMAXPROCS(2) = 8 clients
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			f.tokenRequest(b)
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "grants/s")
}

// BenchmarkVerify is the cost of checking a bearer token in process: the
// store lookup by hash plus the rate limiter, per token kind.
func BenchmarkVerify(b *testing.B) {
	f := getOAuthFix(b)
	ctx := context.Background()
	for _, tc := range []struct{ name, token string }{{"named", f.pat}, {"oauth", f.access}} {
		b.Run(tc.name, func(b *testing.B) {
			h := "Bearer " + tc.token
			for b.Loop() {
				if _, err := f.au.Authenticate(ctx, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGetUserByToken is GET /Users/{id} over HTTP with each kind of
// token, and GET /healthz (no authentication, no store) as the floor.
func BenchmarkGetUserByToken(b *testing.B) {
	f := getOAuthFix(b)
	for _, tc := range []struct{ name, path, token string }{
		{"named", "/scim/v2/Users/" + f.userID, f.pat},
		{"oauth", "/scim/v2/Users/" + f.userID, f.access},
		{"healthz", "/healthz", ""},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				f.do(b, "GET", tc.path, tc.token, "", 200)
			}
		})
	}
}
