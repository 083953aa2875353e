package filter

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/pamscim/pamscim/internal/schema"
)

// Resource is what Eval reads: the stored document plus the values that
// live outside it. It mirrors what the store keeps, so that Eval and the
// SQL that Compile produces see the same data.
type Resource struct {
	ID       string
	Doc      schema.Doc
	Created  time.Time
	Modified time.Time
	// Members are the members of a resource type with a RelMembers
	// attribute (Group.members).
	Members []Member
	// Groups are the ids of the groups the resource belongs to, directly
	// or through nested groups (User.groups, RelGroups).
	Groups []string
}

// schemas is not a field: it is derived from the document exactly as
// schema.Render derives it (the core schema, then every extension with a
// non-empty object), so a filter on schemas tests what the client sees.

// Member is one member of a group.
type Member struct {
	ID   string
	Type string // resource type name: "User", "Group"
}

// Eval reports whether resource r of type rt matches the bound expression
// e. It is the reference semantics; Compile must agree with it. An unbound
// expression matches nothing.
func Eval(rt *schema.ResourceType, e Expr, r *Resource) bool {
	ev := evaluator{rt: rt, r: r}
	return ev.eval(e, nil)
}

// MatchElement reports whether one value of a complex attribute (a JSON
// object, or for Group.members a map with "value" and "type") satisfies the
// bound filter of a value path. PATCH uses it to select the values that
// members[value eq "x"] or emails[type eq "work"] target.
func MatchElement(filter Expr, el map[string]any) bool {
	if el == nil {
		return false
	}
	ev := evaluator{r: &Resource{}}
	return ev.eval(filter, el)
}

type evaluator struct {
	rt *schema.ResourceType
	r  *Resource
}

// instant is a dateTime already converted to unix microseconds (meta.*).
type instant int64

func micros(t time.Time) instant { return instant(t.UnixMicro()) }

// eval evaluates e; el is the element being tested inside a value path.
func (ev *evaluator) eval(e Expr, el map[string]any) bool {
	switch x := e.(type) {
	case *LogExpr:
		if x.Op == "and" {
			return ev.eval(x.Left, el) && ev.eval(x.Right, el)
		}
		return ev.eval(x.Left, el) || ev.eval(x.Right, el)
	case *NotExpr:
		return !ev.eval(x.X, el)
	case *ValuePath:
		if !x.Path.IsBound() {
			return false
		}
		for _, m := range ev.elements(x.Path.Resolved) {
			if ev.eval(x.Filter, m) {
				return true
			}
		}
		return false
	case *AttrExpr:
		if !x.Path.IsBound() {
			return false
		}
		var vals []any
		if el != nil {
			if v, ok := el[x.Path.Resolved.Sub.Name]; ok {
				vals = []any{v}
			}
		} else {
			vals = ev.values(x.Path.Resolved)
		}
		return test(x.Op, &x.lit, vals)
	}
	return false
}

// test applies op with literal l to the values of one attribute.
func test(op string, l *literal, vals []any) bool {
	switch {
	case op == "pr":
		return anyPresent(vals)
	case l.kind == litNull:
		if op == "eq" {
			return !anyPresent(vals)
		}
		return anyPresent(vals)
	case op == "ne":
		return !test("eq", l, vals)
	}
	for _, v := range vals {
		if match(op, l, v) {
			return true
		}
	}
	return false
}

func match(op string, l *literal, v any) bool {
	switch op {
	case "co", "sw", "ew":
		s, ok := v.(string)
		if !ok || l.kind != litString {
			return false
		}
		if !l.exact {
			s = l.fold(s)
		}
		switch op {
		case "co":
			return strings.Contains(s, l.s)
		case "sw":
			return strings.HasPrefix(s, l.s)
		}
		return strings.HasSuffix(s, l.s)
	}
	c, ok := compare(l, v)
	if !ok {
		return false
	}
	switch op {
	case "eq":
		return c == 0
	case "gt":
		return c > 0
	case "ge":
		return c >= 0
	case "lt":
		return c < 0
	case "le":
		return c <= 0
	}
	return false
}

// compare compares value v with the literal; ok is false when v is not of
// the literal's type (which never matches).
func compare(l *literal, v any) (int, bool) {
	switch l.kind {
	case litString:
		s, ok := v.(string)
		if !ok {
			return 0, false
		}
		if !l.exact {
			s = l.fold(s)
		}
		return strings.Compare(s, l.s), true
	case litBool:
		b, ok := v.(bool)
		if !ok {
			return 0, false
		}
		if b == l.b {
			return 0, true
		}
		return 1, true
	case litNumber:
		n, ok := v.(json.Number)
		if !ok {
			return 0, false
		}
		x, ok := parseNumber(n)
		if !ok {
			return 0, false
		}
		return cmpNumber(x, l.num), true
	case litTime:
		var t int64
		switch x := v.(type) {
		case instant:
			t = int64(x)
		case string:
			pt, err := schema.ParseDateTime(x)
			if err != nil {
				return 0, false
			}
			t = pt.UnixMicro()
		default:
			return 0, false
		}
		switch {
		case t < l.t:
			return -1, true
		case t > l.t:
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

func anyPresent(vals []any) bool {
	for _, v := range vals {
		if present(v) {
			return true
		}
	}
	return false
}

// present is RFC 7644's "pr": non-null and not empty. Canonical documents
// hold no empty values, but a filter must not depend on that.
func present(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case string:
		return x != ""
	case map[string]any:
		return len(x) > 0
	case []any:
		return anyPresent(x)
	}
	return true
}

// values returns the values a top-level path names in the resource: one
// for a singular attribute, any number for a multi-valued one, none when
// absent.
func (ev *evaluator) values(p schema.Path) []any {
	r := ev.r
	if p.Schema == nil {
		switch p.Attr.Name {
		case "id":
			return []any{r.ID}
		case "meta":
			if p.Sub == nil {
				return []any{true} // every resource has meta
			}
			switch p.Sub.Name {
			case "created":
				return []any{micros(r.Created)}
			case "lastModified":
				return []any{micros(r.Modified)}
			case "resourceType":
				return []any{ev.rt.Name}
			}
			return nil
		case "schemas":
			return ev.schemas()
		}
	}
	if rel := ev.rt.RelationOf(p.Attr); rel != schema.RelNone {
		els := ev.relElements(rel)
		if p.Sub == nil {
			return els
		}
		out := make([]any, 0, len(els))
		for _, el := range els {
			if v, ok := el.(map[string]any)[p.Sub.Name]; ok {
				out = append(out, v)
			}
		}
		return out
	}
	v, ok := ev.container(p)[p.Attr.Name]
	if !ok {
		return nil
	}
	list := []any{v}
	if p.Attr.MultiValued {
		if l, ok := v.([]any); ok {
			list = l
		}
	}
	if p.Sub == nil {
		return list
	}
	out := make([]any, 0, len(list))
	for _, el := range list {
		m, _ := el.(map[string]any)
		if sv, ok := m[p.Sub.Name]; ok {
			out = append(out, sv)
		}
	}
	return out
}

// container is the object holding the path's attribute: the document, or
// the extension's object inside it.
func (ev *evaluator) container(p schema.Path) map[string]any {
	if p.IsExtension() {
		m, _ := ev.r.Doc[p.Schema.ID].(map[string]any)
		return m
	}
	return ev.r.Doc
}

// elements returns the values of a complex attribute as objects, for a
// value path: every element of a multi-valued one, the one value of a
// singular one.
func (ev *evaluator) elements(p schema.Path) []map[string]any {
	var list []any
	if rel := ev.rt.RelationOf(p.Attr); rel != schema.RelNone {
		list = ev.relElements(rel)
	} else {
		list = ev.values(schema.Path{Schema: p.Schema, Attr: p.Attr})
	}
	out := make([]map[string]any, 0, len(list))
	for _, v := range list {
		// An empty object has no sub-attribute to test; the SQL side
		// skips it too.
		if m, ok := v.(map[string]any); ok && len(m) > 0 {
			out = append(out, m)
		}
	}
	return out
}

// relElements presents relational values as the objects a client sees.
func (ev *evaluator) relElements(rel schema.Relation) []any {
	var out []any
	switch rel {
	case schema.RelMembers:
		for _, m := range ev.r.Members {
			el := map[string]any{"value": m.ID}
			if m.Type != "" {
				el["type"] = m.Type
			}
			out = append(out, el)
		}
	case schema.RelGroups:
		for _, id := range ev.r.Groups {
			out = append(out, map[string]any{"value": id})
		}
	}
	return out
}

// schemas derives the resource's schemas attribute as schema.Render does.
func (ev *evaluator) schemas() []any {
	out := []any{ev.rt.Schema.ID}
	for _, e := range ev.rt.Extensions {
		if m, ok := ev.r.Doc[e.Schema.ID].(map[string]any); ok && len(m) > 0 {
			out = append(out, e.Schema.ID)
		}
	}
	return out
}
