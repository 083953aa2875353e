package export

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/pamscim/pamscim/internal/client"
)

// layout maps one entity's resources to CSV columns.
//
// Columns come from the schemas the server publishes, so the header is the
// same whatever the data holds: id, externalId, each attribute of the core
// schema and then of each extension ({attribute}:{sub-attribute} for complex
// ones), and meta. Attributes that are never returned (password) are left
// out. Extension attributes are named without their schema URN, as the
// identity manager maps them; one whose name a core attribute already has is
// written as {urn}:{attribute}. Attributes a resource carries that no schema
// declares get columns of their own, appended at the end.
//
// Multi-valued attributes put every value in one cell, primary first,
// separated by ";" (a ";" or "\" inside a value is escaped with "\"); the
// sub-attribute columns of one multi-valued attribute list their values in
// the same element order.
//
// Relations (a multi-valued attribute whose elements refer to other
// resources by $ref: Group.members, User.groups, Container.privilegedData)
// are not columns: each is a file of its own with one row per link.
type layout struct {
	columns []string
	index   map[string]int // lower-cased column name → position
	links   []string       // relation attributes, as named by the schema
	linkSet map[string]bool
	core    map[string]bool // lower-cased core attribute names
	// request lists every exported attribute for an attributes= parameter,
	// needed when one of them is returned only on request (RFC 7643 §7,
	// "returned": "request"), as pamscim's Container.privilegedData is.
	request     []string
	needRequest bool
}

var metaColumns = []string{"meta:resourceType", "meta:created", "meta:lastModified", "meta:location", "meta:version"}

func newLayout(d *client.Discovery, rt *client.ResourceType, endpoint string) *layout {
	l := &layout{index: map[string]int{}, linkSet: map[string]bool{}, core: map[string]bool{}}
	l.add("id")
	l.add("externalId")
	var core *client.Schema
	var exts []*client.Schema
	if rt != nil {
		core = d.Schema(rt.Schema)
		for _, e := range rt.SchemaExtensions {
			if s := d.Schema(e.Schema); s != nil {
				exts = append(exts, s)
			}
		}
	}
	if core != nil {
		for _, a := range core.Attributes {
			l.core[strings.ToLower(a.Name)] = true
		}
		for _, a := range core.Attributes {
			l.addAttr(a.Name, a)
		}
	} else {
		// Without /Schemas, the relations are known by their RFC names.
		switch strings.ToLower(endpoint) {
		case "groups":
			l.links = append(l.links, "members")
			l.linkSet["members"] = true
		case "containers":
			l.links = append(l.links, "privilegedData")
			l.linkSet["privilegeddata"] = true
		}
	}
	for _, s := range exts {
		for _, a := range s.Attributes {
			n := len(l.request)
			l.addAttr(l.extName(s.ID, a.Name), a)
			if len(l.request) > n {
				l.request[n] = s.ID + ":" + a.Name
			}
		}
	}
	for _, c := range metaColumns {
		l.add(c)
	}
	l.columns = append([]string(nil), l.columns...)
	return l
}

func (l *layout) extName(urn, attr string) string {
	if l.core[strings.ToLower(attr)] || strings.EqualFold(attr, "id") || strings.EqualFold(attr, "externalId") {
		return urn + ":" + attr
	}
	return attr
}

func (l *layout) add(col string) {
	k := strings.ToLower(col)
	if _, ok := l.index[k]; ok {
		return
	}
	l.index[k] = len(l.columns)
	l.columns = append(l.columns, col)
}

func (l *layout) addAttr(name string, a client.Attribute) {
	if strings.EqualFold(a.Returned, "never") || strings.EqualFold(a.Name, "id") || strings.EqualFold(a.Name, "externalId") {
		return
	}
	l.request = append(l.request, a.Name)
	if strings.EqualFold(a.Returned, "request") {
		l.needRequest = true
	}
	if isRelation(a) {
		l.links = append(l.links, a.Name)
		l.linkSet[strings.ToLower(a.Name)] = true
		return
	}
	if !strings.EqualFold(a.Type, "complex") || len(a.SubAttributes) == 0 {
		l.add(name)
		return
	}
	for _, s := range a.SubAttributes {
		if strings.EqualFold(s.Returned, "never") || s.Name == "$ref" {
			continue
		}
		l.add(name + ":" + s.Name)
	}
}

// isRelation: a multi-valued complex attribute whose $ref points at other
// resource types (not at external URIs).
func isRelation(a client.Attribute) bool {
	if !a.MultiValued || !strings.EqualFold(a.Type, "complex") {
		return false
	}
	ref := a.Sub("$ref")
	if ref == nil || a.Sub("value") == nil {
		return false
	}
	for _, t := range ref.ReferenceTypes {
		if !strings.EqualFold(t, "external") && !strings.EqualFold(t, "uri") {
			return true
		}
	}
	return false
}

// flatten turns a resource into a row for f, adding columns to f for
// attributes no schema declared.
func (l *layout) flatten(r client.Resource, f *file) []string {
	row := make([]string, len(f.cols))
	set := func(col, val string) {
		k := strings.ToLower(col)
		i, ok := l.index[k]
		if !ok {
			i = len(f.cols)
			l.index[k] = i
			f.cols = append(f.cols, col)
		}
		for len(row) <= i {
			row = append(row, "")
		}
		row[i] = val
	}
	for k, v := range r {
		lk := strings.ToLower(k)
		switch {
		case lk == "schemas" || l.linkSet[lk]:
		case strings.HasPrefix(lk, "urn:"):
			if m, ok := v.(map[string]any); ok {
				for ek, ev := range m {
					emit(set, l.extName(k, ek), ev)
				}
			} else {
				// A fully qualified attribute at the top level.
				emit(set, k, v)
			}
		default:
			emit(set, k, v)
		}
	}
	return row
}

func emit(set func(col, val string), name string, v any) {
	switch x := v.(type) {
	case nil:
	case map[string]any:
		for sk, sv := range x {
			if sk == "$ref" {
				continue
			}
			set(name+":"+sk, cell(sv))
		}
	case []any:
		elems := primaryFirst(x)
		complex := false
		for _, e := range elems {
			if _, ok := e.(map[string]any); ok {
				complex = true
			}
		}
		if !complex {
			vals := make([]string, 0, len(elems))
			for _, e := range elems {
				vals = append(vals, escape(cell(e)))
			}
			set(name, strings.Join(vals, ";"))
			return
		}
		subs := map[string][]string{}
		var order []string
		for i, e := range elems {
			m, _ := e.(map[string]any)
			for sk, sv := range m {
				if sk == "$ref" {
					continue
				}
				if _, ok := subs[sk]; !ok {
					order = append(order, sk)
					subs[sk] = make([]string, len(elems))
				}
				subs[sk][i] = escape(cell(sv))
			}
		}
		for _, sk := range order {
			set(name+":"+sk, strings.Join(subs[sk], ";"))
		}
	default:
		set(name, cell(x))
	}
}

func primaryFirst(elems []any) []any {
	idx := -1
	for i, e := range elems {
		if m, ok := e.(map[string]any); ok {
			if p, _ := m["primary"].(bool); p {
				idx = i
				break
			}
		}
	}
	if idx <= 0 {
		return elems
	}
	out := make([]any, 0, len(elems))
	out = append(out, elems[idx])
	out = append(out, elems[:idx]...)
	return append(out, elems[idx+1:]...)
}

// cell formats one value: strings as they are, numbers as the server wrote
// them, booleans as true/false, anything else as JSON.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}

func escape(s string) string {
	if !strings.ContainsAny(s, `;\`) {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, `;`, `\;`).Replace(s)
}

// SplitCell undoes the multi-valued cell encoding.
func SplitCell(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case s[i] == ';':
			out = append(out, b.String())
			b.Reset()
		default:
			b.WriteByte(s[i])
		}
	}
	return append(out, b.String())
}

// linkValues returns the ids a resource links to through relation attr.
func (l *layout) linkValues(r client.Resource, attr string) []string {
	var out []string
	for _, e := range arrayOf(r.Get(attr)) {
		m, _ := e.(map[string]any)
		if v, ok := m["value"].(string); ok && v != "" {
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}

func arrayOf(v any) []any { a, _ := v.([]any); return a }
