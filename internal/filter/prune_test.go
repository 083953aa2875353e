package filter

import (
	"testing"

	"github.com/pamscim/pamscim/internal/schema"
)

// Pruning agrees with the evaluator: for each filter and each resource
// type, a resource lacking the undefined attributes matches the pruned
// filter exactly when it matches the original one evaluated as if those
// attributes were simply absent.
func TestPrune(t *testing.T) {
	reg := schema.Default()
	group := reg.ResourceType("Group")
	cases := []struct {
		filter    string
		out       string // pruned filter for Group, "" when constant
		all, none bool
	}{
		{`userName eq "x"`, "", false, true},
		{`userName pr`, "", false, true},
		{`userName ne "x"`, "", true, false},
		{`userName eq null`, "", true, false},
		{`not (userName eq "x")`, "", true, false},
		{`displayName eq "x"`, `displayName eq "x"`, false, false},
		{`userName eq "x" or displayName eq "G"`, `displayName eq "G"`, false, false},
		{`userName eq "x" and displayName eq "G"`, "", false, true},
		{`userName ne "x" and displayName eq "G"`, `displayName eq "G"`, false, false},
		{`userName ne "x" or displayName eq "G"`, "", true, false},
		{`emails[type eq "work"] or members[value eq "1"]`, `members[value eq "1"]`, false, false},
		{`not (emails[type eq "work"]) and not (displayName sw "a")`, `not (displayName sw "a")`, false, false},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x" or externalId eq "e"`, `externalId eq "e"`, false, false},
		{`meta.lastModified gt "2020-01-01T00:00:00Z"`, `meta.lastModified gt "2020-01-01T00:00:00Z"`, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.filter, func(t *testing.T) {
			e, err := Parse(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			out, all, none := Prune(group, e)
			if all != tc.all || none != tc.none {
				t.Fatalf("all=%v none=%v, want %v %v", all, none, tc.all, tc.none)
			}
			got := ""
			if out != nil {
				got = out.String()
			}
			if got != tc.out {
				t.Fatalf("pruned %q, want %q", got, tc.out)
			}
			if out != nil {
				if _, err := Bind(group, out); err != nil {
					t.Fatalf("pruned filter does not bind: %v", err)
				}
			}
		})
	}
}
