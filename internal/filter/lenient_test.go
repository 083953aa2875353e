package filter

import (
	"encoding/json"
	"testing"

	"github.com/pamscim/pamscim/internal/schema"
)

// One row per quirk, each naming the client or document that sends it.
func TestLenientParse(t *testing.T) {
	tests := []struct {
		client, in, want string
	}{
		{"PAM draft examples (single quotes)", `name eq 'Safe1'`, `(eq name "Safe1")`},
		{"PAM draft examples (single quotes, blank inside)", `name eq 'Admin Accounts'`, `(eq name "Admin Accounts")`},
		{"RFC 7644 §3.7.1 (single quotes)", `displayName sw 'Group'`, `(sw displayName "Group")`},
		{"single quotes: \\' is a quote", `name eq 'O\'Malley'`, `(eq name "O'Malley")`},
		{"single quotes: a double quote inside is literal", `name eq 'say "hi"'`, `(eq name "say \"hi\"")`},
		{"single quotes: JSON escapes work", `name eq '\u00e9\n'`, `(eq name "é\n")`},
		{"single quotes: ) and ] inside", `name eq 'a)b]'`, `(eq name "a)b]")`},
		{"Microsoft Entra docs (unquoted value)", `externalId eq jyoung`, `(eq externalId "jyoung")`},
		{"Microsoft SCIM Postman collection (unquoted)", `userName sw O`, `(sw userName "O")`},
		{"Microsoft SCIM Postman collection (unquoted, grouped)", `name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)`,
			`(and (eq name.FamilyName "Employee") (or (co emails.Value "example.com") (co emails.Value "example.org")))`},
		{"CyberArk via Netwrix (unquoted name)", `container.name eq PVWATicketingSystem`, `(eq container.name "PVWATicketingSystem")`},
		{"CyberArk via Netwrix (unquoted id, a number until Bind)", `group.value eq 18`, `(eq group.value #18)`},
		{"unquoted value with @ and %", `userName eq dale.mohr@romaguera.uk`, `(eq userName "dale.mohr@romaguera.uk")`},
		{"unquoted value ended by ]", `emails[type eq work]`, `(emails [(eq type "work")])`},
		{"unquoted value that is not a JSON number", `x eq 018`, `(eq x "018")`},
		{"Netwrix quoted boolean (kept as a string until Bind)", `active eq "true"`, `(eq active "true")`},
		{"filter-parser compatibility: True", `active eq True`, `(eq active true)`},
	}
	for _, tt := range tests {
		e, err := Parse(tt.in)
		if err != nil {
			t.Errorf("%s: Parse(%q): %v", tt.client, tt.in, err)
			continue
		}
		if got := sexpr(e); got != tt.want {
			t.Errorf("%s: Parse(%q)\n got %s\nwant %s", tt.client, tt.in, got, tt.want)
		}
		// The canonical form is strict RFC syntax and means the same.
		e2, err := Parse(e.String())
		if err != nil || sexpr(e2) != tt.want {
			t.Errorf("%s: canonical form %q does not re-parse to the same tree: %v", tt.client, e.String(), err)
		}
	}
	for _, in := range []string{`name eq 'unterminated`, `name eq and`, `name eq OR`, `name eq 'bad \x'`} {
		if e, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %s, want an error", in, e)
		}
	}
}

// Coercions that need the attribute's type happen in Bind.
func TestLenientBind(t *testing.T) {
	reg := testRegistry()
	user := reg.ResourceType("User")
	tests := []struct {
		client, in string
		want       any
	}{
		{"Netwrix (quoted boolean)", `active eq "true"`, true},
		{"Entra ID (capitalised quoted boolean)", `active eq "False"`, false},
		{"Entra ID roles[primary eq \"True\"]", `roles[primary eq "True"]`, true},
		{"quoted integer", `urn:pamscim:test:2.0:Extra:level eq "42"`, json.Number("42")},
		{"quoted decimal", `urn:pamscim:test:2.0:Extra:score gt "-1.5"`, json.Number("-1.5")},
		{"CyberArk unquoted number on a string attribute", `externalId eq 18`, "18"},
		{"unquoted word", `externalId eq jyoung`, "jyoung"},
	}
	for _, tt := range tests {
		e := mustBind(t, user, tt.in)
		var x *AttrExpr
		switch v := e.(type) {
		case *AttrExpr:
			x = v
		case *ValuePath:
			x = v.Filter.(*AttrExpr)
		}
		if x.Value != tt.want {
			t.Errorf("%s: Bind(%q) value %#v, want %#v", tt.client, tt.in, x.Value, tt.want)
		}
	}
	for _, in := range []string{`active eq "yes"`, `active eq 1`, `urn:pamscim:test:2.0:Extra:level eq "4.5"`, `urn:pamscim:test:2.0:Extra:level eq "x"`, `userName eq true`} {
		e, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Bind(user, e); err == nil {
			t.Errorf("Bind(%q): no error", in)
		}
	}
	_ = schema.TypeString
}
