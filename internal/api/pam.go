package api

import (
	"context"

	"github.com/pamscim/pamscim/internal/pam"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
)

// pamDecorate fills in, before rendering, what the PAM documents do not
// keep: $ref, display and name of references, the type of a container's
// items, and the computed privilegedData of smart rules (only when the
// response shows privilegedData, which is returned on request).
func (s *Server) pamDecorate(ctx context.Context, base string, rt *schema.ResourceType, rs []*store.Resource, p *schema.Projection) error {
	switch rt.Name {
	case schema.TypeContainer, schema.TypeContainerPermission, schema.TypePrivilegedDataPermission:
	default:
		return nil
	}
	svc, err := pam.NewService(s.reg, s.store)
	if err != nil {
		return nil // a store without PAM support has no PAM resources to decorate
	}
	return svc.Decorate(ctx, base, rt, rs, optionsFor(rt, p).Members)
}

// pamDefaultSort orders PrivilegedDataPermissions by privilegedData.value
// when the client names no order: SailPoint IdentityIQ's PAM collector
// groups consecutive rows by item (clients/NOTES.md §3.3).
func pamDefaultSort(rt *schema.ResourceType, q *store.Query) {
	if q.SortBy != nil || rt.Name != schema.TypePrivilegedDataPermission {
		return
	}
	if p, err := rt.ResolvePath("privilegedData.value"); err == nil {
		q.SortBy = &p
	}
}

// rolesAndEntitlements is the ServiceProviderConfig block of
// draft-ietf-scim-roles-entitlements-01 §2.2. Users may hold several roles
// and entitlements, one of each primary; their type is kept but not
// checked against the catalogue.
func rolesAndEntitlements() map[string]any {
	return map[string]any{
		"roles":        map[string]any{"supported": true, "multipleRolesSupported": true, "primarySupported": true, "typeSupported": false},
		"entitlements": map[string]any{"supported": true, "multipleEntitlementsSupported": true, "primarySupported": true, "typeSupported": false},
	}
}
