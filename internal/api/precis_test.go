package api_test

import (
	"net/http"
	"net/url"
	"testing"
)

// userName is compared and held unique in its RFC 8265 form (RFC 7644
// §7.8): fullwidth letters, capitals and decomposed accents name the same
// user, so a second create is 409 and a filter finds the first; the
// userName itself is kept and returned as the client sent it.
func TestUserNamePRECIS(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ first, same, other string }{
		{"bjensen@example.com", "ＢＪｅｎｓｅｎ@example.com", "bjensen2@example.com"},
		{"andré", "ANDRE\u0301", "andre"},
		{"John Smith", "JOHN SMITH", "John  Smith"},
	} {
		t.Run(tc.first, func(t *testing.T) {
			u := e.createUser(tc.first)
			if u["userName"] != tc.first {
				t.Fatalf("userName returned as %q, sent %q", u["userName"], tc.first)
			}
			e.do("POST", "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": tc.same}).
				want(t, http.StatusConflict, "uniqueness")
			r := e.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "`+tc.same+`"`), nil).want(t, http.StatusOK)
			if r.body["totalResults"] != float64(1) {
				t.Fatalf("filter on %q: %s", tc.same, r.raw)
			}
			if got := get(r.body, "Resources.0.id"); got != u["id"] {
				t.Fatalf("filter on %q found %v, want %v", tc.same, got, u["id"])
			}
			e.createUser(tc.other) // a different name is a different user
		})
	}
}
