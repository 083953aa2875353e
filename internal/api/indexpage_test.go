package api_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/api"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/metrics"
	"github.com/pamscim/pamscim/internal/provlog"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
)

// page reads one index page and returns its userNames and totalResults.
func (e *env) indexPage(token, query string, start, count int) ([]string, int) {
	e.t.Helper()
	r := e.doToken(token, "GET", fmt.Sprintf("/Users?startIndex=%d&count=%d%s", start, count, query), nil).want(e.t, 200)
	if r.body["startIndex"] != float64(start) {
		e.t.Fatalf("startIndex %v, want %d", r.body["startIndex"], start)
	}
	var names []string
	res, _ := r.body["Resources"].([]any)
	for _, x := range res {
		names = append(names, x.(map[string]any)["userName"].(string))
	}
	if r.body["itemsPerPage"] != float64(len(names)) {
		e.t.Fatalf("itemsPerPage %v, %d resources", r.body["itemsPerPage"], len(names))
	}
	return names, int(r.body["totalResults"].(float64))
}

// TestIndexWalkSurvivesDeletes: an identity platform walks the users by
// startIndex while users it has already read are deleted (a leaver process
// running at the same time). Each deletion shifts every later user one
// place forward, so serving a page by OFFSET would skip one user per
// deletion — a user the platform never sees and then treats as gone. The
// next page of a walk continues after the previous page's last user
// instead: every user that stayed is read exactly once, in order, under
// every sort a client may ask for.
func TestIndexWalkSurvivesDeletes(t *testing.T) {
	for _, tc := range []struct {
		name, query string
	}{
		{"by id", ""},
		{"by userName", "&sortBy=userName"},
		{"by userName descending", "&sortBy=userName&sortOrder=descending"},
		{"filtered", "&filter=" + url.QueryEscape(`userName sw "walk"`)},
		{"by a sort value some users lack", "&sortBy=title"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ids := map[string]string{}
			for i := range 40 {
				name := fmt.Sprintf("walk%02d", (i*17)%40) // created out of name order
				extra := map[string]any{}
				if i%3 != 0 {
					extra["title"] = fmt.Sprintf("t%d", i%5)
				}
				ids[name] = e.createUser(name, extra)["id"].(string)
			}
			seen := map[string]int{}
			var deleted []string
			const count = 6
			for start := 1; ; {
				names, total := e.indexPage(e.token, tc.query, start, count)
				if want := 40 - len(deleted); total != want {
					t.Fatalf("startIndex %d: totalResults %d, want %d", start, total, want)
				}
				for _, n := range names {
					seen[n]++
				}
				if len(names) < count {
					break
				}
				// Delete the first user of the page just read.
				e.do("DELETE", "/Users/"+ids[names[0]], nil).want(t, 204)
				deleted = append(deleted, names[0])
				// Entra's rule: the next startIndex is this one plus the
				// page's length.
				start += len(names)
			}
			for name := range ids {
				if seen[name] != 1 {
					t.Errorf("%s read %d times, want once (deleted during the walk: %v)", name, seen[name], deleted)
				}
			}
		})
	}
}

// TestIndexWalkOffsets: what is not the next page of a walk this server
// served is read by position, as RFC 7644 says: a jump, a repeated page, a
// page asked by another credential, and a walk resumed after walkTTL. The
// deletion before each request tells the two apart: by position the page
// starts one user later than the continuation would.
func TestIndexWalkOffsets(t *testing.T) {
	e := newEnv(t)
	t0 := time.Now()
	e.setClock(t0)
	ids := map[string]string{}
	for i := range 30 {
		name := fmt.Sprintf("off%02d", i)
		ids[name] = e.createUser(name)["id"].(string)
	}
	other, _, err := e.au.CreateToken(context.Background(), store.DefaultTenant, "other", []string{auth.ScopeRead, auth.ScopeWrite}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	q := "&sortBy=userName"
	first, _ := e.indexPage(e.token, q, 1, 5)
	if first[0] != "off00" || first[4] != "off04" {
		t.Fatalf("first page %v", first)
	}
	e.do("DELETE", "/Users/"+ids["off00"], nil).want(t, 204)

	// Another credential's page 2 is read by position: off01 moved to
	// row 1, so row 6 is off06.
	if got, _ := e.indexPage(other, q, 6, 5); got[0] != "off06" {
		t.Fatalf("another credential's startIndex=6 starts at %s, want off06 (by position)", got[0])
	}
	// A jump is by position too.
	if got, _ := e.indexPage(e.token, q, 11, 5); got[0] != "off11" {
		t.Fatalf("startIndex=11 starts at %s, want off11 (by position)", got[0])
	}
	// The walk's own next page continues after off04.
	if got, _ := e.indexPage(e.token, q, 6, 5); got[0] != "off05" {
		t.Fatalf("the walk's startIndex=6 starts at %s, want off05 (after the last user it read)", got[0])
	}
	// Past walkTTL the walk is forgotten: by position again.
	e.do("DELETE", "/Users/"+ids["off01"], nil).want(t, 204)
	e.setClock(t0.Add(3 * time.Minute))
	if got, _ := e.indexPage(e.token, q, 11, 5); got[0] != "off12" {
		t.Fatalf("startIndex=11 after 3 minutes starts at %s, want off12 (by position)", got[0])
	}
}

// TestIndexWalkTotal: totalResults is counted once per walk and carried,
// but never past a write made through this server, and for at most ten
// seconds past a write made by another process on the same database (here
// a second handle on the SQLite file, as the CLI would be).
//
// It runs on the server as `pamscim serve` wires it too (metrics, which wrap
// the store, and the provisioning log): the first version read the write
// epoch from the wrapped store, found none, and recounted every page there.
func TestIndexWalkTotal(t *testing.T) {
	for _, wired := range []bool{false, true} {
		t.Run(fmt.Sprintf("metrics=%v", wired), func(t *testing.T) { indexWalkTotal(t, wired) })
	}
}

func indexWalkTotal(t *testing.T, wired bool) {
	data := t.TempDir()
	var e *env
	if wired {
		e = newWiredEnvAt(t, data)
	} else {
		e = newEnvAt(t, data, api.Config{})
	}
	t0 := time.Now()
	e.setClock(t0)
	for i := range 12 {
		e.createUser(fmt.Sprintf("tot%02d", i))
	}
	if _, total := e.indexPage(e.token, "", 1, 5); total != 12 {
		t.Fatalf("total %d, want 12", total)
	}
	// A write through this server is counted on the next page.
	e.createUser("tot12")
	if _, total := e.indexPage(e.token, "", 6, 5); total != 13 {
		t.Fatalf("after a create through the server: total %d, want 13", total)
	}
	// Another process's write is not seen by the carried total...
	reg := schema.Default()
	cli, err := sqlite.Open(context.Background(), data, reg, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	rt := reg.ResourceType("User")
	doc := schema.Doc{"schemas": []any{schema.UserURN}, "userName": "tot-cli"}
	now := time.Now()
	if err := cli.Create(context.Background(), rt, &store.Resource{Tenant: store.DefaultTenant, ID: store.NewID(), Doc: doc, Version: 1, Created: now, Modified: now}, nil); err != nil {
		t.Fatal(err)
	}
	if _, total := e.indexPage(e.token, "", 11, 5); total != 13 {
		t.Fatalf("total %d, want the carried 13", total)
	}
	// ...for longer than ten seconds.
	e.setClock(t0.Add(11 * time.Second))
	if _, total := e.indexPage(e.token, "", 11, 5); total != 14 {
		t.Fatalf("11 s later: total %d, want 14", total)
	}
}

// newWiredEnvAt is newEnvAt with metrics and the provisioning log, as
// app.Serve wires them.
func newWiredEnvAt(t *testing.T, data string) *env {
	t.Helper()
	var rec *provlog.Recorder
	e := newEnvAt(t, data, api.Config{}, func(s *api.Server, st store.Store) {
		s.UseMetrics(metrics.New(metrics.Build{Version: "v-test"}))
		rec = provlog.New(st, schema.Default(), provlog.Options{FlushEvery: 10 * time.Millisecond})
		s.UseProvLog(rec)
	})
	// Before newEnvAt's cleanup closes the store (cleanups run last first).
	t.Cleanup(func() { _ = rec.Close(context.Background()) })
	return e
}
