package filter

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
)

// litKind is how a bound comparison value compares.
type litKind uint8

const (
	litNone   litKind = iota // pr
	litNull                  // eq null / ne null
	litString                // string, reference, binary
	litBool
	litNumber
	litTime
)

// literal is the comparison value in the form both the evaluator and the
// SQL compiler use, computed once by Bind so that the two cannot disagree
// on folding or parsing.
type literal struct {
	kind  litKind
	exact bool   // strings compare case-sensitively
	s     string // litString: the value, folded with fold unless exact
	// prep, when not nil, replaces fold for this literal and the values it
	// is compared with (the attribute's Prepare: PRECIS for userName).
	prep func(string) string
	b    bool
	num  number
	t    int64 // litTime: unix microseconds
}

// number is a JSON number as an int64 when it is one, else a float64.
type number struct {
	isInt bool
	i     int64
	f     float64
}

func parseNumber(n json.Number) (number, bool) {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return number{isInt: true, i: i, f: float64(i)}, true
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return number{}, false
	}
	return number{f: f}, true
}

// cmpNumber compares two numbers, exactly when both are integers.
func cmpNumber(a, b number) int {
	if a.isInt && b.isInt {
		switch {
		case a.i < b.i:
			return -1
		case a.i > b.i:
			return 1
		}
		return 0
	}
	switch {
	case a.f < b.f:
		return -1
	case a.f > b.f:
		return 1
	}
	return 0
}

// fold is the case folding for caseExact=false strings. The SQL side calls
// the same function through scim_fold, and the store folds the ukey, dname
// and attr_values columns with it; changing it means rewriting those.
func fold(s string) string { return strings.ToLower(s) }

// fold folds a value compared with l as l was folded. The store keeps the
// same form in its key column (schema.Attribute.Key).
func (l *literal) fold(s string) string {
	if l.prep != nil {
		return l.prep(s)
	}
	return fold(s)
}

// Bind resolves every attribute path of e against rt, checks operators and
// values against the attributes' types, coerces the lenient value forms,
// and returns a bound copy of e (e itself is not modified, so one parsed
// filter can be bound to several resource types). Errors are
// scimerr.InvalidFilter.
func Bind(rt *schema.ResourceType, e Expr) (Expr, error) {
	b := binder{rt: rt}
	return b.bind(e, nil)
}

type binder struct {
	rt *schema.ResourceType
}

// bind binds e; parent is the value path e sits in, nil at the top.
func (b *binder) bind(e Expr, parent *ValuePath) (Expr, error) {
	switch x := e.(type) {
	case *LogExpr:
		l, err := b.bind(x.Left, parent)
		if err != nil {
			return nil, err
		}
		r, err := b.bind(x.Right, parent)
		if err != nil {
			return nil, err
		}
		return &LogExpr{Op: x.Op, Left: l, Right: r}, nil
	case *NotExpr:
		in, err := b.bind(x.X, parent)
		if err != nil {
			return nil, err
		}
		return &NotExpr{X: in}, nil
	case *ValuePath:
		if parent != nil {
			return nil, invalid("value filters cannot be nested: %s", x)
		}
		return b.bindValuePath(x)
	case *AttrExpr:
		return b.bindAttrExpr(x, parent)
	case nil:
		return nil, scimerr.New(scimerr.Internal, "filter: nil expression")
	}
	return nil, scimerr.New(scimerr.Internal, "filter: unknown expression type %T", e)
}

func invalid(format string, args ...any) error {
	return scimerr.New(scimerr.InvalidFilter, format, args...)
}

// resolve resolves a top-level path.
func (b *binder) resolve(ap AttrPath) (schema.Path, error) {
	p, err := b.rt.ResolvePath(ap.String())
	if err != nil && ap.URI != "" && ap.Sub != "" && b.isSchema(ap.URI+":"+ap.Attr) {
		// CyberArk writes urn:…:PrivilegedData.properties, with a dot
		// between the schema URN and the attribute.
		if q, err2 := b.rt.ResolvePath(ap.URI + ":" + ap.Attr + ":" + ap.Sub); err2 == nil {
			p, err = q, nil
		}
	}
	if err != nil {
		if se, ok := err.(*scimerr.Error); ok {
			return schema.Path{}, invalid("%s", se.Detail)
		}
		return schema.Path{}, invalid("attribute %q: %v", ap.String(), err)
	}
	if p.Attr == nil {
		return schema.Path{}, invalid("%q names a schema, not an attribute", ap.String())
	}
	if p.Attr.Mutability == schema.WriteOnly || p.Attr.Returned == schema.ReturnNever ||
		(p.Sub != nil && (p.Sub.Mutability == schema.WriteOnly || p.Sub.Returned == schema.ReturnNever)) {
		// Filtering on a value that is never returned would let a client
		// guess it one query at a time.
		return schema.Path{}, invalid("attribute %s cannot be used in a filter", p.String())
	}
	return p, nil
}

func (b *binder) isSchema(urn string) bool {
	for _, s := range b.rt.Schemas() {
		if strings.EqualFold(s.ID, urn) {
			return true
		}
	}
	return false
}

// checkSupported refuses the attributes that have no value a filter could
// test here: values computed when a response is written.
func (b *binder) checkSupported(p schema.Path) error {
	switch b.rt.RelationOf(p.Attr) {
	case schema.RelMembers:
		if p.Sub != nil && p.Sub.Name != "value" && p.Sub.Name != "type" {
			return invalid("filtering on %s is not supported; use %s.value or %s.type", p.String(), p.Attr.Name, p.Attr.Name)
		}
	case schema.RelGroups:
		if p.Sub != nil && p.Sub.Name != "value" {
			return invalid("filtering on %s is not supported; use %s.value", p.String(), p.Attr.Name)
		}
	}
	if p.Schema == nil && p.Attr.Name == "meta" && p.Sub != nil {
		switch p.Sub.Name {
		case "location", "version":
			return invalid("filtering on meta.%s is not supported", p.Sub.Name)
		}
	}
	if p.Sub != nil && p.Sub.MultiValued {
		return invalid("filtering on the multi-valued sub-attribute %s is not supported", p.String())
	}
	return nil
}

func (b *binder) bindValuePath(x *ValuePath) (Expr, error) {
	if x.Path.Sub != "" {
		return nil, invalid("a value filter applies to an attribute, not to the sub-attribute %s", x.Path.String())
	}
	p, err := b.resolve(x.Path)
	if err != nil {
		return nil, err
	}
	if !p.Attr.IsComplex() {
		return nil, invalid("attribute %s is not complex, so it cannot have a value filter", p.String())
	}
	if err := b.checkSupported(p); err != nil {
		return nil, err
	}
	if p.Schema == nil && p.Attr.Name == "meta" {
		return nil, invalid("meta cannot have a value filter; use meta.created, meta.lastModified or meta.resourceType")
	}
	out := &ValuePath{Path: x.Path, rt: b.rt}
	out.Path.Resolved = p
	f, err := b.bind(x.Filter, out)
	if err != nil {
		return nil, err
	}
	out.Filter = f
	return out, nil
}

func (b *binder) bindAttrExpr(x *AttrExpr, parent *ValuePath) (Expr, error) {
	var p schema.Path
	if parent != nil {
		pa := parent.Path.Resolved.Attr
		if x.Path.URI != "" || x.Path.Sub != "" {
			return nil, invalid("inside %s[…] name a sub-attribute of %s, such as %s, not %s", pa.Name, pa.Name, firstSub(pa), x.Path.String())
		}
		sub := pa.Sub(x.Path.Attr)
		if sub == nil {
			return nil, invalid("attribute %s has no sub-attribute %q", parent.Path.Resolved.String(), x.Path.Attr)
		}
		p = schema.Path{Schema: parent.Path.Resolved.Schema, Attr: pa, Sub: sub}
		if sub.Mutability == schema.WriteOnly || sub.Returned == schema.ReturnNever {
			return nil, invalid("attribute %s cannot be used in a filter", p.String())
		}
	} else {
		var err error
		if p, err = b.resolve(x.Path); err != nil {
			return nil, err
		}
	}
	leaf := p.Leaf()
	if leaf.IsComplex() && x.Op != "pr" {
		// RFC 7644's own examples filter "emails co ..." and clients send
		// "members eq id": a bare complex attribute stands for its value.
		v := leaf.Sub("value")
		if v == nil || p.Sub != nil {
			return nil, invalid("attribute %s is complex; compare one of its sub-attributes, such as %s.%s", p.String(), p.String(), firstSub(leaf))
		}
		p.Sub = v
		leaf = v
	}
	if err := b.checkSupported(p); err != nil {
		return nil, err
	}
	out := &AttrExpr{Path: x.Path, Op: x.Op, Value: x.Value, rt: b.rt}
	out.Path.Resolved = p
	lit, v, err := b.literal(p, leaf, x.Op, x.Value)
	if err != nil {
		return nil, err
	}
	out.lit, out.Value = lit, v
	return out, nil
}

func firstSub(a *schema.Attribute) string {
	if a.Sub("value") != nil {
		return "value"
	}
	if len(a.SubAttributes) > 0 {
		return a.SubAttributes[0].Name
	}
	return "value"
}

// exactStrings reports whether strings of the path compare case-sensitively.
func (b *binder) exactStrings(p schema.Path, leaf *schema.Attribute) bool {
	if rel := b.rt.RelationOf(p.Attr); rel != schema.RelNone && leaf.Name == "value" {
		// Member and group values are resource ids, and ids are
		// case-exact (RFC 7643 §3.1) whatever the schema listing says.
		return true
	}
	// Base64 is case-significant whatever the attribute says (RFC 7643
	// §2.3.6).
	return leaf.CaseExact || leaf.Type == schema.TypeBinary
}

// literal checks op and value against the attribute's type and returns the
// comparison literal and the (possibly coerced) value.
func (b *binder) literal(p schema.Path, leaf *schema.Attribute, op string, v any) (literal, any, error) {
	name := p.String()
	if op == "pr" {
		return literal{kind: litNone}, nil, nil
	}
	if v == nil {
		if op != "eq" && op != "ne" {
			return literal{}, nil, invalid("null can only be compared with eq or ne, not %s (attribute %s)", op, name)
		}
		return literal{kind: litNull}, nil, nil
	}
	substring := op == "co" || op == "sw" || op == "ew"
	ordering := op == "gt" || op == "ge" || op == "lt" || op == "le"
	typ := leaf.Type
	switch typ {
	case schema.TypeString, schema.TypeReference, schema.TypeBinary:
		if typ == schema.TypeBinary && (substring || ordering) {
			return literal{}, nil, invalid("operator %s cannot be used with the binary attribute %s", op, name)
		}
		var s string
		switch x := v.(type) {
		case string:
			s = x
		case json.Number:
			// CyberArk sends ids unquoted (group.value eq 18).
			s = string(x)
		default:
			return literal{}, nil, invalid("attribute %s is a string; compare it with a quoted string, not %s", name, valueText(v))
		}
		exact := b.exactStrings(p, leaf)
		l := literal{kind: litString, exact: exact, s: s}
		if !exact {
			l.prep = leaf.Prepare
			l.s = l.fold(s)
		}
		return l, s, nil
	case schema.TypeBoolean:
		if substring || ordering {
			return literal{}, nil, invalid("operator %s cannot be used with the boolean attribute %s", op, name)
		}
		switch x := v.(type) {
		case bool:
			return literal{kind: litBool, b: x}, x, nil
		case string:
			// Netwrix sends active eq "true", Entra "True".
			switch strings.ToLower(x) {
			case "true":
				return literal{kind: litBool, b: true}, true, nil
			case "false":
				return literal{kind: litBool, b: false}, false, nil
			}
		}
		return literal{}, nil, invalid("attribute %s is a boolean; compare it with true or false, not %s", name, valueText(v))
	case schema.TypeInteger, schema.TypeDecimal:
		if substring {
			return literal{}, nil, invalid("operator %s needs a string attribute; %s is a number", op, name)
		}
		var n json.Number
		switch x := v.(type) {
		case json.Number:
			n = x
		case string:
			// A quoted number: "42".
			if isJSONNumber(x) {
				n = json.Number(x)
			}
		}
		num, ok := parseNumber(n)
		if n == "" || !ok {
			return literal{}, nil, invalid("attribute %s is a number; compare it with a number, not %s", name, valueText(v))
		}
		if typ == schema.TypeInteger && !num.isInt {
			return literal{}, nil, invalid("attribute %s is an integer; %s is not one", name, valueText(v))
		}
		return literal{kind: litNumber, num: num}, n, nil
	case schema.TypeDateTime:
		if substring {
			return literal{}, nil, invalid("operator %s needs a string attribute; %s is a dateTime", op, name)
		}
		s, ok := v.(string)
		if !ok {
			return literal{}, nil, invalid("attribute %s is a dateTime; compare it with a quoted date such as \"2011-05-13T04:42:34Z\", not %s", name, valueText(v))
		}
		t, err := schema.ParseDateTime(s)
		if err != nil {
			return literal{}, nil, invalid("%q is not a dateTime such as \"2011-05-13T04:42:34Z\" (attribute %s)", s, name)
		}
		return literal{kind: litTime, t: t.UnixMicro()}, s, nil
	}
	return literal{}, nil, invalid("attribute %s of type %s cannot be compared with a value", name, typ)
}

func valueText(v any) string {
	var b strings.Builder
	writeValue(&b, v)
	return b.String()
}

// BindPath resolves a PATCH path against rt and returns a bound copy:
// Attr.Resolved names the target attribute (with the sub-attribute after
// "]" when there is one, so emails[type eq "work"].value resolves to
// emails.value) and Filter is bound relative to the attribute, ready for
// MatchElement. A path that names a whole extension schema resolves to a
// schema.Path with a nil Attr, as rt.ResolvePath does. Errors are
// scimerr.InvalidPath.
func BindPath(rt *schema.ResourceType, pp *PatchPath) (*PatchPath, error) {
	out := &PatchPath{Attr: pp.Attr, Sub: pp.Sub}
	if pp.Filter == nil {
		p, err := rt.ResolvePath(pp.Attr.String())
		if err != nil {
			return nil, err
		}
		out.Attr.Resolved = p
		return out, nil
	}
	b := binder{rt: rt}
	bound, err := b.bindValuePath(&ValuePath{Path: pp.Attr, Filter: pp.Filter})
	if err != nil {
		return nil, asPathError(err)
	}
	vp := bound.(*ValuePath)
	out.Attr.Resolved = vp.Path.Resolved
	out.Filter = vp.Filter
	if pp.Sub != "" {
		a := vp.Path.Resolved.Attr
		sub := a.Sub(pp.Sub)
		if sub == nil {
			return nil, scimerr.New(scimerr.InvalidPath, "attribute %s has no sub-attribute %q", vp.Path.Resolved.String(), pp.Sub)
		}
		out.Attr.Resolved.Sub = sub
	}
	return out, nil
}

// asPathError turns a filter error into the path error PATCH reports.
func asPathError(err error) error {
	if se, ok := err.(*scimerr.Error); ok && se.Kind == scimerr.InvalidFilter {
		return scimerr.New(scimerr.InvalidPath, "%s", se.Detail)
	}
	return err
}
