package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/pamscim/pamscim/internal/api"
	"github.com/pamscim/pamscim/internal/audit"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/metrics"
	"github.com/pamscim/pamscim/internal/provlog"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
)

const planted = "Pl4nted-Secret-Value-77"

// observedEnv is newEnv with the provisioning log and metrics turned on,
// wired as internal/app wires them, and /metrics on the main listener.
func observedEnv(t *testing.T, cfg api.Config) (*env, *provlog.Recorder, *metrics.Metrics) {
	t.Helper()
	reg := schema.Default()
	st := openTestStore(t, reg)
	au := auth.NewService(st)
	tok, _, err := au.CreateToken(context.Background(), store.DefaultTenant, "entra", []string{auth.ScopeRead, auth.ScopeWrite}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	s := api.New(reg, st, au, cfg, nil)
	m := metrics.New(metrics.Build{Version: "v-test", Commit: "abc123"})
	rec := provlog.New(st, reg, provlog.Options{FlushEvery: 10 * time.Millisecond})
	m.WatchProvLog(func() (uint64, uint64, uint64) { s := rec.Stats(); return s.Recorded, s.Dropped, s.Pruned })
	s.UseMetrics(m)
	s.UseProvLog(rec)
	s.UseAudit(m.Audit(audit.New(st, nil)))
	s.Handle("GET /metrics", m.Handler())
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		srv.Close()
		_ = rec.Close(context.Background())
		st.Close()
	})
	return &env{t: t, srv: srv, st: st, au: au, token: tok, base: srv.URL + "/scim/v2", api: s}, rec, m
}

func TestProvisioningLogRecordsRequests(t *testing.T) {
	e, rec, _ := observedEnv(t, api.Config{})
	ctx := context.Background()
	if err := e.st.CreateTenant(ctx, "acme", time.Now()); err != nil {
		t.Fatal(err)
	}
	acme, _, err := e.au.CreateToken(ctx, "acme", "acme-okta", []string{auth.ScopeRead, auth.ScopeWrite}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}

	created := e.do("POST", "/Users", map[string]any{"userName": "bjensen", "password": planted}).want(t, 201)
	id := created.body["id"].(string)
	e.do("POST", "/Users", map[string]any{"userName": "bjensen", "password": planted}).want(t, 409)
	e.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"password","value":"`+planted+`"},{"op":"replace","value":{"password":"`+planted+`","displayName":"Babs"}}]}`).want(t, 204)
	e.do("GET", "/Users?filter=userName+eq+%22bjensen%22", nil, "X-Request-Id", "client-req-1").want(t, 200)
	e.do("POST", "/Users", `{"userName":"x","password":"`+planted+`",`).want(t, 400)
	e.doToken("pamscim_pat_not-a-token", "GET", "/Users", nil).want(t, 401)
	e.doToken(acme, "POST", "/Groups", map[string]any{"displayName": "Acme admins"}).want(t, 201)
	e.do("GET", "/ServiceProviderConfig", nil).want(t, 200)
	waitRecorded(t, rec, 6)

	all, err := e.st.QueryLog(ctx, store.LogQuery{Tenant: store.DefaultTenant})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, en := range all {
		got = append(got, en.Method+" "+en.Path+" "+http.StatusText(en.Status))
		for _, b := range [][]byte{en.RequestBody, en.ResponseBody} {
			if bytes.Contains(b, []byte(planted)) {
				t.Errorf("%s %s: secret stored: %s", en.Method, en.Path, b)
			}
		}
		if en.Client != "entra" || en.RequestID == "" || en.Duration <= 0 || en.At.IsZero() {
			t.Errorf("entry %+v", en)
		}
	}
	// Discovery needs no token, so it names no tenant and is not logged.
	want := []string{
		"POST /scim/v2/Users Bad Request",
		"GET /scim/v2/Users OK",
		"PATCH /scim/v2/Users/" + id + " No Content",
		"POST /scim/v2/Users Conflict",
		"POST /scim/v2/Users Created",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("default tenant's log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The create: resource from Location, bodies redacted but readable.
	c := all[4]
	if c.ResourceType != "User" || c.ResourceID != id || !bytes.Contains(c.RequestBody, []byte(`"password":"[redacted]"`)) ||
		!bytes.Contains(c.ResponseBody, []byte(`"userName":"bjensen"`)) {
		t.Fatalf("create entry: %+v\n%s\n%s", c, c.RequestBody, c.ResponseBody)
	}
	if p := all[2]; p.ResourceID != id || !bytes.Contains(p.RequestBody, []byte(`"value":"[redacted]"`)) {
		t.Fatalf("patch entry: %s", p.RequestBody)
	}
	if g := all[1]; g.RequestID != "client-req-1" || g.Query != "filter=userName+eq+%22bjensen%22" {
		t.Fatalf("list entry: %+v", g)
	}
	// Searchable as the console and `pamscim log` search it.
	for _, tc := range []struct {
		q    store.LogQuery
		want int
	}{
		{store.LogQuery{Tenant: "default", Status: "409"}, 1},
		{store.LogQuery{Tenant: "default", Status: "error"}, 2},
		{store.LogQuery{Tenant: "default", ResourceID: id}, 2},
		{store.LogQuery{Tenant: "default", Path: "/users"}, 5},
		{store.LogQuery{Tenant: "default", Client: "acme-okta"}, 0},
		{store.LogQuery{Tenant: "acme"}, 1},
	} {
		if es, err := e.st.QueryLog(ctx, tc.q); err != nil || len(es) != tc.want {
			t.Errorf("%+v: %d entries, %v; want %d", tc.q, len(es), err, tc.want)
		}
	}
	// The other tenant's request is in its log only, the unknown token's in none.
	es, _ := e.st.QueryLog(ctx, store.LogQuery{Tenant: "acme"})
	if len(es) != 1 || es[0].Client != "acme-okta" || es[0].ResourceType != "Group" {
		t.Fatalf("acme's log: %+v", es)
	}
	if _, err := e.st.LogEntry(ctx, "acme", all[0].ID); err == nil {
		t.Fatal("acme reads a default-tenant entry")
	}
}

// TestProvisioningLogRefusedKnownToken: a revoked token's 401 shows in its
// tenant's log (the administrator debugging a connector needs to see it).
func TestProvisioningLogRefusedKnownToken(t *testing.T) {
	e, rec, _ := observedEnv(t, api.Config{})
	ctx := context.Background()
	tok, _, err := e.au.CreateToken(ctx, store.DefaultTenant, "old", []string{auth.ScopeRead}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.RevokeToken(ctx, store.DefaultTenant, "old", time.Now()); err != nil {
		t.Fatal(err)
	}
	e.doToken(tok, "GET", "/Users", nil).want(t, 401)
	waitRecorded(t, rec, 1)
	// Under the token's name, as its accepted requests are: a search by
	// client finds why the connector fails.
	es, _ := e.st.QueryLog(ctx, store.LogQuery{Tenant: store.DefaultTenant, Client: "old"})
	if len(es) != 1 || es[0].Status != 401 || es[0].Client != "old" {
		t.Fatalf("log: %+v", es)
	}
}

// waitRecorded waits until rec has stored n entries: an entry is handed
// over once the answer is out, a moment after the client has it.
func waitRecorded(t *testing.T, rec *provlog.Recorder, n uint64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for rec.Stats().Recorded < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d entries stored, want %d (%+v)", rec.Stats().Recorded, n, rec.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("/metrics: %d %s", res.StatusCode, b)
	}
	return string(b)
}

func TestMetricsEndpoint(t *testing.T) {
	e, _, _ := observedEnv(t, api.Config{})
	u1 := e.do("POST", "/Users", map[string]any{"userName": "u1"}).want(t, 201).body["id"].(string)
	u2 := e.do("POST", "/Users", map[string]any{"userName": "u2"}).want(t, 201).body["id"].(string)
	u3 := e.do("POST", "/Users", map[string]any{"userName": "u3"}).want(t, 201).body["id"].(string)
	e.do("POST", "/Users", map[string]any{"userName": "u3"}).want(t, 409)
	g := e.do("POST", "/Groups", map[string]any{"displayName": "g", "members": []any{map[string]any{"value": u1}, map[string]any{"value": u2}}}).want(t, 201).body["id"].(string)
	e.do("PATCH", "/Groups/"+g, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"`+u3+`"}]},{"op":"remove","path":"members[value eq \"`+u1+`\"]"}]}`).want(t, 204)
	e.do("GET", "/Users/"+u1, nil).want(t, 200)
	e.do("GET", "/Users/does-not-exist", nil).want(t, 404)
	e.doToken("pamscim_pat_wrong", "GET", "/Users", nil).want(t, 401)
	e.do("GET", "/NoSuchThing", nil).want(t, 404)

	expected := `
# HELP pamscim_http_requests_total HTTP requests answered, by route pattern, method and status code.
# TYPE pamscim_http_requests_total counter
pamscim_http_requests_total{code="204",endpoint="/scim/v2/Groups/{id}",method="PATCH"} 1
pamscim_http_requests_total{code="200",endpoint="/metrics",method="GET"} 1
pamscim_http_requests_total{code="200",endpoint="/scim/v2/Users/{id}",method="GET"} 1
pamscim_http_requests_total{code="201",endpoint="/scim/v2/Groups",method="POST"} 1
pamscim_http_requests_total{code="201",endpoint="/scim/v2/Users",method="POST"} 3
pamscim_http_requests_total{code="401",endpoint="/scim/v2/Users",method="GET"} 1
pamscim_http_requests_total{code="404",endpoint="/",method="GET"} 1
pamscim_http_requests_total{code="404",endpoint="/scim/v2/Users/{id}",method="GET"} 1
pamscim_http_requests_total{code="409",endpoint="/scim/v2/Users",method="POST"} 1
# HELP pamscim_group_member_changes_total Members added to or removed from groups (and containers) by committed SCIM writes, by operation.
# TYPE pamscim_group_member_changes_total counter
pamscim_group_member_changes_total{op="added"} 3
pamscim_group_member_changes_total{op="removed"} 1
# HELP pamscim_token_events_total Token events of the audit trail: issued, refused, refreshed, reused, revoked; by event and outcome.
# TYPE pamscim_token_events_total counter
pamscim_token_events_total{event="token.refused",outcome="failure"} 1
# HELP pamscim_build_info The running pamscim: version, commit and the Go toolchain; always 1.
# TYPE pamscim_build_info gauge
`
	// A request is counted once its answer is out, so the client may see
	// the answer a moment before the count: poll.
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err = testutil.ScrapeAndCompare(e.srv.URL+"/metrics", strings.NewReader(expected),
			"pamscim_http_requests_total", "pamscim_group_member_changes_total", "pamscim_token_events_total"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	// build_info's goversion label is the toolchain's: look for the rest.
	text := scrape(t, e.srv.URL+"/metrics")
	for _, line := range []string{
		`pamscim_build_info{commit="abc123",goversion="go`,
		`pamscim_store_operation_duration_seconds_count{op="create"} 5`,
		`pamscim_store_operation_duration_seconds_count{op="get"} `,
		`pamscim_store_operation_duration_seconds_count{op="update"} `,
		`pamscim_http_request_duration_seconds_bucket{endpoint="/scim/v2/Users",method="POST",le="+Inf"} 4`,
		`pamscim_rate_limited_total{reason="credential_rate"} 0`,
		`pamscim_provlog_dropped_total 0`,
		"go_goroutines ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(text, line) {
			t.Errorf("no %q in /metrics", line)
		}
	}
	// Raw paths never become labels.
	if strings.Contains(text, u1) || strings.Contains(text, "NoSuchThing") {
		t.Fatal("a raw path is a label")
	}
}

func TestMetricsRateLimited(t *testing.T) {
	e, _, _ := observedEnv(t, api.Config{})
	e.api.UseRateLimit(0.001, 1)
	e.do("GET", "/Users", nil).want(t, 200)
	e.do("GET", "/Users", nil).want(t, 429)
	e.do("GET", "/Users", nil).want(t, 429)
	lines := []string{
		`pamscim_rate_limited_total{reason="credential_rate"} 2`,
		`pamscim_http_requests_total{code="429",endpoint="/scim/v2/Users",method="GET"} 2`,
	}
	var text string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if text = scrape(t, e.srv.URL+"/metrics"); strings.Contains(text, lines[0]) && strings.Contains(text, lines[1]) {
			return
		}
	}
	t.Fatalf("want %q in:\n%s", lines, grepLines(text, "pamscim_"))
}

func grepLines(text, prefix string) string {
	var out []string
	for l := range strings.SplitSeq(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestProvisioningLogPartialBody: a body the handler stopped reading (over
// the size limit) is stored as a skeleton, so a PATCH value whose secret
// path came after the cut is not kept.
func TestProvisioningLogPartialBody(t *testing.T) {
	e, rec, _ := observedEnv(t, api.Config{MaxBodyBytes: 120})
	u := e.do("POST", "/Users", map[string]any{"userName": "a"}).want(t, 201).body["id"].(string)
	// No word of the value hints at a secret: only the path would.
	const pw = "Hunter2Hunter2Hunter2"
	body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"value":"` + pw + `","op":"replace",` +
		strings.Repeat(" ", 200) + `"path":"password"}]}`
	e.do("PATCH", "/Users/"+u, body).want(t, 413)
	waitRecorded(t, rec, 2)
	es, _ := e.st.QueryLog(context.Background(), store.LogQuery{Tenant: store.DefaultTenant, Status: "413"})
	if len(es) != 1 || bytes.Contains(es[0].RequestBody, []byte(pw)) || !bytes.Contains(es[0].RequestBody, []byte(`"value":"[redacted]"`)) {
		t.Fatalf("413 entry: %+v\n%s", es, es[0].RequestBody)
	}
}

// TestProvisioningLogBulkBody: Bulk reads its body itself (its own size
// limit); the log gets it as read, redacted inside each operation's data.
// A body refused by its Content-Length was never read, and is logged as
// none.
func TestProvisioningLogBulkBody(t *testing.T) {
	e, rec, _ := observedEnv(t, api.Config{BulkMaxPayload: 400})
	const pw = "Hunter2Hunter2Hunter2"
	ok := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Users","bulkId":"b1","data":{"userName":"bulky","password":"` + pw + `"}}]}`
	e.do("POST", "/Bulk", ok).want(t, 200)
	big := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[{"method":"POST","path":"/Users","bulkId":"b2","data":{"userName":"bulky2","x":"` + strings.Repeat("y", 400) + `","password":"` + pw + `"}}]}`
	e.do("POST", "/Bulk", big).want(t, 413)
	waitRecorded(t, rec, 2)
	for _, tc := range []struct {
		status string
		want   string
	}{
		{"200", `"userName":"bulky","password":"[redacted]"`},
		{"413", ``},
	} {
		es, err := e.st.QueryLog(context.Background(), store.LogQuery{Tenant: store.DefaultTenant, Status: tc.status, Path: "/Bulk"})
		if err != nil || len(es) != 1 {
			t.Fatalf("%s: %d entries, %v", tc.status, len(es), err)
		}
		if b := es[0].RequestBody; bytes.Contains(b, []byte(pw)) || !bytes.Contains(b, []byte(tc.want)) || (tc.want == "") != (len(b) == 0) {
			t.Errorf("%s entry body: %s", tc.status, b)
		}
	}
}
