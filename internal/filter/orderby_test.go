package filter

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/pamscim/pamscim/internal/schema"
)

// sortKey computes in Go what OrderBy's SQL computes: the folded (or
// case-exact) string, the instant, the number; for a multi-valued
// attribute the primary value, else the first.
func sortKey(rt *schema.ResourceType, p schema.Path, r *Resource) any {
	ev := evaluator{rt: rt, r: r}
	if p.Attr.IsComplex() && p.Sub == nil {
		p.Sub = p.Attr.Sub("value")
	}
	leaf := p.Leaf()
	var v any
	if p.Attr.MultiValued && p.Sub != nil {
		list, _ := ev.container(p)[p.Attr.Name].([]any)
		for _, el := range list {
			m, _ := el.(map[string]any)
			sv, ok := m[p.Sub.Name]
			if !ok {
				continue
			}
			if m["primary"] == true {
				v = sv
				break
			}
			if v == nil {
				v = sv
			}
		}
	} else if vals := ev.values(p); len(vals) > 0 {
		v = vals[0]
	}
	switch x := v.(type) {
	case nil:
		return nil
	case instant:
		return int64(x)
	case bool:
		if x {
			return int64(1)
		}
		return int64(0)
	case string:
		if leaf.Type == schema.TypeDateTime {
			t, _ := schema.ParseDateTime(x)
			return t.UnixMicro()
		}
		if !(&binder{rt: rt}).exactStrings(p, leaf) {
			if leaf.Prepare != nil {
				return leaf.Prepare(x)
			}
			return fold(x)
		}
		return x
	case json.Number:
		n, _ := parseNumber(x)
		return n.f
	}
	panic(fmt.Sprintf("value %T", v))
}

func compareKeys(a, b any) int {
	switch x := a.(type) {
	case string:
		return strings.Compare(x, b.(string))
	case int64:
		return cmp.Compare(x, b.(int64))
	case float64:
		return cmp.Compare(x, b.(float64))
	}
	panic(fmt.Sprintf("key %T", a))
}

func TestOrderBy(t *testing.T) { forBackends(t, orderBy) }

func orderBy(t *testing.T, openTestDB func(testing.TB) *testDB) {
	g := &propGen{r: rand.New(rand.NewPCG(1, 2))}
	reg := testRegistry()
	user := reg.ResourceType("User")
	db := openTestDB(t)
	var users []*Resource
	for i := range 150 {
		u := g.user(fmt.Sprintf("u%03d", i))
		users = append(users, u)
		db.insert(testTenant, user, u)
	}
	for _, path := range []string{
		"userName", "displayName", "name.givenName", "title", "emails", "emails.value", "emails.type",
		"externalId", "id", "active", "meta.created", "meta.lastModified",
		entURN + ":department", entURN + ":manager.value",
		extraURN + ":hired", extraURN + ":level", extraURN + ":score", extraURN + ":code", extraURN + ":tags",
	} {
		p, err := user.ResolvePath(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, desc := range []bool{false, true} {
			key, err := OrderBy(user, &p, desc, db.dialect())
			if err != nil {
				t.Fatalf("OrderBy(%s): %v", path, err)
			}
			dir := "ASC"
			if desc {
				dir = "DESC"
			}
			q := fmt.Sprintf("SELECT r.id FROM resources r WHERE r.tenant = ?1 AND r.rtype = ?2 ORDER BY (%[1]s) IS NULL %[2]s, %[1]s %[2]s, r.id %[2]s", key, dir)
			rows, err := db.db.Query(db.rebind(q), testTenant, user.Name)
			if err != nil {
				t.Fatalf("%s: %v\n%s", path, err, q)
			}
			var got []string
			for rows.Next() {
				var id string
				rows.Scan(&id)
				got = append(got, id)
			}
			rows.Close()
			want := slices.Clone(users)
			slices.SortStableFunc(want, func(a, b *Resource) int {
				ka, kb := sortKey(user, p, a), sortKey(user, p, b)
				c := 0
				switch {
				case ka == nil && kb == nil:
				case ka == nil:
					c = 1
				case kb == nil:
					c = -1
				default:
					c = compareKeys(ka, kb)
				}
				if c == 0 {
					c = strings.Compare(a.ID, b.ID)
				}
				if desc {
					c = -c
				}
				return c
			})
			var wantIDs []string
			for _, r := range want {
				wantIDs = append(wantIDs, r.ID)
			}
			if !slices.Equal(got, wantIDs) {
				t.Errorf("sortBy %s desc=%v:\n got %v\nwant %v\n%s", path, desc, got[:10], wantIDs[:10], key)
			}
		}
	}
	for _, path := range []string{"groups", "name", "schemas", "meta.version", "password"} {
		p, err := user.ResolvePath(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := OrderBy(user, &p, false, SQLite); err == nil {
			t.Errorf("OrderBy(%s): no error", path)
		}
	}
	key, _ := OrderBy(user, ptr(mustResolve(t, user, "userName")), false, SQLite)
	if key != "r.ukey" {
		t.Errorf("userName sorts by %s, want the ukey column", key)
	}
}

func ptr[T any](v T) *T { return &v }

func mustResolve(t *testing.T, rt *schema.ResourceType, path string) schema.Path {
	p, err := rt.ResolvePath(path)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
