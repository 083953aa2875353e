package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func runCtx(ctx context.Context, args ...string) (string, string, error) {
	var out, errb bytes.Buffer
	root := newRoot(&out, &errb)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	return out.String(), errb.String(), err
}

// syncBuffer is written by the server while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestConfigFileExample: the shipped example is valid for serve (every key
// known, every value parsed and validated); serve starts on it and, its
// context being done, stops at once.
func TestConfigFileExample(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	data := filepath.Join(t.TempDir(), "data")
	var stderr syncBuffer
	root := newRoot(io.Discard, &stderr)
	root.SetArgs([]string{"serve", "--config", "../../packaging/config.example.yaml", "--data", data, "--listen", "127.0.0.1:0"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	for i := 0; i < 3000 && !strings.Contains(stderr.String(), "pamscim listening"); i++ {
		select {
		case err := <-done:
			t.Fatalf("serve with the example config: %v\n%s", err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if !strings.Contains(stderr.String(), `"msg":"pamscim listening"`) {
		t.Fatalf("the example's log-format json was not applied: %s", stderr.String())
	}
	// token commands share the file: serve-only keys are no error for them.
	if _, _, err := runCtx(context.Background(), "token", "create", "--name", "x", "--config", "../../packaging/config.example.yaml", "--data", data); err != nil {
		t.Fatalf("token create with the serve config: %v", err)
	}
}

// TestConfigFileProblems: a file with several mistakes fails once, naming
// each, with exit status 2; the environment and the flags are checked too.
func TestConfigFileProblems(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bad.yaml")
	os.WriteFile(cfg, []byte("listen: :0\nmax-body: ten\nrequest-timeout: 30\nlog-format: xml\nsqlite-synchronous: sometimes\nlistn: x\n"), 0o600)
	t.Setenv("PAMSCIM_IDLE_TIMEOUT", "forever")
	_, _, err := runCtx(context.Background(), "serve", "--config", cfg, "--data", filepath.Join(dir, "data"), "--base-url", "ftp://x")
	var ue usageError
	if !errors.As(err, &ue) {
		t.Fatalf("not a usage error: %v", err)
	}
	for _, want := range []string{
		`bad.yaml:2: max-body: "ten" is not a valid whole number`,
		`bad.yaml:3: request-timeout: "30" is not a valid duration`,
		`bad.yaml:6: unknown setting "listn"`,
		`PAMSCIM_IDLE_TIMEOUT: "forever" is not a valid duration`,
		`--log-format must be text or json`,
		`--sqlite-synchronous must be NORMAL, FULL or EXTRA`,
		`--base-url must be an absolute http(s) URL`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if _, _, err := runCtx(context.Background(), "version", "--config", filepath.Join(dir, "missing.yaml")); !errors.As(err, &ue) {
		t.Fatalf("a missing config file: %v", err)
	}
	t.Setenv("PAMSCIM_CONFIG", cfg)
	if _, _, err := runCtx(context.Background(), "token", "list", "--data", filepath.Join(dir, "data")); err == nil || !strings.Contains(err.Error(), "listn") {
		t.Fatalf("PAMSCIM_CONFIG was not read: %v", err)
	}
}
