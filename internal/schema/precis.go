package schema

import (
	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// PrepareUserName is the form in which userNames are compared and held
// unique (RFC 7644 §7.8 requires RFC 7613's rules, now RFC 8265): the
// UsernameCaseMapped profile's mappings — fullwidth and halfwidth forms to
// their ordinary forms, lower case, NFC — applied to each space-separated
// userpart, so "ＢＪｅｎｓｅｎ" and "bjensen" are one user, as are an
// é typed precomposed and one typed as e + combining accent.
//
// The profile would also refuse code points outside its class (controls,
// symbols, spaces inside a userpart). Refusing them here would fail the
// provisioning of such an account on every sync cycle of the identity
// platform, so they are kept and only mapped: for every string the profile
// accepts the result is exactly the profile's (FuzzPrepareUserName holds
// it to x/text's implementation).
func PrepareUserName(s string) string {
	if isLowerASCII(s) {
		return s
	}
	return norm.NFC.String(lowerNoFinalSigma.String(width.Fold.String(s)))
}

// The profile's own case mapping: Unicode's default lower case without the
// final-sigma rule, which strings.ToLower also lacks.
var lowerNoFinalSigma = cases.Lower(language.Und, cases.HandleFinalSigma(false))

// isLowerASCII: most userNames (UPNs, email addresses) are printable ASCII
// without capitals, which every step maps to themselves.
func isLowerASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || ('A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}
