package filter

import (
	"testing"

	"github.com/pamscim/pamscim/internal/schema"
)

const benchFilter = `emails[type eq "work"].value eq "bjensen@example.com" and active eq true`

func BenchmarkBind(b *testing.B) {
	user := schema.Default().ResourceType("User")
	e, err := Parse(benchFilter)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Bind(user, e); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	user := schema.Default().ResourceType("User")
	e := mustBind(b, user, benchFilter)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Compile(e, SQLite, 3); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEval(b *testing.B) {
	user := schema.Default().ResourceType("User")
	e := mustBind(b, user, benchFilter)
	r := &Resource{ID: "1", Doc: schema.Doc{"userName": "bjensen", "active": true, "emails": []any{
		map[string]any{"value": "babs@jensen.org", "type": "home"},
		map[string]any{"value": "BJensen@example.com", "type": "work", "primary": true},
	}}}
	b.ReportAllocs()
	for b.Loop() {
		if !Eval(user, e, r) {
			b.Fatal("no match")
		}
	}
}
