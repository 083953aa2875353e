package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/app"
	"github.com/pamscim/pamscim/internal/metrics"
)

type served struct {
	addr, token string
	cancel      func()
	done        chan error
}

func serveFor(t *testing.T, cfg *app.Config) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	s := &served{cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- app.Serve(ctx, cfg, io.Discard, func(a string) { addrc <- a }) }()
	select {
	case s.addr = <-addrc:
	case err := <-s.done:
		t.Fatal(err)
	}
	tok, _ := os.ReadFile(filepath.Join(cfg.Data, "bootstrap-token"))
	s.token = strings.TrimSpace(string(tok))
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	return s
}

func (s *served) call(t *testing.T, method, path, body string) int {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+s.addr+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/scim+json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func TestLogCommandWhileServing(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	s := serveFor(t, &app.Config{Listen: "127.0.0.1:0", Data: data, Observe: app.Observe{Build: metrics.Build{Version: "test"}}})
	const pw = "Very-Secret-Passw0rd"
	if c := s.call(t, "POST", "/scim/v2/Users", `{"userName":"bjensen","password":"`+pw+`"}`); c != 201 {
		t.Fatalf("create: %d", c)
	}
	if c := s.call(t, "POST", "/scim/v2/Users", `{"userName":"bjensen","password":"`+pw+`"}`); c != 409 {
		t.Fatalf("duplicate: %d", c)
	}
	// The running server's entries reach the store within a flush interval.
	var out string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var err error
		if out, _, err = run(t, "log", "--data", data); err != nil {
			t.Fatal(err)
		}
		if strings.Count(out, "\n") == 2 {
			break
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], " default 201 POST /scim/v2/Users ") || !strings.Contains(lines[1], " 409 POST ") ||
		!strings.Contains(lines[0], "client=bootstrap") || !strings.Contains(lines[0], "resource=User/") {
		t.Fatalf("pamscim log:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want int // lines
	}{
		{[]string{"--status", "409"}, 1},
		{[]string{"--status", "4xx"}, 1},
		{[]string{"--status", "error"}, 1},
		{[]string{"--status", "2xx", "--since", "1h"}, 1},
		{[]string{"--since", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}, 0},
		{[]string{"--limit", "1"}, 1},
		{[]string{"--path", "/users"}, 2},
		{[]string{"--path", "/Groups"}, 0},
		{[]string{"--client", "bootstrap"}, 2},
		{[]string{"--client", "someone"}, 0},
		{[]string{"--tenant", "acme"}, 0},
		{[]string{"--tenant", "*"}, 2},
	} {
		out, _, err := run(t, append([]string{"log", "--data", data}, tc.args...)...)
		if err != nil || strings.Count(out, "\n") != tc.want {
			t.Errorf("log %v: %v\n%s", tc.args, err, out)
		}
	}
	out, _, err := run(t, "log", "--data", data, "--json", "--status", "201")
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Status      int            `json:"status"`
		ResourceID  string         `json:"resource_id"`
		RequestBody map[string]any `json:"request_body"`
		Response    map[string]any `json:"response_body"`
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if e.Status != 201 || e.RequestBody["password"] != "[redacted]" || e.Response["id"] != e.ResourceID || strings.Contains(out, pw) {
		t.Fatalf("--json entry: %s", out)
	}
	out, _, _ = run(t, "log", "--data", data, "--resource-id", e.ResourceID)
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("--resource-id: %s", out)
	}

	// /metrics on the main listener, open.
	res, err := http.Get("http://" + s.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Contains(b, []byte(`pamscim_build_info{commit="",goversion="go`)) ||
		!bytes.Contains(b, []byte(`pamscim_http_requests_total{code="409",endpoint="/scim/v2/Users",method="POST"} 1`)) {
		t.Fatalf("/metrics: %d\n%s", res.StatusCode, b)
	}

	// What is answered just before shutdown is stored by the shutdown.
	if c := s.call(t, "GET", "/scim/v2/Groups", ""); c != 200 {
		t.Fatal(c)
	}
	s.cancel()
	if err := <-s.done; err != nil {
		t.Fatal(err)
	}
	s.done <- nil // for the cleanup
	out, _, _ = run(t, "log", "--data", data, "--path", "/Groups")
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("the last request was not flushed at shutdown: %q", out)
	}
}

func TestLogOffAndMetricsListener(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	maddr := make(chan string, 1)
	s := serveFor(t, &app.Config{Listen: "127.0.0.1:0", Data: data, Observe: app.Observe{
		ProvLog: "off", MetricsListen: "127.0.0.1:0", MetricsReady: func(a string) { maddr <- a }}})
	if c := s.call(t, "POST", "/scim/v2/Users", `{"userName":"a"}`); c != 201 {
		t.Fatal(c)
	}
	m := <-maddr
	res, err := http.Get("http://" + m + "/metrics")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("metrics listener: %v %v", res, err)
	}
	res.Body.Close()
	res, err = http.Get("http://" + s.addr + "/metrics")
	if err != nil || res.StatusCode != 404 {
		t.Fatalf("main listener still serves /metrics: %v %v", res, err)
	}
	res.Body.Close()
	s.cancel()
	<-s.done
	s.done <- nil
	out, _, err := run(t, "log", "--data", data, "--tenant", "*")
	if err != nil || out != "" {
		t.Fatalf("--log off still logged: %q %v", out, err)
	}
}

func TestLogUsageErrors(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	for _, args := range [][]string{
		{"log", "--status", "4x"},
		{"log", "--status", "600"},
		{"log", "--since", "yesterday"},
		{"log", "--limit", "0"},
		{"log", "--limit", "5000"},
		{"log", "extra"},
		{"serve", "--log", "maybe", "--data", data},
		{"serve", "--metrics-listen", "nocolon", "--data", data},
	} {
		_, _, err := run(t, append(args, "--data", data)...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: %v is not a usage error", args, err)
		}
	}
}
