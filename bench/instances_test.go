package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store/postgres"
	"github.com/pamscim/pamscim/internal/store/postgres/pgtest"
	"github.com/pamscim/pamscim/internal/store/sqlite"
	"github.com/pamscim/pamscim/internal/store/sqlstore"
)

// BenchmarkInstances compares create and lookup throughput over HTTP, in
// one run on one machine, of real `pamscim serve` processes: one on SQLite,
// one on PostgreSQL, and two on one PostgreSQL database with the clients
// spread over both (as behind a load balancer). Each store first holds
// PAMSCIM_BENCH_INSTANCE_USERS users (default 20,000); 16 clients.
//
//	go test -run='^$' -bench=Instances -benchtime=4000x -count=1 ./bench
//
// The PostgreSQL cases need PAMSCIM_TEST_POSTGRES.
func BenchmarkInstances(b *testing.B) {
	users := envInt("PAMSCIM_BENCH_INSTANCE_USERS", 20_000)
	dir := b.TempDir()
	bin := buildPamscim(b, dir)
	for _, setup := range []struct {
		name      string
		postgres  bool
		instances int
	}{{"sqlite-1", false, 1}, {"postgres-1", true, 1}, {"postgres-2", true, 2}} {
		data := filepath.Join(dir, setup.name)
		var loc string
		var st *sqlstore.DB
		var err error
		if setup.postgres {
			loc = pgtest.WithParam(b, pgtest.Schema(b), "pool_max_conns", "16")
			// e.g. synchronous_commit=off: a server setting for the
			// store's sessions, passed as a URL parameter.
			if v := os.Getenv("PAMSCIM_BENCH_PG_PARAMS"); v != "" {
				loc += "&" + v
			}
			st, err = postgres.Open(context.Background(), loc, schema.Default())
		} else {
			st, err = sqlite.Open(context.Background(), data, schema.Default(), sqlite.Options{})
		}
		if err != nil {
			b.Fatal(err)
		}
		seedInstanceStore(b, st, users)
		st.Close()
		urls, token, stop := startInstances(b, bin, data, loc, setup.instances)
		b.Run(setup.name+"/create", func(b *testing.B) {
			loadRun(b, urls, token, func(r *rand.Rand, n int64) (string, string, []byte, int) {
				return "POST", "/Users", mustJSON(entraUser(fmt.Sprintf("new-%s-%d", setup.name, n))), 201
			})
		})
		b.Run(setup.name+"/lookup", func(b *testing.B) {
			loadRun(b, urls, token, func(r *rand.Rand, _ int64) (string, string, []byte, int) {
				f := fmt.Sprintf(`userName eq "seed%07d@contoso.com"`, r.IntN(users))
				return "GET", "/Users?filter=" + url.QueryEscape(f), nil, 200
			})
		})
		stop()
	}
}

func seedInstanceStore(b *testing.B, st *sqlstore.DB, n int) {
	ctx := context.Background()
	seedEntraUsers(b, st, n, 2000, "seed")
	if err := st.Optimize(ctx); err != nil {
		b.Fatal(err)
	}
	if st.FlavorName() == "postgres" {
		w, _ := st.Handles()
		if _, err := w.ExecContext(ctx, "ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
}

// startInstances starts n `pamscim serve` processes on one store (the
// data directory, or the database at pgURL) and returns their base URLs.
func startInstances(b *testing.B, bin, data, pgURL string, n int) ([]string, string, func()) {
	store := []string{"--data", data}
	if pgURL != "" {
		store = append(store, "--database-url", pgURL)
	}
	out, err := exec.Command(bin, append([]string{"token", "create", "--name", "bench"}, store...)...).Output()
	if err != nil {
		b.Fatal(err)
	}
	token := strings.TrimSpace(string(out))
	var urls []string
	var cmds []*exec.Cmd
	stop := func() {
		for _, c := range cmds {
			_ = c.Process.Signal(syscall.SIGTERM)
			_ = c.Wait()
		}
	}
	for i := range n {
		addr := fmt.Sprintf("127.0.0.1:%d", 21000+int(time.Now().UnixNano()%2000)+i)
		args := append([]string{"serve", "--listen", addr, "--log-level", "error", "--rate-limit", "0",
			"--secret-key-file", filepath.Join(data, "secret-keys")}, store...)
		if i > 0 {
			// Each instance its own data directory, as on its own machine.
			args = append(args, "--data", fmt.Sprintf("%s-%d", data, i))
		}
		cmd := exec.Command(bin, args...)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			stop()
			b.Fatal(err)
		}
		cmds = append(cmds, cmd)
		for j := 0; ; j++ {
			if res, err := http.Get("http://" + addr + "/readyz"); err == nil {
				res.Body.Close()
				if res.StatusCode == 200 {
					break
				}
			}
			if j > 100 {
				stop()
				b.Fatal("pamscim serve did not start")
			}
			time.Sleep(100 * time.Millisecond)
		}
		urls = append(urls, "http://"+addr+"/scim/v2")
	}
	return urls, token, stop
}

var loadClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: time.Minute}

var loadSeq atomic.Int64

// loadRun sends b.N requests from 16 clients, spread round-robin over urls,
// and reports requests per second and latency percentiles.
func loadRun(b *testing.B, urls []string, token string, next func(r *rand.Rand, n int64) (method, path string, body []byte, want int)) {
	const clients = 16
	var lat latencies
	var sent atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(c), uint64(time.Now().UnixNano())))
			for {
				i := sent.Add(1)
				if i > int64(b.N) {
					return
				}
				method, path, body, want := next(r, loadSeq.Add(1))
				req, _ := http.NewRequest(method, urls[int(i)%len(urls)]+path, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				if body != nil {
					req.Header.Set("Content-Type", "application/scim+json")
				}
				t0 := time.Now()
				res, err := loadClient.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				lat.add(time.Since(t0))
				if res.StatusCode != want {
					b.Errorf("%s %s: %d, want %d", method, path, res.StatusCode, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	lat.report(b)
}
