package fulfill_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/client"
	"github.com/pamscim/pamscim/internal/client/scimtest"
	"github.com/pamscim/pamscim/internal/fulfill"
)

const entURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

func newClient(t *testing.T, base, token string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{BaseURL: base, Auth: client.Bearer(token),
		Retry: client.RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func parse(t *testing.T, f fulfill.Format, s string) []*fulfill.Change {
	t.Helper()
	cs, err := fulfill.Parse(strings.NewReader(s), f)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// scenario is one file of changes covering every op, a 409 on create, a
// lookup that fails, and memberships of users created in the same file.
const scenarioCSV = `op,userName,id,name:givenName,name:familyName,emails:value,emails:type,active,employeeNumber,groupName,memberUserName
create,alice,,Alice,Smith,alice@work.example;alice@home.example,work;home,true,1001,,
create,bob,,Bob,Jones,bob@work.example,work,true,1002,,
create,carol,,Carol,King,carol@work.example,work,true,1003,,
add-member,,,,,,,,,Admins,alice
add-member,,,,,,,,,Admins,bob
add-member,,,,,,,,,Admins,carol
update,bob,,Robert,,,,false,,,
remove-member,,,,,,,,,Admins,carol
create,existing,,Exi,Sting,,,true,2000,,
delete,carol,,,,,,,,,
update,nobody,,X,,,,,,,
add-member,,,,,,,,,NoSuchGroup,alice
`

type world struct {
	s     *scimtest.Server
	c     *client.Client
	admin string
}

func newWorld(t *testing.T) *world {
	s := scimtest.Start(t)
	c := newClient(t, s.URL, s.Token)
	ctx := context.Background()
	g, err := c.Create(ctx, "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "Admins"})
	if err != nil {
		t.Fatal(err)
	}
	// "existing" is there already: its create is answered 409.
	if _, err := c.Create(ctx, "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "existing", "title": "kept"}); err != nil {
		t.Fatal(err)
	}
	return &world{s: s, c: c, admin: g.Resource.ID()}
}

func (w *world) user(t *testing.T, name string) client.Resource {
	t.Helper()
	var got client.Resource
	_, err := w.c.List(context.Background(), "/Users", client.ListOptions{Filter: `userName eq "` + name + `"`}, func(r client.Resource) error {
		got = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// check asserts the server's state and the report after the scenario.
func (w *world) check(t *testing.T, rep *fulfill.Report) {
	t.Helper()
	if rep.OK != 10 || rep.Failed != 2 || len(rep.Outcomes) != 12 {
		var b bytes.Buffer
		rep.WriteTable(&b)
		t.Fatalf("report:\n%s", b.String())
	}
	byLine := map[int]fulfill.Outcome{}
	for _, o := range rep.Outcomes {
		byLine[o.Line] = o
	}
	if o := byLine[10]; !o.OK || o.Action != "exists, updated" {
		t.Errorf("create of an existing account: %+v", o)
	}
	if o := byLine[12]; o.OK || !strings.Contains(o.Error, "nobody") {
		t.Errorf("update of an unknown user: %+v", o)
	}
	if o := byLine[13]; o.OK || !strings.Contains(o.Error, "NoSuchGroup") {
		t.Errorf("membership of an unknown group: %+v", o)
	}
	alice := w.user(t, "alice")
	if alice == nil || alice.Get("name").(map[string]any)["givenName"] != "Alice" {
		t.Fatalf("alice: %v", alice)
	}
	emails := alice.Get("emails").([]any)
	if len(emails) != 2 || emails[1].(map[string]any)["type"] != "home" || emails[0].(map[string]any)["value"] != "alice@work.example" {
		t.Fatalf("alice emails: %v", emails)
	}
	if alice.Get(entURN).(map[string]any)["employeeNumber"] != "1001" || alice.Get("active") != true {
		t.Fatalf("alice: %v", alice)
	}
	bob := w.user(t, "bob")
	nm := bob.Get("name").(map[string]any)
	if nm["givenName"] != "Robert" || nm["familyName"] != "Jones" || bob.Get("active") != false {
		t.Fatalf("bob after update: %v", bob)
	}
	if w.user(t, "carol") != nil {
		t.Fatal("carol was not deleted")
	}
	ex := w.user(t, "existing")
	if ex.Str("title") != "kept" || ex.Get(entURN).(map[string]any)["employeeNumber"] != "2000" {
		t.Fatalf("existing after 409 → update: %v", ex)
	}
	g, err := w.c.Get(context.Background(), client.ResourcePath("/Groups", w.admin), nil)
	if err != nil {
		t.Fatal(err)
	}
	var members []string
	for _, m := range g.Resource.Get("members").([]any) {
		members = append(members, m.(map[string]any)["value"].(string))
	}
	slices.Sort(members)
	want := []string{alice.ID(), bob.ID()}
	slices.Sort(want)
	if !slices.Equal(members, want) {
		t.Fatalf("Admins members %v, want %v", members, want)
	}
}

func TestFulfilSingleRequests(t *testing.T) {
	for _, workers := range []int{1, 4} {
		t.Run(fmt.Sprintf("%d workers", workers), func(t *testing.T) {
			w := newWorld(t)
			var told atomic.Int64
			rep, err := fulfill.Run(context.Background(), w.c, parse(t, fulfill.CSV, scenarioCSV), fulfill.Options{BulkMax: -1, Workers: workers,
				Progress: func(fulfill.Outcome) { told.Add(1) }})
			if err != nil {
				t.Fatal(err)
			}
			if rep.BulkRequests != 0 || told.Load() != 12 {
				t.Fatalf("%d bulk requests with Bulk off, %d progress calls", rep.BulkRequests, told.Load())
			}
			for i, o := range rep.Outcomes {
				if i > 0 && o.Line <= rep.Outcomes[i-1].Line {
					t.Fatalf("outcomes out of file order: %+v", rep.Outcomes)
				}
			}
			w.check(t, rep)
		})
	}
}

func TestFulfilBulkAgainstPamscim(t *testing.T) {
	w := newWorld(t)
	sp, err := w.c.ServiceProviderConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !sp.Bulk.Supported {
		t.Fatal("pamscim does not advertise Bulk")
	}
	rep, err := fulfill.Run(context.Background(), w.c, parse(t, fulfill.CSV, scenarioCSV), fulfill.Options{BulkMax: 4})
	if err != nil {
		t.Fatal(err)
	}
	if rep.BulkRequests < 3 || rep.BulkMax != 4 {
		t.Fatalf("%d bulk requests of at most %d", rep.BulkRequests, rep.BulkMax)
	}
	for _, o := range rep.Outcomes {
		if o.OK && o.Bulk == 0 && o.Action != "exists, updated" {
			t.Errorf("line %d went as a single request: %+v", o.Line, o)
		}
	}
	w.check(t, rep)
}

// A server whose Bulk endpoint refuses more than two operations with 413
// while advertising ten, and answers statuses as numbers: the batch is
// halved until it fits and every change still gets its outcome.
func TestFulfilBulkSplitsOn413(t *testing.T) {
	w := newWorld(t)
	var bulkCalls atomic.Int64
	h := w.s.HTTP.Config.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/ServiceProviderConfig") {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			var m map[string]any
			json.Unmarshal(rec.Body.Bytes(), &m)
			m["bulk"] = map[string]any{"supported": true, "maxOperations": 10, "maxPayloadSize": 1 << 20}
			json.NewEncoder(rw).Encode(m)
			return
		}
		if strings.HasSuffix(r.URL.Path, "/Bulk") {
			bulkCalls.Add(1)
			b, _ := io.ReadAll(r.Body)
			var req struct{ Operations []any }
			json.Unmarshal(b, &req)
			if len(req.Operations) > 2 {
				rw.Header().Set("Content-Type", client.ContentType)
				rw.WriteHeader(413)
				rw.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"413","detail":"too many"}`))
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(b))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			// Numeric statuses, as some servers send them.
			var m map[string]any
			json.Unmarshal(rec.Body.Bytes(), &m)
			for _, op := range m["Operations"].([]any) {
				o := op.(map[string]any)
				if s, ok := o["status"].(string); ok {
					var n float64
					json.Unmarshal([]byte(s), &n)
					o["status"] = n
				}
			}
			json.NewEncoder(rw).Encode(m)
			return
		}
		h.ServeHTTP(rw, r)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL+"/scim/v2", w.s.Token)
	rep, err := fulfill.Run(context.Background(), c, parse(t, fulfill.CSV, scenarioCSV), fulfill.Options{BulkMax: 5})
	if err != nil {
		t.Fatal(err)
	}
	if bulkCalls.Load() <= int64(rep.BulkRequests)/2 || rep.BulkRequests < 5 {
		t.Fatalf("bulk calls %d, counted %d", bulkCalls.Load(), rep.BulkRequests)
	}
	w.check(t, rep)
}

// A server without PATCH: updates are GET, merge, PUT with If-Match.
func TestFulfilWithoutPatch(t *testing.T) {
	w := newWorld(t)
	h := w.s.HTTP.Config.Handler
	var patches, ifMatch atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/ServiceProviderConfig") {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			var m map[string]any
			json.Unmarshal(rec.Body.Bytes(), &m)
			m["patch"] = map[string]any{"supported": false}
			m["bulk"] = map[string]any{"supported": false}
			json.NewEncoder(rw).Encode(m)
			return
		}
		if r.Method == "PATCH" && strings.Contains(r.URL.Path, "/Users/") {
			patches.Add(1)
		}
		if r.Method == "PUT" && r.Header.Get("If-Match") != "" {
			ifMatch.Add(1)
		}
		h.ServeHTTP(rw, r)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL+"/scim/v2", w.s.Token)
	rep, err := fulfill.Run(context.Background(), c, parse(t, fulfill.CSV, scenarioCSV), fulfill.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if patches.Load() != 0 || ifMatch.Load() != 2 {
		t.Fatalf("user PATCHes %d, PUTs with If-Match %d", patches.Load(), ifMatch.Load())
	}
	w.check(t, rep)
}

func TestDryRunChangesNothing(t *testing.T) {
	w := newWorld(t)
	count := func() int {
		st, err := w.c.List(context.Background(), "/Users", client.ListOptions{}, func(client.Resource) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		return st.Resources
	}
	before := count()
	rep, err := fulfill.Run(context.Background(), w.c, parse(t, fulfill.CSV, scenarioCSV), fulfill.Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if count() != before {
		t.Fatal("a dry run changed the server")
	}
	if rep.Failed != 2 || !strings.HasPrefix(rep.Outcomes[0].Action, "would POST /Users") || !strings.Contains(rep.Outcomes[3].Action, "(created by line 2)") {
		var b bytes.Buffer
		rep.WriteTable(&b)
		t.Fatalf("dry run report:\n%s", b.String())
	}
}

func TestJSONLinesAndWholeResources(t *testing.T) {
	w := newWorld(t)
	in := `{"op":"create","resource":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"dave","name":{"givenName":"Dave"}},"attributes":{"title":"Ops"}}
# a comment
{"op":"create","resource":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"existing","displayName":"Replaced"}}
{"op":"update","userName":"dave","attributes":{"title":null,"active":"false"}}
{"op":"add-member","groupName":"Admins","memberUserName":"dave"}
`
	rep, err := fulfill.Run(context.Background(), w.c, parse(t, fulfill.JSONLines, in), fulfill.Options{BulkMax: -1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 0 {
		var b bytes.Buffer
		rep.WriteTable(&b)
		t.Fatalf("%s", b.String())
	}
	dave := w.user(t, "dave")
	if dave.Get("title") != nil || dave.Get("active") != false || dave.Get("name").(map[string]any)["givenName"] != "Dave" {
		t.Fatalf("dave: %v", dave)
	}
	// A whole resource answered 409 replaces the existing account.
	ex := w.user(t, "existing")
	if ex.Str("displayName") != "Replaced" || ex.Get("title") != nil || rep.Outcomes[1].Action != "exists, replaced" {
		t.Fatalf("existing: %v, %+v", ex, rep.Outcomes[1])
	}
	var b bytes.Buffer
	if err := rep.WriteJSONLines(&b); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(b.String(), "\n"); lines != 5 {
		t.Fatalf("%d JSON lines:\n%s", lines, b.String())
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		f        fulfill.Format
		want     string
	}{
		{"no op column", "userName\nx\n", fulfill.CSV, "no op column"},
		{"unknown op", "op,userName\nfrobnicate,x\n", fulfill.CSV, "unknown op"},
		{"create without userName", "op,userName,title\ncreate,,x\n", fulfill.CSV, "needs a userName"},
		{"update without attributes", "op,userName\nupdate,x\n", fulfill.CSV, "changes no attribute"},
		{"membership without group", "op,memberUserName\nadd-member,x\n", fulfill.CSV, "needs a group"},
		{"short row", "op,userName\ncreate\n", fulfill.CSV, "1 fields"},
		{"every bad line reported", "op,userName\nbad,x\nworse,y\n", fulfill.CSV, "line 3"},
		{"unknown JSON field", `{"op":"create","userName":"x","colour":"red"}`, fulfill.JSONLines, "unknown field"},
		{"not JSON", `create x`, fulfill.JSONLines, "line 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fulfill.Parse(strings.NewReader(tc.in), tc.f)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

// Columns the server's schema does not have are refused before anything
// is sent.
func TestUnknownColumnRefusedUpFront(t *testing.T) {
	w := newWorld(t)
	cs := parse(t, fulfill.CSV, "op,userName,favouriteColour\ncreate,zed,blue\n")
	_, err := fulfill.Run(context.Background(), w.c, cs, fulfill.Options{})
	if err == nil || !strings.Contains(err.Error(), "favouriteColour") {
		t.Fatalf("err %v", err)
	}
	if w.user(t, "zed") != nil {
		t.Fatal("zed was created")
	}
	cs = parse(t, fulfill.CSV, "op,userName,active\ncreate,zed,maybe\n")
	if _, err := fulfill.Run(context.Background(), w.c, cs, fulfill.Options{}); err == nil || !strings.Contains(err.Error(), "not a boolean") {
		t.Fatalf("err %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(scenarioCSV, false)
	f.Add(`{"op":"create","userName":"a","attributes":{"x":1}}`, true)
	f.Fuzz(func(t *testing.T, s string, jsonl bool) {
		fm := fulfill.CSV
		if jsonl {
			fm = fulfill.JSONLines
		}
		cs, err := fulfill.Parse(strings.NewReader(s), fm)
		if err != nil {
			return
		}
		for _, c := range cs {
			if c.Op == "" || c.Line <= 0 {
				t.Fatalf("change without op or line: %+v", c)
			}
		}
	})
}

// Running the same file twice with Bulk: the creates are answered 409 and
// become updates, and the memberships that referred to them by bulkId are
// repeated by id, so the second run succeeds too.
func TestBulkRerunIsIdempotent(t *testing.T) {
	w := newWorld(t)
	in := "op,userName,name:givenName,groupName,memberUserName\ncreate,erin,Erin,,\ncreate,frank,Frank,,\nadd-member,,,Admins,erin\nadd-member,,,Admins,frank\n"
	for run := range 2 {
		rep, err := fulfill.Run(context.Background(), w.c, parse(t, fulfill.CSV, in), fulfill.Options{BulkMax: 10})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Failed != 0 || rep.BulkRequests != 1 {
			var b bytes.Buffer
			rep.WriteTable(&b)
			t.Fatalf("run %d:\n%s", run+1, b.String())
		}
		// In the second run the memberships failed inside the Bulk request
		// (their bulkId named a create that failed) and were repeated alone.
		if run == 1 && (rep.Outcomes[0].Action != "exists, updated" || rep.Outcomes[2].Bulk != 0 || !rep.Outcomes[2].OK) {
			t.Fatalf("second run: %+v", rep.Outcomes)
		}
	}
	g, err := w.c.Get(context.Background(), client.ResourcePath("/Groups", w.admin), nil)
	if err != nil || len(g.Resource.Get("members").([]any)) != 2 {
		t.Fatalf("members: %v %v", err, g.Resource.Get("members"))
	}
}
