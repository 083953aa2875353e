package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/api"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
)

const ent = schema.EnterpriseUserURN

func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	sp := e.do("GET", "/ServiceProviderConfig", nil).want(t, 200).body
	if get(sp, "etag.supported") != true || get(sp, "authenticationSchemes.0.type") != "oauthbearertoken" || get(sp, "schemas.0") != schema.SPConfigURN {
		t.Fatalf("ServiceProviderConfig: %v", sp)
	}
	rts := e.do("GET", "/ResourceTypes", nil).want(t, 200).body
	// User and Group, the four PAM types, Role and Entitlement.
	if rts["totalResults"] != 8.0 {
		t.Fatalf("ResourceTypes: %v", rts)
	}
	for _, r := range rts["Resources"].([]any) {
		m := r.(map[string]any)
		if m["id"] != m["name"] {
			t.Fatalf("ResourceType id != name: %v", m)
		}
	}
	u := e.do("GET", "/ResourceTypes/User", nil).want(t, 200).body
	if u["endpoint"] != "/Users" || get(u, "schemaExtensions.0.schema") != ent || u["schema"] != schema.UserURN {
		t.Fatalf("ResourceTypes/User: %v", u)
	}
	e.do("GET", "/ResourceTypes/Nope", nil).want(t, 404)
	ss := e.do("GET", "/Schemas", nil).want(t, 200).body
	// RFC 7643's three, the PAM draft's five, Credential, SmartRule, Role, Entitlement.
	if ss["totalResults"] != 12.0 {
		t.Fatalf("Schemas: %v", ss["totalResults"])
	}
	us := e.do("GET", "/Schemas/"+schema.UserURN, nil).want(t, 200).body
	attrs := map[string]map[string]any{}
	for _, a := range us["attributes"].([]any) {
		attrs[a.(map[string]any)["name"].(string)] = a.(map[string]any)
	}
	if attrs["userName"]["uniqueness"] != "server" || attrs["userName"]["required"] != true ||
		attrs["password"]["returned"] != "never" || attrs["password"]["mutability"] != "writeOnly" ||
		attrs["groups"]["mutability"] != "readOnly" {
		t.Fatalf("User schema characteristics: %v", attrs["userName"])
	}
	for name, a := range attrs {
		if strings.Contains(fmt.Sprint(a), "<nil>") {
			t.Fatalf("attribute %s has a null characteristic: %v", name, a)
		}
	}
	gs := e.do("GET", "/Schemas/"+strings.ToLower(schema.GroupURN), nil).want(t, 200).body
	if get(gs, "attributes.0.required") != true {
		t.Fatalf("Group.displayName must be required: %v", get(gs, "attributes.0"))
	}
	e.do("GET", "/Schemas/urn:nope", nil).want(t, 404)
	e.do("GET", "/Schemas?filter=id+eq+%22x%22", nil).want(t, 403)
	// Discovery is readable without a token (RFC 7643 §5).
	e.doToken("", "GET", "/ServiceProviderConfig", nil).want(t, 200)
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	readOnly, _, _ := e.au.CreateToken(ctx, store.DefaultTenant, "reader", []string{auth.ScopeRead}, 0, "test")
	short, _, _ := e.au.CreateToken(ctx, store.DefaultTenant, "short", []string{auth.ScopeRead}, time.Millisecond, "test")
	revoked, _, _ := e.au.CreateToken(ctx, store.DefaultTenant, "gone", []string{auth.ScopeRead}, 0, "test")
	if err := e.st.RevokeToken(ctx, store.DefaultTenant, "gone", time.Now()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	tests := []struct {
		name, token, method string
		status              int
	}{
		{"no token", "", "GET", 401},
		{"wrong token", "pamscim_pat_nope", "GET", 401},
		{"expired", short, "GET", 401},
		{"revoked", revoked, "GET", 401},
		{"read scope reads", readOnly, "GET", 200},
		{"read scope cannot write", readOnly, "POST", 403},
		{"valid", e.token, "GET", 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body any
			if tc.method == "POST" {
				body = map[string]any{"userName": "x"}
			}
			r := e.doToken(tc.token, tc.method, "/Users", body).want(t, tc.status)
			if tc.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Fatalf("401 without WWW-Authenticate")
			}
		})
	}
	// Basic is not a bearer token.
	e.doToken("", "GET", "/Users", nil, "Authorization", "Basic dXNlcjpwYXNz").want(t, 401)
}

func TestCreateUser(t *testing.T) {
	e := newEnv(t)
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","urn:example:unknown"],
		"id":"client-chosen","meta":{"resourceType":"Nope","created":"2000-01-01T00:00:00Z"},
		"USERNAME":"bjensen@example.com","Name":{"GivenName":"Barbara","familyName":"Jensen","unknownSub":"x"},
		"emails":[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"bjensen@example.com","type":"work","primary":true}],
		"active":"True","password":"t1meMa$heen","groups":[{"value":"x"}],"roles":[],"title":null,"nickName":"",
		"x509Certificates":[{"value":"TUlJQ0lqQ0NBWXU="}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user":{"employeeNumber":"701984","manager":"mgr-1"},
		"notAnAttribute":42}`
	r := e.do("POST", "/Users", body).want(t, 201)
	u := r.body
	id, _ := u["id"].(string)
	if id == "" || id == "client-chosen" {
		t.Fatalf("id: %v", u["id"])
	}
	loc := get(u, "meta.location").(string)
	if r.header.Get("Location") != loc || loc != e.base+"/Users/"+id {
		t.Fatalf("Location %q, meta.location %q", r.header.Get("Location"), loc)
	}
	if r.header.Get("ETag") != get(u, "meta.version") || get(u, "meta.resourceType") != "User" || get(u, "meta.created") != get(u, "meta.lastModified") {
		t.Fatalf("meta: %v ETag %s", u["meta"], r.header.Get("ETag"))
	}
	if strings.HasPrefix(get(u, "meta.created").(string), "2000") {
		t.Fatal("client-supplied meta was used")
	}
	checks := map[string]any{
		"userName":                 "bjensen@example.com",
		"name.givenName":           "Barbara",
		"active":                   true,
		"emails.0.type":            "work",
		"x509Certificates.0.value": "TUlJQ0lqQ0NBWXU=",
	}
	for path, want := range checks {
		if got := get(u, path); got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
	if n := len(u["emails"].([]any)); n != 1 {
		t.Errorf("duplicate email kept: %d", n)
	}
	for _, absent := range []string{"password", "groups", "roles", "title", "nickName", "notAnAttribute", "name.unknownSub"} {
		if get(u, absent) != nil {
			t.Errorf("%s must not be returned: %v", absent, get(u, absent))
		}
	}
	if strings.Contains(string(r.raw), "null") || strings.Contains(string(r.raw), "t1meMa") {
		t.Fatalf("response carries null or the password: %s", r.raw)
	}
	if getURN(u, ent, "manager.value") != "mgr-1" || getURN(u, ent, "employeeNumber") != "701984" {
		t.Fatalf("enterprise: %v", u[ent])
	}
	if got := fmt.Sprint(u["schemas"]); !strings.Contains(got, ent) || strings.Contains(got, "unknown") {
		t.Fatalf("schemas: %v", got)
	}
	// application/json is accepted as well.
	e.do("POST", "/Users", `{"userName":"json"}`, "Content-Type", "application/json").want(t, 201)
}

func TestCreateRejects(t *testing.T) {
	e := newEnv(t, api.Config{MaxBodyBytes: 4096})
	e.createUser("taken")
	tests := []struct {
		name     string
		body     string
		status   int
		scimType string
	}{
		{"malformed JSON", `{"userName":`, 400, "invalidSyntax"},
		{"trailing data", `{"userName":"a"} {}`, 400, "invalidSyntax"},
		{"invalid UTF-8", "{\"userName\":\"a\xff\"}", 400, "invalidSyntax"},
		{"array body", `[{"userName":"a"}]`, 400, "invalidSyntax"},
		{"empty body", ``, 400, "invalidSyntax"},
		{"missing userName", `{"displayName":"x"}`, 400, "invalidValue"},
		{"empty userName", `{"userName":""}`, 400, "invalidValue"},
		{"wrong type boolean", `{"userName":"a","active":12}`, 400, "invalidValue"},
		{"wrong type string", `{"userName":"a","title":{"x":1}}`, 400, "invalidValue"},
		{"single-valued given array", `{"userName":"a","title":["x"]}`, 400, "invalidValue"},
		{"complex given number", `{"userName":"a","name":5}`, 400, "invalidValue"},
		{"bad binary", `{"userName":"a","x509Certificates":[{"value":"%%%"}]}`, 400, "invalidValue"},
		{"two primaries", `{"userName":"a","emails":[{"value":"a@x","primary":true},{"value":"b@x","primary":true}]}`, 400, "invalidValue"},
		{"extension not object", `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":"x"}`, 400, "invalidSyntax"},
		{"duplicate userName other case", `{"userName":"TAKEN"}`, 409, "uniqueness"},
		{"too large", `{"userName":"a","title":"` + strings.Repeat("x", 5000) + `"}`, 413, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/Users", tc.body)
			if tc.scimType != "" {
				r.want(t, tc.status, tc.scimType)
			} else {
				r.want(t, tc.status)
			}
		})
	}
	// Nothing half-created: only the first user exists.
	l := e.do("GET", "/Users", nil).want(t, 200).body
	if l["totalResults"] != 1.0 {
		t.Fatalf("rejected creates left data: %v", l["totalResults"])
	}
}

func TestGetAndConditional(t *testing.T) {
	e := newEnv(t)
	u := e.createUser("alice")
	id := u["id"].(string)
	r := e.do("GET", "/Users/"+id, nil).want(t, 200)
	if r.body["userName"] != "alice" || r.header.Get("ETag") != `W/"1"` {
		t.Fatalf("get: %s %v", r.raw, r.header)
	}
	e.do("GET", "/Users/"+id, nil, "If-None-Match", `W/"1"`).want(t, 304)
	e.do("GET", "/Users/"+id, nil, "If-None-Match", `W/"9"`).want(t, 200)
	e.do("GET", "/Users/010101001010101011001010101011", nil).want(t, 404)
	// A user is not a group.
	e.do("GET", "/Groups/"+id, nil).want(t, 404)
}

func TestReplace(t *testing.T) {
	e := newEnv(t)
	u := e.createUser("carol", map[string]any{"title": "Engineer", "password": "secret1"})
	id := u["id"].(string)
	// Okta sends back what it read, with readOnly fields, and a change.
	// Meta times have millisecond precision; move the clock so the change shows.
	e.setClock(time.Now().Add(time.Second))
	u["name"].(map[string]any)["middleName"] = "Q"
	delete(u, "title")
	u["groups"] = []any{}
	r := e.do("PUT", "/Users/"+id, u).want(t, 200)
	if get(r.body, "name.middleName") != "Q" || r.body["title"] != nil || get(r.body, "meta.version") != `W/"2"` {
		t.Fatalf("PUT: %s", r.raw)
	}
	if get(r.body, "meta.created") == get(r.body, "meta.lastModified") {
		t.Fatalf("lastModified not moved")
	}
	// The same PUT again changes nothing and keeps the version.
	r = e.do("PUT", "/Users/"+id, u).want(t, 200)
	if get(r.body, "meta.version") != `W/"2"` {
		t.Fatalf("no-op PUT bumped version: %v", get(r.body, "meta.version"))
	}
	e.do("PUT", "/Users/"+id, u, "If-Match", `W/"1"`).want(t, 412)
	u["active"] = false
	r = e.do("PUT", "/Users/"+id, u, "If-Match", `W/"2"`).want(t, 200)
	if r.body["active"] != false {
		t.Fatalf("Okta deactivation by PUT: %s", r.raw)
	}
	e.do("PUT", "/Users/nope", u).want(t, 404)
	e.do("PUT", "/Users/"+id, `{"name":{"givenName":"x"}}`).want(t, 400, "invalidValue")
	// userName uniqueness holds on PUT too.
	e.createUser("dave")
	u["userName"] = "DAVE"
	e.do("PUT", "/Users/"+id, u).want(t, 409, "uniqueness")
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("erin")["id"].(string)
	e.do("DELETE", "/Users/"+id, nil, "If-Match", `W/"7"`).want(t, 412)
	e.do("DELETE", "/Users/"+id, nil).want(t, 204)
	e.do("GET", "/Users/"+id, nil).want(t, 404)
	e.do("DELETE", "/Users/"+id, nil).want(t, 404)
	// The userName is free again.
	e.createUser("erin")
}

func TestGroups(t *testing.T) {
	e := newEnv(t)
	u1 := e.createUser("u1", map[string]any{"displayName": "User One"})["id"].(string)
	u2 := e.createUser("u2")["id"].(string)
	// Entra sends an extra schema URN on group creation.
	r := e.do("POST", "/Groups", map[string]any{
		"schemas":     []string{schema.GroupURN, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"},
		"externalId":  "ext-1",
		"displayName": "Inner",
		"members":     []any{map[string]any{"value": u1, "display": "ignored", "$ref": nil}},
		"meta":        map[string]any{"resourceType": "Group"},
	}).want(t, 201)
	inner := r.body["id"].(string)
	m := get(r.body, "members.0").(map[string]any)
	if m["value"] != u1 || m["type"] != "User" || m["display"] != "ignored" || m["$ref"] != e.base+"/Users/"+u1 {
		t.Fatalf("member (display is the client's label): %v", m)
	}
	outer := e.createGroup("Outer", inner, u2)["id"].(string)
	g := e.do("GET", "/Groups/"+outer, nil).want(t, 200).body
	if n := len(g["members"].([]any)); n != 2 {
		t.Fatalf("outer members: %v", g["members"])
	}
	g = e.do("GET", "/Groups/"+outer+"?excludedAttributes=members", nil).want(t, 200).body
	if g["members"] != nil || g["displayName"] != "Outer" {
		t.Fatalf("excludedAttributes=members: %v", g)
	}
	// The user's groups: direct and, through nesting, indirect.
	uu := e.do("GET", "/Users/"+u1, nil).want(t, 200).body
	types := map[string]string{}
	for _, x := range uu["groups"].([]any) {
		xm := x.(map[string]any)
		types[xm["value"].(string)] = xm["type"].(string)
		if xm["$ref"] != e.base+"/Groups/"+xm["value"].(string) || xm["display"] == nil {
			t.Fatalf("group ref: %v", xm)
		}
	}
	if types[inner] != "direct" || types[outer] != "indirect" || len(types) != 2 {
		t.Fatalf("groups: %v", uu["groups"])
	}
	// A member that does not exist is dropped (--unknown-members ignore; see
	// TestUnknownMembers for reject).
	if b := e.do("POST", "/Groups", map[string]any{"displayName": "Bad", "members": []any{map[string]any{"value": "no-such-user"}}}).want(t, 201).body; b["members"] != nil {
		t.Fatalf("unknown member kept: %v", b["members"])
	}
	e.do("POST", "/Groups", map[string]any{"displayName": "Bad", "members": []any{map[string]any{"display": "no value"}}}).want(t, 400, "invalidValue")
	e.do("POST", "/Groups", map[string]any{"members": []any{}}).want(t, 400, "invalidValue")
	// Okta's PUT of the whole group replaces the member list.
	r = e.do("PUT", "/Groups/"+outer, map[string]any{"schemas": []string{schema.GroupURN}, "id": outer, "displayName": "Outer", "members": []any{map[string]any{"value": u1}}}).want(t, 200)
	if n := len(r.body["members"].([]any)); n != 1 || get(r.body, "members.0.value") != u1 {
		t.Fatalf("PUT members: %v", r.body["members"])
	}
	// Deleting a user removes it from every group.
	e.do("DELETE", "/Users/"+u1, nil).want(t, 204)
	for _, gid := range []string{inner, outer} {
		g := e.do("GET", "/Groups/"+gid, nil).want(t, 200).body
		if g["members"] != nil {
			t.Fatalf("group %s still lists the deleted user: %v", gid, g["members"])
		}
	}
	// Groups with no members are returned without a members key (never null or []).
	if strings.Contains(string(e.do("GET", "/Groups/"+inner, nil).raw), "members") {
		t.Fatal("empty members emitted")
	}
}

func TestListPaging(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 12; i++ {
		e.createUser(fmt.Sprintf("user%02d", i))
	}
	seen := map[string]bool{}
	for start := 1; start <= 12; start += 5 {
		l := e.do("GET", fmt.Sprintf("/Users?startIndex=%d&count=5", start), nil).want(t, 200).body
		if l["totalResults"] != 12.0 || l["startIndex"] != float64(start) || get(l, "schemas.0") != schema.ListResponseURN {
			t.Fatalf("page %d: %v", start, l)
		}
		res := l["Resources"].([]any)
		if l["itemsPerPage"] != float64(len(res)) {
			t.Fatalf("itemsPerPage %v with %d resources", l["itemsPerPage"], len(res))
		}
		for _, r := range res {
			rm := r.(map[string]any)
			if rm["schemas"] == nil {
				t.Fatal("resource without schemas in a list (SailPoint needs them)")
			}
			seen[rm["id"].(string)] = true
		}
	}
	if len(seen) != 12 {
		t.Fatalf("paging saw %d users", len(seen))
	}
	tests := []struct {
		query                    string
		total, items, startIndex float64
	}{
		{"count=0", 12, 0, 1},
		{"count=-3", 12, 0, 1},
		{"startIndex=0&count=2", 12, 2, 1},
		{"startIndex=-5&count=2", 12, 2, 1},
		{"startIndex=12&count=10", 12, 1, 12},
		{"startIndex=50", 12, 0, 50},
	}
	for _, tc := range tests {
		l := e.do("GET", "/Users?"+tc.query, nil).want(t, 200).body
		if l["totalResults"] != tc.total || l["itemsPerPage"] != tc.items || l["startIndex"] != tc.startIndex {
			t.Errorf("%s: %v %v %v", tc.query, l["totalResults"], l["itemsPerPage"], l["startIndex"])
		}
		if _, ok := l["Resources"].([]any); !ok {
			t.Errorf("%s: Resources missing", tc.query)
		}
	}
	e.do("GET", "/Users?count=abc", nil).want(t, 400, "invalidValue")
	e.do("GET", "/Users?attributes=userName&excludedAttributes=emails", nil).want(t, 400, "invalidValue")
}

func TestProjection(t *testing.T) {
	e := newEnv(t)
	u := e.createUser("pat", map[string]any{ent: map[string]any{"department": "Ops", "manager": map[string]any{"value": "m"}}})
	id := u["id"].(string)
	tests := []struct {
		query   string
		present []string
		absent  []string
	}{
		{"attributes=userName", []string{"id", "schemas", "userName"}, []string{"emails", "name", "meta", "active"}},
		{"attributes=name.givenName", []string{"name.givenName"}, []string{"name.familyName", "userName"}},
		{"attributes=EMAILS.VALUE", []string{"emails.0.value"}, []string{"emails.0.type"}},
		{"excludedAttributes=emails,meta", []string{"userName", "name"}, []string{"emails", "meta"}},
		{"excludedAttributes=id", []string{"id"}, nil},
		{"attributes=" + ent + ":department", []string{ent + ".department"}, []string{ent + ".manager", "userName"}},
		{"attributes=" + ent, []string{ent + ".department", ent + ".manager.value"}, []string{"userName"}},
		{"excludedAttributes=name.givenName", []string{"name.familyName"}, []string{"name.givenName"}},
		{"attributes=password", []string{"id"}, []string{"password"}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			for _, path := range []string{"/Users/" + id + "?" + tc.query, "/Users?" + tc.query} {
				b := e.do("GET", path, nil).want(t, 200).body
				if strings.HasPrefix(path, "/Users?") {
					b = get(b, "Resources.0").(map[string]any)
				}
				lookup := func(p string) any {
					if strings.HasPrefix(p, ent+".") {
						return getURN(b, ent, strings.TrimPrefix(p, ent+"."))
					}
					return get(b, p)
				}
				for _, p := range tc.present {
					if lookup(p) == nil {
						t.Errorf("%s: %s missing: %v", path, p, b)
					}
				}
				for _, p := range tc.absent {
					if lookup(p) != nil {
						t.Errorf("%s: %s present: %v", path, p, lookup(p))
					}
				}
			}
		})
	}
	// attributes on POST responses too.
	r := e.do("POST", "/Users?attributes=userName", `{"userName":"proj"}`).want(t, 201)
	if len(r.body) != 3 {
		t.Fatalf("POST with attributes: %s", r.raw)
	}
}

func TestRouting(t *testing.T) {
	e := newEnv(t)
	r := e.do("PATCH", "/Users", `{}`).want(t, 405)
	if r.header.Get("Allow") == "" {
		t.Fatal("405 without Allow")
	}
	e.do("POST", "/Users/abc", `{}`).want(t, 405)
	e.do("DELETE", "/ServiceProviderConfig", nil).want(t, 405)
	e.do("GET", "/Nope", nil).want(t, 404)
	e.do("GET", "/Me", nil).want(t, 501)
	// Microsoft's test collection lists users at "/Users/".
	e.do("GET", "/Users/?count=1", nil).want(t, 200)
	e.do("GET", e.srv.URL+"/other", nil).want(t, 404)
	res, err := http.Get(e.srv.URL + "/healthz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", res, err)
	}
	res, err = http.Get(e.srv.URL + "/readyz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", res, err)
	}
}

func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.st.CreateTenant(ctx, "acme", time.Now()); err != nil {
		t.Fatal(err)
	}
	acme, _, err := e.au.CreateToken(ctx, "acme", "acme", []string{auth.ScopeRead, auth.ScopeWrite}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	id := e.createUser("shared")["id"].(string)
	e.doToken(acme, "GET", "/Users/"+id, nil).want(t, 404)
	e.doToken(acme, "DELETE", "/Users/"+id, nil).want(t, 404)
	e.doToken(acme, "POST", "/Users", `{"userName":"shared"}`).want(t, 201)
	l := e.doToken(acme, "GET", "/Users", nil).want(t, 200).body
	if l["totalResults"] != 1.0 {
		t.Fatalf("acme sees %v users", l["totalResults"])
	}
	// Another tenant's user is as unknown as one that does not exist: dropped
	// under --unknown-members ignore, refused under reject.
	g := e.doToken(acme, "POST", "/Groups", map[string]any{"displayName": "x", "members": []any{map[string]any{"value": id}}}).want(t, 201).body
	if g["members"] != nil {
		t.Fatalf("a group holds another tenant's user: %v", g["members"])
	}
	strict := newEnv(t, api.Config{UnknownMembers: api.UnknownMembersReject})
	if err := strict.st.CreateTenant(ctx, "acme", time.Now()); err != nil {
		t.Fatal(err)
	}
	acme2, _, err := strict.au.CreateToken(ctx, "acme", "acme", []string{auth.ScopeRead, auth.ScopeWrite}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	id2 := strict.createUser("shared")["id"].(string)
	strict.doToken(acme2, "POST", "/Groups", map[string]any{"displayName": "x", "members": []any{map[string]any{"value": id2}}}).want(t, 400, "invalidValue")
}

// The response bodies are valid JSON objects in every error case above; this
// checks one panic-free path for an enormous attribute list too.
func TestHostileInput(t *testing.T) {
	e := newEnv(t)
	deep := strings.Repeat(`{"a":`, 10000) + `1` + strings.Repeat(`}`, 10000)
	e.do("POST", "/Users", `{"userName":"d","name":`+deep+`}`).want(t, 400)
	many := make([]any, 5000)
	for i := range many {
		many[i] = map[string]any{"value": fmt.Sprintf("a%d@x", i)}
	}
	b, _ := json.Marshal(map[string]any{"userName": "many", "emails": many})
	r := e.do("POST", "/Users", b).want(t, 201)
	if n := len(r.body["emails"].([]any)); n != 5000 {
		t.Fatalf("emails: %d", n)
	}
}
