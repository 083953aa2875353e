package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pamscim/pamscim/internal/api"
	"github.com/pamscim/pamscim/internal/schema"
)

func bulkReq(failOnErrors any, ops ...map[string]any) map[string]any {
	r := map[string]any{"schemas": []string{schema.BulkRequestURN}, "Operations": ops}
	if failOnErrors != nil {
		r["failOnErrors"] = failOnErrors
	}
	return r
}

func bulkOps(t *testing.T, r *resp) []map[string]any {
	t.Helper()
	if sc, _ := r.body["schemas"].([]any); len(sc) != 1 || sc[0] != schema.BulkResponseURN {
		t.Fatalf("bulk response schemas: %s", r.raw)
	}
	var out []map[string]any
	for _, o := range r.body["Operations"].([]any) {
		out = append(out, o.(map[string]any))
	}
	return out
}

func idOf(loc any) string {
	s, _ := loc.(string)
	return s[strings.LastIndex(s, "/")+1:]
}

func TestBulkRFCExamples(t *testing.T) {
	e := newEnv(t)
	// RFC 7644 §3.7.2: a user and a group that holds it, the group first so
	// that the server must reorder.
	r := e.do("POST", "/Bulk", bulkReq(nil,
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "ytrewq", "data": map[string]any{
			"schemas": []string{schema.GroupURN}, "displayName": "Tour Guides",
			"members": []any{map[string]any{"type": "User", "value": "bulkId:qwerty"}}}},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "qwerty", "data": map[string]any{
			"schemas": []string{schema.UserURN}, "userName": "Alice"}},
	)).want(t, 200)
	ops := bulkOps(t, r)
	if len(ops) != 2 || ops[0]["status"] != "201" || ops[1]["status"] != "201" {
		t.Fatalf("results: %s", r.raw)
	}
	if ops[0]["bulkId"] != "ytrewq" || ops[0]["method"] != "POST" || ops[0]["version"] == nil {
		t.Fatalf("result fields: %v", ops[0])
	}
	gid, uid := idOf(ops[0]["location"]), idOf(ops[1]["location"])
	g := e.do("GET", "/Groups/"+gid, nil).want(t, 200).body
	if get(g, "members.0.value") != uid {
		t.Fatalf("group members %v, want %s", g["members"], uid)
	}
	if !strings.HasPrefix(ops[1]["location"].(string), e.base+"/Users/") {
		t.Fatalf("location %v", ops[1]["location"])
	}

	// RFC 7644 §3.7.1: two groups that hold each other.
	r = e.do("POST", "/Bulk", bulkReq(nil,
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "a", "data": map[string]any{
			"displayName": "Group A", "members": []any{map[string]any{"type": "Group", "value": "bulkId:b"}}}},
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "b", "data": map[string]any{
			"displayName": "Group B", "members": []any{map[string]any{"type": "Group", "value": "bulkId:a"}}}},
	)).want(t, 200)
	ops = bulkOps(t, r)
	if len(ops) != 2 || ops[0]["status"] != "201" || ops[1]["status"] != "201" {
		t.Fatalf("circular: %s", r.raw)
	}
	a, b := idOf(ops[0]["location"]), idOf(ops[1]["location"])
	if got := get(e.do("GET", "/Groups/"+a, nil).want(t, 200).body, "members.0.value"); got != b {
		t.Fatalf("group A members %v, want %s", got, b)
	}
	gb := e.do("GET", "/Groups/"+b, nil).want(t, 200)
	if got := get(gb.body, "members.0.value"); got != a {
		t.Fatalf("group B members %v, want %s", got, a)
	}
	// The version reported is the one after the references were added.
	for _, op := range ops {
		cur := e.do("GET", "/Groups/"+idOf(op["location"]), nil).want(t, 200)
		if op["version"] != cur.header.Get("ETag") {
			t.Fatalf("reported version %v, current %s", op["version"], cur.header.Get("ETag"))
		}
	}

	// A manager given by bulkId in the enterprise extension.
	r = e.do("POST", "/Bulk", bulkReq(nil,
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "emp", "data": map[string]any{
			"userName":               "Employee",
			schema.EnterpriseUserURN: map[string]any{"manager": map[string]any{"value": "bulkId:boss"}}}},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "boss", "data": map[string]any{"userName": "Boss"}},
	)).want(t, 200)
	ops = bulkOps(t, r)
	emp := e.do("GET", "/Users/"+idOf(ops[0]["location"]), nil).want(t, 200).body
	if got := getURN(emp, schema.EnterpriseUserURN, "manager.value"); got != idOf(ops[1]["location"]) {
		t.Fatalf("manager %v: %s", got, r.raw)
	}
}

func TestBulkUpdatesAndErrors(t *testing.T) {
	e := newEnv(t)
	bob := e.createUser("bob")
	dave := e.createUser("dave")
	bobID, daveID := bob["id"].(string), dave["id"].(string)
	r := e.do("POST", "/Bulk", bulkReq(nil,
		map[string]any{"method": "PUT", "path": "/Users/" + bobID, "version": bob["meta"].(map[string]any)["version"],
			"data": map[string]any{"userName": "bob", "displayName": "Bob B"}},
		map[string]any{"method": "PATCH", "path": "/Users/" + daveID, "version": `W/"999"`,
			"data": map[string]any{"schemas": []string{schema.PatchOpURN}, "Operations": []any{map[string]any{"op": "replace", "path": "nickName", "value": "D"}}}},
		map[string]any{"method": "patch", "path": "/Users/" + daveID,
			"data": []any{map[string]any{"op": "replace", "path": "nickName", "value": "Davy"}}}, // SailPoint's bare array, lower-case method
		map[string]any{"method": "DELETE", "path": "/Users/does-not-exist"},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "dup", "data": map[string]any{"userName": "BOB"}},
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "g", "data": map[string]any{
			"displayName": "needs dup", "members": []any{map[string]any{"value": "bulkId:dup"}}}},
		map[string]any{"method": "POST", "path": "/Groups", "bulkId": "g2", "data": map[string]any{
			"displayName": "needs nothing known", "members": []any{map[string]any{"value": "bulkId:nowhere"}}}},
		map[string]any{"method": "GET", "path": "/Users/" + bobID},
		map[string]any{"method": "POST", "path": "/Bulk", "bulkId": "x", "data": map[string]any{}},
		map[string]any{"method": "PUT", "path": "/Users", "data": map[string]any{"userName": "x"}},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "nodata"},
		map[string]any{"method": "DELETE", "path": "/Users/" + daveID, "version": `W/"1"`},
	)).want(t, 200)
	ops := bulkOps(t, r)
	want := []struct {
		status   string
		scimType string
	}{
		{"200", ""}, {"412", ""}, {"204", ""}, {"404", ""}, {"409", "uniqueness"},
		{"400", "invalidValue"}, {"400", "invalidValue"}, {"400", "invalidSyntax"}, {"400", "invalidPath"},
		{"400", "invalidPath"}, {"400", "invalidSyntax"}, {"412", ""},
	}
	if len(ops) != len(want) {
		t.Fatalf("%d results, want %d: %s", len(ops), len(want), r.raw)
	}
	for i, w := range want {
		op := ops[i]
		if op["status"] != w.status {
			t.Errorf("operation %d: status %v, want %s: %v", i+1, op["status"], w.status, op)
			continue
		}
		if w.status >= "300" {
			resp, _ := op["response"].(map[string]any)
			if resp == nil || resp["status"] != w.status || (w.scimType != "" && resp["scimType"] != w.scimType) {
				t.Errorf("operation %d: response %v, want status %s scimType %q", i+1, op["response"], w.status, w.scimType)
			}
		}
	}
	if ops[0]["location"] != e.base+"/Users/"+bobID || ops[3]["location"] != e.base+"/Users/does-not-exist" {
		t.Errorf("locations: %v, %v", ops[0]["location"], ops[3]["location"])
	}
	if _, has := ops[4]["location"]; has {
		t.Errorf("a failed POST has no location: %v", ops[4])
	}
	got := e.do("GET", "/Users/"+daveID, nil).want(t, 200).body
	if got["nickName"] != "Davy" {
		t.Fatalf("dave after bulk: %v", got)
	}
	if e.do("GET", "/Users/"+bobID, nil).want(t, 200).body["displayName"] != "Bob B" {
		t.Fatal("PUT in bulk not applied")
	}
}

func TestBulkFailOnErrors(t *testing.T) {
	e := newEnv(t)
	e.createUser("taken")
	ops := []map[string]any{
		{"method": "POST", "path": "/Users", "bulkId": "1", "data": map[string]any{"userName": "taken"}},
		{"method": "POST", "path": "/Users", "bulkId": "2", "data": map[string]any{"userName": "fresh1"}},
		{"method": "POST", "path": "/Users", "bulkId": "3", "data": map[string]any{"userName": "TAKEN"}},
		{"method": "POST", "path": "/Users", "bulkId": "4", "data": map[string]any{"userName": "fresh2"}},
	}
	for _, tc := range []struct {
		fail    any
		results int
		created []string
	}{
		{nil, 4, []string{"fresh1", "fresh2"}},
		{1, 1, nil},
		{2, 3, []string{"fresh1"}},
		{"2", 3, []string{"fresh1"}}, // a string, as some clients send it
	} {
		t.Run(fmt.Sprint(tc.fail), func(t *testing.T) {
			e := newEnv(t)
			e.createUser("taken")
			r := e.do("POST", "/Bulk", bulkReq(tc.fail, ops...)).want(t, 200)
			if got := bulkOps(t, r); len(got) != tc.results {
				t.Fatalf("%d results, want %d: %s", len(got), tc.results, r.raw)
			}
			list := e.do("GET", "/Users?filter="+strings.ReplaceAll(`userName sw "fresh"`, " ", "%20"), nil).want(t, 200).body
			if n := int(list["totalResults"].(float64)); n != len(tc.created) {
				t.Fatalf("%d fresh users, want %v", n, tc.created)
			}
		})
	}
	e.do("POST", "/Bulk", bulkReq(-1, ops...)).want(t, 400, "invalidValue")
}

func TestBulkLimitsAndBadRequests(t *testing.T) {
	e := newEnv(t, api.Config{BulkMaxOperations: 3, BulkMaxPayload: 2048})
	cfg := e.do("GET", "/ServiceProviderConfig", nil).want(t, 200).body
	if b := cfg["bulk"].(map[string]any); b["supported"] != true || b["maxOperations"] != 3.0 || b["maxPayloadSize"] != 2048.0 {
		t.Fatalf("bulk config %v", b)
	}
	op := map[string]any{"method": "DELETE", "path": "/Users/x"}
	r := e.do("POST", "/Bulk", bulkReq(nil, op, op, op, op)).want(t, 413)
	if !strings.Contains(r.body["detail"].(string), "maxOperations (3)") {
		t.Fatalf("413 detail does not name the limit: %s", r.raw)
	}
	big := map[string]any{"method": "POST", "path": "/Users", "bulkId": "b", "data": map[string]any{"userName": strings.Repeat("x", 3000)}}
	r = e.do("POST", "/Bulk", bulkReq(nil, big)).want(t, 413)
	if !strings.Contains(r.body["detail"].(string), "maxPayloadSize (2048)") {
		t.Fatalf("413 detail does not name the limit: %s", r.raw)
	}
	for _, body := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[`,
		`[]`,
		`{"Operations":{}}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"]}`,
		`{"Operations":[null]}`,
		`{"Operations":[]} {}`,
		// RFC 7644 §3.7.3's own PATCH example is not JSON.
		`{"Operations":[{"method":"PATCH","path":"/Users/x","data":{[{"op":"remove","path":"nickName"}]}}]}`,
	} {
		e.do("POST", "/Bulk", body).want(t, 400, "invalidSyntax")
	}
	e.do("POST", "/Bulk", bulkReq(nil,
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "same", "data": map[string]any{"userName": "a"}},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "same", "data": map[string]any{"userName": "b"}},
	)).want(t, 400, "invalidValue")
	if n := e.do("GET", "/Users", nil).want(t, 200).body["totalResults"]; n != 0.0 {
		t.Fatalf("a refused bulk request created %v users", n)
	}
	e.do("GET", "/Bulk", nil).want(t, 405)
	// A read-only token cannot write through Bulk.
	ro, _, err := e.au.CreateToken(t.Context(), "default", "ro", []string{"scim:read"}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	e.doToken(ro, "POST", "/Bulk", bulkReq(nil, op)).want(t, 403)
	e.doToken("", "POST", "/Bulk", bulkReq(nil, op)).want(t, 401)
	r = e.do("POST", "/Bulk", `{"Operations":[]}`).want(t, 200)
	if len(bulkOps(t, r)) != 0 {
		t.Fatalf("empty bulk: %s", r.raw)
	}
}

// An unbreakable cycle (references outside complex values) is refused with
// 409, and nothing is left half-created.
func TestBulkUnresolvableCycle(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/Bulk", bulkReq(nil,
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "a", "data": map[string]any{"userName": "a", "nickName": "bulkId:b"}},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "b", "data": map[string]any{"userName": "b", "nickName": "bulkId:a"}},
	)).want(t, 200)
	ops := bulkOps(t, r)
	if len(ops) != 2 || ops[0]["status"] != "409" || ops[1]["status"] != "409" {
		t.Fatalf("cycle: %s", r.raw)
	}
	if n := e.do("GET", "/Users", nil).want(t, 200).body["totalResults"]; n != 0.0 {
		t.Fatalf("%v users after a refused cycle", n)
	}
	// A reference inside a string elsewhere is replaced too, once resolvable.
	r = e.do("POST", "/Bulk", bulkReq(nil,
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "c", "data": map[string]any{"userName": "c", "nickName": "bulkId:d"}},
		map[string]any{"method": "POST", "path": "/Users", "bulkId": "d", "data": map[string]any{"userName": "d"}},
		map[string]any{"method": "PATCH", "path": "/Users/bulkId:d", "data": map[string]any{"Operations": []any{map[string]any{"op": "add", "path": "title", "value": "boss"}}}},
	)).want(t, 200)
	ops = bulkOps(t, r)
	var dID string
	for _, op := range ops {
		if op["bulkId"] == "d" {
			dID = idOf(op["location"])
		}
	}
	c := e.do("GET", "/Users/"+idOf(ops[0]["location"]), nil).want(t, 200).body
	if c["nickName"] != dID {
		t.Fatalf("nickName %v, want %s: %s", c["nickName"], dID, r.raw)
	}
	if ops[2]["status"] != "204" || idOf(ops[2]["location"]) != dID {
		t.Fatalf("PATCH by bulkId path: %v", ops[2])
	}
	if d := e.do("GET", "/Users/"+dID, nil).want(t, 200).body; d["title"] != "boss" {
		t.Fatalf("d: %v", d)
	}
}

// The result list keeps the request's order even when the server reorders.
func TestBulkResultOrder(t *testing.T) {
	e := newEnv(t)
	var ops []map[string]any
	for i := 9; i >= 0; i-- {
		data := map[string]any{"userName": fmt.Sprintf("u%d", i)}
		if i > 0 {
			data[schema.EnterpriseUserURN] = map[string]any{"manager": map[string]any{"value": fmt.Sprintf("bulkId:%d", i-1)}}
		}
		ops = append(ops, map[string]any{"method": "POST", "path": "/Users", "bulkId": fmt.Sprint(i), "data": data})
	}
	r := e.do("POST", "/Bulk", bulkReq(nil, ops...)).want(t, 200)
	got := bulkOps(t, r)
	for i, op := range got {
		if op["bulkId"] != fmt.Sprint(9-i) || op["status"] != "201" {
			b, _ := json.Marshal(got)
			t.Fatalf("result %d: %s", i, b)
		}
	}
}
