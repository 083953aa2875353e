package app_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/app"
)

type running struct {
	addr, token string
	cancel      context.CancelFunc
	done        chan struct{} // closed when Serve has returned err
	err         error
}

func serve(t *testing.T, c *app.Config) *running {
	t.Helper()
	c.Listen = "127.0.0.1:0"
	c.Data = filepath.Join(t.TempDir(), "data")
	c.LogLevel = "error"
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan struct{})}
	addrc := make(chan string, 1)
	go func() { r.err = app.Serve(ctx, c, io.Discard, func(a string) { addrc <- a }); close(r.done) }()
	select {
	case r.addr = <-addrc:
	case <-r.done:
		t.Fatal(r.err)
	}
	tok, err := os.ReadFile(filepath.Join(c.Data, "bootstrap-token"))
	if err != nil {
		t.Fatal(err)
	}
	r.token = strings.TrimSpace(string(tok))
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
		}
	})
	return r
}

func (r *running) get(t *testing.T, path string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+r.addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+r.token)
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestSlowLoris: clients that trickle their headers hold no request slot
// and are cut at --read-header-timeout, while other clients are served.
func TestSlowLoris(t *testing.T) {
	r := serve(t, &app.Config{ReadHeaderTimeout: 500 * time.Millisecond, MaxInFlight: 2})
	var conns []net.Conn
	for i := 0; i < 50; i++ {
		c, err := net.Dial("tcp", r.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /scim/v2/Users HTTP/1.1\r\nHost: x\r\n")
		conns = append(conns, c)
	}
	// One more header line a little later: still not a whole request.
	time.Sleep(100 * time.Millisecond)
	for _, c := range conns {
		fmt.Fprintf(c, "X-Slow: 1\r\n")
	}
	for i := 0; i < 5; i++ {
		if st := r.get(t, "/scim/v2/Users"); st != 200 {
			t.Fatalf("a normal client during the slow loris: %d", st)
		}
	}
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
		line, err := bufio.NewReader(c).ReadString('\n')
		// net/http answers an unfinished header with nothing or a 408 and closes.
		if err == nil && !strings.Contains(line, "408") {
			t.Fatalf("slow connection %d got %q", i, line)
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("slow connection %d was still open after 20 s", i)
		}
	}
}

// inHandler waits for the "100 Continue" net/http sends when the handler
// first reads the body of a request sent with Expect: 100-continue: the
// request is then in flight. A fixed sleep instead is not enough on a
// loaded machine under -race, where the server may not even have accepted
// the connection before the shutdown closes its listener. It returns the
// reader to read the rest of the connection's answers with.
func inHandler(t *testing.T, c net.Conn) *bufio.Reader {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil || !strings.Contains(line, " 100 ") {
		t.Fatalf("waiting for 100 Continue: %q %v", line, err)
	}
	if blank, err := br.ReadString('\n'); err != nil || blank != "\r\n" {
		t.Fatalf("after 100 Continue: %q %v", blank, err)
	}
	return br
}

// TestGracefulShutdown: a request in flight when SIGTERM (context
// cancellation) arrives still completes; Serve then returns cleanly.
func TestGracefulShutdown(t *testing.T) {
	r := serve(t, &app.Config{ShutdownTimeout: 10 * time.Second})
	c, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	body := `{"userName":"draining@example.com"}`
	fmt.Fprintf(c, "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/scim+json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", r.token, len(body))
	br := inHandler(t, c)
	r.cancel()
	// The body arrives once the shutdown is under way: the listener is
	// closed.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		c2, err := net.Dial("tcp", r.addr)
		if err != nil {
			break
		}
		c2.Close()
		if time.Now().After(deadline) {
			t.Fatal("the listener was still open 20 s after the shutdown began")
		}
	}
	fmt.Fprint(c, body)
	line, err := br.ReadString('\n')
	if err != nil || !strings.Contains(line, "201") {
		t.Fatalf("in-flight request during shutdown: %q %v", line, err)
	}
	select {
	case <-r.done:
		if r.err != nil {
			t.Fatalf("Serve after a drained shutdown: %v", r.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve did not return after the drain")
	}
}

// TestShutdownCutsStragglers: a request that outlives --shutdown-timeout is
// cut, and Serve says so instead of hanging.
func TestShutdownCutsStragglers(t *testing.T) {
	r := serve(t, &app.Config{ShutdownTimeout: 300 * time.Millisecond, RequestTimeout: time.Minute})
	c, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /scim/v2/Users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 100\r\nExpect: 100-continue\r\n\r\n", r.token)
	inHandler(t, c)
	r.cancel()
	select {
	case <-r.done:
		if r.err == nil || !strings.Contains(r.err.Error(), "cut") {
			t.Fatalf("Serve after the drain time: %v", r.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Serve hung on a stalled request past --shutdown-timeout")
	}
}
