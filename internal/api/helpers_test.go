package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/api"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
)

// env is a real server on a real listener over a real store: a SQLite
// file, or a PostgreSQL schema when PAMSCIM_TEST_BACKEND=postgres
// (backend_test.go).
type env struct {
	t     *testing.T
	srv   *httptest.Server
	st    store.Store
	au    *auth.Service
	token string
	base  string
	api   *api.Server
}

func newEnv(t *testing.T, cfg ...api.Config) *env {
	t.Helper()
	reg := schema.Default()
	st := openTestStore(t, reg)
	au := auth.NewService(st)
	tok, _, err := au.CreateToken(context.Background(), store.DefaultTenant, "test", []string{auth.ScopeRead, auth.ScopeWrite}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	var c api.Config
	if len(cfg) > 0 {
		c = cfg[0]
	}
	s := api.New(reg, st, au, c, nil)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); st.Close() })
	return &env{t: t, srv: srv, st: st, au: au, token: tok, base: srv.URL + "/scim/v2", api: s}
}

// setClock moves the server's clock (token expiry is checked by auth's own clock).
func (e *env) setClock(at time.Time) { e.api.SetClock(func() time.Time { return at }) }

type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (e *env) do(method, path string, body any, hdr ...string) *resp {
	e.t.Helper()
	return e.doToken(e.token, method, path, body, hdr...)
}

func (e *env) doToken(token, method, path string, body any, hdr ...string) *resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, _ := json.Marshal(b)
		rd = bytes.NewReader(enc)
	}
	url := path
	if !strings.HasPrefix(path, "http") {
		url = e.base + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := &resp{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			e.t.Fatalf("%s %s: response is not a JSON object: %s", method, path, raw)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/scim+json" {
			e.t.Fatalf("%s %s: Content-Type %q", method, path, ct)
		}
	}
	return r
}

// want checks the status, and for errors the SCIM error body.
func (r *resp) want(t *testing.T, status int, scimType ...string) *resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if status >= 400 {
		if s, _ := r.body["status"].(string); s != itoa(status) {
			t.Fatalf("error body status %v, want %q: %s", r.body["status"], itoa(status), r.raw)
		}
		if sc, _ := r.body["schemas"].([]any); len(sc) != 1 || sc[0] != schema.ErrorURN {
			t.Fatalf("error body schemas: %s", r.raw)
		}
		if len(scimType) > 0 && r.body["scimType"] != scimType[0] {
			t.Fatalf("scimType %v, want %s: %s", r.body["scimType"], scimType[0], r.raw)
		}
	}
	return r
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// get walks a dotted path through a decoded JSON value; "emails.0.value".
func get(v any, path string) any {
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[p]
		case []any:
			i := 0
			for _, c := range p {
				i = i*10 + int(c-'0')
			}
			if i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// getURN reads an attribute of an extension object.
func getURN(body map[string]any, urn, path string) any {
	return get(body[urn], path)
}

func (e *env) createUser(name string, extra ...map[string]any) map[string]any {
	e.t.Helper()
	u := map[string]any{
		"schemas":  []string{schema.UserURN},
		"userName": name,
		"name":     map[string]any{"givenName": "Given " + name, "familyName": "Family"},
		"emails":   []any{map[string]any{"value": name + "@example.com", "type": "work", "primary": true}},
		"active":   true,
	}
	for _, x := range extra {
		for k, v := range x {
			u[k] = v
		}
	}
	return e.do("POST", "/Users", u).want(e.t, 201).body
}

func (e *env) createGroup(name string, members ...string) map[string]any {
	e.t.Helper()
	var ms []any
	for _, m := range members {
		ms = append(ms, map[string]any{"value": m})
	}
	g := map[string]any{"schemas": []string{schema.GroupURN}, "displayName": name}
	if ms != nil {
		g["members"] = ms
	}
	return e.do("POST", "/Groups", g).want(e.t, 201).body
}
