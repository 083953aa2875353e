package store

import (
	"context"

	"github.com/pamscim/pamscim/internal/schema"
)

// Guard enforces rules that span resources — references that must exist,
// composite uniqueness, cascades, encryption of sealed attributes — inside
// the write transaction of every Create, Update and Delete, so that no
// concurrent writer can slip between the check and the write.
// internal/pam provides the PAM guard; a store without a guard refuses to
// store a document that holds a sealed attribute.
type Guard interface {
	// BeforeWrite runs when the document of w.Res is final, before it is
	// stored. It may change w.Res.Doc (taking sealed values out) and
	// reports whether it changed anything the document does not show (a
	// new secret), so that the version moves.
	BeforeWrite(ctx context.Context, w *Write) (changed bool, err error)
	// BeforeDelete runs before w.Res is deleted, after the If-Match check.
	BeforeDelete(ctx context.Context, w *Write) error
}

// Write is one resource being written, with the transaction it is written in.
type Write struct {
	Type *schema.ResourceType
	Res  *Resource
	// Old is the document before the write; nil on create.
	Old schema.Doc
	// Added lists the member ids that this write added (RelMembers).
	Added []string
	Tx    GuardTx
}

// GuardTx reads and writes other resources inside the write transaction.
type GuardTx interface {
	// GetMany returns the resources of the tenant with the given ids, of
	// any type (Type set, Doc read); ids that do not exist are absent.
	GetMany(ctx context.Context, ids []string) (map[string]*Resource, error)
	// ByUnique returns the resource of type rt whose unique attribute is
	// value (folded when the attribute is not caseExact), or nil.
	ByUnique(ctx context.Context, rt *schema.ResourceType, value string) (*Resource, error)
	// Referrers returns the ids of resources of type rtype whose indexed
	// attribute path (e.g. "container.value") holds id.
	Referrers(ctx context.Context, rtype, path, id string) ([]string, error)
	// DeleteReferrers deletes the resources of type rtype whose indexed
	// attribute path holds id, set-wise, and returns how many.
	DeleteReferrers(ctx context.Context, rtype, path, id string) (int, error)
	// HasMembers reports whether the resource being written has any
	// member (RelMembers); one index probe.
	HasAnyMember(ctx context.Context) (bool, error)
	// GroupsOf returns the ids of the resources whose members table rows
	// hold id directly (a user's direct groups, an item's container).
	GroupsOf(ctx context.Context, id string) ([]string, error)
	// UpdateOther changes another resource of the tenant (clearing a
	// Container's owner when its User goes); fn reports whether it changed
	// the document. The version moves when it did.
	UpdateOther(ctx context.Context, rt *schema.ResourceType, id string, fn func(doc schema.Doc) bool) error
	// PutSealed stores the sealed (encrypted) value of attribute attr of
	// the resource being written; DeleteSealed removes every sealed value
	// of a resource.
	PutSealed(ctx context.Context, attr, keyID string, sealed []byte) error
	DeleteSealed(ctx context.Context, id string) error
	// Setting reads a server-wide setting ("" when unset).
	Setting(ctx context.Context, name string) (string, error)
}

// Sealed is one sealed (encrypted) attribute value.
type Sealed struct {
	Tenant string
	ID     string // the resource
	Attr   string // the attribute path, e.g. urn:…:Credential:secret
	KeyID  string
	Data   []byte
}

// PAMStore is what the PAM features need beyond Store. The SQL stores
// implement it.
type PAMStore interface {
	// SetGuard installs the guard that every write runs.
	SetGuard(g Guard)
	// GetMany returns resources of the tenant by id, of any type.
	GetMany(ctx context.Context, tenant string, ids []string) (map[string]*Resource, error)
	// Setting and SetSetting read and write a server-wide setting; a
	// SetSetting runs in a write transaction, so it orders with the
	// guard's reads of the same setting.
	Setting(ctx context.Context, name string) (string, error)
	SetSetting(ctx context.Context, name, value string) error
	// SealedNotUnder returns up to limit sealed values whose key is not
	// keyID, for re-encryption.
	SealedNotUnder(ctx context.Context, keyID string, limit int) ([]Sealed, error)
	// Reseal replaces a sealed value if it is still under s.KeyID.
	Reseal(ctx context.Context, s Sealed, keyID string, data []byte) error
	// SealedValue returns the sealed value of attr of a resource, or nil.
	SealedValue(ctx context.Context, tenant, id, attr string) (*Sealed, error)
}

// CatalogueEntry is an entry of a default catalogue.
type CatalogueEntry struct {
	ID, Value, Display, Type string
}

// DefaultRoles are the roles every new tenant starts with (the 0010
// migration gave them to the tenants that existed before it).
var DefaultRoles = []CatalogueEntry{
	{"role-requester", "Requester", "Requester: requests access to privileged data", "PAM"},
	{"role-approver", "Approver", "Approver: approves access requests", "PAM"},
	{"role-auditor", "Auditor", "Auditor: reads permissions, access and the audit trail", "PAM"},
	{"role-administrator", "Administrator", "Administrator: manages containers, privileged data and permissions", "PAM"},
}

type catalogueKey struct{}

// CatalogueWrite marks ctx as a write by the catalogue administration
// (pamscim role/entitlement), which the guard lets through.
func CatalogueWrite(ctx context.Context) context.Context {
	return context.WithValue(ctx, catalogueKey{}, true)
}

// IsCatalogueWrite reports whether ctx was marked by CatalogueWrite.
func IsCatalogueWrite(ctx context.Context) bool {
	v, _ := ctx.Value(catalogueKey{}).(bool)
	return v
}
