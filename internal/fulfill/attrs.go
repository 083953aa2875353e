package fulfill

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pamscim/pamscim/internal/client"
	"github.com/pamscim/pamscim/internal/export"
)

const userURN = "urn:ietf:params:scim:schemas:core:2.0:User"

// userSchema turns the export's column names back into SCIM attributes,
// with the types the server publishes in /Schemas.
type userSchema struct {
	core *client.Schema
	exts []*client.Schema
}

func newUserSchema(d *client.Discovery) *userSchema {
	s := &userSchema{}
	if d == nil {
		return s
	}
	rt := d.ResourceType("Users")
	if rt == nil {
		s.core = d.Schema(userURN)
		return s
	}
	s.core = d.Schema(rt.Schema)
	for _, e := range rt.SchemaExtensions {
		if x := d.Schema(e.Schema); x != nil {
			s.exts = append(s.exts, x)
		}
	}
	return s
}

// rfcMulti are the multi-valued User attributes of RFC 7643 §4.1, used when
// the server publishes no schema.
var rfcMulti = map[string]bool{"emails": true, "phonenumbers": true, "ims": true, "photos": true, "addresses": true, "entitlements": true, "roles": true, "x509certificates": true, "groups": true}

// target is one attribute a change sets, gathered from its columns.
type target struct {
	urn   string // "" for the core schema
	name  string
	a     *client.Attribute
	whole any            // the value of a column without sub-attribute
	subs  map[string]any // sub-attribute → value
	order []string
}

func (t *target) path() string {
	if t.urn != "" {
		return t.urn + ":" + t.name
	}
	return t.name
}

func (t *target) multi() bool {
	if t.a != nil {
		return t.a.MultiValued
	}
	return t.urn == "" && rfcMulti[strings.ToLower(t.name)]
}

// resolve finds the attribute a column names.
func (s *userSchema) resolve(col string) (urn, attr, sub string, a *client.Attribute, err error) {
	rest := col
	var sc *client.Schema
	if strings.HasPrefix(strings.ToLower(col), "urn:") {
		for _, x := range append([]*client.Schema{s.core}, s.exts...) {
			if x != nil && len(col) > len(x.ID) && strings.EqualFold(col[:len(x.ID)], x.ID) && (col[len(x.ID)] == ':' || col[len(x.ID)] == '.') {
				sc, rest = x, col[len(x.ID)+1:]
				if x != s.core {
					urn = x.ID
				}
				break
			}
		}
		if sc == nil {
			if s.core != nil {
				return "", "", "", nil, fmt.Errorf("column %q: the server publishes no schema with that URN", col)
			}
			// No /Schemas: the attribute is what follows the last colon.
			i := strings.LastIndex(col, ":")
			return col[:i], col[i+1:], "", nil, nil
		}
	}
	attr, sub, _ = strings.Cut(rest, ":")
	if !strings.Contains(rest, ":") {
		attr, sub, _ = strings.Cut(rest, ".")
	}
	if attr == "" {
		return "", "", "", nil, fmt.Errorf("column %q names no attribute", col)
	}
	if sc == nil {
		if s.core == nil {
			return "", attr, sub, nil, nil
		}
		if a = s.core.Attr(attr); a == nil {
			for _, x := range s.exts {
				if a = x.Attr(attr); a != nil {
					urn = x.ID
					break
				}
			}
		}
	} else {
		a = sc.Attr(attr)
	}
	if a == nil {
		return "", "", "", nil, fmt.Errorf("column %q: the server's User schema has no attribute %q", col, attr)
	}
	if sub != "" && a.Sub(sub) == nil {
		return "", "", "", nil, fmt.Errorf("column %q: %s has no sub-attribute %q", col, a.Name, sub)
	}
	if strings.EqualFold(a.Mutability, "readOnly") {
		return "", "", "", nil, fmt.Errorf("column %q: %s is read-only", col, a.Name)
	}
	return urn, a.Name, sub, a, nil
}

// targets groups a change's attribute columns by attribute, in a stable
// order.
func (s *userSchema) targets(attrs map[string]any) ([]*target, error) {
	cols := make([]string, 0, len(attrs))
	for k := range attrs {
		cols = append(cols, k)
	}
	sort.Strings(cols)
	byKey := map[string]*target{}
	var out []*target
	for _, col := range cols {
		urn, attr, sub, a, err := s.resolve(col)
		if err != nil {
			return nil, err
		}
		key := strings.ToLower(urn + "|" + attr)
		t := byKey[key]
		if t == nil {
			t = &target{urn: urn, name: attr, a: a, subs: map[string]any{}}
			byKey[key] = t
			out = append(out, t)
		}
		if sub == "" {
			t.whole = attrs[col]
			continue
		}
		realSub := sub
		if a != nil {
			realSub = a.Sub(sub).Name
		}
		t.subs[realSub] = attrs[col]
		t.order = append(t.order, realSub)
	}
	return out, nil
}

// value builds the SCIM value of a target: typed by the schema, and for a
// multi-valued complex attribute one element per position of its
// ";"-separated sub-attribute cells (the export's encoding).
func (t *target) value() (any, error) {
	if t.whole == nil && len(t.subs) == 0 {
		return nil, nil
	}
	if t.multi() {
		if len(t.subs) == 0 {
			var out []any
			for _, v := range cells(t.whole) {
				cv, err := conv(v, t.a)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", t.name, err)
				}
				out = append(out, cv)
			}
			return out, nil
		}
		var elems []map[string]any
		for _, sub := range t.order {
			var sa *client.Attribute
			if t.a != nil {
				sa = t.a.Sub(sub)
			}
			for i, v := range cells(t.subs[sub]) {
				for len(elems) <= i {
					elems = append(elems, map[string]any{})
				}
				if s, ok := v.(string); ok && s == "" {
					continue
				}
				cv, err := conv(v, sa)
				if err != nil {
					return nil, fmt.Errorf("%s.%s: %w", t.name, sub, err)
				}
				elems[i][sub] = cv
			}
		}
		out := make([]any, 0, len(elems))
		for _, e := range elems {
			if len(e) > 0 {
				out = append(out, e)
			}
		}
		return out, nil
	}
	if len(t.subs) > 0 {
		obj := map[string]any{}
		for _, sub := range t.order {
			var sa *client.Attribute
			if t.a != nil {
				sa = t.a.Sub(sub)
			}
			cv, err := conv(t.subs[sub], sa)
			if err != nil {
				return nil, fmt.Errorf("%s.%s: %w", t.name, sub, err)
			}
			obj[sub] = cv
		}
		return obj, nil
	}
	v, err := conv(t.whole, t.a)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.name, err)
	}
	return v, nil
}

func cells(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case string:
		var out []any
		for _, s := range export.SplitCell(x) {
			out = append(out, s)
		}
		return out
	case nil:
		return nil
	}
	return []any{v}
}

// conv types a value by its attribute: CSV cells are strings.
func conv(v any, a *client.Attribute) (any, error) {
	s, isStr := v.(string)
	if a == nil {
		return v, nil
	}
	switch strings.ToLower(a.Type) {
	case "boolean":
		if isStr {
			b, err := strconv.ParseBool(strings.TrimSpace(s))
			if err != nil {
				return nil, fmt.Errorf("%q is not a boolean", s)
			}
			return b, nil
		}
	case "integer":
		switch x := v.(type) {
		case string:
			n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not an integer", x)
			}
			return n, nil
		case json.Number:
			n, err := x.Int64()
			if err != nil {
				return nil, fmt.Errorf("%s is not an integer", x)
			}
			return n, nil
		}
	case "decimal":
		switch x := v.(type) {
		case string:
			f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
			if err != nil {
				return nil, fmt.Errorf("%q is not a number", x)
			}
			return f, nil
		case json.Number:
			return x.Float64()
		}
	}
	return v, nil
}

// document builds the attributes of a change as a SCIM User body.
func (s *userSchema) document(c *Change) (map[string]any, error) {
	doc := map[string]any{}
	for k, v := range c.Resource {
		doc[k] = v
	}
	ts, err := s.targets(c.Attributes)
	if err != nil {
		return nil, err
	}
	schemas := []any{userURN}
	if s.core != nil {
		schemas = []any{s.core.ID}
	}
	for _, t := range ts {
		v, err := t.value()
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		if t.urn == "" {
			doc[t.name] = v
			continue
		}
		ext, _ := doc[t.urn].(map[string]any)
		if ext == nil {
			ext = map[string]any{}
			doc[t.urn] = ext
			schemas = append(schemas, t.urn)
		}
		ext[t.name] = v
	}
	if c.UserName != "" {
		doc["userName"] = c.UserName
	}
	if doc["schemas"] == nil {
		doc["schemas"] = schemas
	}
	return doc, nil
}

// patchOps builds the PATCH of an update: one replace per attribute
// (per sub-attribute of a single-valued complex one, so the others stay),
// the whole list for a multi-valued one, and a remove for a JSON null.
func (s *userSchema) patchOps(c *Change) ([]client.PatchOp, error) {
	ts, err := s.targets(c.Attributes)
	if err != nil {
		return nil, err
	}
	var ops []client.PatchOp
	if c.UserName != "" && c.ID != "" {
		ops = append(ops, client.PatchOp{Op: "replace", Path: "userName", Value: c.UserName})
	}
	for _, t := range ts {
		if !t.multi() && len(t.subs) > 0 {
			for _, sub := range t.order {
				var sa *client.Attribute
				if t.a != nil {
					sa = t.a.Sub(sub)
				}
				if t.subs[sub] == nil {
					ops = append(ops, client.PatchOp{Op: "remove", Path: t.path() + "." + sub})
					continue
				}
				v, err := conv(t.subs[sub], sa)
				if err != nil {
					return nil, fmt.Errorf("%s.%s: %w", t.name, sub, err)
				}
				ops = append(ops, client.PatchOp{Op: "replace", Path: t.path() + "." + sub, Value: v})
			}
			continue
		}
		v, err := t.value()
		if err != nil {
			return nil, err
		}
		if v == nil {
			ops = append(ops, client.PatchOp{Op: "remove", Path: t.path()})
			continue
		}
		ops = append(ops, client.PatchOp{Op: "replace", Path: t.path(), Value: v})
	}
	return ops, nil
}

// merge lays a change over a user read from the server, for servers without
// PATCH (the update is then a PUT).
func (s *userSchema) merge(cur client.Resource, c *Change) (map[string]any, error) {
	ts, err := s.targets(c.Attributes)
	if err != nil {
		return nil, err
	}
	doc := map[string]any(cur)
	delete(doc, "meta")
	for _, t := range ts {
		obj := doc
		if t.urn != "" {
			ext, _ := doc[t.urn].(map[string]any)
			if ext == nil {
				ext = map[string]any{}
				doc[t.urn] = ext
			}
			obj = ext
		}
		if !t.multi() && len(t.subs) > 0 {
			cx, _ := obj[t.name].(map[string]any)
			if cx == nil {
				cx = map[string]any{}
			}
			v, err := t.value()
			if err != nil {
				return nil, err
			}
			for k, x := range v.(map[string]any) {
				if x == nil {
					delete(cx, k)
				} else {
					cx[k] = x
				}
			}
			obj[t.name] = cx
			continue
		}
		v, err := t.value()
		if err != nil {
			return nil, err
		}
		if v == nil {
			delete(obj, t.name)
		} else {
			obj[t.name] = v
		}
	}
	if c.UserName != "" {
		doc["userName"] = c.UserName
	}
	return doc, nil
}
