package provlog

import (
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pamscim/pamscim/internal/schema"
)

// Redacted replaces every secret value in a stored body.
const Redacted = "[redacted]"

// tokenNames are secret names that no SCIM schema declares but that carry
// credentials wherever they turn up (OAuth responses and form fields, a
// client that echoes a header into a body).
var tokenNames = []string{
	"password", "secret", "token", "access_token", "refresh_token", "id_token",
	"client_secret", "assertion", "client_assertion", "authorization", "apikey", "api_key",
}

// formKeep are the token endpoint's form fields that are not secret; every
// other field's value is redacted.
var formKeep = map[string]bool{
	"grant_type": true, "scope": true, "client_id": true, "token_type_hint": true,
	"client_assertion_type": true, "username": true, "response_type": true, "redirect_uri": true,
}

// pamscimToken matches pamscim's own secrets (named tokens, access and
// refresh tokens, client secrets) wherever they appear (internal/audit uses
// the same prefixes).
var pamscimToken = regexp.MustCompile(`pamscim_(pat|at|rt|cs)_[A-Za-z0-9_\-]*`)

// maxDepth bounds the nesting the JSON redactor follows; deeper documents
// are not SCIM and get the skeleton treatment.
const maxDepth = 64

// minEcho is the shortest secret looked for in a response: a shorter one
// would blank out ordinary text, and a server error message does not quote
// values that short in a way that gives them away.
const minEcho = 4

// Redactor removes secrets from request and response bodies. Which
// attributes are secret comes from the schema registry: every attribute
// that is writeOnly or returned "never" (User.password, the Credential
// extension's secret), plus the OAuth names in tokenNames.
type Redactor struct {
	names   map[string]bool // lower-case attribute names
	needles [][]byte        // lower-case: a body with none of them has nothing to redact
	// byFirst lists the needles by their first byte, in either case;
	// starts marks those bytes (a byte table stays in the cache).
	byFirst [256][][]byte
	starts  [256]bool
}

// NewRedactor reads the secret attributes of reg.
func NewRedactor(reg *schema.Registry) *Redactor {
	r := &Redactor{names: map[string]bool{}}
	var walk func(attrs []*schema.Attribute)
	walk = func(attrs []*schema.Attribute) {
		for _, a := range attrs {
			if a.Mutability == "writeOnly" || a.Returned == "never" {
				r.names[strings.ToLower(a.Name)] = true
			}
			walk(a.SubAttributes)
		}
	}
	if reg != nil {
		for _, s := range reg.Schemas() {
			walk(s.Attributes)
		}
	}
	for _, n := range tokenNames {
		r.names[n] = true
	}
	// A JSON escape can spell a secret name without its letters in a row,
	// and pamscim's own tokens are secret under any name.
	r.needles = needles(append(slices.Collect(maps.Keys(r.names)), `\u`, "pamscim_"))
	for _, n := range r.needles {
		c := n[0]
		r.byFirst[c] = append(r.byFirst[c], n)
		r.starts[c] = true
		if 'a' <= c && c <= 'z' {
			r.byFirst[c-'a'+'A'] = append(r.byFirst[c-'a'+'A'], n)
			r.starts[c-'a'+'A'] = true
		}
	}
	return r
}

// needles keeps of names those that contain no other: a body that holds
// "refresh_token" holds "token", so one search does for both (mayHold runs
// on every logged body).
func needles(names []string) [][]byte {
	sort.Strings(names)
	var out [][]byte
	for _, n := range names {
		inner := false
		for _, m := range names {
			if m != n && strings.Contains(n, m) {
				inner = true
				break
			}
		}
		if !inner {
			out = append(out, []byte(n))
		}
	}
	return out
}

// Names returns the secret attribute names, sorted (documentation, tests).
func (r *Redactor) Names() []string {
	var out []string
	for n := range r.names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Request redacts a request body. complete says whether body is all of it
// (a body cut at the capture limit cannot be parsed, and the path that makes
// a PATCH value secret may be in the part that was cut off, so it keeps
// only its skeleton). It returns the redacted body and the secret values it
// removed, so that Response can remove them should the server's answer
// quote one.
func (r *Redactor) Request(body []byte, contentType string, complete bool) ([]byte, []string) {
	if len(body) == 0 {
		return body, nil
	}
	if !complete {
		return r.skeleton(body)
	}
	if isForm(contentType) {
		return r.form(body)
	}
	return r.json(body)
}

// Response redacts a response body and removes the request's secrets
// wherever they appear in it.
func (r *Redactor) Response(body []byte, contentType string, complete bool, secrets []string) []byte {
	if len(body) == 0 {
		return body
	}
	var out []byte
	if !complete {
		out, _ = r.skeleton(body)
	} else if isForm(contentType) {
		out, _ = r.form(body)
	} else {
		out, _ = r.json(body)
	}
	for _, s := range secrets {
		if len(s) < minEcho {
			continue
		}
		out = bytes.ReplaceAll(out, []byte(s), []byte(Redacted))
		if q := jsonInner(s); q != s {
			out = bytes.ReplaceAll(out, []byte(q), []byte(Redacted))
		}
	}
	return out
}

func isForm(ct string) bool {
	ct, _, _ = strings.Cut(ct, ";")
	return strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded")
}

// mayHold reports whether body can hold anything to redact: it names a
// secret attribute, has a JSON escape, or carries a pamscim token. Most
// SCIM bodies do not, and are kept as they are without being parsed. It
// runs on every logged body, so it is one pass without a copy: at each byte
// that starts a needle (in either case), the needles starting with it are
// compared, ignoring ASCII case. (Lower-casing a copy and searching it once
// per needle cost a fifth of the log's CPU.)
func (r *Redactor) mayHold(body []byte) bool {
	for i, c := range body {
		if !r.starts[c] {
			continue
		}
		for _, n := range r.byFirst[c] {
			if len(body)-i >= len(n) && hasFoldASCII(body[i+1:i+len(n)], n[1:]) {
				return true
			}
		}
	}
	return false
}

// hasFoldASCII reports whether b equals the lower-case n, ignoring the case
// of ASCII letters in b.
func hasFoldASCII(b, n []byte) bool {
	for k, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != n[k] {
			return false
		}
	}
	return true
}

// json redacts a JSON body, keeping its member order. A body that does not
// parse (malformed, cut at the capture limit, too deep) keeps only its
// skeleton: keys and structure, every value replaced.
func (r *Redactor) json(body []byte) ([]byte, []string) {
	if !r.mayHold(body) {
		return body, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	n, err := parse(dec, 0)
	if err == nil {
		if _, err2 := dec.Token(); err2 != io.EOF {
			err = errTrailing
		}
	}
	if err != nil {
		return r.skeleton(body)
	}
	var secrets []string
	r.walk(n, &secrets)
	var b bytes.Buffer
	b.Grow(len(body))
	n.write(&b)
	return b.Bytes(), secrets
}

// walk redacts n in place.
func (r *Redactor) walk(n *node, secrets *[]string) {
	switch n.kind {
	case kObject:
		// A PATCH operation: {"op": "replace", "path": "password", "value": …},
		// in any member order and any case ("Replace", "Path").
		valueSecret := false
		for i, k := range n.keys {
			if strings.EqualFold(k, "path") && n.vals[i].kind == kString && r.pathSecret(n.vals[i].s) {
				valueSecret = true
			}
		}
		for i, k := range n.keys {
			if r.pathSecret(k) || (valueSecret && strings.EqualFold(k, "value")) {
				redactNode(n.vals[i], secrets)
				continue
			}
			if pamscimToken.MatchString(k) {
				n.keys[i] = pamscimToken.ReplaceAllString(k, Redacted)
			}
			r.walk(n.vals[i], secrets)
		}
	case kArray:
		for _, v := range n.vals {
			r.walk(v, secrets)
		}
	case kString:
		if pamscimToken.MatchString(n.s) {
			*secrets = append(*secrets, pamscimToken.FindAllString(n.s, -1)...)
			n.s = pamscimToken.ReplaceAllString(n.s, Redacted)
		}
	}
}

// redactNode replaces a secret value (of any shape) by the marker and
// collects the strings it held.
func redactNode(n *node, secrets *[]string) {
	var collect func(n *node)
	collect = func(n *node) {
		switch n.kind {
		case kString, kNumber:
			*secrets = append(*secrets, n.s)
		case kObject, kArray:
			for _, v := range n.vals {
				collect(v)
			}
		}
	}
	collect(n)
	if n.kind == kNull {
		return // removing a secret ("value": null) gives nothing away
	}
	*n = node{kind: kString, s: Redacted}
}

// pathSecret reports whether an attribute path or member name names a
// secret: "password", "PassWord", "urn:…:core:2.0:User:password",
// "urn:pamscim:…:Credential:secret", "secret.x", "password[…]".
func (r *Redactor) pathSecret(p string) bool {
	if i := strings.IndexByte(p, '['); i >= 0 {
		// Drop value filters, which may hold colons and dots of their own.
		rest := p[i:]
		p = p[:i]
		if j := strings.LastIndexByte(rest, ']'); j >= 0 {
			p += rest[j+1:]
		}
	}
	if i := strings.LastIndexByte(p, ':'); i >= 0 {
		p = p[i+1:]
	}
	for seg := range strings.SplitSeq(p, ".") {
		if r.names[strings.ToLower(strings.TrimSpace(seg))] {
			return true
		}
	}
	return false
}

// form redacts a form body: every value but the token endpoint's harmless
// fields.
func (r *Redactor) form(body []byte) ([]byte, []string) {
	vals, err := url.ParseQuery(string(body))
	if err != nil {
		return r.skeleton(body)
	}
	var secrets []string
	for k, vs := range vals {
		if formKeep[strings.ToLower(k)] && !pamscimToken.MatchString(strings.Join(vs, "")) {
			continue
		}
		secrets = append(secrets, vs...)
		for i := range vs {
			vs[i] = Redacted
		}
	}
	return []byte(vals.Encode()), secrets
}

// skeleton keeps the structure of something that is not a whole JSON
// document: keys (a string followed by a colon), brackets, commas and the
// literals true, false and null. Every other string and every other run of
// characters becomes a marker, so a secret in a malformed or cut body
// cannot survive unless it is written as a member name.
func (r *Redactor) skeleton(body []byte) ([]byte, []string) {
	var (
		out     bytes.Buffer
		secrets []string
		// lastKey is the member name the next value belongs to: the value
		// of a secret name is also hunted in the response.
		lastKey string
	)
	out.Grow(len(body))
	i := 0
	for i < len(body) {
		c := body[i]
		switch {
		case c == '"':
			j := i + 1
			for j < len(body) && body[j] != '"' {
				if body[j] == '\\' {
					j++
				}
				j++
			}
			closed := j < len(body)
			k := j + 1
			for k < len(body) && isSpace(body[k]) {
				k++
			}
			lit := body[i:min(j+1, len(body))]
			var str string
			decoded := closed && json.Unmarshal(lit, &str) == nil
			if closed && k < len(body) && body[k] == ':' {
				// A member name is kept (it says where a value was)
				// unless it does not decode or carries a token.
				if !decoded || pamscimToken.Match(lit) {
					out.WriteString(`"` + Redacted + `"`)
					lastKey = ""
				} else {
					out.Write(lit)
					lastKey = str
				}
			} else {
				out.WriteString(`"` + Redacted + `"`)
				if lastKey != "" && r.pathSecret(lastKey) {
					if !decoded {
						str = string(bytes.TrimPrefix(lit, []byte(`"`)))
					}
					secrets = append(secrets, str)
				}
				lastKey = ""
			}
			i = min(j+1, len(body))
		case isSpace(c) || c == ':':
			out.WriteByte(c)
			i++
		case c == '{' || c == '}' || c == '[' || c == ']' || c == ',':
			out.WriteByte(c)
			lastKey = ""
			i++
		default:
			j := i
			for j < len(body) && !isSpace(body[j]) && !strings.ContainsRune(`{}[],:"`, rune(body[j])) {
				j++
			}
			switch w := string(body[i:j]); w {
			case "true", "false", "null":
				out.WriteString(w)
			default:
				out.WriteString("?")
				if lastKey != "" && r.pathSecret(lastKey) {
					secrets = append(secrets, w)
				}
			}
			lastKey = ""
			i = j
		}
	}
	return out.Bytes(), secrets
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// jsonInner is s as it appears inside a JSON string literal.
func jsonInner(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// Cut caps a stored body at max bytes (on a UTF-8 boundary) and marks it
// when it was cut here or when only part of it was captured (total is the
// size the body had on the wire).
func Cut(b []byte, max int, complete bool, total int64) []byte {
	if len(b) <= max && complete {
		return b
	}
	n := min(len(b), max)
	for n > 0 && n < len(b) && !utf8.RuneStart(b[n]) {
		n--
	}
	marker := "\n[pamscim: body cut, " + strconv.FormatInt(total, 10) + " bytes in all]"
	out := make([]byte, 0, n+len(marker))
	out = append(out, b[:n]...)
	return append(out, marker...)
}
