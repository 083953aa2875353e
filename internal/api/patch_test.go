package api_test

import (
	"fmt"
	"testing"
)

// Replays of the PATCH requests identity platforms send, end to end over a
// real store (clients/NOTES.md §7).
func TestPatchReplays(t *testing.T) {
	e := newEnv(t)
	uid := e.createUser("pat")["id"].(string)
	u2 := e.createUser("pat2")["id"].(string)
	gid := e.createGroup("G")["id"].(string)
	patch := func(path string, ops string) *resp {
		return e.do("PATCH", path, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":`+ops+`}`)
	}
	// Entra E8: capitalised ops through a value path and a sub-attribute.
	patch("/Users/"+uid, `[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@example.com"},{"op":"Replace","path":"name.familyName","value":"New"}]`).want(t, 204)
	u := e.do("GET", "/Users/"+uid, nil).want(t, 200).body
	if get(u, "emails.0.value") != "new@example.com" || get(u, "name.familyName") != "New" || len(u["emails"].([]any)) != 1 {
		t.Fatalf("E8: %v", u)
	}
	// Entra E14: "False" as a string.
	patch("/Users/"+uid, `[{"op":"Replace","path":"active","value":"False"}]`).want(t, 204)
	if e.do("GET", "/Users/"+uid, nil).body["active"] != false {
		t.Fatal("E14: active not false")
	}
	// Okta O14: path-less replace, answered with the resource when asked.
	r := e.do("PATCH", "/Users/"+uid+"?attributes=active", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":true}}]}`).want(t, 200)
	if r.body["active"] != true || r.body["userName"] != nil {
		t.Fatalf("O14 with attributes: %s", r.raw)
	}
	// A no-op PATCH keeps the version.
	v := e.do("GET", "/Users/"+uid, nil).header.Get("ETag")
	patch("/Users/"+uid, `[{"op":"replace","path":"active","value":true}]`).want(t, 204)
	if got := e.do("GET", "/Users/"+uid, nil).header.Get("ETag"); got != v {
		t.Fatalf("no-op PATCH moved the ETag %s → %s", v, got)
	}
	// If-Match is honoured.
	e.do("PATCH", "/Users/"+uid, `{"Operations":[{"op":"replace","path":"title","value":"x"}]}`, "If-Match", `W/"999"`).want(t, 412)
	// Entra E24/E26 and SailPoint: member add, then removal of one by value array.
	patch("/Groups/"+gid, fmt.Sprintf(`[{"op":"Add","path":"members","value":[{"$ref":null,"value":"%s"},{"$ref":null,"value":"%s"}]}]`, uid, u2)).want(t, 204)
	patch("/Groups/"+gid, fmt.Sprintf(`[{"op":"Remove","path":"members","value":[{"value":"%s"}]}]`, uid)).want(t, 204)
	g := e.do("GET", "/Groups/"+gid, nil).want(t, 200).body
	if ms := g["members"].([]any); len(ms) != 1 || get(ms[0], "value") != u2 {
		t.Fatalf("E26: %v", g["members"])
	}
	// Okta O22 (SailPoint's bare array too): remove by filter, in one body.
	e.do("PATCH", "/Groups/"+gid, fmt.Sprintf(`[{"op":"remove","path":"members[value eq \"%s\"]"}]`, u2)).want(t, 204)
	if g := e.do("GET", "/Groups/"+gid, nil).body; g["members"] != nil {
		t.Fatalf("O22: %v", g["members"])
	}
	// Failures: a member's sub-attribute, a bad path, a read-only attribute; nothing changes.
	before := e.do("GET", "/Groups/"+gid, nil).header.Get("ETag")
	patch("/Groups/"+gid, `[{"op":"replace","path":"displayName","value":"renamed"},{"op":"add","path":"members","value":[{"value":"missing"}]},{"op":"replace","path":"members.type","value":"User"}]`).want(t, 400, "mutability")
	patch("/Users/"+uid, `[{"op":"replace","path":"nope","value":"x"}]`).want(t, 400, "invalidPath")
	patch("/Users/"+uid, `[{"op":"add","path":"groups","value":[{"value":"x"}]}]`).want(t, 400, "mutability")
	patch("/Users/"+uid, `[{"op":"remove","path":"userName"}]`).want(t, 400)
	patch("/Users/"+uid, `[{"op":"explode","path":"title"}]`).want(t, 400, "invalidSyntax")
	if g := e.do("GET", "/Groups/"+gid, nil); g.header.Get("ETag") != before || g.body["displayName"] != "G" {
		t.Fatalf("a failed PATCH changed the group: %s", g.raw)
	}
	patch("/Users/nope", `[{"op":"replace","path":"title","value":"x"}]`).want(t, 404)
	// The user's groups follow PATCHed membership (SailPoint S10).
	patch("/Groups/"+gid, fmt.Sprintf(`[{"op":"add","path":"members","value":[{"value":"%s"}]}]`, uid)).want(t, 204)
	if got := get(e.do("GET", "/Users/"+uid, nil).body, "groups.0.value"); got != gid {
		t.Fatalf("S10: groups %v", got)
	}
}
