package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/store/postgres/pgtest"
)

// instance is one `pamscim serve` process.
type instance struct {
	base string // http://127.0.0.1:port/scim/v2
	cmd  *exec.Cmd
}

var listenAddr = regexp.MustCompile(`addr=(127\.0\.0\.1:\d+)`)

// buildBinary builds cmd/pamscim once per test.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "pamscim")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func runBin(t *testing.T, bin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("pamscim %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// startInstance starts `pamscim serve` on a free port and waits for it to
// listen; it is stopped with SIGTERM when the test ends.
func startInstance(t *testing.T, bin string, args ...string) *instance {
	t.Helper()
	// No per-token rate limit: the test sends bursts through one token.
	cmd := exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0", "--rate-limit", "0"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	var logs bytes.Buffer
	var mu sync.Mutex
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if m := listenAddr.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	select {
	case a := <-addr:
		return &instance{base: "http://" + a + "/scim/v2", cmd: cmd}
	case <-time.After(60 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("pamscim serve did not start:\n%s", logs.String())
	}
	return nil
}

type reply struct {
	status int
	body   map[string]any
	raw    []byte
}

var instanceClient = &http.Client{Timeout: 30 * time.Second}

func call(t *testing.T, token, method, url string, body any) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	res, err := instanceClient.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return reply{}
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := reply{status: res.StatusCode, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// TestTwoInstancesOneDatabase runs two `pamscim serve` processes on one
// PostgreSQL database and checks, through both at once, that they behave
// as one server: no lost update, one winner of a userName race, revocation
// seen by both within a second, cursors valid on either.
func TestTwoInstancesOneDatabase(t *testing.T) {
	db := pgtest.Schema(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	runBin(t, bin, "migrate", "--database-url", db)
	// The first command generates the secret key file in its data
	// directory; every instance must seal PAM secrets with those keys.
	cli := filepath.Join(dir, "cli")
	common := []string{"--database-url", db, "--data", cli}
	tok := strings.TrimSpace(runBin(t, bin, append([]string{"token", "create", "--name", "e2e"}, common...)...))
	victim := strings.TrimSpace(runBin(t, bin, append([]string{"token", "create", "--name", "victim"}, common...)...))
	keys := filepath.Join(cli, "secret-keys")
	a := startInstance(t, bin, "--database-url", db, "--secret-key-file", keys, "--data", filepath.Join(dir, "a"))
	b := startInstance(t, bin, "--database-url", db, "--secret-key-file", keys, "--data", filepath.Join(dir, "b"))
	both := []*instance{a, b}

	t.Run("NoLostUpdate", func(t *testing.T) {
		const n = 40
		var ids []string
		for i := range n {
			r := call(t, tok, "POST", a.base+"/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": fmt.Sprintf("member%02d", i)})
			if r.status != 201 {
				t.Fatalf("create user: %d %s", r.status, r.raw)
			}
			ids = append(ids, r.body["id"].(string))
		}
		g := call(t, tok, "POST", b.base+"/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "race"})
		u := call(t, tok, "POST", b.base+"/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "many-emails"})
		if g.status != 201 || u.status != 201 {
			t.Fatalf("create: %d %s / %d %s", g.status, g.raw, u.status, u.raw)
		}
		gid, uid := g.body["id"].(string), u.body["id"].(string)
		var wg sync.WaitGroup
		for i, id := range ids {
			wg.Add(2)
			inst := both[i%2]
			go func() {
				defer wg.Done()
				r := call(t, tok, "PATCH", inst.base+"/Groups/"+gid, map[string]any{
					"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
					"Operations": []any{map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": id}}}}})
				if r.status != 200 && r.status != 204 {
					t.Errorf("PATCH members via %s: %d %s", inst.base, r.status, r.raw)
				}
			}()
			// The document itself: a read-modify-write of the user row.
			go func() {
				defer wg.Done()
				r := call(t, tok, "PATCH", inst.base+"/Users/"+uid, map[string]any{
					"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
					"Operations": []any{map[string]any{"op": "add", "path": "emails", "value": []any{map[string]any{"value": fmt.Sprintf("e%02d@example.com", i)}}}}})
				if r.status != 200 && r.status != 204 {
					t.Errorf("PATCH emails via %s: %d %s", inst.base, r.status, r.raw)
				}
			}()
		}
		wg.Wait()
		for _, inst := range both {
			g := call(t, tok, "GET", inst.base+"/Groups/"+gid, nil)
			if ms, _ := g.body["members"].([]any); len(ms) != n {
				t.Errorf("group via %s has %d members, want %d", inst.base, len(ms), n)
			}
			u := call(t, tok, "GET", inst.base+"/Users/"+uid, nil)
			if es, _ := u.body["emails"].([]any); len(es) != n {
				t.Errorf("user via %s has %d emails, want %d", inst.base, len(es), n)
			}
		}
	})

	t.Run("OneCreateWins", func(t *testing.T) {
		for round := range 25 {
			name := fmt.Sprintf("race%02d", round)
			var wg sync.WaitGroup
			start := make(chan struct{})
			statuses := make([]int, 2)
			for i, inst := range both {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					r := call(t, tok, "POST", inst.base+"/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": name})
					statuses[i] = r.status
					if r.status == 409 && r.body["scimType"] != "uniqueness" {
						t.Errorf("409 without scimType uniqueness: %s", r.raw)
					}
				}()
			}
			close(start)
			wg.Wait()
			if !(statuses[0] == 201 && statuses[1] == 409) && !(statuses[0] == 409 && statuses[1] == 201) {
				t.Errorf("round %d: statuses %v, want one 201 and one 409", round, statuses)
			}
		}
	})

	t.Run("RevokedTokenRefusedByBoth", func(t *testing.T) {
		for _, inst := range both {
			if r := call(t, victim, "GET", inst.base+"/Users?count=1", nil); r.status != 200 {
				t.Fatalf("before revoke via %s: %d %s", inst.base, r.status, r.raw)
			}
		}
		runBin(t, bin, append([]string{"token", "revoke", "victim", "--data", filepath.Join(dir, "cli")}, common...)...)
		revoked := time.Now()
		for _, inst := range both {
			for {
				// Judged by when the request was sent, not answered: on a
				// loaded machine a request sent while the instance's token
				// cache may still hold the token can take long to answer.
				sent := time.Since(revoked)
				r := call(t, victim, "GET", inst.base+"/Users?count=1", nil)
				if r.status == 401 {
					break
				}
				if sent > time.Second {
					t.Fatalf("%s still accepts the revoked token %s after the revoke (status %d)", inst.base, sent, r.status)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	})

	t.Run("CursorAcrossInstances", func(t *testing.T) {
		all := call(t, tok, "GET", a.base+"/Users?count=1000&sortBy=userName", nil)
		want := names(all.body)
		if len(want) < 60 {
			t.Fatalf("only %d users", len(want))
		}
		var got []string
		url := a.base + "/Users?count=7&sortBy=userName&cursor"
		for i := 0; ; i++ {
			r := call(t, tok, "GET", url, nil)
			if r.status != 200 {
				t.Fatalf("page %d via %s: %d %s", i, url, r.status, r.raw)
			}
			got = append(got, names(r.body)...)
			next, _ := r.body["nextCursor"].(string)
			if next == "" {
				break
			}
			// Every next page from the other instance.
			url = both[(i+1)%2].base + "/Users?count=7&sortBy=userName&cursor=" + next
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("cursor walk across instances:\n got %v\nwant %v", got, want)
		}
	})
}

func names(body map[string]any) []string {
	var out []string
	rs, _ := body["Resources"].([]any)
	for _, r := range rs {
		m, _ := r.(map[string]any)
		s, _ := m["userName"].(string)
		out = append(out, s)
	}
	return out
}
