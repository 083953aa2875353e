package filter

import (
	"encoding/json"
	"strings"
)

// lenientValue turns a value token that is not a JSON literal into the
// value the client meant. It is the one place where the parser departs
// from RFC 7644's compValue, and only for forms real clients send:
//
//   - Single-quoted strings: 'Safe1'. The PAM draft's examples
//     (name eq 'Admin Accounts') and RFC 7644 §3.7.1 itself
//     (displayName sw 'Group') use them. Inside, \' stands for a quote and
//     the JSON escapes work as in a double-quoted string.
//   - Unquoted values: externalId eq jyoung (Microsoft's Entra ID
//     documentation), userName sw O and emails.Value co example.com
//     (Microsoft's SCIM reference Postman collection), container.name eq
//     PVWATicketingSystem (CyberArk, as driven by Netwrix). The value runs
//     to the next blank, parenthesis or bracket. true, false, null and JSON
//     numbers were already taken as literals by the parser; and, or and not
//     are refused because the client more likely forgot a value than meant
//     the word.
//
// Quoted booleans and numbers (active eq "true", Netwrix) are a type
// question, so Bind coerces them once it knows the attribute's type.
//
// It returns the value, or a problem phrased for the client.
func lenientValue(tok string) (any, string) {
	if strings.HasPrefix(tok, "'") {
		return singleQuoted(tok)
	}
	switch strings.ToLower(tok) {
	case "and", "or", "not":
		return nil, "expected a value, found the keyword " + strings.ToLower(tok) + "; quote it if it is meant as a string"
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < 0x20 || tok[i] == 0x7f {
			return nil, "an unquoted value cannot contain control characters; quote it and escape them"
		}
	}
	return tok, ""
}

// singleQuoted decodes 'text' by rewriting it as a JSON string, so that the
// escapes mean exactly what they mean in a double-quoted literal.
func singleQuoted(tok string) (any, string) {
	body := tok[1 : len(tok)-1]
	var b strings.Builder
	b.Grow(len(body) + 2)
	b.WriteByte('"')
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\' && i+1 < len(body) && body[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case c == '\\' && i+1 < len(body):
			b.WriteByte(c)
			b.WriteByte(body[i+1])
			i++
		case c == '"':
			b.WriteString(`\"`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	var s string
	if err := json.Unmarshal([]byte(b.String()), &s); err != nil {
		return nil, "invalid string literal " + tok + ": " + jsonProblem(err)
	}
	return s, ""
}
