package bench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
)

// The client-side benchmarks run the real binaries: `pamscim serve` on a
// seeded SQLite store and `pamscim export` / `pamscim fulfill` as separate
// processes, so the peak memory reported (the child's maximum resident set,
// getrusage) is the client's alone.
//
//	PAMSCIM_BENCH_EXPORT_USERS (default 100,000), PAMSCIM_BENCH_EXPORT_GROUPS
//	(default 1,000), PAMSCIM_BENCH_FULFIL_CHANGES (default 10,000).

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// buildPamscim builds the binary once per benchmark run.
func buildPamscim(b *testing.B, dir string) string {
	bin := filepath.Join(dir, "pamscim")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/pamscim")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		b.Fatal(err)
	}
	return bin
}

// seedClientStore fills a data directory with users shaped as Entra
// creates them and groups of equal size that share the users round-robin.
func seedClientStore(b *testing.B, data string, users, groups int) []string {
	ctx := context.Background()
	reg := schema.Default()
	st, err := sqlite.Open(ctx, data, reg, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ids := seedEntraUsers(b, st, users, 5000, "user")
	gt := reg.ResourceType("Group")
	for g := range groups {
		in, err := gt.Normalize(map[string]any{"schemas": []any{schema.GroupURN}, "displayName": fmt.Sprintf("group%05d", g)})
		if err != nil {
			b.Fatal(err)
		}
		var members []string
		for i := g; i < len(ids); i += groups {
			members = append(members, ids[i])
		}
		now := time.Now().UTC()
		r := &store.Resource{Tenant: store.DefaultTenant, Type: "Group", ID: uuid.NewString(), Doc: in.Doc, Version: 1, Created: now, Modified: now}
		if err := st.Create(ctx, gt, r, members); err != nil {
			b.Fatal(err)
		}
	}
	if err := st.Optimize(ctx); err != nil {
		b.Fatal(err)
	}
	return ids
}

type served struct {
	url, token string
	stop       func()
}

// serve starts `pamscim serve` on data and creates a token for it.
func serve(b *testing.B, bin, data string) *served {
	tok, err := exec.Command(bin, "token", "create", "--name", "bench-"+uuid.NewString()[:8], "--data", data).Output()
	if err != nil {
		b.Fatal(err)
	}
	port := 18000 + int(time.Now().UnixNano()%2000)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	// No per-token rate limit: the figures are the client's and the
	// server's capacity, not the default limit of 50 requests/s.
	cmd := exec.Command(bin, "serve", "--data", data, "--listen", addr, "--log-level", "error", "--rate-limit", "0")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	for i := 0; ; i++ {
		if res, err := http.Get("http://" + addr + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if i > 100 {
			cmd.Process.Kill()
			b.Fatal("pamscim serve did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return &served{url: "http://" + addr + "/scim/v2", token: strings.TrimSpace(string(tok)), stop: func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}}
}

// runChild runs a client command and returns its wall time, peak resident
// set and output. It also reports the child's CPU time (user+system) — the
// client's own cost, apart from the server's and the machine's load — and
// the largest live heap after any garbage collection (from GODEBUG=gctrace),
// which unlike RSS does not depend on how far the collector lagged.
func runChild(b *testing.B, bin string, args ...string) (time.Duration, int64, string) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "GODEBUG=gctrace=1")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		b.Fatalf("%s %v: %v\n%s\n%s", bin, args, err, tail(stdout.String(), 2000), tail(stderr.String(), 2000))
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	b.ReportMetric(cpu.Seconds(), "client-cpu-s")
	live, gcs := 0, 0
	for _, m := range gcLine.FindAllStringSubmatch(stderr.String(), -1) {
		gcs++
		if n, _ := strconv.Atoi(m[1]); n > live {
			live = n
		}
	}
	b.ReportMetric(float64(live), "max-live-heap-MB")
	b.ReportMetric(float64(gcs), "GCs")
	b.Logf("%s", tail(stdout.String(), 1500))
	return d, ru.Maxrss * 1024, stdout.String()
}

// gcLine matches gctrace's "heap at start->heap at end->live heap MB".
var gcLine = regexp.MustCompile(`\d+->\d+->(\d+) MB`)

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// BenchmarkExport exports Users and Groups (and the membership files) of a
// store with PAMSCIM_BENCH_EXPORT_USERS users in PAMSCIM_BENCH_EXPORT_GROUPS
// groups, with cursor paging (advertised by pamscim) and with index paging.
func BenchmarkExport(b *testing.B) {
	users, groups := envInt("PAMSCIM_BENCH_EXPORT_USERS", 100_000), envInt("PAMSCIM_BENCH_EXPORT_GROUPS", 1_000)
	dir := b.TempDir()
	bin := buildPamscim(b, dir)
	data := filepath.Join(dir, "data")
	start := time.Now()
	seedClientStore(b, data, users, groups)
	fmt.Fprintf(os.Stderr, "seeded %d users in %d groups in %v\n", users, groups, time.Since(start).Round(time.Millisecond))
	srv := serve(b, bin, data)
	defer srv.stop()
	pagings := []string{"cursor", "index"}
	if p := os.Getenv("PAMSCIM_BENCH_EXPORT_PAGING"); p != "" {
		pagings = strings.Split(p, ",")
	}
	for _, paging := range pagings {
		b.Run(paging, func(b *testing.B) {
			for range b.N {
				out := filepath.Join(dir, "out-"+paging)
				d, rss, stdout := runChild(b, bin, "export", "--url", srv.url, "--token", srv.token, "--out", out,
					"--connection", "Bench", "--entities", "Users,Groups", "--paging", paging, "--no-progress", "--json")
				rows := countRows(b, filepath.Join(out, "Bench_Users.csv"))
				links := countRows(b, filepath.Join(out, "Bench_members_Groups.csv"))
				if rows != users || links != users {
					b.Fatalf("exported %d users and %d memberships, want %d\n%s", rows, links, users, stdout)
				}
				b.ReportMetric(d.Seconds(), "s/export")
				b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
				b.ReportMetric(float64(users)/d.Seconds(), "users/s")
			}
		})
	}
}

func countRows(b *testing.B, path string) int {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	// Quoted cells never hold newlines in this data.
	n := -1
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		n++
	}
	return n
}

// BenchmarkFulfil applies PAMSCIM_BENCH_FULFIL_CHANGES changes (40 %
// creates, 30 % updates of existing users by userName, 20 % group member
// adds, 10 % deletes) to a store of 10,000 users in 100 groups, with single
// requests (one at a time, and 8 in flight) and with Bulk (100 and 1,000
// operations per request). Each run
// gets a fresh store.
func BenchmarkFulfil(b *testing.B) {
	n := envInt("PAMSCIM_BENCH_FULFIL_CHANGES", 10_000)
	dir := b.TempDir()
	bin := buildPamscim(b, dir)
	changes := filepath.Join(dir, "changes.csv")
	writeChanges(b, changes, n)
	for _, mode := range []struct {
		name string
		args []string
	}{
		{"single", []string{"--no-bulk"}},
		{"single8", []string{"--no-bulk", "--workers", "8"}},
		{"bulk100", []string{"--bulk-max", "100"}},
		{"bulk1000", []string{"--bulk-max", "1000"}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			for i := range b.N {
				data := filepath.Join(dir, fmt.Sprintf("data-%s-%d", mode.name, i))
				seedClientStore(b, data, 10_000, 100)
				srv := serve(b, bin, data)
				args := append([]string{"fulfill", "--url", srv.url, "--token", srv.token, "--changes", changes, "--json"}, mode.args...)
				d, rss, out := runChild(b, bin, args...)
				srv.stop()
				os.RemoveAll(data)
				if !strings.Contains(out, `"failed":0`) || !strings.Contains(out, fmt.Sprintf(`"changes":%d`, n)) {
					b.Fatalf("fulfil did not apply every change: %s", tail(out, 600))
				}
				b.ReportMetric(d.Seconds(), "s/run")
				b.ReportMetric(float64(n)/d.Seconds(), "changes/s")
				b.ReportMetric(float64(rss)/(1<<20), "peak-RSS-MiB")
			}
		})
	}
}

func writeChanges(b *testing.B, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "op,userName,name:givenName,name:familyName,emails:value,emails:type,active,department,groupName,memberUserName")
	creates, updates, adds := n*4/10, n*3/10, n*2/10
	deletes := n - creates - updates - adds
	for i := range creates {
		fmt.Fprintf(w, "create,new%06d@contoso.com,New,User%d,new%06d@contoso.com,work,true,Sales,,\n", i, i, i)
	}
	for i := range updates {
		fmt.Fprintf(w, "update,user%07d@contoso.com,Changed,,,,false,Support,,\n", i)
	}
	for i := range adds {
		fmt.Fprintf(w, "add-member,,,,,,,,group%05d,new%06d@contoso.com\n", i%100, i%creates)
	}
	for i := range deletes {
		fmt.Fprintf(w, "delete,user%07d@contoso.com,,,,,,,,\n", 9999-i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
}
