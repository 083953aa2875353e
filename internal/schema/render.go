package schema

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// Projection decides which attributes a response carries (RFC 7644 §3.4.2.5,
// §3.9 and the "returned" rules of RFC 7643 §7). The zero value means "the
// default set".
type Projection struct {
	include    bool // attributes= was given
	exclude    bool // excludedAttributes= was given
	named      map[*Attribute]bool
	namedExt   map[*Schema]bool
	requested  map[*Attribute]bool // attributes the write request named
	namedAny   bool
	unresolved []string
}

// ParseProjection builds a projection from the attributes and
// excludedAttributes parameters (comma-separated lists already split).
// Names the resource type does not define are ignored, as RFC 7644 asks
// servers to be liberal with parameters they do not understand.
func (rt *ResourceType) ParseProjection(attributes, excluded []string) *Projection {
	p := &Projection{named: map[*Attribute]bool{}, namedExt: map[*Schema]bool{}}
	list := attributes
	if len(attributes) > 0 {
		p.include = true
	} else if len(excluded) > 0 {
		p.exclude = true
		list = excluded
	}
	for _, name := range list {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		path, err := rt.ResolvePath(name)
		if err != nil {
			p.unresolved = append(p.unresolved, name)
			continue
		}
		p.namedAny = true
		switch {
		case path.Attr == nil:
			p.namedExt[path.Schema] = true
		case path.Sub != nil:
			p.named[path.Sub] = true
		default:
			p.named[path.Attr] = true
		}
	}
	if !p.namedAny {
		p.include, p.exclude = false, false
	}
	return p
}

// WithRequested marks attributes that a POST/PUT/PATCH request set, so that
// their "returned: request" values appear in its response (RFC 7643 §7).
func (p *Projection) WithRequested(attrs []*Attribute) *Projection {
	q := *p
	q.requested = map[*Attribute]bool{}
	for _, a := range attrs {
		q.requested[a] = true
	}
	return &q
}

func (p *Projection) isNamed(a *Attribute) bool {
	if p == nil {
		return false
	}
	if p.named[a] {
		return true
	}
	top := a
	if a.Parent != nil {
		top = a.Parent
		if p.named[top] {
			return true
		}
	}
	return top.Schema != nil && p.namedExt[top.Schema]
}

func (p *Projection) hasNamedSub(a *Attribute) bool {
	for _, s := range a.SubAttributes {
		if p.named[s] {
			return true
		}
	}
	return false
}

// Includes reports whether top-level attribute a is returned.
func (p *Projection) Includes(a *Attribute) bool {
	switch a.Returned {
	case ReturnNever:
		return false
	case ReturnAlways:
		return true
	}
	if a.Mutability == WriteOnly {
		return false
	}
	if p == nil {
		return a.Returned == ReturnDefault
	}
	switch {
	case p.include:
		return p.isNamed(a) || p.hasNamedSub(a)
	case p.exclude:
		if p.isNamed(a) {
			return false
		}
	}
	if a.Returned == ReturnRequest {
		return p.requested[a]
	}
	return true
}

// IncludesSub reports whether sub-attribute s of an included attribute is returned.
func (p *Projection) IncludesSub(s *Attribute) bool {
	switch s.Returned {
	case ReturnNever:
		return false
	case ReturnAlways:
		return true
	}
	if s.Mutability == WriteOnly {
		return false
	}
	if p == nil {
		return s.Returned == ReturnDefault
	}
	switch {
	case p.include:
		if p.named[s] || (p.isNamed(s.Parent) && s.Returned == ReturnDefault) {
			return true
		}
		return false
	case p.exclude:
		if p.named[s] {
			return false
		}
	}
	if s.Returned == ReturnRequest {
		return p.requested[s] || p.requested[s.Parent]
	}
	return true
}

// Meta is the server-maintained metadata of a resource (RFC 7643 §3.1).
type Meta struct {
	Created      time.Time
	LastModified time.Time
	Location     string
	Version      string
}

// Rendered is what Render needs to write one resource.
type Rendered struct {
	ID         string
	Doc        Doc
	Meta       Meta
	Relational map[*Attribute][]any
}

// Render writes the resource as SCIM JSON with its attributes in schema order
// (schemas, id, externalId, core attributes, extensions, meta), after applying
// the projection. Unassigned values are never written.
func (rt *ResourceType) Render(r *Rendered, p *Projection) []byte {
	var b bytes.Buffer
	b.Grow(512)
	b.WriteString(`{"schemas":[`)
	writeString(&b, rt.Schema.ID)
	for _, e := range rt.Extensions {
		if m, ok := r.Doc[e.Schema.ID].(map[string]any); ok && len(m) > 0 {
			b.WriteByte(',')
			writeString(&b, e.Schema.ID)
		}
	}
	b.WriteString(`],"id":`)
	writeString(&b, r.ID)
	if ext, ok := r.Doc["externalId"].(string); ok && p.Includes(rt.reg.Common("externalId")) {
		b.WriteString(`,"externalId":`)
		writeString(&b, ext)
	}
	rt.writeAttrs(&b, rt.Schema, r.Doc, r.Relational, p, true)
	for _, e := range rt.Extensions {
		m, ok := r.Doc[e.Schema.ID].(map[string]any)
		if !ok || len(m) == 0 {
			continue
		}
		var eb bytes.Buffer
		rt.writeAttrs(&eb, e.Schema, m, nil, p, false)
		if eb.Len() > 0 {
			b.WriteByte(',')
			writeString(&b, e.Schema.ID)
			b.WriteString(":{")
			b.Write(eb.Bytes()[1:]) // drop the leading comma
			b.WriteByte('}')
		}
	}
	if p.Includes(rt.reg.Common("meta")) {
		b.WriteString(`,"meta":{"resourceType":`)
		writeString(&b, rt.Name)
		if !r.Meta.Created.IsZero() {
			b.WriteString(`,"created":`)
			writeString(&b, FormatTime(r.Meta.Created))
			b.WriteString(`,"lastModified":`)
			writeString(&b, FormatTime(r.Meta.LastModified))
		}
		if r.Meta.Location != "" {
			b.WriteString(`,"location":`)
			writeString(&b, r.Meta.Location)
		}
		if r.Meta.Version != "" {
			b.WriteString(`,"version":`)
			writeString(&b, r.Meta.Version)
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.Bytes()
}

// FormatTime formats a timestamp as SCIM dateTime with millisecond precision in UTC.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// writeAttrs writes ,"name":value pairs for the attributes of s present in m.
func (rt *ResourceType) writeAttrs(b *bytes.Buffer, s *Schema, m map[string]any, rel map[*Attribute][]any, p *Projection, core bool) {
	for _, a := range s.Attributes {
		var v any
		if core && rt.Relations[a] != RelNone {
			list, ok := rel[a]
			if !ok || len(list) == 0 {
				continue
			}
			v = list
		} else {
			var ok bool
			if v, ok = m[a.Name]; !ok {
				continue
			}
		}
		if !p.Includes(a) {
			continue
		}
		mark := b.Len()
		b.WriteByte(',')
		writeString(b, a.Name)
		b.WriteByte(':')
		if !writeValue(b, a, v, p) {
			b.Truncate(mark)
		}
	}
}

// writeValue writes v; it returns false (writing nothing useful) when the
// projection leaves nothing of a complex value.
func writeValue(b *bytes.Buffer, a *Attribute, v any, p *Projection) bool {
	if a.MultiValued {
		list, _ := v.([]any)
		b.WriteByte('[')
		n := 0
		for _, el := range list {
			mark := b.Len()
			if n > 0 {
				b.WriteByte(',')
			}
			if writeSingle(b, a, el, p) {
				n++
			} else {
				b.Truncate(mark)
			}
		}
		b.WriteByte(']')
		return n > 0
	}
	return writeSingle(b, a, v, p)
}

func writeSingle(b *bytes.Buffer, a *Attribute, v any, p *Projection) bool {
	if !a.IsComplex() {
		writeJSON(b, v)
		return true
	}
	m, _ := v.(map[string]any)
	b.WriteByte('{')
	n := 0
	for _, s := range a.SubAttributes {
		sv, ok := m[s.Name]
		if !ok || !p.IncludesSub(s) {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		writeString(b, s.Name)
		b.WriteByte(':')
		writeJSON(b, sv)
		n++
	}
	b.WriteByte('}')
	return n > 0
}

func writeString(b *bytes.Buffer, s string) {
	writeJSON(b, s)
}

func writeJSON(b *bytes.Buffer, v any) {
	enc, err := json.Marshal(v)
	if err != nil {
		b.WriteString("null")
		return
	}
	b.Write(enc)
}
