package pam

import (
	"context"
	"time"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// CatalogueEntry is a Role or Entitlement as the CLI manages it.
type CatalogueEntry struct {
	ID        string `json:"id"`
	Value     string `json:"value"`
	Display   string `json:"display,omitempty"`
	Type      string `json:"type,omitempty"`
	Supported bool   `json:"supported"`
}

// Catalogue manages the Role or Entitlement catalogue of a tenant; SCIM
// serves it read-only.
type Catalogue struct {
	st store.Store
	rt *schema.ResourceType
}

// NewCatalogue returns the catalogue of resource type rtype (Role or Entitlement).
func NewCatalogue(reg *schema.Registry, st store.Store, rtype string) *Catalogue {
	return &Catalogue{st: st, rt: reg.ResourceType(rtype)}
}

func entryOf(r *store.Resource) CatalogueEntry {
	e := CatalogueEntry{ID: r.ID, Supported: true}
	e.Value, _ = r.Doc["value"].(string)
	e.Display, _ = r.Doc["display"].(string)
	e.Type, _ = r.Doc["type"].(string)
	if b, ok := r.Doc["supported"].(bool); ok {
		e.Supported = b
	}
	return e
}

// List returns the tenant's entries by value.
func (c *Catalogue) List(ctx context.Context, tenant string) ([]CatalogueEntry, error) {
	sortBy, err := c.rt.ResolvePath("value")
	if err != nil {
		return nil, err
	}
	q := store.Query{Tenant: tenant, Type: c.rt, Count: 1000, SortBy: &sortBy, NoTotal: true}
	var out []CatalogueEntry
	for {
		page, err := c.st.List(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Resources {
			out = append(out, entryOf(r))
		}
		if !page.HasMore {
			return out, nil
		}
		q.After = page.Last
	}
}

func (c *Catalogue) find(ctx context.Context, tenant, value string) (*store.Resource, error) {
	page, err := c.st.List(ctx, store.Query{Tenant: tenant, Type: c.rt, Count: 1, Filter: mustBind(c.rt, "value eq "+quote(value))})
	if err != nil {
		return nil, err
	}
	if len(page.Resources) == 0 {
		return nil, nil
	}
	return page.Resources[0], nil
}

// Put adds an entry, or changes the one with the same value.
func (c *Catalogue) Put(ctx context.Context, tenant string, e CatalogueEntry) (CatalogueEntry, error) {
	if e.Value == "" {
		return e, scimerr.New(scimerr.InvalidValue, "a %s needs a value", c.rt.Name)
	}
	ctx = store.CatalogueWrite(ctx)
	doc := schema.Doc{"value": e.Value, "supported": e.Supported}
	if e.Display != "" {
		doc["display"] = e.Display
	}
	if e.Type != "" {
		doc["type"] = e.Type
	}
	cur, err := c.find(ctx, tenant, e.Value)
	if err != nil {
		return e, err
	}
	now := time.Now().UTC()
	if cur == nil {
		r := &store.Resource{Tenant: tenant, Type: c.rt.Name, ID: store.NewID(), Doc: doc, Version: 1, Created: now, Modified: now}
		if err := c.st.Create(ctx, c.rt, r, nil); err != nil {
			return e, err
		}
		return entryOf(r), nil
	}
	r, err := c.st.Update(ctx, c.rt, tenant, cur.ID, now, func(ctx context.Context, cur *store.Resource, tx store.Tx) (bool, error) {
		cur.Doc = doc
		return false, nil
	})
	if err != nil {
		return e, err
	}
	return entryOf(r), nil
}

// Remove deletes the entry with the given value. Users who hold it keep
// it; they cannot be given it again.
func (c *Catalogue) Remove(ctx context.Context, tenant, value string) error {
	cur, err := c.find(ctx, tenant, value)
	if err != nil {
		return err
	}
	if cur == nil {
		return scimerr.New(scimerr.NotFound, "no %s with value %q", c.rt.Name, value)
	}
	return c.st.Delete(store.CatalogueWrite(ctx), c.rt, tenant, cur.ID, nil)
}
