package schema

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
)

func TestPrepareUserName(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"bjensen@example.com", "BJensen@Example.COM"},
		{"bjensen", "ｂｊｅｎｓｅｎ"},         // fullwidth (width mapping)
		{"BJENSEN", "ＢＪＥＮＳＥＮ"},         // fullwidth capitals
		{"andré", "andre\u0301"},       // NFC: precomposed = e + combining acute
		{"ÅSA", "åsa"},                 // non-ASCII capitals
		{"ΣΟΦΙΑ", "σοφια"},             // no final-sigma rule: Σ → σ everywhere
		{"John Smith", "john smith"},   // userparts separated by spaces
		{"ｶﾀｶﾅ", "カタカナ"},               // halfwidth katakana
		{"user\u2028x", "USER\u2028X"}, // outside the profile's class: mapped, not refused
	} {
		if pa, pb := PrepareUserName(tc.a), PrepareUserName(tc.b); pa != pb {
			t.Errorf("PrepareUserName(%q) = %q, PrepareUserName(%q) = %q; want one form", tc.a, pa, tc.b, pb)
		}
	}
	for _, tc := range []struct{ a, b string }{
		{"bjensen", "bjensen2"},
		{"strasse", "straße"}, // lower case, not case folding: ß stays ß
		{"ı", "i"},            // dotless i is a letter of its own
	} {
		if PrepareUserName(tc.a) == PrepareUserName(tc.b) {
			t.Errorf("%q and %q prepare to one form %q", tc.a, tc.b, PrepareUserName(tc.a))
		}
	}
}

// Wherever RFC 8265's UsernameCaseMapped profile (x/text's implementation)
// accepts a userpart, PrepareUserName gives exactly its result, for each
// userpart of a space-separated name; it is idempotent everywhere.
func FuzzPrepareUserName(f *testing.F) {
	for _, s := range []string{"bjensen", "ＢＪｅｎｓｅｎ", "andre\u0301", "ΣΟΦΙΑ", "John Smith", "ｶﾀｶﾅ", "İstanbul", "ǅemal", "ﬁ", "Ⅻ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		got := PrepareUserName(s)
		if again := PrepareUserName(got); again != got {
			t.Fatalf("not idempotent: %q → %q → %q", s, got, again)
		}
		parts := strings.Split(s, " ")
		want := make([]string, len(parts))
		for i, p := range parts {
			q, err := precis.UsernameCaseMapped.String(p)
			if err != nil {
				return // outside the profile: only mapped
			}
			want[i] = q
		}
		if w := strings.Join(want, " "); got != w {
			t.Fatalf("PrepareUserName(%q) = %q, the profile gives %q", s, got, w)
		}
	})
}
