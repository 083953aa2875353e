package api_test

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/store"
)

func ids(t *testing.T, l map[string]any) []string {
	t.Helper()
	var out []string
	for _, r := range l["Resources"].([]any) {
		out = append(out, r.(map[string]any)["id"].(string))
	}
	return out
}

func TestFilterOverHTTP(t *testing.T) {
	e := newEnv(t)
	a := e.createUser("alice", map[string]any{"externalId": "ext-A", "title": "Engineer", ent: map[string]any{"manager": "boss-1"}})["id"].(string)
	b := e.createUser("bob", map[string]any{"active": false})["id"].(string)
	g := e.createGroup("Admins", a)["id"].(string)
	tests := []struct {
		path string
		want []string
	}{
		{`/Users?filter=userName eq "ALICE"`, []string{a}},
		{`/Users?filter=externalId eq "ext-A"`, []string{a}},
		{`/Users?filter=externalId eq "EXT-A"`, nil}, // externalId is case-exact
		{`/Users?filter=emails[type eq "work"].value eq "bob@example.com"`, []string{b}},
		{`/Users?filter=active eq "false"`, []string{b}}, // Netwrix quotes booleans
		{`/Users?filter=title pr`, []string{a}},
		{`/Users?filter=manager eq "boss-1"`, []string{a}}, // Entra's unqualified extension attribute
		{`/Users?filter=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "boss-1"`, []string{a}},
		{`/Users?filter=not (title pr)`, []string{b}},
		{`/Users?filter=userName sw "a" or userName ew "x"`, []string{a}},
		{`/Users?filter=userName sw "a" or userName ew "b"`, []string{a, b}},
		{`/Users?filter=meta.created gt "2000-01-01T00:00:00Z"`, []string{a, b}},
		{`/Groups?filter=displayName eq "admins"&excludedAttributes=members`, []string{g}},
		{`/Groups?filter=id eq "` + g + `" and members eq "` + a + `"`, []string{g}},
		{`/Groups?filter=id eq "` + g + `" and members eq "` + b + `"`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			u, _ := url.Parse(tc.path)
			u.RawQuery = u.Query().Encode()
			got := ids(t, e.do("GET", u.String(), nil).want(t, 200).body)
			sort.Strings(got)
			want := append([]string(nil), tc.want...)
			sort.Strings(want)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("got %v, want %v", got, want)
			}
		})
	}
	for _, bad := range []string{`userName eqq "x"`, `nope eq "x"`, `active gt true`, `userName eq`, `(userName eq "a"`} {
		e.do("GET", "/Users?filter="+url.QueryEscape(bad), nil).want(t, 400, "invalidFilter")
	}
	// POST .search takes the same query in a body.
	l := e.do("POST", "/Users/.search", map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:SearchRequest"},
		"filter": `userName eq "bob"`, "attributes": []string{"userName"}}).want(t, 200).body
	if fmt.Sprint(ids(t, l)) != fmt.Sprint([]string{b}) || get(l, "Resources.0.emails") != nil {
		t.Fatalf(".search: %v", l)
	}
}

func TestSortBy(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"carol", "Alice", "bob"} {
		e.createUser(n)
	}
	e.do("POST", "/Users", `{"userName":"zed-no-title-sorts-last"}`).want(t, 201)
	l := e.do("GET", "/Users?sortBy=userName&attributes=userName", nil).want(t, 200).body
	var names []string
	for _, r := range l["Resources"].([]any) {
		names = append(names, r.(map[string]any)["userName"].(string))
	}
	if fmt.Sprint(names) != "[Alice bob carol zed-no-title-sorts-last]" {
		t.Fatalf("sortBy userName: %v", names)
	}
	l = e.do("GET", "/Users?sortBy=name.givenName&sortOrder=descending&attributes=userName", nil).want(t, 200).body
	if first := get(l, "Resources.0.userName"); first != "zed-no-title-sorts-last" {
		t.Fatalf("descending puts resources without a value first: %v", first)
	}
	e.do("GET", "/Users?sortBy=nope", nil).want(t, 400, "invalidValue")
	e.do("GET", "/Users?sortBy=userName&sortOrder=sideways", nil).want(t, 400, "invalidValue")
}

func TestCursorPaging(t *testing.T) {
	e := newEnv(t)
	var all []string
	for i := 0; i < 23; i++ {
		all = append(all, e.createUser(fmt.Sprintf("cur%02d", i))["id"].(string))
	}
	sort.Strings(all)
	var pages [][]string
	var cursors []string
	next := ""
	for {
		l := e.do("GET", "/Users?count=5&cursor="+next, nil).want(t, 200).body
		if l["totalResults"] != 23.0 || l["startIndex"] != nil {
			t.Fatalf("cursor page: total %v startIndex %v", l["totalResults"], l["startIndex"])
		}
		if len(pages) == 0 && l["previousCursor"] != nil {
			t.Fatal("previousCursor on the first page")
		}
		pages = append(pages, ids(t, l))
		n, ok := l["nextCursor"].(string)
		if !ok {
			break
		}
		cursors = append(cursors, n)
		next = n
	}
	var flat []string
	for _, p := range pages {
		flat = append(flat, p...)
	}
	if len(pages) != 5 || fmt.Sprint(flat) != fmt.Sprint(all) {
		t.Fatalf("cursor walk: %d pages %v", len(pages), flat)
	}
	// previousCursor of the third page leads back to the second.
	third := e.do("GET", "/Users?count=5&cursor="+cursors[1], nil).want(t, 200).body
	back := e.do("GET", "/Users?count=5&cursor="+third["previousCursor"].(string), nil).want(t, 200).body
	if fmt.Sprint(ids(t, back)) != fmt.Sprint(pages[1]) || back["nextCursor"] == nil {
		t.Fatalf("previous page: %v want %v", ids(t, back), pages[1])
	}
	// A bare "cursor" starts, and .search takes the cursor in its body.
	if l := e.do("GET", "/Users?count=5&cursor", nil).want(t, 200).body; l["nextCursor"] == nil {
		t.Fatal("bare cursor did not start cursor paging")
	}
	s := e.do("POST", "/Users/.search", map[string]any{"cursor": cursors[0], "count": 5}).want(t, 200).body
	if fmt.Sprint(ids(t, s)) != fmt.Sprint(pages[1]) {
		t.Fatalf(".search cursor: %v", ids(t, s))
	}

	ctx := context.Background()
	other, _, _ := e.au.CreateToken(ctx, store.DefaultTenant, "other", []string{auth.ScopeRead}, 0, "test")
	c := cursors[0]
	forged := c[:len(c)-2] + "AA"
	if forged == c {
		forged = c[:len(c)-2] + "BB"
	}
	tests := []struct {
		name, token, path, scimType string
	}{
		{"forged", e.token, "/Users?count=5&cursor=" + forged, "invalidCursor"},
		{"garbage", e.token, "/Users?count=5&cursor=%21%21", "invalidCursor"},
		{"other token", other, "/Users?count=5&cursor=" + c, "invalidCursor"},
		{"other query", e.token, "/Users?count=5&filter=userName+pr&cursor=" + c, "invalidCursor"},
		{"other count", e.token, "/Users?count=6&cursor=" + c, "invalidCount"},
		{"count over max", e.token, "/Users?count=5000&cursor=", "invalidCount"},
		{"with startIndex", e.token, "/Users?count=5&startIndex=1&cursor=" + c, "invalidValue"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.doToken(tc.token, "GET", tc.path, nil).want(t, 400, tc.scimType)
		})
	}
}

func TestCursorExpiry(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 3; i++ {
		e.createUser(fmt.Sprintf("exp%d", i))
	}
	c := e.do("GET", "/Users?count=1&cursor", nil).want(t, 200).body["nextCursor"].(string)
	e.setClock(time.Now().Add(2 * time.Hour))
	e.do("GET", "/Users?count=1&cursor="+c, nil).want(t, 400, "expiredCursor")
}
