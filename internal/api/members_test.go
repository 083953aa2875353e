package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pamscim/pamscim/internal/api"
)

// Microsoft's Entra SCIM validator ("Group tests"): a member added with
// {"displayName": "new User", "value": id} is shown with that name, and the
// name goes when the member does.
func TestMemberLabelsEntra(t *testing.T) {
	e := newEnv(t)
	uid := e.createUser("lennay", map[string]any{"displayName": "lennay"})["id"].(string)
	other := e.createUser("other", map[string]any{"displayName": "Other Person"})["id"].(string)
	gid := e.createGroup("G")["id"].(string)
	e.do("PATCH", "/Groups/"+gid, fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"name":"addMember","op":"add","path":"members","value":[{"displayName":"new User","value":"%s"}]}]}`, uid)).want(t, 204)
	g := e.do("GET", "/Groups/"+gid, nil).want(t, 200)
	if !strings.Contains(string(g.raw), "new User") || get(g.body, "members.0.display") != "new User" {
		t.Fatalf("label not kept: %s", g.raw)
	}
	v1 := g.header.Get("ETag")
	// The same label again changes nothing; a new one is a change.
	e.do("PATCH", "/Groups/"+gid, fmt.Sprintf(`{"Operations":[{"op":"add","path":"members","value":[{"display":"new User","value":"%s"}]}]}`, uid)).want(t, 204)
	if v := e.do("GET", "/Groups/"+gid, nil).header.Get("ETag"); v != v1 {
		t.Fatalf("a no-op add changed the version %s → %s", v1, v)
	}
	// A member without a label shows its own display name.
	e.do("PATCH", "/Groups/"+gid, fmt.Sprintf(`{"Operations":[{"op":"add","path":"members","value":[{"value":"%s"}]}]}`, other)).want(t, 204)
	g = e.do("GET", "/Groups/"+gid, nil).want(t, 200)
	for _, m := range g.body["members"].([]any) {
		mm := m.(map[string]any)
		want := map[string]string{uid: "new User", other: "Other Person"}[mm["value"].(string)]
		if mm["display"] != want {
			t.Fatalf("member %v: display %v, want %s", mm["value"], mm["display"], want)
		}
	}
	e.do("PATCH", "/Groups/"+gid, fmt.Sprintf(`{"Operations":[{"op":"remove","path":"members","value":[{"value":"%s"}]}]}`, uid)).want(t, 204)
	if g := e.do("GET", "/Groups/"+gid, nil).want(t, 200); strings.Contains(string(g.raw), "new User") {
		t.Fatalf("label outlived the member: %s", g.raw)
	}
	// Added again without a label: its own name, not the old label.
	e.do("PATCH", "/Groups/"+gid, fmt.Sprintf(`{"Operations":[{"op":"add","path":"members","value":[{"value":"%s"}]}]}`, uid)).want(t, 204)
	if g := e.do("GET", "/Groups/"+gid, nil).want(t, 200); strings.Contains(string(g.raw), "new User") {
		t.Fatalf("old label came back: %s", g.raw)
	}
	// POST and PUT keep labels too.
	g2 := e.do("POST", "/Groups", map[string]any{"displayName": "G2", "members": []any{map[string]any{"value": uid, "display": "Lenny"}}}).want(t, 201)
	if get(g2.body, "members.0.display") != "Lenny" {
		t.Fatalf("POST label: %s", g2.raw)
	}
	g2id := g2.body["id"].(string)
	// Entra's "displayName" in a member is read as display on POST too.
	g3 := e.do("POST", "/Groups", map[string]any{"displayName": "G3", "members": []any{map[string]any{"value": uid, "displayName": "Lennay E"}}}).want(t, 201)
	if get(g3.body, "members.0.display") != "Lennay E" {
		t.Fatalf("POST displayName label: %s", g3.raw)
	}
	r := e.do("PUT", "/Groups/"+g2id, map[string]any{"displayName": "G2", "members": []any{map[string]any{"value": uid, "display": "Len"}}}).want(t, 200)
	if get(r.body, "members.0.display") != "Len" {
		t.Fatalf("PUT label: %s", r.raw)
	}
}

// Member ids that do not exist (or belong to another tenant) are dropped
// under --unknown-members ignore, the default (Entra's validator adds
// "string id 1" and expects 204), and refused with 400 under reject, with
// nothing changed.
func TestUnknownMembers(t *testing.T) {
	for _, mode := range []string{"", api.UnknownMembersIgnore, api.UnknownMembersReject} {
		t.Run("mode="+mode, func(t *testing.T) {
			e := newEnv(t, api.Config{UnknownMembers: mode})
			reject := mode == api.UnknownMembersReject
			uid := e.createUser("u")["id"].(string)
			gid := e.createGroup("G", uid)["id"].(string)
			before := e.do("GET", "/Groups/"+gid, nil).header.Get("ETag")
			type req struct {
				method, path, body string
			}
			for _, rq := range []req{
				{"PATCH", "/Groups/" + gid, `{"Operations":[{"op":"add","path":"members","value":"string id 1"}]}`},
				{"PATCH", "/Groups/" + gid, `{"Operations":[{"op":"add","path":"members","value":[{"value":"gone-1"},{"value":"gone-2"}]}]}`},
				{"PATCH", "/Groups/" + gid, `{"Operations":[{"op":"replace","path":"members","value":[{"value":"` + uid + `"},{"value":"gone-3"}]}]}`},
				{"PUT", "/Groups/" + gid, `{"displayName":"G","members":[{"value":"` + uid + `"},{"value":"gone-4"}]}`},
			} {
				r := e.do(rq.method, rq.path, rq.body)
				if reject {
					r.want(t, 400, "invalidValue")
					if !strings.Contains(r.body["detail"].(string), "gone") && !strings.Contains(r.body["detail"].(string), "string id 1") {
						t.Fatalf("detail does not name the id: %s", r.raw)
					}
				} else if r.status >= 300 {
					t.Fatalf("%s %s: %d %s", rq.method, rq.body, r.status, r.raw)
				}
			}
			g := e.do("GET", "/Groups/"+gid, nil).want(t, 200)
			if ms, _ := g.body["members"].([]any); len(ms) != 1 || get(ms[0], "value") != uid {
				t.Fatalf("members: %s", g.raw)
			}
			if g.header.Get("ETag") != before {
				t.Fatalf("version changed %s → %s though only unknown members were named", before, g.header.Get("ETag"))
			}
			// Known and unknown in one add: the known one is added (ignore)
			// or nothing is (reject).
			u2 := e.createUser("u2")["id"].(string)
			r := e.do("PATCH", "/Groups/"+gid, `{"Operations":[{"op":"add","path":"members","value":[{"value":"`+u2+`"},{"value":"gone-5"}]}]}`)
			ms := e.do("GET", "/Groups/"+gid, nil).body["members"].([]any)
			if reject {
				r.want(t, 400, "invalidValue")
				if len(ms) != 1 {
					t.Fatalf("rejected PATCH changed members: %v", ms)
				}
			} else if r.want(t, 204); len(ms) != 2 {
				t.Fatalf("known member not added: %v", ms)
			}
		})
	}
}
