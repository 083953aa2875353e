package verify_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/client"
	"github.com/pamscim/pamscim/internal/client/scimtest"
	"github.com/pamscim/pamscim/internal/verify"
)

func newClient(t *testing.T, base, token string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{BaseURL: base, Auth: client.Bearer(token),
		Retry: client.RetryPolicy{MaxRetries: 1, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPamscimPassesVerify is the CI run of `pamscim verify` against pamscim:
// every check passes or is skipped only because the feature is not
// advertised, and nothing the run created is left behind.
func TestPamscimPassesVerify(t *testing.T) {
	s := scimtest.Start(t)
	c := newClient(t, s.URL, s.Token)
	rep, err := verify.Run(context.Background(), c, verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep.WriteTable(&out)
	t.Log("\n" + out.String())
	if !rep.OK() {
		t.Fatalf("pamscim fails its own verify:\n%s", out.String())
	}
	if rep.Pass < 40 {
		t.Fatalf("only %d checks passed", rep.Pass)
	}
	for _, r := range rep.Results {
		if r.Status == verify.Skip && !strings.Contains(r.Detail, "ServiceProviderConfig") {
			t.Errorf("%s skipped for a reason other than an unadvertised feature: %s", r.Name, r.Detail)
		}
	}
	// Nothing left: no user or group carries the run's prefix.
	for _, ep := range []string{"/Users", "/Groups"} {
		st, err := c.List(context.Background(), ep, client.ListOptions{}, func(client.Resource) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		if st.Resources != 0 {
			t.Errorf("%s: %d resources left after the run", ep, st.Resources)
		}
	}
	// --json is one object naming every check.
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back verify.Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Results) != len(verify.Checks()) {
		t.Fatalf("JSON report: %v, %d results", err, len(back.Results))
	}
}

func TestOnly(t *testing.T) {
	s := scimtest.Start(t)
	c := newClient(t, s.URL, s.Token)
	rep, err := verify.Run(context.Background(), c, verify.Options{Only: []string{"filter.", "crud.create-user"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		if !strings.HasPrefix(r.Name, "filter.") && r.Name != "crud.create-user" {
			t.Errorf("%s ran", r.Name)
		}
	}
	if _, err := verify.Run(context.Background(), c, verify.Options{Only: []string{"nope"}}); err == nil {
		t.Fatal("an unknown check name was accepted")
	}
}

// fault is one deliberate defect of the broken server.
type fault struct {
	name string
	// req may rewrite the request before pamscim sees it; it returns false
	// to answer with the recorded response instead.
	req func(r *http.Request) bool
	// res rewrites pamscim's answer.
	res func(r *http.Request, w *recorded)
	// wrap, when set, replaces the handler (faults that need to call it).
	wrap func(h http.Handler) http.Handler
	// caught are the checks that must FAIL because of it.
	caught []string
}

type recorded struct {
	status int
	header http.Header
	body   []byte
}

func (rc *recorded) json() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(rc.body, &m)
	return m
}

func (rc *recorded) setJSON(m map[string]any) {
	rc.body, _ = json.Marshal(m)
}

func isList(r *http.Request) bool {
	return r.Method == "GET" && regexp.MustCompile(`/scim/v2/(Users|Groups)$`).MatchString(r.URL.Path)
}

var faults = []fault{
	{name: "wrong totalResults", res: func(r *http.Request, w *recorded) {
		if isList(r) && w.status == 200 {
			m := w.json()
			m["totalResults"] = m["totalResults"].(float64) + 5
			w.setJSON(m)
		}
	}, caught: []string{"filter.eq", "paging.index", "filter.no-match"}},
	{name: "ignores filters", req: func(r *http.Request) bool {
		q := r.URL.Query()
		q.Del("filter")
		r.URL.RawQuery = q.Encode()
		return true
	}, caught: []string{"filter.eq", "filter.case-insensitive", "filter.invalid", "paging.index", "filter.group-display-name"}},
	{name: "PATCH does nothing", req: func(r *http.Request) bool {
		return r.Method != "PATCH"
	}, res: func(r *http.Request, w *recorded) {
		if r.Method == "PATCH" {
			w.status, w.body = 204, nil
		}
	}, caught: []string{"patch.replace", "patch.add", "patch.members", "dialect.okta-no-path-replace", "dialect.entra-capitalised-ops"}},
	{name: "no ETag header", res: func(r *http.Request, w *recorded) {
		w.header.Del("ETag")
	}, caught: []string{"etag.header", "etag.if-none-match", "etag.if-match"}},
	{name: "If-Match ignored", req: func(r *http.Request) bool {
		r.Header.Del("If-Match")
		return true
	}, caught: []string{"etag.if-match"}},
	{name: "bad error bodies", res: func(r *http.Request, w *recorded) {
		if w.status >= 400 {
			w.body = []byte(`{"error":"something went wrong"}`)
		}
	}, caught: []string{"errors.not-found", "uniqueness.username", "filter.invalid", "errors.malformed-json"}},
	{name: "numeric error status", res: func(r *http.Request, w *recorded) {
		if w.status >= 400 && len(w.body) > 0 {
			m := w.json()
			m["status"] = float64(w.status)
			w.setJSON(m)
		}
	}, caught: []string{"errors.not-found", "errors.unauthorized"}},
	{name: "duplicate userName accepted", res: func(r *http.Request, w *recorded) {
		if w.status == 409 {
			w.status, w.body = 201, []byte(`{"id":"dup","schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]}`)
		}
	}, caught: []string{"uniqueness.username", "uniqueness.username-case"}},
	{name: "password returned", res: func(r *http.Request, w *recorded) {
		if strings.Contains(r.URL.Path, "/Users") && w.status < 300 && len(w.body) > 0 {
			m := w.json()
			if m["userName"] != nil {
				m["password"] = "leaked"
				w.setJSON(m)
			}
		}
	}, caught: []string{"projection.password-never-returned"}},
	{name: "ignores attributes and excludedAttributes", req: func(r *http.Request) bool {
		q := r.URL.Query()
		q.Del("attributes")
		q.Del("excludedAttributes")
		r.URL.RawQuery = q.Encode()
		return true
	}, caught: []string{"projection.attributes", "projection.excluded-attributes", "filter.group-display-name"}},
	{name: "cursor paging stops after one page", res: func(r *http.Request, w *recorded) {
		if isList(r) && r.URL.Query().Has("cursor") && w.status == 200 {
			m := w.json()
			delete(m, "nextCursor")
			w.setJSON(m)
		}
	}, caught: []string{"paging.cursor"}},
	{name: "startIndex not echoed", res: func(r *http.Request, w *recorded) {
		if isList(r) && w.status == 200 {
			m := w.json()
			if m["startIndex"] != nil {
				m["startIndex"] = float64(1)
			}
			w.setJSON(m)
		}
	}, caught: []string{"paging.index"}},
	{name: "Entra member removal empties the group", req: func(r *http.Request) bool {
		if r.Method == "PATCH" && strings.Contains(r.URL.Path, "/Groups/") {
			b, _ := io.ReadAll(r.Body)
			var m map[string]any
			_ = json.Unmarshal(b, &m)
			for _, op := range m["Operations"].([]any) {
				o := op.(map[string]any)
				if strings.EqualFold(o["op"].(string), "remove") && o["path"] == "members" {
					delete(o, "value") // a strict server reads it as "remove path members"
				}
			}
			b, _ = json.Marshal(m)
			r.Body = io.NopCloser(bytes.NewReader(b))
			r.ContentLength = int64(len(b))
		}
		return true
	}, caught: []string{"dialect.entra-remove-member-value"}},
	{name: "DELETE does nothing", req: func(r *http.Request) bool {
		return r.Method != "DELETE"
	}, res: func(r *http.Request, w *recorded) {
		if r.Method == "DELETE" {
			w.status, w.body = 204, nil
		}
	}, caught: []string{"crud.delete-user"}},
	{name: "Location differs from meta.location", res: func(r *http.Request, w *recorded) {
		if w.status == 201 {
			w.header.Set("Location", "http://elsewhere.invalid/x")
		}
	}, caught: []string{"crud.create-user"}},
	{name: "JSON typed application/json", res: func(r *http.Request, w *recorded) {
		w.header.Set("Content-Type", "application/json")
	}, caught: []string{"errors.content-type"}},
	{name: "advertises Bulk it does not serve", res: func(r *http.Request, w *recorded) {
		if strings.HasSuffix(r.URL.Path, "/ServiceProviderConfig") {
			m := w.json()
			m["bulk"] = map[string]any{"supported": true, "maxOperations": 10, "maxPayloadSize": 1 << 20}
			w.setJSON(m)
		}
		if strings.HasSuffix(r.URL.Path, "/Bulk") {
			w.status = 404
			w.body = []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"no such endpoint"}`)
		}
	}, caught: []string{"bulk.create-with-bulkid", "bulk.per-operation-errors", "bulk.max-operations"}},
	{name: "manager echoed as a bare string", res: func(r *http.Request, w *recorded) {
		if r.Method == "GET" && strings.Contains(r.URL.Path, "/Users/") && w.status == 200 {
			m := w.json()
			if e, ok := m["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any); ok {
				if mg, ok := e["manager"].(map[string]any); ok {
					e["manager"] = mg["value"]
					w.setJSON(m)
				}
			}
		}
	}, caught: []string{"dialect.entra-manager-string"}},
	{name: "advertises a resource type it does not serve", res: func(r *http.Request, w *recorded) {
		if strings.HasSuffix(r.URL.Path, "/ResourceTypes") {
			m := w.json()
			m["Resources"] = append(m["Resources"].([]any), map[string]any{"id": "Device", "name": "Device", "endpoint": "/Devices", "schema": "urn:ietf:params:scim:schemas:core:2.0:User"})
			w.setJSON(m)
		}
	}, caught: []string{"discovery.endpoints-answer"}},
	{name: "sortBy ignored", req: func(r *http.Request) bool {
		q := r.URL.Query()
		q.Del("sortBy")
		q.Del("sortOrder")
		r.URL.RawQuery = q.Encode()
		return true
	}, caught: []string{"sort.sort-by"}},
	{name: "member adds by read-modify-write", wrap: readModifyWrite, caught: []string{"patch.concurrent-members"}},
	{name: "undeclared attribute returned", res: func(r *http.Request, w *recorded) {
		if r.Method == "GET" && strings.Contains(r.URL.Path, "/Users/") && w.status == 200 {
			m := w.json()
			m["favouriteColour"] = "blue"
			w.setJSON(m)
		}
	}, caught: []string{"discovery.schema-matches-behaviour"}},
}

// readModifyWrite turns a PATCH that adds members into what a naive server
// does: read the group, add in memory, write the whole list back — so that
// concurrent adds overwrite each other.
func readModifyWrite(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "PATCH" || !strings.Contains(r.URL.Path, "/Groups/") {
			h.ServeHTTP(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var p struct{ Operations []map[string]any }
		json.Unmarshal(b, &p)
		if len(p.Operations) != 1 || p.Operations[0]["op"] != "add" || p.Operations[0]["path"] != "members" {
			r.Body = io.NopCloser(bytes.NewReader(b))
			h.ServeHTTP(w, r)
			return
		}
		get := httptest.NewRequest("GET", r.URL.Path, nil)
		get.Header = r.Header.Clone()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, get)
		var g map[string]any
		json.Unmarshal(rec.Body.Bytes(), &g)
		ms, _ := g["members"].([]any)
		ms = append(ms, p.Operations[0]["value"].([]any)...)
		time.Sleep(30 * time.Millisecond) // the window in which other adds are lost
		put, _ := json.Marshal(map[string]any{"schemas": g["schemas"], "displayName": g["displayName"], "members": ms})
		pr := httptest.NewRequest("PUT", r.URL.Path, bytes.NewReader(put))
		pr.Header = r.Header.Clone()
		h.ServeHTTP(w, pr)
	})
}

// broken wraps pamscim's handler with one fault.
func broken(h http.Handler, f fault) http.Handler {
	if f.wrap != nil {
		h = f.wrap(h)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorded{status: 200, header: http.Header{}}
		pass := true
		if f.req != nil {
			pass = f.req(r)
		}
		if pass {
			rr := httptest.NewRecorder()
			h.ServeHTTP(rr, r)
			rec.status, rec.header, rec.body = rr.Code, rr.Header(), rr.Body.Bytes()
		} else {
			rec.header.Set("Content-Type", client.ContentType)
		}
		if f.res != nil {
			f.res(r, rec)
		}
		for k, vs := range rec.header {
			w.Header()[k] = vs
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.status)
		w.Write(rec.body)
	})
}

// TestVerifyCatchesSeededFaults: each fault of the broken server is caught
// by the checks named for it (they FAIL, with the fault in their detail).
func TestVerifyCatchesSeededFaults(t *testing.T) {
	s := scimtest.Start(t)
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			srv := httptest.NewServer(broken(s.HTTP.Config.Handler, f))
			defer srv.Close()
			c := newClient(t, srv.URL+"/scim/v2", s.Token)
			// Only the checks named for the fault run: the whole suite
			// against every fault would cost CI a minute under -race.
			rep, err := verify.Run(context.Background(), c, verify.Options{Only: f.caught})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]verify.Result{}
			for _, r := range rep.Results {
				got[r.Name] = r
			}
			for _, name := range f.caught {
				r, ok := got[name]
				if !ok {
					t.Fatalf("no check named %s", name)
				}
				if r.Status != verify.Fail {
					t.Errorf("fault %q: %s is %s, want FAIL", f.name, name, r.Status)
				} else {
					t.Logf("%s FAIL: %s", name, r.Detail)
				}
			}
		})
	}
}

// TestCleanupTouchesOnlyItsOwn: against a server that ignores filters, the
// cleanup's sweep sees every user, and must still delete only its own.
func TestCleanupTouchesOnlyItsOwn(t *testing.T) {
	s := scimtest.Start(t)
	c := newClient(t, s.URL, s.Token)
	keep, err := c.Create(context.Background(), "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "keep-me"})
	if err != nil {
		t.Fatal(err)
	}
	// Against a server that ignores filters, the sweep sees every user.
	f := faults[1]
	srv := httptest.NewServer(broken(s.HTTP.Config.Handler, f))
	defer srv.Close()
	if _, err := verify.Run(context.Background(), newClient(t, srv.URL+"/scim/v2", s.Token), verify.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(context.Background(), client.ResourcePath("/Users", keep.Resource.ID()), nil); err != nil {
		t.Fatalf("the cleanup deleted a user it did not create: %v", err)
	}
}
