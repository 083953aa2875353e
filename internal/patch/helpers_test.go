package patch

import (
	"context"
	"encoding/json"
	"slices"
	"sort"
	"testing"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// fakeTx is a map-backed store.Tx. The real membership table is tested by
// the store conformance suite; here only the calls matter. loads counts
// Members calls so tests can prove a one-member change never reads the list.
type fakeTx struct {
	labels  map[string]string
	members map[string]string // id → member type
	exists  map[string]bool   // ids that exist in the tenant; nil means all
	loads   int
	calls   []string
}

func newTx(ids ...string) *fakeTx {
	tx := &fakeTx{members: map[string]string{}}
	for _, id := range ids {
		tx.members[id] = typeOf(id)
	}
	return tx
}

func (f *fakeTx) ids() []string {
	out := make([]string, 0, len(f.members))
	for id := range f.members {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func (f *fakeTx) Members(context.Context) ([]store.Member, error) {
	f.loads++
	f.calls = append(f.calls, "Members")
	var out []store.Member
	for _, id := range f.ids() {
		out = append(out, store.Member{ID: id, Type: f.members[id]})
	}
	return out, nil
}

func (f *fakeTx) HasMembers(_ context.Context, ids []string) (map[string]bool, error) {
	f.calls = append(f.calls, "HasMembers")
	out := map[string]bool{}
	for _, id := range ids {
		_, out[id] = f.members[id]
	}
	return out, nil
}

func (f *fakeTx) AddMembers(_ context.Context, ids []string) (int, error) {
	f.calls = append(f.calls, "AddMembers")
	n := 0
	for _, id := range ids {
		if f.exists != nil && !f.exists[id] {
			return 0, scimerr.New(scimerr.InvalidValue, "member %q does not exist", id)
		}
		if _, ok := f.members[id]; !ok {
			f.members[id] = typeOf(id)
			n++
		}
	}
	return n, nil
}

func (f *fakeTx) LabelMembers(_ context.Context, labels map[string]string) error {
	f.calls = append(f.calls, "LabelMembers")
	if f.labels == nil {
		f.labels = map[string]string{}
	}
	for id, l := range labels {
		if _, ok := f.members[id]; ok {
			f.labels[id] = l
		}
	}
	return nil
}

func (f *fakeTx) RemoveMembers(_ context.Context, ids []string) (int, error) {
	f.calls = append(f.calls, "RemoveMembers")
	n := 0
	for _, id := range ids {
		if _, ok := f.members[id]; ok {
			delete(f.members, id)
			n++
		}
	}
	return n, nil
}

func (f *fakeTx) SetMembers(_ context.Context, ids []string) (bool, error) {
	f.calls = append(f.calls, "SetMembers")
	before := f.ids()
	next := map[string]string{}
	for _, id := range ids {
		if f.exists != nil && !f.exists[id] {
			return false, scimerr.New(scimerr.InvalidValue, "member %q does not exist", id)
		}
		next[id] = typeOf(id)
	}
	f.members = next
	return !slices.Equal(before, f.ids()), nil
}

// typeOf gives test member ids a resource type: "g…" ids are groups.
func typeOf(id string) string {
	if len(id) > 0 && id[0] == 'g' {
		return "Group"
	}
	return "User"
}

var reg = schema.Default()

func userRT() *schema.ResourceType  { return reg.ResourceType("User") }
func groupRT() *schema.ResourceType { return reg.ResourceType("Group") }

// docOf normalises a JSON resource the way POST does, so tests start from
// (and compare with) canonical documents.
func docOf(t testing.TB, rt *schema.ResourceType, js string) schema.Doc {
	t.Helper()
	if js == "" {
		return schema.Doc{}
	}
	obj, err := schema.DecodeObject([]byte(js))
	if err != nil {
		t.Fatalf("bad test JSON %s: %v", js, err)
	}
	in, err := rt.Normalize(obj)
	if err != nil {
		t.Fatalf("test document %s does not normalise: %v", js, err)
	}
	if len(in.Unknown) > 0 {
		t.Fatalf("test document %s has unknown attributes %v", js, in.Unknown)
	}
	return in.Doc
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// run decodes body and applies it to a resource holding doc.
func run(t testing.TB, rt *schema.ResourceType, doc schema.Doc, tx store.Tx, body string) (*store.Resource, bool, []*schema.Attribute, error) {
	t.Helper()
	ops, err := Decode([]byte(body))
	if err != nil {
		return nil, false, nil, err
	}
	cur := &store.Resource{Type: rt.Name, ID: "r1", Doc: doc}
	changed, touched, err := Apply(context.Background(), rt, cur, ops, tx)
	return cur, changed, touched, err
}

func patchOp(ops string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`
}

func kindName(err error) string {
	if err == nil {
		return "ok"
	}
	return scimerr.KindOf(err).String()
}
