package filter

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/pamscim/pamscim/internal/scimerr"
)

// sexpr prints the tree with explicit structure, so tests can assert
// precedence and associativity without depending on String.
func sexpr(e Expr) string {
	switch x := e.(type) {
	case *LogExpr:
		return "(" + x.Op + " " + sexpr(x.Left) + " " + sexpr(x.Right) + ")"
	case *NotExpr:
		return "(not " + sexpr(x.X) + ")"
	case *ValuePath:
		return "(" + x.Path.String() + " [" + sexpr(x.Filter) + "])"
	case *AttrExpr:
		p := "{" + x.Path.URI + "|" + x.Path.Attr + "|" + x.Path.Sub + "}"
		if x.Path.URI == "" && x.Path.Sub == "" {
			p = x.Path.Attr
		} else if x.Path.URI == "" {
			p = x.Path.Attr + "." + x.Path.Sub
		}
		if x.Op == "pr" {
			return "(pr " + p + ")"
		}
		var v string
		switch y := x.Value.(type) {
		case string:
			b, _ := json.Marshal(y)
			v = string(b)
		case json.Number:
			v = "#" + string(y)
		default:
			v = valueText(y)
		}
		return "(" + x.Op + " " + p + " " + v + ")"
	}
	return "?"
}

func TestParse(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		// Every operator.
		{`userName eq "bjensen"`, `(eq userName "bjensen")`},
		{`userName ne "x"`, `(ne userName "x")`},
		{`name.familyName co "O'Malley"`, `(co name.familyName "O'Malley")`},
		{`userName sw "J"`, `(sw userName "J")`},
		{`userName ew "n"`, `(ew userName "n")`},
		{`meta.lastModified gt "2011-05-13T04:42:34Z"`, `(gt meta.lastModified "2011-05-13T04:42:34Z")`},
		{`meta.lastModified ge "2011-05-13T04:42:34Z"`, `(ge meta.lastModified "2011-05-13T04:42:34Z")`},
		{`meta.lastModified lt "2011-05-13T04:42:34Z"`, `(lt meta.lastModified "2011-05-13T04:42:34Z")`},
		{`meta.lastModified le "2011-05-13T04:42:34Z"`, `(le meta.lastModified "2011-05-13T04:42:34Z")`},
		{`title pr`, `(pr title)`},
		// Literals.
		{`active eq true`, `(eq active true)`},
		{`active eq FALSE`, `(eq active false)`},
		{`title eq Null`, `(eq title null)`},
		{`x eq 12`, `(eq x #12)`},
		{`x eq -1.5e3`, `(eq x #-1.5e3)`},
		{`x eq 0`, `(eq x #0)`},
		// Case-insensitive operators and keywords; names keep their spelling.
		{`USERNAME EQ "x" AND Title PR OR NOT (a Eq 1)`, `(or (and (eq USERNAME "x") (pr Title)) (not (eq a #1)))`},
		// Precedence: and binds tighter than or; not tighter than and.
		{`a pr or b pr and c pr`, `(or (pr a) (and (pr b) (pr c)))`},
		{`a pr and b pr or c pr`, `(or (and (pr a) (pr b)) (pr c))`},
		{`not (a pr) and b pr`, `(and (not (pr a)) (pr b))`},
		{`(a pr or b pr) and c pr`, `(and (or (pr a) (pr b)) (pr c))`},
		// Left associativity.
		{`a pr and b pr and c pr`, `(and (and (pr a) (pr b)) (pr c))`},
		{`a pr or b pr or c pr`, `(or (or (pr a) (pr b)) (pr c))`},
		{`a pr and (b pr and c pr)`, `(and (pr a) (and (pr b) (pr c)))`},
		// Blanks: leading, trailing, runs, tabs; not( without a blank.
		{"  userName  eq\t\"x\"  ", `(eq userName "x")`},
		{`not(a pr)`, `(not (pr a))`},
		{`((a pr))`, `(pr a)`},
		{`a eq "x"and b pr`, `(and (eq a "x") (pr b))`},
		// Names that start like keywords are names.
		{`order pr`, `(pr order)`},
		{`notes pr and android pr`, `(and (pr notes) (pr android))`},
		{`not eq "x"`, `(eq not "x")`},
		// URN-qualified paths: the URI runs to the last ':'.
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`, `(eq {urn:ietf:params:scim:schemas:core:2.0:User|userName|} "x")`},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`, `(eq {urn:ietf:params:scim:schemas:extension:enterprise:2.0:User|manager|value} "x")`},
		{`URN:IETF:params:scim:schemas:extension:enterprise:2.0:user:Department pr`, `(pr {URN:IETF:params:scim:schemas:extension:enterprise:2.0:user|Department|})`},
		// $ref.
		{`$ref eq "x"`, `(eq $ref "x")`},
		{`members.$ref pr`, `(pr members.$ref)`},
		// Value paths, with full filters inside the brackets.
		{`emails[type eq "work" and value co "@example.com"]`, `(emails [(and (eq type "work") (co value "@example.com"))])`},
		{`emails[type eq "work" and value co "@x" and primary eq true]`, `(emails [(and (and (eq type "work") (co value "@x")) (eq primary true))])`},
		{`emails[(type eq "work")]`, `(emails [(eq type "work")])`},
		{`emails[not (type eq "work") or value pr]`, `(emails [(or (not (eq type "work")) (pr value))])`},
		{`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`, `(and (eq userType "Employee") (or (co emails "example.com") (co emails.value "example.org")))`},
		{`userType eq "Employee" and emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp"]`, `(or (and (eq userType "Employee") (emails [(and (eq type "work") (co value "@example.com"))])) (ims [(eq type "xmpp")]))`},
		// Entra's attr[filter].sub op value: one element must satisfy both.
		{`emails[type eq "work"].value eq "user@contoso.com"`, `(emails [(and (eq type "work") (eq value "user@contoso.com"))])`},
		{`emails[type eq "a" or type eq "b"].value pr`, `(emails [(and (or (eq type "a") (eq type "b")) (pr value))])`},
		// String escapes, decoded as JSON, lower-case \u included.
		{`a eq "x\"y"`, `(eq a "x\"y")`},
		{`a eq "\u00e9\u00C9\\\/\b\f\n\r\t"`, `(eq a "éÉ\\/\b\f\n\r\t")`},
		{`a eq "\ud83d\ude00"`, `(eq a "😀")`},
		{`a eq "日本"`, `(eq a "日本")`},
		{`a eq ""`, `(eq a "")`},
		{`a eq "a)b]c(d[e"`, `(eq a "a)b]c(d[e")`},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := sexpr(e); got != tt.want {
			t.Errorf("Parse(%q)\n got %s\nwant %s", tt.in, got, tt.want)
		}
		// The canonical form re-parses to the same tree.
		e2, err := Parse(e.String())
		if err != nil {
			t.Errorf("Parse(String(%q) = %q): %v", tt.in, e.String(), err)
			continue
		}
		if !reflect.DeepEqual(e, e2) {
			t.Errorf("round trip of %q via %q: got %s", tt.in, e.String(), sexpr(e2))
		}
	}
}

func TestString(t *testing.T) {
	tests := []struct{ in, want string }{
		{`USERNAME Eq "x"`, `USERNAME eq "x"`},
		{`a pr and (b pr and c pr)`, `a pr and (b pr and c pr)`},
		{`(a pr and b pr) and c pr`, `a pr and b pr and c pr`},
		{`a pr and (b pr or c pr)`, `a pr and (b pr or c pr)`},
		{`(a pr or b pr) or (c pr or d pr)`, `a pr or b pr or (c pr or d pr)`},
		{`not(a pr)`, `not (a pr)`},
		{`emails[type eq "work"].value eq "x"`, `emails[type eq "work" and value eq "x"]`},
		{`emails[type eq "a" or type eq "b"].value eq "x"`, `emails[(type eq "a" or type eq "b") and value eq "x"]`},
		{`a eq 'it''s'`, ``}, // error case handled below
		{`a eq "<&>"`, `a eq "<&>"`},
		{`a eq "\u0001\u001f"`, `a eq "\u0001\u001f"`},
		{`a eq TRUE`, `a eq true`},
		{`a eq 1E3`, `a eq 1E3`},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("Parse(%q) = %s, want an error", tt.in, e)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := e.String(); got != tt.want {
			t.Errorf("String(Parse(%q)) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{``, `invalid filter at position 1: the filter is empty`},
		{`   `, `invalid filter at position 4: the filter is empty`},
		{`userName eqq "x"`, `invalid filter at position 10: expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after "userName", found "eqq"`},
		{`userName regex "x"`, `position 10: expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after "userName", found "regex"`},
		{`userName`, `invalid filter at position 9: expected an operator after "userName"`},
		{`userName eq`, `invalid filter at position 12: expected a value after "eq"`},
		{`userName eq `, `invalid filter at position 13: expected a value after "eq"`},
		{`userName eq "x`, `invalid filter at position 13: the string starting here is not terminated`},
		{`userName eq "x" and`, `position 20: expected an attribute name, found the end of the filter`},
		{`userName eq "x" or or`, `position 22: expected an operator after "or"`},
		{`(userName pr`, `invalid filter at position 13: missing ) to close the ( at position 1`},
		{`userName pr)`, `invalid filter at position 12: expected "and", "or" or the end of the filter, found ")"`},
		{`userName pr userName pr`, `position 13: expected "and", "or" or the end of the filter, found "userName"`},
		{`emails[type eq "work"`, `invalid filter at position 22: missing ] to close the [ at position 7`},
		{`emails[type eq "work" userName pr`, `position 23: expected "and", "or" or "]", found "userName"`},
		{`emails[addresses[type pr]]`, `position 17: value filters cannot be nested`},
		{`name.givenName[x pr]`, `position 15: a value filter applies to an attribute, not to the sub-attribute "name.givenName"`},
		{`emails[type pr] pr`, `position 17: expected "and", "or" or the end of the filter, found "pr"`},
		{`emails[type pr].`, `position 17: expected a sub-attribute name after "].", found the end of the filter`},
		{`a.b.c pr`, `position 4: "b.c" is not a valid attribute name`},
		{`1abc pr`, `position 1: "1abc" is not a valid attribute name: it must start with a letter`},
		{`urn::x:a pr`, `position 5: empty segment in the schema URN "urn::x"`},
		{`urn:x: pr`, `position 7: expected an attribute name`},
		{`"x" eq "y"`, `position 1: expected an attribute name, found "\""`},
		{`a eq "\x"`, `position 6: invalid string literal "\x": invalid character 'x' in string escape code`},
		{`a eq "\u12"`, `position 6: invalid string literal "\u12": invalid character '"' in \u hexadecimal character escape`},
		{"a eq \"x\ty\"", `position 6: invalid string literal`},
		{`a eq (x)`, `position 6: expected a value after "eq", found "("`},
		{`a eq and`, `position 6: expected a value, found the keyword and`},
		{"a eq x\x01", `position 6: an unquoted value cannot contain control characters`},
		{`a eq "x\u0000"`, `position 6: a filter value cannot contain the NUL character (\u0000)`},
		{`a eq 'x\u0000'`, `position 6: a filter value cannot contain the NUL character`},
		{`not (a pr`, `position 10: missing ) to close the ( at position 5`},
		{`not a pr`, `position 5: expected "(" after "not": write not (filter), found "a"`},
		{`not`, `position 4: expected "(" after "not": write not (filter), found the end of the filter`},
		{"a eq \"\xff\"", `invalid filter at position 7: the filter is not valid UTF-8`},
		{`a pr and ` + strings.Repeat("(", 70) + `b pr` + strings.Repeat(")", 70), `the filter nests deeper than 64 levels`},
		{strings.Repeat("not (", 65) + `b pr` + strings.Repeat(")", 65), `the filter nests deeper than 64 levels`},
		{`a eq "` + strings.Repeat("x", MaxLength) + `"`, `invalid filter: it is 4103 bytes long, the limit is 4096`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q): no error, want %q", tt.in, tt.want)
			continue
		}
		var se *scimerr.Error
		if !errors.As(err, &se) || se.Kind != scimerr.InvalidFilter {
			t.Errorf("Parse(%q): error %v is not invalidFilter", tt.in, err)
		}
		if !strings.Contains(se.Detail, tt.want) {
			t.Errorf("Parse(%q)\n got %s\nwant %s", tt.in, se.Detail, tt.want)
		}
	}
	// 64 levels are fine.
	if _, err := Parse(strings.Repeat("(", 64) + `b pr` + strings.Repeat(")", 64)); err != nil {
		t.Errorf("64 levels: %v", err)
	}
}

func TestParsePath(t *testing.T) {
	tests := []struct {
		in                  string
		uri, attr, sub, flt string
		psub                string
	}{
		{in: `userName`, attr: "userName"},
		{in: `name.givenName`, attr: "name", sub: "givenName"},
		{in: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`, uri: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", attr: "manager"},
		{in: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`, uri: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", attr: "manager", sub: "value"},
		{in: `members[value eq "2819c223"]`, attr: "members", flt: `(eq value "2819c223")`},
		{in: `members[value eq "2819c223"].display`, attr: "members", flt: `(eq value "2819c223")`, psub: "display"},
		{in: `emails[type eq "work"].value`, attr: "emails", flt: `(eq type "work")`, psub: "value"},
		{in: `addresses[type eq "work" and primary eq true].streetAddress`, attr: "addresses", flt: `(and (eq type "work") (eq primary true))`, psub: "streetAddress"},
		{in: `roles[primary eq "True"].value`, attr: "roles", flt: `(eq primary "True")`, psub: "value"},
		{in: ` members `, attr: "members"},
	}
	for _, tt := range tests {
		pp, err := ParsePath(tt.in)
		if err != nil {
			t.Errorf("ParsePath(%q): %v", tt.in, err)
			continue
		}
		if pp.Attr.URI != tt.uri || pp.Attr.Attr != tt.attr || pp.Attr.Sub != tt.sub || pp.Sub != tt.psub {
			t.Errorf("ParsePath(%q) = %+v, sub %q", tt.in, pp.Attr, pp.Sub)
		}
		got := ""
		if pp.Filter != nil {
			got = sexpr(pp.Filter)
		}
		if got != tt.flt {
			t.Errorf("ParsePath(%q) filter %s, want %s", tt.in, got, tt.flt)
		}
		pp2, err := ParsePath(pp.String())
		if err != nil || !reflect.DeepEqual(pp, pp2) {
			t.Errorf("ParsePath round trip of %q via %q: %v", tt.in, pp.String(), err)
		}
	}
	for _, in := range []string{``, `members[`, `members[value eq "x"`, `members[value eq "x"]x`, `members[value eq "x"].`, `a b`, `name.givenName[x pr]`, `members[value eq "x"].value.x`, `a eq "x"`} {
		_, err := ParsePath(in)
		if scimerr.KindOf(err) != scimerr.InvalidPath {
			t.Errorf("ParsePath(%q): %v, want invalidPath", in, err)
		}
	}

	vp, err := ParseValuePathExpr(`members[value eq "x"]`)
	if err != nil || vp.Path.Attr != "members" || sexpr(vp.Filter) != `(eq value "x")` {
		t.Errorf("ParseValuePathExpr: %v %v", vp, err)
	}
	if _, err := ParseValuePathExpr(`members`); scimerr.KindOf(err) != scimerr.InvalidPath {
		t.Errorf("ParseValuePathExpr(members): %v", err)
	}
	ap, err := ParseAttrPath(`urn:ietf:params:scim:schemas:core:2.0:User:name.givenName`)
	if err != nil || ap.URI != "urn:ietf:params:scim:schemas:core:2.0:User" || ap.Attr != "name" || ap.Sub != "givenName" {
		t.Errorf("ParseAttrPath: %+v %v", ap, err)
	}
	if _, err := ParseAttrPath(`emails[type eq "x"]`); scimerr.KindOf(err) != scimerr.InvalidPath {
		t.Errorf("ParseAttrPath with a filter: %v", err)
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(`userName eq "bjensen"`); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseComplex(b *testing.B) {
	const f = `userType eq "Employee" and emails[type eq "work" and value co "@example.com"] or not (name.familyName sw "J\u00e9") and meta.lastModified gt "2011-05-13T04:42:34Z"`
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(f); err != nil {
			b.Fatal(err)
		}
	}
}
