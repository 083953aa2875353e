package export_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/client"
	"github.com/pamscim/pamscim/internal/client/scimtest"
	"github.com/pamscim/pamscim/internal/export"
)

const entURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

func newClient(t *testing.T, base, token string) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{BaseURL: base, Auth: client.Bearer(token), Retry: client.RetryPolicy{MaxRetries: -1}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readCSV(t *testing.T, path string) (header []string, rows []map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	header = recs[0]
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range header {
			m[h] = r[i]
		}
		rows = append(rows, m)
	}
	return header, rows
}

type fixture struct {
	s      *scimtest.Server
	c      *client.Client
	users  map[string]string // userName → id
	groups map[string][]string
}

func seed(t *testing.T) *fixture {
	s := scimtest.Start(t)
	c := newClient(t, s.URL, s.Token)
	ctx := context.Background()
	fx := &fixture{s: s, c: c, users: map[string]string{}, groups: map[string][]string{}}
	var mgr string
	for i := range 25 {
		name := fmt.Sprintf("user%02d", i)
		u := map[string]any{
			"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User", entURN},
			"userName": name,
			"name":     map[string]any{"givenName": "G" + name, "familyName": "F;amily"},
			"emails": []any{
				map[string]any{"value": name + "@home.example", "type": "home"},
				map[string]any{"value": name + "@work.example", "type": "work", "primary": true},
			},
			"active": i%5 != 0,
			entURN:   map[string]any{"employeeNumber": fmt.Sprint(1000 + i)},
		}
		if mgr != "" {
			u[entURN].(map[string]any)["manager"] = map[string]any{"value": mgr}
		}
		r, err := c.Create(ctx, "/Users", u)
		if err != nil {
			t.Fatal(err)
		}
		fx.users[name] = r.Resource.ID()
		if i == 0 {
			mgr = r.Resource.ID()
		}
	}
	for g := range 3 {
		var ms []any
		var ids []string
		for i := g; i < 25; i += 3 {
			id := fx.users[fmt.Sprintf("user%02d", i)]
			ms = append(ms, map[string]any{"value": id})
			ids = append(ids, id)
		}
		r, err := c.Create(ctx, "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": fmt.Sprintf("group%d", g), "members": ms})
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(ids)
		fx.groups[r.Resource.ID()] = ids
	}
	return fx
}

func TestExportLayout(t *testing.T) {
	fx := seed(t)
	dir := t.TempDir()
	for _, paging := range []client.Paging{client.PagingIndex, client.PagingCursor} {
		sum, err := export.Run(context.Background(), fx.c, export.Options{Connection: "SCIMExport", OutDir: dir, PageSize: 7, Paging: paging, Entities: []string{"Users", "Groups"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(sum.Entities) != 2 || sum.Entities[0].Resources != 25 || sum.Entities[0].Pages != 4 || sum.Entities[1].Resources != 3 {
			t.Fatalf("summary %+v", sum.Entities)
		}
	}
	files, _ := os.ReadDir(dir)
	var names []string
	for _, f := range files {
		names = append(names, f.Name())
	}
	want := []string{"SCIMExport_Groups.csv", "SCIMExport_Users.csv", "SCIMExport_groups_Users.csv", "SCIMExport_members_Groups.csv"}
	if !slices.Equal(names, want) {
		t.Fatalf("files %v, want %v (no temporary files left)", names, want)
	}

	header, rows := readCSV(t, filepath.Join(dir, "SCIMExport_Users.csv"))
	for _, col := range []string{"id", "externalId", "userName", "name:givenName", "name:familyName", "emails:value", "emails:type", "active", "employeeNumber", "manager:value", "meta:lastModified"} {
		if !slices.Contains(header, col) {
			t.Errorf("Users header lacks %q: %v", col, header)
		}
	}
	for _, col := range header {
		if col == "password" || col == "groups:value" || strings.Contains(col, "$ref") {
			t.Errorf("Users header has %q", col)
		}
	}
	if len(rows) != 25 {
		t.Fatalf("%d user rows", len(rows))
	}
	byName := map[string]map[string]string{}
	for _, r := range rows {
		byName[r["userName"]] = r
	}
	u3 := byName["user03"]
	if u3["id"] != fx.users["user03"] || u3["name:givenName"] != "Guser03" || u3["employeeNumber"] != "1003" || u3["manager:value"] != fx.users["user00"] || u3["active"] != "true" {
		t.Fatalf("user03 row: %v", u3)
	}
	// Primary first; sub-attribute cells in the same element order; a ";"
	// inside a value escaped.
	if got := export.SplitCell(u3["emails:value"]); !reflect.DeepEqual(got, []string{"user03@work.example", "user03@home.example"}) {
		t.Fatalf("emails:value %q", u3["emails:value"])
	}
	// Single-valued cells are the value as it is, ";" included.
	if u3["emails:type"] != "work;home" || u3["name:familyName"] != "F;amily" {
		t.Fatalf("emails:type %q familyName %q", u3["emails:type"], u3["name:familyName"])
	}
	if byName["user05"]["active"] != "false" {
		t.Fatalf("user05 active %q", byName["user05"]["active"])
	}

	mh, members := readCSV(t, filepath.Join(dir, "SCIMExport_members_Groups.csv"))
	if !slices.Equal(mh, []string{"value", "MemberId"}) {
		t.Fatalf("members header %v", mh)
	}
	got := map[string][]string{}
	for _, m := range members {
		got[m["value"]] = append(got[m["value"]], m["MemberId"])
	}
	for g := range got {
		sort.Strings(got[g])
	}
	if !reflect.DeepEqual(got, fx.groups) {
		t.Fatalf("memberships %v, want %v", got, fx.groups)
	}
	gh, grows := readCSV(t, filepath.Join(dir, "SCIMExport_Groups.csv"))
	if !slices.Contains(gh, "displayName") || slices.Contains(gh, "members:value") || len(grows) != 3 {
		t.Fatalf("Groups: %v, %d rows", gh, len(grows))
	}
}

func TestExportFilterAndIncremental(t *testing.T) {
	fx := seed(t)
	dir := t.TempDir()
	ctx := context.Background()
	time.Sleep(1100 * time.Millisecond) // the server's Date has second precision
	q, err := export.ParseFilters(`Users|?filter=active eq "true"*Groups|displayName eq "group1"`)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := export.Run(ctx, fx.c, export.Options{Connection: "Conn", OutDir: dir, Queries: q, Entities: []string{"Users", "Groups"}})
	if err != nil {
		t.Fatal(err)
	}
	_, users := readCSV(t, filepath.Join(dir, "Conn_Users.csv"))
	_, groups := readCSV(t, filepath.Join(dir, "Conn_Groups.csv"))
	if len(users) != 20 || len(groups) != 1 || groups[0]["displayName"] != "group1" {
		t.Fatalf("filtered: %d users, groups %v", len(users), groups)
	}

	// Incremental: only the user changed after the first export.
	if sum.NextSince.IsZero() {
		t.Fatal("no NextSince")
	}
	if _, err := fx.c.Patch(ctx, client.ResourcePath("/Users", fx.users["user07"]), []client.PatchOp{{Op: "replace", Path: "title", Value: "Changed"}}, ""); err != nil {
		t.Fatal(err)
	}
	sum2, err := export.Run(ctx, fx.c, export.Options{Connection: "Conn", OutDir: dir, Entities: []string{"Users", "Groups"}, Since: sum.NextSince})
	if err != nil {
		t.Fatal(err)
	}
	_, users = readCSV(t, filepath.Join(dir, "Conn_Users.csv"))
	_, groups = readCSV(t, filepath.Join(dir, "Conn_Groups.csv"))
	if len(users) != 1 || users[0]["userName"] != "user07" || users[0]["title"] != "Changed" {
		t.Fatalf("incremental Users: %v", users)
	}
	if len(groups) != 3 || !sum2.Entities[0].Incremental || sum2.Entities[1].Incremental {
		t.Fatalf("Groups are always exported in full: %d rows, %+v", len(groups), sum2.Entities)
	}
}

// A failure mid-export replaces nothing and leaves no temporary file.
func TestExportIsAtomic(t *testing.T) {
	fx := seed(t)
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := export.Run(ctx, fx.c, export.Options{Connection: "Conn", OutDir: dir}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/Groups") {
			if calls++; calls > 0 {
				w.WriteHeader(500)
				return
			}
		}
		fx.s.HTTP.Config.Handler.ServeHTTP(w, r)
	}))
	defer srv.Close()
	// Remove a user so a completed export would differ.
	if err := fx.c.Delete(ctx, client.ResourcePath("/Users", fx.users["user01"]), ""); err != nil {
		t.Fatal(err)
	}
	_, err := export.Run(ctx, newClient(t, srv.URL+"/scim/v2", fx.s.Token), export.Options{Connection: "Conn", OutDir: dir, PageSize: 5})
	if client.StatusOf(err) != 500 {
		t.Fatalf("err %v", err)
	}
	if after := snapshot(t, dir); !reflect.DeepEqual(before, after) {
		t.Fatalf("a failed export changed the directory:\nbefore %v\nafter  %v", keys(before), keys(after))
	}
}

func snapshot(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func keys(m map[string]string) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}

// A server without discovery: columns come from the data, relations by
// their RFC names, and undeclared attributes widen earlier rows.
func TestExportWithoutSchemas(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		switch {
		case strings.HasSuffix(r.URL.Path, "/Users"):
			if r.URL.Query().Get("startIndex") == "1" {
				fmt.Fprint(w, `{"totalResults":2,"Resources":[{"id":"a","userName":"alice"}]}`)
			} else {
				fmt.Fprint(w, `{"totalResults":2,"Resources":[{"id":"b","userName":"bob","department":"R&D","tags":["x","y;z"]}]}`)
			}
		case strings.HasSuffix(r.URL.Path, "/Groups"):
			fmt.Fprint(w, `{"totalResults":1,"Resources":[{"id":"g","displayName":"G","members":[{"value":"a"},{"value":"b"}]}]}`)
		default:
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	c, _ := client.New(client.Config{BaseURL: srv.URL})
	dir := t.TempDir()
	if _, err := export.Run(context.Background(), c, export.Options{Connection: "X", OutDir: dir}); err != nil {
		t.Fatal(err)
	}
	h, rows := readCSV(t, filepath.Join(dir, "X_Users.csv"))
	if !slices.Contains(h, "department") || len(rows) != 2 || rows[0]["department"] != "" || rows[1]["department"] != "R&D" || rows[1]["tags"] != `x;y\;z` {
		t.Fatalf("header %v rows %v", h, rows)
	}
	_, ms := readCSV(t, filepath.Join(dir, "X_members_Groups.csv"))
	if len(ms) != 2 || ms[0]["value"] != "g" {
		t.Fatalf("members %v", ms)
	}
}

func TestValidConnection(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"SCIMExport", true}, {"Conn2", true}, {"", false}, {"2Conn", false}, {"a_b", false}, {"a:b", false}, {"a/b", false}, {"a|b", false}, {"a*b", false},
	} {
		if err := export.ValidConnection(tc.name); (err == nil) != tc.ok {
			t.Errorf("%q: %v", tc.name, err)
		}
	}
}

func TestParseFilters(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want map[string]string // entity → filter
		err  bool
	}{
		{`Users|?filter=active eq "true"`, map[string]string{"Users": `active eq "true"`}, false},
		{`Users|active eq "true"*Groups|displayName sw "A*B"`, map[string]string{"Users": `active eq "true"`, "Groups": `displayName sw "A*B"`}, false},
		{`Users|?filter=userName co "*x"*Groups|`, map[string]string{"Users": `userName co "*x"`, "Groups": ""}, false},
		{`Users|filter=title eq "100%"`, map[string]string{"Users": `title eq "100%"`}, false},
		{`Users|?filter=a eq "1"&attributes=userName`, map[string]string{"Users": `a eq "1"`}, false},
		{``, map[string]string{}, false},
		{`Users`, nil, true},
		{`|x`, nil, true},
		{`Users|a*Users|b`, nil, true},
		{`Users|?count=5`, nil, true},
	} {
		got, err := export.ParseFilters(tc.spec)
		if (err != nil) != tc.err {
			t.Errorf("%s: err %v", tc.spec, err)
			continue
		}
		if tc.err {
			continue
		}
		flat := map[string]string{}
		for k, v := range got {
			flat[k] = v.Get("filter")
		}
		if !reflect.DeepEqual(flat, tc.want) {
			t.Errorf("%s: %v, want %v", tc.spec, flat, tc.want)
		}
	}
}

func FuzzParseFilters(f *testing.F) {
	for _, s := range []string{`Users|?filter=active eq "true"*Groups|x`, `A|b*C|d*E|`, `Users|?filter=%zz`, `*|*`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := export.ParseFilters(s)
		if err != nil {
			return
		}
		for k := range q {
			if k == "" || strings.Contains(k, "|") {
				t.Fatalf("entity %q from %q", k, s)
			}
		}
	})
}

func TestSplitCell(t *testing.T) {
	for _, vals := range [][]string{{"a"}, {"a", "b"}, {`x;y`, `back\slash`, ""}, {";", `\`}} {
		var enc []string
		for _, v := range vals {
			enc = append(enc, strings.NewReplacer(`\`, `\\`, `;`, `\;`).Replace(v))
		}
		if got := export.SplitCell(strings.Join(enc, ";")); !reflect.DeepEqual(got, vals) {
			t.Errorf("%q: %q", vals, got)
		}
	}
}

// Containers: what each holds goes to <connection>_privilegedData_Containers.csv,
// although pamscim returns privilegedData only on request.
func TestExportContainers(t *testing.T) {
	s := scimtest.Start(t)
	c := newClient(t, s.URL, s.Token)
	ctx := context.Background()
	var pds []string
	for i := range 3 {
		r, err := c.Create(ctx, "/PrivilegedData", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:pam:1.0:PrivilegedData"}, "name": fmt.Sprintf("root@host%d", i), "type": "password"})
		if err != nil {
			t.Fatal(err)
		}
		pds = append(pds, r.Resource.ID())
	}
	var items []any
	for _, id := range pds {
		items = append(items, map[string]any{"value": id})
	}
	safe, err := c.Create(ctx, "/Containers", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:pam:1.0:Container"}, "name": "Safe1", "type": "safe", "privilegedData": items})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := export.Run(ctx, c, export.Options{Connection: "PAM", OutDir: dir, Entities: []string{"Containers", "PrivilegedData"}}); err != nil {
		t.Fatal(err)
	}
	h, links := readCSV(t, filepath.Join(dir, "PAM_privilegedData_Containers.csv"))
	var got []string
	for _, l := range links {
		if l["value"] != safe.Resource.ID() {
			t.Fatalf("link row %v", l)
		}
		got = append(got, l["MemberId"])
	}
	sort.Strings(got)
	sort.Strings(pds)
	if !slices.Equal(h, []string{"value", "MemberId"}) || !slices.Equal(got, pds) {
		t.Fatalf("privilegedData links %v, want %v", got, pds)
	}
	ch, cs := readCSV(t, filepath.Join(dir, "PAM_Containers.csv"))
	if len(cs) != 1 || cs[0]["name"] != "Safe1" || !slices.Contains(ch, "type") || slices.Contains(ch, "privilegedData:value") {
		t.Fatalf("Containers: %v %v", ch, cs)
	}
	_, ps := readCSV(t, filepath.Join(dir, "PAM_PrivilegedData.csv"))
	if len(ps) != 3 {
		t.Fatalf("%d PrivilegedData rows", len(ps))
	}
}
