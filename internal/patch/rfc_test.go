package patch

import (
	"context"
	"testing"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
)

// rfcCases cover RFC 7644 §3.5.2 independently of any client.
var rfcCases = []tcase{
	// add
	{
		name: "add without path: object of attributes, extension nested under its URN",
		doc:  minimal,
		body: patchOp(`{"op":"add","value":{"nickName":"B","name":{"givenName":"G"},"` + ent + `":{"department":"D"}}}`),
		want: `{"userName":"bjensen","nickName":"B","name":{"givenName":"G"},"` + ent + `":{"department":"D"}}`,
	},
	{
		name: "add to a multi-valued attribute appends without duplicating",
		doc:  `{"userName":"u","emails":[{"value":"a@x","type":"work"}]}`,
		body: patchOp(`{"op":"add","path":"emails","value":[{"value":"a@x","type":"work"},{"value":"b@x","type":"home"}]}`),
		want: `{"userName":"u","emails":[{"value":"a@x","type":"work"},{"value":"b@x","type":"home"}]}`,
	},
	{
		name: "add a primary value demotes the others",
		doc:  `{"userName":"u","emails":[{"value":"a@x","primary":true},{"value":"b@x"}]}`,
		body: patchOp(`{"op":"add","path":"emails","value":[{"value":"c@x","primary":true}]}`),
		want: `{"userName":"u","emails":[{"value":"a@x","primary":false},{"value":"b@x"},{"value":"c@x","primary":true}]}`,
	},
	{
		name: "add an existing value as primary promotes it instead of duplicating",
		doc:  `{"userName":"u","emails":[{"value":"a@x","primary":true},{"value":"b@x"}]}`,
		body: patchOp(`{"op":"add","path":"emails","value":{"value":"b@x","primary":true}}`),
		want: `{"userName":"u","emails":[{"value":"a@x","primary":false},{"value":"b@x","primary":true}]}`,
	},
	{
		name: "two primaries in one add is invalidValue",
		doc:  minimal,
		body: patchOp(`{"op":"add","path":"emails","value":[{"value":"a@x","primary":true},{"value":"b@x","primary":true}]}`),
		err:  "invalidValue",
	},
	{
		name: "add to a complex attribute merges sub-attributes",
		doc:  `{"userName":"u","name":{"givenName":"G","familyName":"F"}}`,
		body: patchOp(`{"op":"add","path":"name","value":{"familyName":"F2","middleName":"M"}}`),
		want: `{"userName":"u","name":{"givenName":"G","familyName":"F2","middleName":"M"}}`,
	},
	{
		name:    "add a value already present is no change",
		doc:     `{"userName":"u","nickName":"n"}`,
		body:    patchOp(`{"op":"add","path":"nickName","value":"n"}`),
		changed: "no",
	},
	{
		name: "add with a URN-qualified core path",
		doc:  minimal,
		body: patchOp(`{"op":"add","path":"urn:ietf:params:scim:schemas:core:2.0:User:nickName","value":"n"}`),
		want: `{"userName":"bjensen","nickName":"n"}`,
	},
	{
		name: "add with a URN-qualified extension sub-attribute path, case-insensitive",
		doc:  minimal,
		body: patchOp(`{"op":"add","path":"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:Manager.Value","value":"m"}`),
		want: `{"userName":"bjensen","` + ent + `":{"manager":{"value":"m"}}}`,
	},
	{
		name: "add with a path naming the extension takes an object of its attributes",
		doc:  minimal,
		body: patchOp(`{"op":"add","path":"` + ent + `","value":{"division":"X","costCenter":"4"}}`),
		want: `{"userName":"bjensen","` + ent + `":{"division":"X","costCenter":"4"}}`,
	},
	{
		name: "add through a value path merges into the matching value",
		doc:  `{"userName":"u","addresses":[{"type":"work","locality":"A"},{"type":"home","locality":"B"}]}`,
		body: patchOp(`{"op":"add","path":"addresses[type eq \"work\"]","value":{"postalCode":"1"}}`),
		want: `{"userName":"u","addresses":[{"type":"work","locality":"A","postalCode":"1"},{"type":"home","locality":"B"}]}`,
	},
	{
		name: "add through an and-filter creates the value with every eq value",
		doc:  `{"userName":"u","addresses":[{"type":"home","streetAddress":"h"}]}`,
		body: patchOp(`{"op":"add","path":"addresses[type eq \"work\" and primary eq true].streetAddress","value":"100 Universal City Plaza"}`),
		want: `{"userName":"u","addresses":[{"type":"home","streetAddress":"h"},{"type":"work","primary":true,"streetAddress":"100 Universal City Plaza"}]}`,
	},
	{
		name: "add through a filter that is not eq-only and matches nothing is noTarget",
		doc:  minimal,
		body: patchOp(`{"op":"add","path":"emails[type ne \"work\"].value","value":"x"}`),
		err:  "noTarget",
	},
	{
		name: "add with an integer for a string is invalidValue",
		doc:  minimal,
		body: patchOp(`{"op":"add","path":"nickName","value":5}`),
		err:  "invalidValue",
	},
	{
		name: "add an array to a single-valued attribute is invalidValue",
		doc:  minimal,
		body: patchOp(`{"op":"add","path":"nickName","value":["a","b"]}`),
		err:  "invalidValue",
	},
	// replace
	{
		name: "replace a complex attribute merges (RFC 7644, not the interop profile)",
		doc:  `{"userName":"u","name":{"givenName":"G","familyName":"F"}}`,
		body: patchOp(`{"op":"replace","path":"name","value":{"familyName":"F2"}}`),
		want: `{"userName":"u","name":{"givenName":"G","familyName":"F2"}}`,
	},
	{
		name: "replace a complex attribute with a null sub-attribute clears that one",
		doc:  `{"userName":"u","name":{"givenName":"G","familyName":"F"}}`,
		body: patchOp(`{"op":"replace","path":"name","value":{"familyName":null}}`),
		want: `{"userName":"u","name":{"givenName":"G"}}`,
	},
	{
		name: "replace a multi-valued attribute replaces the whole set",
		doc:  bjensen,
		body: patchOp(`{"op":"replace","path":"emails","value":[{"value":"only@x","type":"other"}]}`),
		want: `{"userName":"bjensen","externalId":"bj","displayName":"Babs","title":"Tour Guide","active":true,
			"name":{"givenName":"Barbara","familyName":"Jensen","formatted":"Barbara Jensen"},
			"emails":[{"value":"only@x","type":"other"}],
			"` + ent + `":{"employeeNumber":"701984","department":"Tour Operations","manager":{"value":"m1","$ref":"../Users/m1"}}}`,
	},
	{
		name: "replace through a value path without sub-attribute replaces the whole value",
		doc:  `{"userName":"u","addresses":[{"type":"work","locality":"A","postalCode":"1"}]}`,
		body: patchOp(`{"op":"replace","path":"addresses[type eq \"work\"]","value":{"type":"work","streetAddress":"911 Universal City Plaza"}}`),
		want: `{"userName":"u","addresses":[{"type":"work","streetAddress":"911 Universal City Plaza"}]}`,
	},
	{
		name: "a one-element array through a value path means that one value",
		doc:  `{"userName":"u","emails":[{"type":"work","value":"a"}]}`,
		body: patchOp(`{"op":"add","path":"emails[type eq \"work\"]","value":[{"display":"A"}]},{"op":"add","path":"emails[type eq \"home\"]","value":[{"value":"h"}]}`),
		want: `{"userName":"u","emails":[{"type":"work","value":"a","display":"A"},{"type":"home","value":"h"}]}`,
	},
	{
		name: "replace a sub-attribute of every matching value",
		doc:  `{"userName":"u","phoneNumbers":[{"type":"work","value":"1"},{"type":"work","value":"2"},{"type":"home","value":"3"}]}`,
		body: patchOp(`{"op":"replace","path":"phoneNumbers[type eq \"work\"].display","value":"office"}`),
		want: `{"userName":"u","phoneNumbers":[{"type":"work","value":"1","display":"office"},{"type":"work","value":"2","display":"office"},{"type":"home","value":"3"}]}`,
	},
	{
		name: "replace primary through a value path demotes the other values",
		doc:  bjensen,
		body: patchOp(`{"op":"replace","path":"emails[type eq \"home\"].primary","value":true}`),
		want: `{"userName":"bjensen","externalId":"bj","displayName":"Babs","title":"Tour Guide","active":true,
			"name":{"givenName":"Barbara","familyName":"Jensen","formatted":"Barbara Jensen"},
			"emails":[{"value":"bjensen@work.example","type":"work","primary":false},{"value":"babs@home.example","type":"home","primary":true}],
			"` + ent + `":{"employeeNumber":"701984","department":"Tour Operations","manager":{"value":"m1","$ref":"../Users/m1"}}}`,
	},
	{
		name: "replace primary on two matching values is invalidValue",
		doc:  `{"userName":"u","emails":[{"value":"a","type":"work"},{"value":"b","type":"work"}]}`,
		body: patchOp(`{"op":"replace","path":"emails[type eq \"work\"].primary","value":true}`),
		err:  "invalidValue",
	},
	{
		name: "replace with a filter that matches nothing and is not eq-only is noTarget",
		doc:  bjensen,
		body: patchOp(`{"op":"replace","path":"emails[value co \"nowhere\"].type","value":"x"}`),
		err:  "noTarget",
	},
	{
		name: "replace through a value path on a set singular complex that does not match is noTarget",
		doc:  `{"userName":"u","` + ent + `":{"manager":{"value":"m1"}}}`,
		body: patchOp(`{"op":"replace","path":"manager[value eq \"m2\"].value","value":"m3"}`),
		err:  "noTarget",
	},
	{
		name: "replace an absent attribute adds it",
		doc:  minimal,
		body: patchOp(`{"op":"replace","path":"title","value":"T"}`),
		want: `{"userName":"bjensen","title":"T"}`,
	},
	{
		name: "replace externalId, a common attribute",
		doc:  bjensen,
		body: patchOp(`{"op":"replace","path":"externalId","value":"BJ2"}`),
		want: `{"userName":"bjensen","externalId":"BJ2","displayName":"Babs","title":"Tour Guide","active":true,
			"name":{"givenName":"Barbara","familyName":"Jensen","formatted":"Barbara Jensen"},
			"emails":[{"value":"bjensen@work.example","type":"work","primary":true},{"value":"babs@home.example","type":"home"}],
			"` + ent + `":{"employeeNumber":"701984","department":"Tour Operations","manager":{"value":"m1","$ref":"../Users/m1"}}}`,
	},
	{
		name: "replace emails.value without filter writes the primary value",
		doc:  `{"userName":"u","emails":[{"value":"a"},{"value":"b","primary":true}]}`,
		body: patchOp(`{"op":"replace","path":"emails.value","value":"c"}`),
		want: `{"userName":"u","emails":[{"value":"a"},{"value":"c","primary":true}]}`,
	},
	{
		name:    "schemas is derived, writing it changes nothing",
		doc:     minimal,
		body:    patchOp(`{"op":"add","path":"schemas","value":["` + ent + `"]}`),
		changed: "no",
	},
	// remove
	{
		name: "remove a single-valued attribute",
		doc:  `{"userName":"u","title":"T"}`,
		body: patchOp(`{"op":"remove","path":"title"}`),
		want: `{"userName":"u"}`,
	},
	{
		name: "remove a multi-valued attribute entirely",
		doc:  `{"userName":"u","emails":[{"value":"a"},{"value":"b"}]}`,
		body: patchOp(`{"op":"remove","path":"emails"}`),
		want: `{"userName":"u"}`,
	},
	{
		name: "remove a sub-attribute",
		doc:  `{"userName":"u","name":{"givenName":"G","familyName":"F"}}`,
		body: patchOp(`{"op":"remove","path":"name.familyName"}`),
		want: `{"userName":"u","name":{"givenName":"G"}}`,
	},
	{
		name: "remove the last sub-attribute removes the attribute",
		doc:  `{"userName":"u","name":{"givenName":"G"}}`,
		body: patchOp(`{"op":"remove","path":"name.givenName"}`),
		want: `{"userName":"u"}`,
	},
	{
		name: "remove a sub-attribute of matching values",
		doc:  `{"userName":"u","emails":[{"value":"a","type":"work","display":"A"},{"value":"b","type":"home","display":"B"}]}`,
		body: patchOp(`{"op":"remove","path":"emails[type eq \"work\"].display"}`),
		want: `{"userName":"u","emails":[{"value":"a","type":"work"},{"value":"b","type":"home","display":"B"}]}`,
	},
	{
		name:    "remove with a filter that matches nothing succeeds without change",
		doc:     bjensen,
		body:    patchOp(`{"op":"remove","path":"emails[type eq \"other\"]"}`),
		changed: "no",
	},
	{
		name: "remove the last matching value removes the attribute",
		doc:  `{"userName":"u","emails":[{"value":"a","type":"work"}]}`,
		body: patchOp(`{"op":"remove","path":"emails[type eq \"work\"]"}`),
		want: `{"userName":"u"}`,
	},
	{
		name: "remove values of a complex attribute by a value list",
		doc:  `{"userName":"u","emails":[{"value":"a","type":"work"},{"value":"b","type":"home"}]}`,
		body: patchOp(`{"op":"remove","path":"emails","value":[{"value":"a"}]}`),
		want: `{"userName":"u","emails":[{"value":"b","type":"home"}]}`,
	},
	{
		name: "remove the whole extension",
		doc:  bjensen,
		body: patchOp(`{"op":"remove","path":"` + ent + `"}`),
		want: `{"userName":"bjensen","externalId":"bj","displayName":"Babs","title":"Tour Guide","active":true,
			"name":{"givenName":"Barbara","familyName":"Jensen","formatted":"Barbara Jensen"},
			"emails":[{"value":"bjensen@work.example","type":"work","primary":true},{"value":"babs@home.example","type":"home"}]}`,
	},
	{
		name: "remove the last extension attribute drops the extension object",
		doc:  `{"userName":"u","` + ent + `":{"department":"D"}}`,
		body: patchOp(`{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}`),
		want: `{"userName":"u"}`,
	},
	{
		name:    "remove from an absent extension succeeds without change",
		doc:     minimal,
		body:    patchOp(`{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}`),
		changed: "no",
	},
	{
		name: "remove without path is noTarget",
		doc:  minimal,
		body: patchOp(`{"op":"remove"}`),
		err:  "noTarget",
	},
	// mutability, paths
	{
		name: "remove a required attribute is mutability",
		doc:  minimal,
		body: patchOp(`{"op":"remove","path":"userName"}`),
		err:  "mutability",
	},
	{
		name: "replace a required attribute with an empty string is mutability",
		doc:  minimal,
		body: patchOp(`{"op":"replace","path":"userName","value":""}`),
		err:  "mutability",
	},
	{
		name: "replace the group displayName with null is mutability",
		rt:   groupRT,
		doc:  `{"displayName":"g"}`,
		body: patchOp(`{"op":"replace","path":"displayName","value":null}`),
		err:  "mutability",
	},
	{
		name: "replace id is mutability",
		doc:  minimal,
		body: patchOp(`{"op":"replace","path":"id","value":"x"}`),
		err:  "mutability",
	},
	{
		name: "replace meta.lastModified is mutability",
		doc:  minimal,
		body: patchOp(`{"op":"replace","path":"meta.lastModified","value":"2020-01-01T00:00:00Z"}`),
		err:  "mutability",
	},
	{
		name: "add to User.groups is mutability",
		doc:  minimal,
		body: patchOp(`{"op":"add","path":"groups","value":[{"value":"g1"}]}`),
		err:  "mutability",
	},
	{
		name: "remove groups[value eq] is mutability",
		doc:  minimal,
		body: patchOp(`{"op":"remove","path":"groups[value eq \"g1\"]"}`),
		err:  "mutability",
	},
	{
		name: "replace manager.displayName, a read-only sub-attribute, is mutability",
		doc:  minimal,
		body: patchOp(`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName","value":"x"}`),
		err:  "mutability",
	},
	{
		name: "read-only keys in a path-less value are ignored",
		doc:  minimal,
		body: patchOp(`{"op":"replace","value":{"id":"x","meta":{"created":"2020-01-01T00:00:00Z"},"groups":[{"value":"g"}],"title":"T"}}`),
		want: `{"userName":"bjensen","title":"T"}`,
	},
	{
		name: "immutable attribute may be added when it has no value",
		rt:   permRT,
		doc:  `{"rights":["View"]}`,
		body: patchOp(`{"op":"add","path":"serial","value":"S1"},{"op":"add","path":"container","value":{"value":"c1"}}`),
		want: `{"rights":["View"],"serial":"S1","container":{"value":"c1"}}`,
	},
	{
		name:    "immutable attribute with the same value is no change",
		rt:      permRT,
		doc:     `{"rights":["View"],"serial":"S1"}`,
		body:    patchOp(`{"op":"replace","path":"serial","value":"S1"}`),
		changed: "no",
	},
	{
		name: "immutable attribute with a different value is mutability",
		rt:   permRT,
		doc:  `{"rights":["View"],"serial":"S1"}`,
		body: patchOp(`{"op":"replace","value":{"serial":"S2"}}`),
		err:  "mutability",
	},
	{
		name: "immutable complex attribute cannot be changed through a sub-attribute",
		rt:   permRT,
		doc:  `{"rights":["View"],"container":{"value":"c1"}}`,
		body: patchOp(`{"op":"replace","path":"container.value","value":"c2"}`),
		err:  "mutability",
	},
	{
		name: "immutable attribute cannot be removed",
		rt:   permRT,
		doc:  `{"rights":["View"],"serial":"S1"}`,
		body: patchOp(`{"op":"remove","path":"serial"}`),
		err:  "mutability",
	},
	{
		name: "integer attribute takes a JSON integer",
		rt:   permRT,
		doc:  `{"rights":["View"]}`,
		body: patchOp(`{"op":"add","path":"level","value":3}`),
		want: `{"rights":["View"],"level":3}`,
	},
	{
		name: "integer attribute refuses a string",
		rt:   permRT,
		doc:  `{"rights":["View"]}`,
		body: patchOp(`{"op":"add","path":"level","value":"3"}`),
		err:  "invalidValue",
	},
	{
		name: "boolean attribute refuses a number",
		doc:  minimal,
		body: patchOp(`{"op":"replace","path":"active","value":1}`),
		err:  "invalidValue",
	},
	{
		name: "unknown attribute path is invalidPath",
		doc:  minimal,
		body: patchOp(`{"op":"replace","path":"nope","value":"x"}`),
		err:  "invalidPath",
	},
	{
		name: "unknown sub-attribute is invalidPath",
		doc:  minimal,
		body: patchOp(`{"op":"replace","path":"name.nope","value":"x"}`),
		err:  "invalidPath",
	},
	{
		name: "unknown sub-attribute after a filter is invalidPath",
		doc:  bjensen,
		body: patchOp(`{"op":"replace","path":"emails[type eq \"work\"].nope","value":"x"}`),
		err:  "invalidPath",
	},
	{
		name: "unknown schema URN is invalidPath",
		doc:  minimal,
		body: patchOp(`{"op":"replace","path":"urn:example:nope:attr","value":"x"}`),
		err:  "invalidPath",
	},
	{
		name: "JSON-Patch style path is invalidPath",
		doc:  minimal,
		body: patchOp(`{"op":"replace","path":"/name/givenName","value":"x"}`),
		err:  "invalidPath",
	},
	{
		name: "malformed filter in a path is invalidFilter",
		doc:  bjensen,
		body: patchOp(`{"op":"replace","path":"emails[type eq]","value":"x"}`),
		err:  "invalidFilter",
	},
	{
		name: "filter on an unknown sub-attribute is invalidFilter",
		doc:  bjensen,
		body: patchOp(`{"op":"remove","path":"emails[nope eq \"x\"]"}`),
		err:  "invalidFilter",
	},
	{
		name: "value filter on a simple single-valued attribute is invalidPath",
		doc:  minimal,
		body: patchOp(`{"op":"remove","path":"userName[value eq \"x\"]"}`),
		err:  "invalidPath",
	},
	{
		name: "path-less value that is not an object is invalidSyntax",
		doc:  minimal,
		body: patchOp(`{"op":"replace","value":"x"}`),
		err:  "invalidSyntax",
	},
	// members
	{
		name:    "remove members without value clears the group",
		rt:      groupRT,
		doc:     `{"displayName":"g"}`,
		members: []string{"u1", "u2"},
		body:    patchOp(`{"op":"remove","path":"members"}`),
		wantMem: []string{},
		changed: "yes",
	},
	{
		name:    "remove members with an empty value list removes nothing",
		rt:      groupRT,
		doc:     `{"displayName":"g"}`,
		members: []string{"u1"},
		body:    patchOp(`{"op":"remove","path":"members","value":[]}`),
		wantMem: []string{"u1"},
		changed: "no",
	},
	{
		name:    "remove members by a filter other than value eq reads the list",
		rt:      groupRT,
		doc:     `{"displayName":"g"}`,
		members: []string{"u1", "g1"},
		body:    patchOp(`{"op":"remove","path":"members[type eq \"Group\"]"}`),
		wantMem: []string{"u1"},
		load:    true,
	},
	{
		name:    "remove a member that is not there is no change",
		rt:      groupRT,
		doc:     `{"displayName":"g"}`,
		members: []string{"u1"},
		body:    patchOp(`{"op":"remove","path":"members[value eq \"u9\"]"}`),
		wantMem: []string{"u1"},
		changed: "no",
		noLoad:  true,
	},
	{
		name:    "add a member that is already there is no change",
		rt:      groupRT,
		doc:     `{"displayName":"g"}`,
		members: []string{"u1"},
		body:    patchOp(`{"op":"add","path":"members","value":[{"value":"u1"}]}`),
		changed: "no",
		noLoad:  true,
	},
	{
		name: "add members without a value is invalidValue",
		rt:   groupRT,
		doc:  `{"displayName":"g"}`,
		body: patchOp(`{"op":"add","path":"members","value":[{"display":"x"}]}`),
		err:  "invalidValue",
	},
	{
		name: "changing a member's value is mutability",
		rt:   groupRT,
		doc:  `{"displayName":"g"}`,
		body: patchOp(`{"op":"replace","path":"members[value eq \"u1\"].value","value":"u2"}`),
		err:  "mutability",
	},
	{
		name: "add through a members filter is invalidPath",
		rt:   groupRT,
		doc:  `{"displayName":"g"}`,
		body: patchOp(`{"op":"add","path":"members[value eq \"u1\"]","value":{"value":"u1"}}`),
		err:  "invalidPath",
	},
	{
		name: "members filter on display is invalidFilter",
		rt:   groupRT,
		doc:  `{"displayName":"g"}`,
		body: patchOp(`{"op":"remove","path":"members[display eq \"x\"]"}`),
		err:  "invalidFilter",
	},
}

func TestRFC7644(t *testing.T) { runCases(t, rfcCases) }

// TestAtomic: when the second operation fails, neither the first one's
// document change nor anything else survives.
func TestAtomic(t *testing.T) {
	rt := userRT()
	doc := docOf(t, rt, bjensen)
	orig := docOf(t, rt, bjensen)
	cur := &store.Resource{Doc: doc}
	ops := []Op{
		{Op: "replace", Path: "title", Value: "Changed"},
		{Op: "add", Path: "emails", Value: []any{map[string]any{"value": "n@x"}}},
		{Op: "replace", Path: "active", Value: "maybe"}, // fails
		{Op: "remove", Path: "nickName"},
	}
	changed, touched, err := Apply(context.Background(), rt, cur, ops, nil)
	if kindName(err) != "invalidValue" {
		t.Fatalf("err = %v, want invalidValue", err)
	}
	if changed || touched != nil {
		t.Errorf("changed=%v touched=%v on failure", changed, touched)
	}
	if !schema.Equal(cur.Doc, orig) {
		t.Errorf("document changed by a failed PATCH: %s", toJSON(cur.Doc))
	}
	if want := "operation 3 (replace active): "; len(err.Error()) < len(want) || !contains(err.Error(), want) {
		t.Errorf("error %q does not name the failing operation", err)
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// noOpCases: a PATCH that leaves the document and the membership as they
// were reports changed=false, so the store keeps meta.version.
var noOpCases = []tcase{
	{
		name: "same values through every form",
		doc:  bjensen,
		body: patchOp(`{"op":"replace","path":"displayName","value":"Babs"},
			{"op":"add","path":"emails","value":[{"value":"babs@home.example","type":"home"}]},
			{"op":"replace","path":"emails[type eq \"work\"].value","value":"bjensen@work.example"},
			{"op":"replace","value":{"active":"True","name.givenName":"Barbara"}},
			{"op":"replace","path":"manager","value":"m1"},
			{"op":"remove","path":"nickName"},
			{"op":"remove","path":"phoneNumbers[type eq \"fax\"]"}`),
		changed: "no",
	},
	{
		name:    "change and change back",
		doc:     bjensen,
		body:    patchOp(`{"op":"replace","path":"title","value":"x"},{"op":"replace","path":"title","value":"Tour Guide"}`),
		changed: "no",
	},
	{
		name:    "member added and removed again is a change of the membership",
		rt:      groupRT,
		doc:     `{"displayName":"g"}`,
		body:    patchOp(`{"op":"add","path":"members","value":[{"value":"u1"}]},{"op":"remove","path":"members[value eq \"u1\"]"}`),
		wantMem: []string{},
		changed: "yes",
	},
}

func TestNoOp(t *testing.T) { runCases(t, noOpCases) }

// TestTouched: touched names what the operations named, including read-only
// request attributes are not there and path-less keys are.
func TestTouched(t *testing.T) {
	rt := userRT()
	cur := &store.Resource{Doc: docOf(t, rt, minimal)}
	ops, err := Decode([]byte(patchOp(`{"op":"replace","value":{"id":"x","nickName":"n","name.givenName":"g"}},{"op":"remove","path":"emails[type eq \"work\"].display"}`)))
	if err != nil {
		t.Fatal(err)
	}
	_, touched, err := Apply(context.Background(), rt, cur, ops, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range touched {
		got = append(got, a.FullPath())
	}
	want := []string{"name", "name.givenName", "nickName", "emails", "emails.display"}
	if toJSON(got) != toJSON(want) {
		t.Errorf("touched = %v, want %v", got, want)
	}
}

// TestNoTx: a group PATCH that changes members needs the transaction; one
// that does not, does not.
func TestNoTx(t *testing.T) {
	rt := groupRT()
	cur := &store.Resource{Doc: docOf(t, rt, `{"displayName":"g"}`)}
	if _, _, err := Apply(context.Background(), rt, cur, []Op{{Op: "replace", Path: "displayName", Value: "h"}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Apply(context.Background(), rt, cur, []Op{{Op: "add", Path: "members", Value: []any{map[string]any{"value": "u"}}}}, nil); kindName(err) != "internal" {
		t.Fatalf("err = %v, want internal", err)
	}
}

// TestApplyDoesNotModifyOps: the store may call Apply again on a retry.
func TestApplyDoesNotModifyOps(t *testing.T) {
	rt := userRT()
	body := patchOp(`{"op":"add","path":"emails","value":[{"value":"a","primary":true}]},{"op":"replace","path":"name","value":{"givenName":"g"}},{"op":"add","path":"emails[type eq \"work\"]","value":{"value":"w"}}`)
	ops, err := Decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	before := toJSON(ops)
	var first schema.Doc
	for i := 0; i < 2; i++ {
		cur := &store.Resource{Doc: docOf(t, rt, bjensen)}
		if _, _, err := Apply(context.Background(), rt, cur, ops, nil); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = cur.Doc
		} else if !schema.Equal(first, cur.Doc) {
			t.Errorf("second run differs: %s vs %s", toJSON(first), toJSON(cur.Doc))
		}
	}
	if toJSON(ops) != before {
		t.Errorf("ops modified: %s → %s", before, toJSON(ops))
	}
}
