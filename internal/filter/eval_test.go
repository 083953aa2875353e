package filter

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/schema"
)

// fixture is a small tenant whose expected filter results are written out
// by hand; every case runs through Eval and through the SQL of Compile.
type fixture struct {
	users, groups []*Resource
	user, group   *schema.ResourceType
	db            *testDB
}

func newFixture(t *testing.T, openTestDB func(testing.TB) *testDB) *fixture {
	reg := testRegistry()
	f := &fixture{user: reg.ResourceType("User"), group: reg.ResourceType("Group"), db: openTestDB(t)}
	u := func(id, body string, created time.Time) *Resource {
		return &Resource{ID: id, Doc: doc(t, body), Created: created, Modified: created.Add(time.Hour)}
	}
	f.users = []*Resource{
		u("u1", `{"userName":"bjensen","displayName":"Babs Jensen","name":{"givenName":"Barbara","familyName":"Jensen"},
			"emails":[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@jensen.org","type":"home"}],
			"active":true,"title":"Tour Guide","externalId":"ext-1",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales","employeeNumber":"701984","manager":{"value":"u2"}},
			"urn:pamscim:test:2.0:Extra":{"hired":"2010-01-23T04:56:22Z","level":3,"score":4.5,"tags":["a","B"],"code":"AbC","flag":true,"badge":"TUlJ"}}`, t0),
		u("u2", `{"userName":"JSmith","displayName":"John Smith","emails":[{"value":"John@Example.com","type":"work"}],"active":false,"externalId":"EXT-2",
			"urn:pamscim:test:2.0:Extra":{"hired":"2010-01-23T05:56:22.000+01:00","level":10,"score":-1e2,"code":"abc"}}`, t0.Add(24*time.Hour)),
		u("u3", `{"userName":"Straße","name":{"givenName":"Éva"},"emails":[{"value":"x%y_z\\w@ex.org"}],
			"urn:pamscim:test:2.0:Extra":{"hired":"2012-06-01T00:00:00.5Z","tags":["b"]}}`, t0.Add(48*time.Hour)),
		u("u4", `{"userName":"İpek","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"sales"}}`, t0.Add(72*time.Hour)),
		u("u5", `{"userName":"nobody"}`, t0.Add(96*time.Hour)),
	}
	f.groups = []*Resource{
		{ID: "g1", Doc: doc(t, `{"displayName":"Admins"}`), Created: t0, Modified: t0, Members: []Member{{ID: "u1", Type: "User"}, {ID: "g2", Type: "Group"}}},
		{ID: "g2", Doc: doc(t, `{"displayName":"Ops"}`), Created: t0, Modified: t0, Members: []Member{{ID: "u2", Type: "User"}}},
		{ID: "g3", Doc: doc(t, `{"displayName":"Empty"}`), Created: t0, Modified: t0},
	}
	// Groups, direct and through nesting, as the store computes them.
	f.users[0].Groups = []string{"g1"}
	f.users[1].Groups = []string{"g1", "g2"}
	f.groups[1].Groups = []string{"g1"}
	for _, r := range f.users {
		f.db.insert(testTenant, f.user, r)
	}
	for _, r := range f.groups {
		f.db.insert(testTenant, f.group, r)
	}
	// Another tenant's look-alike must never show up.
	f.db.insert("other", f.user, &Resource{ID: "x1", Doc: doc(t, `{"userName":"bjensen","emails":[{"value":"bjensen@example.com"}]}`), Created: t0, Modified: t0})
	f.db.insert("other", f.group, &Resource{ID: "x2", Doc: doc(t, `{"displayName":"Admins"}`), Created: t0, Modified: t0, Members: []Member{{ID: "u1", Type: "User"}}})
	return f
}

func (f *fixture) check(t *testing.T, rt *schema.ResourceType, rs []*Resource, filter, want string) {
	t.Helper()
	e := mustBind(t, rt, filter)
	wantIDs := strings.Fields(want)
	if len(wantIDs) == 0 {
		wantIDs = nil
	}
	if got := evalIDs(rt, e, rs); !slices.Equal(got, wantIDs) {
		t.Errorf("Eval %s: got %v, want %v", filter, got, wantIDs)
	}
	got, q, err := f.db.query(testTenant, rt, e)
	if err != nil {
		t.Errorf("SQL %s: %v\n%s", filter, err, q)
		return
	}
	if !slices.Equal(got, wantIDs) {
		frag, args, _ := Compile(e, f.db.dialect(), 3)
		t.Errorf("SQL %s: got %v, want %v\n%s\n%#v", filter, got, wantIDs, frag, args)
	}
}

func TestEvalAndSQL(t *testing.T) { forBackends(t, evalAndSQL) }

func evalAndSQL(t *testing.T, openTestDB func(testing.TB) *testDB) {
	f := newFixture(t, openTestDB)
	users := []struct{ filter, want string }{
		// userName is caseExact=false: folded on both sides.
		{`userName eq "BJENSEN"`, "u1"},
		{`userName eq "jsmith"`, "u2"},
		{`userName eq "STRASSE"`, ""}, // strings.ToLower does not fold ß to ss
		{`userName eq "straße"`, "u3"},
		// userName compares by RFC 8265 (PRECIS): İ lower-cases to i +
		// combining dot, so "İpek" is not "IPEK" (Go's simple mapping
		// would make them one user).
		{`userName eq "IPEK"`, ""},
		{"userName eq \"i\u0307pek\"", "u4"},
		{`userName eq "ＩＰＥＫ"`, ""},
		{`userName eq "ＢＪＥＮＳＥＮ"`, "u1"}, // fullwidth is width-mapped
		{`userName sw "J"`, "u2"},
		{`userName co "ENS"`, "u1"},
		{`userName ew "H"`, "u2"},
		{`userName co ""`, "u1 u2 u3 u4 u5"},
		{`userName gt "n"`, "u3 u5"},
		{`userName le "jsmith"`, "u1 u2 u4"},
		{`userName pr`, "u1 u2 u3 u4 u5"},
		{`userName ne "bjensen"`, "u2 u3 u4 u5"},
		// externalId and id are case-exact.
		{`externalId eq "EXT-1"`, ""},
		{`externalId eq "ext-1"`, "u1"},
		{`externalId sw "EXT"`, "u2"},
		{`externalId co "xt"`, "u1"},
		{`externalId ew "-2"`, "u2"},
		{`externalId pr`, "u1 u2"},
		{`externalId eq null`, "u3 u4 u5"},
		{`externalId ne null`, "u1 u2"},
		{`externalId ne "ext-1"`, "u2 u3 u4 u5"},
		{`id eq "u3"`, "u3"},
		{`id eq "U3"`, ""},
		{`id pr`, "u1 u2 u3 u4 u5"},
		// displayName uses the folded dname column.
		{`displayName eq "babs jensen"`, "u1"},
		{`displayName co "SMITH"`, "u2"},
		{`displayName pr`, "u1 u2"},
		// Sub-attributes of a singular complex attribute.
		{`name.givenName eq "éVA"`, "u3"},
		{`name.givenName sw "bar"`, "u1"},
		{`name.familyName pr`, "u1"},
		{`name pr`, "u1 u3"},
		{`name[givenName eq "barbara" and familyName eq "jensen"]`, "u1"},
		{`name[givenName eq "barbara" and familyName eq "x"]`, ""},
		{`name[not (givenName eq "barbara")]`, "u3"},
		// Multi-valued: any value matches.
		{`emails.value eq "JOHN@example.COM"`, "u2"},
		{`emails co "example.com"`, "u1 u2"},
		{`emails.value ew ".org"`, "u1 u3"},
		{`emails.type eq "home"`, "u1"},
		{`emails.type ne "home"`, "u2 u3 u4 u5"},
		{`emails.value ne "babs@jensen.org"`, "u2 u3 u4 u5"},
		{`emails pr`, "u1 u2 u3"},
		{`emails.type pr`, "u1 u2"},
		{`emails.value pr`, "u1 u2 u3"},
		{`emails eq null`, "u4 u5"},
		// LIKE metacharacters in values are literal.
		{`emails.value co "%"`, "u3"},
		{`emails.value co "_"`, "u3"},
		{`emails.value co "\\"`, "u3"},
		{`emails.value co "x%y_z\\w"`, "u3"},
		{`emails.value sw "x_y"`, ""},
		{`userName co "%"`, ""},
		// Value paths: all conditions on the same element.
		{`emails[type eq "work" and value co "jensen.org"]`, ""},
		{`emails[type eq "home" and value co "jensen.org"]`, "u1"},
		{`emails[type eq "work"].value eq "john@example.com"`, "u2"},
		{`emails[type eq "work"].value eq "babs@jensen.org"`, ""},
		{`emails[primary eq true]`, "u1"},
		{`emails[primary eq "True"].value co "bjensen"`, "u1"},
		{`emails[not (type eq "work")]`, "u1 u3"},
		{`emails[type eq "work" or value ew ".org"]`, "u1 u2 u3"},
		{`emails[type pr]`, "u1 u2"},
		{`emails[type eq null]`, "u3"},
		{`not (emails[type eq "work"])`, "u3 u4 u5"},
		// Booleans use the active column.
		{`active eq true`, "u1"},
		{`active eq false`, "u2"},
		{`active ne true`, "u2 u3 u4 u5"},
		{`active pr`, "u1 u2"},
		{`active eq "FALSE"`, "u2"},
		// meta uses the created/modified columns.
		{`meta.created eq "2024-03-01T12:00:00Z"`, "u1"},
		{`meta.created eq "2024-03-01T13:00:00+01:00"`, "u1"},
		{`meta.created gt "2024-03-02T12:00:00Z"`, "u3 u4 u5"},
		{`meta.lastModified ge "2024-03-02T13:00:00Z"`, "u2 u3 u4 u5"},
		{`meta.lastModified lt "2024-03-02T13:00:00.001Z"`, "u1 u2"},
		{`meta.resourceType eq "User"`, "u1 u2 u3 u4 u5"},
		{`meta.resourceType eq "user"`, ""},
		{`meta pr`, "u1 u2 u3 u4 u5"},
		// schemas is derived from the document.
		{`schemas eq "urn:ietf:params:scim:schemas:core:2.0:User"`, "u1 u2 u3 u4 u5"},
		{`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, "u1 u4"},
		{`schemas ne "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`, "u2 u3 u5"},
		{`schemas co "test"`, "u1 u2 u3"},
		{`schemas pr`, "u1 u2 u3 u4 u5"},
		{`schemas eq "urn:nope"`, ""},
		// The enterprise extension, URN-qualified, any case.
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "SALES"`, "u1 u4"},
		{`URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER eq "701984"`, "u1"},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "u2"`, "u1"},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "u2"`, "u1"},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value eq "u2"]`, "u1"},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager pr`, "u1"},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department ne "sales"`, "u2 u3 u5"},
		// dateTime inside the document compares as instants.
		{`urn:pamscim:test:2.0:Extra:hired eq "2010-01-23T04:56:22Z"`, "u1 u2"},
		{`urn:pamscim:test:2.0:Extra:hired gt "2010-01-23T04:56:22Z"`, "u3"},
		{`urn:pamscim:test:2.0:Extra:hired lt "2012-06-01T00:00:01Z"`, "u1 u2 u3"},
		{`urn:pamscim:test:2.0:Extra:hired le "2012-06-01T00:00:00.4Z"`, "u1 u2"},
		// Numbers compare numerically.
		{`urn:pamscim:test:2.0:Extra:level gt 9`, "u2"},
		{`urn:pamscim:test:2.0:Extra:level lt 10`, "u1"},
		{`urn:pamscim:test:2.0:Extra:level eq 3`, "u1"},
		{`urn:pamscim:test:2.0:Extra:score gt -100.5`, "u1 u2"},
		{`urn:pamscim:test:2.0:Extra:score lt 0`, "u2"},
		{`urn:pamscim:test:2.0:Extra:score eq -100`, "u2"},
		{`urn:pamscim:test:2.0:Extra:score ge 4.5`, "u1"},
		// A multi-valued string attribute.
		{`urn:pamscim:test:2.0:Extra:tags eq "b"`, "u1 u3"},
		{`urn:pamscim:test:2.0:Extra:tags sw "A"`, "u1"},
		{`urn:pamscim:test:2.0:Extra:tags pr`, "u1 u3"},
		{`urn:pamscim:test:2.0:Extra:tags ne "a"`, "u2 u3 u4 u5"},
		// A case-exact string: no folding, and co/sw/ew without LIKE.
		{`urn:pamscim:test:2.0:Extra:code eq "abc"`, "u2"},
		{`urn:pamscim:test:2.0:Extra:code co "b"`, "u1 u2"},
		{`urn:pamscim:test:2.0:Extra:code co "B"`, ""},
		{`urn:pamscim:test:2.0:Extra:code sw "A"`, "u1"},
		{`urn:pamscim:test:2.0:Extra:code ew "C"`, "u1"},
		{`urn:pamscim:test:2.0:Extra:code ew "bC"`, "u1"},
		{`urn:pamscim:test:2.0:Extra:code ew "xAbC"`, ""},
		{`urn:pamscim:test:2.0:Extra:code gt "B"`, "u2"},
		// Boolean and binary in the document.
		{`urn:pamscim:test:2.0:Extra:flag eq true`, "u1"},
		{`urn:pamscim:test:2.0:Extra:flag ne true`, "u2 u3 u4 u5"},
		{`urn:pamscim:test:2.0:Extra:badge eq "TUlJ"`, "u1"},
		{`urn:pamscim:test:2.0:Extra:badge eq "tulj"`, ""},
		// Groups, direct and indirect.
		{`groups eq "g1"`, "u1 u2"},
		{`groups.value eq "g2"`, "u2"},
		{`groups[value eq "g2"]`, "u2"},
		{`groups pr`, "u1 u2"},
		{`groups ne "g2"`, "u1 u3 u4 u5"},
		// Logic.
		{`userName eq "bjensen" or userName eq "jsmith" and active eq true`, "u1"},
		{`(userName eq "bjensen" or userName eq "jsmith") and active eq false`, "u2"},
		{`not (active eq true) and not (emails pr)`, "u4 u5"},
		{`not (not (title pr))`, "u1"},
		{`not (title eq "x")`, "u1 u2 u3 u4 u5"},
		{`not (title pr or active pr)`, "u3 u4 u5"},
		{`title pr and not (title eq "tour guide")`, ""},
	}
	for _, tt := range users {
		f.check(t, f.user, f.users, tt.filter, tt.want)
	}
	groups := []struct{ filter, want string }{
		{`members eq "u1"`, "g1"},
		{`members.value eq "U1"`, ""}, // ids are case-exact
		{`members[value eq "u2" and type eq "user"]`, "g2"},
		{`members[value eq "g2" and type eq "User"]`, ""},
		{`members.type eq "Group"`, "g1"},
		{`members pr`, "g1 g2"},
		{`members eq null`, "g3"},
		{`members ne "u2"`, "g1 g3"},
		{`id eq "g1" and members eq "u1"`, "g1"},
		{`id eq "g2" and members eq "u1"`, ""},
		{`displayName eq "ADMINS"`, "g1"},
		{`displayName sw "o"`, "g2"},
	}
	for _, tt := range groups {
		f.check(t, f.group, f.groups, tt.filter, tt.want)
	}
}

// Compile refuses what was not bound rather than compiling it wrongly.
func TestCompileUnbound(t *testing.T) {
	e, _ := Parse(`userName eq "x"`)
	if _, _, err := Compile(e, SQLite, 1); err == nil {
		t.Fatal("Compile accepted an unbound expression")
	}
	if Eval(testRegistry().ResourceType("User"), e, &Resource{Doc: schema.Doc{"userName": "x"}}) {
		t.Fatal("Eval matched an unbound expression")
	}
}

// No value ever reaches the SQL text.
func TestCompileBindsValues(t *testing.T) {
	user := testRegistry().ResourceType("User")
	f := `userName eq "Robert'); DROP TABLE resources;--" or emails[type eq "a'b" and value co "%'"] or title sw "x\"y" or urn:pamscim:test:2.0:Extra:code ew "'--"`
	sqlText, args, err := Compile(mustBind(t, user, f), SQLite, 7)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"Robert", "DROP", "a'b", `x"y`, "'--"} {
		if strings.Contains(sqlText, bad) {
			t.Errorf("SQL contains %q: %s", bad, sqlText)
		}
	}
	if !strings.Contains(sqlText, "?7") || strings.Contains(sqlText, "?6") || len(args) == 0 {
		t.Errorf("placeholders do not start at ?7: %s %v", sqlText, args)
	}
	for i := 7; i < 7+len(args); i++ {
		if !strings.Contains(sqlText, "?"+strconv.Itoa(i)) {
			t.Errorf("placeholder ?%d unused: %s", i, sqlText)
		}
	}
}
