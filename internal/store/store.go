// Package store defines the Store interface that every backend (SQLite,
// PostgreSQL) implements, and the values it deals in. storetest is the one
// conformance suite every backend must pass.
//
// Errors: backends return *scimerr.Error values — NotFound for a missing
// resource, Uniqueness when the unique attribute (userName) is taken,
// PreconditionFailed is raised by callers inside UpdateFunc, InvalidValue
// when a member does not exist. Anything else is Internal.
package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
)

// DefaultTenant is the tenant that exists in every store.
const DefaultTenant = "default"

// Resource is one stored resource. Relational attributes (Group.members,
// User.groups) are not in Doc: they are read on request into Members/Groups.
type Resource struct {
	Tenant   string
	Type     string // resource type name, e.g. "User"
	ID       string
	Doc      schema.Doc
	Version  int64
	Created  time.Time
	Modified time.Time

	// Members is set by Get/List when GetOptions.Members is true (groups only).
	Members []Member
	// Groups is set by Get/List when GetOptions.Groups is true (users only):
	// the groups the resource belongs to, directly or through nested groups.
	Groups []GroupRef
}

// ETag returns the weak entity tag of the resource's current version.
func (r *Resource) ETag() string { return ETag(r.Version) }

// ETag formats a version as a weak entity tag.
func ETag(v int64) string { return `W/"` + strconv.FormatInt(v, 10) + `"` }

// Member is one member of a group.
type Member struct {
	ID   string
	Type string // resource type name of the member: "User" or "Group"
	// Display is the label the client gave the member when it added it, or
	// else the member's own display attribute, read at query time. On
	// Create, Resource.Members carries the client labels.
	Display string
	// Kind, when set, is shown as the element's type instead of Type
	// (Container.privilegedData.type is the item's own type attribute).
	Kind string
}

// Labels returns the client labels of ms by id (Create takes them from
// Resource.Members).
func Labels(ms []Member) map[string]string {
	var out map[string]string
	for _, m := range ms {
		if m.Display != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[m.ID] = m.Display
		}
	}
	return out
}

// MissingMembersError says that members named in a write do not exist in
// the tenant. It is an InvalidValue error; callers that drop unknown
// members (api's --unknown-members ignore) read IDs and try again without
// them. AddMembers, SetMembers and Create report it before changing anything.
type MissingMembersError struct{ IDs []string }

func (e *MissingMembersError) Error() string {
	if len(e.IDs) == 1 {
		return fmt.Sprintf("member %q does not exist", e.IDs[0])
	}
	return fmt.Sprintf("members %q do not exist", e.IDs)
}

// Unwrap makes the error an InvalidValue for scimerr.KindOf.
func (e *MissingMembersError) Unwrap() error {
	return scimerr.New(scimerr.InvalidValue, "%s", e.Error())
}

// GroupRef is one group a resource belongs to.
type GroupRef struct {
	ID      string
	Display string
	Direct  bool
}

// GetOptions says which relational attributes to read. Reading members of a
// 200,000-member group is not free, so callers ask only when the response
// will carry them.
type GetOptions struct {
	Members bool
	Groups  bool
}

// UpdateFunc changes a resource inside the store's write transaction. It may
// replace cur.Doc and change membership through tx. It returns whether
// anything changed: when nothing did, the store keeps version and
// lastModified as they were. It may be called more than once if the backend
// retries a serialization failure, so it must not have side effects outside
// cur and tx.
type UpdateFunc func(ctx context.Context, cur *Resource, tx Tx) (changed bool, err error)

// Tx gives an UpdateFunc access to the resource's relations without loading
// them whole: adding or removing one member touches one row.
type Tx interface {
	// Members returns every member of the resource being updated.
	Members(ctx context.Context) ([]Member, error)
	// HasMembers reports which of ids are members.
	HasMembers(ctx context.Context, ids []string) (map[string]bool, error)
	// AddMembers adds members; ids that are already members are skipped. A
	// member that does not exist in the tenant is an InvalidValue error.
	// It returns how many were added.
	AddMembers(ctx context.Context, ids []string) (int, error)
	// RemoveMembers removes members and returns how many were removed.
	RemoveMembers(ctx context.Context, ids []string) (int, error)
	// SetMembers replaces the whole member list; it reports whether it changed.
	SetMembers(ctx context.Context, ids []string) (bool, error)
	// LabelMembers records the labels (members.display) a client gave
	// members, by id; an empty label clears one. Ids that are not members
	// are skipped.
	LabelMembers(ctx context.Context, labels map[string]string) error
}

// Query is a list request. Filter is an already bound filter expression
// (filter.Expr) or nil; backends compile it to their SQL dialect.
type Query struct {
	Tenant     string
	Type       *schema.ResourceType
	Filter     any
	SortBy     *schema.Path
	Descending bool
	StartIndex int // 1-based; used when After is nil
	Count      int // page size; 0 returns only the total
	// After, when set, selects keyset paging: rows strictly after this key in
	// the query's order (cursor pagination, RFC 9865).
	After *Key
	// Before, when set, selects the page that ends right before this key.
	Before *Key
	// NoTotal skips counting totalResults.
	NoTotal bool
	Options GetOptions
}

// Key is a position in a query's order: the sort value and the id.
type Key struct {
	Sort any // nil when sorting by id only, or when the row has no sort value
	ID   string
}

// Page is one page of a list.
type Page struct {
	Total     int
	Resources []*Resource
	// Last is the key of the last resource; HasMore says whether more follow.
	HasMore bool
	HasPrev bool
	First   *Key
	Last    *Key
}

// Token is a named long-lived SCIM bearer token. Only a hash of the secret is
// stored.
type Token struct {
	Tenant    string
	Name      string
	Hash      []byte
	Scopes    []string
	Created   time.Time
	Expires   *time.Time
	LastUsed  *time.Time
	Revoked   *time.Time
	CreatedBy string
}

// Tenant is a tenant.
type Tenant struct {
	Name    string
	Created time.Time
}

// Store is what pamscim keeps. Every write is one transaction.
type Store interface {
	// Create stores a new resource. r.ID, Version, Created and Modified are set
	// by the caller. members are the initial member ids of a group. A taken
	// unique attribute is a Uniqueness error.
	Create(ctx context.Context, rt *schema.ResourceType, r *Resource, members []string) error
	// Get returns one resource, or a NotFound error.
	Get(ctx context.Context, rt *schema.ResourceType, tenant, id string, opt GetOptions) (*Resource, error)
	// Update runs fn on the current resource in one write transaction and
	// stores the result with version+1 and modified=now when fn reports a
	// change. It returns the stored resource.
	Update(ctx context.Context, rt *schema.ResourceType, tenant, id string, now time.Time, fn UpdateFunc) (*Resource, error)
	// Delete removes a resource and every membership that names it. If
	// check is not nil it runs first, inside the transaction (If-Match).
	Delete(ctx context.Context, rt *schema.ResourceType, tenant, id string, check func(*Resource) error) error
	// List returns one page of resources matching q.
	List(ctx context.Context, q Query) (*Page, error)
	// Ping checks that the store answers (readiness).
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error

	TokenStore
	TenantStore
	ClientStore
	OAuthTokenStore
	AuditStore
	LogStore
	AdminStore // web console administrators and sessions (admin.go)

	// Secret returns the server secret with the given name, creating it
	// with gen on first use. Every instance on one database gets the same
	// value, even when several create it at once.
	Secret(ctx context.Context, name string, gen func() []byte) ([]byte, error)
}

// TokenStore keeps named SCIM tokens.
type TokenStore interface {
	CreateToken(ctx context.Context, t *Token) error
	// TokenByHash returns the token with the given hash, revoked or not, or NotFound.
	TokenByHash(ctx context.Context, hash []byte) (*Token, error)
	ListTokens(ctx context.Context, tenant string) ([]*Token, error)
	// RevokeToken marks a token revoked; NotFound if there is none by that name.
	RevokeToken(ctx context.Context, tenant, name string, at time.Time) error
	// TouchToken records a use of the token.
	TouchToken(ctx context.Context, hash []byte, at time.Time) error
	// CountTokens counts all tokens in all tenants (first-start detection).
	CountTokens(ctx context.Context) (int, error)
}

// TokenEpoch is implemented by a store that counts the revocations made
// through it: of a named token, of OAuth tokens, and the changes to clients
// and service accounts that revoke theirs. A cache of verified tokens (auth)
// drops every entry read before the count last moved, so a revocation made
// through the same store is seen by the next request.
type TokenEpoch interface {
	TokenEpoch() uint64
}

// WriteEpoch is implemented by a store that counts the write transactions
// made through it. A number derived from the resources (a list's
// totalResults) and read while the epoch stayed put is still exact, so it can
// be reused instead of counted again; writes made by another process or
// instance are not counted, so such reuse is also bounded in time.
type WriteEpoch interface {
	WriteEpoch() uint64
}

// TenantStore keeps tenants.
type TenantStore interface {
	CreateTenant(ctx context.Context, name string, at time.Time) error
	ListTenants(ctx context.Context) ([]Tenant, error)
	TenantExists(ctx context.Context, name string) (bool, error)
}
