package api

import (
	"net/http"
	"strings"

	"github.com/pamscim/pamscim/internal/filter"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// Searches at the root (RFC 7644 §3.4.2.1, §3.4.3): GET /?filter=… and
// POST /.search run one query over every resource type. An attribute a type
// does not define counts as having no value there (filter.Prune), so
// `userName eq "x"` finds users and no groups, and `userName ne "x"` finds
// every group. Results come type by type in the order of /ResourceTypes,
// each type ordered by id, with index paging over the whole. sortBy and
// cursors are per endpoint: a sort across types with different attributes
// has no single meaning, and they are refused with a clear error.

func (s *Server) handleRootList(w http.ResponseWriter, r *http.Request) error {
	sr, err := searchFromQuery(r)
	if err != nil {
		return err
	}
	return s.rootSearch(w, r, sr)
}

func (s *Server) handleRootSearch(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(r)
	if err != nil {
		return err
	}
	sr, err := decodeSearch(body)
	if err != nil {
		return err
	}
	return s.rootSearch(w, r, sr)
}

type rootPart struct {
	rt    *schema.ResourceType
	p     *schema.Projection
	q     store.Query
	total int
}

func (s *Server) rootSearch(w http.ResponseWriter, r *http.Request, sr *searchRequest) error {
	if sr.SortBy != "" || sr.SortOrder != "" {
		return scimerr.New(scimerr.InvalidValue, "sortBy is not supported on a search across resource types; search an endpoint such as /Users/.search")
	}
	if sr.Cursor != nil {
		return scimerr.New(scimerr.InvalidValue, "cursor paging is supported on each endpoint, not on a search across resource types; use startIndex and count")
	}
	if len(sr.Attributes) > 0 && len(sr.ExcludedAttributes) > 0 {
		return scimerr.New(scimerr.InvalidValue, "attributes and excludedAttributes cannot be used together")
	}
	var parsed filter.Expr
	if strings.TrimSpace(sr.Filter) != "" {
		var err error
		if parsed, err = filter.Parse(sr.Filter); err != nil {
			return err
		}
	}
	pr := principalOf(r.Context())
	var parts []*rootPart
	for _, rt := range s.reg.ResourceTypes() {
		part := &rootPart{rt: rt, p: rt.ParseProjection(sr.Attributes, sr.ExcludedAttributes)}
		part.q = store.Query{Tenant: pr.Tenant, Type: rt, Options: optionsFor(rt, part.p)}
		if parsed != nil {
			pruned, _, none := filter.Prune(rt, parsed)
			if none {
				continue
			}
			if pruned != nil {
				bound, err := filter.Bind(rt, pruned)
				if err != nil {
					return err
				}
				part.q.Filter = bound
			}
		}
		parts = append(parts, part)
	}
	count := s.cfg.DefaultCount
	if sr.Count != nil {
		count = max(0, min(*sr.Count, s.cfg.MaxCount))
	}
	start := 1
	if sr.StartIndex != nil && *sr.StartIndex > 1 {
		start = *sr.StartIndex
	}
	if err := s.checkIndexWindow(start, count); err != nil {
		return err
	}
	total := 0
	for _, part := range parts {
		q := part.q
		q.Count, q.StartIndex = 0, 1
		page, err := s.listStore(r.Context(), q, sr.Filter)
		if err != nil {
			return err
		}
		part.total = page.Total
		total += page.Total
	}
	base := s.baseURL(r)
	var items [][]byte
	offset := start - 1
	for _, part := range parts {
		if len(items) >= count {
			break
		}
		if offset >= part.total {
			offset -= part.total
			continue
		}
		q := part.q
		q.StartIndex, q.Count, q.NoTotal = offset+1, count-len(items), true
		offset = 0
		page, err := s.listStore(r.Context(), q, sr.Filter)
		if err != nil {
			return err
		}
		if err := s.pamDecorate(r.Context(), base, part.rt, page.Resources, part.p); err != nil {
			return err
		}
		for _, res := range page.Resources {
			items = append(items, s.render(base, part.rt, res, part.p))
		}
	}
	writeList(w, total, start, items, nil)
	return nil
}
