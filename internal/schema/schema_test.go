package schema_test

import (
	"testing"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
)

func TestResolvePath(t *testing.T) {
	rt := schema.Default().ResourceType("User")
	tests := []struct {
		in, want string
		err      bool
	}{
		{"userName", "userName", false},
		{"USERNAME", "userName", false},
		{"name.givenName", "name.givenName", false},
		{"Name.GIVENNAME", "name.givenName", false},
		{"emails.value", "emails.value", false},
		{"meta.lastModified", "meta.lastModified", false},
		{"id", "id", false},
		{"externalId", "externalId", false},
		{"urn:ietf:params:scim:schemas:core:2.0:User:userName", "userName", false},
		{"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:manager.value", schema.EnterpriseUserURN + ":manager.value", false},
		{schema.EnterpriseUserURN, schema.EnterpriseUserURN, false},
		{schema.EnterpriseUserURN + ":department", schema.EnterpriseUserURN + ":department", false},
		{"groups.$ref", "groups.$ref", false},
		{"manager.value", schema.EnterpriseUserURN + ":manager.value", false}, // Entra's short form
		{"Department", schema.EnterpriseUserURN + ":department", false},
		{"nope", "", true},
		{"name.nope", "", true},
		{"userName.x", "", true},
		{"urn:example:other:attr", "", true},
		{schema.UserURN, "", true},
	}
	for _, tc := range tests {
		p, err := rt.ResolvePath(tc.in)
		if tc.err {
			if err == nil || scimerr.KindOf(err) != scimerr.InvalidPath {
				t.Errorf("%s: want invalidPath, got %v %v", tc.in, p, err)
			}
			continue
		}
		if err != nil || p.String() != tc.want {
			t.Errorf("%s: got %q %v, want %q", tc.in, p.String(), err, tc.want)
		}
	}
}

// Immutable values cannot change once set; a PUT that omits them keeps them,
// as it keeps write-only values a client cannot read back.
func TestReplaceRules(t *testing.T) {
	reg := schema.NewRegistry()
	s := &schema.Schema{ID: "urn:test:Thing", Name: "Thing", Attributes: []*schema.Attribute{
		{Name: "name", Required: true},
		{Name: "serial", Mutability: schema.Immutable},
		{Name: "secret", Mutability: schema.WriteOnly, Returned: schema.ReturnNever},
		{Name: "note"},
	}}
	reg.AddSchema(s, false)
	reg.AddResourceType(&schema.ResourceType{Name: "Thing", Endpoint: "/Things", Schema: s})
	rt := reg.ResourceType("Thing")
	cur := schema.Doc{"name": "a", "serial": "S1", "secret": "pw", "note": "n"}
	got, err := rt.Replace(cur, schema.Doc{"name": "b"})
	if err != nil {
		t.Fatal(err)
	}
	if got["serial"] != "S1" || got["secret"] != "pw" || got["note"] != nil || got["name"] != "b" {
		t.Fatalf("replace: %v", got)
	}
	if _, err := rt.Replace(cur, schema.Doc{"name": "b", "serial": "S2"}); scimerr.KindOf(err) != scimerr.Mutability {
		t.Fatalf("changing an immutable value: %v", err)
	}
	if _, err := rt.Replace(cur, schema.Doc{"name": "b", "serial": "S1"}); err != nil {
		t.Fatalf("same immutable value: %v", err)
	}
	out := rt.Render(&schema.Rendered{ID: "1", Doc: got}, nil)
	if string(out) != `{"schemas":["urn:test:Thing"],"id":"1","name":"b","serial":"S1","meta":{"resourceType":"Thing"}}` {
		t.Fatalf("render: %s", out)
	}
}
