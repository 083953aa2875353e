package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pamscim/pamscim/bench/ceiling"
	"github.com/pamscim/pamscim/internal/api"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
)

// pamscim starts a real pamscim server (SQLite file, real listener) over
// the store in dir and returns its base URL and a token.
func pamscim(t *testing.T, dir string) (string, string) {
	t.Helper()
	ctx := context.Background()
	reg := schema.Default()
	st, err := sqlite.Open(ctx, dir, reg, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	au := auth.NewService(st)
	tok, _, err := au.CreateToken(ctx, store.DefaultTenant, "load", []string{auth.ScopeRead, auth.ScopeWrite}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(reg, st, au, api.Config{}, nil).Handler())
	t.Cleanup(func() { srv.Close(); st.Close() })
	return srv.URL + "/scim/v2", tok
}

func tiny(url, tok string, workloads ...string) Options {
	return Options{URL: url, Token: tok, Server: "test", Workloads: workloads, Concurrency: 4, Users: 120,
		W1Users: 40, Duration: 300 * time.Millisecond, GroupSizes: []int{10, 50}, W4Ops: 6, PageSize: 25}
}

func byWorkload(rows []Result) map[string][]Result {
	m := map[string][]Result{}
	for _, r := range rows {
		m[r.Workload] = append(m[r.Workload], r)
	}
	return m
}

// TestWorkloadsAgainstPamscim runs every workload at a tiny size against a
// real server: every answer must verify.
func TestWorkloadsAgainstPamscim(t *testing.T) {
	url, tok := pamscim(t, t.TempDir())
	out, err := Load(context.Background(), tiny(url, tok, "W1", "W2", "W3", "W4", "W5", "W6"), nil)
	if err != nil {
		t.Fatal(err)
	}
	rows := byWorkload(out.Results)
	for _, w := range []string{"W1", "W2", "W3", "W4", "W5", "W6"} {
		if len(rows[w]) == 0 {
			t.Fatalf("no result for %s", w)
		}
		for _, r := range rows[w] {
			if r.Skipped != "" || r.OK == 0 || r.Failed != 0 || r.Wrong != 0 || r.Throughput <= 0 {
				t.Errorf("%s: ok %d failed %d wrong %d skipped %q throughput %.0f; errors %v", r.Name, r.OK, r.Failed, r.Wrong, r.Skipped, r.Throughput, r.Errors)
			}
		}
	}
	if got := rows["W1"][0].OK; got != 40 {
		t.Errorf("W1 verified %d creates, want 40", got)
	}
	// W4 ran once per group size; W5 with both kinds of paging, each
	// exporting every user (seeded, W1's and W6's are all there by then).
	if len(rows["W4"]) != 2 || rows["W4"][1].Key != "W4/50" || rows["W4"][1].OK != 12 {
		t.Errorf("W4 rows: %+v", rows["W4"])
	}
	if len(rows["W5"]) != 2 || rows["W5"][0].Key != "W5/index" || rows["W5"][1].Key != "W5/cursor" {
		t.Fatalf("W5 rows: %+v", rows["W5"])
	}
	for _, r := range rows["W5"] {
		// 120 seeded + 40 created by W1, in pages of 25: 7 pages.
		if r.Throughput <= 0 || r.OK < 7 || !strings.HasPrefix(r.Note, "160 users") {
			t.Errorf("%s: %d pages, note %q", r.Name, r.OK, r.Note)
		}
	}
	md, err := Markdown([]*Run{out}, "test", "")
	if err != nil || !strings.Contains(md, "| W5 export, cursor paging (users/s) |") {
		t.Errorf("markdown: %v\n%s", err, md)
	}
}

// TestSeededStore: users written by `load seed` are found by a run with
// --seeded, by name and id.
func TestSeededStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"seed", "--store", dir, "--users", "300"}, &out, &errb); code != 0 {
		t.Fatalf("seed: exit %d: %s", code, errb.String())
	}
	url, tok := pamscim(t, dir)
	o := tiny(url, tok, "W2")
	o.Users, o.Seeded = 300, true
	res, err := Load(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := res.Results[0]; r.OK == 0 || r.Failed+r.Wrong != 0 {
		t.Fatalf("W2 over a seeded store: %+v", r)
	}
	// A store seeded with fewer users is refused, not measured.
	o.Users = 301
	if _, err := Load(context.Background(), o, nil); err == nil || !strings.Contains(err.Error(), "--seeded") {
		t.Fatalf("want a --seeded setup error, got %v", err)
	}
}

// TestCeilingAnswersAreWrong: the ceiling answers fast and with the right
// status but never with the right content, so the verifier must count its
// creates and lookups as wrong, and none as throughput.
func TestCeilingAnswersAreWrong(t *testing.T) {
	srv := httptest.NewServer(ceiling.Handler(1000))
	t.Cleanup(srv.Close)
	o := tiny(srv.URL+"/scim/v2", "x", "W1", "W2", "W3", "W4", "W5", "W6")
	o.Canned = true
	out, err := Load(context.Background(), o, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.Results {
		if r.Skipped != "" {
			continue
		}
		if r.OK != 0 || r.Wrong == 0 || r.Throughput != 0 || r.Answered <= 0 || len(r.Errors) == 0 {
			t.Errorf("%s against the ceiling: ok %d wrong %d failed %d throughput %.0f answered %.0f errors %v", r.Name, r.OK, r.Wrong, r.Failed, r.Throughput, r.Answered, r.Errors)
		}
	}
}

// TestCommandLine: bad flags are usage errors (exit 2).
func TestCommandLine(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"--url", "http://x", "--workload", "W9"},
		{"--url", "http://x", "--group-sizes", "ten"},
		{"--url", "http://x", "--nope"},
		{"--url", "http://x", "--paging", "offset"},
		{"seed"},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errb.String())
		}
	}
}

// TestWrongAnswersAmongRightOnes: a proxy in front of a real server that
// empties every third lookup's ListResponse. The verifier must count those
// as wrong, the rest as verified, and only the verified as throughput.
func TestWrongAnswersAmongRightOnes(t *testing.T) {
	url, tok := pamscim(t, t.TempDir())
	target, _ := neturl.Parse(strings.TrimSuffix(url, "/scim/v2"))
	var n atomic.Int64
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(res *http.Response) error {
		if res.Request.Method != http.MethodGet || !res.Request.URL.Query().Has("filter") || n.Add(1)%3 != 0 {
			return nil
		}
		body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}`
		res.Body.Close()
		res.Body = io.NopCloser(strings.NewReader(body))
		res.ContentLength = int64(len(body))
		res.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	out, err := Load(context.Background(), tiny(srv.URL+"/scim/v2", tok, "W2"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := out.Results[0]
	if r.Wrong == 0 || r.OK == 0 || r.Failed != 0 || r.Wrong < r.Ops/3-2 || r.Wrong > r.Ops/3+2 {
		t.Fatalf("ok %d wrong %d failed %d of %d", r.OK, r.Wrong, r.Failed, r.Ops)
	}
	if got := r.Throughput * r.Seconds; got < float64(r.OK)-0.5 || got > float64(r.OK)+0.5 {
		t.Errorf("throughput %.1f/s over %.2f s is %.1f answers; want the %d verified only", r.Throughput, r.Seconds, got, r.OK)
	}
	if !strings.Contains(strings.Join(r.Errors, "\n"), "totalResults 0 with 0 resources, want exactly 1") {
		t.Errorf("errors do not say what was wrong: %v", r.Errors)
	}
}

// TestReportBadInput: the report command refuses what it cannot read.
func TestReportBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	other := filepath.Join(dir, "other.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeJSON(other, &Run{Server: "scimmy"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"report"}, 2, "name the JSON files"},
		{[]string{"report", filepath.Join(dir, "missing.json")}, 1, "no such file"},
		{[]string{"report", bad}, 1, "bad.json"},
		{[]string{"report", other}, 1, `no run of "pamscim"`},
	} {
		var out, errb bytes.Buffer
		if code := run(context.Background(), c.args, &out, &errb); code != c.code || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d (%s), want %d with %q", c.args, code, errb.String(), c.code, c.want)
		}
	}
}
