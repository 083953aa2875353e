package patch

import (
	"strings"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
)

// write applies add or replace to a document attribute held in container c.
func (a *applier) write(op string, t target, c map[string]any, v any) error {
	at := t.p.Attr
	switch {
	case t.filter != nil:
		return a.writeFiltered(op, t, c, v)
	case t.p.Sub != nil:
		return writeSub(op, at, t.p.Sub, c, v)
	case at.MultiValued:
		if op == OpAdd {
			return appendValues(at, c, v)
		}
		nv, err := schema.NormalizeValue(at, v)
		if err != nil {
			return err
		}
		setOrDelete(c, at.Name, nv)
		return nil
	case at.IsComplex():
		return mergeComplex(op, at, c, v)
	}
	nv, err := schema.NormalizeValue(at, unwrap(at, v))
	if err != nil {
		return err
	}
	if nv == nil && op == OpAdd {
		return nil // nothing to add
	}
	// replace with null or "" clears (Entra's SCIM_Null_Update_Test).
	setOrDelete(c, at.Name, nv)
	return nil
}

func setOrDelete(c map[string]any, name string, v any) {
	if v == nil {
		delete(c, name)
		return
	}
	c[name] = v
}

// unwrap accepts a one-element array for a single-valued attribute: Entra's
// older manager form is {"path":"manager","value":[{"value":"id"}]}. An
// empty array is no value.
func unwrap(at *schema.Attribute, v any) any {
	if at.MultiValued {
		return v
	}
	if l, ok := v.([]any); ok {
		switch len(l) {
		case 0:
			return nil
		case 1:
			return l[0]
		}
	}
	return v
}

// one is unwrap for one value of a multi-valued attribute, which a value
// path addresses: emails[type eq "work"] with [{"value":"x"}] means that
// one object.
func one(v any) any {
	if l, ok := v.([]any); ok {
		switch len(l) {
		case 0:
			return nil
		case 1:
			return l[0]
		}
	}
	return v
}

// isEmpty reports whether v means "no value": null, "", [] or {}.
func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		for _, e := range x {
			if !isEmpty(e) {
				return false
			}
		}
		return true
	case map[string]any:
		for _, e := range x {
			if !isEmpty(e) {
				return false
			}
		}
		return true
	}
	return false
}

// asObject returns the object form of a value for a complex attribute. A
// scalar stands for the "value" sub-attribute (Entra sends the enterprise
// manager as a bare id). nil means no value.
func asObject(at *schema.Attribute, v any) (map[string]any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return x, nil
	case []any:
		return nil, scimerr.New(scimerr.InvalidValue, "attribute %s takes one object here, not an array", at.FullPath())
	case string:
		if x == "" && at.Sub("value") != nil {
			return nil, nil
		}
	}
	if at.Sub("value") == nil {
		return nil, scimerr.New(scimerr.InvalidValue, "attribute %s must be a JSON object", at.FullPath())
	}
	return map[string]any{"value": v}, nil
}

// mergeInto sets the sub-attributes given in obj on el (a fresh copy is
// returned). RFC 7644 §3.5.2.1 and §3.5.2.3: sub-attributes not given are
// kept. On replace a sub-attribute given as null or "" is cleared; on add it
// is ignored. Unknown and read-only sub-attributes are ignored, as on POST.
// When the "value" changes and no new "$ref" is given, the old "$ref" is
// dropped: it pointed at the old value (replacing a manager id must not keep
// the previous manager's URI).
func mergeInto(op string, at *schema.Attribute, el, obj map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(el)+len(obj))
	for k, x := range el {
		out[k] = x
	}
	refGiven := false
	for _, k := range sortedKeys(obj) {
		sa := at.Sub(k)
		if sa == nil || sa.Mutability == schema.ReadOnly {
			continue
		}
		nv, err := schema.NormalizeValue(sa, unwrap(sa, obj[k]))
		if err != nil {
			return nil, err
		}
		if sa.Name == "$ref" && nv != nil {
			refGiven = true
		}
		if nv == nil {
			if op == OpReplace {
				delete(out, sa.Name)
			}
			continue
		}
		out[sa.Name] = nv
	}
	if !refGiven && !schema.Equal(el["value"], out["value"]) {
		delete(out, "$ref")
	}
	return out, nil
}

// mergeComplex applies add or replace to a singular complex attribute.
func mergeComplex(op string, at *schema.Attribute, c map[string]any, v any) error {
	obj, err := asObject(at, unwrap(at, v))
	if err != nil {
		return err
	}
	if len(obj) == 0 {
		if op == OpReplace {
			delete(c, at.Name) // replace with null, "" or {} clears
		}
		return nil
	}
	cur, _ := c[at.Name].(map[string]any)
	out, err := mergeInto(op, at, cur, obj)
	if err != nil {
		return err
	}
	setOrDelete(c, at.Name, emptyToNil(out))
	return nil
}

func emptyToNil(m map[string]any) any {
	if len(m) == 0 {
		return nil
	}
	return m
}

// appendValues is add on a multi-valued attribute: the values are appended,
// and a value already present is not added twice (RFC 7644 §3.5.2.1). A
// value that differs from a present one only by "primary" updates that one.
func appendValues(at *schema.Attribute, c map[string]any, v any) error {
	nv, err := schema.NormalizeValue(at, v)
	if err != nil || nv == nil {
		return err
	}
	list := cloneList(c[at.Name])
	var written []int
	for _, el := range nv.([]any) {
		i := indexSameIgnoringPrimary(list, el)
		switch {
		case i < 0:
			list = append(list, el)
			written = append(written, len(list)-1)
		case isPrimary(el) && !isPrimary(list[i]):
			m := cloneMap(list[i])
			m["primary"] = true
			list[i] = m
			written = append(written, i)
		}
	}
	if err := demote(at, list, written); err != nil {
		return err
	}
	c[at.Name] = list
	return nil
}

func cloneList(v any) []any {
	l, _ := v.([]any)
	return append([]any(nil), l...)
}

func cloneMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	out := make(map[string]any, len(m)+1)
	for k, x := range m {
		out[k] = x
	}
	return out
}

func isPrimary(v any) bool {
	m, ok := v.(map[string]any)
	return ok && m["primary"] == true
}

func indexSameIgnoringPrimary(list []any, el any) int {
	em, isMap := el.(map[string]any)
	for i, x := range list {
		if !isMap {
			if schema.Equal(x, el) {
				return i
			}
			continue
		}
		xm, ok := x.(map[string]any)
		if ok && equalExcept(xm, em, "primary") {
			return i
		}
	}
	return -1
}

func equalExcept(x, y map[string]any, skip string) bool {
	n := 0
	for k, v := range x {
		if k == skip {
			continue
		}
		n++
		if w, ok := y[k]; !ok || !schema.Equal(v, w) {
			return false
		}
	}
	m := 0
	for k := range y {
		if k != skip {
			m++
		}
	}
	return n == m
}

// demote enforces RFC 7643 §2.4: when an operation made one of the values
// at the written indexes primary, every other value stops being primary.
// Making two values primary in one operation is an error.
func demote(at *schema.Attribute, list []any, written []int) error {
	keep := -1
	for _, i := range written {
		if isPrimary(list[i]) {
			if keep >= 0 && keep != i {
				return scimerr.New(scimerr.InvalidValue, "attribute %s: at most one value may be primary", at.FullPath())
			}
			keep = i
		}
	}
	if keep < 0 {
		return nil
	}
	for i, x := range list {
		if i != keep && isPrimary(x) {
			m := cloneMap(x)
			m["primary"] = false
			list[i] = m
		}
	}
	return nil
}

// writeSub is add or replace of attr.sub without a filter.
func writeSub(op string, at, sub *schema.Attribute, c map[string]any, v any) error {
	nv, err := schema.NormalizeValue(sub, unwrap(sub, v))
	if err != nil {
		return err
	}
	if nv == nil && op == OpAdd {
		return nil
	}
	if !at.MultiValued {
		cur, _ := c[at.Name].(map[string]any)
		if cur == nil && nv == nil {
			return nil
		}
		out := cloneMap(cur)
		setOrDelete(out, sub.Name, nv)
		if sub.Name == "value" && !schema.Equal(cur["value"], out["value"]) {
			delete(out, "$ref")
		}
		setOrDelete(c, at.Name, emptyToNil(out))
		return nil
	}
	// A multi-valued attribute without a filter: "emails.value" is what
	// SailPoint maps emails[0].value to, so it names the primary value, or
	// the first, or a new one when there is none.
	list := cloneList(c[at.Name])
	i := primaryOrFirst(list)
	if i < 0 {
		if nv == nil {
			return nil
		}
		list = append(list, map[string]any{})
		i = len(list) - 1
	}
	m := cloneMap(list[i])
	setOrDelete(m, sub.Name, nv)
	list[i] = m
	// demote before dropping empty values: it never empties one, and the
	// index of the written value is still valid.
	if err := demote(at, list, []int{i}); err != nil {
		return err
	}
	setOrDelete(c, at.Name, listOrNil(dropEmpty(list)))
	return nil
}

func primaryOrFirst(list []any) int {
	for i, x := range list {
		if isPrimary(x) {
			return i
		}
	}
	if len(list) > 0 {
		return 0
	}
	return -1
}

func dropEmpty(list []any) []any {
	out := list[:0]
	for _, x := range list {
		if !isEmpty(x) {
			out = append(out, x)
		}
	}
	return out
}

func listOrNil(l []any) any {
	if len(l) == 0 {
		return nil
	}
	return l
}

// elements returns the values of attribute at as a list: the elements of a
// multi-valued attribute, or the one value of a singular one.
func elements(at *schema.Attribute, c map[string]any) []any {
	v, ok := c[at.Name]
	if !ok {
		return nil
	}
	if at.MultiValued {
		return cloneList(v)
	}
	return []any{v}
}

// store puts a list built by elements back.
func storeElements(at *schema.Attribute, c map[string]any, list []any) {
	list = dropEmpty(list)
	if at.MultiValued {
		setOrDelete(c, at.Name, listOrNil(list))
		return
	}
	if len(list) == 0 {
		delete(c, at.Name)
		return
	}
	c[at.Name] = list[0]
}

// writeFiltered is add or replace through a value path:
// emails[type eq "work"].value, addresses[type eq "work"], manager[value eq "x"].
func (a *applier) writeFiltered(op string, t target, c map[string]any, v any) error {
	at, sub := t.p.Attr, t.p.Sub
	list := elements(at, c)
	var matched []int
	for i, el := range list {
		if t.matches(el) {
			matched = append(matched, i)
		}
	}
	if len(matched) == 0 {
		return a.create(op, t, c, list, v)
	}
	var written []int
	for _, i := range matched {
		switch {
		case t.simple:
			nv, err := schema.NormalizeSingle(at, one(v))
			if err != nil {
				return err
			}
			if nv == nil && op == OpAdd {
				continue
			}
			list[i] = nv // nil is dropped below
		case sub != nil:
			nv, err := schema.NormalizeValue(sub, unwrap(sub, v))
			if err != nil {
				return err
			}
			if nv == nil && op == OpAdd {
				continue
			}
			old := cloneMap(list[i])
			m := cloneMap(list[i])
			setOrDelete(m, sub.Name, nv)
			if sub.Name == "value" && !schema.Equal(old["value"], m["value"]) {
				delete(m, "$ref")
			}
			list[i] = m
		case op == OpAdd:
			obj, err := asObject(at, one(v))
			if err != nil {
				return err
			}
			if obj == nil {
				continue
			}
			m, err := mergeInto(op, at, cloneMap(list[i]), obj)
			if err != nil {
				return err
			}
			list[i] = m
		default:
			// RFC 7644 §3.5.2.3: replace through a value path without a
			// sub-attribute replaces each matching value entirely.
			nv, err := schema.NormalizeSingle(at, one(v))
			if err != nil {
				return err
			}
			list[i] = nv
		}
		written = append(written, i)
	}
	if err := demote(at, list, written); err != nil {
		return err
	}
	storeElements(at, c, list)
	return nil
}

// create handles a value path that matched nothing. Entra (and the
// validators) expect add and replace on emails[type eq "work"].value to
// create {"type":"work","value":…}; every mainstream client relies on it.
// That works when the filter only pins sub-attributes with eq. Any other
// filter names no value that could be created, which RFC 7644 §3.5.2.3
// answers with noTarget. Writing null or "" to nothing succeeds without
// change, which keeps a clear idempotent.
func (a *applier) create(op string, t target, c map[string]any, list []any, v any) error {
	at, sub := t.p.Attr, t.p.Sub
	if isEmpty(v) {
		return nil
	}
	eq, ok := eqValues(t.filter)
	if !ok || t.simple || (!at.MultiValued && len(list) > 0) {
		return scimerr.New(scimerr.NoTarget, "no value of %s matches the filter", at.FullPath())
	}
	el := map[string]any{}
	for k, x := range eq {
		el[k] = x
	}
	if sub != nil {
		el[sub.Name] = unwrap(sub, v)
	} else {
		obj, err := asObject(at, one(v))
		if err != nil {
			return err
		}
		for k, x := range obj {
			if sa := at.Sub(k); sa != nil {
				el[sa.Name] = x // the value's own spelling wins over the filter's
			}
		}
	}
	nel, err := schema.NormalizeSingle(at, el)
	if err != nil || nel == nil {
		return err
	}
	list = append(list, nel)
	if err := demote(at, list, []int{len(list) - 1}); err != nil {
		return err
	}
	storeElements(at, c, list)
	return nil
}

// remove applies remove to a document attribute held in container c.
func (a *applier) remove(t target, c map[string]any, v any) error {
	at, sub := t.p.Attr, t.p.Sub
	switch {
	case t.filter != nil:
		// Matching values (or their sub-attribute) are removed; a filter
		// that matches nothing is a successful no-op (RFC 7644 §3.5.2.2's
		// member example; idempotent for retrying clients).
		list := elements(at, c)
		for i, el := range list {
			if !t.matches(el) {
				continue
			}
			if sub == nil {
				list[i] = nil
				continue
			}
			m := cloneMap(el)
			delete(m, sub.Name)
			list[i] = m
		}
		storeElements(at, c, list)
	case sub != nil:
		list := elements(at, c)
		for i, el := range list {
			m := cloneMap(el)
			delete(m, sub.Name)
			list[i] = m
		}
		storeElements(at, c, list)
	case v != nil:
		return removeValues(at, c, v)
	default:
		delete(c, at.Name)
	}
	return nil
}

// removeValues removes only the given values: Entra's member removal
// {"op":"Remove","path":"members","value":[{"value":"id"}]} and SailPoint's
// {"op":"remove","path":"rights","value":["View"]}. An object given for a
// complex attribute matches every value whose sub-attributes include the
// ones given ({"value":"id"} matches {"value":"id","type":"User"}). On a
// single-valued attribute the value is removed only if it matches.
func removeValues(at *schema.Attribute, c map[string]any, v any) error {
	var specs []any
	if at.MultiValued {
		nv, err := schema.NormalizeValue(at, v)
		if err != nil {
			return err
		}
		specs, _ = nv.([]any)
	} else {
		nv, err := schema.NormalizeSingle(at, unwrap(at, v))
		if err != nil {
			return err
		}
		if nv != nil {
			specs = []any{nv}
		}
	}
	if len(specs) == 0 {
		return nil // nothing named, nothing removed
	}
	list := elements(at, c)
	for i, el := range list {
		for _, s := range specs {
			if covers(at, s, el) {
				list[i] = nil
				break
			}
		}
	}
	storeElements(at, c, list)
	return nil
}

// covers reports whether value el matches the removal spec s.
func covers(at *schema.Attribute, s, el any) bool {
	sm, ok := s.(map[string]any)
	if !ok {
		return sameScalar(at, s, el)
	}
	em, ok := el.(map[string]any)
	if !ok {
		return false
	}
	for k, sv := range sm {
		sa := at.Sub(k)
		if sa == nil || !sameScalar(sa, sv, em[k]) {
			return false
		}
	}
	return true
}

// sameScalar compares two canonical values of attribute at, ignoring case
// for strings of an attribute that is not caseExact.
func sameScalar(at *schema.Attribute, x, y any) bool {
	xs, ok1 := x.(string)
	ys, ok2 := y.(string)
	if ok1 && ok2 && !at.CaseExact && at.Type == schema.TypeString {
		return strings.EqualFold(xs, ys)
	}
	return schema.Equal(x, y)
}
