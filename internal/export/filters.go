package export

import (
	"fmt"
	"net/url"
	"strings"
)

// ParseFilters reads seed 004's filter syntax:
//
//	Users|?filter=active eq "true"*Groups|?filter=displayName sw "A"
//
// Entities are separated by "*", each is Entity|query. The query is written
// as in a URL, with the leading "?" (filter=…&attributes=…), or — as a
// shorthand — as a bare filter expression (Users|active eq "true"). A "*"
// only separates entities where an entity name and "|" follow it, so filter
// values may contain "*".
func ParseFilters(spec string) (map[string]url.Values, error) {
	out := map[string]url.Values{}
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return out, nil
	}
	for _, part := range splitEntities(spec) {
		name, rest, ok := strings.Cut(part, "|")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("filter %q: want Entity|?filter=… (entities separated by *)", part)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("filter: %s is named twice", name)
		}
		rest = strings.TrimSpace(rest)
		v := url.Values{}
		switch {
		case rest == "":
		case strings.HasPrefix(rest, "?"):
			q, err := parseQuery(rest[1:])
			if err != nil {
				return nil, fmt.Errorf("filter for %s: %w", name, err)
			}
			v = q
		case strings.HasPrefix(strings.ToLower(rest), "filter="):
			q, err := parseQuery(rest)
			if err != nil {
				return nil, fmt.Errorf("filter for %s: %w", name, err)
			}
			v = q
		default:
			v.Set("filter", rest)
		}
		for k := range v {
			switch strings.ToLower(k) {
			case "filter", "attributes", "excludedattributes", "sortby", "sortorder":
			default:
				return nil, fmt.Errorf("filter for %s: the parameter %q is not a SCIM list parameter the export passes on (filter, attributes, excludedAttributes, sortBy, sortOrder)", name, k)
			}
		}
		out[name] = v
	}
	return out, nil
}

// parseQuery is url.ParseQuery, except that a "%" that does not start an
// escape is kept as it is: filters are often written unencoded.
func parseQuery(s string) (url.Values, error) {
	v, err := url.ParseQuery(s)
	if err == nil {
		return v, nil
	}
	v = url.Values{}
	for _, kv := range strings.Split(s, "&") {
		if kv == "" {
			continue
		}
		k, val, _ := strings.Cut(kv, "=")
		v.Add(k, val)
	}
	return v, nil
}

func splitEntities(s string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '*' {
			continue
		}
		j := i + 1
		for j < len(s) && (isLetter(s[j]) || (j > i+1 && s[j] >= '0' && s[j] <= '9')) {
			j++
		}
		if j > i+1 && j < len(s) && s[j] == '|' {
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func isLetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
