package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// searchRequest is a list query, parsed once from the URL (GET) or from a
// SearchRequest body (POST .search).
type searchRequest struct {
	Attributes         []string
	ExcludedAttributes []string
	Filter             string
	SortBy             string
	SortOrder          string
	StartIndex         *int
	Count              *int
	// Cursor is nil for index paging; "" asks for the first cursor page.
	Cursor *string
}

func itoa(n int) string { return strconv.Itoa(n) }

func writeQuoted(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s)
	b.Write(enc)
}

// intParam parses an integer query parameter leniently: clients send
// startIndex and count, and a value that is not a number is a client error.
func intParam(q map[string][]string, name string) (*int, error) {
	vals, ok := q[name]
	if !ok || len(vals) == 0 || vals[0] == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(vals[0]))
	if err != nil {
		return nil, scimerr.New(scimerr.InvalidValue, "%s must be an integer, got %q", name, vals[0])
	}
	return &n, nil
}

func searchFromQuery(r *http.Request) (*searchRequest, error) {
	q := r.URL.Query()
	sr := &searchRequest{
		Attributes:         splitList(q["attributes"]),
		ExcludedAttributes: splitList(q["excludedAttributes"]),
		Filter:             q.Get("filter"),
		SortBy:             q.Get("sortBy"),
		SortOrder:          q.Get("sortOrder"),
	}
	var err error
	if sr.StartIndex, err = intParam(q, "startIndex"); err != nil {
		return nil, err
	}
	if sr.Count, err = intParam(q, "count"); err != nil {
		return nil, err
	}
	// A bare "?cursor" (no "=") starts cursor paging (RFC 9865 §3.1).
	if q.Has("cursor") {
		c := q.Get("cursor")
		sr.Cursor = &c
	}
	return sr, nil
}

// handleList handles GET /{endpoint} (RFC 7644 §3.4.2).
func (s *Server) handleList(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType) error {
	sr, err := searchFromQuery(r)
	if err != nil {
		return err
	}
	return s.list(w, r, rt, sr)
}

// handleSearch handles POST /{endpoint}/.search (RFC 7644 §3.4.3).
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType) error {
	body, err := s.readBody(r)
	if err != nil {
		return err
	}
	sr, err := decodeSearch(body)
	if err != nil {
		return err
	}
	return s.list(w, r, rt, sr)
}

func decodeSearch(body []byte) (*searchRequest, error) {
	obj, err := schema.DecodeObject(body)
	if err != nil {
		return nil, err
	}
	sr := &searchRequest{}
	for k, v := range obj {
		bad := func(want string) error {
			return scimerr.New(scimerr.InvalidValue, "SearchRequest %s must be %s", k, want)
		}
		switch strings.ToLower(k) {
		case "schemas":
		case "attributes", "excludedattributes":
			var list []string
			switch x := v.(type) {
			case []any:
				for _, e := range x {
					s, ok := e.(string)
					if !ok {
						return nil, bad("an array of strings")
					}
					list = append(list, s)
				}
			case string:
				list = splitList([]string{x})
			case nil:
			default:
				return nil, bad("an array of strings")
			}
			if strings.EqualFold(k, "attributes") {
				sr.Attributes = splitList(list)
			} else {
				sr.ExcludedAttributes = splitList(list)
			}
		case "cursor":
			str, ok := v.(string)
			if !ok && v != nil {
				return nil, bad("a string")
			}
			sr.Cursor = &str
		case "filter", "sortby", "sortorder":
			str, ok := v.(string)
			if !ok && v != nil {
				return nil, bad("a string")
			}
			switch strings.ToLower(k) {
			case "filter":
				sr.Filter = str
			case "sortby":
				sr.SortBy = str
			default:
				sr.SortOrder = str
			}
		case "startindex", "count":
			n, ok := v.(json.Number)
			if !ok {
				return nil, bad("an integer")
			}
			i, err := strconv.Atoi(string(n))
			if err != nil {
				return nil, bad("an integer")
			}
			if strings.EqualFold(k, "count") {
				sr.Count = &i
			} else {
				sr.StartIndex = &i
			}
		}
	}
	return sr, nil
}

// list runs a query and writes the ListResponse, with index paging exactly as
// RFC 7644 §3.4.2.4 says: 1-based startIndex clamped to 1, count clamped to
// [0, MaxCount], count=0 returning only totalResults.
func (s *Server) list(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType, sr *searchRequest) error {
	p, err := projectionOf(rt, sr.Attributes, sr.ExcludedAttributes)
	if err != nil {
		return err
	}
	pr := principalOf(r.Context())
	q := store.Query{Tenant: pr.Tenant, Type: rt, Options: optionsFor(rt, p)}
	if strings.TrimSpace(sr.Filter) != "" {
		if q.Filter, err = s.bindFilter(rt, sr.Filter); err != nil {
			return err
		}
	}
	if sr.SortBy != "" {
		path, err := rt.ResolvePath(sr.SortBy)
		if err != nil || path.Attr == nil {
			return scimerr.New(scimerr.InvalidValue, "sortBy: attribute %q is not defined for %s", sr.SortBy, rt.Name)
		}
		if path.Leaf().IsComplex() && path.Leaf().Sub("value") != nil {
			path.Sub = path.Leaf().Sub("value")
		}
		q.SortBy = &path
	}
	switch strings.ToLower(sr.SortOrder) {
	case "", "ascending":
	case "descending":
		q.Descending = true
	default:
		return scimerr.New(scimerr.InvalidValue, "sortOrder must be ascending or descending, not %q", sr.SortOrder)
	}
	pamDefaultSort(rt, &q)
	q.Count = s.cfg.DefaultCount
	if sr.Count != nil {
		q.Count = max(0, min(*sr.Count, s.cfg.MaxCount))
	}
	var cur *cursorState
	var ad []byte
	if sr.Cursor != nil {
		if sr.StartIndex != nil {
			return scimerr.New(scimerr.InvalidValue, "startIndex and cursor cannot be used together")
		}
		if sr.Count != nil && (*sr.Count < 0 || *sr.Count > s.cfg.MaxCount) {
			return scimerr.New(scimerr.InvalidCount, "count must be between 0 and %d", s.cfg.MaxCount)
		}
		ad = cursorBinding(pr.Tenant, pr.TokenName, rt.Name, sr)
		if *sr.Cursor != "" {
			if cur, err = s.cursors.open(r.Context(), *sr.Cursor, ad, s.now()); err != nil {
				return err
			}
			if q.Count != cur.Count {
				return scimerr.New(scimerr.InvalidCount, "count must stay %d, the count of the first page", cur.Count)
			}
			key := &store.Key{Sort: sortValue(cur.Sort), ID: cur.ID}
			if cur.Prev {
				q.Before = key
			} else {
				q.After = key
			}
			// The total of the first page is carried: counting a million
			// rows on every page would cost more than the page itself.
			q.NoTotal = true
		}
	} else {
		q.StartIndex = 1
		if sr.StartIndex != nil && *sr.StartIndex > 1 {
			q.StartIndex = *sr.StartIndex
		}
	}
	var (
		walk        *walkKey
		epoch       uint64
		haveEpoch   bool
		carried     int
		haveCarried bool
		now         = s.now()
	)
	if sr.Cursor == nil {
		if err := s.checkIndexWindow(q.StartIndex, q.Count); err != nil {
			return err
		}
		walk = &walkKey{tenant: pr.Tenant, credential: pr.TokenName, rtype: rt.Name, filter: sr.Filter, sortBy: strings.ToLower(sr.SortBy), desc: q.Descending}
		// Read before the count, so that a write committing meanwhile
		// leaves the count recorded under an epoch that has already moved.
		if s.epoch != nil {
			epoch, haveEpoch = s.epoch.WriteEpoch(), true
		}
		after, total, ok := s.walks.lookup(*walk, q.StartIndex-1, epoch, now)
		if after != nil && q.Count > 0 {
			q.After = after
		}
		if ok && haveEpoch {
			q.NoTotal, carried, haveCarried = true, total, true
		}
	}
	page, err := s.listStore(r.Context(), q, sr.Filter)
	if err != nil {
		return err
	}
	// A page that holds the whole result (a lookup) starts no walk: it is
	// not remembered, so lookups do not churn the walks of listings.
	if walk != nil && (page.HasMore || q.StartIndex > 1) {
		var last *store.Key
		if page.HasMore && page.Last != nil {
			last = page.Last
		}
		s.walks.record(*walk, q.StartIndex-1+len(page.Resources), last, !q.NoTotal && haveEpoch, page.Total, epoch, now)
	}
	if haveCarried {
		page.Total = carried
	}
	base := s.baseURL(r)
	if err := s.pamDecorate(r.Context(), base, rt, page.Resources, p); err != nil {
		return err
	}
	items := make([][]byte, 0, len(page.Resources))
	for _, res := range page.Resources {
		items = append(items, s.render(base, rt, res, p))
	}
	if sr.Cursor == nil {
		writeList(w, page.Total, q.StartIndex, items, nil)
		return nil
	}
	total := page.Total
	if cur != nil {
		total = cur.Total
	}
	extra := map[string]string{}
	exp := s.now().Add(cursorTimeout).Unix()
	if page.HasMore && page.Last != nil {
		st := keyState(page.Last)
		st.Count, st.Total, st.Expires = q.Count, total, exp
		if extra["nextCursor"], err = s.cursors.seal(r.Context(), st, ad); err != nil {
			return err
		}
	}
	if page.HasPrev && page.First != nil {
		st := keyState(page.First)
		st.Prev, st.Count, st.Total, st.Expires = true, q.Count, total, exp
		if extra["previousCursor"], err = s.cursors.seal(r.Context(), st, ad); err != nil {
			return err
		}
	}
	writeList(w, total, 0, items, extra)
	return nil
}
