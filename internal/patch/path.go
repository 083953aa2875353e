package patch

import (
	"strings"
	"sync"

	"github.com/pamscim/pamscim/internal/filter"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
)

// target is a resolved PATCH target.
type target struct {
	// p is the attribute (and sub-attribute) the operation writes. p.Attr is
	// nil when the path names a whole extension schema.
	p schema.Path
	// filter is the bound value filter, relative to p.Attr; nil if none.
	filter filter.Expr
	// simple says that p.Attr is a multi-valued attribute of a simple type
	// (rights: ["List","View"]); its filter was bound against a wrapper in
	// which each value is the "value" sub-attribute of an object, so
	// elements are tested as {"value": v}.
	simple bool
	// pathless says the target comes from a path-less value object, where
	// read-only attributes are ignored rather than refused (Okta sends "id").
	pathless bool
}

// resolvePath resolves an operation path. Beyond RFC 7644 it accepts two
// client dialects:
//   - an unqualified name that only an extension defines ("manager", which
//     Entra sends for the enterprise manager);
//   - a dot instead of a colon between a schema URN and the attribute
//     ("urn:…:cyberark:1.0:PrivilegedData.properties", Netwrix in CyberArk
//     syntax mode).
//
// A malformed or unknown path is InvalidPath; a malformed or unbindable
// filter inside the brackets is InvalidFilter (RFC 7644 §3.12 lists
// invalidFilter for PATCH path filters).
func resolvePath(rt *schema.ResourceType, s string) (target, error) {
	s = dotURN(rt, s)
	pp, err := filter.ParsePath(s)
	if err != nil {
		return target{}, filterError(rt, s, err)
	}
	p, err := resolveAttr(rt, pp.Attr.String())
	if err != nil {
		return target{}, err
	}
	if pp.Filter == nil {
		return target{p: p}, nil
	}
	switch {
	case p.Attr == nil:
		return target{}, scimerr.New(scimerr.InvalidPath, "path %q: a schema cannot have a value filter", s)
	case p.Sub != nil:
		return target{}, scimerr.New(scimerr.InvalidPath, "path %q: a value filter applies to an attribute, not to the sub-attribute %s", s, p.String())
	case !p.Attr.IsComplex() && !p.Attr.MultiValued:
		return target{}, scimerr.New(scimerr.InvalidPath, "path %q: %s is single-valued and simple, so it cannot have a value filter", s, p.String())
	}
	t := target{p: p}
	ap := filter.AttrPath{Attr: p.Attr.Name}
	bindRT := rt
	if p.IsExtension() {
		ap.URI = p.Schema.ID
	}
	if !p.Attr.IsComplex() {
		bindRT, ap, t.simple = simpleWrapper(p.Attr), filter.AttrPath{Attr: p.Attr.Name}, true
	}
	bound, err := filter.Bind(bindRT, &filter.ValuePath{Path: ap, Filter: pp.Filter})
	if err != nil {
		return target{}, err
	}
	vp, ok := bound.(*filter.ValuePath)
	if !ok {
		return target{}, scimerr.New(scimerr.Internal, "filter.Bind returned %T for a value path", bound)
	}
	t.filter = vp.Filter
	if pp.Sub != "" {
		if t.simple {
			return target{}, scimerr.New(scimerr.InvalidPath, "path %q: %s has no sub-attributes", s, p.String())
		}
		sub := p.Attr.Sub(pp.Sub)
		if sub == nil {
			return target{}, scimerr.New(scimerr.InvalidPath, "path %q: %s has no sub-attribute %q", s, p.String(), pp.Sub)
		}
		t.p.Sub = sub
	}
	return t, nil
}

// resolveAttr resolves a plain attribute path, falling back to the resource
// type's extensions for an unqualified name the core schema lacks, when
// exactly one extension defines it.
func resolveAttr(rt *schema.ResourceType, s string) (schema.Path, error) {
	p, err := rt.ResolvePath(s)
	if err == nil || strings.Contains(s, ":") {
		return p, err
	}
	var found []schema.Path
	for _, e := range rt.Extensions {
		if q, e2 := rt.ResolvePath(e.Schema.ID + ":" + s); e2 == nil {
			found = append(found, q)
		}
	}
	if len(found) == 1 {
		return found[0], nil
	}
	return p, err
}

// dotURN rewrites "<schema URN>.attr" to "<schema URN>:attr" for the
// resource type's own schemas, the only case where the dot form is
// unambiguous.
func dotURN(rt *schema.ResourceType, s string) string {
	for _, sch := range rt.Schemas() {
		n := len(sch.ID)
		if len(s) > n+1 && s[n] == '.' && strings.EqualFold(s[:n], sch.ID) {
			return sch.ID + ":" + s[n+1:]
		}
	}
	return s
}

// filterError reports a path that did not parse. When the part before "["
// is a valid attribute and the bracketed text is not a valid filter, the
// problem is the filter, and the error says so with the filter parser's
// message.
func filterError(rt *schema.ResourceType, s string, perr error) error {
	i := strings.IndexByte(s, '[')
	j := strings.LastIndexByte(s, ']')
	if i <= 0 || j <= i {
		return perr
	}
	if _, err := resolveAttr(rt, strings.TrimSpace(s[:i])); err != nil {
		return perr
	}
	if _, err := filter.Parse(s[i+1 : j]); err != nil {
		return err
	}
	return perr
}

// simpleWrappers caches, per multi-valued simple attribute, a one-attribute
// resource type in which the attribute is complex with a single "value"
// sub-attribute of the same type and case sensitivity. Binding a filter such
// as rights[value eq "View"] against it reuses the filter package's binding
// and evaluation (lenient literals, case folding) for scalar elements, which
// filter.Bind refuses on a non-complex attribute. The cache holds one entry
// per schema attribute, so it is bounded by the registry.
var simpleWrappers sync.Map // *schema.Attribute → *schema.ResourceType

func simpleWrapper(a *schema.Attribute) *schema.ResourceType {
	if v, ok := simpleWrappers.Load(a); ok {
		return v.(*schema.ResourceType)
	}
	val := &schema.Attribute{
		Name: "value", Type: a.Type, CaseExact: a.CaseExact,
		CanonicalValues: a.CanonicalValues, ReferenceTypes: a.ReferenceTypes,
	}
	wrap := &schema.Attribute{Name: a.Name, Type: schema.TypeComplex, MultiValued: true, SubAttributes: []*schema.Attribute{val}}
	s := &schema.Schema{ID: "urn:pamscim:patch:simple", Name: "simple", Attributes: []*schema.Attribute{wrap}}
	reg := schema.NewRegistry()
	reg.AddSchema(s, false)
	rt := &schema.ResourceType{Name: "simple", Schema: s}
	reg.AddResourceType(rt)
	v, _ := simpleWrappers.LoadOrStore(a, rt)
	return v.(*schema.ResourceType)
}

// matches reports whether element el of the target attribute satisfies the
// target's filter.
func (t *target) matches(el any) bool {
	if t.simple {
		return filter.MatchElement(t.filter, map[string]any{"value": el})
	}
	m, ok := el.(map[string]any)
	return ok && filter.MatchElement(t.filter, m)
}

// eqValues returns the sub-attribute values a filter pins with eq, when the
// filter is nothing but a conjunction of such comparisons
// (type eq "work" and primary eq true). add and replace use them to create
// the element a value path names when none matches, as Entra expects.
func eqValues(e filter.Expr) (map[string]any, bool) {
	out := map[string]any{}
	var walk func(e filter.Expr) bool
	walk = func(e filter.Expr) bool {
		switch x := e.(type) {
		case *filter.LogExpr:
			return x.Op == "and" && walk(x.Left) && walk(x.Right)
		case *filter.AttrExpr:
			sub := x.Path.Resolved.Sub
			if x.Op != "eq" || x.Value == nil || sub == nil {
				return false
			}
			if prev, dup := out[sub.Name]; dup && !schema.Equal(prev, x.Value) {
				return false // type eq "a" and type eq "b" names nothing
			}
			out[sub.Name] = x.Value
			return true
		}
		return false
	}
	if e == nil || !walk(e) {
		return nil, false
	}
	return out, true
}

// memberIDs returns the ids a members filter names when it is only
// value eq "id" comparisons joined by or (Okta, Entra with the flag, the
// Azure reference collection); then removal needs no read of the member
// list. ok is false for any other filter.
func memberIDs(e filter.Expr) ([]string, bool) {
	var ids []string
	var walk func(e filter.Expr) bool
	walk = func(e filter.Expr) bool {
		switch x := e.(type) {
		case *filter.LogExpr:
			return x.Op == "or" && walk(x.Left) && walk(x.Right)
		case *filter.AttrExpr:
			sub := x.Path.Resolved.Sub
			s, isStr := x.Value.(string)
			if x.Op != "eq" || !isStr || sub == nil || sub.Name != "value" {
				return false
			}
			ids = append(ids, s)
			return true
		}
		return false
	}
	if e == nil || !walk(e) {
		return nil, false
	}
	return ids, true
}
