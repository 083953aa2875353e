package patch

import (
	"github.com/pamscim/pamscim/internal/filter"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
)

// members applies an operation to a RelMembers attribute (Group.members).
// Membership lives in the store's membership table, so every form becomes
// one Tx call and a one-member change on a 200,000-member group touches one
// row; only a remove with a filter other than value eq … reads the list.
//
//	add     members            value list → AddMembers(ids)
//	replace members            value list → SetMembers(ids)
//	remove  members            no value   → SetMembers(nil)
//	remove  members            value list → RemoveMembers(ids)  (Entra, SailPoint)
//	remove  members[value eq "x" or …]    → RemoveMembers(ids)  (Okta, Entra flag on)
//	remove  members[other filter]         → Members, MatchElement, RemoveMembers
func (a *applier) members(op string, t target, v any) error {
	at := t.p.Attr
	if t.p.Sub != nil {
		return scimerr.New(scimerr.Mutability, "the sub-attributes of %s cannot be changed; add or remove whole members", at.Name)
	}
	if a.tx == nil {
		return scimerr.New(scimerr.Internal, "patch: %s needs a store transaction", at.Name)
	}
	if t.filter != nil && op != OpRemove {
		return scimerr.New(scimerr.InvalidPath, "a filter on %s can only select members to remove; add members with the path %q and a list of values", at.Name, at.Name)
	}
	switch op {
	case OpAdd:
		ids, labels, err := memberValues(at, v)
		if err != nil || len(ids) == 0 {
			return err
		}
		n, err := a.tx.AddMembers(a.ctx, ids)
		if err != nil {
			return err
		}
		a.relChanged = a.relChanged || n > 0
		return a.label(labels)
	case OpReplace:
		ids, labels, err := memberValues(at, v)
		if err != nil {
			return err
		}
		ch, err := a.tx.SetMembers(a.ctx, ids)
		if err != nil {
			return err
		}
		a.relChanged = a.relChanged || ch
		return a.label(labels)
	case OpRemove:
		var ids []string
		switch {
		case t.filter != nil:
			var ok bool
			if ids, ok = memberIDs(t.filter); !ok {
				var err error
				if ids, err = a.matchMembers(t.filter); err != nil {
					return err
				}
			}
		case v != nil:
			var err error
			if ids, _, err = memberValues(at, v); err != nil {
				return err
			}
		default:
			ch, err := a.tx.SetMembers(a.ctx, nil)
			if err != nil {
				return err
			}
			a.relChanged = a.relChanged || ch
			return nil
		}
		if len(ids) == 0 {
			return nil
		}
		n, err := a.tx.RemoveMembers(a.ctx, ids)
		if err != nil {
			return err
		}
		a.relChanged = a.relChanged || n > 0
	}
	return nil
}

// label records the names the client gave the members it added. The store
// reports a change only when a label differs from the one kept.
func (a *applier) label(labels map[string]string) error {
	if len(labels) == 0 {
		return nil
	}
	return a.tx.LabelMembers(a.ctx, labels)
}

// matchMembers reads the member list and returns the ids that satisfy f,
// presenting each member as filter.Eval does ({"value": id, "type": type}).
func (a *applier) matchMembers(f filter.Expr) ([]string, error) {
	ms, err := a.tx.Members(a.ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, m := range ms {
		el := map[string]any{"value": m.ID}
		if m.Type != "" {
			el["type"] = m.Type
		}
		if filter.MatchElement(f, el) {
			ids = append(ids, m.ID)
		}
	}
	return ids, nil
}

// memberValues validates a members value (a list of {"value": id, …}, one
// such object, or bare ids) and returns the distinct ids in order and the
// labels (display) the client gave them. $ref is ignored (Entra sends
// "$ref": null); Entra's "displayName" is read as display by
// schema.NormalizeValue.
func memberValues(at *schema.Attribute, v any) ([]string, map[string]string, error) {
	nv, err := schema.NormalizeValue(at, v)
	if err != nil || nv == nil {
		return nil, nil, err
	}
	list := nv.([]any)
	ids := make([]string, 0, len(list))
	seen := make(map[string]bool, len(list))
	var labels map[string]string
	for _, el := range list {
		m, _ := el.(map[string]any)
		id, ok := m["value"].(string)
		if !ok {
			return nil, nil, scimerr.New(scimerr.InvalidValue, "every value of %s needs a \"value\" with the member's id", at.Name)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
		if d, _ := m["display"].(string); d != "" {
			if labels == nil {
				labels = map[string]string{}
			}
			labels[id] = d
		}
	}
	return ids, labels, nil
}
