package patch

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
)

// FuzzDecode: no input makes Decode panic, and what it accepts is in RFC
// form: known op names in lower case, a path on every remove.
func FuzzDecode(f *testing.F) {
	for _, tc := range allCases() {
		f.Add([]byte(tc.body))
	}
	for _, s := range []string{
		`[]`, `{}`, `null`, `{"Operations":[null]}`, `[{"op":"remove","a":1,"b":2}]`,
		`[{"op":"add","path":"roles","value":{"value":"{\"value\":\"1\",\"Type\":\"t\"}","TYPE":"u"}}]`,
		`[{"op":"add","path":"roles","value":"{}"}]`, "[{\"op\":\"\xff\"}]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ops, err := Decode(b)
		if err != nil {
			if ops != nil {
				t.Fatalf("ops returned with an error")
			}
			return
		}
		if len(ops) == 0 {
			t.Fatalf("no operations and no error")
		}
		for _, op := range ops {
			switch op.Op {
			case OpAdd, OpReplace:
			case OpRemove:
				if op.Path == "" {
					t.Fatalf("remove without path accepted: %+v", op)
				}
			default:
				t.Fatalf("op %q accepted", op.Op)
			}
		}
		again, err := Decode(b)
		if err != nil || toJSON(again) != toJSON(ops) {
			t.Fatalf("Decode is not deterministic")
		}
	})
}

// Interesting paths and values for the structured half of FuzzApply.
var fuzzPaths = []string{
	"", "userName", "name", "name.givenName", "NAME.FAMILYNAME", "displayName", "title", "active", "password",
	"externalId", "id", "meta", "meta.created", "schemas", "groups", "groups[value eq \"g1\"]",
	"emails", "emails.value", "emails.primary", `emails[type eq "work"]`, `emails[type eq "work"].value`,
	`emails[type eq "work"].primary`, `emails[type eq "home" or type eq "work"]`, `emails[value co "x"].type`,
	`emails[not (type eq "work")]`, `emails[primary eq true].value`, `emails[type pr]`,
	`addresses[type eq "work" and primary eq true].streetAddress`, `addresses[type eq "work"]`, "addresses",
	`phoneNumbers[type eq "mobile"].value`, "roles", `roles[primary eq "True"].value`, "x509Certificates",
	"manager", "manager.value", `manager[value eq "m1"]`, `manager[value eq "m1"].value`,
	ent, ent + ":manager", ent + ":manager.displayName", ent + ":department", ent + ".department", ent + ":employeeNumber",
	"urn:ietf:params:scim:schemas:core:2.0:User:nickName", "nope", "name.nope", `emails[nope eq 1]`, "emails[",
	"members", `members[value eq "u1"]`, `members[value eq "u1" or value eq "u9"]`, `members[type eq "Group"]`,
	"members.value", "rights", `rights[value eq "View"]`, `rights[value sw "V"]`, "container", "container.value", "serial", "level",
}

var fuzzValues = []string{
	`"x"`, `""`, `null`, `true`, `"False"`, `5`, `1.5`, `{}`, `[]`, `[null]`, `"TUlJ"`, `"2020-01-01T00:00:00Z"`,
	`{"value":"m1"}`, `{"value":"m2","$ref":"r"}`, `[{"value":"m1"}]`,
	`{"value":"a@b","type":"work","primary":true}`, `[{"value":"a"}]`, `[{"value":"b","primary":true},{"value":"c"}]`,
	`[{"value":"a@b","type":"work"},{"value":"a@b","type":"work"}]`, `["a","b"]`, `["View","Edit"]`, `"View"`,
	`{"givenName":"G","familyName":null}`, `{"active":false,"name.givenName":"x","id":"y","emails.value":"e"}`,
	`{"` + ent + `":{"department":"d","manager":"m3"}}`, `{"` + ent + `:employeeNumber":"7"}`,
	`{"userName":""}`, `{"displayName":"g","members":[{"value":"u3"}]}`, `{"type":"work"}`, `{"primary":true}`,
	`[{"value":"u1"},{"value":"u3"}]`, `{"members":[{"value":"u2"}]}`, `[{"display":"x"}]`, `{"value":"c1"}`,
	`{"streetAddress":"s","type":"work"}`, `[{"value":"{\"value\":\"25\"}"}]`,
}

// fuzzBody turns bytes into a PATCH body: JSON as is, anything else as a
// program of three-byte operations (op, path, value) over the tables above,
// which reaches deep into Apply far faster than mutated JSON does.
func fuzzBody(b []byte) []byte {
	if len(b) > 0 && (b[0] == '[' || b[0] == '{') {
		return b
	}
	var ops []json.RawMessage
	for i := 0; i+2 < len(b) && len(ops) < 8; i += 3 {
		op := [...]string{"add", "remove", "replace"}[int(b[i])%3]
		path := fuzzPaths[int(b[i+1])%len(fuzzPaths)]
		m := map[string]any{"op": op}
		if path != "" {
			m["path"] = path
		}
		raw, _ := json.Marshal(m)
		if v := b[i+2]; v != 0xff {
			val := fuzzValues[int(v)%len(fuzzValues)]
			raw = append(raw[:len(raw)-1], []byte(`,"value":`+val+`}`)...)
		}
		ops = append(ops, raw)
	}
	out, _ := json.Marshal(map[string]any{"Operations": ops})
	return out
}

type fuzzTarget struct {
	rt      *schema.ResourceType
	doc     string
	members []string
}

// FuzzApply: no sequence of operations makes Apply panic against a User, a
// Group or a PAM-like resource; a failure leaves the document untouched; a
// success yields a document that passes CheckRequired and re-normalises to
// itself, and reports changed whenever the document or the membership
// differs; and Apply is deterministic (the store may retry it).
func FuzzApply(f *testing.F) {
	for _, tc := range allCases() {
		f.Add([]byte(tc.body))
	}
	for _, s := range []string{"\x00\x05\x00", "\x02\x13\x0f\x00\x14\x10", "\x01\x2b\xff\x00\x2c\x0d", "\x02\x00\x16\x00\x2d\x0e"} {
		f.Add([]byte(s))
	}
	targets := []fuzzTarget{
		{rt: userRT(), doc: bjensen},
		{rt: userRT(), doc: `{"userName":"u","emails":[{"value":"a@b","type":"work"},{"value":"c","primary":true}],"addresses":[{"type":"work","primary":true}],"roles":[{"value":"r","primary":true}]}`},
		{rt: groupRT(), doc: `{"displayName":"g"}`, members: []string{"u1", "u2", "g1"}},
		{rt: permRT(), doc: `{"rights":["List","View"],"serial":"S","container":{"value":"c1"}}`},
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ops, err := Decode(fuzzBody(b))
		if err != nil {
			return
		}
		for _, tg := range targets {
			orig := docOf(t, tg.rt, tg.doc)
			res := make([]schema.Doc, 2)
			var kinds [2]string
			var mems [2][]string
			for i := range res {
				cur := &store.Resource{Doc: docOf(t, tg.rt, tg.doc)}
				tx := newTx(tg.members...)
				changed, _, err := Apply(context.Background(), tg.rt, cur, ops, tx)
				kinds[i], res[i], mems[i] = kindName(err), cur.Doc, tx.ids()
				if err != nil {
					if !schema.Equal(cur.Doc, orig) {
						t.Fatalf("%s: failed PATCH (%v) changed the document to %s", tg.rt.Name, err, toJSON(cur.Doc))
					}
					continue
				}
				if !changed && (!schema.Equal(cur.Doc, orig) || toJSON(tx.ids()) != toJSON(sorted(tg.members))) {
					t.Fatalf("%s: changed=false but the resource changed: %s", tg.rt.Name, toJSON(cur.Doc))
				}
				if err := checkCanonical(tg.rt, cur.Doc); err != nil {
					t.Fatalf("%s: %v\nops %s\ndoc %s", tg.rt.Name, err, toJSON(ops), toJSON(cur.Doc))
				}
			}
			if kinds[0] != kinds[1] || !schema.Equal(res[0], res[1]) || toJSON(mems[0]) != toJSON(mems[1]) {
				t.Fatalf("%s: Apply is not deterministic: %s %s / %s %s", tg.rt.Name, kinds[0], toJSON(res[0]), kinds[1], toJSON(res[1]))
			}
		}
	})
}

func allCases() []tcase {
	var out []tcase
	for _, l := range [][]tcase{entraCases, oktaCases, sailPointCases, netwrixCases, rfcCases, noOpCases} {
		out = append(out, l...)
	}
	return out
}
