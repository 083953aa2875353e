package patch

import (
	"encoding/json"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
)

// Op is one PATCH operation in RFC 7644 form.
type Op struct {
	// Op is "add", "remove" or "replace", always in lower case.
	Op string
	// Path is the target path as the client wrote it (trimmed); "" means the
	// resource itself, and then Value is an object of attributes.
	Path string
	// Value is the decoded JSON value (numbers as json.Number); nil when the
	// client sent null or no value.
	Value any
}

// The three operations of RFC 7644 §3.5.2.
const (
	OpAdd     = "add"
	OpRemove  = "remove"
	OpReplace = "replace"
)

// MaxOperations bounds one PATCH request. The body size limit of the HTTP
// layer bounds it too, but an operation like {"op":"add","path":"a","value":1}
// costs the applier far more than its 40 bytes, so the count is capped
// separately.
const MaxOperations = 10000

// Decode parses a PATCH request body and returns its operations in RFC 7644
// form. It is the one place where the clients' dialects of the envelope and
// of single operations are normalised (see the package documentation for
// the list); dialects that need the schema to be recognised (dotted keys,
// short extension paths, bare values for complex attributes) are resolved by
// Apply.
//
// Errors: a body that is not JSON, has no operations or an operation of an
// unknown kind is InvalidSyntax; a remove without a path is NoTarget.
func Decode(body []byte) ([]Op, error) {
	v, err := schema.DecodeJSON(body)
	if err != nil {
		return nil, err
	}
	var rawOps []any
	switch x := v.(type) {
	case []any:
		// SailPoint sends the Operations array alone, without the envelope.
		rawOps = x
	case map[string]any:
		rawOps, err = envelope(x)
		if err != nil {
			return nil, err
		}
	default:
		return nil, scimerr.New(scimerr.InvalidSyntax, "a PATCH body must be a PatchOp object with an \"Operations\" array")
	}
	if len(rawOps) == 0 {
		return nil, scimerr.New(scimerr.InvalidSyntax, "a PATCH request must contain at least one operation")
	}
	if len(rawOps) > MaxOperations {
		return nil, scimerr.New(scimerr.InvalidSyntax, "a PATCH request may contain at most %d operations, this one has %d", MaxOperations, len(rawOps))
	}
	ops := make([]Op, 0, len(rawOps))
	for i, ro := range rawOps {
		decoded, err := decodeOp(i+1, ro)
		if err != nil {
			return nil, err
		}
		ops = append(ops, decoded...)
	}
	return ops, nil
}

// envelope checks the PatchOp message and returns its Operations. Key names
// are matched case-insensitively (clients send "Operations" and
// "operations"). A missing "schemas" is tolerated, since the operations say
// unambiguously what the client wants; a "schemas" that lacks the PatchOp URN
// is a different message sent to the wrong endpoint and is refused.
func envelope(m map[string]any) ([]any, error) {
	var ops any
	found := false
	for k, v := range m {
		switch strings.ToLower(k) {
		case "operations":
			if found {
				return nil, scimerr.New(scimerr.InvalidSyntax, "the PATCH body has \"Operations\" twice")
			}
			ops, found = v, true
		case "schemas":
			if err := checkSchemas(v); err != nil {
				return nil, err
			}
		}
	}
	if !found || ops == nil {
		return nil, scimerr.New(scimerr.InvalidSyntax, "the PATCH body has no \"Operations\" array")
	}
	list, ok := ops.([]any)
	if !ok {
		return nil, scimerr.New(scimerr.InvalidSyntax, "\"Operations\" must be an array of operations")
	}
	return list, nil
}

func checkSchemas(v any) error {
	list, ok := v.([]any)
	if !ok {
		if s, isStr := v.(string); isStr {
			list = []any{s}
		} else if v == nil {
			return nil
		} else {
			return scimerr.New(scimerr.InvalidSyntax, "\"schemas\" must be an array of URIs")
		}
	}
	for _, s := range list {
		if str, ok := s.(string); ok && strings.EqualFold(strings.TrimSpace(str), schema.PatchOpURN) {
			return nil
		}
	}
	return scimerr.New(scimerr.InvalidSyntax, "\"schemas\" must contain %s", schema.PatchOpURN)
}

// decodeOp normalises one operation; SailPoint's attribute-keyed remove
// expands into several.
func decodeOp(n int, ro any) ([]Op, error) {
	m, ok := ro.(map[string]any)
	if !ok {
		return nil, scimerr.New(scimerr.InvalidSyntax, "operation %d must be a JSON object", n)
	}
	var (
		op, rawOp, path  string
		value            any
		hasOp, hasPath   bool
		hasValue         bool
		extra            map[string]any
		seenOp, seenPath bool
		seenValue        bool
	)
	for k, v := range m {
		switch strings.ToLower(k) {
		case "op":
			if seenOp {
				return nil, scimerr.New(scimerr.InvalidSyntax, "operation %d has \"op\" twice", n)
			}
			seenOp = true
			s, ok := v.(string)
			if !ok {
				return nil, scimerr.New(scimerr.InvalidSyntax, "operation %d: \"op\" must be a string", n)
			}
			rawOp = s
			op, hasOp = strings.ToLower(strings.TrimSpace(s)), true
		case "path":
			if seenPath {
				return nil, scimerr.New(scimerr.InvalidSyntax, "operation %d has \"path\" twice", n)
			}
			seenPath = true
			if v == nil {
				continue
			}
			s, ok := v.(string)
			if !ok {
				return nil, scimerr.New(scimerr.InvalidSyntax, "operation %d: \"path\" must be a string", n)
			}
			path = strings.TrimSpace(s)
			hasPath = path != ""
		case "value":
			if seenValue {
				return nil, scimerr.New(scimerr.InvalidSyntax, "operation %d has \"value\" twice", n)
			}
			seenValue = true
			value, hasValue = v, true
		default:
			// SailPoint puts the attribute beside "op":
			// {"op":"add","members":[{"value":"id"}]}.
			if extra == nil {
				extra = map[string]any{}
			}
			extra[k] = v
		}
	}
	if !hasOp {
		return nil, scimerr.New(scimerr.InvalidSyntax, "operation %d has no \"op\"", n)
	}
	switch op {
	case OpAdd, OpRemove, OpReplace:
	default:
		return nil, scimerr.New(scimerr.InvalidSyntax, "operation %d: unknown op %q; use add, remove or replace", n, truncate(rawOp, 40))
	}
	if !hasPath && !hasValue && len(extra) > 0 {
		return attributeKeyed(n, op, extra)
	}
	switch {
	case op == OpRemove && !hasPath:
		return nil, scimerr.New(scimerr.NoTarget, "operation %d: remove needs a path", n)
	case op != OpRemove && !hasValue:
		return nil, scimerr.New(scimerr.InvalidSyntax, "operation %d: %s needs a value", n, op)
	}
	if op == OpRemove && !hasValue {
		value = nil
	}
	if isRolesPath(path) {
		value = unstringifyRoles(value)
	}
	return []Op{{Op: op, Path: path, Value: value}}, nil
}

// attributeKeyed turns SailPoint's {"op":"add","members":[…]} into RFC form.
// add and replace become one path-less operation whose value is the object
// of those keys (so read-only keys are ignored, as for any path-less value);
// remove becomes one remove per key with the key as path and the values to
// remove as value, the form Entra uses for members.
func attributeKeyed(n int, op string, extra map[string]any) ([]Op, error) {
	if op != OpRemove {
		return []Op{{Op: op, Value: extra}}, nil
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Op, 0, len(keys))
	for _, k := range keys {
		path := strings.TrimSpace(k)
		if path == "" {
			return nil, scimerr.New(scimerr.NoTarget, "operation %d: remove needs a path", n)
		}
		out = append(out, Op{Op: OpRemove, Path: path, Value: extra[k]})
	}
	return out, nil
}

func isRolesPath(p string) bool {
	lp := strings.ToLower(p)
	return lp == "roles" || lp == strings.ToLower(schema.UserURN)+":roles"
}

// unstringifyRoles undoes Entra's habit (without aadOptscim062020) of sending
// each role of a PATCH as a JSON object serialised into the "value" string:
// {"value":"{\"id\":\"…\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}
// becomes {"value":"25","display":"Role1234"}. Values that are not such a
// string are left alone, so a role literally named "{x" survives.
func unstringifyRoles(v any) any {
	list, isList := v.([]any)
	if !isList {
		list = []any{v}
	}
	out := make([]any, len(list))
	changed := false
	for i, el := range list {
		out[i] = el
		m, ok := el.(map[string]any)
		if !ok {
			continue
		}
		var key string
		var s string
		for k, x := range m {
			if strings.EqualFold(k, "value") {
				key = k
				s, _ = x.(string)
			}
		}
		if !strings.HasPrefix(strings.TrimSpace(s), "{") {
			continue
		}
		inner, err := schema.DecodeObject([]byte(s))
		if err != nil {
			continue
		}
		nm := make(map[string]any, len(m)+len(inner))
		for k, x := range m {
			if k != key {
				nm[strings.ToLower(k)] = x
			}
		}
		for k, x := range inner {
			switch strings.ToLower(k) {
			case "value", "type", "primary", "display":
				nm[strings.ToLower(k)] = x
			case "displayname":
				if _, has := inner["display"]; !has {
					nm["display"] = x
				}
			}
			// "id" is Entra's app-role id, not a role attribute.
		}
		out[i] = nm
		changed = true
	}
	if !changed {
		return v
	}
	if !isList {
		return out[0]
	}
	return out
}

// truncate shortens s to about n bytes for an error message, on a rune
// boundary so the message stays valid UTF-8.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// jsonText renders a value for an error message.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return truncate(string(b), 80)
}
