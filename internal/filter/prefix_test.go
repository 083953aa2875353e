package filter

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrefixSuccessor(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"a", "b", true},
		{"bjen", "bjeo", true},
		{"a\U0010FFFF", "b", true},
		{"a\U0010FFFF\U0010FFFF", "b", true},
		{"\U0010FFFF", "", false},
		{"\uD7FF", "\uE000", true}, // surrogates skipped
		{"é", "ê", true},
		{"z\u007F", "z\u0080", true}, // one byte to two
		{"100%_", "100%`", true},
	} {
		got, ok := prefixSuccessor(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("prefixSuccessor(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
		if ok && !utf8.ValidString(got) {
			t.Errorf("prefixSuccessor(%q) = %q is not valid UTF-8", tc.in, got)
		}
	}
}

// Every string that starts with p lies in [p, successor(p)), and the strings
// just outside do not start with p: the bounds are exact, so the range scan
// can never drop a match (the LIKE beside it only removes).
func FuzzPrefixRange(f *testing.F) {
	for _, s := range []string{"a", "bjen", "\U0010FFFF", "x\U0010FFFFy", "é"} {
		f.Add(s, "suffix")
	}
	f.Fuzz(func(t *testing.T, p, rest string) {
		if p == "" || !utf8.ValidString(p) || !utf8.ValidString(rest) {
			return
		}
		hi, ok := prefixSuccessor(p)
		s := p + rest
		if s < p || (ok && s >= hi) {
			t.Fatalf("%q starts with %q but is outside [%q, %q)", s, p, p, hi)
		}
		if ok && strings.HasPrefix(hi, p) {
			t.Fatalf("the bound %q itself starts with %q", hi, p)
		}
	})
}
