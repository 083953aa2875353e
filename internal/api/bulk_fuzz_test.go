package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pamscim/pamscim/internal/api"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
)

// FuzzBulk sends arbitrary bodies to POST /Bulk on a real server: every
// answer is a SCIM JSON body, 200 with a BulkResponse or a 4xx error, never
// a 5xx, and each operation result has a method and a string status.
// Seeds run in go test; fuzz by hand with go test -fuzz FuzzBulk ./internal/api.
func FuzzBulk(f *testing.F) {
	for _, s := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Users","bulkId":"a","data":{"userName":"a"}}]}`,
		`{"Operations":[{"method":"POST","path":"/Groups","bulkId":"g","data":{"displayName":"g","members":[{"value":"bulkId:u"}]}},{"method":"POST","path":"/Users","bulkId":"u","data":{"userName":"u"}}]}`,
		`{"Operations":[{"method":"POST","path":"/Groups","bulkId":"a","data":{"displayName":"A","members":[{"value":"bulkId:b"}]}},{"method":"POST","path":"/Groups","bulkId":"b","data":{"displayName":"B","members":[{"value":"bulkId:a"}]}}]}`,
		`{"failOnErrors":1,"Operations":[{"method":"PATCH","path":"/Users/bulkId:x","data":[{"op":"add","path":"title","value":"t"}]},{"method":"DELETE","path":"/Users/1"}]}`,
		`{"Operations":[{"method":"PUT","path":"/Users/../Bulk","data":{}},{"method":"post","path":"Users"}]}`,
		`{"failOnErrors":"2","Operations":[null]}`,
		`{"Operations":[{"method":"POST","path":"/Users","bulkId":"a","data":{"userName":"bulkId:a","nickName":"bulkId:a"}}]}`,
		`[]`, `{`, `{"Operations":{}}`,
	} {
		f.Add(s)
	}
	// One real server for the whole run (a store per input would make
	// fuzzing crawl); inputs may see each other's resources, which is fine:
	// the property holds whatever the store holds.
	reg := schema.Default()
	st, err := sqlite.Open(context.Background(), filepath.Join(f.TempDir(), "data"), reg, sqlite.Options{})
	if err != nil {
		f.Fatal(err)
	}
	au := auth.NewService(st)
	tok, _, err := au.CreateToken(context.Background(), store.DefaultTenant, "fuzz", []string{auth.ScopeRead, auth.ScopeWrite}, 0, "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	srv := httptest.NewServer(api.New(reg, st, au, api.Config{}, nil).Handler())
	f.Cleanup(func() { srv.Close(); st.Close() })
	e := &env{srv: srv, token: tok, base: srv.URL + "/scim/v2"}
	f.Fuzz(func(t *testing.T, body string) {
		req, _ := http.NewRequest("POST", e.base+"/Bulk", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Content-Type", "application/scim+json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatalf("status %d: body is not a JSON object: %v", res.StatusCode, err)
		}
		switch {
		case res.StatusCode == 200:
			ops, ok := out["Operations"].([]any)
			if !ok {
				t.Fatalf("200 without Operations: %v", out)
			}
			for _, op := range ops {
				m, _ := op.(map[string]any)
				st, ok := m["status"].(string)
				if !ok || m["method"] == nil || st == "" || st[0] == '5' {
					t.Fatalf("bad operation result %v for %s", m, body)
				}
			}
		case res.StatusCode >= 400 && res.StatusCode < 500:
			if out["status"] == nil || out["detail"] == nil {
				t.Fatalf("error without status/detail: %v", out)
			}
		default:
			t.Fatalf("status %d for %s: %v", res.StatusCode, body, out)
		}
	})
}
