// Package pam is what makes pamscim a PAM connector: the rules of the PAM
// resources (draft-grizzle-scim-pam-ext-01 with the decisions on its gaps,
// NOTES.md §1.10), enforced inside the store's write transactions by a
// store.Guard; credential secrets sealed with internal/secretbox; smart
// rules (containers whose privileged data is a filter); the roles and
// entitlements catalogues; and effective access, the auditor's question
// "who can reach this item, and why".
package pam

import (
	"context"
	"strings"

	"github.com/pamscim/pamscim/internal/filter"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/secretbox"
	"github.com/pamscim/pamscim/internal/store"
)

// SmartRuleType is the Container type whose privilegedData is computed.
const SmartRuleType = "smartRule"

// SecretAttr is the sealed credential secret's attribute path.
const SecretAttr = schema.CredentialURN + ":secret"

// Guard enforces the PAM rules inside the store's write transactions.
type Guard struct {
	reg *schema.Registry
	box *secretbox.Box
}

var _ store.Guard = (*Guard)(nil)

// NewGuard returns the guard. box may be nil: secrets are then refused.
func NewGuard(reg *schema.Registry, box *secretbox.Box) *Guard {
	return &Guard{reg: reg, box: box}
}

// BeforeWrite checks and completes a resource about to be stored.
func (g *Guard) BeforeWrite(ctx context.Context, w *store.Write) (bool, error) {
	if w.Type.ReadOnly && !store.IsCatalogueWrite(ctx) {
		return false, readOnlyErr(w.Type)
	}
	switch w.Type.Name {
	case schema.TypeContainer:
		return false, g.container(ctx, w)
	case schema.TypePrivilegedData:
		return g.seal(ctx, w)
	case schema.TypeContainerPermission, schema.TypePrivilegedDataPermission:
		return false, g.permission(ctx, w)
	case "User":
		return false, g.user(ctx, w)
	case "Group":
		return false, g.group(ctx, w)
	}
	return false, nil
}

func readOnlyErr(rt *schema.ResourceType) error {
	return scimerr.New(scimerr.NotImplemented, "%s is a read-only catalogue over SCIM; manage it with 'pamscim %s'", rt.Endpoint, strings.ToLower(rt.Name))
}

// BeforeDelete removes or refuses what points at a resource being deleted.
func (g *Guard) BeforeDelete(ctx context.Context, w *store.Write) error {
	tx, id := w.Tx, w.Res.ID
	if w.Type.ReadOnly && !store.IsCatalogueWrite(ctx) {
		return readOnlyErr(w.Type)
	}
	del := func(rtype, path string) error {
		_, err := tx.DeleteReferrers(ctx, rtype, path, id)
		return err
	}
	switch w.Type.Name {
	case schema.TypeContainer:
		kids, err := tx.Referrers(ctx, schema.TypeContainer, "parent.value", id)
		if err != nil {
			return err
		}
		if len(kids) > 0 {
			return scimerr.New(scimerr.Conflict, "container %q has %d child container(s) (for example %q); delete them or move them to another parent first", id, len(kids), kids[0])
		}
		return del(schema.TypeContainerPermission, "container.value")
	case schema.TypePrivilegedData:
		return del(schema.TypePrivilegedDataPermission, "privilegedData.value")
	case "User", "Group":
		principal := strings.ToLower(w.Type.Name) + ".value"
		if err := del(schema.TypeContainerPermission, principal); err != nil {
			return err
		}
		if err := del(schema.TypePrivilegedDataPermission, principal); err != nil {
			return err
		}
		if w.Type.Name == "User" {
			// A container outlives its owner; it just has none any more.
			owned, err := tx.Referrers(ctx, schema.TypeContainer, "owner.value", id)
			if err != nil {
				return err
			}
			crt := g.reg.ResourceType(schema.TypeContainer)
			for _, c := range owned {
				if err := tx.UpdateOther(ctx, crt, c, func(doc schema.Doc) bool {
					_, had := doc["owner"]
					delete(doc, "owner")
					return had
				}); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// refValue returns the value of a single-valued reference attribute.
func refValue(doc schema.Doc, attr string) string {
	m, _ := doc[attr].(map[string]any)
	s, _ := m["value"].(string)
	return s
}

// checkRefs verifies that every single-valued reference of the document
// names an existing resource of an allowed type, and keeps only its value
// (the stored id): $ref, display and name are computed on output.
func (g *Guard) checkRefs(ctx context.Context, w *store.Write) error {
	doc := w.Res.Doc
	type ref struct {
		attr  string
		id    string
		types []string
	}
	var refs []ref
	var ids []string
	for _, r := range w.Type.References() {
		if r.Relational || r.Path.IsExtension() || r.Path.Attr.MultiValued {
			continue
		}
		name := r.Path.Attr.Name
		if _, ok := doc[name]; !ok {
			continue
		}
		id := refValue(doc, name)
		if id == "" {
			return scimerr.New(scimerr.InvalidValue, "%s needs a value: the id of the %s it refers to", name, strings.Join(r.Types, " or "))
		}
		refs = append(refs, ref{name, id, r.Types})
		ids = append(ids, id)
	}
	if len(refs) == 0 {
		return nil
	}
	found, err := w.Tx.GetMany(ctx, ids)
	if err != nil {
		return err
	}
	for _, r := range refs {
		t := found[r.id]
		if t == nil {
			// Ids are UUIDs, written in lower case; a client may send them
			// in upper case.
			t = found[strings.ToLower(r.id)]
		}
		if t == nil && strings.ToLower(r.id) != r.id {
			more, err := w.Tx.GetMany(ctx, []string{strings.ToLower(r.id)})
			if err != nil {
				return err
			}
			t = more[strings.ToLower(r.id)]
		}
		ok := t != nil
		if ok {
			ok = false
			for _, typ := range r.types {
				ok = ok || t.Type == typ
			}
		}
		if !ok {
			return scimerr.New(scimerr.InvalidValue, "%s.value %q does not name an existing %s", r.attr, r.id, strings.Join(r.types, " or "))
		}
		doc[r.attr] = map[string]any{"value": t.ID}
	}
	return nil
}

func (g *Guard) container(ctx context.Context, w *store.Write) error {
	if err := g.checkRefs(ctx, w); err != nil {
		return err
	}
	doc, id := w.Res.Doc, w.Res.ID
	if p := refValue(doc, "parent"); p != "" && p != refValue(w.Old, "parent") {
		// Concurrent moves could each pass the walk below and together
		// close a cycle; taking the one shared settings row's lock (where
		// the engine has row locks) orders them.
		if _, err := w.Tx.Setting(ctx, secretbox.ActiveKeySetting); err != nil {
			return err
		}
		// Walk up from the new parent: reaching this container again means
		// the write would close a cycle.
		seen := map[string]bool{}
		for cur := p; cur != ""; {
			if cur == id {
				return scimerr.New(scimerr.InvalidValue, "parent %q would make container %q its own ancestor", p, id)
			}
			if seen[cur] {
				break // an existing cycle; not this write's doing
			}
			seen[cur] = true
			rs, err := w.Tx.GetMany(ctx, []string{cur})
			if err != nil {
				return err
			}
			r := rs[cur]
			if r == nil {
				break
			}
			cur = refValue(r.Doc, "parent")
		}
	}
	typ, _ := doc["type"].(string)
	smart := strings.EqualFold(typ, SmartRuleType)
	ext, _ := doc[schema.SmartRuleURN].(map[string]any)
	text, _ := ext["filter"].(string)
	switch {
	case smart && strings.TrimSpace(text) == "":
		return scimerr.New(scimerr.InvalidValue, "a container of type smartRule needs %s:filter, a filter over PrivilegedData", schema.SmartRuleURN)
	case smart:
		if _, err := BindRule(g.reg, text); err != nil {
			return err
		}
		doc["type"] = SmartRuleType
		has, err := w.Tx.HasAnyMember(ctx)
		if err != nil {
			return err
		}
		if has {
			return scimerr.New(scimerr.Mutability, "the privilegedData of a smart rule is computed from its filter and cannot be written; remove the static items before making a container a smart rule")
		}
	case ext != nil:
		return scimerr.New(scimerr.InvalidValue, "%s applies only to containers of type smartRule", schema.SmartRuleURN)
	}
	return nil
}

// BindRule parses a smart rule's filter and binds it to PrivilegedData.
func BindRule(reg *schema.Registry, text string) (filter.Expr, error) {
	rt := reg.ResourceType(schema.TypePrivilegedData)
	e, err := filter.Parse(text)
	if err == nil {
		e, err = filter.Bind(rt, e)
	}
	if err != nil {
		detail := err.Error()
		if se, ok := err.(*scimerr.Error); ok {
			detail = se.Detail
		}
		return nil, scimerr.New(scimerr.InvalidValue, "%s:filter is not a valid filter over PrivilegedData: %s", schema.SmartRuleURN, detail)
	}
	return e, nil
}

// seal takes the credential secret out of the document and stores it
// encrypted under the store's active key.
func (g *Guard) seal(ctx context.Context, w *store.Write) (bool, error) {
	doc := w.Res.Doc
	ext, _ := doc[schema.CredentialURN].(map[string]any)
	secret, ok := ext["secret"].(string)
	if !ok {
		return false, nil
	}
	delete(ext, "secret")
	if len(ext) == 0 {
		delete(doc, schema.CredentialURN)
	}
	if g.box == nil {
		return false, scimerr.New(scimerr.Internal, "no secret key is configured; secrets cannot be stored")
	}
	keyID, err := w.Tx.Setting(ctx, secretbox.ActiveKeySetting)
	if err != nil {
		return false, err
	}
	if keyID == "" {
		keyID = g.box.Newest()
	}
	sealed, err := g.box.Seal(keyID, []byte(secret), secretbox.AAD(w.Res.Tenant, w.Res.ID, SecretAttr))
	if err != nil {
		return false, scimerr.Wrap(scimerr.Internal, err, "seal secret")
	}
	return true, w.Tx.PutSealed(ctx, SecretAttr, keyID, sealed)
}

func (g *Guard) permission(ctx context.Context, w *store.Write) error {
	doc := w.Res.Doc
	_, hasU := doc["user"]
	_, hasG := doc["group"]
	switch {
	case hasU && hasG:
		return scimerr.New(scimerr.InvalidValue, "a permission names exactly one of user and group, not both")
	case !hasU && !hasG:
		return scimerr.New(scimerr.InvalidValue, "a permission names exactly one of user and group; it names neither")
	}
	if rights, _ := doc["rights"].([]any); len(rights) == 0 {
		return scimerr.New(scimerr.InvalidValue, "a permission holds at least one right; to revoke every right, DELETE the permission")
	}
	return g.checkRefs(ctx, w)
}

// linked reports whether a User or Group document carries LinkedObject,
// refusing half of the pair.
func linked(doc schema.Doc) (bool, error) {
	m, _ := doc[schema.LinkedObjectURN].(map[string]any)
	if m == nil {
		return false, nil
	}
	_, src := m["source"]
	_, nid := m["nativeIdentifier"]
	if src != nid {
		return false, scimerr.New(scimerr.InvalidValue, "%s: source and nativeIdentifier are set together or not at all", schema.LinkedObjectURN)
	}
	return src, nil
}

// inLocalGroup refuses an external User or Group that is a member of a
// local group.
func (g *Guard) inLocalGroup(ctx context.Context, w *store.Write) error {
	if w.Old == nil {
		return nil // a new resource is in no group yet
	}
	gids, err := w.Tx.GroupsOf(ctx, w.Res.ID)
	if err != nil || len(gids) == 0 {
		return err
	}
	groups, err := w.Tx.GetMany(ctx, gids)
	if err != nil {
		return err
	}
	for _, gid := range gids {
		if gr := groups[gid]; gr != nil && gr.Type == "Group" {
			if ext, _ := linked(gr.Doc); !ext {
				return scimerr.New(scimerr.InvalidSyntax, "an external %s cannot be a member of the local group %q (draft-grizzle-scim-pam-ext §2.1.2)", w.Type.Name, gid)
			}
		}
	}
	return nil
}

func (g *Guard) user(ctx context.Context, w *store.Write) error {
	ext, err := linked(w.Res.Doc)
	if err != nil {
		return err
	}
	if ext {
		if err := g.inLocalGroup(ctx, w); err != nil {
			return err
		}
	}
	for _, k := range []struct{ attr, rtype string }{{"roles", schema.TypeRole}, {"entitlements", schema.TypeEntitlement}} {
		if err := g.checkCatalogue(ctx, w, k.attr, k.rtype); err != nil {
			return err
		}
	}
	return nil
}

// checkCatalogue refuses a roles or entitlements value that the catalogue
// does not hold or does not support. Values the user already had are not
// checked again, so withdrawing a role from the catalogue does not lock
// its holders out of every other change.
func (g *Guard) checkCatalogue(ctx context.Context, w *store.Write, attr, rtype string) error {
	had := map[string]bool{}
	for _, v := range values(w.Old, attr) {
		had[strings.ToLower(v)] = true
	}
	rt := g.reg.ResourceType(rtype)
	for _, v := range values(w.Res.Doc, attr) {
		if had[strings.ToLower(v)] {
			continue
		}
		e, err := w.Tx.ByUnique(ctx, rt, v)
		if err != nil {
			return err
		}
		if e == nil {
			return scimerr.New(scimerr.InvalidValue, "%s value %q is not in the %s catalogue (GET %s)", attr, v, rtype, rt.Endpoint)
		}
		if sup, ok := e.Doc["supported"].(bool); ok && !sup {
			return scimerr.New(scimerr.InvalidValue, "%s value %q is not supported now (see %s)", attr, v, rt.Endpoint)
		}
	}
	return nil
}

func values(doc schema.Doc, attr string) []string {
	list, _ := doc[attr].([]any)
	var out []string
	for _, el := range list {
		m, _ := el.(map[string]any)
		if s, ok := m["value"].(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func (g *Guard) group(ctx context.Context, w *store.Write) error {
	ext, err := linked(w.Res.Doc)
	if err != nil {
		return err
	}
	if ext {
		has, err := w.Tx.HasAnyMember(ctx)
		if err != nil {
			return err
		}
		if has {
			return scimerr.New(scimerr.InvalidSyntax, "an external group has no members here: its members live in the external store (draft-grizzle-scim-pam-ext §2.1.2)")
		}
		return g.inLocalGroup(ctx, w)
	}
	if len(w.Added) == 0 {
		return nil
	}
	added, err := w.Tx.GetMany(ctx, w.Added)
	if err != nil {
		return err
	}
	for _, id := range w.Added {
		if m := added[id]; m != nil {
			if ext, _ := linked(m.Doc); ext {
				return scimerr.New(scimerr.InvalidSyntax, "the local group cannot hold the external %s %q (draft-grizzle-scim-pam-ext §2.1.2)", m.Type, id)
			}
		}
	}
	return nil
}
