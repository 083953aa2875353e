package api_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/api"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/pam"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/secretbox"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
)

// lockedBuffer collects log lines and response bodies from the server's
// goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Bytes() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return bytes.Clone(l.b.Bytes())
}

// pamEnv is a real server over a real SQLite file with the PAM guard and a
// generated secret key file, whose every response body and log line is
// kept for the secret scan.
type pamEnv struct {
	*env
	dir       string
	box       *secretbox.Box
	reg       *schema.Registry
	svc       *pam.Service
	logs      *lockedBuffer
	responses *lockedBuffer
}

type teeWriter struct {
	http.ResponseWriter
	to *lockedBuffer
}

func (w teeWriter) Write(b []byte) (int, error) {
	_, _ = w.to.Write(b)
	return w.ResponseWriter.Write(b)
}

func newPAMEnv(t *testing.T) *pamEnv {
	t.Helper()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	reg := schema.Default()
	// On SQLite the database is opened here, in dir beside the key file,
	// so that the secret scan can read every file of the data directory.
	var st store.Store
	var err error
	if onSQLite() {
		st, err = sqlite.Open(ctx, dir, reg, sqlite.Options{})
	} else {
		st = openTestStore(t, reg)
	}
	if err != nil {
		t.Fatal(err)
	}
	box, created, err := pam.Install(ctx, reg, st, "", dir)
	if err != nil || !created {
		t.Fatalf("install: created=%v err=%v", created, err)
	}
	au := auth.NewService(st)
	tok, _, err := au.CreateToken(ctx, store.DefaultTenant, "test", []string{auth.ScopeRead, auth.ScopeWrite}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	logs, responses := &lockedBuffer{}, &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := api.New(reg, st, au, api.Config{}, log)
	h := s.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(teeWriter{w, responses}, r)
	}))
	t.Cleanup(func() { srv.Close(); st.Close() })
	svc, err := pam.NewService(reg, st)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: srv, st: st, au: au, token: tok, base: srv.URL + "/scim/v2", api: s}
	return &pamEnv{env: e, dir: dir, box: box, reg: reg, svc: svc, logs: logs, responses: responses}
}

func onSQLite() bool {
	b := os.Getenv(backendEnv)
	return b == "" || b == "sqlite"
}

func (e *pamEnv) container(name string, extra ...map[string]any) map[string]any {
	e.t.Helper()
	c := map[string]any{"schemas": []string{schema.ContainerURN}, "name": name, "type": "safe"}
	for _, x := range extra {
		for k, v := range x {
			c[k] = v
		}
	}
	return e.do("POST", "/Containers", c).want(e.t, 201).body
}

func (e *pamEnv) item(name, typ string, extra ...map[string]any) map[string]any {
	e.t.Helper()
	p := map[string]any{"schemas": []string{schema.PrivilegedDataURN}, "name": name, "type": typ}
	for _, x := range extra {
		for k, v := range x {
			p[k] = v
		}
	}
	return e.do("POST", "/PrivilegedData", p).want(e.t, 201).body
}

func (e *pamEnv) perm(kind, target, principalKind, principal string, rights ...string) *resp {
	e.t.Helper()
	ep, attr, urn := "/ContainerPermissions", "container", schema.ContainerPermissionURN
	if kind == "pd" {
		ep, attr, urn = "/PrivilegedDataPermissions", "privilegedData", schema.PrivilegedDataPermissionURN
	}
	body := map[string]any{"schemas": []string{urn}, attr: map[string]any{"value": target}, "rights": rights}
	if principalKind != "" {
		body[principalKind] = map[string]any{"value": principal}
	}
	return e.do("POST", ep, body)
}

func id(m map[string]any) string { s, _ := m["id"].(string); return s }

func listIDs(r *resp) []string {
	var out []string
	for _, x := range r.body["Resources"].([]any) {
		out = append(out, x.(map[string]any)["id"].(string))
	}
	return out
}

func TestPAMDiscovery(t *testing.T) {
	e := newPAMEnv(t)
	rts := e.do("GET", "/ResourceTypes", nil).want(t, 200)
	endpoints := map[string]string{}
	exts := map[string][]string{}
	for _, x := range rts.body["Resources"].([]any) {
		m := x.(map[string]any)
		endpoints[m["name"].(string)] = m["endpoint"].(string)
		for _, se := range asList(m["schemaExtensions"]) {
			exts[m["name"].(string)] = append(exts[m["name"].(string)], se.(map[string]any)["schema"].(string))
		}
	}
	for name, ep := range map[string]string{"Container": "/Containers", "PrivilegedData": "/PrivilegedData", "ContainerPermission": "/ContainerPermissions",
		"PrivilegedDataPermission": "/PrivilegedDataPermissions", "Role": "/Roles", "Entitlement": "/Entitlements"} {
		if endpoints[name] != ep {
			t.Errorf("ResourceType %s endpoint %q, want %q", name, endpoints[name], ep)
		}
	}
	for _, rt := range []string{"User", "Group"} {
		if !strings.Contains(strings.Join(exts[rt], " "), schema.LinkedObjectURN) {
			t.Errorf("%s schemaExtensions %v lack LinkedObject", rt, exts[rt])
		}
	}
	c := e.do("GET", "/Schemas/"+schema.ContainerURN, nil).want(t, 200)
	attrs := map[string]map[string]any{}
	for _, a := range c.body["attributes"].([]any) {
		m := a.(map[string]any)
		attrs[m["name"].(string)] = m
	}
	if attrs["parent"] == nil || len(asList(attrs["parent"]["subAttributes"])) != 3 {
		t.Errorf("Container.parent not published with value, $ref, display: %v", attrs["parent"])
	}
	if attrs["privilegedData"]["returned"] != "request" {
		t.Errorf("privilegedData returned %v, want request", attrs["privilegedData"]["returned"])
	}
	for _, s := range asList(attrs["privilegedData"]["subAttributes"]) {
		m := s.(map[string]any)
		if m["name"] == "$ref" && get(m, "referenceTypes.0") != "PrivilegedData" {
			t.Errorf("privilegedData.$ref referenceTypes %v", m["referenceTypes"])
		}
	}
	cred := e.do("GET", "/Schemas/"+schema.CredentialURN, nil).want(t, 200)
	for _, a := range cred.body["attributes"].([]any) {
		m := a.(map[string]any)
		if m["name"] == "secret" && (m["mutability"] != "writeOnly" || m["returned"] != "never") {
			t.Errorf("secret is %v/%v, want writeOnly/never", m["mutability"], m["returned"])
		}
	}
	sp := e.do("GET", "/ServiceProviderConfig", nil).want(t, 200)
	if get(sp.body, "RolesAndEntitlements.roles.supported") != true || get(sp.body, "RolesAndEntitlements.entitlements.supported") != true {
		t.Errorf("RolesAndEntitlements: %v", sp.body["RolesAndEntitlements"])
	}
}

func asList(v any) []any { l, _ := v.([]any); return l }

func TestContainerRules(t *testing.T) {
	e := newPAMEnv(t)
	owner := e.createUser("owner")
	root := e.container("Root", map[string]any{"displayName": "Root Container", "owner": map[string]any{"value": id(owner)}})
	if get(root, "owner.display") != "Given owner Family" && get(root, "owner.display") != "owner" {
		t.Errorf("owner.display %v", get(root, "owner.display"))
	}
	if get(root, "owner.$ref") != e.base+"/Users/"+id(owner) {
		t.Errorf("owner.$ref %v", get(root, "owner.$ref"))
	}
	child := e.container("Admin Accounts", map[string]any{"parent": map[string]any{"value": id(root)}})
	if get(child, "parent.display") != "Root Container" || get(child, "parent.$ref") != e.base+"/Containers/"+id(root) {
		t.Errorf("parent: %v", child["parent"])
	}
	grand := e.container("Grand", map[string]any{"parent": map[string]any{"value": id(child)}})

	cases := []struct {
		name, method, path string
		body               any
		status             int
		scimType           string
	}{
		{"duplicate name, other case", "POST", "/Containers", map[string]any{"name": "ADMIN accounts"}, 409, "uniqueness"},
		{"no name", "POST", "/Containers", map[string]any{"displayName": "x"}, 400, "invalidValue"},
		{"parent missing", "POST", "/Containers", map[string]any{"name": "x1", "parent": map[string]any{"value": "nope"}}, 400, "invalidValue"},
		{"parent is a user", "POST", "/Containers", map[string]any{"name": "x2", "parent": map[string]any{"value": id(owner)}}, 400, "invalidValue"},
		{"owner is a container", "POST", "/Containers", map[string]any{"name": "x3", "owner": map[string]any{"value": id(root)}}, 400, "invalidValue"},
		{"cycle through grandchild", "PATCH", "/Containers/" + id(root), patchOp("replace", "parent", map[string]any{"value": id(grand)}), 400, "invalidValue"},
		{"own parent", "PUT", "/Containers/" + id(child), map[string]any{"name": "Admin Accounts", "parent": map[string]any{"value": id(child)}}, 400, "invalidValue"},
		{"delete with children", "DELETE", "/Containers/" + id(root), nil, 409, ""},
		{"smart rule extension on a safe", "POST", "/Containers", map[string]any{"name": "x4", "type": "safe", schema.SmartRuleURN: map[string]any{"filter": `type eq "x"`}}, 400, "invalidValue"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.body)
			if tc.scimType != "" {
				r.want(t, tc.status, tc.scimType)
			} else {
				r.want(t, tc.status)
			}
		})
	}
	// The draft's own filter example, single quotes and all.
	r := e.do("GET", "/Containers?filter=name%20eq%20'admin%20accounts'", nil).want(t, 200)
	if ids := listIDs(r); len(ids) != 1 || ids[0] != id(child) {
		t.Fatalf("name eq 'admin accounts': %v", ids)
	}

	// Items: privilegedData is returned only on request, with each item's type.
	a := e.item("root @ db1", "credential")
	b := e.item("key for web", "ssh key")
	untyped := e.do("POST", "/PrivilegedData", map[string]any{"name": "no type"}).want(t, 201).body
	e.do("PATCH", "/Containers/"+id(child), patchOp("add", "privilegedData", []any{map[string]any{"value": id(a)}, map[string]any{"value": id(b)}})).want(t, 204)
	got := e.do("GET", "/Containers/"+id(child), nil).want(t, 200)
	if _, ok := got.body["privilegedData"]; ok {
		t.Fatalf("privilegedData returned by default: %s", got.raw)
	}
	list := e.do("GET", "/Containers", nil).want(t, 200)
	if strings.Contains(string(list.raw), id(a)) {
		t.Fatalf("listing containers carries items: %s", list.raw)
	}
	e.do("PATCH", "/Containers/"+id(grand), patchOp("add", "privilegedData", []any{map[string]any{"value": id(untyped)}})).want(t, 204)
	if el := get(e.do("GET", "/Containers/"+id(grand)+"?attributes=privilegedData", nil).want(t, 200).body, "privilegedData.0"); el == nil || get(el, "type") != nil {
		t.Fatalf("an item without a type shows type %v", el)
	}
	got = e.do("GET", "/Containers/"+id(child)+"?attributes=privilegedData", nil).want(t, 200)
	items := asList(got.body["privilegedData"])
	if len(items) != 2 {
		t.Fatalf("privilegedData: %s", got.raw)
	}
	for _, it := range items {
		m := it.(map[string]any)
		want := map[string]string{id(a): "credential", id(b): "ssh key"}[m["value"].(string)]
		if m["type"] != want || m["$ref"] != e.base+"/PrivilegedData/"+m["value"].(string) || m["display"] == nil {
			t.Errorf("item %v, want type %q", m, want)
		}
	}
	// A PUT that omits privilegedData (returned only on request) keeps the
	// items; one that sends an empty list clears them.
	e.do("PUT", "/Containers/"+id(child), map[string]any{"name": "Admin Accounts", "parent": map[string]any{"value": id(root)}}).want(t, 200)
	if n := len(asList(e.do("GET", "/Containers/"+id(child)+"?attributes=privilegedData", nil).want(t, 200).body["privilegedData"])); n != 2 {
		t.Fatalf("a PUT without privilegedData left %d items", n)
	}
	// An item belongs to at most one static container.
	e.do("PATCH", "/Containers/"+id(root), patchOp("add", "privilegedData", []any{map[string]any{"value": id(a)}})).want(t, 409, "uniqueness")
	e.do("POST", "/Containers", map[string]any{"name": "other", "privilegedData": []any{map[string]any{"value": id(b)}}}).want(t, 409, "uniqueness")
	e.do("PATCH", "/Containers/"+id(root), patchOp("add", "privilegedData", []any{map[string]any{"value": id(owner)}})).want(t, 400, "invalidValue")
	// Filter containers by the item they hold.
	r = e.do("GET", `/Containers?filter=privilegedData.value%20eq%20"`+id(b)+`"`, nil).want(t, 200)
	if ids := listIDs(r); len(ids) != 1 || ids[0] != id(child) {
		t.Fatalf("privilegedData.value eq: %v", ids)
	}
	// Deleting an item takes it out of its container.
	e.do("DELETE", "/PrivilegedData/"+id(b), nil).want(t, 204)
	got = e.do("GET", "/Containers/"+id(child)+"?attributes=privilegedData", nil).want(t, 200)
	if n := len(asList(got.body["privilegedData"])); n != 1 {
		t.Fatalf("after deleting an item the container lists %d", n)
	}
	e.do("PUT", "/Containers/"+id(child), map[string]any{"name": "Admin Accounts", "parent": map[string]any{"value": id(root)}, "privilegedData": []any{}}).want(t, 200)
	if _, ok := e.do("GET", "/Containers/"+id(child)+"?attributes=privilegedData", nil).want(t, 200).body["privilegedData"]; ok {
		t.Fatal("a PUT with an empty privilegedData kept the items")
	}
	// Deleting the owner leaves the container without one.
	e.do("DELETE", "/Users/"+id(owner), nil).want(t, 204)
	got = e.do("GET", "/Containers/"+id(root), nil).want(t, 200)
	if _, ok := got.body["owner"]; ok {
		t.Fatalf("owner kept after the user went: %s", got.raw)
	}
	// Leaves first, then the root can go.
	e.do("DELETE", "/Containers/"+id(grand), nil).want(t, 204)
	e.do("DELETE", "/Containers/"+id(child), nil).want(t, 204)
	e.do("DELETE", "/Containers/"+id(root), nil).want(t, 204)
}

func patchOp(op, path string, value any) map[string]any {
	o := map[string]any{"op": op, "path": path}
	if value != nil {
		o["value"] = value
	}
	return map[string]any{"schemas": []string{schema.PatchOpURN}, "Operations": []any{o}}
}

func TestPermissionRules(t *testing.T) {
	e := newPAMEnv(t)
	u := e.createUser("alice")
	u2 := e.createUser("bob")
	g := e.createGroup("DBAs")
	c := e.container("Safe1", map[string]any{"displayName": "Safe One"})
	it := e.item("root @ db1", "credential")

	cp := e.perm("c", id(c), "user", id(u), "List", "View", "Edit", "View").want(t, 201).body
	if rights := asList(cp["rights"]); len(rights) != 3 {
		t.Fatalf("rights is a set and keeps every right: %v", rights)
	}
	want := map[string]any{"value": id(c), "$ref": e.base + "/Containers/" + id(c), "display": "Safe One", "name": "Safe1"}
	for k, v := range want {
		if get(cp, "container."+k) != v {
			t.Errorf("container.%s = %v, want %v", k, get(cp, "container."+k), v)
		}
	}
	if get(cp, "user.display") == nil || get(cp, "user.$ref") != e.base+"/Users/"+id(u) {
		t.Errorf("user: %v", cp["user"])
	}
	cases := []struct {
		name        string
		kind        string
		target      string
		pk, pv      string
		rights      []string
		status      int
		scimType    string
		extraGroupV string
	}{
		{"neither user nor group", "c", id(c), "", "", []string{"List"}, 400, "invalidValue", ""},
		{"both user and group", "c", id(c), "user", id(u2), []string{"List"}, 400, "invalidValue", id(g)},
		{"no rights", "c", id(c), "user", id(u2), nil, 400, "invalidValue", ""},
		{"container missing", "c", "missing", "user", id(u2), []string{"List"}, 400, "invalidValue", ""},
		{"container is an item", "c", id(it), "user", id(u2), []string{"List"}, 400, "invalidValue", ""},
		{"user missing", "c", id(c), "user", "missing", []string{"List"}, 400, "invalidValue", ""},
		{"user is a group", "c", id(c), "user", id(g), []string{"List"}, 400, "invalidValue", ""},
		{"duplicate pair", "c", id(c), "user", id(u), []string{"Owner"}, 409, "uniqueness", ""},
		{"duplicate pair, upper-case id", "c", strings.ToUpper(id(c)), "user", id(u), []string{"Owner"}, 409, "uniqueness", ""},
		{"item missing", "pd", "missing", "user", id(u), []string{"View"}, 400, "invalidValue", ""},
		{"group grant is another pair", "c", id(c), "group", id(g), []string{"List"}, 201, "", ""},
		{"item grant", "pd", id(it), "user", id(u2), []string{"View Password"}, 201, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r *resp
			if tc.extraGroupV != "" {
				r = e.do("POST", "/ContainerPermissions", map[string]any{"container": map[string]any{"value": tc.target},
					"user": map[string]any{"value": tc.pv}, "group": map[string]any{"value": tc.extraGroupV}, "rights": tc.rights})
			} else {
				r = e.perm(tc.kind, tc.target, tc.pk, tc.pv, tc.rights...)
			}
			if tc.scimType != "" {
				r.want(t, tc.status, tc.scimType)
			} else {
				r.want(t, tc.status)
			}
		})
	}
	// The principal and the target do not move.
	e.do("PUT", "/ContainerPermissions/"+id(cp), map[string]any{"container": map[string]any{"value": id(c)}, "user": map[string]any{"value": id(u2)}, "rights": []string{"List"}}).want(t, 400, "mutability")
	// Removing the last right is refused: DELETE revokes.
	e.do("PATCH", "/ContainerPermissions/"+id(cp), patchOp("replace", "rights", []string{"Owner"})).want(t, 204)
	e.do("PATCH", "/ContainerPermissions/"+id(cp), patchOp("remove", "rights", nil)).want(t, 400, "mutability")
	e.do("PATCH", "/ContainerPermissions/"+id(cp), patchOp("remove", `rights[value eq "owner"]`, nil)).want(t, 400)
	e.do("PATCH", "/ContainerPermissions/"+id(cp), patchOp("remove", "rights", []string{"Owner"})).want(t, 400)
	// PrivilegedDataPermissions never show what the container grants.
	e.do("PATCH", "/Containers/"+id(c), patchOp("add", "privilegedData", []any{map[string]any{"value": id(it)}})).want(t, 204)
	pdps := e.do("GET", `/PrivilegedDataPermissions?filter=privilegedData.value%20eq%20"`+id(it)+`"`, nil).want(t, 200)
	if n := pdps.body["totalResults"]; n != float64(1) {
		t.Fatalf("PrivilegedDataPermissions of the item: %s", pdps.raw)
	}
	// Deleting a user, group, container or item removes the permissions
	// that point at it.
	count := func(path string) float64 {
		return e.do("GET", path, nil).want(t, 200).body["totalResults"].(float64)
	}
	if n := count("/ContainerPermissions"); n != 2 {
		t.Fatalf("%v container permissions", n)
	}
	e.do("DELETE", "/Groups/"+id(g), nil).want(t, 204)
	if n := count("/ContainerPermissions"); n != 1 {
		t.Fatalf("after deleting the group: %v container permissions", n)
	}
	e.do("DELETE", "/PrivilegedData/"+id(it), nil).want(t, 204)
	if n := count("/PrivilegedDataPermissions"); n != 0 {
		t.Fatalf("after deleting the item: %v item permissions", n)
	}
	e.do("DELETE", "/Containers/"+id(c), nil).want(t, 204)
	if n := count("/ContainerPermissions"); n != 0 {
		t.Fatalf("after deleting the container: %v container permissions", n)
	}
	c2 := e.container("Safe2")
	e.perm("c", id(c2), "user", id(u), "List").want(t, 201)
	e.do("DELETE", "/Users/"+id(u), nil).want(t, 204)
	if n := count("/ContainerPermissions"); n != 0 {
		t.Fatalf("after deleting the user: %v container permissions", n)
	}
}

// TestSailPointIIQPAMCollector replays what IdentityIQ's PAM collector
// does (clients/NOTES.md §3.3, replay rows S12–S19).
func TestSailPointIIQPAMCollector(t *testing.T) {
	e := newPAMEnv(t)
	u := e.createUser("ss.admin", map[string]any{"displayName": "SS Admin"})
	g := e.createGroup("Vault readers")
	safe := e.container("SonicWall")
	other := e.container("Other")
	e.perm("c", id(other), "user", id(u), "Owner").want(t, 201)
	items := []map[string]any{e.item("b-item", "credential"), e.item("a-item", "credential"), e.item("c-item", "file")}
	for i, it := range items {
		e.perm("pd", id(it), "user", id(u), "View").want(t, 201)
		if i != 1 {
			e.perm("pd", id(it), "group", id(g), "Connect").want(t, 201)
		}
	}

	// S12: containers by name.
	r := e.do("GET", `/Containers?filter=name%20eq%20"SonicWall"`, nil).want(t, 200)
	if ids := listIDs(r); len(ids) != 1 || ids[0] != id(safe) {
		t.Fatalf("S12: %s", r.raw)
	}
	res := r.body["Resources"].([]any)[0].(map[string]any)
	if get(res, "schemas.0") != schema.ContainerURN || res["name"] != "SonicWall" {
		t.Fatalf("S12 resource: %v", res)
	}
	// S17: no permission yet, so the collector creates one.
	find := `/ContainerPermissions?filter=` + urlq(`(container.value eq "`+id(safe)+`" and user.value eq "`+id(u)+`")`)
	if n := e.do("GET", find, nil).want(t, 200).body["totalResults"]; n != float64(0) {
		t.Fatalf("S14 before create: %v", n)
	}
	created := e.do("POST", "/ContainerPermissions", map[string]any{"schemas": []string{schema.ContainerPermissionURN},
		"container": map[string]any{"value": id(safe)}, "user": map[string]any{"value": id(u)}, "rights": []string{"List", "View"}}).want(t, 201).body
	pid := id(created)
	// S13: the container's permissions.
	r = e.do("GET", `/ContainerPermissions?filter=`+urlq(`container.value eq "`+id(safe)+`"`), nil).want(t, 200)
	if ids := listIDs(r); len(ids) != 1 || ids[0] != pid {
		t.Fatalf("S13: %s", r.raw)
	}
	p := r.body["Resources"].([]any)[0].(map[string]any)
	for _, k := range []string{"container.value", "container.display", "container.name", "container.$ref", "user.value", "user.display", "user.$ref"} {
		if get(p, k) == nil {
			t.Errorf("S13: %s missing in %v", k, p)
		}
	}
	// S14: exactly one.
	r = e.do("GET", find, nil).want(t, 200)
	if ids := listIDs(r); len(ids) != 1 || ids[0] != pid {
		t.Fatalf("S14: %s", r.raw)
	}
	// S18: add and remove rights, in each form the collector sends.
	for _, op := range []map[string]any{
		patchOp("add", "rights", []string{"Edit"}),
		patchOp("remove", `rights[value eq "View"]`, nil),
		patchOp("remove", "rights", []string{"List"}),
	} {
		e.do("PATCH", "/ContainerPermissions/"+pid, op).want(t, 204)
	}
	got := e.do("GET", "/ContainerPermissions/"+pid, nil).want(t, 200)
	if rights := asList(got.body["rights"]); len(rights) != 1 || rights[0] != "Edit" {
		t.Fatalf("S18 rights %v, want [Edit]", rights)
	}
	// S19: the last right goes with the permission.
	e.do("DELETE", "/ContainerPermissions/"+pid, nil).want(t, 204)
	if n := e.do("GET", find, nil).want(t, 200).body["totalResults"]; n != float64(0) {
		t.Fatalf("S19: %v", n)
	}
	// S15: item permissions sorted by the item, so rows of one item are
	// consecutive.
	r = e.do("GET", "/PrivilegedDataPermissions?count=2", nil).want(t, 200)
	var seq []string
	for start := 1; ; start += 2 {
		r = e.do("GET", "/PrivilegedDataPermissions?count=2&startIndex="+itoa(start), nil).want(t, 200)
		for _, x := range asList(r.body["Resources"]) {
			seq = append(seq, get(x, "privilegedData.value").(string))
		}
		if start+2 > int(r.body["totalResults"].(float64)) {
			break
		}
	}
	if len(seq) != 5 {
		t.Fatalf("S15: %d permissions", len(seq))
	}
	for i := 1; i < len(seq); i++ {
		if strings.ToLower(seq[i-1]) > strings.ToLower(seq[i]) {
			t.Fatalf("S15: not sorted by privilegedData.value: %v", seq)
		}
	}
	// S16: an unknown item is 404.
	e.do("GET", "/PrivilegedData/does-not-exist", nil).want(t, 404)
	// The user's permissions, as account access.
	r = e.do("GET", `/PrivilegedDataPermissions?filter=`+urlq(`user.value eq "`+id(u)+`"`), nil).want(t, 200)
	if r.body["totalResults"] != float64(3) {
		t.Fatalf("user.value eq: %s", r.raw)
	}
}

func urlq(s string) string {
	r := strings.NewReplacer(" ", "%20", `"`, "%22", "(", "%28", ")", "%29")
	return r.Replace(s)
}

func TestCredentialSecretNeverLeaves(t *testing.T) {
	e := newPAMEnv(t)
	const secret = "Sup3r-S3cret-Pa55word-7d1f"
	it := e.item("root @ db1", "credential", map[string]any{schema.CredentialURN: map[string]any{"username": "root", "address": "db1.example.com", "secret": secret}})
	iid := id(it)
	if getURN(it, schema.CredentialURN, "username") != "root" {
		t.Fatalf("username not returned: %v", it)
	}
	reads := []string{
		"/PrivilegedData/" + iid,
		"/PrivilegedData/" + iid + "?attributes=" + schema.CredentialURN + ":secret",
		"/PrivilegedData/" + iid + "?attributes=secret",
		"/PrivilegedData/" + iid + "?attributes=" + schema.CredentialURN,
		"/PrivilegedData/" + iid + "?excludedAttributes=name",
		"/PrivilegedData",
		"/PrivilegedData?attributes=" + schema.CredentialURN + ":secret",
		`/PrivilegedData?filter=` + urlq(schema.CredentialURN+`:username eq "root"`),
	}
	for _, p := range reads {
		e.do("GET", p, nil).want(t, 200)
	}
	e.do("POST", "/PrivilegedData/.search", map[string]any{"attributes": []string{"secret", schema.CredentialURN + ":secret"}}).want(t, 200)
	// A PUT without the secret keeps it; a PATCH replaces it and moves the version.
	v1 := e.do("GET", "/PrivilegedData/"+iid, nil).header.Get("ETag")
	e.do("PUT", "/PrivilegedData/"+iid, map[string]any{"name": "root @ db1", "type": "credential", schema.CredentialURN: map[string]any{"username": "root"}}).want(t, 200)
	ps := e.st.(store.PAMStore)
	s1, err := ps.SealedValue(context.Background(), store.DefaultTenant, iid, pam.SecretAttr)
	if err != nil || s1 == nil {
		t.Fatalf("secret lost by a PUT that omits it: %v %v", s1, err)
	}
	pt, err := e.box.Unseal(s1.KeyID, s1.Data, secretbox.AAD(store.DefaultTenant, iid, pam.SecretAttr))
	if err != nil || string(pt) != secret {
		t.Fatalf("the sealed value does not open to the secret: %q %v", pt, err)
	}
	const secret2 = "N3w-S3cret-Pa55word-91ac"
	e.do("PATCH", "/PrivilegedData/"+iid+"?attributes=name", patchOp("replace", schema.CredentialURN+":secret", secret2)).want(t, 200)
	if v2 := e.do("GET", "/PrivilegedData/"+iid, nil).header.Get("ETag"); v2 == v1 {
		t.Fatalf("changing only the secret kept the version %s", v2)
	}
	// Filters and sorting cannot probe it.
	e.do("GET", `/PrivilegedData?filter=`+urlq(schema.CredentialURN+`:secret eq "`+secret2+`"`), nil)
	e.do("GET", "/PrivilegedData?sortBy="+schema.CredentialURN+":secret", nil)

	for _, s := range []string{secret, secret2} {
		if bytes.Contains(e.responses.Bytes(), []byte(s)) {
			t.Fatalf("a response carried the secret")
		}
		if bytes.Contains(e.logs.Bytes(), []byte(s)) {
			t.Fatalf("the log carried the secret")
		}
	}
	// Nor is it on disk in plain text: the database, its WAL, the key file.
	// (On PostgreSQL the store conformance suite checks the stored rows.)
	if !onSQLite() {
		return
	}
	e.st.Close()
	files, _ := filepath.Glob(filepath.Join(e.dir, "*"))
	if len(files) < 2 {
		t.Fatalf("data directory: %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{secret, secret2} {
			if bytes.Contains(b, []byte(s)) {
				t.Fatalf("%s holds the secret in plain text", f)
			}
		}
	}
	fi, err := os.Stat(filepath.Join(e.dir, secretbox.DefaultFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
}

func TestSmartRules(t *testing.T) {
	e := newPAMEnv(t)
	e.item("root @ db1", "credential")
	e.item("root @ db2", "credential")
	e.item("svc @ db1", "credential")
	e.item("root key", "ssh key")
	rule := e.container("Root credentials", map[string]any{"type": "smartRule",
		schema.SmartRuleURN: map[string]any{"filter": `type eq 'credential' and name sw "root"`}})
	names := func() []string {
		got := e.do("GET", "/Containers/"+id(rule)+"?attributes=privilegedData,name", nil).want(t, 200)
		var out []string
		for _, x := range asList(got.body["privilegedData"]) {
			out = append(out, x.(map[string]any)["display"].(string))
		}
		return out
	}
	if n := names(); len(n) != 2 {
		t.Fatalf("smart rule matches %v", n)
	}
	// Always current: a new matching item appears at once.
	e.item("root @ db3", "credential")
	if n := names(); len(n) != 3 {
		t.Fatalf("after a new item the smart rule matches %v", n)
	}
	for _, tc := range []struct {
		name   string
		method string
		path   string
		body   any
		status int
		typ    string
	}{
		{"invalid filter", "POST", "/Containers", map[string]any{"name": "bad", "type": "smartRule", schema.SmartRuleURN: map[string]any{"filter": `name eq`}}, 400, "invalidValue"},
		{"unknown attribute", "POST", "/Containers", map[string]any{"name": "bad2", "type": "smartRule", schema.SmartRuleURN: map[string]any{"filter": `nope eq "x"`}}, 400, "invalidValue"},
		{"no filter", "POST", "/Containers", map[string]any{"name": "bad3", "type": "smartRule"}, 400, "invalidValue"},
		{"static items on a smart rule", "PATCH", "/Containers/" + id(rule), patchOp("add", "privilegedData", []any{map[string]any{"value": id(e.item("x", "credential"))}}), 400, "mutability"},
	} {
		t.Run(tc.name, func(t *testing.T) { e.do(tc.method, tc.path, tc.body).want(t, tc.status, tc.typ) })
	}
}

func TestLinkedObjectRules(t *testing.T) {
	e := newPAMEnv(t)
	ext := map[string]any{schema.LinkedObjectURN: map[string]any{"source": "Corporate AD", "nativeIdentifier": "cn=x,dc=example,dc=com"}}
	local := e.createUser("local")
	adUser := e.createUser("ad.user", ext)
	if getURN(adUser, schema.LinkedObjectURN, "source") != "Corporate AD" {
		t.Fatalf("LinkedObject not returned: %v", adUser)
	}
	adGroup := e.do("POST", "/Groups", map[string]any{"displayName": "AD Admins", schema.LinkedObjectURN: ext[schema.LinkedObjectURN]}).want(t, 201).body
	localGroup := e.createGroup("Local")
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		typ                string
	}{
		{"source without nativeIdentifier", "POST", "/Users", map[string]any{"userName": "half", schema.LinkedObjectURN: map[string]any{"source": "AD"}}, 400, "invalidValue"},
		{"nativeIdentifier without source", "POST", "/Groups", map[string]any{"displayName": "half", schema.LinkedObjectURN: map[string]any{"nativeIdentifier": "cn=y"}}, 400, "invalidValue"},
		{"external group with members", "PATCH", "/Groups/" + id(adGroup), patchOp("add", "members", []any{map[string]any{"value": id(local)}}), 400, "invalidSyntax"},
		{"new external group with members", "POST", "/Groups", map[string]any{"displayName": "AD2", "members": []any{map[string]any{"value": id(local)}}, schema.LinkedObjectURN: ext[schema.LinkedObjectURN]}, 400, "invalidSyntax"},
		{"local group with an external user", "PATCH", "/Groups/" + id(localGroup), patchOp("add", "members", []any{map[string]any{"value": id(adUser)}}), 400, "invalidSyntax"},
		{"local group with an external group", "POST", "/Groups", map[string]any{"displayName": "L2", "members": []any{map[string]any{"value": id(adGroup)}}}, 400, "invalidSyntax"},
		{"local group with a local user", "PATCH", "/Groups/" + id(localGroup), patchOp("add", "members", []any{map[string]any{"value": id(local)}}), 204, ""},
		{"member of a local group becomes external", "PATCH", "/Users/" + id(local), patchOp("add", schema.LinkedObjectURN, ext[schema.LinkedObjectURN]), 400, "invalidSyntax"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.body)
			if tc.typ == "" {
				r.want(t, tc.status)
			} else {
				r.want(t, tc.status, tc.typ)
			}
		})
	}
}

func TestRolesAndEntitlements(t *testing.T) {
	e := newPAMEnv(t)
	r := e.do("GET", "/Roles?sortBy=value", nil).want(t, 200)
	var values []string
	for _, x := range asList(r.body["Resources"]) {
		values = append(values, x.(map[string]any)["value"].(string))
		if get(x, "schemas.0") != schema.RoleURN || x.(map[string]any)["supported"] != true {
			t.Errorf("role %v", x)
		}
	}
	if strings.Join(values, ",") != "Administrator,Approver,Auditor,Requester" {
		t.Fatalf("default roles %v", values)
	}
	cat := pam.NewCatalogue(e.reg, e.st, schema.TypeEntitlement)
	if _, err := cat.Put(context.Background(), store.DefaultTenant, pam.CatalogueEntry{Value: "license.full", Type: "License", Supported: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := cat.Put(context.Background(), store.DefaultTenant, pam.CatalogueEntry{Value: "license.old", Supported: false}); err != nil {
		t.Fatal(err)
	}
	if n := e.do("GET", `/Entitlements?filter=value%20eq%20"license.full"`, nil).want(t, 200).body["totalResults"]; n != float64(1) {
		t.Fatalf("entitlement filter: %v", n)
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		typ                string
	}{
		{"POST /Roles", "POST", "/Roles", map[string]any{"value": "x"}, 501, ""},
		{"DELETE /Roles/…", "DELETE", "/Roles/role-auditor", nil, 501, ""},
		{"PATCH /Roles/…", "PATCH", "/Roles/role-auditor", patchOp("replace", "display", "x"), 400, "mutability"},
		{"PUT /Entitlements/…", "PUT", "/Roles/role-auditor", map[string]any{"value": "Auditor"}, 501, ""},
		{"user with a known role", "POST", "/Users", map[string]any{"userName": "r1", "roles": []any{map[string]any{"value": "requester"}}}, 201, ""},
		{"user with an unknown role", "POST", "/Users", map[string]any{"userName": "r2", "roles": []any{map[string]any{"value": "Superuser"}}}, 400, "invalidValue"},
		{"user with a known entitlement", "POST", "/Users", map[string]any{"userName": "r3", "entitlements": []any{map[string]any{"value": "license.full"}}}, 201, ""},
		{"user with an unsupported entitlement", "POST", "/Users", map[string]any{"userName": "r4", "entitlements": []any{map[string]any{"value": "license.old"}}}, 400, "invalidValue"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.body)
			if tc.typ == "" {
				r.want(t, tc.status)
			} else {
				r.want(t, tc.status, tc.typ)
			}
		})
	}
	u := e.createUser("r5")
	e.do("PATCH", "/Users/"+id(u), patchOp("add", "roles", []any{map[string]any{"value": "Approver"}})).want(t, 204)
	e.do("PATCH", "/Users/"+id(u), patchOp("add", "roles", []any{map[string]any{"value": "Nope"}})).want(t, 400, "invalidValue")
	// A new tenant starts with the default roles too.
	if err := e.st.CreateTenant(context.Background(), "acme", nowUTC()); err != nil {
		t.Fatal(err)
	}
	tok, _, err := e.au.CreateToken(context.Background(), "acme", "t", []string{auth.ScopeRead}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	if n := e.doToken(tok, "GET", "/Roles", nil).want(t, 200).body["totalResults"]; n != float64(4) {
		t.Fatalf("new tenant roles: %v", n)
	}
}

func TestEffectiveAccess(t *testing.T) {
	e := newPAMEnv(t)
	direct := e.createUser("direct")
	viaGroup := e.createUser("via.group")
	nested := e.createUser("nested")
	viaContainer := e.createUser("via.container")
	viaParent := e.createUser("via.parent")
	viaRule := e.createUser("via.rule")
	nobody := e.createUser("nobody")
	inner := e.createGroup("Inner", id(nested))
	outer := e.createGroup("Outer", id(viaGroup), id(inner))
	parent := e.container("Parent")
	safe := e.container("Safe", map[string]any{"parent": map[string]any{"value": id(parent)}})
	it := e.item("root @ db1", "credential")
	other := e.item("other", "file")
	e.do("PATCH", "/Containers/"+id(safe), patchOp("add", "privilegedData", []any{map[string]any{"value": id(it)}})).want(t, 204)
	rule := e.container("Rule", map[string]any{"type": "smartRule", schema.SmartRuleURN: map[string]any{"filter": `type eq "credential"`}})

	e.perm("pd", id(it), "user", id(direct), "View").want(t, 201)
	e.perm("pd", id(it), "group", id(outer), "Connect").want(t, 201)
	e.perm("c", id(safe), "user", id(viaContainer), "List").want(t, 201)
	e.perm("c", id(parent), "user", id(viaParent), "Owner").want(t, 201)
	e.perm("c", id(rule), "user", id(viaRule), "Use").want(t, 201)
	e.perm("pd", id(other), "user", id(nobody), "View").want(t, 201)

	a, err := e.svc.Access(context.Background(), store.DefaultTenant, id(it))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, u := range a.Users {
		got[u.UserName] = u.Grants[0].Via + " " + strings.Join(u.Rights, ",")
	}
	want := map[string]string{
		"direct":        "direct View",
		"via.group":     "group Connect",
		"nested":        "nested group Connect",
		"via.container": "container List",
		"via.parent":    "parent container Owner",
		"via.rule":      "smart rule Use",
	}
	if len(got) != len(want) {
		t.Fatalf("access %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	for _, u := range a.Users {
		if u.UserName == "nested" {
			p := u.Grants[0].Path
			if len(p) != 2 || p[0].ID != id(outer) || p[1].ID != id(inner) {
				t.Errorf("nested path %+v", p)
			}
		}
	}
	if _, err := e.svc.Access(context.Background(), store.DefaultTenant, "missing"); err == nil {
		t.Fatal("access of a missing item")
	}
}

func nowUTC() time.Time { return time.Now().UTC() }

// TestPAMCursorAndBulk: cursor paging over PrivilegedDataPermissions keeps
// their default order, and a Bulk request builds a container, an item and
// a permission that refer to each other by bulkId.
func TestPAMCursorAndBulk(t *testing.T) {
	e := newPAMEnv(t)
	u := e.createUser("carol")
	for i := 0; i < 5; i++ {
		it := e.item("item "+itoa(i), "credential")
		e.perm("pd", id(it), "user", id(u), "View").want(t, 201)
	}
	var seq []string
	next := ""
	for page := 0; page < 10; page++ {
		r := e.do("GET", "/PrivilegedDataPermissions?count=2&cursor="+next, nil).want(t, 200)
		for _, x := range asList(r.body["Resources"]) {
			seq = append(seq, get(x, "privilegedData.value").(string))
		}
		nc, ok := r.body["nextCursor"].(string)
		if !ok {
			break
		}
		next = nc
	}
	if len(seq) != 5 {
		t.Fatalf("cursor walk saw %d permissions", len(seq))
	}
	for i := 1; i < len(seq); i++ {
		if seq[i-1] > seq[i] {
			t.Fatalf("cursor walk out of privilegedData.value order: %v", seq)
		}
	}

	bulk := map[string]any{"schemas": []string{schema.BulkRequestURN}, "Operations": []any{
		map[string]any{"method": "POST", "path": "/ContainerPermissions", "bulkId": "p1", "data": map[string]any{
			"container": map[string]any{"value": "bulkId:c1"}, "user": map[string]any{"value": id(u)}, "rights": []string{"Owner"}}},
		map[string]any{"method": "POST", "path": "/Containers", "bulkId": "c1", "data": map[string]any{
			"name": "Bulk safe", "privilegedData": []any{map[string]any{"value": "bulkId:i1"}}}},
		map[string]any{"method": "POST", "path": "/PrivilegedData", "bulkId": "i1", "data": map[string]any{
			"name": "bulk item", schema.CredentialURN: map[string]any{"secret": "bulk-secret-value-1234"}}},
	}}
	r := e.do("POST", "/Bulk", bulk).want(t, 200)
	for _, op := range asList(r.body["Operations"]) {
		if get(op, "status") != "201" {
			t.Fatalf("bulk operation: %v", op)
		}
	}
	cs := e.do("GET", `/Containers?filter=`+urlq(`name eq "Bulk safe"`)+"&attributes=privilegedData,name", nil).want(t, 200)
	c := asList(cs.body["Resources"])[0].(map[string]any)
	if n := len(asList(c["privilegedData"])); n != 1 {
		t.Fatalf("bulk container holds %d items", n)
	}
	ps := e.do("GET", `/ContainerPermissions?filter=`+urlq(`container.value eq "`+id(c)+`"`), nil).want(t, 200)
	if ps.body["totalResults"] != float64(1) {
		t.Fatalf("bulk permission: %s", ps.raw)
	}
	if bytes.Contains(e.responses.Bytes(), []byte("bulk-secret-value-1234")) || bytes.Contains(e.logs.Bytes(), []byte("bulk-secret-value-1234")) {
		t.Fatal("a Bulk response or log line carried the secret")
	}
}
