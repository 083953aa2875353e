package pam

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pamscim/pamscim/internal/filter"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
)

// Service answers the PAM questions that read across resources.
type Service struct {
	reg *schema.Registry
	st  store.Store
	ps  store.PAMStore
}

// NewService returns the service over a store that implements PAMStore.
func NewService(reg *schema.Registry, st store.Store) (*Service, error) {
	ps, ok := st.(store.PAMStore)
	if !ok {
		return nil, fmt.Errorf("the %T store does not keep PAM resources", st)
	}
	return &Service{reg: reg, st: st, ps: ps}, nil
}

// quote writes a filter string literal.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// listAll returns every resource of type rtype matching the filter text,
// reading keyset pages so that a large result never needs OFFSET.
func (s *Service) listAll(ctx context.Context, tenant, rtype, text string, opt store.GetOptions) ([]*store.Resource, error) {
	rt := s.reg.ResourceType(rtype)
	var e filter.Expr
	if text != "" {
		var err error
		if e, err = filter.Parse(text); err == nil {
			e, err = filter.Bind(rt, e)
		}
		if err != nil {
			return nil, err
		}
	}
	return s.listExpr(ctx, tenant, rt, e, opt)
}

func (s *Service) listExpr(ctx context.Context, tenant string, rt *schema.ResourceType, e filter.Expr, opt store.GetOptions) ([]*store.Resource, error) {
	var out []*store.Resource
	q := store.Query{Tenant: tenant, Type: rt, Count: 1000, NoTotal: true, Options: opt}
	if e != nil {
		q.Filter = e
	}
	for {
		page, err := s.st.List(ctx, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Resources...)
		if !page.HasMore || page.Last == nil {
			return out, nil
		}
		q.After = page.Last
	}
}

// SmartMembers lists the privileged data that a smart rule's filter
// matches now, ordered by id. The filter runs as SQL (filter.Compile).
func (s *Service) SmartMembers(ctx context.Context, tenant, text string) ([]store.Member, error) {
	e, err := BindRule(s.reg, text)
	if err != nil {
		return nil, err
	}
	items, err := s.listExpr(ctx, tenant, s.reg.ResourceType(schema.TypePrivilegedData), e, store.GetOptions{})
	if err != nil {
		return nil, err
	}
	out := make([]store.Member, 0, len(items))
	for _, it := range items {
		name, _ := it.Doc["name"].(string)
		kind, _ := it.Doc["type"].(string)
		out = append(out, store.Member{ID: it.ID, Type: schema.TypePrivilegedData, Display: name, Kind: kind})
	}
	return out, nil
}

// CountSmartMembers counts the items a smart rule matches (one SQL count).
func (s *Service) CountSmartMembers(ctx context.Context, tenant, text string) (int, error) {
	e, err := BindRule(s.reg, text)
	if err != nil {
		return 0, err
	}
	page, err := s.st.List(ctx, store.Query{Tenant: tenant, Type: s.reg.ResourceType(schema.TypePrivilegedData), Filter: e})
	if err != nil {
		return 0, err
	}
	return page.Total, nil
}

// IsSmartRule reports whether a Container document is a smart rule, and
// its filter.
func IsSmartRule(doc schema.Doc) (string, bool) {
	typ, _ := doc["type"].(string)
	if !strings.EqualFold(typ, SmartRuleType) {
		return "", false
	}
	ext, _ := doc[schema.SmartRuleURN].(map[string]any)
	text, _ := ext["filter"].(string)
	return text, true
}

// displayOf is how a resource is named where another refers to it.
func (s *Service) displayOf(r *store.Resource) string {
	rt := s.reg.ResourceType(r.Type)
	if rt == nil {
		return ""
	}
	for _, a := range []*schema.Attribute{rt.DisplayAttr, rt.UniqueAttr} {
		if a != nil {
			if v, ok := r.Doc[a.Name].(string); ok && v != "" {
				return v
			}
		}
	}
	if v, ok := r.Doc["name"].(string); ok {
		return v
	}
	return ""
}

// Decorate fills in what documents do not keep, for output: the $ref,
// display and (for a container) name of every reference; the type of each
// item of a container's privilegedData; and, when members were read, the
// privilegedData of smart rules, computed from their filters now.
func (s *Service) Decorate(ctx context.Context, base string, rt *schema.ResourceType, rs []*store.Resource, members bool) error {
	if len(rs) == 0 {
		return nil
	}
	var refs []schema.Reference
	for _, r := range rt.References() {
		if !r.Relational && !r.Path.IsExtension() && !r.Path.Attr.MultiValued {
			refs = append(refs, r)
		}
	}
	if len(refs) > 0 {
		var ids []string
		for _, r := range rs {
			for _, ref := range refs {
				if id := refValue(r.Doc, ref.Path.Attr.Name); id != "" {
					ids = append(ids, id)
				}
			}
		}
		targets, err := s.ps.GetMany(ctx, rs[0].Tenant, ids)
		if err != nil {
			return err
		}
		for _, r := range rs {
			for _, ref := range refs {
				name := ref.Path.Attr.Name
				id := refValue(r.Doc, name)
				t := targets[id]
				if t == nil {
					continue
				}
				el := map[string]any{"value": id}
				if trt := s.reg.ResourceType(t.Type); trt != nil {
					el["$ref"] = base + trt.Endpoint + "/" + id
				}
				if d := s.displayOf(t); d != "" {
					el["display"] = d
				}
				if ref.Path.Attr.Sub("name") != nil {
					if n, ok := t.Doc["name"].(string); ok {
						el["name"] = n
					}
				}
				r.Doc[name] = el
			}
		}
	}
	if !members || rt.Name != schema.TypeContainer {
		return nil
	}
	for _, r := range rs {
		if text, smart := IsSmartRule(r.Doc); smart {
			ms, err := s.SmartMembers(ctx, r.Tenant, text)
			if err != nil {
				return err
			}
			r.Members = ms
			continue
		}
		if len(r.Members) == 0 {
			continue
		}
		ids := make([]string, len(r.Members))
		for i, m := range r.Members {
			ids[i] = m.ID
		}
		items, err := s.ps.GetMany(ctx, r.Tenant, ids)
		if err != nil {
			return err
		}
		for i := range r.Members {
			if it := items[r.Members[i].ID]; it != nil {
				r.Members[i].Kind, _ = it.Doc["type"].(string)
			}
		}
	}
	return nil
}

// mustBind binds a filter built here from quoted values; a failure is a
// programming error.
func mustBind(rt *schema.ResourceType, text string) filter.Expr {
	e, err := filter.Parse(text)
	if err == nil {
		e, err = filter.Bind(rt, e)
	}
	if err != nil {
		panic(err)
	}
	return e
}
