package filter

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/pamscim/pamscim/internal/scimerr"
)

// Limits on what the parser accepts. A filter arrives in a URL or a
// SearchRequest body; anything longer than a few hundred bytes is unusual,
// and the cap keeps the cost of one request bounded (filter-parser took
// 228 ms on 5,000 nested parentheses).
const (
	MaxLength = 4096
	MaxDepth  = 64
)

// Parse parses a filter (RFC 7644 §3.4.2.2) into an unbound expression.
// Errors are scimerr.InvalidFilter.
func Parse(s string) (Expr, error) {
	return parseFilter(s, MaxLength, MaxDepth)
}

func parseFilter(s string, maxLen, maxDepth int) (Expr, error) {
	p := parser{src: s, maxDepth: maxDepth, kind: scimerr.InvalidFilter, what: "filter"}
	if err := p.checkInput(maxLen); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() {
		return nil, p.errAt(p.pos, "the filter is empty")
	}
	e, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if !p.eof() {
		return nil, p.unexpected(`"and", "or" or the end of the filter`)
	}
	return e, nil
}

// ParseAttrPath parses a plain attribute path such as name.givenName or
// urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value.
// Errors are scimerr.InvalidPath.
func ParseAttrPath(s string) (AttrPath, error) {
	p := parser{src: s, maxDepth: MaxDepth, kind: scimerr.InvalidPath, what: "path"}
	if err := p.checkInput(MaxLength); err != nil {
		return AttrPath{}, err
	}
	p.skipSpace()
	ap, err := p.parseAttrPath()
	if err != nil {
		return AttrPath{}, err
	}
	p.skipSpace()
	if !p.eof() {
		return AttrPath{}, p.unexpected("the end of the path")
	}
	return ap, nil
}

// ParsePath parses a PATCH path: attrPath, or attrPath "[" filter "]"
// optionally followed by "." subAttr. Errors are scimerr.InvalidPath.
func ParsePath(s string) (*PatchPath, error) {
	p := parser{src: s, maxDepth: MaxDepth, kind: scimerr.InvalidPath, what: "path"}
	if err := p.checkInput(MaxLength); err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.eof() {
		return nil, p.errAt(p.pos, "the path is empty")
	}
	start := p.pos
	ap, err := p.parseAttrPath()
	if err != nil {
		return nil, err
	}
	pp := &PatchPath{Attr: ap}
	if p.peek() == '[' {
		f, err := p.parseBracket(ap, start)
		if err != nil {
			return nil, err
		}
		pp.Filter = f
		if p.peek() == '.' {
			p.pos++
			sub, err := p.parseName("a sub-attribute name after \"].\"")
			if err != nil {
				return nil, err
			}
			pp.Sub = sub
		}
	}
	p.skipSpace()
	if !p.eof() {
		return nil, p.unexpected("the end of the path")
	}
	return pp, nil
}

// ParseValuePathExpr parses exactly attr[filter], the form PATCH uses to
// select values of a multi-valued attribute (members[value eq "x"]).
// Errors are scimerr.InvalidPath.
func ParseValuePathExpr(s string) (*ValuePath, error) {
	pp, err := ParsePath(s)
	if err != nil {
		return nil, err
	}
	if pp.Filter == nil || pp.Sub != "" {
		return nil, scimerr.New(scimerr.InvalidPath, "invalid path %q: expected the form attribute[filter]", s)
	}
	return &ValuePath{Path: pp.Attr, Filter: pp.Filter}, nil
}

type parser struct {
	src       string
	pos       int
	depth     int
	maxDepth  int
	inBracket bool
	kind      scimerr.Kind
	what      string // "filter" or "path", for messages
}

func (p *parser) checkInput(maxLen int) error {
	if len(p.src) > maxLen {
		return scimerr.New(p.kind, "invalid %s: it is %d bytes long, the limit is %d", p.what, len(p.src), maxLen)
	}
	if !utf8.ValidString(p.src) {
		for i := 0; i < len(p.src); {
			r, size := utf8.DecodeRuneInString(p.src[i:])
			if r == utf8.RuneError && size == 1 {
				return p.errAt(i, "the %s is not valid UTF-8", p.what)
			}
			i += size
		}
	}
	return nil
}

// errAt builds the client-facing error; positions are 1-based byte offsets.
func (p *parser) errAt(pos int, format string, args ...any) error {
	return scimerr.New(p.kind, "invalid %s at position %d: %s", p.what, pos+1, fmt.Sprintf(format, args...))
}

// unexpected reports what was found at the current position instead of want.
func (p *parser) unexpected(want string) error {
	return p.errAt(p.pos, "expected %s, found %s", want, p.found())
}

// found describes the text at the current position for an error message:
// the word there, or the single character.
func (p *parser) found() string {
	if p.eof() {
		return "the end of the " + p.what
	}
	end := p.pos
	for end < len(p.src) && end-p.pos < 32 && isWordByte(p.src[end]) {
		end++
	}
	if end == p.pos {
		_, size := utf8.DecodeRuneInString(p.src[p.pos:])
		end += size
	}
	return fmt.Sprintf("%q", p.src[p.pos:end])
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) peek() byte {
	if p.pos < len(p.src) {
		return p.src[p.pos]
	}
	return 0
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace skips blanks and reports whether there were any. Runs of
// blanks, tabs and line breaks are accepted where the RFC says SP.
func (p *parser) skipSpace() bool {
	start := p.pos
	for p.pos < len(p.src) && isSpace(p.src[p.pos]) {
		p.pos++
	}
	return p.pos > start
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// isPathByte reports whether c can appear in an attribute path: ATTRNAME
// characters, '$' (for $ref), and the ':' and '.' of URNs and sub-attributes.
func isPathByte(c byte) bool {
	return isLetter(c) || isDigit(c) || c == '-' || c == '_' || c == '$' || c == '.' || c == ':'
}

// isWordByte reports whether c continues a keyword or operator, so that
// "order" is not read as "or" followed by "der".
func isWordByte(c byte) bool { return isPathByte(c) }

// keyword consumes kw (ASCII, lower case) if it is next, case-insensitively,
// and is not the start of a longer word.
func (p *parser) keyword(kw string) bool {
	if len(p.src)-p.pos < len(kw) {
		return false
	}
	for i := 0; i < len(kw); i++ {
		if p.src[p.pos+i]|0x20 != kw[i] {
			return false
		}
	}
	if end := p.pos + len(kw); end < len(p.src) && isWordByte(p.src[end]) {
		return false
	}
	p.pos += len(kw)
	return true
}

func (p *parser) enter(pos int) error {
	p.depth++
	if p.depth > p.maxDepth {
		return p.errAt(pos, "the %s nests deeper than %d levels", p.what, p.maxDepth)
	}
	return nil
}

// parseOr: andExpr *("or" andExpr)
func (p *parser) parseOr() (Expr, error) {
	left, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for {
		save := p.pos
		p.skipSpace()
		if !p.keyword("or") {
			p.pos = save
			return left, nil
		}
		right, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		left = &LogExpr{Op: "or", Left: left, Right: right}
	}
}

// parseAnd: unary *("and" unary)
func (p *parser) parseAnd() (Expr, error) {
	left, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		save := p.pos
		p.skipSpace()
		if !p.keyword("and") {
			p.pos = save
			return left, nil
		}
		right, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		left = &LogExpr{Op: "and", Left: left, Right: right}
	}
}

// parseUnary: "not" "(" filter ")" / "(" filter ")" / atom
func (p *parser) parseUnary() (Expr, error) {
	p.skipSpace()
	start := p.pos
	if p.keyword("not") {
		p.skipSpace()
		if p.peek() == '(' {
			x, err := p.parseGroup()
			if err != nil {
				return nil, err
			}
			return &NotExpr{X: x}, nil
		}
		// "not" followed by an operator is an attribute that happens to
		// be called not; otherwise the parentheses, which the RFC
		// requires, are missing.
		if !p.atOperator() {
			return nil, p.errAt(p.pos, "expected \"(\" after \"not\": write not (filter), found %s", p.found())
		}
		p.pos = start
	}
	if p.peek() == '(' {
		return p.parseGroup()
	}
	return p.parseAtom()
}

// atOperator reports whether a comparison operator is at the current
// position.
func (p *parser) atOperator() bool {
	end := p.pos
	for end < len(p.src) && isLetter(p.src[end]) {
		end++
	}
	return end-p.pos == 2 && (end == len(p.src) || !isWordByte(p.src[end])) && opName(p.src[p.pos], p.src[p.pos+1]) != ""
}

// parseGroup parses "(" filter ")" at the current position.
func (p *parser) parseGroup() (Expr, error) {
	open := p.pos
	if err := p.enter(open); err != nil {
		return nil, err
	}
	p.pos++
	x, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.peek() != ')' {
		if p.eof() {
			return nil, p.errAt(p.pos, "missing ) to close the ( at position %d", open+1)
		}
		return nil, p.unexpected(`"and", "or" or ")"`)
	}
	p.pos++
	p.depth--
	return x, nil
}

// parseAtom: attrPath "[" filter "]" ["." name compare] / attrPath compare
func (p *parser) parseAtom() (Expr, error) {
	start := p.pos
	path, err := p.parseAttrPath()
	if err != nil {
		return nil, err
	}
	if p.peek() != '[' {
		return p.parseComparison(path)
	}
	inner, err := p.parseBracket(path, start)
	if err != nil {
		return nil, err
	}
	vp := &ValuePath{Path: path, Filter: inner}
	if p.peek() == '.' {
		// Entra ID: emails[type eq "work"].value eq "x". Both conditions
		// are about the same element, so they become one value filter.
		p.pos++
		name, err := p.parseName("a sub-attribute name after \"].\"")
		if err != nil {
			return nil, err
		}
		cmp, err := p.parseComparison(AttrPath{Attr: name})
		if err != nil {
			return nil, err
		}
		vp.Filter = &LogExpr{Op: "and", Left: inner, Right: cmp}
	}
	return vp, nil
}

// parseBracket parses "[" filter "]" after the attribute path that starts
// at pathStart.
func (p *parser) parseBracket(path AttrPath, pathStart int) (Expr, error) {
	open := p.pos
	if p.inBracket {
		return nil, p.errAt(open, "value filters cannot be nested")
	}
	if path.Sub != "" {
		return nil, p.errAt(open, "a value filter applies to an attribute, not to the sub-attribute %q", path.String())
	}
	if err := p.enter(open); err != nil {
		return nil, err
	}
	p.pos++
	p.inBracket = true
	inner, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.peek() != ']' {
		if p.eof() {
			return nil, p.errAt(p.pos, "missing ] to close the [ at position %d", open+1)
		}
		return nil, p.unexpected(`"and", "or" or "]"`)
	}
	p.pos++
	p.inBracket = false
	p.depth--
	return inner, nil
}

// parseComparison parses the operator and value that follow path.
func (p *parser) parseComparison(path AttrPath) (Expr, error) {
	if !p.skipSpace() {
		if p.eof() {
			return nil, p.errAt(p.pos, "expected an operator after %q", path.String())
		}
		return nil, p.errAt(p.pos, "expected a space and an operator after %q, found %s", path.String(), p.found())
	}
	opPos := p.pos
	end := p.pos
	for end < len(p.src) && isLetter(p.src[end]) {
		end++
	}
	op := ""
	if end-p.pos == 2 && (end == len(p.src) || !isWordByte(p.src[end])) {
		op = opName(p.src[p.pos], p.src[p.pos+1])
	}
	if op == "" {
		if p.eof() {
			return nil, p.errAt(opPos, "expected a comparison operator after %q", path.String())
		}
		return nil, p.errAt(opPos, "expected a comparison operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after %q, found %s", path.String(), p.found())
	}
	p.pos = end
	e := &AttrExpr{Path: path, Op: op}
	if op == "pr" {
		return e, nil
	}
	p.skipSpace()
	v, err := p.parseValue(op)
	if err != nil {
		return nil, err
	}
	e.Value = v
	return e, nil
}

// opName returns the canonical operator spelled by the two letters, or "".
func opName(a, b byte) string {
	switch uint16(a|0x20)<<8 | uint16(b|0x20) {
	case 'e'<<8 | 'q':
		return "eq"
	case 'n'<<8 | 'e':
		return "ne"
	case 'c'<<8 | 'o':
		return "co"
	case 's'<<8 | 'w':
		return "sw"
	case 'e'<<8 | 'w':
		return "ew"
	case 'g'<<8 | 't':
		return "gt"
	case 'g'<<8 | 'e':
		return "ge"
	case 'l'<<8 | 't':
		return "lt"
	case 'l'<<8 | 'e':
		return "le"
	case 'p'<<8 | 'r':
		return "pr"
	}
	return ""
}

// parseValue parses compValue: a JSON string, number, true, false or null,
// or one of the lenient forms of lenient.go.
func (p *parser) parseValue(op string) (any, error) {
	start := p.pos
	v, err := p.parseLiteral(op)
	if err != nil {
		return nil, err
	}
	if s, ok := v.(string); ok && strings.IndexByte(s, 0) >= 0 {
		// No identity value contains NUL, and SQLite's LIKE stops at one,
		// so the SQL and the evaluator would disagree on it.
		return nil, p.errAt(start, "a filter value cannot contain the NUL character (\\u0000)")
	}
	return v, nil
}

func (p *parser) parseLiteral(op string) (any, error) {
	start := p.pos
	switch c := p.peek(); {
	case p.eof():
		return nil, p.errAt(start, "expected a value after %q", op)
	case c == '"':
		return p.parseString()
	case c == '\'':
		end, ok := scanQuoted(p.src, start, '\'')
		if !ok {
			return nil, p.errAt(start, "the string starting here is not terminated")
		}
		p.pos = end
		v, problem := lenientValue(p.src[start:end])
		if problem != "" {
			return nil, p.errAt(start, "%s", problem)
		}
		return v, nil
	case c == ')' || c == ']' || c == '(' || c == '[':
		return nil, p.errAt(start, "expected a value after %q, found %s", op, p.found())
	}
	end := start
	for end < len(p.src) && !isValueDelim(p.src[end]) {
		end++
	}
	word := p.src[start:end]
	p.pos = end
	switch strings.ToLower(word) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	if isJSONNumber(word) {
		return json.Number(word), nil
	}
	v, problem := lenientValue(word)
	if problem != "" {
		return nil, p.errAt(start, "%s", problem)
	}
	return v, nil
}

// isValueDelim ends an unquoted value.
func isValueDelim(c byte) bool {
	return isSpace(c) || c == '(' || c == ')' || c == '[' || c == ']' || c == '"' || c == '\''
}

// parseString parses a JSON string literal at the current position.
func (p *parser) parseString() (string, error) {
	start := p.pos
	end, ok := scanQuoted(p.src, start, '"')
	if !ok {
		return "", p.errAt(start, "the string starting here is not terminated")
	}
	p.pos = end
	body := p.src[start+1 : end-1]
	plain := true
	for i := 0; i < len(body); i++ {
		if c := body[i]; c == '\\' || c < 0x20 {
			plain = false
			break
		}
	}
	if plain {
		// The common case needs no decoding and no copy.
		return body, nil
	}
	var s string
	if err := json.Unmarshal([]byte(p.src[start:end]), &s); err != nil {
		return "", p.errAt(start, "invalid string literal %s: %s", p.src[start:end], jsonProblem(err))
	}
	return s, nil
}

// jsonProblem turns an encoding/json error about a string literal into a
// phrase for a client.
func jsonProblem(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "invalid character"); i >= 0 {
		msg = msg[i:]
	}
	if strings.Contains(msg, "in string literal") && strings.Contains(msg, "invalid character '\\") {
		return msg
	}
	if strings.Contains(msg, "in string literal") {
		return msg + " (control characters must be escaped)"
	}
	return msg
}

// scanQuoted returns the offset just past the closing quote of the literal
// opened at start, honouring backslash escapes.
func scanQuoted(s string, start int, quote byte) (int, bool) {
	for i := start + 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case quote:
			return i + 1, true
		}
	}
	return 0, false
}

// isJSONNumber reports whether s is a number in RFC 8259 syntax.
func isJSONNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i == len(s)
}

// parseAttrPath parses [URI ":"] ATTRNAME ["." ATTRNAME]. The URI is
// everything up to the last ':'; since URNs contain '.', the sub-attribute
// is looked for only after that ':'. Which URN the client meant is decided
// in Bind, against the schemas the resource type actually has.
func (p *parser) parseAttrPath() (AttrPath, error) {
	start := p.pos
	for p.pos < len(p.src) && isPathByte(p.src[p.pos]) {
		p.pos++
	}
	raw := p.src[start:p.pos]
	if raw == "" {
		p.pos = start
		return AttrPath{}, p.unexpected("an attribute name")
	}
	var ap AttrPath
	rest, restPos := raw, start
	if i := strings.LastIndexByte(raw, ':'); i >= 0 {
		ap.URI = raw[:i]
		rest, restPos = raw[i+1:], start+i+1
		if err := p.checkURI(ap.URI, start); err != nil {
			return AttrPath{}, err
		}
	}
	name, sub, hasSub := strings.Cut(rest, ".")
	if err := p.checkName(name, restPos, "an attribute name"); err != nil {
		return AttrPath{}, err
	}
	ap.Attr = name
	if hasSub {
		if err := p.checkName(sub, restPos+len(name)+1, "a sub-attribute name"); err != nil {
			return AttrPath{}, err
		}
		ap.Sub = sub
	}
	return ap, nil
}

// parseName parses a lone ATTRNAME (the sub-attribute after "].").
func (p *parser) parseName(want string) (string, error) {
	start := p.pos
	for p.pos < len(p.src) && isPathByte(p.src[p.pos]) && p.src[p.pos] != '.' && p.src[p.pos] != ':' {
		p.pos++
	}
	name := p.src[start:p.pos]
	if name == "" {
		return "", p.unexpected(want)
	}
	return name, p.checkName(name, start, want)
}

// checkName validates ATTRNAME = (ALPHA / "$") *(ALPHA / DIGIT / "-" / "_" / "$").
// The RFC's grammar has no "$", but RFC 7643 §2.1 names a sub-attribute $ref.
func (p *parser) checkName(name string, pos int, want string) error {
	if name == "" {
		return p.errAt(pos, "expected %s", want)
	}
	if c := name[0]; !isLetter(c) && c != '$' {
		return p.errAt(pos, "%q is not a valid attribute name: it must start with a letter", name)
	}
	for i := 1; i < len(name); i++ {
		c := name[i]
		if !isLetter(c) && !isDigit(c) && c != '-' && c != '_' && c != '$' {
			return p.errAt(pos+i, "%q is not a valid attribute name", name)
		}
	}
	return nil
}

// checkURI validates the schema URN prefix loosely: colon-separated,
// non-empty segments. Whether it names a known schema is Bind's business.
func (p *parser) checkURI(uri string, pos int) error {
	segStart := 0
	for i := 0; i <= len(uri); i++ {
		if i == len(uri) || uri[i] == ':' {
			if i == segStart {
				return p.errAt(pos+i, "empty segment in the schema URN %q", uri)
			}
			segStart = i + 1
			continue
		}
		if uri[i] == '$' {
			return p.errAt(pos+i, "invalid character '$' in the schema URN %q", uri)
		}
	}
	return nil
}
