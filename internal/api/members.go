package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
)

// What a write does with a member id that does not exist in the tenant
// (Config.UnknownMembers, --unknown-members).
const (
	// UnknownMembersIgnore drops such ids, logs them, and applies the rest.
	// Identity platforms batch member adds: Entra ID sends several in one
	// PATCH, and one id of a user deleted out of band would otherwise fail
	// the whole group's sync again on every cycle until the job is
	// quarantined. Microsoft's validator expects this (204).
	UnknownMembersIgnore = "ignore"
	// UnknownMembersReject refuses the write: 400 invalidValue naming the ids.
	UnknownMembersReject = "reject"
)

// memberRefs reads the members of a normalised POST/PUT body: ids in order
// and the labels (display) the client gave them.
func memberRefs(vals []any) ([]store.Member, []string, error) {
	ids, err := memberIDs(vals)
	if err != nil {
		return nil, nil, err
	}
	ms := make([]store.Member, len(ids))
	for i, v := range vals {
		m, _ := v.(map[string]any)
		d, _ := m["display"].(string)
		ms[i] = store.Member{ID: ids[i], Display: d}
	}
	return ms, ids, nil
}

// lenientTx drops unknown member ids under UnknownMembersIgnore; every other
// call goes to the store's transaction.
type lenientTx struct {
	store.Tx
	s       *Server
	r       *http.Request
	rt      *schema.ResourceType
	dropped []string
}

func (s *Server) membersTx(r *http.Request, rt *schema.ResourceType, tx store.Tx) store.Tx {
	if s.cfg.UnknownMembers == UnknownMembersReject || rt.RelAttr(schema.RelMembers) == nil {
		return tx
	}
	return &lenientTx{Tx: tx, s: s, r: r, rt: rt}
}

func (t *lenientTx) AddMembers(ctx context.Context, ids []string) (int, error) {
	for {
		n, err := t.Tx.AddMembers(ctx, ids)
		if ids = t.without(ids, err); ids == nil {
			return n, err
		}
	}
}

func (t *lenientTx) SetMembers(ctx context.Context, ids []string) (bool, error) {
	for {
		ch, err := t.Tx.SetMembers(ctx, ids)
		if ids = t.without(ids, err); ids == nil {
			return ch, err
		}
	}
}

// without returns ids less the missing ones err names, or nil when err is
// not a MissingMembersError (the call's result stands).
func (t *lenientTx) without(ids []string, err error) []string {
	var mm *store.MissingMembersError
	if !errors.As(err, &mm) {
		return nil
	}
	t.s.dropMembers(t.r, t.rt, mm.IDs)
	t.dropped = append(t.dropped, mm.IDs...)
	return removeIDs(ids, mm.IDs)
}

func removeIDs(ids, drop []string) []string {
	gone := make(map[string]bool, len(drop))
	for _, id := range drop {
		gone[id] = true
	}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !gone[id] {
			out = append(out, id)
		}
	}
	return out
}

// createWithMembers stores a new resource; under UnknownMembersIgnore the
// members that do not exist are dropped and the create is tried again.
func (s *Server) createWithMembers(r *http.Request, rt *schema.ResourceType, res *store.Resource, members []string) error {
	for {
		err := s.store.Create(r.Context(), rt, res, members)
		var mm *store.MissingMembersError
		if s.cfg.UnknownMembers == UnknownMembersReject || !errors.As(err, &mm) {
			return err
		}
		s.dropMembers(r, rt, mm.IDs)
		members = removeIDs(members, mm.IDs)
		// res.Members keeps the dropped ids' labels: LabelMembers skips ids
		// that are not members.
	}
}

func (s *Server) dropMembers(r *http.Request, rt *schema.ResourceType, ids []string) {
	s.log.WarnContext(r.Context(), "ignored members that do not exist (--unknown-members ignore)",
		"method", r.Method, "path", r.URL.Path, "type", rt.Name, "ids", ids)
}
