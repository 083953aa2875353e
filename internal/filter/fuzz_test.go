package filter

import (
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
)

// fuzzEnv is a small database shared by the fuzz iterations of one
// process: a handful of users on which Eval and the compiled SQL must agree.
var fuzzEnv struct {
	once  sync.Once
	db    *testDB
	rt    *schema.ResourceType
	users []*Resource
	err   error
}

func fuzzSetup(tb testing.TB) {
	fuzzEnv.once.Do(func() {
		reg := testRegistry()
		fuzzEnv.rt = reg.ResourceType("User")
		// The database must outlive the iteration that opened it, so it
		// is an in-memory one, on one connection, for the process lifetime.
		fuzzEnv.db = openTestDSN(processTB{tb}, ":memory:")
		bodies := []string{
			`{"userName":"bjensen","displayName":"Babs","name":{"givenName":"Ba%b_s\\"},"emails":[{"value":"A@x.com","type":"work","primary":true},{"value":"b@y.org"}],"active":true,"title":"É","externalId":"X1",
			  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Straße","manager":{"value":"u2"}},
			  "urn:pamscim:test:2.0:Extra":{"hired":"2011-05-13T04:42:34Z","level":3,"score":1.5,"tags":["a","B"],"code":"AbC","flag":false}}`,
			`{"userName":"İpek","emails":[{"type":"home"}],"active":false,"urn:pamscim:test:2.0:Extra":{"hired":"2011-05-13T06:42:34+02:00","level":-3,"code":"abc"}}`,
			`{"userName":"a","title":"\"quoted\" 'single'","urn:pamscim:test:2.0:Extra":{"tags":["%"]}}`,
			`{}`,
		}
		for i, b := range bodies {
			d, err := schema.DecodeObject([]byte(b))
			if err != nil {
				fuzzEnv.err = err
				return
			}
			r := &Resource{ID: "u" + string(rune('1'+i)), Doc: d, Created: t0.Add(time.Duration(i) * time.Hour), Modified: t0.Add(time.Duration(i) * 90 * time.Minute)}
			fuzzEnv.users = append(fuzzEnv.users, r)
			fuzzEnv.db.insert(testTenant, fuzzEnv.rt, r)
		}
	})
	if fuzzEnv.err != nil {
		tb.Fatal(fuzzEnv.err)
	}
}

// processTB keeps the fuzz database open after the iteration that
// created it ends.
type processTB struct{ testing.TB }

func (processTB) Cleanup(func()) {}

// FuzzParse: no input panics; whatever parses prints to a canonical form
// that parses to the same tree (and prints the same again); parsing is
// fast; and whatever binds to User compiles to SQL that selects exactly
// the users Eval selects. The same input is also tried as a PATCH path.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`userName eq "bjensen"`,
		`name.familyName co "O'Malley"`,
		`userName Eq "john" and not (active eq true) or emails[type eq "work" and value co "@x"]`,
		`emails[type eq "work"].value eq "a@x.com"`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "u2"`,
		`meta.lastModified gt "2011-05-13T04:42:34Z" and meta.created le "2030-01-01T00:00:00"`,
		`title eq "\u00c9\"\\\/\b\f\n\r\t"`,
		`name eq 'Safe1'`, `externalId eq jyoung`, `active eq "true"`,
		`urn:pamscim:test:2.0:Extra:level ge -3 and urn:pamscim:test:2.0:Extra:score lt 1e1`,
		`urn:pamscim:test:2.0:Extra:tags co "%" or urn:pamscim:test:2.0:Extra:code ew "bC"`,
		`schemas eq "urn:pamscim:test:2.0:Extra"`, `emails pr`, `title eq null`,
		`members[value eq "2819c223"].display`, `((a pr))`, `not(a pr)`,
		"A eq \"\x80\"", `a eq "\ud800"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		start := time.Now()
		e, err := Parse(s)
		if d := time.Since(start); d > 100*time.Millisecond {
			// Wall time under the fuzzer includes GC and scheduling
			// pauses; only a parse that is slow every time is a finding.
			best := d
			for range 3 {
				t1 := time.Now()
				_, _ = Parse(s)
				best = min(best, time.Since(t1))
			}
			if best > 100*time.Millisecond {
				t.Errorf("Parse took %v on %d bytes", best, len(s))
			}
		}
		if pp, perr := ParsePath(s); perr == nil {
			if pp2, err := ParsePath(pp.String()); err != nil || !reflect.DeepEqual(pp, pp2) {
				t.Errorf("ParsePath(%q) = %q does not round-trip: %v", s, pp.String(), err)
			}
		} else if scimerr.KindOf(perr) != scimerr.InvalidPath {
			t.Errorf("ParsePath(%q): %v is not invalidPath", s, perr)
		}
		if err != nil {
			if scimerr.KindOf(err) != scimerr.InvalidFilter {
				t.Errorf("Parse(%q): %v is not invalidFilter", s, err)
			}
			return
		}
		canon := e.String()
		// The canonical form may be longer or nest one level deeper than
		// the input (quotes around bare words, "].sub" folded into the
		// brackets), so the limits are relaxed for the second parse.
		e2, err := parseFilter(canon, 4*MaxLength, 2*MaxDepth)
		if err != nil {
			t.Fatalf("Parse(%q) printed %q, which does not parse: %v", s, canon, err)
		}
		if !reflect.DeepEqual(e, e2) {
			t.Fatalf("Parse(%q) printed %q, which parses to %s, not %s", s, canon, sexpr(e2), sexpr(e))
		}
		if again := e2.String(); again != canon {
			t.Fatalf("String is not stable: %q then %q", canon, again)
		}

		fuzzSetup(t)
		b, err := Bind(fuzzEnv.rt, e)
		if err != nil {
			if scimerr.KindOf(err) != scimerr.InvalidFilter {
				t.Errorf("Bind(%q): %v is not invalidFilter", s, err)
			}
			return
		}
		want := evalIDs(fuzzEnv.rt, b, fuzzEnv.users)
		got, q, err := fuzzEnv.db.query(testTenant, fuzzEnv.rt, b)
		if err != nil {
			t.Fatalf("SQL for %q: %v\n%s", s, err, q)
		}
		if !slices.Equal(got, want) {
			frag, args, _ := Compile(b, SQLite, 3)
			t.Fatalf("filter %q: Eval selects %v, SQL %v\n%s\n%#v", s, want, got, frag, args)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("filter %q took %v from parse to SQL result", s, d)
		}
	})
}
