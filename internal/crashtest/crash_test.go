// Package crashtest proves that pamscim never loses an acknowledged change:
// it builds the real binary, drives concurrent creates, PATCHes, deletes and
// group membership changes against `pamscim serve`, kills the process with
// SIGKILL at a random moment, checks the store's integrity, restarts it and
// checks that every change answered 2xx is there and no refused one (4xx) is.
//
// CI runs three short rounds per backend. By hand, for longer:
//
//	PAMSCIM_CRASH_ROUNDS=50 PAMSCIM_CRASH_MAX_MS=5000 go test -count=1 -run Crash -v ./internal/crashtest
//
// PAMSCIM_BIN=path tests that binary instead of building one.
package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/pamscim/pamscim/internal/store/postgres/pgtest"
	"github.com/pamscim/pamscim/internal/store/sqlite"
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds cmd/pamscim once per test run (without -race: the server
// under test is the one users run), or takes PAMSCIM_BIN, a release build.
func binary(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("PAMSCIM_BIN"); b != "" {
		return b
	}
	buildOnce.Do(func() {
		root, err := filepath.Abs("../..")
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "pamscim-crash-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "pamscim")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/pamscim")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// backend is what the rounds need to know about a store.
type backend struct {
	args      []string // store flags
	integrity func(t *testing.T)
	// lose, if set, deletes one user behind the server's back, to show that
	// the checks catch a lost acknowledged write.
	lose func(t *testing.T, id string)
}

func TestCrashSQLite(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	// SQLite's default synchronous=NORMAL is what is under test: it must
	// keep every acknowledged write through a process crash.
	run(t, backend{
		args: []string{"--data", data},
		lose: func(t *testing.T, id string) {
			db, err := sql.Open("sqlite", "file:"+filepath.Join(data, sqlite.FileName)+"?_pragma=foreign_keys(1)")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if res, err := db.Exec("DELETE FROM resources WHERE id = ?", id); err != nil {
				t.Fatal(err)
			} else if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("sabotage deleted %d rows", n)
			}
		},
		integrity: func(t *testing.T) {
			db, err := sql.Open("sqlite", "file:"+filepath.Join(data, sqlite.FileName))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, pragma := range []string{"PRAGMA integrity_check", "PRAGMA foreign_key_check"} {
				rows, err := db.Query(pragma)
				if err != nil {
					t.Fatalf("%s: %v", pragma, err)
				}
				var got []string
				for rows.Next() {
					cols, _ := rows.Columns()
					vals := make([]any, len(cols))
					ptrs := make([]any, len(cols))
					for i := range vals {
						ptrs[i] = &vals[i]
					}
					_ = rows.Scan(ptrs...)
					got = append(got, fmt.Sprint(vals...))
				}
				rows.Close()
				if pragma == "PRAGMA integrity_check" && (len(got) != 1 || got[0] != "ok") {
					t.Fatalf("%s after SIGKILL: %v", pragma, got)
				}
				if pragma == "PRAGMA foreign_key_check" && len(got) != 0 {
					t.Fatalf("%s after SIGKILL: %v", pragma, got)
				}
			}
		},
	})
}

func TestCrashPostgreSQL(t *testing.T) {
	u := pgtest.Schema(t)
	run(t, backend{
		args: []string{"--database-url", u, "--data", filepath.Join(t.TempDir(), "data")},
		integrity: func(t *testing.T) {
			// amcheck verifies every B-tree index of the schema against its
			// table; the server's own WAL recovery is PostgreSQL's business,
			// what is checked here is that pamscim left nothing inconsistent.
			db, err := sql.Open("pgx", u)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec("CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA public"); err != nil {
				t.Logf("amcheck unavailable (%v); checking constraints only", err)
			} else {
				var n int
				err := db.QueryRow(`SELECT count(public.bt_index_check(c.oid, true))
					FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
					JOIN pg_namespace n ON n.oid = c.relnamespace
					JOIN pg_am a ON a.oid = c.relam
					WHERE n.nspname = current_schema() AND a.amname = 'btree'`).Scan(&n)
				if err != nil || n == 0 {
					t.Fatalf("amcheck over %d indexes: %v", n, err)
				}
			}
			// Every membership row names a live resource (no orphan left by a
			// delete that was cut short).
			var orphans int
			if err := db.QueryRow(`SELECT count(*) FROM members m WHERE NOT EXISTS (SELECT 1 FROM resources r WHERE r.tenant = m.tenant AND r.id = m.member_id)`).Scan(&orphans); err != nil {
				t.Logf("orphan check skipped: %v", err)
			} else if orphans != 0 {
				t.Fatalf("%d memberships of deleted resources", orphans)
			}
		},
	})
}

// server is one `pamscim serve` process.
type server struct {
	cmd    *exec.Cmd
	base   string
	exited chan struct{} // closed once Wait has returned
	stderr *bytes.Buffer
	mu     *sync.Mutex
}

var listening = regexp.MustCompile(`msg="pamscim listening" addr=(\S+)`)

func start(t *testing.T, bin string, args []string) *server {
	t.Helper()
	// No per-token rate limit: the workers share one token on purpose.
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--rate-limit", "0"}, args...)...)
	pr, pw := io.Pipe()
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, exited: make(chan struct{}), stderr: &bytes.Buffer{}, mu: &sync.Mutex{}}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if m := listening.FindStringSubmatch(line); m != nil {
				addr <- m[1]
			}
			s.mu.Lock()
			if s.stderr.Len() < 1<<20 && !strings.Contains(line, `msg=request`) {
				s.stderr.WriteString(line + "\n")
			}
			s.mu.Unlock()
		}
	}()
	go func() { _ = cmd.Wait(); pw.Close(); close(s.exited) }()
	select {
	case a := <-addr:
		s.base = "http://" + a + "/scim/v2"
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("server did not start:\n%s", s.log())
	}
	return s
}

func (s *server) log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// kill sends SIGKILL and reports whether that is what ended the process.
func (s *server) kill() bool {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		return false
	}
	ws, ok := s.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// user is the test's model of one user: what the server acknowledged, and
// what one operation cut short by the kill may or may not have done.
type user struct {
	id, userName string
	title        string   // acknowledged
	maybe        []string // titles an unanswered PATCH may have set
	deleted      bool     // acknowledged delete
	maybeDeleted bool
}

// worker owns its users and its group, so operations on each are sequential
// and the model is exact.
type worker struct {
	n            int
	c            *http.Client
	base, token  string
	users        []*user
	group        string
	members      map[string]bool // acknowledged
	maybeMember  string          // member an unanswered group PATCH touched
	maybeCreated []string        // userNames of unanswered creates
	stats        stats
	seq          int
}

type stats struct {
	acked, refused, cut int
}

const patchOp = `"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`

// do sends a request; ok is false when no answer came (the kill).
func (w *worker) do(ctx context.Context, method, path, body string, hdr ...string) (status int, resp map[string]any, ok bool) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequestWithContext(ctx, method, w.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+w.token)
	req.Header.Set("Content-Type", "application/scim+json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := w.c.Do(req)
	if err != nil {
		return 0, nil, false
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, nil, false
	}
	_ = json.Unmarshal(raw, &resp)
	return res.StatusCode, resp, true
}

// step performs one random operation; it returns false once an answer is
// missing (the server was killed), after which the worker stops.
func (w *worker) step(ctx context.Context, t *testing.T, r *rand.Rand) bool {
	w.seq++
	live := w.live()
	switch k := r.IntN(100); {
	case k < 35 || len(live) == 0:
		name := fmt.Sprintf("w%d-u%d-%d@crash.example", w.n, w.seq, r.Uint32())
		title := fmt.Sprintf("t%d", w.seq)
		st, body, ok := w.do(ctx, "POST", "/Users", fmt.Sprintf(`{"userName":%q,"title":%q,"active":true}`, name, title))
		if !ok {
			w.maybeCreated = append(w.maybeCreated, name)
			w.stats.cut++
			return false
		}
		if st != 201 {
			t.Errorf("create %s: status %d %v", name, st, body)
			return true
		}
		id, _ := body["id"].(string)
		w.users = append(w.users, &user{id: id, userName: name, title: title})
		w.stats.acked++
	case k < 60:
		u := live[r.IntN(len(live))]
		title := fmt.Sprintf("p%d", w.seq)
		st, body, ok := w.do(ctx, "PATCH", "/Users/"+u.id, `{`+patchOp+`,"Operations":[{"op":"replace","path":"title","value":"`+title+`"}]}`)
		if !ok {
			u.maybe = append(u.maybe, title)
			w.stats.cut++
			return false
		}
		if st != 200 && st != 204 {
			t.Errorf("patch %s: status %d %v", u.id, st, body)
			return true
		}
		u.title = title
		w.stats.acked++
	case k < 70:
		u := live[r.IntN(len(live))]
		st, body, ok := w.do(ctx, "DELETE", "/Users/"+u.id, "")
		if !ok {
			u.maybeDeleted = true
			if w.members[u.id] {
				w.maybeMember = u.id
			}
			w.stats.cut++
			return false
		}
		if st != 204 {
			t.Errorf("delete %s: status %d %v", u.id, st, body)
			return true
		}
		u.deleted = true
		delete(w.members, u.id)
		w.stats.acked++
	case k < 85:
		u := live[r.IntN(len(live))]
		op := `{"op":"add","path":"members","value":[{"value":"` + u.id + `"}]}`
		add := !w.members[u.id]
		if !add {
			op = `{"op":"remove","path":"members[value eq \"` + u.id + `\"]"}`
		}
		st, body, ok := w.do(ctx, "PATCH", "/Groups/"+w.group, `{`+patchOp+`,"Operations":[`+op+`]}`)
		if !ok {
			w.maybeMember = u.id
			w.stats.cut++
			return false
		}
		if st != 200 && st != 204 {
			t.Errorf("group patch: status %d %v", st, body)
			return true
		}
		if add {
			w.members[u.id] = true
		} else {
			delete(w.members, u.id)
		}
		w.stats.acked++
	default:
		// Refused requests: each must change nothing.
		u := live[r.IntN(len(live))]
		var st, want int
		var ok bool
		switch r.IntN(3) {
		case 0: // 400: no userName
			dn := fmt.Sprintf("refused-w%d-%d", w.n, w.seq)
			st, _, ok = w.do(ctx, "POST", "/Users", fmt.Sprintf(`{"displayName":%q,"title":"refused"}`, dn))
			want = 400
		case 1: // 409: a taken userName, in other case
			st, _, ok = w.do(ctx, "POST", "/Users", fmt.Sprintf(`{"userName":%q,"title":"dup"}`, strings.ToUpper(u.userName)))
			want = 409
		default: // 412: a stale version
			st, _, ok = w.do(ctx, "PATCH", "/Users/"+u.id, `{`+patchOp+`,"Operations":[{"op":"replace","path":"title","value":"stale"}]}`, "If-Match", `W/"999999"`)
			want = 412
		}
		if !ok {
			w.stats.cut++
			return false
		}
		if st != want {
			t.Errorf("refused request: status %d, want %d", st, want)
		}
		w.stats.refused++
	}
	return true
}

func (w *worker) live() []*user {
	var out []*user
	for _, u := range w.users {
		if !u.deleted && !u.maybeDeleted {
			out = append(out, u)
		}
	}
	return out
}

// reporter is the part of testing.T that verify uses, so that a test can
// check that verify does catch a loss.
type reporter interface {
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

type recorder struct{ errs []string }

func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }
func (r *recorder) Fatalf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }

// listed is one user as the restarted server lists it.
type listed struct{ userName, title, displayName string }

// listAll reads every user of the tenant, a page of 1,000 at a time.
func listAll(t *testing.T, w *worker) map[string]listed {
	all := map[string]listed{}
	for start := 1; ; {
		st, body, ok := w.do(context.Background(), "GET", fmt.Sprintf("/Users?startIndex=%d&count=1000&attributes=userName,title,displayName", start), "")
		if !ok || st != 200 {
			t.Fatalf("list after restart: %d %v", st, body)
		}
		res, _ := body["Resources"].([]any)
		for _, r := range res {
			m := r.(map[string]any)
			un, _ := m["userName"].(string)
			ti, _ := m["title"].(string)
			dn, _ := m["displayName"].(string)
			all[m["id"].(string)] = listed{un, ti, dn}
		}
		start += len(res)
		if len(res) == 0 || start > int(body["totalResults"].(float64)) {
			return all
		}
	}
}

// verify checks the restarted server against the model, then settles every
// uncertainty to what the server has, so the next round starts exact.
func (w *worker) verify(t reporter, all map[string]listed, byName map[string][]string) {
	for _, name := range w.maybeCreated {
		if ids := byName[strings.ToLower(name)]; len(ids) == 1 {
			w.users = append(w.users, &user{id: ids[0], userName: name, title: all[ids[0]].title})
		}
	}
	w.maybeCreated = nil
	for _, u := range w.users {
		got, present := all[u.id]
		switch {
		case u.deleted && present:
			t.Errorf("acknowledged delete of %s undone", u.userName)
			continue
		case u.deleted:
			continue
		case !present && u.maybeDeleted:
			u.deleted, u.maybeDeleted = true, false
			delete(w.members, u.id)
			continue
		case !present:
			t.Errorf("acknowledged user %s (%s) lost", u.userName, u.id)
			continue
		}
		okTitle := got.title == u.title
		for _, m := range u.maybe {
			okTitle = okTitle || got.title == m
		}
		if !okTitle {
			t.Errorf("user %s: title %q, acknowledged %q (unanswered: %v)", u.userName, got.title, u.title, u.maybe)
		}
		u.title, u.maybe, u.maybeDeleted = got.title, nil, false
		if n := len(byName[strings.ToLower(u.userName)]); n != 1 {
			t.Errorf("userName %s: %d users (a refused duplicate was stored?)", u.userName, n)
		}
	}
	st, body, ok := w.do(context.Background(), "GET", "/Groups/"+w.group, "")
	if !ok || st != 200 {
		t.Fatalf("group lost: %d %v", st, body)
	}
	have := map[string]bool{}
	ms, _ := body["members"].([]any)
	for _, m := range ms {
		have[m.(map[string]any)["value"].(string)] = true
	}
	for id := range have {
		if !w.members[id] && id != w.maybeMember {
			t.Errorf("group has %s, which was never acknowledged as a member", id)
		}
	}
	for id := range w.members {
		if !have[id] && id != w.maybeMember {
			t.Errorf("acknowledged member %s missing from the group", id)
		}
	}
	w.members, w.maybeMember = have, ""
}

func run(t *testing.T, be backend) {
	bin := binary(t)
	rounds := envInt("PAMSCIM_CRASH_ROUNDS", 3)
	maxMS := envInt("PAMSCIM_CRASH_MAX_MS", 1500)
	workers := envInt("PAMSCIM_CRASH_WORKERS", 6)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %d rounds, kill within %d ms, %d workers", seed, rounds, maxMS, workers)
	r := rand.New(rand.NewPCG(seed, 11))

	tok, err := exec.Command(bin, append([]string{"token", "create", "--name", "crash"}, be.args...)...).Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	token := strings.TrimSpace(string(tok))
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}

	srv := start(t, bin, be.args)
	t.Cleanup(func() { srv.kill() })
	ws := make([]*worker, workers)
	for i := range ws {
		w := &worker{n: i, c: client, base: srv.base, token: token, members: map[string]bool{}}
		st, body, ok := w.do(context.Background(), "POST", "/Groups", fmt.Sprintf(`{"displayName":"crash-group-%d"}`, i))
		if !ok || st != 201 {
			t.Fatalf("group: %d %v", st, body)
		}
		w.group = body["id"].(string)
		ws[i] = w
	}

	var total stats
	for round := 1; round <= rounds; round++ {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for i, w := range ws {
			w.base = srv.base
			wr := rand.New(rand.NewPCG(seed, uint64(round*1000+i)))
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil && w.step(ctx, t, wr) {
				}
			}()
		}
		time.Sleep(time.Duration(100+r.IntN(maxMS)) * time.Millisecond)
		killed := srv.kill()
		cancel()
		wg.Wait()
		if !killed {
			t.Fatalf("round %d: the server had exited before SIGKILL:\n%s", round, srv.log())
		}
		be.integrity(t)
		srv = start(t, bin, be.args)
		var rs stats
		users := 0
		for _, w := range ws {
			w.base = srv.base
		}
		all := listAll(t, ws[0])
		byName := map[string][]string{}
		for id, u := range all {
			byName[strings.ToLower(u.userName)] = append(byName[strings.ToLower(u.userName)], id)
			if strings.HasPrefix(u.displayName, "refused-") || u.title == "stale" || u.title == "dup" {
				t.Errorf("a refused request was stored: %s %+v", id, u)
			}
		}
		for _, w := range ws {
			w.verify(t, all, byName)
			rs.acked += w.stats.acked
			rs.refused += w.stats.refused
			rs.cut += w.stats.cut
			w.stats = stats{}
			users += len(w.live())
		}
		t.Logf("round %d: %d acknowledged writes, %d refused, %d cut by the kill; %d users in the store, %d live ones checked", round, rs.acked, rs.refused, rs.cut, len(all), users)
		total.acked += rs.acked
		total.refused += rs.refused
		total.cut += rs.cut
		if t.Failed() {
			t.Fatalf("round %d failed; server log:\n%s", round, srv.log())
		}
	}
	if total.acked == 0 {
		t.Fatal("no write was acknowledged: the test proved nothing")
	}
	if be.lose != nil {
		// The checks themselves: remove one acknowledged user behind the
		// server's back; verify must say it is lost.
		var victim *user
		for _, w := range ws {
			if l := w.live(); len(l) > 0 && victim == nil {
				victim = l[0]
			}
		}
		srv.kill()
		be.lose(t, victim.id)
		srv = start(t, bin, be.args)
		for _, w := range ws {
			w.base = srv.base
		}
		all := listAll(t, ws[0])
		byName := map[string][]string{}
		for id, u := range all {
			byName[strings.ToLower(u.userName)] = append(byName[strings.ToLower(u.userName)], id)
		}
		rec := &recorder{}
		for _, w := range ws {
			w.verify(rec, all, byName)
		}
		if len(rec.errs) != 1 || !strings.Contains(rec.errs[0], victim.id) || !strings.Contains(rec.errs[0], "lost") {
			t.Fatalf("a user deleted behind the server's back was not reported as lost exactly once: %q", rec.errs)
		}
	}
	t.Logf("total: %d rounds, %d acknowledged writes all present, %d refused all absent, %d cut", rounds, total.acked, total.refused, total.cut)
}
