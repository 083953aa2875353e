package oauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pamscim/pamscim/internal/oauth"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
)

// FuzzTokenRequest throws arbitrary bodies and Authorization headers at the
// token endpoint: every answer is 200 with tokens or an RFC 6749 error,
// never a 500 or a panic.
func FuzzTokenRequest(f *testing.F) {
	st, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "data"), schema.Default(), sqlite.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	svc := oauth.New(st, oauth.Config{}, nil, nil)
	c, secret, err := svc.CreateClient(context.Background(), oauth.ClientSpec{Tenant: store.DefaultTenant, Name: "fuzz", Grants: []string{"client_credentials", "refresh_token", "password"}}, "test")
	if err != nil {
		f.Fatal(err)
	}
	mux := http.NewServeMux()
	svc.Register(mux.Handle)
	f.Add("grant_type=client_credentials", "Basic ZnV6ejp4")
	f.Add("grant_type=client_credentials&client_id="+c.ID+"&client_secret="+secret, "")
	f.Add("grant_type=refresh_token&refresh_token=pamscim_rt_x", "")
	f.Add("grant_type=password&username=a&password=b&scope=scim", "Basic "+c.ID)
	f.Add("grant_type=client_credentials&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=e30.e30.", "")
	f.Add("%zz&&=", "Bearer x")
	codes := []string{"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client", "unsupported_grant_type", "invalid_scope", "slow_down"}
	f.Fuzz(func(t *testing.T, body, authz string) {
		req := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if authz != "" {
			req.Header["Authorization"] = []string{authz}
		}
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%d not JSON: %q", rec.Code, rec.Body.String())
		}
		switch rec.Code {
		case 200:
			if out["access_token"] == nil {
				t.Fatalf("200 without a token: %v", out)
			}
		case 400, 401, 429:
			if code, _ := out["error"].(string); !slices.Contains(codes, code) {
				t.Fatalf("%d with error %q", rec.Code, code)
			}
		default:
			t.Fatalf("status %d: %v", rec.Code, out)
		}
		if rec.Header().Get("Cache-Control") != "no-store" {
			t.Fatal("no Cache-Control: no-store")
		}
	})
}
