package schema_test

import (
	"encoding/json"
	"testing"

	"github.com/pamscim/pamscim/internal/schema"
)

// FuzzNormalize feeds arbitrary bytes through the resource decoder and
// validator. Properties: no panic; whatever is accepted renders to valid
// JSON, normalises again to the same document (idempotence), and never
// carries a null.
func FuzzNormalize(f *testing.F) {
	seeds := []string{
		`{"userName":"bjensen","name":{"givenName":"B"},"emails":[{"value":"a@b","type":"work","primary":true}]}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"USERNAME":"x","active":"False"}`,
		`{"userName":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"abc"}}`,
		`{"userName":"x","name.givenName":"y","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"d"}`,
		`{"userName":"x","x509Certificates":[{"value":"TUlJ"}],"emails":{"value":"single"}}`,
		`{"displayName":"g","members":[{"value":"1"},{"value":"1"}]}`,
		`{"userName":null,"emails":[null,{}],"title":""}`,
		`[1,2]`, `"x"`, `{"a":`, "{\"userName\":\"\xff\"}",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	reg := schema.Default()
	types := []*schema.ResourceType{reg.ResourceType("User"), reg.ResourceType("Group")}
	f.Fuzz(func(t *testing.T, b []byte) {
		obj, err := schema.DecodeObject(b)
		if err != nil {
			return
		}
		for _, rt := range types {
			in, err := rt.Normalize(obj)
			if err != nil {
				continue
			}
			_ = rt.CheckRequired(in.Doc, in.Relational)
			out := rt.Render(&schema.Rendered{ID: "id", Doc: in.Doc}, nil)
			var v map[string]any
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("rendered invalid JSON %s: %v", out, err)
			}
			enc, _ := json.Marshal(in.Doc)
			again, err := schema.DecodeObject(enc)
			if err != nil {
				t.Fatalf("canonical doc does not decode: %v", err)
			}
			in2, err := rt.Normalize(again)
			if err != nil {
				t.Fatalf("canonical doc does not normalise: %v\n%s", err, enc)
			}
			enc2, _ := json.Marshal(in2.Doc)
			if string(enc) != string(enc2) {
				t.Fatalf("not idempotent:\n%s\n%s", enc, enc2)
			}
			if containsNull(in.Doc) {
				t.Fatalf("null kept: %s", enc)
			}
		}
	})
}

func containsNull(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		for _, e := range x {
			if containsNull(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if containsNull(e) {
				return true
			}
		}
	}
	return false
}
