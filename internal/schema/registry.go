package schema

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pamscim/pamscim/internal/scimerr"
)

// Relation says that an attribute is not kept in the resource document but in
// a relational table, and how.
type Relation int

const (
	// RelNone: the attribute lives in the JSON document.
	RelNone Relation = iota
	// RelMembers: the attribute is the member list kept in the membership table
	// (Group.members). Adding or removing one member touches one row.
	RelMembers
	// RelGroups: the attribute is derived from the membership table in the other
	// direction (User.groups), direct and indirect; it is read-only.
	RelGroups
)

// Extension is a schema extension of a resource type.
type Extension struct {
	Schema   *Schema
	Required bool
}

// ResourceType is a resource type (RFC 7643 §6) plus what the engine needs to
// serve it: which attribute the store keeps unique, which attribute names a
// resource when another one refers to it, and which attributes are relational.
type ResourceType struct {
	ID          string
	Name        string
	Endpoint    string
	Description string
	Schema      *Schema
	Extensions  []Extension

	// UniqueAttr is the one single-valued string attribute with uniqueness
	// "server" that the store enforces per tenant (case-folded unless caseExact).
	UniqueAttr *Attribute
	// DisplayAttr is the attribute shown as "display" when a member or group
	// refers to a resource of this type.
	DisplayAttr *Attribute
	// Relations lists the top-level attributes kept outside the document.
	Relations map[*Attribute]Relation
	// MemberTypes lists the resource types a RelMembers attribute may hold.
	MemberTypes []string
	// UniqueKey, when set, computes a per-tenant unique key from the
	// document (a composite such as a permission's target and principal);
	// the store keeps it where it keeps UniqueAttr's value. UniqueName
	// says what it keeps unique, for the 409 detail.
	UniqueKey  func(Doc) string
	UniqueName string
	// Sealed lists attribute paths that the store never keeps in the
	// document: a store.Guard takes them out (encrypted) first, and the
	// store refuses a document that still holds one.
	Sealed []string
	// ReadOnly types (the roles and entitlements catalogues) refuse writes
	// over SCIM.
	ReadOnly bool

	reg *Registry
}

// Schemas returns the core schema followed by the extensions.
func (rt *ResourceType) Schemas() []*Schema {
	out := []*Schema{rt.Schema}
	for _, e := range rt.Extensions {
		out = append(out, e.Schema)
	}
	return out
}

// Extension returns the extension with the given URN (case-insensitive), or nil.
func (rt *ResourceType) Extension(urn string) *Extension {
	for i := range rt.Extensions {
		if strings.EqualFold(rt.Extensions[i].Schema.ID, urn) {
			return &rt.Extensions[i]
		}
	}
	return nil
}

// RelationOf reports how attribute a is stored.
func (rt *ResourceType) RelationOf(a *Attribute) Relation {
	if a == nil {
		return RelNone
	}
	for a.Parent != nil {
		a = a.Parent
	}
	return rt.Relations[a]
}

// RelAttr returns the top-level attribute with the given relation, or nil.
func (rt *ResourceType) RelAttr(rel Relation) *Attribute {
	for a, r := range rt.Relations {
		if r == rel {
			return a
		}
	}
	return nil
}

// Registry holds every schema and resource type the server serves. It is built
// once at start and read concurrently afterwards.
type Registry struct {
	schemas    []*Schema
	byURN      map[string]*Schema
	types      []*ResourceType
	byName     map[string]*ResourceType
	byEndpoint map[string]*ResourceType
	common     []*Attribute
	commonBy   map[string]*Attribute
}

// NewRegistry returns an empty registry with the common attributes.
func NewRegistry() *Registry {
	r := &Registry{
		byURN:      map[string]*Schema{},
		byName:     map[string]*ResourceType{},
		byEndpoint: map[string]*ResourceType{},
		commonBy:   map[string]*Attribute{},
	}
	r.common = commonAttributes()
	for _, a := range r.common {
		r.commonBy[strings.ToLower(a.Name)] = a
	}
	return r
}

// AddSchema registers a schema. Extension schemas are marked by extension.
func (r *Registry) AddSchema(s *Schema, extension bool) {
	s.extension = extension
	s.index()
	r.schemas = append(r.schemas, s)
	r.byURN[strings.ToLower(s.ID)] = s
}

// Schema returns the schema with the given URN, case-insensitively.
func (r *Registry) Schema(urn string) *Schema { return r.byURN[strings.ToLower(urn)] }

// Schemas returns every registered schema in registration order.
func (r *Registry) Schemas() []*Schema { return r.schemas }

// AddResourceType registers a resource type.
func (r *Registry) AddResourceType(rt *ResourceType) {
	rt.reg = r
	if rt.ID == "" {
		rt.ID = rt.Name
	}
	if rt.Relations == nil {
		rt.Relations = map[*Attribute]Relation{}
	}
	r.types = append(r.types, rt)
	r.byName[strings.ToLower(rt.Name)] = rt
	r.byEndpoint[strings.ToLower(strings.TrimPrefix(rt.Endpoint, "/"))] = rt
}

// ResourceTypes returns the resource types in registration order.
func (r *Registry) ResourceTypes() []*ResourceType { return r.types }

// ResourceType returns the resource type with the given name, case-insensitively.
func (r *Registry) ResourceType(name string) *ResourceType { return r.byName[strings.ToLower(name)] }

// ByEndpoint returns the resource type served at endpoint ("Users" or "/Users").
func (r *Registry) ByEndpoint(ep string) *ResourceType {
	return r.byEndpoint[strings.ToLower(strings.TrimPrefix(ep, "/"))]
}

// Common returns the common attribute (id, externalId, meta, schemas) with the given name.
func (r *Registry) Common(name string) *Attribute { return r.commonBy[strings.ToLower(name)] }

// Path is a resolved attribute path: a top-level attribute and optionally one
// of its sub-attributes. When Attr is nil the path names a whole extension
// schema (e.g. attributes=urn:…:enterprise:2.0:User).
type Path struct {
	Schema *Schema // the schema holding Attr; nil for common attributes
	Attr   *Attribute
	Sub    *Attribute
}

// Leaf returns the deepest attribute named by the path.
func (p Path) Leaf() *Attribute {
	if p.Sub != nil {
		return p.Sub
	}
	return p.Attr
}

// IsExtension reports whether the path is inside an extension schema.
func (p Path) IsExtension() bool { return p.Schema != nil && p.Schema.extension }

// String returns the canonical spelling of the path.
func (p Path) String() string {
	var b strings.Builder
	if p.IsExtension() {
		b.WriteString(p.Schema.ID)
		if p.Attr != nil {
			b.WriteByte(':')
		}
	}
	if p.Attr != nil {
		b.WriteString(p.Attr.Name)
	}
	if p.Sub != nil {
		b.WriteByte('.')
		b.WriteString(p.Sub.Name)
	}
	return b.String()
}

// ResolvePath resolves an attribute path in standard attribute notation
// (RFC 7644 §3.10): an optional schema URN prefix, an attribute name and an
// optional sub-attribute, all case-insensitive. The longest schema URN that
// prefixes the path wins, since URNs themselves contain ':' and '.'.
func (rt *ResourceType) ResolvePath(p string) (Path, error) {
	lower := strings.ToLower(p)
	rest := p
	var sch *Schema
	for _, s := range rt.Schemas() {
		urn := strings.ToLower(s.ID)
		if lower == urn {
			if s.extension {
				return Path{Schema: s}, nil
			}
			return Path{}, scimerr.New(scimerr.InvalidPath, "%q names a schema, not an attribute", p)
		}
		if strings.HasPrefix(lower, urn+":") && (sch == nil || len(urn) > len(sch.ID)) {
			sch = s
			rest = p[len(urn)+1:]
		}
	}
	if sch == nil && strings.Contains(p, ":") {
		return Path{}, scimerr.New(scimerr.InvalidPath, "attribute %q: unknown schema for resource type %s", p, rt.Name)
	}
	name, subName, hasSub := strings.Cut(rest, ".")
	var a *Attribute
	if sch != nil {
		a = sch.Attr(name)
	} else {
		sch = rt.Schema
		a = sch.Attr(name)
		if a == nil {
			if c := rt.reg.Common(name); c != nil {
				a, sch = c, nil
			}
		}
		if a == nil {
			// An unqualified name that exactly one extension defines is that
			// extension's attribute: Entra filters on "manager" and writes
			// PATCH paths like "manager" without the enterprise URN.
			for _, e := range rt.Extensions {
				if ea := e.Schema.Attr(name); ea != nil {
					if a != nil {
						return Path{}, scimerr.New(scimerr.InvalidPath, "attribute %q is ambiguous: qualify it with its schema URN", p)
					}
					a, sch = ea, e.Schema
				}
			}
		}
	}
	if a == nil {
		return Path{}, scimerr.New(scimerr.InvalidPath, "attribute %q is not defined for resource type %s", p, rt.Name)
	}
	out := Path{Schema: sch, Attr: a}
	if hasSub {
		if !a.IsComplex() {
			return Path{}, scimerr.New(scimerr.InvalidPath, "attribute %q: %s has no sub-attributes", p, a.Name)
		}
		out.Sub = a.Sub(subName)
		if out.Sub == nil {
			return Path{}, scimerr.New(scimerr.InvalidPath, "attribute %q: %s has no sub-attribute %q", p, a.Name, subName)
		}
	}
	return out, nil
}

// Default returns the registry of RFC 7643: User (with the Enterprise User
// extension) and Group, with the corrections listed in fixRFC applied.
func Default() *Registry {
	r := NewRegistry()
	defs, err := loadSchemas("rfc7643.json")
	if err != nil {
		panic(err) // embedded data; a failure is a build defect
	}
	for _, s := range defs {
		r.AddSchema(s, s.ID == EnterpriseUserURN)
	}
	fixRFC(r)
	user, group, ent := r.Schema(UserURN), r.Schema(GroupURN), r.Schema(EnterpriseUserURN)
	user.Attr("userName").Prepare = PrepareUserName
	r.AddResourceType(&ResourceType{
		Name: "User", Endpoint: "/Users", Description: "User Account",
		Schema: user, Extensions: []Extension{{Schema: ent}},
		UniqueAttr: user.Attr("userName"), DisplayAttr: user.Attr("displayName"),
		Relations: map[*Attribute]Relation{user.Attr("groups"): RelGroups},
	})
	r.AddResourceType(&ResourceType{
		Name: "Group", Endpoint: "/Groups", Description: "Group",
		Schema: group, DisplayAttr: group.Attr("displayName"),
		Relations:   map[*Attribute]Relation{group.Attr("members"): RelMembers},
		MemberTypes: []string{"User", "Group"},
	})
	addPAM(r)
	return r
}

// fixRFC applies the decisions taken where RFC 7643's schema listing disagrees
// with its prose or its examples (see docs/schema-decisions.md).
func fixRFC(r *Registry) {
	user, group, ent := r.Schema(UserURN), r.Schema(GroupURN), r.Schema(EnterpriseUserURN)
	mustAttr := func(s *Schema, name string) *Attribute {
		a := s.Attr(name)
		if a == nil {
			panic(fmt.Sprintf("schema %s has no %s", s.ID, name))
		}
		return a
	}
	addSub := func(a *Attribute, sub *Attribute) {
		if a.Sub(sub.Name) != nil {
			return
		}
		sub.Schema = a.Schema
		a.SubAttributes = append(a.SubAttributes, sub)
		a.setDefaults()
	}
	// Group.displayName is REQUIRED by the prose of RFC 7643 §4.2.
	mustAttr(group, "displayName").Required = true
	// A member without a value names nothing.
	mustAttr(group, "members").Sub("value").Required = true
	// members.display is used by every client and by the RFC's examples. A
	// client may name the member as it adds it (immutable, like value and
	// type); without a name it is the member's own display name.
	addSub(mustAttr(group, "members"), &Attribute{Name: "display", Type: TypeString, Mutability: Immutable, Returned: ReturnDefault, Description: "A human-readable name for the member: the label the client gave it when adding it, else the member's own display name."})
	// The examples give addresses a primary flag; the listing forgets it.
	addSub(mustAttr(user, "addresses"), &Attribute{Name: "primary", Type: TypeBoolean, Description: "A Boolean value indicating the 'primary' or preferred attribute value for this attribute."})
	// The prose of §4.1.2 adds "other" to the ims types.
	ims := mustAttr(user, "ims").Sub("type")
	if !slices.Contains(ims.CanonicalValues, "other") {
		ims.CanonicalValues = append(ims.CanonicalValues, "other")
	}
	// A canonical-values list that is present but empty says nothing; drop it.
	for _, s := range []*Schema{user, group, ent} {
		for _, a := range s.Attributes {
			for _, sub := range append([]*Attribute{a}, a.SubAttributes...) {
				if len(sub.CanonicalValues) == 0 {
					sub.CanonicalValues = nil
				}
			}
		}
	}
	// A userName is unique per tenant, compared case-insensitively.
	mustAttr(user, "userName").CaseExact = false
}
