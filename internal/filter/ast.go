package filter

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/pamscim/pamscim/internal/schema"
)

// Expr is a filter expression: *AttrExpr, *LogExpr, *NotExpr or *ValuePath.
//
// String returns the canonical spelling: keywords and operators in lower
// case, strings double-quoted with JSON escapes, only the parentheses the
// tree needs. Parse(e.String()) yields e again (for a bound expression, the
// unbound tree it came from).
type Expr interface {
	String() string
	write(b *strings.Builder)
	prec() int
}

// Precedence levels used to decide where String needs parentheses.
const (
	precOr = iota + 1
	precAnd
	precAtom
)

// AttrPath is an attribute path as the client spelled it: an optional schema
// URN, an attribute name and an optional sub-attribute name. Inside a value
// filter (emails[type eq "work"]) Attr names a sub-attribute of the
// bracketed attribute.
type AttrPath struct {
	URI  string
	Attr string
	Sub  string

	// Resolved is set by Bind: the schema attribute the path names. For a
	// bare complex attribute compared with a value (emails co "x") Bind
	// fills in its value sub-attribute, which the raw spelling lacks.
	Resolved schema.Path
}

// String returns the raw spelling "URI:Attr.Sub".
func (p AttrPath) String() string {
	var b strings.Builder
	p.write(&b)
	return b.String()
}

func (p AttrPath) write(b *strings.Builder) {
	if p.URI != "" {
		b.WriteString(p.URI)
		b.WriteByte(':')
	}
	b.WriteString(p.Attr)
	if p.Sub != "" {
		b.WriteByte('.')
		b.WriteString(p.Sub)
	}
}

// IsBound reports whether Bind resolved the path.
func (p AttrPath) IsBound() bool { return p.Resolved.Attr != nil }

// AttrExpr is a comparison "path op value" or "path pr".
type AttrExpr struct {
	Path AttrPath
	// Op is one of eq ne co sw ew gt ge lt le pr, in lower case.
	Op string
	// Value is a string, bool, json.Number, or nil for null (and for pr).
	Value any

	// Set by Bind.
	rt  *schema.ResourceType
	lit literal
}

// LogExpr is "Left and Right" or "Left or Right".
type LogExpr struct {
	Op          string // "and" or "or"
	Left, Right Expr
}

// NotExpr is "not (X)".
type NotExpr struct {
	X Expr
}

// ValuePath is "attr[filter]": Filter must hold on one element (value) of
// the complex attribute Path. Paths inside Filter name sub-attributes of
// Path. The Entra form attr[filter].sub op value is parsed into a
// ValuePath whose Filter is (filter) and (sub op value).
type ValuePath struct {
	Path   AttrPath
	Filter Expr

	rt *schema.ResourceType // set by Bind
}

func (e *AttrExpr) prec() int  { return precAtom }
func (e *NotExpr) prec() int   { return precAtom }
func (e *ValuePath) prec() int { return precAtom }
func (e *LogExpr) prec() int {
	if e.Op == "or" {
		return precOr
	}
	return precAnd
}

func (e *AttrExpr) String() string  { return str(e) }
func (e *LogExpr) String() string   { return str(e) }
func (e *NotExpr) String() string   { return str(e) }
func (e *ValuePath) String() string { return str(e) }

func str(e Expr) string {
	var b strings.Builder
	e.write(&b)
	return b.String()
}

func (e *AttrExpr) write(b *strings.Builder) {
	e.Path.write(b)
	b.WriteByte(' ')
	b.WriteString(e.Op)
	if e.Op == "pr" {
		return
	}
	b.WriteByte(' ')
	writeValue(b, e.Value)
}

func (e *LogExpr) write(b *strings.Builder) {
	p := e.prec()
	// and/or associate to the left, so a right operand of the same
	// precedence needs parentheses to keep its shape.
	writeOperand(b, e.Left, e.Left.prec() < p)
	b.WriteByte(' ')
	b.WriteString(e.Op)
	b.WriteByte(' ')
	writeOperand(b, e.Right, e.Right.prec() <= p)
}

func writeOperand(b *strings.Builder, e Expr, paren bool) {
	if paren {
		b.WriteByte('(')
	}
	e.write(b)
	if paren {
		b.WriteByte(')')
	}
}

func (e *NotExpr) write(b *strings.Builder) {
	b.WriteString("not (")
	e.X.write(b)
	b.WriteByte(')')
}

func (e *ValuePath) write(b *strings.Builder) {
	e.Path.write(b)
	b.WriteByte('[')
	e.Filter.write(b)
	b.WriteByte(']')
}

func writeValue(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case json.Number:
		b.WriteString(string(x))
	case string:
		writeString(b, x)
	default:
		// Values come from the parser or from Bind; anything else is a
		// programming error, printed so that it fails to re-parse loudly.
		b.WriteString("<invalid>")
	}
}

// writeString writes s as a JSON string. Unlike encoding/json it leaves
// <, > and & alone: the text goes into a filter, not into HTML.
func writeString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			if c < utf8.RuneSelf {
				i++
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				// Strings from the parser are valid UTF-8; keep the
				// output valid even for hand-built values.
				b.WriteString(s[start:i])
				b.WriteString(`\ufffd`)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		b.WriteString(s[start:i])
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		}
		i++
		start = i
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

// PatchPath is a PATCH operation path (RFC 7644 §3.5.2): an attribute path,
// optionally a value filter on it, and optionally a sub-attribute after the
// filter: members[value eq "x"], emails[type eq "work"].value,
// urn:…:enterprise:2.0:User:manager.
type PatchPath struct {
	Attr   AttrPath
	Filter Expr   // nil when the path has no [filter]
	Sub    string // the sub-attribute after "]", "" if none
}

// String returns the canonical spelling of the path.
func (p *PatchPath) String() string {
	var b strings.Builder
	p.Attr.write(&b)
	if p.Filter != nil {
		b.WriteByte('[')
		p.Filter.write(&b)
		b.WriteByte(']')
		if p.Sub != "" {
			b.WriteByte('.')
			b.WriteString(p.Sub)
		}
	}
	return b.String()
}
