package api_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/api"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
)

// slowPost starts a POST /Users whose body arrives only when the returned
// writer is written to and closed: the request holds a slot meanwhile.
func (e *env) slowPost(userName string) (*io.PipeWriter, <-chan *http.Response) {
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", e.base+"/Users", pr)
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "application/scim+json")
	out := make(chan *http.Response, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			out <- nil
			return
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		out <- res
	}()
	// The headers go out with the first body bytes.
	fmt.Fprintf(pw, `{"userName":"%s",`, userName)
	return pw, out
}

// newEnvAt is newEnv over a data directory the test knows; setup runs on
// the server before it listens.
func newEnvAt(t *testing.T, data string, cfg api.Config, setup ...func(*api.Server, store.Store)) *env {
	t.Helper()
	reg := schema.Default()
	st, err := sqlite.Open(context.Background(), data, reg, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	au := auth.NewService(st)
	tok, _, err := au.CreateToken(context.Background(), store.DefaultTenant, "test", []string{auth.ScopeRead, auth.ScopeWrite}, 0, "test")
	if err != nil {
		t.Fatal(err)
	}
	s := api.New(reg, st, au, cfg, nil)
	for _, f := range setup {
		f(s, st)
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); st.Close() })
	return &env{t: t, srv: srv, st: st, au: au, token: tok, base: srv.URL + "/scim/v2", api: s}
}

func status(res *http.Response) int {
	if res == nil {
		return 0
	}
	return res.StatusCode
}

// TestConcurrencyCap fills every slot with requests whose bodies are still
// arriving; the next request is refused 429 with Retry-After at once (even
// one whose own body is still arriving), health still answers, and the
// slots come back when the held requests finish.
func TestConcurrencyCap(t *testing.T) {
	e := newEnv(t, api.Config{Limits: api.Limits{MaxInFlight: 2, QueueWait: 20 * time.Millisecond, RetryAfter: 3 * time.Second}})
	type held struct {
		name string
		w    *io.PipeWriter
		out  <-chan *http.Response
	}
	var hs []*held
	n := 0
	hold := func() *held {
		n++
		h := &held{name: fmt.Sprintf("held%d", n)}
		h.w, h.out = e.slowPost(h.name)
		// If the test fails while a request is held open, end it before
		// the server's Close, which would otherwise wait for it.
		t.Cleanup(func() { h.w.CloseWithError(io.ErrUnexpectedEOF) })
		return h
	}
	hs = append(hs, hold(), hold())

	var refused *resp
	// Under -race on a loaded machine the held requests may take seconds
	// to reach their slots, and one of this loop's GETs can take a slot
	// first: the held request is then the one refused (429), and another
	// takes its place. A held request that ends any other way is a failure.
	seen := map[int]int{}
	for deadline := time.Now().Add(30 * time.Second); refused == nil && time.Now().Before(deadline); {
		for i, h := range hs {
			select {
			case res := <-h.out:
				if status(res) != http.StatusTooManyRequests {
					t.Fatalf("%s ended while its body was still arriving: status %d", h.name, status(res))
				}
				hs[i] = hold()
			default:
			}
		}
		if r := e.do("GET", "/Users", nil); r.status == http.StatusTooManyRequests {
			refused = r
		} else {
			seen[r.status]++
			time.Sleep(10 * time.Millisecond)
		}
	}
	if refused == nil {
		t.Fatalf("no 429 while both slots were held; statuses seen: %v", seen)
	}
	refused.want(t, http.StatusTooManyRequests)
	if ra := refused.header.Get("Retry-After"); ra != "3" {
		t.Fatalf("Retry-After %q, want 3", ra)
	}
	if res, err := http.Get(e.srv.URL + "/healthz"); err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz while capped: %v %v", res, err)
	}
	// The GETs are sequential, so both slots are the held requests'. A
	// third upload is refused before its body ends: the server closes
	// the connection instead of reading the rest first.
	w3, r3 := e.slowPost("refused")
	defer w3.Close()
	select {
	case res := <-r3:
		if status(res) != http.StatusTooManyRequests {
			t.Fatalf("third upload: status %d, want 429", status(res))
		}
	case <-time.After(20 * time.Second):
		t.Fatal("third upload: no 429 until its body ends")
	}

	for _, h := range hs {
		io.WriteString(h.w, `"active":true}`)
		h.w.Close()
	}
	for _, h := range hs {
		if st := status(<-h.out); st != 201 {
			t.Fatalf("%s: status %d, want 201", h.name, st)
		}
	}
	e.do("POST", "/Users", `{"userName":"after"}`).want(t, 201)
	for _, h := range hs {
		if r := e.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "`+h.name+`"`), nil).want(t, 200); r.body["totalResults"] != float64(1) {
			t.Fatalf("held create %s not stored: %s", h.name, r.raw)
		}
	}
}

// TestSlowBodyTimesOut: a client that sends part of a body and stalls gets
// 408 at the request timeout and gives its slot back.
func TestSlowBodyTimesOut(t *testing.T) {
	// The 408 can go out before the handler, woken by the same deadline,
	// has returned and given its slot back (the cap counts work, not
	// answers): the next request queues for the slot instead of being
	// refused at once. A slot never given back still fails it, with 429.
	e := newEnv(t, api.Config{Limits: api.Limits{MaxInFlight: 1, QueueWait: 5 * time.Second, RequestTimeout: 300 * time.Millisecond}})
	w, out := e.slowPost("slow")
	defer w.Close()
	var res *http.Response
	select {
	case res = <-out:
	case <-time.After(30 * time.Second):
		t.Fatal("a stalled body held the request past its timeout")
	}
	// 408 when the body read hits its deadline first; 503 when the
	// handler's own timeout fires first (a loaded machine decides which).
	// Either way the request ends and gives its slot back.
	if st := status(res); st != http.StatusRequestTimeout && st != http.StatusServiceUnavailable {
		t.Fatalf("stalled body: status %d, want 408 (or 503)", st)
	}
	// The single slot is free again.
	e.do("POST", "/Users", `{"userName":"next"}`).want(t, 201)
}

// TestBusyStoreTimesOut: while another process holds SQLite's write lock
// (a backup, a long CLI command), a write gives up at the request timeout
// with 503 and Retry-After instead of queueing without bound, and nothing
// is stored.
func TestBusyStoreTimesOut(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	e := newEnvAt(t, data, api.Config{Limits: api.Limits{RequestTimeout: 500 * time.Millisecond}})
	path := filepath.Join(data, sqlite.FileName)
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	r := e.do("POST", "/Users", `{"userName":"blocked"}`).want(t, http.StatusServiceUnavailable)
	if r.header.Get("Retry-After") == "" || !strings.Contains(r.body["detail"].(string), "timeout") {
		t.Fatalf("503 without Retry-After or reason: %v %s", r.header, r.raw)
	}
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if r := e.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "blocked"`), nil).want(t, 200); r.body["totalResults"] != float64(0) {
		t.Fatalf("the timed-out create was stored: %s", r.raw)
	}
	e.do("POST", "/Users", `{"userName":"blocked"}`).want(t, 201)
}
