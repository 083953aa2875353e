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

// newEnvAt is newEnv over a data directory the test knows.
func newEnvAt(t *testing.T, data string, cfg api.Config) *env {
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
// arriving; the next request is refused 429 with Retry-After, health still
// answers, and the slots come back when the held requests finish.
func TestConcurrencyCap(t *testing.T) {
	e := newEnv(t, api.Config{Limits: api.Limits{MaxInFlight: 2, QueueWait: 20 * time.Millisecond, RetryAfter: 3 * time.Second}})
	w1, r1 := e.slowPost("held1")
	w2, r2 := e.slowPost("held2")
	// If the test fails while the two requests are held open, end them
	// before the server's Close, which would otherwise wait for them.
	t.Cleanup(func() { w1.CloseWithError(io.ErrUnexpectedEOF); w2.CloseWithError(io.ErrUnexpectedEOF) })

	var refused *resp
	// Under -race on a loaded machine the held requests may take seconds
	// to reach their slots.
	for deadline := time.Now().Add(30 * time.Second); refused == nil && time.Now().Before(deadline); {
		if r := e.do("GET", "/Users", nil); r.status == http.StatusTooManyRequests {
			refused = r
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if refused == nil {
		t.Fatal("no 429 while both slots were held")
	}
	refused.want(t, http.StatusTooManyRequests)
	if ra := refused.header.Get("Retry-After"); ra != "3" {
		t.Fatalf("Retry-After %q, want 3", ra)
	}
	if res, err := http.Get(e.srv.URL + "/healthz"); err != nil || res.StatusCode != 200 {
		t.Fatalf("healthz while capped: %v %v", res, err)
	}

	for _, w := range []*io.PipeWriter{w1, w2} {
		io.WriteString(w, `"active":true}`)
		w.Close()
	}
	if s1, s2 := status(<-r1), status(<-r2); s1 != 201 || s2 != 201 {
		t.Fatalf("held requests: %d %d, want 201 201", s1, s2)
	}
	e.do("POST", "/Users", `{"userName":"after"}`).want(t, 201)
	if r := e.do("GET", "/Users?filter="+url.QueryEscape(`userName eq "held1"`), nil).want(t, 200); r.body["totalResults"] != float64(1) {
		t.Fatalf("held create not stored: %s", r.raw)
	}
}

// TestSlowBodyTimesOut: a client that sends part of a body and stalls gets
// 408 at the request timeout and gives its slot back.
func TestSlowBodyTimesOut(t *testing.T) {
	e := newEnv(t, api.Config{Limits: api.Limits{MaxInFlight: 1, QueueWait: 10 * time.Millisecond, RequestTimeout: 300 * time.Millisecond}})
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
