package schema

import (
	"strings"
)

// Schema URNs of the PAM extension (draft-grizzle-scim-pam-ext-01), of
// pamscim's own PAM extensions and of the roles and entitlements
// catalogues (draft-ietf-scim-roles-entitlements-01).
const (
	LinkedObjectURN             = "urn:ietf:params:scim:schemas:pam:1.0:LinkedObject"
	ContainerURN                = "urn:ietf:params:scim:schemas:pam:1.0:Container"
	PrivilegedDataURN           = "urn:ietf:params:scim:schemas:pam:1.0:PrivilegedData"
	ContainerPermissionURN      = "urn:ietf:params:scim:schemas:pam:1.0:ContainerPermission"
	PrivilegedDataPermissionURN = "urn:ietf:params:scim:schemas:pam:1.0:PrivilegedDataPermission"
	CredentialURN               = "urn:pamscim:scim:schemas:extension:1.0:Credential"
	SmartRuleURN                = "urn:pamscim:scim:schemas:extension:1.0:SmartRule"
	RoleURN                     = "urn:ietf:params:scim:schemas:core:2.0:Role"
	EntitlementURN              = "urn:ietf:params:scim:schemas:core:2.0:Entitlement"
)

// PAM resource type names.
const (
	TypeContainer                = "Container"
	TypePrivilegedData           = "PrivilegedData"
	TypeContainerPermission      = "ContainerPermission"
	TypePrivilegedDataPermission = "PrivilegedDataPermission"
	TypeRole                     = "Role"
	TypeEntitlement              = "Entitlement"
)

// addPAM registers the PAM resource types, the LinkedObject extension on
// User and Group, and the roles and entitlements catalogues. The decisions
// on the draft's gaps (NOTES.md §1.10) are in the schema text itself
// (defs/pam.json) and in internal/pam, which enforces them.
func addPAM(r *Registry) {
	defs, err := loadSchemas("pam.json")
	if err != nil {
		panic(err) // embedded data; a failure is a build defect
	}
	for _, s := range defs {
		ext := s.ID == LinkedObjectURN || s.ID == CredentialURN || s.ID == SmartRuleURN
		r.AddSchema(s, ext)
	}
	linked := Extension{Schema: r.Schema(LinkedObjectURN)}
	for _, name := range []string{"User", "Group"} {
		rt := r.ResourceType(name)
		rt.Extensions = append(rt.Extensions, linked)
	}

	c := r.Schema(ContainerURN)
	r.AddResourceType(&ResourceType{
		Name: TypeContainer, Endpoint: "/Containers",
		Description: "A logical grouping of privileged data (safe, folder), or a smart rule",
		Schema:      c, Extensions: []Extension{{Schema: r.Schema(SmartRuleURN)}},
		UniqueAttr: c.Attr("name"), DisplayAttr: c.Attr("displayName"),
		Relations:   map[*Attribute]Relation{c.Attr("privilegedData"): RelMembers},
		MemberTypes: []string{TypePrivilegedData},
	})
	pd := r.Schema(PrivilegedDataURN)
	r.AddResourceType(&ResourceType{
		Name: TypePrivilegedData, Endpoint: "/PrivilegedData",
		Description: "A secret protected by the PAM system",
		Schema:      pd, Extensions: []Extension{{Schema: r.Schema(CredentialURN)}},
		DisplayAttr: pd.Attr("name"),
		Sealed:      []string{CredentialURN + ":secret"},
	})
	cp := r.Schema(ContainerPermissionURN)
	r.AddResourceType(&ResourceType{
		Name: TypeContainerPermission, Endpoint: "/ContainerPermissions",
		Description: "The rights a User or Group holds on a Container",
		Schema:      cp,
		UniqueKey:   permissionKey("container"),
		UniqueName:  "permission for this (container, user or group) pair",
	})
	pdp := r.Schema(PrivilegedDataPermissionURN)
	r.AddResourceType(&ResourceType{
		Name: TypePrivilegedDataPermission, Endpoint: "/PrivilegedDataPermissions",
		Description: "The rights a User or Group holds directly on an item of PrivilegedData",
		Schema:      pdp,
		UniqueKey:   permissionKey("privilegedData"),
		UniqueName:  "permission for this (privileged data, user or group) pair",
	})
	for _, k := range []struct{ name, ep, urn, desc string }{
		{TypeRole, "/Roles", RoleURN, "A role Users may hold (read-only catalogue)"},
		{TypeEntitlement, "/Entitlements", EntitlementURN, "An entitlement Users may hold (read-only catalogue)"},
	} {
		s := r.Schema(k.urn)
		r.AddResourceType(&ResourceType{
			Name: k.name, Endpoint: k.ep, Description: k.desc, Schema: s,
			UniqueAttr: s.Attr("value"), DisplayAttr: s.Attr("display"),
			ReadOnly: true,
		})
	}
}

// permissionKey is the unique key of a permission: its target and its
// principal. A document without both has no key; the PAM rules refuse it
// before the store sees it.
func permissionKey(target string) func(Doc) string {
	return func(d Doc) string {
		tv := refValue(d, target)
		if tv == "" {
			return ""
		}
		if u := refValue(d, "user"); u != "" {
			return strings.ToLower(tv) + "|user|" + strings.ToLower(u)
		}
		if g := refValue(d, "group"); g != "" {
			return strings.ToLower(tv) + "|group|" + strings.ToLower(g)
		}
		return ""
	}
}

func refValue(d Doc, attr string) string {
	m, _ := d[attr].(map[string]any)
	s, _ := m["value"].(string)
	return s
}

// Reference is an attribute whose values name other resources by id: a
// complex attribute with a value sub-attribute and a $ref whose
// referenceTypes are resource types.
type Reference struct {
	// Path is the value sub-attribute, e.g. container.value.
	Path Path
	// Types are the resource types the value may name.
	Types []string
	// Relational is set when the store keeps the attribute outside the
	// document (Group.members, Container.privilegedData).
	Relational bool
}

// References lists the reference attributes of the resource type, read
// from the schemas' referenceTypes. Bulk uses it to replace bulkId
// references; the PAM rules use it to check that targets exist.
func (rt *ResourceType) References() []Reference {
	var out []Reference
	for _, s := range rt.Schemas() {
		for _, a := range s.Attributes {
			if !a.IsComplex() || a.Mutability == ReadOnly {
				continue
			}
			v, ref := a.Sub("value"), a.Sub("$ref")
			if v == nil || ref == nil {
				continue
			}
			var types []string
			for _, t := range ref.ReferenceTypes {
				if rt.reg != nil && rt.reg.ResourceType(t) != nil {
					types = append(types, t)
				}
			}
			if len(types) == 0 {
				continue
			}
			out = append(out, Reference{Path: Path{Schema: s, Attr: a, Sub: v}, Types: types, Relational: rt.Relations[a] != RelNone})
		}
	}
	return out
}
