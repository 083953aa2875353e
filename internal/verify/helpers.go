package verify

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/pamscim/pamscim/internal/client"
)

const (
	userURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	spConfigURN   = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
)

// userDoc is a user as Okta and Entra create them.
func (r *run) userDoc(extra map[string]any) map[string]any {
	name := r.name("u")
	u := map[string]any{
		"schemas":    []any{userURN},
		"userName":   name,
		"externalId": name + "-ext",
		"name":       map[string]any{"givenName": "Given", "familyName": "Family"},
		"emails":     []any{map[string]any{"value": name + "@example.com", "type": "work", "primary": true}},
		"active":     true,
	}
	for k, v := range extra {
		u[k] = v
	}
	return u
}

// newUser creates a user and tracks it for cleanup.
func (r *run) newUser(extra map[string]any) (*res, string, error) {
	x, err := r.do("POST", "/Users", nil, r.userDoc(extra))
	if err != nil {
		return nil, "", err
	}
	if err := x.want(201); err != nil {
		return x, "", fmt.Errorf("creating a user: %w", err)
	}
	id, _ := x.body["id"].(string)
	if id == "" {
		return x, "", failf("creating a user: no id in %s", x)
	}
	r.track("/Users", id)
	return x, id, nil
}

// newGroup creates a group with the given members and tracks it.
func (r *run) newGroup(members ...string) (*res, string, error) {
	g := map[string]any{"schemas": []any{groupURN}, "displayName": r.name("g")}
	if len(members) > 0 {
		var ms []any
		for _, m := range members {
			ms = append(ms, map[string]any{"value": m})
		}
		g["members"] = ms
	}
	x, err := r.do("POST", "/Groups", nil, g)
	if err != nil {
		return nil, "", err
	}
	if err := x.want(201); err != nil {
		return x, "", fmt.Errorf("creating a group: %w", err)
	}
	id, _ := x.body["id"].(string)
	if id == "" {
		return x, "", failf("creating a group: no id in %s", x)
	}
	r.track("/Groups", id)
	return x, id, nil
}

// get reads a resource and requires 200.
func (r *run) get(endpoint, id string, q url.Values) (*res, error) {
	x, err := r.do("GET", client.ResourcePath(endpoint, id), q, nil)
	if err != nil {
		return nil, err
	}
	return x, x.want(200)
}

// patch sends a PatchOp and requires 200 or 204.
func (r *run) patch(endpoint, id string, ops ...map[string]any) error {
	body := map[string]any{"schemas": []any{client.PatchOpURN}, "Operations": ops}
	x, err := r.do("PATCH", client.ResourcePath(endpoint, id), nil, body)
	if err != nil {
		return err
	}
	return x.want(200, 204)
}

func (r *run) needPatch() error {
	if !r.sp().Patch.Supported {
		return skipf("ServiceProviderConfig says patch.supported is false")
	}
	return nil
}

// list runs a filter query (one page) and returns the ids and totalResults.
func (r *run) list(endpoint string, q url.Values) (*res, []string, int, error) {
	x, err := r.do("GET", endpoint, q, nil)
	if err != nil {
		return nil, nil, 0, err
	}
	if err := x.want(200); err != nil {
		return x, nil, 0, err
	}
	if err := isListResponse(x); err != nil {
		return x, nil, 0, err
	}
	total, _ := num(x.body["totalResults"])
	var ids []string
	for _, it := range arr(x.body["Resources"]) {
		m, _ := it.(map[string]any)
		id, _ := m["id"].(string)
		ids = append(ids, id)
	}
	return x, ids, total, nil
}

func isListResponse(x *res) error {
	if x.body == nil {
		return failf("%s: not a JSON object", x)
	}
	if !slices.Contains(strs(x.body["schemas"]), client.ListResponseURN) {
		return failf("%s: schemas lacks %s (RFC 7644 §3.4.2)", x, client.ListResponseURN)
	}
	if _, ok := x.body["totalResults"].(float64); !ok {
		return failf("%s: totalResults is not a JSON number", x)
	}
	return nil
}

func q(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

// at walks a dotted path through decoded JSON, matching names
// case-insensitively; numbers index arrays ("emails.0.value").
func at(v any, path string) any {
	for _, p := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			var next any
			if val, ok := x[p]; ok {
				next = val
			} else {
				for k, val := range x {
					if strings.EqualFold(k, p) {
						next = val
						break
					}
				}
			}
			v = next
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// ext reads an attribute of an extension object.
func ext(body map[string]any, urn, path string) any {
	for k, v := range body {
		if strings.EqualFold(k, urn) {
			return at(v, path)
		}
	}
	return nil
}

func arr(v any) []any { a, _ := v.([]any); return a }

func strs(v any) []string {
	var out []string
	for _, x := range arr(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func num(v any) (int, bool) {
	f, ok := v.(float64)
	return int(f), ok
}

func has(m map[string]any, name string) bool {
	for k := range m {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// memberIDs lists members[].value of a group body.
func memberIDs(body map[string]any) []string {
	var out []string
	for _, m := range arr(at(body, "members")) {
		if s, ok := at(m, "value").(string); ok {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// scimError checks an error response against RFC 7644 §3.12: the Error
// schema, status as a string equal to the HTTP status, and scimType when
// the RFC names one for the case.
func scimError(x *res, status int, scimType string) error {
	if x.status != status {
		return failf("%s (want %d)", x, status)
	}
	if x.body == nil {
		return failf("%s: the error body is not a JSON object (RFC 7644 §3.12)", x)
	}
	if !slices.Contains(strs(x.body["schemas"]), client.ErrorURN) {
		return failf("%s: the error body's schemas lacks %s (RFC 7644 §3.12)", x, client.ErrorURN)
	}
	switch st := x.body["status"].(type) {
	case string:
		if st != strconv.Itoa(status) {
			return failf("%s: the error body's status %q differs from the HTTP status", x, st)
		}
	case float64:
		return failf("%s: the error body's status is a JSON number; RFC 7644 §3.12 defines it as a string", x)
	default:
		return failf("%s: the error body has no status (RFC 7644 §3.12)", x)
	}
	if scimType != "" {
		if got, _ := x.body["scimType"].(string); got != scimType {
			return failf("%s: scimType %q, want %q (RFC 7644 Table 9)", x, got, scimType)
		}
	}
	return nil
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
