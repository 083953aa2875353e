package api_test

import (
	"net/url"
	"testing"
)

// Searches at the root run over every resource type; an attribute a type
// does not have counts as having no value there (RFC 7644 §3.4.2.1).
func TestRootSearch(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"ann", "bob", "cid"} {
		e.createUser(n)
	}
	e.createGroup("Admins")
	e.createGroup("Auditors")
	count := func(r *resp) int { return int(r.body["totalResults"].(float64)) }
	types := func(r *resp) map[string]int {
		out := map[string]int{}
		for _, x := range r.body["Resources"].([]any) {
			out[get(x, "meta.resourceType").(string)]++
		}
		return out
	}
	search := func(body string) *resp { return e.do("POST", "/.search", body).want(t, 200) }
	cases := []struct {
		filter       string
		users, group int
	}{
		{`userName eq "bob"`, 1, 0},
		{`displayName sw "A"`, 0, 2},
		{`userName eq "bob" or displayName eq "Admins"`, 1, 1},
		{`userName ne "bob"`, 2, 2}, // groups have no userName: ne holds
		{`not (userName pr)`, 0, 2},
		{`emails[type eq "work"]`, 3, 0},
		{`members pr`, 0, 0},
		{`meta.resourceType eq "Group"`, 0, 2},
	}
	for _, tc := range cases {
		r := search(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":` + quote(tc.filter) + `}`)
		got := types(r)
		n := 0
		for _, k := range got {
			n += k
		}
		// Other types (the PAM roles catalogue) match "ne" and "not" too.
		if got["User"] != tc.users || got["Group"] != tc.group || count(r) != n {
			t.Errorf("%s: %v (total %d), want %d users %d groups", tc.filter, got, count(r), tc.users, tc.group)
		}
	}
	// No filter: everything; index paging runs across the types.
	all := search(`{"count":100}`)
	if count(all) < 5 {
		t.Fatalf("root search without a filter: %s", all.raw)
	}
	var seen []string
	for start := 1; start <= count(all); start += 2 {
		r := search(`{"startIndex":` + itoa(start) + `,"count":2}`)
		for _, x := range r.body["Resources"].([]any) {
			seen = append(seen, get(x, "id").(string))
		}
		if r.body["startIndex"] != float64(start) {
			t.Fatalf("startIndex %v", r.body["startIndex"])
		}
	}
	if len(seen) != count(all) {
		t.Fatalf("paging saw %d of %d", len(seen), count(all))
	}
	for i, x := range all.body["Resources"].([]any) {
		if get(x, "id") != seen[i] {
			t.Fatalf("page order differs at %d", i)
		}
	}
	// GET at the root, projection, and the refusals.
	r := e.do("GET", "?filter="+url.QueryEscape(`userName eq "ann"`)+"&attributes=userName", nil).want(t, 200)
	if count(r) != 1 || get(r.body, "Resources.0.userName") != "ann" || get(r.body, "Resources.0.emails") != nil {
		t.Fatalf("GET root: %s", r.raw)
	}
	e.do("GET", "/?filter="+url.QueryEscape(`userName eq "ann"`), nil).want(t, 200)
	search2 := func(body string) *resp { return e.do("POST", "/.search", body) }
	search2(`{"filter":"userName eq"}`).want(t, 400, "invalidFilter")
	search2(`{"filter":"active eq \"maybe\""}`).want(t, 400, "invalidFilter")
	search2(`{"sortBy":"userName"}`).want(t, 400, "invalidValue")
	search2(`{"cursor":""}`).want(t, 400, "invalidValue")
	search2(`{"count":"x"}`).want(t, 400, "invalidValue")
	e.doToken("", "POST", "/.search", `{}`).want(t, 401)
}

func quote(s string) string {
	b := []byte{'"'}
	for _, c := range s {
		if c == '"' || c == '\\' {
			b = append(b, '\\')
		}
		b = append(b, string(c)...)
	}
	return string(append(b, '"'))
}
