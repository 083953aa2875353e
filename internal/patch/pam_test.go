package patch

import "github.com/pamscim/pamscim/internal/schema"

// Test resource types shaped like the PAM draft's, built here because the
// default registry serves only User and Group.
const (
	cpURN      = "urn:ietf:params:scim:schemas:pam:1.0:ContainerPermission"
	pdURN      = "urn:ietf:params:scim:schemas:pam:1.0:PrivilegedData"
	cyberArkPD = "urn:ietf:params:scim:schemas:cyberark:1.0:PrivilegedData"
)

var pamReg = func() *schema.Registry {
	r := schema.NewRegistry()
	cp := &schema.Schema{ID: cpURN, Name: "ContainerPermission", Attributes: []*schema.Attribute{
		// container is immutable: a permission belongs to one container.
		{Name: "container", Type: schema.TypeComplex, Mutability: schema.Immutable, SubAttributes: []*schema.Attribute{
			{Name: "value", CaseExact: true},
			{Name: "display", Mutability: schema.ReadOnly},
		}},
		{Name: "rights", MultiValued: true, Required: true},
		{Name: "serial", Mutability: schema.Immutable},
		{Name: "level", Type: schema.TypeInteger},
	}}
	r.AddSchema(cp, false)
	r.AddResourceType(&schema.ResourceType{Name: "ContainerPermission", Endpoint: "/ContainerPermissions", Schema: cp})

	pd := &schema.Schema{ID: pdURN, Name: "PrivilegedData", Attributes: []*schema.Attribute{
		{Name: "name", Required: true},
	}}
	cy := &schema.Schema{ID: cyberArkPD, Name: "CyberArk PrivilegedData", Attributes: []*schema.Attribute{
		{Name: "safe"},
		{Name: "properties", Type: schema.TypeComplex, MultiValued: true, SubAttributes: []*schema.Attribute{
			{Name: "key"}, {Name: "value"},
		}},
	}}
	r.AddSchema(pd, false)
	r.AddSchema(cy, true)
	r.AddResourceType(&schema.ResourceType{Name: "PrivilegedData", Endpoint: "/PrivilegedData", Schema: pd, Extensions: []schema.Extension{{Schema: cy}}})
	return r
}()

func permRT() *schema.ResourceType { return pamReg.ResourceType("ContainerPermission") }
func pdRT() *schema.ResourceType   { return pamReg.ResourceType("PrivilegedData") }
