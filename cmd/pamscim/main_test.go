package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/app"
)

func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRoot(&out, &errb)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func TestTokenCommands(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	out, _, err := run(t, "token", "create", "--name", "okta", "--expires", "24h", "--data", data)
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(out)
	if !strings.HasPrefix(tok, "pamscim_pat_") || strings.Count(out, "\n") != 1 {
		t.Fatalf("token create must print the token alone: %q", out)
	}
	if _, _, err := run(t, "token", "create", "--name", "okta", "--data", data); err == nil {
		t.Fatal("a second live token with one name was accepted")
	}
	out, _, err = run(t, "token", "list", "--data", data)
	if err != nil || !strings.Contains(out, "okta") || strings.Contains(out, tok) {
		t.Fatalf("token list: %q %v", out, err)
	}
	if _, _, err := run(t, "token", "revoke", "okta", "--data", data); err != nil {
		t.Fatal(err)
	}
	out, _, _ = run(t, "token", "list", "--data", data)
	if !strings.Contains(out, "revoked") {
		t.Fatalf("after revoke: %q", out)
	}
	if _, _, err := run(t, "token", "revoke", "okta", "--data", data); err == nil {
		t.Fatal("revoking twice succeeded")
	}
	if _, _, err := run(t, "tenant", "create", "acme", "--data", data); err != nil {
		t.Fatal(err)
	}
	out, _, _ = run(t, "tenant", "list", "--data", data)
	if out != "acme\ndefault\n" {
		t.Fatalf("tenant list: %q", out)
	}
	if _, _, err := run(t, "token", "create", "--name", "x", "--tenant", "nope", "--data", data); err == nil {
		t.Fatal("token for a missing tenant")
	}
	if fi, err := os.Stat(data); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("data directory mode: %v %v", fi.Mode(), err)
	}
}

func TestUsageErrors(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	for _, args := range [][]string{
		{"token", "create", "--data", data},
		{"token", "create", "--name", "x", "--scope", "admin", "--data", data},
		{"token", "revoke", "--data", data},
		{"serve", "--no-such-flag"},
		{"serve", "--base-url", "ftp://x", "--data", data},
	} {
		_, _, err := run(t, args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: %v is not a usage error (exit 2)", args, err)
		}
	}
	out, _, err := run(t, "version")
	if err != nil || !strings.HasPrefix(out, "pamscim ") {
		t.Fatalf("version: %q %v", out, err)
	}
}

// TestServeBootstrapAndShutdown starts the real server, uses the bootstrap
// token, and stops it as SIGTERM would (context cancellation); Serve must
// return cleanly after http.Server.Shutdown has drained.
func TestServeBootstrapAndShutdown(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	cfg := &app.Config{Listen: "127.0.0.1:0", Data: data, ShutdownTimeout: 5 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	var stderr bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, cfg, &stderr, func(a string) { addrc <- a }) }()
	addr := <-addrc
	fi, err := os.Stat(filepath.Join(data, "bootstrap-token"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("bootstrap token file: %v %v", fi, err)
	}
	tok, _ := os.ReadFile(filepath.Join(data, "bootstrap-token"))
	req, _ := http.NewRequest("GET", "http://"+addr+"/scim/v2/Users", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("bootstrap token refused: %v %v", res, err)
	}
	res.Body.Close()
	if !strings.Contains(stderr.String(), "bootstrap-token") {
		t.Fatalf("first start did not say where the token is: %q", stderr.String())
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A second start on the same store creates no new token and says nothing.
	stderr.Reset()
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { done <- app.Serve(ctx2, cfg, &stderr, func(string) { cancel2() }) }()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stderr.String(), "bootstrap") {
		t.Fatalf("second start spoke of a bootstrap token: %q", stderr.String())
	}
}
