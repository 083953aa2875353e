package patch

import (
	"context"
	"sort"
	"strings"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// Apply applies ops in order to cur (RFC 7644 §3.5.2) and reports whether
// the resource changed and which attributes the operations named.
//
// The operations work on a deep copy of cur.Doc, which replaces cur.Doc only
// when every operation succeeded and the result differs, so a failing
// operation leaves the document untouched. Membership changes go straight to
// tx, inside the store's transaction; the caller rolls that back when Apply
// returns an error. changed is false when the document and the membership
// end up as they were, so the store keeps meta.version and lastModified.
// touched lists the attributes (and sub-attributes) the operations named,
// for returned:"request" projection of the response.
//
// Apply may run more than once for one request (the store retries
// serialisation failures); it does not modify ops.
func Apply(ctx context.Context, rt *schema.ResourceType, cur *store.Resource, ops []Op, tx store.Tx) (changed bool, touched []*schema.Attribute, err error) {
	a := &applier{ctx: ctx, rt: rt, tx: tx, doc: schema.Doc{}, seen: map[*schema.Attribute]bool{}, dirty: map[*schema.Attribute]bool{}}
	if cur.Doc != nil {
		a.doc = deepCopy(cur.Doc).(map[string]any)
	}
	for i, op := range ops {
		if err := a.apply(op); err != nil {
			return false, nil, opError(i+1, op, err)
		}
	}
	if err := a.finish(); err != nil {
		return false, nil, err
	}
	changed = a.relChanged || !schema.Equal(cur.Doc, a.doc)
	if changed {
		cur.Doc = a.doc
	}
	return changed, a.touched, nil
}

// opError prefixes a typed error with the operation it came from.
func opError(n int, op Op, err error) error {
	se, ok := err.(*scimerr.Error)
	if !ok || se.Kind == scimerr.Internal {
		return err
	}
	where := op.Op
	if op.Path != "" {
		where += " " + truncate(op.Path, 100)
	}
	return scimerr.New(se.Kind, "operation %d (%s): %s", n, where, se.Detail)
}

type applier struct {
	ctx context.Context
	rt  *schema.ResourceType
	tx  store.Tx
	doc schema.Doc

	touched    []*schema.Attribute
	seen       map[*schema.Attribute]bool
	dirty      map[*schema.Attribute]bool // top-level attributes written, re-normalised by finish
	relChanged bool
}

func (a *applier) touch(attrs ...*schema.Attribute) {
	for _, at := range attrs {
		if at != nil && !a.seen[at] {
			a.seen[at] = true
			a.touched = append(a.touched, at)
		}
	}
}

func (a *applier) apply(op Op) error {
	name := strings.ToLower(op.Op)
	switch name {
	case OpAdd, OpRemove, OpReplace:
	default:
		return scimerr.New(scimerr.InvalidSyntax, "unknown op %q; use add, remove or replace", truncate(op.Op, 40))
	}
	if op.Path == "" {
		if name == OpRemove {
			return scimerr.New(scimerr.NoTarget, "remove needs a path")
		}
		obj, ok := op.Value.(map[string]any)
		if !ok {
			return scimerr.New(scimerr.InvalidSyntax, "without a path, the value of %s must be an object of attributes, not %s", name, jsonText(op.Value))
		}
		items, err := a.pathless(obj)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := a.applyTarget(name, it.t, it.v); err != nil {
				return err
			}
		}
		return nil
	}
	t, err := resolvePath(a.rt, op.Path)
	if err != nil {
		return err
	}
	return a.applyTarget(name, t, op.Value)
}

type item struct {
	t target
	v any
}

// pathless resolves the keys of a path-less value object. Each key is an
// attribute path in its own right: a plain name, a dotted sub-attribute
// ("name.givenName", Entra with aadOptscim062020, SailPoint), a
// URN-qualified name ("urn:…:enterprise:2.0:User:employeeNumber"), or a
// schema URN whose value is an object of that schema's attributes (RFC
// form). Read-only attributes (Okta sends "id") and names the server does
// not define are ignored, as they are on POST and PUT. Keys are taken in
// sorted order so the result does not depend on map iteration.
func (a *applier) pathless(obj map[string]any) ([]item, error) {
	var out []item
	add := func(p schema.Path, v any) {
		if p.Attr == nil || isReadOnly(p) || isSchemas(p) {
			return
		}
		out = append(out, item{t: target{p: p, pathless: true}, v: v})
	}
	for _, k := range sortedKeys(obj) {
		v := obj[k]
		var sch *schema.Schema
		if e := a.rt.Extension(k); e != nil {
			sch = e.Schema
		} else if strings.EqualFold(k, a.rt.Schema.ID) {
			sch = a.rt.Schema
		}
		if sch != nil {
			if v == nil {
				continue
			}
			inner, ok := v.(map[string]any)
			if !ok {
				return nil, scimerr.New(scimerr.InvalidValue, "the value of %s must be an object of its attributes", sch.ID)
			}
			for _, ik := range sortedKeys(inner) {
				if p, err := a.rt.ResolvePath(sch.ID + ":" + ik); err == nil {
					add(p, inner[ik])
				}
			}
			continue
		}
		if p, err := resolveAttr(a.rt, dotURN(a.rt, k)); err == nil {
			add(p, v)
		}
	}
	return out, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func isReadOnly(p schema.Path) bool {
	return p.Attr.Mutability == schema.ReadOnly || (p.Sub != nil && p.Sub.Mutability == schema.ReadOnly)
}

// isSchemas: "schemas" is derived from the extensions that have values when
// a resource is written (the Doc does not hold it), so writing it has no
// effect. An attribute added by its URN-qualified name puts its extension
// into schemas implicitly, as RFC 7644 §3.5.2 says.
func isSchemas(p schema.Path) bool {
	return p.Schema == nil && p.Attr != nil && p.Attr.Name == "schemas"
}

// applyTarget applies one operation to one resolved target.
func (a *applier) applyTarget(op string, t target, v any) error {
	p := t.p
	if p.Attr == nil {
		return a.applyExtension(op, p.Schema, v)
	}
	if isSchemas(p) {
		return nil
	}
	if isReadOnly(p) {
		if t.pathless {
			return nil
		}
		return scimerr.New(scimerr.Mutability, "attribute %s is read-only", p.String())
	}
	a.touch(p.Attr, p.Sub)
	switch a.rt.RelationOf(p.Attr) {
	case schema.RelNone:
	case schema.RelMembers:
		return a.members(op, t, v)
	default:
		return scimerr.New(scimerr.Mutability, "attribute %s is read-only", p.String())
	}
	at := p.Attr
	c := a.container(p, op != OpRemove)
	if c == nil {
		// remove from an extension the resource does not have
		if at.Required {
			return scimerr.New(scimerr.Mutability, "attribute %s is required and cannot be removed", p.String())
		}
		return nil
	}
	var before any
	if hasImmutable(at) {
		before = deepCopy(c[at.Name])
	}
	var err error
	switch op {
	case OpAdd:
		err = a.write(OpAdd, t, c, v)
	case OpReplace:
		err = a.write(OpReplace, t, c, v)
	case OpRemove:
		err = a.remove(t, c, v)
	}
	if err != nil {
		return err
	}
	a.dirty[at] = true
	after, present := c[at.Name]
	if p.IsExtension() && len(c) == 0 {
		delete(a.doc, p.Schema.ID)
	}
	if at.Required && !present {
		return scimerr.New(scimerr.Mutability, "attribute %s is required and cannot be removed", p.Attr.FullPath())
	}
	return checkImmutable(at, before, after)
}

// applyExtension handles a path that names a whole extension schema: add
// and replace take an object of the extension's attributes, remove clears
// every attribute of the extension.
func (a *applier) applyExtension(op string, sch *schema.Schema, v any) error {
	if op == OpRemove || v == nil {
		if op == OpAdd {
			return nil
		}
		for _, at := range sch.Attributes {
			if at.Mutability == schema.ReadOnly {
				continue
			}
			p := schema.Path{Schema: sch, Attr: at}
			if err := a.applyTarget(OpRemove, target{p: p}, nil); err != nil {
				return err
			}
		}
		return nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return scimerr.New(scimerr.InvalidValue, "the value of %s must be an object of its attributes", sch.ID)
	}
	items, err := a.pathless(map[string]any{sch.ID: obj})
	if err != nil {
		return err
	}
	for _, it := range items {
		if err := a.applyTarget(op, it.t, it.v); err != nil {
			return err
		}
	}
	return nil
}

// container returns the object that holds the path's attribute: the
// document, or the extension's object in it (created when create is set).
func (a *applier) container(p schema.Path, create bool) map[string]any {
	if !p.IsExtension() {
		return a.doc
	}
	m, ok := a.doc[p.Schema.ID].(map[string]any)
	if !ok {
		if !create {
			return nil
		}
		m = map[string]any{}
		a.doc[p.Schema.ID] = m
	}
	return m
}

// finish re-normalises every attribute the operations wrote, which removes
// duplicate values and empty objects and type-checks what was assembled
// piecewise, and then checks required attributes on the whole result.
func (a *applier) finish() error {
	for _, at := range a.touched { // touched, not dirty: a stable order for error messages
		if !a.dirty[at] {
			continue
		}
		c := a.doc
		if at.Schema != nil && at.Schema.IsExtension() {
			c, _ = a.doc[at.Schema.ID].(map[string]any)
			if c == nil {
				continue
			}
		}
		v, ok := c[at.Name]
		if !ok {
			continue
		}
		nv, err := schema.NormalizeValue(at, v)
		if err != nil {
			return err
		}
		if nv == nil {
			delete(c, at.Name)
		} else {
			c[at.Name] = nv
		}
	}
	for _, e := range a.rt.Extensions {
		if m, ok := a.doc[e.Schema.ID].(map[string]any); ok && len(m) == 0 {
			delete(a.doc, e.Schema.ID)
		}
	}
	// Relational attributes are not in the document; count them present so
	// CheckRequired judges only what Apply can change here.
	rel := map[*schema.Attribute][]any{}
	for at := range a.rt.Relations {
		rel[at] = nil
	}
	return a.rt.CheckRequired(a.doc, rel)
}

func hasImmutable(at *schema.Attribute) bool {
	if at.Mutability == schema.Immutable {
		return true
	}
	for _, s := range at.SubAttributes {
		if s.Mutability == schema.Immutable {
			return true
		}
	}
	return false
}

// checkImmutable refuses a change to an immutable value that was set. RFC
// 7644 §3.5.2 lets a client add a value to an immutable attribute that has
// none. For a singular complex attribute the check applies to each immutable
// sub-attribute; values of multi-valued attributes have no identity, so
// their immutable sub-attributes are not tracked one by one.
func checkImmutable(at *schema.Attribute, before, after any) error {
	if before == nil {
		return nil
	}
	if at.Mutability == schema.Immutable && !schema.Equal(before, after) {
		return scimerr.New(scimerr.Mutability, "attribute %s is immutable and already has a value", at.FullPath())
	}
	if at.MultiValued || !at.IsComplex() {
		return nil
	}
	bm, _ := before.(map[string]any)
	am, _ := after.(map[string]any)
	for _, s := range at.SubAttributes {
		if s.Mutability != schema.Immutable {
			continue
		}
		if bv, ok := bm[s.Name]; ok && !schema.Equal(bv, am[s.Name]) {
			return scimerr.New(scimerr.Mutability, "attribute %s is immutable and already has a value", s.FullPath())
		}
	}
	return nil
}

// deepCopy copies a canonical JSON value so that operations never write
// into the stored document or into an operation's value.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = deepCopy(e)
		}
		return l
	}
	return v
}
