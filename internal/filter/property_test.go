package filter

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/schema"
)

// Strings are built from these tokens: case pairs whose folding differs
// between ASCII, Go and SQLite (É, ß, İ, ı, the Kelvin sign, title-case
// digraphs), LIKE metacharacters, a backslash, CJK.
var tokens = []string{
	"alice", "Alice", "ALICE", "bob", "Bob", "é", "É", "ß", "SS", "ss", "İ", "i", "I", "ı",
	"%", "_", "\\", "a%b", "a_b", "x\\y", "Straße", "STRASSE", "\u212a", "k", "K", "日本",
	"-", ".", "@", "ex.com", "Ǆ", "ǅ", "ǆ", " ", "'", `"`,
}

const entURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

type propGen struct {
	r    *rand.Rand
	seen []string // string values present in the documents
}

func (g *propGen) pick(list ...string) string { return list[g.r.IntN(len(list))] }

func (g *propGen) str() string {
	var b strings.Builder
	for n := 1 + g.r.IntN(3); n > 0; n-- {
		b.WriteString(tokens[g.r.IntN(len(tokens))])
	}
	s := b.String()
	g.seen = append(g.seen, s)
	return s
}

func (g *propGen) maybe(p float64) bool { return g.r.Float64() < p }

func (g *propGen) time() time.Time {
	return time.Date(2020+g.r.IntN(5), time.Month(1+g.r.IntN(12)), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60), g.r.IntN(1e9), time.UTC)
}

// timeText spells t in one of the forms clients and documents use.
func (g *propGen) timeText(t time.Time) string {
	switch g.r.IntN(5) {
	case 0:
		return t.Format("2006-01-02T15:04:05Z07:00")
	case 1:
		return t.Format(time.RFC3339Nano)
	case 2:
		return t.In(time.FixedZone("", -5*3600-30*60)).Format("2006-01-02T15:04:05.000000-07:00")
	case 3:
		return t.Format("2006-01-02T15:04:05.999999999") // no zone: UTC
	}
	return t.In(time.FixedZone("", 9*3600)).Format(time.RFC3339Nano)
}

func (g *propGen) user(id string) *Resource {
	d := schema.Doc{}
	if g.maybe(0.9) {
		d["userName"] = g.str()
	}
	if g.maybe(0.7) {
		d["displayName"] = g.str()
	}
	if g.maybe(0.5) {
		d["title"] = g.str()
	}
	if g.maybe(0.5) {
		d["externalId"] = g.str()
	}
	name := map[string]any{}
	if g.maybe(0.6) {
		name["givenName"] = g.str()
	}
	if g.maybe(0.3) {
		name["familyName"] = g.str()
	}
	if len(name) > 0 {
		d["name"] = name
	}
	switch g.r.IntN(3) {
	case 0:
		d["active"] = true
	case 1:
		d["active"] = false
	}
	var emails []any
	primary := false
	for n := g.r.IntN(4); n > 0; n-- {
		el := map[string]any{}
		if g.maybe(0.8) {
			el["value"] = g.str() + "@" + g.pick("ex.com", "EX.com", "日本.jp")
		}
		if g.maybe(0.7) {
			el["type"] = g.pick("work", "home", "other", "Work")
		}
		if !primary && g.maybe(0.3) {
			el["primary"] = true
			primary = true
		}
		if g.maybe(0.2) {
			el["display"] = g.str()
		}
		if len(el) > 0 {
			emails = append(emails, el)
		}
	}
	if len(emails) > 0 {
		d["emails"] = emails
	}
	ent := map[string]any{}
	if g.maybe(0.5) {
		ent["department"] = g.str()
	}
	if g.maybe(0.4) {
		ent["employeeNumber"] = g.pick("1", "10", "2", "0042", g.str())
	}
	if g.maybe(0.3) {
		ent["manager"] = map[string]any{"value": g.pick("u1", "u2", "U1", g.str())}
	}
	if len(ent) > 0 {
		d[entURN] = ent
	}
	ext := map[string]any{}
	if g.maybe(0.5) {
		ext["hired"] = g.timeText(g.time())
	}
	if g.maybe(0.5) {
		ext["level"] = json.Number(fmt.Sprint(g.r.IntN(21) - 10))
	}
	if g.maybe(0.4) {
		ext["score"] = json.Number(g.pick("1.5", "-2.25", "0", "3", "1e2", "-0.5", "100"))
	}
	if g.maybe(0.4) {
		var tags []any
		for n := 1 + g.r.IntN(3); n > 0; n-- {
			tags = append(tags, g.str())
		}
		ext["tags"] = tags
	}
	if g.maybe(0.5) {
		ext["code"] = g.str()
	}
	if g.maybe(0.4) {
		ext["flag"] = g.maybe(0.5)
	}
	if len(ext) > 0 {
		d[extraURN] = ext
	}
	created := g.time()
	return &Resource{ID: id, Doc: d, Created: created, Modified: created.Add(time.Duration(g.r.Int64N(int64(48 * time.Hour))))}
}

// randomCase changes the case of ASCII letters, which must not matter in
// names, operators and keywords.
func (g *propGen) randomCase(s string) string {
	b := []byte(s)
	for i, c := range b {
		if isLetter(c) && g.maybe(0.3) {
			b[i] = c ^ 0x20
		}
	}
	return string(b)
}

func quote(s string) string {
	var b strings.Builder
	writeString(&b, s)
	return b.String()
}

// strValue returns a filter string: often a piece of a value that exists,
// in a changed case, so that matches happen.
func (g *propGen) strValue() string {
	switch g.r.IntN(6) {
	case 0:
		return g.str()
	case 1:
		return g.pick("", "%", "_", "\\", "a", "é", "ß", "i", "@ex.com", "work")
	}
	s := g.seen[g.r.IntN(len(g.seen))]
	runes := []rune(s)
	i := g.r.IntN(len(runes) + 1)
	j := i + g.r.IntN(len(runes)-i+1)
	if g.maybe(0.5) {
		i, j = 0, len(runes)
	}
	s = string(runes[i:j])
	switch g.r.IntN(4) {
	case 0:
		s = strings.ToUpper(s)
	case 1:
		s = strings.ToLower(s)
	}
	return s
}

type attrSpec struct {
	path string
	typ  string // string, exact, bool, time, int, dec, complex
}

var userAttrs = []attrSpec{
	{"userName", "string"}, {"displayName", "string"}, {"title", "string"},
	{"name.givenName", "string"}, {"name.familyName", "string"},
	{"emails.value", "string"}, {"emails.type", "string"}, {"emails", "string"}, {"emails.display", "string"},
	{"emails.primary", "bool"},
	{"active", "bool"}, {"externalId", "exact"}, {"id", "exact"},
	{"meta.lastModified", "time"}, {"meta.created", "time"},
	{entURN + ":department", "string"}, {entURN + ":employeeNumber", "string"},
	{entURN + ":manager", "string"}, {entURN + ":manager.value", "string"},
	{extraURN + ":hired", "time"}, {extraURN + ":level", "int"}, {extraURN + ":score", "dec"},
	{extraURN + ":tags", "string"}, {extraURN + ":code", "exact"}, {extraURN + ":flag", "bool"},
	{"schemas", "schemas"}, {"name", "complex"}, {"emails", "complex"}, {entURN + ":manager", "complex"},
}

func (g *propGen) comparison(path, typ string) string {
	path = g.randomCase(path)
	if g.maybe(0.08) {
		return path + " " + g.randomCase("pr")
	}
	if typ == "complex" {
		return path + " pr"
	}
	if g.maybe(0.05) {
		return path + " " + g.pick("eq", "ne") + " null"
	}
	var ops []string
	var val string
	switch typ {
	case "string", "exact":
		ops = []string{"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"}
		val = quote(g.strValue())
		if typ == "exact" && g.maybe(0.3) {
			val = quote(g.pick("u1", "U1", "u2", "x"))
		}
	case "schemas":
		ops = []string{"eq", "ne", "co", "sw", "ew"}
		val = quote(g.pick(entURN, extraURN, "urn:ietf:params:scim:schemas:core:2.0:User", "Enterprise", "urn:", "x"))
	case "bool":
		ops = []string{"eq", "ne"}
		val = g.pick("true", "false", `"True"`, `"false"`)
	case "time":
		ops = []string{"eq", "ne", "gt", "ge", "lt", "le"}
		val = quote(g.timeText(g.time()))
	case "int":
		ops = []string{"eq", "ne", "gt", "ge", "lt", "le"}
		val = fmt.Sprint(g.r.IntN(21) - 10)
	case "dec":
		ops = []string{"eq", "ne", "gt", "ge", "lt", "le"}
		val = g.pick("1.5", "-2.25", "0", "3", "100", "1e2", "-0.5", "2")
	}
	return path + " " + g.randomCase(g.pick(ops...)) + " " + val
}

// emailCond is a condition on one element of emails, for value paths.
func (g *propGen) emailCond(depth int) string {
	if depth > 0 && g.maybe(0.4) {
		switch g.r.IntN(3) {
		case 0:
			return g.emailCond(depth-1) + " and " + g.emailCond(depth-1)
		case 1:
			return "(" + g.emailCond(depth-1) + " or " + g.emailCond(depth-1) + ")"
		}
		return "not (" + g.emailCond(depth-1) + ")"
	}
	switch g.r.IntN(4) {
	case 0:
		return g.comparison("value", "string")
	case 1:
		return g.comparison("type", "string")
	case 2:
		return g.comparison("primary", "bool")
	}
	return g.comparison("display", "string")
}

func (g *propGen) filter(depth int) string {
	if depth > 0 && g.maybe(0.55) {
		switch g.r.IntN(4) {
		case 0:
			return g.filter(depth-1) + " " + g.randomCase("and") + " " + g.filter(depth-1)
		case 1:
			return g.filter(depth-1) + " " + g.randomCase("or") + " " + g.filter(depth-1)
		case 2:
			return g.randomCase("not") + " (" + g.filter(depth-1) + ")"
		}
		return "(" + g.filter(depth-1) + ")"
	}
	switch g.r.IntN(12) {
	case 0:
		return "emails[" + g.emailCond(2) + "]"
	case 1:
		// Entra: emails[type eq "work"].value eq "x"
		return "emails[" + g.emailCond(1) + "]." + g.comparison("value", "string")
	case 2:
		return "name[" + g.comparison("givenName", "string") + " " + g.pick("and", "or") + " " + g.comparison("familyName", "string") + "]"
	case 3:
		return entURN + ":manager[" + g.comparison("value", "string") + "]"
	}
	a := userAttrs[g.r.IntN(len(userAttrs))]
	return g.comparison(a.path, a.typ)
}

// TestSQLMatchesEval is the property test of the brief: random filters over
// random users, and the SQL of Compile must select exactly the users Eval
// selects.
func TestSQLMatchesEval(t *testing.T) { forBackends(t, sqlMatchesEval) }

func sqlMatchesEval(t *testing.T, openTestDB func(testing.TB) *testDB) {
	n := 2500
	if testing.Short() {
		n = 300
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	g := &propGen{r: rand.New(rand.NewPCG(seed, 7))}
	reg := testRegistry()
	user := reg.ResourceType("User")
	db := openTestDB(t)
	var users []*Resource
	for i := range 200 {
		u := g.user(fmt.Sprintf("u%03d", i))
		users = append(users, u)
		db.insert(testTenant, user, u)
	}
	// Another tenant with a copy of some users, which must never match.
	for _, u := range users[:20] {
		db.insert("other", user, &Resource{ID: u.ID + "-other", Doc: u.Doc, Created: u.Created, Modified: u.Modified})
	}
	matched, empty, failures := 0, 0, 0
	for i := 0; i < n && failures < 10; i++ {
		f := g.filter(3)
		e, err := Parse(f)
		if err != nil {
			t.Fatalf("Parse(%q): %v", f, err)
		}
		if again, err := Parse(e.String()); err != nil || again.String() != e.String() {
			t.Fatalf("String round trip of %q: %q, %v", f, e.String(), err)
		}
		b, err := Bind(user, e)
		if err != nil {
			t.Fatalf("Bind(%q): %v", f, err)
		}
		want := evalIDs(user, b, users)
		got, q, err := db.query(testTenant, user, b)
		if err != nil {
			t.Fatalf("SQL for %q: %v\n%s", f, err, q)
		}
		if !slices.Equal(got, want) {
			failures++
			frag, args, _ := Compile(b, db.dialect(), 3)
			t.Errorf("filter %s\n eval %v\n  sql %v\n%s\n%#v", f, want, got, frag, args)
			for _, id := range symDiff(got, want) {
				for _, u := range users {
					if u.ID == id {
						body, _ := json.Marshal(u.Doc)
						t.Logf("%s: %s created %s", id, body, u.Created.Format(time.RFC3339Nano))
					}
				}
			}
		}
		switch len(want) {
		case 0:
			empty++
		case len(users):
		default:
			matched++
		}
	}
	t.Logf("%d filters: %d selected some but not all users, %d selected none", n, matched, empty)
	if matched < n/5 {
		t.Errorf("only %d of %d filters selected a proper subset; the generator is too weak", matched, n)
	}
}

func symDiff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	for _, x := range b {
		if !slices.Contains(a, x) {
			out = append(out, x)
		}
	}
	return out
}

// TestSQLMatchesEvalGroups does the same for the relational attributes:
// Group.members (the members table) and User.groups (derived through nested
// groups by a recursive query).
func TestSQLMatchesEvalGroups(t *testing.T) { forBackends(t, sqlMatchesEvalGroups) }

func sqlMatchesEvalGroups(t *testing.T, openTestDB func(testing.TB) *testDB) {
	n := 600
	if testing.Short() {
		n = 100
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	g := &propGen{r: rand.New(rand.NewPCG(seed, 11))}
	reg := testRegistry()
	user, group := reg.ResourceType("User"), reg.ResourceType("Group")
	db := openTestDB(t)
	var users, groups []*Resource
	for i := range 40 {
		users = append(users, g.user(fmt.Sprintf("u%02d", i)))
	}
	for i := range 15 {
		gr := &Resource{ID: fmt.Sprintf("g%02d", i), Doc: schema.Doc{}, Created: g.time()}
		gr.Modified = gr.Created
		if g.maybe(0.9) {
			gr.Doc["displayName"] = g.str()
		}
		for n := g.r.IntN(6); n > 0; n-- {
			var m Member
			if g.maybe(0.3) {
				m = Member{ID: fmt.Sprintf("g%02d", g.r.IntN(15)), Type: "Group"}
			} else {
				m = Member{ID: users[g.r.IntN(len(users))].ID, Type: "User"}
			}
			if m.ID != gr.ID && !slices.ContainsFunc(gr.Members, func(x Member) bool { return x.ID == m.ID }) {
				gr.Members = append(gr.Members, m)
			}
		}
		groups = append(groups, gr)
	}
	// Groups of every resource, direct and inherited, cycles included.
	direct := map[string][]string{}
	for _, gr := range groups {
		for _, m := range gr.Members {
			direct[m.ID] = append(direct[m.ID], gr.ID)
		}
	}
	closure := func(id string) []string {
		seen := map[string]bool{}
		queue := slices.Clone(direct[id])
		for len(queue) > 0 {
			x := queue[0]
			queue = queue[1:]
			if !seen[x] {
				seen[x] = true
				queue = append(queue, direct[x]...)
			}
		}
		var out []string
		for x := range seen {
			out = append(out, x)
		}
		return out
	}
	for _, u := range users {
		u.Groups = closure(u.ID)
		db.insert(testTenant, user, u)
	}
	for _, gr := range groups {
		gr.Groups = closure(gr.ID)
		db.insert(testTenant, group, gr)
	}
	ids := func(prefix string, n int) string { return fmt.Sprintf("%s%02d", prefix, g.r.IntN(n)) }
	groupLeaf := func() string {
		switch g.r.IntN(7) {
		case 0:
			return "members " + g.pick("eq", "ne", "EQ") + " " + quote(ids("u", 40))
		case 1:
			return "members.value " + g.pick("eq", "ne", "sw", "gt") + " " + quote(g.pick(ids("u", 40), ids("g", 15), "u", "g1", "U0"))
		case 2:
			return "members.type eq " + quote(g.pick("User", "group", "Group"))
		case 3:
			return "members[value eq " + quote(ids(g.pick("u", "g"), 40)) + " " + g.pick("and", "or") + " type eq " + quote(g.pick("User", "Group")) + "]"
		case 4:
			return "members " + g.pick("pr", "eq null", "ne null")
		case 5:
			return g.comparison("displayName", "string")
		}
		return g.comparison("id", "exact")
	}
	userLeaf := func() string {
		switch g.r.IntN(4) {
		case 0:
			return "groups " + g.pick("eq", "ne") + " " + quote(ids("g", 15))
		case 1:
			return "groups[value " + g.pick("eq", "sw", "lt") + " " + quote(ids("g", 15)) + "]"
		case 2:
			return "groups " + g.pick("pr", "eq null")
		}
		return g.comparison("userName", "string")
	}
	var gen func(leaf func() string, depth int) string
	gen = func(leaf func() string, depth int) string {
		if depth > 0 && g.maybe(0.5) {
			switch g.r.IntN(3) {
			case 0:
				return gen(leaf, depth-1) + " and " + gen(leaf, depth-1)
			case 1:
				return gen(leaf, depth-1) + " or " + gen(leaf, depth-1)
			}
			return "not (" + gen(leaf, depth-1) + ")"
		}
		return leaf()
	}
	for i := range n {
		rt, rs, leaf := group, groups, groupLeaf
		if i%2 == 1 {
			rt, rs, leaf = user, users, userLeaf
		}
		f := gen(leaf, 2)
		b := mustBind(t, rt, f)
		want := evalIDs(rt, b, rs)
		got, q, err := db.query(testTenant, rt, b)
		if err != nil {
			t.Fatalf("SQL for %q: %v\n%s", f, err, q)
		}
		if !slices.Equal(got, want) {
			frag, args, _ := Compile(b, db.dialect(), 3)
			t.Fatalf("%s filter %s\n eval %v\n  sql %v\n%s\n%#v", rt.Name, f, want, got, frag, args)
		}
	}
}
