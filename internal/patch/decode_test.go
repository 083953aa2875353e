package patch

import (
	"encoding/json"
	"testing"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string // JSON of the []Op, or "" when an error is expected
		err  string
	}{
		{
			name: "RFC envelope",
			body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"nickName","value":"B"}]}`,
			want: `[{"Op":"add","Path":"nickName","Value":"B"}]`,
		},
		{
			name: "lower-case operations key and no schemas",
			body: `{"operations":[{"op":"replace","path":"active","value":false}]}`,
			want: `[{"Op":"replace","Path":"active","Value":false}]`,
		},
		{
			name: "case-insensitive operation keys and schemas URN",
			body: `{"SCHEMAS":["URN:IETF:PARAMS:SCIM:API:MESSAGES:2.0:PATCHOP"],"OPERATIONS":[{"Op":"ADD","Path":" title ","Value":"T"}]}`,
			want: `[{"Op":"add","Path":"title","Value":"T"}]`,
		},
		{
			name: "Entra capitalised op names",
			body: patchOp(`{"op":"Add","path":"a","value":1},{"op":"Replace","path":"b","value":"x"},{"op":"Remove","path":"c"}`),
			want: `[{"Op":"add","Path":"a","Value":1},{"Op":"replace","Path":"b","Value":"x"},{"Op":"remove","Path":"c","Value":null}]`,
		},
		{
			name: "value kinds: string, bool, object, array, null",
			body: patchOp(`{"op":"add","path":"a","value":"s"},{"op":"add","path":"b","value":true},{"op":"add","value":{"x":1}},{"op":"add","path":"c","value":[1,2]},{"op":"replace","path":"d","value":null}`),
			want: `[{"Op":"add","Path":"a","Value":"s"},{"Op":"add","Path":"b","Value":true},{"Op":"add","Path":"","Value":{"x":1}},{"Op":"add","Path":"c","Value":[1,2]},{"Op":"replace","Path":"d","Value":null}]`,
		},
		{
			name: "SailPoint bare array",
			body: `[{"op":"add","members":[{"value":"u1"}]}]`,
			want: `[{"Op":"add","Path":"","Value":{"members":[{"value":"u1"}]}}]`,
		},
		{
			name: "SailPoint attribute-keyed remove becomes one remove per key",
			body: `[{"op":"remove","members":[{"value":"u1"}],"emails":[{"value":"a"}]}]`,
			want: `[{"Op":"remove","Path":"emails","Value":[{"value":"a"}]},{"Op":"remove","Path":"members","Value":[{"value":"u1"}]}]`,
		},
		{
			name: "Entra member removal keeps its value list",
			body: patchOp(`{"op":"Remove","path":"members","value":[{"$ref":null,"value":"u1"}]}`),
			want: `[{"Op":"remove","Path":"members","Value":[{"$ref":null,"value":"u1"}]}]`,
		},
		{
			name: "Entra stringified role",
			body: patchOp(`{"op":"Add","path":"roles","value":[{"value":"{\"id\":\"1\",\"value\":\"25\",\"displayName\":\"R\"}","primary":true}]}`),
			want: `[{"Op":"add","Path":"roles","Value":[{"display":"R","primary":true,"value":"25"}]}]`,
		},
		{
			name: "a role whose value only looks like JSON is left alone",
			body: patchOp(`{"op":"Add","path":"roles","value":[{"value":"{not json"}]}`),
			want: `[{"Op":"add","Path":"roles","Value":[{"value":"{not json"}]}]`,
		},
		{
			name: "null path means no path",
			body: patchOp(`{"op":"replace","path":null,"value":{"active":false}}`),
			want: `[{"Op":"replace","Path":"","Value":{"active":false}}]`,
		},
		{name: "empty Operations", body: patchOp(``), err: "invalidSyntax"},
		{name: "missing Operations", body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`, err: "invalidSyntax"},
		{name: "null Operations", body: `{"Operations":null}`, err: "invalidSyntax"},
		{name: "Operations not an array", body: `{"Operations":{"op":"add"}}`, err: "invalidSyntax"},
		{name: "empty bare array", body: `[]`, err: "invalidSyntax"},
		{name: "wrong schemas", body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"Operations":[{"op":"add","path":"a","value":1}]}`, err: "invalidSyntax"},
		{name: "unknown op", body: patchOp(`{"op":"move","path":"a"}`), err: "invalidSyntax"},
		{name: "op not a string", body: patchOp(`{"op":1,"path":"a"}`), err: "invalidSyntax"},
		{name: "missing op", body: patchOp(`{"path":"a","value":1}`), err: "invalidSyntax"},
		{name: "operation not an object", body: patchOp(`"add"`), err: "invalidSyntax"},
		{name: "path not a string", body: patchOp(`{"op":"add","path":["a"],"value":1}`), err: "invalidSyntax"},
		{name: "add without value", body: patchOp(`{"op":"add","path":"a"}`), err: "invalidSyntax"},
		{name: "remove without path", body: patchOp(`{"op":"remove"}`), err: "noTarget"},
		{name: "remove with empty path", body: patchOp(`{"op":"remove","path":"  "}`), err: "noTarget"},
		{name: "op twice in different case", body: patchOp(`{"op":"add","OP":"remove","path":"a","value":1}`), err: "invalidSyntax"},
		{name: "not JSON", body: `{"Operations":[`, err: "invalidSyntax"},
		{name: "trailing data", body: patchOp(`{"op":"add","path":"a","value":1}`) + `x`, err: "invalidSyntax"},
		{name: "invalid UTF-8", body: "[{\"op\":\"add\",\"path\":\"a\",\"value\":\"\xff\"}]", err: "invalidSyntax"},
		{name: "a JSON string", body: `"x"`, err: "invalidSyntax"},
		{name: "empty body", body: ``, err: "invalidSyntax"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ops, err := Decode([]byte(tc.body))
			if tc.err != "" {
				if kindName(err) != tc.err {
					t.Fatalf("err = %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			got, _ := json.Marshal(ops)
			var a, b any
			_ = json.Unmarshal(got, &a)
			if err := json.Unmarshal([]byte(tc.want), &b); err != nil {
				t.Fatalf("bad want: %v", err)
			}
			if toJSON(a) != toJSON(b) {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestDecodeUnknownOpIsNamed(t *testing.T) {
	_, err := Decode([]byte(patchOp(`{"op":"Copy","path":"a"}`)))
	if err == nil || !contains(err.Error(), `"Copy"`) {
		t.Errorf("error %v does not name the op", err)
	}
}

func TestDecodeTooMany(t *testing.T) {
	b := []byte(`[`)
	for i := 0; i <= MaxOperations; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"op":"remove","path":"a"}`...)
	}
	b = append(b, ']')
	if _, err := Decode(b); kindName(err) != "invalidSyntax" {
		t.Errorf("err = %v, want invalidSyntax", err)
	}
}
