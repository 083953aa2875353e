package bench

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pamscim/pamscim/internal/api"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/pam"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
)

// seedPermissions is how many ContainerPermissions (and items of
// privileged data) the PAM store holds; PAMSCIM_BENCH_PERMISSIONS
// overrides it.
func seedPermissions() int {
	if n, err := strconv.Atoi(os.Getenv("PAMSCIM_BENCH_PERMISSIONS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// pamFix is a real server over a SQLite file holding seedPermissions()
// ContainerPermissions over 1,000 containers and 1,000 users (100 per
// container and 100 per user), as many items of privileged data in four
// types, a smart rule, and one user in 50 groups that each hold rights on
// the container of one item.
type pamFix struct {
	*fixture
	svc        *pam.Service
	dir        string
	containers []string
	users      []string
	rule       string // smart rule: type eq "credential" and name sw "item-01"
	wide       string // smart rule: type eq "credential"
	item       string // the item the 50 groups reach
	ruleHits   int
	wideHits   int
}

var (
	pamOnce sync.Once
	pamF    *pamFix
)

func pamSetup(b *testing.B) *pamFix {
	pamOnce.Do(func() { pamF = newPAMFix(b) })
	if pamF == nil {
		b.Fatal("PAM fixture failed")
	}
	return pamF
}

func newPAMFix(b *testing.B) *pamFix {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "pamscim-bench-pam-")
	if err != nil {
		b.Fatal(err)
	}
	reg := schema.Default()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "data"), reg, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := pam.Install(ctx, reg, st, "", filepath.Join(dir, "data")); err != nil {
		b.Fatal(err)
	}
	au := auth.NewService(st)
	tok, _, err := au.CreateToken(ctx, store.DefaultTenant, "bench", []string{auth.ScopeRead, auth.ScopeWrite}, 0, "bench")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	res := func(typ string, doc schema.Doc) *store.Resource {
		return &store.Resource{Tenant: store.DefaultTenant, Type: typ, ID: uuid.NewString(), Doc: doc, Version: 1, Created: now, Modified: now}
	}
	batch := func(rtype string, rs []*store.Resource) {
		rt := reg.ResourceType(rtype)
		for len(rs) > 0 {
			n := min(5000, len(rs))
			if err := st.CreateBatch(ctx, rt, rs[:n]); err != nil {
				b.Fatal(err)
			}
			rs = rs[n:]
		}
	}
	f := &pamFix{dir: dir}
	n := seedPermissions()
	const nc, nu = 1000, 1000
	per := n / nc
	var users, conts, perms, items []*store.Resource
	for i := 0; i < nu; i++ {
		users = append(users, res("User", schema.Doc{"userName": fmt.Sprintf("pamuser%04d@contoso.com", i)}))
		f.users = append(f.users, users[i].ID)
	}
	for i := 0; i < nc; i++ {
		conts = append(conts, res(schema.TypeContainer, schema.Doc{"name": fmt.Sprintf("Safe %04d", i), "type": "safe"}))
		f.containers = append(f.containers, conts[i].ID)
	}
	// Container c grants users c, c+10, c+20, …: per distinct users each,
	// and every user appears in per containers.
	for c := 0; c < nc; c++ {
		for j := 0; j < per; j++ {
			u := (c + j*10) % nu
			perms = append(perms, res(schema.TypeContainerPermission, schema.Doc{
				"container": map[string]any{"value": f.containers[c]}, "user": map[string]any{"value": f.users[u]},
				"rights": []any{"List", "View"}}))
		}
	}
	types := []string{"credential", "ssh key", "file", "certificate"}
	for i := 0; i < n; i++ {
		items = append(items, res(schema.TypePrivilegedData, schema.Doc{"name": fmt.Sprintf("item-%06d", i), "type": types[i%4]}))
		if i%4 == 0 {
			f.wideHits++
			if fmt.Sprintf("item-%06d", i)[:7] == "item-01" {
				f.ruleHits++
			}
		}
	}
	batch("User", users)
	batch(schema.TypeContainer, conts)
	batch(schema.TypeContainerPermission, perms)
	batch(schema.TypePrivilegedData, items)

	// Smart rules and the 50-group user go through the guarded API path.
	crt, grt := reg.ResourceType(schema.TypeContainer), reg.ResourceType("Group")
	mk := func(rt *schema.ResourceType, doc schema.Doc, members ...string) string {
		r := res(rt.Name, doc)
		if err := st.Create(ctx, rt, r, members); err != nil {
			b.Fatal(err)
		}
		return r.ID
	}
	f.rule = mk(crt, schema.Doc{"name": "Rule narrow", "type": "smartRule", schema.SmartRuleURN: map[string]any{"filter": `type eq "credential" and name sw "item-01"`}})
	f.wide = mk(crt, schema.Doc{"name": "Rule wide", "type": "smartRule", schema.SmartRuleURN: map[string]any{"filter": `type eq "credential"`}})
	f.item = items[7].ID
	safe := mk(crt, schema.Doc{"name": "Access safe"}, f.item)
	cprt := reg.ResourceType(schema.TypeContainerPermission)
	for g := 0; g < 50; g++ {
		// The user and 20 others in each group.
		members := []string{f.users[0]}
		for k := 1; k <= 20; k++ {
			members = append(members, f.users[(g*20+k)%nu])
		}
		gid := mk(grt, schema.Doc{"displayName": fmt.Sprintf("Access group %02d", g)}, members...)
		mk(cprt, schema.Doc{"container": map[string]any{"value": safe}, "group": map[string]any{"value": gid}, "rights": []any{fmt.Sprintf("Right%02d", g)}})
	}
	if err := st.Optimize(ctx); err != nil {
		b.Fatal(err)
	}
	svc, err := pam.NewService(reg, st)
	if err != nil {
		b.Fatal(err)
	}
	f.svc = svc
	srv := httptest.NewServer(api.New(reg, st, au, api.Config{}, nil).Handler())
	f.fixture = &fixture{url: srv.URL + "/scim/v2", token: tok, close: func() {
		srv.Close()
		st.Close()
		os.RemoveAll(dir)
	}}
	return f
}

// listPermissions measures one filtered list of ContainerPermissions per
// iteration, checking the count.
func listPermissions(b *testing.B, attr string, ids []string) {
	f := pamSetup(b)
	want := float64(seedPermissions() / 1000)
	var lat latencies
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := ids[(i*7919)%len(ids)]
		q := "/ContainerPermissions?count=100&filter=" + url.QueryEscape(attr+` eq "`+id+`"`)
		t := time.Now()
		l := getJSON(b, f.fixture, q)
		lat.add(time.Since(t))
		if l["totalResults"] != want {
			b.Fatalf("%s: totalResults %v, want %v", q, l["totalResults"], want)
		}
	}
	lat.report(b)
}

// BenchmarkPAMPermissionsByContainer is IdentityIQ's per-container read:
// ContainerPermissions?filter=container.value eq "…", 100 of 100,000.
func BenchmarkPAMPermissionsByContainer(b *testing.B) {
	f := pamSetup(b)
	listPermissions(b, "container.value", f.containers)
}

// BenchmarkPAMPermissionsByUser: a user's container permissions, 100 of 100,000.
func BenchmarkPAMPermissionsByUser(b *testing.B) {
	f := pamSetup(b)
	listPermissions(b, "user.value", f.users)
}

// BenchmarkPAMSmartRule evaluates smart rules over 100,000 items: the
// count alone (one SQL count through the filter compiler) and the whole
// computed privilegedData over HTTP.
func BenchmarkPAMSmartRule(b *testing.B) {
	f := pamSetup(b)
	for _, tc := range []struct {
		name string
		id   string
		text string
		hits int
	}{
		{"narrow", f.rule, `type eq "credential" and name sw "item-01"`, f.ruleHits},
		{"wide", f.wide, `type eq "credential"`, f.wideHits},
	} {
		b.Run(tc.name+"/count", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				n, err := f.svc.CountSmartMembers(context.Background(), store.DefaultTenant, tc.text)
				if err != nil || n != tc.hits {
					b.Fatalf("count %d, want %d: %v", n, tc.hits, err)
				}
			}
		})
		b.Run(tc.name+"/members-http", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				l := getJSON(b, f.fixture, "/Containers/"+tc.id+"?attributes=privilegedData")
				got, _ := l["privilegedData"].([]any)
				if len(got) != tc.hits {
					b.Fatalf("%d items, want %d", len(got), tc.hits)
				}
			}
			b.ReportMetric(float64(tc.hits), "items")
		})
	}
}

// BenchmarkPAMAccess50Groups is effective access to an item that one user
// reaches through 50 groups (each with 20 other members) holding rights
// on the item's container, in a store of 100,000 permissions and items.
func BenchmarkPAMAccess50Groups(b *testing.B) {
	f := pamSetup(b)
	var users int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a, err := f.svc.Access(context.Background(), store.DefaultTenant, f.item)
		if err != nil {
			b.Fatal(err)
		}
		users = len(a.Users)
		if a.Users[0].ID != f.users[0] && len(a.Users) < 2 {
			b.Fatalf("access: %+v", a.Users[0])
		}
		for _, u := range a.Users {
			if u.ID == f.users[0] && len(u.Grants) != 50 {
				b.Fatalf("the user has %d grants, want 50", len(u.Grants))
			}
		}
	}
	b.ReportMetric(float64(users), "users")
}
