package schema

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pamscim/pamscim/internal/scimerr"
)

// Doc is a resource document in canonical form: attribute names spelled as the
// schema spells them, extension attributes in an object under the extension's
// URN, numbers as json.Number, no null, no empty string, array or object. id,
// meta, schemas and relational attributes are not part of a Doc.
type Doc = map[string]any

// DecodeObject parses a JSON object from b. It refuses invalid UTF-8 (which
// encoding/json would silently replace), trailing data and non-objects, and
// keeps numbers as json.Number so integers and decimals stay exact.
func DecodeObject(b []byte) (map[string]any, error) {
	v, err := DecodeJSON(b)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, scimerr.New(scimerr.InvalidSyntax, "request body must be a JSON object")
	}
	return m, nil
}

// DecodeJSON parses any JSON value with the rules of DecodeObject.
func DecodeJSON(b []byte) (any, error) {
	if !utf8.Valid(b) {
		return nil, scimerr.New(scimerr.InvalidSyntax, "request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, scimerr.New(scimerr.InvalidSyntax, "request body is empty")
		}
		return nil, scimerr.New(scimerr.InvalidSyntax, "request body is not valid JSON: %s", jsonErrDetail(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, scimerr.New(scimerr.InvalidSyntax, "request body has data after the JSON value")
	}
	return v, nil
}

func jsonErrDetail(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return se.Error() + " at byte " + strconv.FormatInt(se.Offset, 10)
	}
	return err.Error()
}

// Input is the result of normalising a client-sent resource.
type Input struct {
	Doc Doc
	// Relational holds relational attributes found in the input (e.g. members)
	// as normalised multi-valued values; nil slice means absent.
	Relational map[*Attribute][]any
	// Unknown lists attribute names the server does not define; they were ignored.
	Unknown []string
}

// Normalize converts a client-sent resource into canonical form. Attribute
// names and schema URNs are matched case-insensitively; readOnly attributes
// (id, meta, groups, display sub-attributes…) are ignored as RFC 7644 §3.3
// requires; null, "" and [] mean "not asserted"; unknown attributes are
// ignored and reported. Values are type-checked against the schema.
func (rt *ResourceType) Normalize(in map[string]any) (*Input, error) {
	out := &Input{Doc: Doc{}, Relational: map[*Attribute][]any{}}
	for k, v := range in {
		lk := strings.ToLower(k)
		switch lk {
		case "schemas", "id", "meta":
			continue
		}
		if ext := rt.Extension(k); ext != nil {
			obj, ok := v.(map[string]any)
			if v == nil {
				continue
			}
			if !ok {
				return nil, scimerr.New(scimerr.InvalidSyntax, "%s must be a JSON object", ext.Schema.ID)
			}
			sub, err := rt.normalizeAttrs(ext.Schema, obj, ext.Schema.ID+":", out)
			if err != nil {
				return nil, err
			}
			if len(sub) > 0 {
				mergeInto(out.Doc, ext.Schema.ID, sub)
			}
			continue
		}
		if a := rt.Schema.Attr(k); a != nil {
			if err := rt.setTop(out, a, v); err != nil {
				return nil, err
			}
			continue
		}
		if a := rt.reg.Common(k); a != nil { // externalId
			if err := rt.setTop(out, a, v); err != nil {
				return nil, err
			}
			continue
		}
		if strings.ContainsAny(k, ".:") {
			// Flattened keys ("name.givenName", "urn:…:User:department") as
			// SailPoint and Entra send them in path-less value objects.
			p, err := rt.ResolvePath(k)
			if err == nil && p.Attr != nil {
				if err := rt.setPath(out, p, v); err != nil {
					return nil, err
				}
				continue
			}
			if strings.HasPrefix(lk, "urn:") {
				// An object under a schema URN the server does not know
				// (Entra's ADSCIM Group schema, vendor extensions).
				out.Unknown = append(out.Unknown, k)
				continue
			}
		}
		out.Unknown = append(out.Unknown, k)
	}
	return out, nil
}

func mergeInto(doc Doc, key string, m map[string]any) {
	if cur, ok := doc[key].(map[string]any); ok {
		for k, v := range m {
			cur[k] = v
		}
		return
	}
	doc[key] = m
}

// normalizeAttrs normalises an object of attributes of schema s (the body of
// an extension).
func (rt *ResourceType) normalizeAttrs(s *Schema, obj map[string]any, prefix string, out *Input) (map[string]any, error) {
	res := map[string]any{}
	for k, v := range obj {
		a := s.Attr(k)
		if a == nil {
			if strings.Contains(k, ".") {
				p, err := rt.ResolvePath(prefix + k)
				if err == nil && p.Sub != nil {
					val, err := NormalizeValue(p.Sub, v)
					if err != nil {
						return nil, err
					}
					if val != nil && p.Sub.Mutability != ReadOnly {
						parent, _ := res[p.Attr.Name].(map[string]any)
						if parent == nil {
							parent = map[string]any{}
							res[p.Attr.Name] = parent
						}
						parent[p.Sub.Name] = val
					}
					continue
				}
			}
			out.Unknown = append(out.Unknown, prefix+k)
			continue
		}
		if a.Mutability == ReadOnly {
			continue
		}
		val, err := NormalizeValue(a, v)
		if err != nil {
			return nil, err
		}
		if val != nil {
			res[a.Name] = val
		}
	}
	return res, nil
}

func (rt *ResourceType) setTop(out *Input, a *Attribute, v any) error {
	if a.Mutability == ReadOnly {
		return nil
	}
	val, err := NormalizeValue(a, v)
	if err != nil {
		return err
	}
	if rt.Relations[a] != RelNone {
		if val == nil {
			out.Relational[a] = []any{}
		} else {
			out.Relational[a] = val.([]any)
		}
		return nil
	}
	if val != nil {
		out.Doc[a.Name] = val
	}
	return nil
}

// setPath sets a value given under a flattened key.
func (rt *ResourceType) setPath(out *Input, p Path, v any) error {
	if p.Sub == nil {
		if p.IsExtension() {
			if p.Attr.Mutability == ReadOnly {
				return nil
			}
			val, err := NormalizeValue(p.Attr, v)
			if err != nil || val == nil {
				return err
			}
			mergeInto(out.Doc, p.Schema.ID, map[string]any{p.Attr.Name: val})
			return nil
		}
		return rt.setTop(out, p.Attr, v)
	}
	if p.Attr.Mutability == ReadOnly || p.Sub.Mutability == ReadOnly {
		return nil
	}
	val, err := NormalizeValue(p.Sub, v)
	if err != nil || val == nil {
		return err
	}
	container := out.Doc
	if p.IsExtension() {
		m, _ := out.Doc[p.Schema.ID].(map[string]any)
		if m == nil {
			m = map[string]any{}
			out.Doc[p.Schema.ID] = m
		}
		container = m
	}
	if p.Attr.MultiValued {
		// "emails.value": "x" sets the value of the primary (or only) element.
		list, _ := container[p.Attr.Name].([]any)
		if len(list) == 0 {
			list = []any{map[string]any{}}
		}
		el := list[0].(map[string]any)
		el[p.Sub.Name] = val
		container[p.Attr.Name] = list
		return nil
	}
	m, _ := container[p.Attr.Name].(map[string]any)
	if m == nil {
		m = map[string]any{}
		container[p.Attr.Name] = m
	}
	m[p.Sub.Name] = val
	return nil
}

// NormalizeValue checks and canonicalises the value v of attribute a. For a
// multi-valued attribute v is the whole list (a lone value is accepted as a
// list of one). It returns nil when v means "unassigned" (null, "", [], {}).
// ReadOnly sub-attributes are dropped.
func NormalizeValue(a *Attribute, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if a.MultiValued {
		list, ok := v.([]any)
		if !ok {
			list = []any{v}
		}
		res := make([]any, 0, len(list))
		primaries := 0
		// A long list is checked for repeats by bucket, not against every
		// value kept: pairwise it was quadratic, 1.3 s of CPU for one
		// request with 5,000 emails (far more with the body limit's worth).
		var seen map[string][]any
		if len(list) > 16 {
			seen = make(map[string][]any, len(list))
		}
		for _, el := range list {
			nv, err := NormalizeSingle(a, el)
			if err != nil {
				return nil, err
			}
			if nv == nil {
				continue
			}
			if seen != nil {
				k := equalKey(nv)
				if containsEqual(seen[k], nv) {
					continue
				}
				seen[k] = append(seen[k], nv)
			} else if containsEqual(res, nv) {
				continue // the same value twice is one value
			}
			if m, ok := nv.(map[string]any); ok && m["primary"] == true {
				primaries++
			}
			res = append(res, nv)
		}
		if primaries > 1 {
			return nil, scimerr.New(scimerr.InvalidValue, "attribute %s: at most one value may be primary", a.FullPath())
		}
		if len(res) == 0 {
			return nil, nil
		}
		return res, nil
	}
	if _, ok := v.([]any); ok {
		return nil, scimerr.New(scimerr.InvalidValue, "attribute %s is single-valued but an array was given", a.FullPath())
	}
	return NormalizeSingle(a, v)
}

// NormalizeSingle checks one value (one element of a multi-valued attribute).
func NormalizeSingle(a *Attribute, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if a.Type == TypeComplex {
		m, ok := v.(map[string]any)
		if !ok {
			// A scalar given for a complex attribute is its "value"
			// sub-attribute: Entra sends the enterprise manager as a bare id.
			if vs := a.Sub("value"); vs != nil {
				if _, isArr := v.([]any); !isArr {
					m = map[string]any{"value": v}
					ok = true
				}
			}
			if !ok {
				return nil, scimerr.New(scimerr.InvalidValue, "attribute %s must be a JSON object", a.FullPath())
			}
		}
		res := map[string]any{}
		for k, sv := range m {
			sa := a.Sub(k)
			if sa == nil && strings.EqualFold(k, "displayName") && !hasKeyFold(m, "display") {
				// Microsoft's Entra SCIM validator names a member
				// {"displayName": "new User", "value": id} and expects the
				// name back as members.display.
				sa = a.Sub("display")
			}
			if sa == nil || sa.Mutability == ReadOnly {
				continue // unknown or server-computed sub-attribute
			}
			nv, err := NormalizeValue(sa, sv)
			if err != nil {
				return nil, err
			}
			if nv != nil {
				res[sa.Name] = nv
			}
		}
		if len(m) > 0 {
			for _, sa := range a.SubAttributes {
				if _, ok := res[sa.Name]; !ok && sa.Required && sa.Mutability != ReadOnly {
					return nil, scimerr.New(scimerr.InvalidValue, "attribute %s is required in every %s value", sa.FullPath(), a.FullPath())
				}
			}
		}
		if len(res) == 0 {
			return nil, nil
		}
		return res, nil
	}
	return coerceScalar(a, v)
}

func hasKeyFold(m map[string]any, key string) bool {
	for k := range m {
		if strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

func coerceScalar(a *Attribute, v any) (any, error) {
	bad := func(want string) error {
		return scimerr.New(scimerr.InvalidValue, "attribute %s must be %s, got %s", a.FullPath(), want, jsonKind(v))
	}
	switch a.Type {
	case TypeString, TypeReference:
		s, ok := v.(string)
		if !ok {
			return nil, bad("a string")
		}
		if s == "" {
			return nil, nil
		}
		return s, nil
	case TypeBoolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			// Entra ID sends booleans as the strings "True" and "False".
			switch strings.ToLower(b) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		return nil, bad("a boolean")
	case TypeInteger:
		n, ok := v.(json.Number)
		if !ok || strings.ContainsAny(string(n), ".eE") {
			return nil, bad("an integer")
		}
		if _, err := n.Int64(); err != nil {
			return nil, bad("an integer within 64 bits")
		}
		return n, nil
	case TypeDecimal:
		n, ok := v.(json.Number)
		if !ok {
			return nil, bad("a number")
		}
		return n, nil
	case TypeDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, bad("a dateTime string")
		}
		if s == "" {
			return nil, nil
		}
		if _, err := ParseDateTime(s); err != nil {
			return nil, scimerr.New(scimerr.InvalidValue, "attribute %s: %q is not an xsd:dateTime such as 2008-01-23T04:56:22Z", a.FullPath(), s)
		}
		return s, nil
	case TypeBinary:
		s, ok := v.(string)
		if !ok {
			return nil, bad("a base64 string")
		}
		if s == "" {
			return nil, nil
		}
		if !isBase64(s) {
			return nil, scimerr.New(scimerr.InvalidValue, "attribute %s is not valid base64", a.FullPath())
		}
		return s, nil
	}
	return nil, scimerr.New(scimerr.Internal, "attribute %s has unknown type %s", a.FullPath(), a.Type)
}

// ParseDateTime parses an xsd:dateTime; a value without a zone is taken as UTC.
func ParseDateTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05.999999999", s)
}

func isBase64(s string) bool {
	s = strings.TrimRight(s, "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if _, err := enc.DecodeString(s); err == nil {
			return true
		}
	}
	return false
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case nil:
		return "null"
	}
	return "an unknown value"
}

func containsEqual(list []any, v any) bool {
	for _, x := range list {
		if Equal(x, v) {
			return true
		}
	}
	return false
}

// equalKey is the same for any two values Equal says are equal (the
// converse need not hold: values of other types share one key, and Equal
// decides within a key).
func equalKey(v any) string {
	var b strings.Builder
	writeEqualKey(&b, v)
	return b.String()
}

func writeEqualKey(b *strings.Builder, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for _, k := range keys {
			b.WriteString(strconv.Quote(k))
			writeEqualKey(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for _, e := range x {
			writeEqualKey(b, e)
			b.WriteByte(',')
		}
		b.WriteByte(']')
	case json.Number:
		// Equal compares numbers by value when both parse: 1, 1.0 and
		// 10e-1 are one key, as are 0 and -0.
		if f, err := x.Float64(); err == nil {
			if f == 0 {
				f = 0
			}
			b.WriteString("n" + strconv.FormatFloat(f, 'g', -1, 64))
		} else {
			b.WriteString("N" + strconv.Quote(string(x)))
		}
	case string:
		b.WriteString("s" + strconv.Quote(x))
	case bool:
		b.WriteString("b" + strconv.FormatBool(x))
	case nil:
		b.WriteString("z")
	default:
		b.WriteString("?")
	}
}

// Equal reports whether two canonical values are the same JSON value.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			if w, ok := y[k]; !ok || !Equal(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		fx, e1 := x.Float64()
		fy, e2 := y.Float64()
		return e1 == nil && e2 == nil && fx == fy
	default:
		return a == b
	}
}

// CheckRequired verifies that every required attribute is present in the
// document (relational attributes are checked by the caller), including
// required sub-attributes of present complex values and required extensions.
func (rt *ResourceType) CheckRequired(doc Doc, relational map[*Attribute][]any) error {
	check := func(s *Schema, m map[string]any) error {
		for _, a := range s.Attributes {
			if a.Mutability == ReadOnly {
				continue
			}
			v, ok := m[a.Name]
			if rt.Relations[a] != RelNone {
				_, ok = relational[a]
			}
			if a.Required && !ok {
				return scimerr.New(scimerr.InvalidValue, "attribute %s is required", a.FullPath())
			}
			if !ok || !a.IsComplex() {
				continue
			}
			elems := []any{v}
			if a.MultiValued {
				elems, _ = v.([]any)
			}
			for _, el := range elems {
				em, _ := el.(map[string]any)
				for _, sa := range a.SubAttributes {
					if sa.Required && sa.Mutability != ReadOnly {
						if _, ok := em[sa.Name]; !ok {
							return scimerr.New(scimerr.InvalidValue, "attribute %s is required in every %s value", sa.FullPath(), a.FullPath())
						}
					}
				}
			}
		}
		return nil
	}
	if err := check(rt.Schema, doc); err != nil {
		return err
	}
	for _, e := range rt.Extensions {
		m, _ := doc[e.Schema.ID].(map[string]any)
		if e.Required && m == nil {
			return scimerr.New(scimerr.InvalidValue, "schema extension %s is required", e.Schema.ID)
		}
		if err := check(e.Schema, m); err != nil {
			return err
		}
	}
	return nil
}

// Replace computes the document that a PUT of next over cur produces (RFC 7644
// §3.5.1): what next omits is cleared, except writeOnly values (a password is
// never sent back, so a client cannot resend it) and immutable values, which
// must not change once set.
func (rt *ResourceType) Replace(cur, next Doc) (Doc, error) {
	out := Doc{}
	for k, v := range next {
		out[k] = v
	}
	keep := func(s *Schema, curM, nextM, outM map[string]any) error {
		for _, a := range s.Attributes {
			cv, had := curM[a.Name]
			if !had {
				continue
			}
			nv, has := nextM[a.Name]
			switch a.Mutability {
			case WriteOnly:
				if !has {
					outM[a.Name] = cv
				}
			case Immutable:
				if !has {
					outM[a.Name] = cv
				} else if !Equal(cv, nv) {
					return scimerr.New(scimerr.Mutability, "attribute %s is immutable and cannot be changed", a.FullPath())
				}
			}
		}
		return nil
	}
	if err := keep(rt.Schema, cur, next, out); err != nil {
		return nil, err
	}
	for _, e := range rt.Extensions {
		cm, _ := cur[e.Schema.ID].(map[string]any)
		if cm == nil {
			continue
		}
		nm, _ := next[e.Schema.ID].(map[string]any)
		om := map[string]any{}
		for k, v := range nm {
			om[k] = v
		}
		if err := keep(e.Schema, cm, nm, om); err != nil {
			return nil, err
		}
		if len(om) > 0 {
			out[e.Schema.ID] = om
		}
	}
	return out, nil
}
