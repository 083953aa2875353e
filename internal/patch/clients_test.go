package patch

import (
	"slices"
	"testing"

	"github.com/pamscim/pamscim/internal/schema"
)

const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// bjensen is the starting user of most cases.
const bjensen = `{"userName":"bjensen","externalId":"bj","displayName":"Babs","title":"Tour Guide","active":true,
 "name":{"givenName":"Barbara","familyName":"Jensen","formatted":"Barbara Jensen"},
 "emails":[{"value":"bjensen@work.example","type":"work","primary":true},{"value":"babs@home.example","type":"home"}],
 "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","department":"Tour Operations","manager":{"value":"m1","$ref":"../Users/m1"}}}`

// minimal is a user with nothing but a userName.
const minimal = `{"userName":"bjensen"}`

// tcase is one PATCH request against one resource. want is the expected
// document (normalised like a POST body); "" with err set means "unchanged".
type tcase struct {
	name    string
	rt      func() *schema.ResourceType
	doc     string
	members []string // initial members, for groups
	body    string
	want    string
	wantMem []string // expected members; nil: not checked
	err     string   // expected scimerr kind name; "" = success
	changed string   // "yes", "no" or "" (not checked)
	noLoad  bool     // the member list must not be read
	load    bool     // the member list must be read
	touched []string // attribute paths expected in touched (subset)
}

func (tc *tcase) run(t *testing.T) {
	t.Helper()
	rtf := tc.rt
	if rtf == nil {
		rtf = userRT
	}
	rt := rtf()
	orig := docOf(t, rt, tc.doc)
	doc := docOf(t, rt, tc.doc)
	tx := newTx(tc.members...)
	cur, changed, touched, err := run(t, rt, doc, tx, tc.body)
	if got := kindName(err); (tc.err == "" && err != nil) || (tc.err != "" && got != tc.err) {
		want := tc.err
		if want == "" {
			want = "ok"
		}
		t.Fatalf("error = %v (%s), want %s", err, got, want)
	}
	if err != nil {
		// Atomicity: a failed PATCH leaves the document as it was.
		if !schema.Equal(doc, orig) {
			t.Errorf("failed PATCH modified the document: %s", toJSON(doc))
		}
		if cur != nil && !schema.Equal(cur.Doc, orig) {
			t.Errorf("failed PATCH replaced cur.Doc: %s", toJSON(cur.Doc))
		}
		return
	}
	if !schema.Equal(doc, orig) {
		t.Errorf("Apply wrote into the caller's document")
	}
	want := orig
	if tc.want != "" {
		want = docOf(t, rt, tc.want)
	}
	if !schema.Equal(cur.Doc, want) {
		t.Errorf("document\n got %s\nwant %s", toJSON(cur.Doc), toJSON(want))
	}
	if err := checkCanonical(rt, cur.Doc); err != nil {
		t.Errorf("result is not canonical: %v", err)
	}
	if tc.wantMem != nil && !slices.Equal(tx.ids(), sorted(tc.wantMem)) {
		t.Errorf("members = %v, want %v", tx.ids(), sorted(tc.wantMem))
	}
	switch tc.changed {
	case "yes":
		if !changed {
			t.Errorf("changed = false, want true")
		}
	case "no":
		if changed {
			t.Errorf("changed = true, want false")
		}
	}
	if tc.noLoad && tx.loads > 0 {
		t.Errorf("the member list was read %d times; calls %v", tx.loads, tx.calls)
	}
	if tc.load && tx.loads == 0 {
		t.Errorf("the member list was not read; calls %v", tx.calls)
	}
	names := map[string]bool{}
	for _, a := range touched {
		names[a.FullPath()] = true
	}
	for _, n := range tc.touched {
		if !names[n] {
			t.Errorf("touched %v lacks %s", names, n)
		}
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	slices.Sort(out)
	if out == nil {
		out = []string{}
	}
	return out
}

func runCases(t *testing.T, cases []tcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, tc.run)
	}
}

// entraCases replay the PATCH rows of clients/NOTES.md §7.1 (E8–E31) and
// the Entra dialect of §1.6, with and without aadOptscim062020.
var entraCases = []tcase{
	{
		name: "E8 Replace work email value and familyName, capitalised op",
		doc:  bjensen,
		body: patchOp(`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"},
			{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}`),
		want: `{"userName":"bjensen","externalId":"bj","displayName":"Babs","title":"Tour Guide","active":true,
			"name":{"givenName":"Barbara","familyName":"updatedFamilyName","formatted":"Barbara Jensen"},
			"emails":[{"value":"updatedEmail@microsoft.com","type":"work","primary":true},{"value":"babs@home.example","type":"home"}],
			"` + ent + `":{"employeeNumber":"701984","department":"Tour Operations","manager":{"value":"m1","$ref":"../Users/m1"}}}`,
		changed: "yes",
		touched: []string{"emails", "emails.value", "name", "name.familyName"},
	},
	{
		name: "E9 Add through value paths that match nothing creates the elements",
		doc:  minimal,
		body: patchOp(`{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"+1 555"},
			{"op":"Add","path":"addresses[type eq \"work\"].formatted","value":"Columbus"}`),
		want: `{"userName":"bjensen","phoneNumbers":[{"type":"mobile","value":"+1 555"}],"addresses":[{"type":"work","formatted":"Columbus"}]}`,
	},
	{
		name: "E9 Replace through a value path on an absent array creates the element",
		doc:  minimal,
		body: patchOp(`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"w@x"}`),
		want: `{"userName":"bjensen","emails":[{"type":"work","value":"w@x"}]}`,
	},
	{
		name: "E10 Add nickName then Replace userName",
		doc:  minimal,
		body: patchOp(`{"op":"Add","path":"nickName","value":"Babs"},{"op":"Replace","path":"userName","value":"new@contoso.com"}`),
		want: `{"userName":"new@contoso.com","nickName":"Babs"}`,
	},
	{
		name: "E11 Add manager as a bare string on the URN-qualified path",
		doc:  minimal,
		body: patchOp(`{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"2c2f6fb8"}`),
		want: `{"userName":"bjensen","` + ent + `":{"manager":{"value":"2c2f6fb8"}}}`,
	},
	{
		name: "E12 replace manager with a second id drops the old $ref",
		doc:  bjensen,
		body: patchOp(`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m2"}`),
		want: `{"userName":"bjensen","externalId":"bj","displayName":"Babs","title":"Tour Guide","active":true,
			"name":{"givenName":"Barbara","familyName":"Jensen","formatted":"Barbara Jensen"},
			"emails":[{"value":"bjensen@work.example","type":"work","primary":true},{"value":"babs@home.example","type":"home"}],
			"` + ent + `":{"employeeNumber":"701984","department":"Tour Operations","manager":{"value":"m2"}}}`,
	},
	{
		name: "E12 replace manager with empty string removes it",
		doc:  `{"userName":"bjensen","` + ent + `":{"manager":{"value":"m1"}}}`,
		body: patchOp(`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":""}`),
		want: minimal,
	},
	{
		name: "E12 remove manager[value eq id] on the single-valued manager, short path",
		doc:  `{"userName":"bjensen","` + ent + `":{"manager":{"value":"m1"},"department":"D"}}`,
		body: patchOp(`{"op":"remove","path":"manager[value eq \"m1\"]"}`),
		want: `{"userName":"bjensen","` + ent + `":{"department":"D"}}`,
	},
	{
		name:    "E12 remove manager[value eq other id] keeps the manager",
		doc:     `{"userName":"bjensen","` + ent + `":{"manager":{"value":"m1"}}}`,
		body:    patchOp(`{"op":"remove","path":"manager[value eq \"m9\"]"}`),
		changed: "no",
	},
	{
		name:    "Entra tutorial manager form: short path, one-element array with $ref",
		doc:     minimal,
		body:    patchOp(`{"op":"Add","path":"manager","value":[{"$ref":"http://example.com/Users/m3","value":"m3"}]}`),
		want:    `{"userName":"bjensen","` + ent + `":{"manager":{"value":"m3","$ref":"http://example.com/Users/m3"}}}`,
		touched: []string{ent + ":manager"},
	},
	{
		name: "E14 Replace active with the string False",
		doc:  bjensen,
		body: patchOp(`{"op":"Replace","path":"active","value":"False"}`),
		want: `{"userName":"bjensen","externalId":"bj","displayName":"Babs","title":"Tour Guide","active":false,
			"name":{"givenName":"Barbara","familyName":"Jensen","formatted":"Barbara Jensen"},
			"emails":[{"value":"bjensen@work.example","type":"work","primary":true},{"value":"babs@home.example","type":"home"}],
			"` + ent + `":{"employeeNumber":"701984","department":"Tour Operations","manager":{"value":"m1","$ref":"../Users/m1"}}}`,
		changed: "yes",
	},
	{
		name:    "E15 Replace active True when already true is no change",
		doc:     bjensen,
		body:    patchOp(`{"op":"Replace","path":"active","value":"True"}`),
		changed: "no",
	},
	{
		name: "E15 flag form replace active false (boolean)",
		doc:  `{"userName":"bjensen","active":true}`,
		body: patchOp(`{"op":"replace","path":"active","value":false}`),
		want: `{"userName":"bjensen","active":false}`,
	},
	{
		name: "E16 flag on: filtered replace plus one path-less replace with dotted and URN keys",
		doc:  bjensen,
		body: patchOp(`{"op":"replace","path":"emails[type eq \"work\"].value","value":"x@y"},
			{"op":"replace","value":{"displayName":"Bjfe","name.givenName":"Kkom","name.familyName":"Unua",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"Aklq"}}`),
		want: `{"userName":"bjensen","externalId":"bj","displayName":"Bjfe","title":"Tour Guide","active":true,
			"name":{"givenName":"Kkom","familyName":"Unua","formatted":"Barbara Jensen"},
			"emails":[{"value":"x@y","type":"work","primary":true},{"value":"babs@home.example","type":"home"}],
			"` + ent + `":{"employeeNumber":"Aklq","department":"Tour Operations","manager":{"value":"m1","$ref":"../Users/m1"}}}`,
		touched: []string{"displayName", "name.givenName", ent + ":employeeNumber"},
	},
	{
		name: "E17 roles as stringified JSON inside value",
		doc:  minimal,
		body: patchOp(`{"op":"Add","path":"roles","value":[{"value":"{\"id\":\"06b07648-ecfe\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}]}`),
		want: `{"userName":"bjensen","roles":[{"value":"25","display":"Role1234"}]}`,
	},
	{
		name: "E17 roles in the POST-like object form are unchanged",
		doc:  minimal,
		body: patchOp(`{"op":"Add","path":"roles","value":[{"primary":"False","type":"WindowsAzureActiveDirectoryRole","value":"Admin"}]}`),
		want: `{"userName":"bjensen","roles":[{"primary":false,"type":"WindowsAzureActiveDirectoryRole","value":"Admin"}]}`,
	},
	{
		name: "E18 replace with empty strings clears",
		doc:  bjensen,
		body: patchOp(`{"op":"replace","path":"title","value":""},{"op":"replace","path":"name.givenName","value":""},
			{"op":"replace","path":"emails[type eq \"work\"].value","value":""},
			{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":""}`),
		want: `{"userName":"bjensen","externalId":"bj","displayName":"Babs","active":true,
			"name":{"familyName":"Jensen","formatted":"Barbara Jensen"},
			"emails":[{"type":"work","primary":true},{"value":"babs@home.example","type":"home"}],
			"` + ent + `":{"employeeNumber":"701984","manager":{"value":"m1","$ref":"../Users/m1"}}}`,
	},
	{
		name: "E18 phase 2 replace with null clears",
		doc:  bjensen,
		body: patchOp(`{"op":"replace","path":"title","value":null},{"op":"replace","path":"name.givenName","value":null},
			{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":null}`),
		want: `{"userName":"bjensen","externalId":"bj","displayName":"Babs","active":true,
			"name":{"familyName":"Jensen","formatted":"Barbara Jensen"},
			"emails":[{"value":"bjensen@work.example","type":"work","primary":true},{"value":"babs@home.example","type":"home"}],
			"` + ent + `":{"employeeNumber":"701984","manager":{"value":"m1","$ref":"../Users/m1"}}}`,
	},
	{
		name: "E18 non-verbose: one path-less replace with empty values",
		doc:  `{"userName":"bjensen","title":"T","nickName":"N","` + ent + `":{"department":"D"}}`,
		body: patchOp(`{"op":"replace","value":{"title":"","nickName":null,"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":""}}`),
		want: minimal,
	},
	{
		name:    "E18 clearing what is absent succeeds without change",
		doc:     minimal,
		body:    patchOp(`{"op":"replace","path":"title","value":""},{"op":"replace","path":"emails[type eq \"work\"].value","value":""}`),
		changed: "no",
	},
	{
		name:    "E23 Replace group displayName",
		rt:      groupRT,
		doc:     `{"displayName":"g"}`,
		members: []string{"u1"},
		body:    patchOp(`{"op":"Replace","path":"displayName","value":"renamed"}`),
		want:    `{"displayName":"renamed"}`,
		wantMem: []string{"u1"},
		noLoad:  true,
	},
	{
		name:    "E24 Add two members with $ref null",
		rt:      groupRT,
		doc:     `{"displayName":"g"}`,
		body:    patchOp(`{"op":"Add","path":"members","value":[{"$ref":null,"value":"u1"},{"$ref":null,"value":"u2"}]}`),
		wantMem: []string{"u1", "u2"},
		changed: "yes",
		noLoad:  true,
		touched: []string{"members"},
	},
	{
		name:    "E26 flag off: Remove members with a value list removes only those",
		rt:      groupRT,
		doc:     `{"displayName":"g"}`,
		members: []string{"u1", "u2"},
		body:    patchOp(`{"op":"Remove","path":"members","value":[{"$ref":null,"value":"u1"}]}`),
		wantMem: []string{"u2"},
		changed: "yes",
		noLoad:  true,
	},
	{
		name:    "E27 flag on: remove members[value eq id]",
		rt:      groupRT,
		doc:     `{"displayName":"g"}`,
		members: []string{"u1", "u2"},
		body:    patchOp(`{"op":"remove","path":"members[value eq \"u2\"]"}`),
		wantMem: []string{"u1"},
		noLoad:  true,
	},
	{
		name:    "E28 several member adds in one request",
		rt:      groupRT,
		doc:     `{"displayName":"g"}`,
		members: []string{"u1"},
		body: patchOp(`{"op":"Add","path":"members","value":[{"value":"u2"}]},{"op":"Add","path":"members","value":[{"value":"u3"}]},
			{"op":"Add","path":"members","value":[{"value":"u1"}]}`),
		wantMem: []string{"u1", "u2", "u3"},
		noLoad:  true,
	},
	{
		name: "E31 Remove emails[type eq work]",
		doc:  bjensen,
		body: patchOp(`{"op":"Remove","path":"emails[type eq \"work\"]"}`),
		want: `{"userName":"bjensen","externalId":"bj","displayName":"Babs","title":"Tour Guide","active":true,
			"name":{"givenName":"Barbara","familyName":"Jensen","formatted":"Barbara Jensen"},
			"emails":[{"value":"babs@home.example","type":"home"}],
			"` + ent + `":{"employeeNumber":"701984","department":"Tour Operations","manager":{"value":"m1","$ref":"../Users/m1"}}}`,
	},
	{
		name: "Validator Add attributes: name.givenName and emails[type eq work].value on a bare user",
		doc:  minimal,
		body: patchOp(`{"op":"add","path":"name.givenName","value":"G"},{"op":"add","path":"emails[type eq \"work\"].value","value":"w@x"}`),
		want: `{"userName":"bjensen","name":{"givenName":"G"},"emails":[{"type":"work","value":"w@x"}]}`,
	},
	{
		name: "Entra multi-op update from ssoready #228",
		doc:  bjensen,
		body: patchOp(`{"op":"Replace","path":"displayName","value":"B J"},{"op":"Replace","path":"emails[type eq \"work\"].value","value":"bj@new"},
			{"op":"Replace","path":"userName","value":"bj@new"},{"op":"Replace","path":"name.familyName","value":"J"},{"op":"Replace","path":"name.formatted","value":"B J"}`),
		want: `{"userName":"bj@new","externalId":"bj","displayName":"B J","title":"Tour Guide","active":true,
			"name":{"givenName":"Barbara","familyName":"J","formatted":"B J"},
			"emails":[{"value":"bj@new","type":"work","primary":true},{"value":"babs@home.example","type":"home"}],
			"` + ent + `":{"employeeNumber":"701984","department":"Tour Operations","manager":{"value":"m1","$ref":"../Users/m1"}}}`,
	},
	{
		name: "Entra roles[primary eq \"True\"].value with a quoted boolean",
		doc:  `{"userName":"bjensen","roles":[{"value":"Admin","primary":true},{"value":"User"}]}`,
		body: patchOp(`{"op":"Replace","path":"roles[primary eq \"True\"].value","value":"Owner"}`),
		want: `{"userName":"bjensen","roles":[{"value":"Owner","primary":true},{"value":"User"}]}`,
	},
	{
		name: "Entra custom extension attribute the server does not define is ignored in a path-less value",
		doc:  minimal,
		body: patchOp(`{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:Custom:2.0:User:color":"red","nickName":"n"}}`),
		want: `{"userName":"bjensen","nickName":"n"}`,
	},
}

func TestEntra(t *testing.T) { runCases(t, entraCases) }

// oktaCases replay the PATCH rows of clients/NOTES.md §7.2 (O14–O24).
var oktaCases = []tcase{
	{
		name:    "O14 path-less replace active false",
		doc:     `{"userName":"u","active":true}`,
		body:    patchOp(`{"op":"replace","value":{"active":false}}`),
		want:    `{"userName":"u","active":false}`,
		changed: "yes",
		touched: []string{"active"},
	},
	{
		name: "O15 path-less replace active true",
		doc:  `{"userName":"u","active":false}`,
		body: patchOp(`{"op":"replace","value":{"active":true}}`),
		want: `{"userName":"u","active":true}`,
	},
	{
		name:    "O15 path-less replace password",
		doc:     `{"userName":"u","active":true}`,
		body:    patchOp(`{"op":"replace","value":{"password":"n3w!Pw"}}`),
		want:    `{"userName":"u","active":true,"password":"n3w!Pw"}`,
		changed: "yes",
	},
	{
		name:    "O21 path-less replace carrying the read-only id renames the group",
		rt:      groupRT,
		doc:     `{"displayName":"Test SCIMv2"}`,
		members: []string{"u1"},
		body:    patchOp(`{"op":"replace","value":{"id":"r1","displayName":"Test SCIMv2 renamed"}}`),
		want:    `{"displayName":"Test SCIMv2 renamed"}`,
		wantMem: []string{"u1"},
	},
	{
		name:    "O21 path-less replace with id and the same name is no change",
		rt:      groupRT,
		doc:     `{"displayName":"Test SCIMv2"}`,
		body:    patchOp(`{"op":"replace","value":{"id":"other","displayName":"Test SCIMv2","meta":{"resourceType":"Group"},"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]}}`),
		changed: "no",
	},
	{
		name:    "O22 remove members[value eq u1] then add u2 with display",
		rt:      groupRT,
		doc:     `{"displayName":"g"}`,
		members: []string{"u1", "u9"},
		body: patchOp(`{"op":"remove","path":"members[value eq \"u1\"]"},
			{"op":"add","path":"members","value":[{"value":"u2","display":"u2@x"}]}`),
		wantMem: []string{"u2", "u9"},
		noLoad:  true,
	},
	{
		name:    "O23 replace members sets exactly the list",
		rt:      groupRT,
		doc:     `{"displayName":"g"}`,
		members: []string{"u1", "u2"},
		body:    patchOp(`{"op":"replace","path":"members","value":[{"value":"u1","display":"a"},{"value":"u3","display":"c"}]}`),
		wantMem: []string{"u1", "u3"},
		changed: "yes",
		noLoad:  true,
	},
	{
		name:    "O23 replace members with the same list is no change",
		rt:      groupRT,
		doc:     `{"displayName":"g"}`,
		members: []string{"u1", "u3"},
		body:    patchOp(`{"op":"replace","path":"members","value":[{"value":"u3"},{"value":"u1"}]}`),
		wantMem: []string{"u1", "u3"},
		changed: "no",
	},
	{
		name:    "O24-like path-less replace of members and displayName",
		rt:      groupRT,
		doc:     `{"displayName":"g"}`,
		members: []string{"u1", "u2"},
		body:    patchOp(`{"op":"replace","value":{"displayName":"h","members":[{"value":"u1","display":"x"}]}}`),
		want:    `{"displayName":"h"}`,
		wantMem: []string{"u1"},
	},
}

func TestOkta(t *testing.T) { runCases(t, oktaCases) }

// sailPointCases replay seed 001 and the PATCH rows of §7.3 (S9, S10, S18).
var sailPointCases = []tcase{
	{
		name:    "seed 001: bare operations array with members as a key of the operation",
		rt:      groupRT,
		doc:     `{"displayName":"g"}`,
		body:    `[ { "op": "add", "members": [{ "value": "7c9e6679-7425-40de-944b-e07fc1f90ae7" }] } ]`,
		wantMem: []string{"7c9e6679-7425-40de-944b-e07fc1f90ae7"},
		changed: "yes",
		noLoad:  true,
	},
	{
		name:    "seed 001: remove from group with members as a key of the operation",
		rt:      groupRT,
		doc:     `{"displayName":"g"}`,
		members: []string{"7c9e6679", "other"},
		body:    `[ { "op": "remove", "members": [{ "value": "7c9e6679" }] } ]`,
		wantMem: []string{"other"},
		noLoad:  true,
	},
	{
		name: "S9 flattened keys in a path-less value",
		doc:  `{"userName":"u","emails":[{"value":"old@x","primary":true}]}`,
		body: patchOp(`{"op":"replace","value":{"name.givenName":"Jane","emails.value":"jane@x","active":false}}`),
		want: `{"userName":"u","name":{"givenName":"Jane"},"emails":[{"value":"jane@x","primary":true}],"active":false}`,
	},
	{
		name: "S9 emails.value on a user without emails creates one",
		doc:  `{"userName":"u"}`,
		body: `[{"op":"add","value":{"emails.value":"jane@x"}}]`,
		want: `{"userName":"u","emails":[{"value":"jane@x"}]}`,
	},
	{
		name:    "S10 add and remove a member in RFC form",
		rt:      groupRT,
		doc:     `{"displayName":"g"}`,
		members: []string{"u0"},
		body:    patchOp(`{"op":"add","path":"members","value":[{"value":"u1"}]},{"op":"remove","path":"members[value eq \"u0\"]"}`),
		wantMem: []string{"u1"},
		noLoad:  true,
	},
	{
		name: "S18 add a right",
		rt:   permRT,
		doc:  `{"rights":["List","View"]}`,
		body: patchOp(`{"op":"add","path":"rights","value":["Edit"]}`),
		want: `{"rights":["List","View","Edit"]}`,
	},
	{
		name:    "S18 add a right already held is no change",
		rt:      permRT,
		doc:     `{"rights":["List","View"]}`,
		body:    patchOp(`{"op":"add","path":"rights","value":["View"]}`),
		changed: "no",
	},
	{
		name: "S18 remove rights[value eq View]",
		rt:   permRT,
		doc:  `{"rights":["List","View"]}`,
		body: patchOp(`{"op":"remove","path":"rights[value eq \"View\"]"}`),
		want: `{"rights":["List"]}`,
	},
	{
		name: "S18 remove rights with a value list",
		rt:   permRT,
		doc:  `{"rights":["List","View","Edit"]}`,
		body: patchOp(`{"op":"remove","path":"rights","value":["View","Edit"]}`),
		want: `{"rights":["List"]}`,
	},
	{
		name: "S18 replace rights",
		rt:   permRT,
		doc:  `{"rights":["List","View"]}`,
		body: patchOp(`{"op":"replace","path":"rights","value":["Owner"]}`),
		want: `{"rights":["Owner"]}`,
	},
	{
		name: "S18 removing the last right of a required rights attribute is refused",
		rt:   permRT,
		doc:  `{"rights":["View"]}`,
		body: patchOp(`{"op":"remove","path":"rights[value eq \"View\"]"}`),
		err:  "mutability",
	},
	{
		name: "SailPoint IIQ members[value eq id] filter on a group with a lowercase op list",
		rt:   groupRT,
		doc:  `{"displayName":"g"}`, members: []string{"a", "b", "c"},
		body:    `{"operations":[{"op":"remove","path":"members[value eq \"a\" or value eq \"c\"]"}]}`,
		wantMem: []string{"b"},
		noLoad:  true,
	},
}

func TestSailPoint(t *testing.T) { runCases(t, sailPointCases) }

// netwrixCases cover what Netwrix Identity Manager sends (§4, N4): ordinary
// RFC PATCH of users and memberships, and in CyberArk syntax mode a dot
// between the schema URN and the attribute.
var netwrixCases = []tcase{
	{
		name: "N4 replace user attributes",
		doc:  bjensen,
		body: patchOp(`{"op":"replace","path":"name.givenName","value":"Barb"},{"op":"replace","path":"phoneNumbers","value":[{"value":"1","type":"work"}]}`),
		want: `{"userName":"bjensen","externalId":"bj","displayName":"Babs","title":"Tour Guide","active":true,
			"name":{"givenName":"Barb","familyName":"Jensen","formatted":"Barbara Jensen"},
			"emails":[{"value":"bjensen@work.example","type":"work","primary":true},{"value":"babs@home.example","type":"home"}],
			"phoneNumbers":[{"value":"1","type":"work"}],
			"` + ent + `":{"employeeNumber":"701984","department":"Tour Operations","manager":{"value":"m1","$ref":"../Users/m1"}}}`,
	},
	{
		name:    "N4 membership change",
		rt:      groupRT,
		doc:     `{"displayName":"g"}`,
		members: []string{"u1"},
		body:    patchOp(`{"op":"add","path":"members","value":[{"value":"u2"}]},{"op":"remove","path":"members","value":[{"value":"u1"}]}`),
		wantMem: []string{"u2"},
	},
	{
		name: "CyberArk syntax: URN.attribute path",
		rt:   pdRT,
		doc:  `{"name":"acct"}`,
		body: patchOp(`{"op":"add","path":"urn:ietf:params:scim:schemas:cyberark:1.0:PrivilegedData.properties","value":[{"key":"address","value":"10.0.0.1"}]}`),
		want: `{"name":"acct","` + cyberArkPD + `":{"properties":[{"key":"address","value":"10.0.0.1"}]}}`,
	},
	{
		name: "CyberArk syntax: URN.attribute path with a value filter",
		rt:   pdRT,
		doc:  `{"name":"acct","` + cyberArkPD + `":{"properties":[{"key":"address","value":"10.0.0.1"},{"key":"port","value":"22"}]}}`,
		body: patchOp(`{"op":"replace","path":"urn:ietf:params:scim:schemas:cyberark:1.0:PrivilegedData.properties[key eq \"port\"].value","value":"2222"}`),
		want: `{"name":"acct","` + cyberArkPD + `":{"properties":[{"key":"address","value":"10.0.0.1"},{"key":"port","value":"2222"}]}}`,
	},
}

func TestNetwrix(t *testing.T) { runCases(t, netwrixCases) }
