package api

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// projection reads attributes/excludedAttributes from the query string.
func projection(r *http.Request, rt *schema.ResourceType) (*schema.Projection, error) {
	q := r.URL.Query()
	return projectionOf(rt, splitList(q["attributes"]), splitList(q["excludedAttributes"]))
}

func projectionOf(rt *schema.ResourceType, attrs, excluded []string) (*schema.Projection, error) {
	if len(attrs) > 0 && len(excluded) > 0 {
		return nil, scimerr.New(scimerr.InvalidValue, "attributes and excludedAttributes cannot be used together")
	}
	// Unambiguous: every list, from the URL or a SearchRequest, was split
	// on commas (splitList), so no name holds one.
	k := projKey{rt: rt, attrs: strings.Join(attrs, ","), excluded: strings.Join(excluded, ",")}
	if p, ok := projections.Load(k); ok {
		return p.(*schema.Projection), nil
	}
	p := rt.ParseProjection(attrs, excluded)
	// Clients send the same few projections on every request (Entra's
	// excludedAttributes=members, SailPoint's attribute lists); resolving
	// the names was 5 % of a lookup's CPU. The cache stops growing at
	// projectionCacheMax so that random names cannot fill memory.
	if projectionCount.Load() < projectionCacheMax {
		if _, loaded := projections.LoadOrStore(k, p); !loaded {
			projectionCount.Add(1)
		}
	}
	return p, nil
}

// A Projection is not changed after ParseProjection (WithRequested copies),
// so one may serve every request that names the same attributes.
type projKey struct {
	rt              *schema.ResourceType
	attrs, excluded string
}

const projectionCacheMax = 1024

var (
	projections     sync.Map // projKey → *schema.Projection
	projectionCount atomic.Int64
)

func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

// optionsFor reads relational attributes only when the response shows them:
// excludedAttributes=members never touches the member table.
func optionsFor(rt *schema.ResourceType, p *schema.Projection) store.GetOptions {
	var o store.GetOptions
	if a := rt.RelAttr(schema.RelMembers); a != nil && p.Includes(a) {
		o.Members = true
	}
	if a := rt.RelAttr(schema.RelGroups); a != nil && p.Includes(a) {
		o.Groups = true
	}
	return o
}

func (s *Server) location(base string, rt *schema.ResourceType, id string) string {
	return base + rt.Endpoint + "/" + id
}

// render writes one resource with its meta and relational attributes.
func (s *Server) render(base string, rt *schema.ResourceType, res *store.Resource, p *schema.Projection) []byte {
	rel := map[*schema.Attribute][]any{}
	if a := rt.RelAttr(schema.RelMembers); a != nil && res.Members != nil {
		list := make([]any, 0, len(res.Members))
		for _, m := range res.Members {
			// type is the member's resource type where the schema says
			// so (Group.members: User or Group), else its own kind
			// (Container.privilegedData: the item's type), else absent.
			el := map[string]any{"value": m.ID}
			if m.Kind != "" {
				el["type"] = m.Kind
			} else if ts := a.Sub("type"); ts != nil && slices.Contains(ts.CanonicalValues, m.Type) {
				el["type"] = m.Type
			}
			if mrt := s.reg.ResourceType(m.Type); mrt != nil {
				el["$ref"] = s.location(base, mrt, m.ID)
			}
			if m.Display != "" {
				el["display"] = m.Display
			}
			list = append(list, el)
		}
		rel[a] = list
	}
	if a := rt.RelAttr(schema.RelGroups); a != nil && res.Groups != nil {
		grt := s.reg.ResourceType("Group")
		list := make([]any, 0, len(res.Groups))
		for _, g := range res.Groups {
			el := map[string]any{"value": g.ID, "type": "indirect"}
			if g.Direct {
				el["type"] = "direct"
			}
			if grt != nil {
				el["$ref"] = s.location(base, grt, g.ID)
			}
			if g.Display != "" {
				el["display"] = g.Display
			}
			list = append(list, el)
		}
		rel[a] = list
	}
	return rt.Render(&schema.Rendered{
		ID:  res.ID,
		Doc: res.Doc,
		Meta: schema.Meta{Created: res.Created, LastModified: res.Modified,
			Location: s.location(base, rt, res.ID), Version: res.ETag()},
		Relational: rel,
	}, p)
}

// writeResource writes a single resource response with Location/ETag headers.
func (s *Server) writeResource(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType, res *store.Resource, p *schema.Projection, status int) {
	base := s.baseURL(r)
	if err := s.pamDecorate(r.Context(), base, rt, []*store.Resource{res}, p); err != nil {
		s.writeError(w, r, err)
		return
	}
	loc := s.location(base, rt, res.ID)
	w.Header().Set("ETag", res.ETag())
	if status == http.StatusCreated {
		w.Header().Set("Location", loc)
	} else {
		w.Header().Set("Content-Location", loc)
	}
	writeJSON(w, status, s.render(base, rt, res, p))
}

// memberIDs extracts member ids from normalised member values.
func memberIDs(vals []any) ([]string, error) {
	ids := make([]string, 0, len(vals))
	for _, v := range vals {
		m, _ := v.(map[string]any)
		id, _ := m["value"].(string)
		if id == "" {
			return nil, scimerr.New(scimerr.InvalidValue, "every member needs a value (the member's id)")
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// touchedAttrs lists the top-level attributes a request body set, for the
// "returned: request" rule.
func touchedAttrs(rt *schema.ResourceType, in *schema.Input) []*schema.Attribute {
	var out []*schema.Attribute
	for k := range in.Doc {
		if a := rt.Schema.Attr(k); a != nil {
			out = append(out, a)
		}
		if e := rt.Extension(k); e != nil {
			if m, ok := in.Doc[k].(map[string]any); ok {
				for ek := range m {
					if a := e.Schema.Attr(ek); a != nil {
						out = append(out, a)
					}
				}
			}
		}
	}
	for a := range in.Relational {
		out = append(out, a)
	}
	return out
}

func (s *Server) decodeResource(r *http.Request, rt *schema.ResourceType) (*schema.Input, error) {
	body, err := s.readBody(r)
	if err != nil {
		return nil, err
	}
	obj, err := schema.DecodeObject(body)
	if err != nil {
		return nil, err
	}
	in, err := rt.Normalize(obj)
	if err != nil {
		return nil, err
	}
	if err := rt.CheckRequired(in.Doc, in.Relational); err != nil {
		return nil, err
	}
	if len(in.Unknown) > 0 {
		s.log.DebugContext(r.Context(), "ignored unknown attributes", "type", rt.Name, "attributes", in.Unknown)
	}
	return in, nil
}

// decodeWrite reads what POST and PUT share: the projection, the normalised
// body and the members it names (with the labels the client gave them).
func (s *Server) decodeWrite(r *http.Request, rt *schema.ResourceType) (*schema.Projection, *schema.Input, []store.Member, []string, error) {
	p, err := projection(r, rt)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	in, err := s.decodeResource(r, rt)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	var members []store.Member
	var ids []string
	if a := rt.RelAttr(schema.RelMembers); a != nil {
		if members, ids, err = memberRefs(in.Relational[a]); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	return p, in, members, ids, nil
}

// handleCreate handles POST /{endpoint} (RFC 7644 §3.3).
func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType) error {
	p, in, members, ids, err := s.decodeWrite(r, rt)
	if err != nil {
		return err
	}
	if err := s.hashDocPassword(rt, in.Doc, nil); err != nil {
		return err
	}
	pr := principalOf(r.Context())
	now := s.now().UTC()
	res := &store.Resource{Tenant: pr.Tenant, Type: rt.Name, ID: store.NewID(), Doc: in.Doc, Version: 1, Created: now, Modified: now, Members: members}
	wr, audited := s.auditing(r, rt, "create", res.ID)
	if err := s.createWithMembers(wr, rt, res, ids); err != nil {
		return err
	}
	res.Members = nil
	audited()
	p = p.WithRequested(touchedAttrs(rt, in))
	// A new resource is in no group: no group can name it before it
	// exists (and the PAM guard adds none). So its groups need no read —
	// that read was a sixth of a create's CPU — and only members, which
	// the response shows with their display names, are read back.
	if opt := optionsFor(rt, p); opt.Members {
		var err error
		if res, err = s.store.Get(r.Context(), rt, res.Tenant, res.ID, store.GetOptions{Members: true}); err != nil {
			return err
		}
	}
	s.writeResource(w, r, rt, res, p, http.StatusCreated)
	return nil
}

// respond writes the resource a write produced, reading its relational
// attributes first when the projection shows them.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType, res *store.Resource, p *schema.Projection, status int) error {
	if opt := optionsFor(rt, p); opt.Members || opt.Groups {
		var err error
		if res, err = s.store.Get(r.Context(), rt, res.Tenant, res.ID, opt); err != nil {
			return err
		}
	}
	s.writeResource(w, r, rt, res, p, status)
	return nil
}

// handleGet handles GET /{endpoint}/{id} (RFC 7644 §3.4.1), with
// If-None-Match answered 304.
func (s *Server) handleGet(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType) error {
	p, err := projection(r, rt)
	if err != nil {
		return err
	}
	pr := principalOf(r.Context())
	res, err := s.store.Get(r.Context(), rt, pr.Tenant, r.PathValue("id"), optionsFor(rt, p))
	if err != nil {
		return err
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatches(inm, res.ETag()) {
		w.Header().Set("ETag", res.ETag())
		return scimerr.New(scimerr.NotModified, "")
	}
	s.writeResource(w, r, rt, res, p, http.StatusOK)
	return nil
}

// etagMatches compares an If-Match/If-None-Match list with an ETag, weakly
// (RFC 9110 §8.8.3.2): W/"3" matches "3".
func etagMatches(header, etag string) bool {
	want := strings.TrimPrefix(etag, "W/")
	for _, c := range strings.Split(header, ",") {
		c = strings.TrimSpace(c)
		if c == "*" || strings.TrimPrefix(c, "W/") == want {
			return true
		}
	}
	return false
}

// checkIfMatch enforces If-Match against the current version, inside the
// write transaction so that no other writer can slip between.
func checkIfMatch(r *http.Request, cur *store.Resource) error {
	im := r.Header.Get("If-Match")
	if im == "" || etagMatches(im, cur.ETag()) {
		return nil
	}
	return scimerr.New(scimerr.PreconditionFailed, "If-Match %s does not match the current version %s", im, cur.ETag())
}

// handleReplace handles PUT /{endpoint}/{id} (RFC 7644 §3.5.1): the body
// replaces the resource; readOnly attributes are kept, writeOnly ones that
// the body omits are kept, immutable ones must not change.
func (s *Server) handleReplace(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType) error {
	p, in, members, ids, err := s.decodeWrite(r, rt)
	if err != nil {
		return err
	}
	ma := rt.RelAttr(schema.RelMembers)
	pr := principalOf(r.Context())
	if a := passwordAttr(rt); a != nil && in.Doc[a.Name] != nil {
		// The stored hash, to keep it when the same password is sent.
		cur, err := s.store.Get(r.Context(), rt, pr.Tenant, r.PathValue("id"), store.GetOptions{})
		if err != nil {
			return err
		}
		if err := s.hashDocPassword(rt, in.Doc, cur); err != nil {
			return err
		}
	}
	wr, audited := s.auditing(r, rt, "replace", r.PathValue("id"))
	res, err := s.store.Update(wr.Context(), rt, pr.Tenant, r.PathValue("id"), s.now().UTC(), func(ctx context.Context, cur *store.Resource, tx store.Tx) (bool, error) {
		if err := checkIfMatch(r, cur); err != nil {
			return false, err
		}
		next, err := rt.Replace(cur.Doc, in.Doc)
		if err != nil {
			return false, err
		}
		if err := hashedPassword(rt, next); err != nil {
			return false, err
		}
		cur.Doc = next
		// A relational attribute returned only on request (a container's
		// items) is kept when the PUT omits it: a client that replaces
		// what it read by default never saw it.
		if _, sent := in.Relational[ma]; ma != nil && (sent || ma.Returned != schema.ReturnRequest) {
			tx = s.membersTx(r, rt, tx)
			if _, err := tx.SetMembers(ctx, ids); err != nil {
				return false, err
			}
			if labels := store.Labels(members); len(labels) > 0 {
				if err := tx.LabelMembers(ctx, labels); err != nil {
					return false, err
				}
			}
		}
		return false, nil // the store compares the documents itself
	})
	if err != nil {
		return err
	}
	audited()
	return s.respond(w, r, rt, res, p.WithRequested(touchedAttrs(rt, in)), http.StatusOK)
}

// handleDelete handles DELETE /{endpoint}/{id} (RFC 7644 §3.6).
func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType) error {
	pr := principalOf(r.Context())
	wr, audited := s.auditing(r, rt, "delete", r.PathValue("id"))
	err := s.store.Delete(wr.Context(), rt, pr.Tenant, r.PathValue("id"), func(cur *store.Resource) error {
		return checkIfMatch(r, cur)
	})
	if err != nil {
		return err
	}
	audited()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// writeList writes a ListResponse.
func writeList(w http.ResponseWriter, total, startIndex int, items [][]byte, extra map[string]string) {
	var b bytes.Buffer
	b.WriteString(`{"schemas":["` + schema.ListResponseURN + `"],"totalResults":`)
	b.WriteString(itoa(total))
	b.WriteString(`,"itemsPerPage":`)
	b.WriteString(itoa(len(items)))
	if startIndex > 0 {
		b.WriteString(`,"startIndex":`)
		b.WriteString(itoa(startIndex))
	}
	for _, k := range []string{"nextCursor", "previousCursor"} {
		if v, ok := extra[k]; ok {
			b.WriteString(`,"` + k + `":`)
			writeQuoted(&b, v)
		}
	}
	b.WriteString(`,"Resources":[`)
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it)
	}
	b.WriteString("]}")
	writeJSON(w, http.StatusOK, b.Bytes())
}
