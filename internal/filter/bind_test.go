package filter

import (
	"strings"
	"testing"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
)

func TestBind(t *testing.T) {
	reg := testRegistry()
	user, group := reg.ResourceType("User"), reg.ResourceType("Group")
	tests := []struct {
		rt   *schema.ResourceType
		in   string
		path string // resolved path of the (first) comparison
	}{
		{user, `USERNAME eq "X"`, "userName"},
		{user, `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "X"`, "userName"},
		{user, `name.GIVENNAME sw "b"`, "name.givenName"},
		{user, `emails co "example.com"`, "emails.value"},
		{user, `emails pr`, "emails"},
		{user, `emails.type eq "work"`, "emails.type"},
		{user, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x"`, EnterpriseDept},
		{user, `URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:manager eq "x"`, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"},
		{user, `meta.lastModified gt "2011-05-13T04:42:34Z"`, "meta.lastModified"},
		{user, `meta.Created le "2011-05-13T04:42:34"`, "meta.created"},
		{user, `meta.resourceType eq "User"`, "meta.resourceType"},
		{user, `id eq "x"`, "id"},
		{user, `externalId eq "x"`, "externalId"},
		{user, `schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, "schemas"},
		{user, `groups eq "g1"`, "groups.value"},
		{user, `x509Certificates.value eq "TUlJ"`, "x509Certificates.value"},
		{user, `meta pr`, "meta"},
		{group, `members eq "u1"`, "members.value"},
		{group, `members.type eq "User"`, "members.type"},
		{group, `displayName eq "x"`, "displayName"},
	}
	for _, tt := range tests {
		e := mustBind(t, tt.rt, tt.in)
		x, ok := e.(*AttrExpr)
		if !ok {
			t.Errorf("Bind(%q) = %T", tt.in, e)
			continue
		}
		if got := x.Path.Resolved.String(); got != tt.path {
			t.Errorf("Bind(%q) resolved %s, want %s", tt.in, got, tt.path)
		}
	}

	// Value paths resolve their inner paths against the attribute.
	e := mustBind(t, user, `emails[TYPE eq "work" and not (value ew "x")]`)
	vp := e.(*ValuePath)
	if vp.Path.Resolved.String() != "emails" {
		t.Errorf("value path resolved to %s", vp.Path.Resolved)
	}
	inner := vp.Filter.(*LogExpr).Left.(*AttrExpr)
	if inner.Path.Resolved.String() != "emails.type" {
		t.Errorf("inner path resolved to %s", inner.Path.Resolved)
	}
	mustBind(t, user, `name[givenName eq "x"]`)
	mustBind(t, user, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value eq "x"]`)
	mustBind(t, group, `members[value eq "x" and type eq "User"]`)

	// Bind leaves its input alone, so one parse can serve several types.
	parsed, _ := Parse(`displayName eq "x"`)
	mustBindExpr(t, user, parsed)
	if parsed.(*AttrExpr).Path.IsBound() {
		t.Error("Bind modified its input")
	}
	mustBindExpr(t, group, parsed)
}

const EnterpriseDept = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"

func mustBindExpr(t *testing.T, rt *schema.ResourceType, e Expr) Expr {
	t.Helper()
	b, err := Bind(rt, e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBindErrors(t *testing.T) {
	reg := testRegistry()
	user, group := reg.ResourceType("User"), reg.ResourceType("Group")
	tests := []struct {
		rt       *schema.ResourceType
		in, want string
	}{
		{user, `foo eq "x"`, `attribute "foo" is not defined for resource type User`},
		{user, `name.foo eq "x"`, `has no sub-attribute "foo"`},
		{user, `urn:example:unknown:1.0:User:x eq "x"`, `unknown schema for resource type User`},
		{user, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User pr`, `names a schema, not an attribute`},
		{group, `userName eq "x"`, `attribute "userName" is not defined for resource type Group`},
		{user, `active gt true`, `operator gt cannot be used with the boolean attribute active`},
		{user, `active co "t"`, `operator co cannot be used with the boolean attribute active`},
		{user, `x509Certificates.value lt "x"`, `operator lt cannot be used with the binary attribute x509Certificates.value`},
		{user, `x509Certificates.value co "x"`, `binary`},
		{user, `active eq 12`, `attribute active is a boolean; compare it with true or false, not 12`},
		{user, `userName eq false`, `attribute userName is a string`},
		{user, `meta.created gt "yesterday"`, `"yesterday" is not a dateTime`},
		{user, `meta.created gt 12`, `attribute meta.created is a dateTime`},
		{user, `meta.created co "2011"`, `operator co needs a string attribute`},
		{user, `urn:pamscim:test:2.0:Extra:level co "1"`, `operator co needs a string attribute`},
		{user, `urn:pamscim:test:2.0:Extra:level eq 1.5`, `is an integer`},
		{user, `userName gt null`, `null can only be compared with eq or ne`},
		{user, `name eq "x"`, `attribute name is complex; compare one of its sub-attributes, such as name.formatted`},
		{user, `name co "x"`, `complex`},
		{user, `password eq "secret"`, `attribute password cannot be used in a filter`},
		{user, `emails[foo eq "x"]`, `attribute emails has no sub-attribute "foo"`},
		{user, `emails[emails.type eq "x"]`, `inside emails[…] name a sub-attribute of emails`},
		{user, `userName[value eq "x"]`, `attribute userName is not complex`},
		{user, `meta[created pr]`, `meta cannot have a value filter`},
		{user, `meta.location eq "x"`, `filtering on meta.location is not supported`},
		{user, `meta.version eq "x"`, `filtering on meta.version is not supported`},
		{user, `groups.display eq "x"`, `filtering on groups.display is not supported`},
		{group, `members.display eq "x"`, `filtering on members.display is not supported`},
		{group, `members[display eq "x"]`, `filtering on members.display is not supported`},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		_, err = Bind(tt.rt, e)
		if err == nil {
			t.Errorf("Bind(%q): no error, want %q", tt.in, tt.want)
			continue
		}
		if scimerr.KindOf(err) != scimerr.InvalidFilter {
			t.Errorf("Bind(%q): %v is not invalidFilter", tt.in, err)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Bind(%q)\n got %v\nwant %s", tt.in, err, tt.want)
		}
	}
}

func TestBindPath(t *testing.T) {
	user := testRegistry().ResourceType("User")
	tests := []struct{ in, want string }{
		{`emails[type eq "work"].value`, "emails.value"},
		{`emails[type eq "work"]`, "emails"},
		{`name.givenName`, "name.givenName"},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value eq "x"]`, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
	}
	for _, tt := range tests {
		pp, err := ParsePath(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		b, err := BindPath(user, pp)
		if err != nil {
			t.Errorf("BindPath(%q): %v", tt.in, err)
			continue
		}
		if got := b.Attr.Resolved.String(); got != tt.want {
			t.Errorf("BindPath(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	pp, _ := ParsePath(`emails[type eq "work" and primary eq "true"]`)
	b, err := BindPath(user, pp)
	if err != nil {
		t.Fatal(err)
	}
	if !MatchElement(b.Filter, map[string]any{"type": "Work", "primary": true, "value": "a@b"}) {
		t.Error("MatchElement: a primary work address does not match")
	}
	if MatchElement(b.Filter, map[string]any{"type": "home", "primary": true}) {
		t.Error("MatchElement: a home address matches")
	}
	for _, in := range []string{`emails[foo eq "x"]`, `emails[type eq "x"].foo`, `userName[value eq "x"]`, `nope`} {
		pp, err := ParsePath(in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := BindPath(user, pp); scimerr.KindOf(err) != scimerr.InvalidPath {
			t.Errorf("BindPath(%q): %v, want invalidPath", in, err)
		}
	}
}
