package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/app"
)

// TestClientCommands runs verify, fulfill and export as a user would: against
// a real `pamscim serve` (app.Serve on a loopback port, SQLite store), with
// OAuth client credentials from `pamscim oauth create-client` (the token is
// fetched from /scim/oauth/token by the client), and checks exit statuses.
func TestClientCommands(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cfg := &app.Config{Listen: "127.0.0.1:0", Data: data, ShutdownTimeout: 5 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	var stderr bytes.Buffer
	go func() { done <- app.Serve(ctx, cfg, &stderr, func(a string) { addrc <- a }) }()
	addr := <-addrc
	t.Cleanup(func() { cancel(); <-done })
	url := "http://" + addr + "/scim/v2"

	out, _, err := run(t, "oauth", "create-client", "--name", "idm", "--data", data)
	if err != nil {
		t.Fatal(err)
	}
	var id, secret string
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "client_id="); ok {
			id = v
		}
		if v, ok := strings.CutPrefix(l, "client_secret="); ok {
			secret = v
		}
	}
	if id == "" || secret == "" {
		t.Fatalf("create-client printed %q", out)
	}
	cred := []string{"--url", url, "--client-id", id, "--client-secret", secret}

	// verify: every check passes against pamscim; --json is one object.
	out, _, err = run(t, append([]string{"verify", "--json"}, cred...)...)
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	var rep struct{ Pass, Fail int }
	if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Fail != 0 || rep.Pass == 0 {
		t.Fatalf("verify --json: %v %+v", err, rep)
	}

	// fulfill: a failed change makes the exit status non-zero.
	tok, _ := os.ReadFile(filepath.Join(data, "bootstrap-token"))
	bearer := []string{"--url", url, "--token", strings.TrimSpace(string(tok))}
	changes := filepath.Join(dir, "changes.csv")
	os.WriteFile(changes, []byte("op,userName,name:givenName,active\ncreate,alice,Alice,true\ncreate,bob,Bob,false\nupdate,nobody,X,\n"), 0o644)
	out, _, err = run(t, append([]string{"fulfill", "--changes", changes, "--bulk-max", "10"}, bearer...)...)
	if err == nil || !strings.Contains(err.Error(), "1 of 3 changes failed") || !strings.Contains(out, "created") {
		t.Fatalf("fulfill: %v\n%s", err, out)
	}
	if _, _, err := run(t, append([]string{"fulfill", "--changes", changes, "--bulk-max", "-1"}, bearer...)...); err == nil {
		t.Fatal("--bulk-max -1 accepted")
	}

	// export: the files of seed 004's layout, filtered.
	outDir := filepath.Join(dir, "out")
	out, _, err = run(t, append([]string{"export", "--out", outDir, "--connection", "IDM", "--entities", "Users,Groups", "--filter", `Users|?filter=active eq "true"`}, cred...)...)
	if err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(outDir, "IDM_Users.csv"))
	if err != nil || !strings.Contains(string(b), "alice") || strings.Contains(string(b), "bob") {
		t.Fatalf("IDM_Users.csv: %v\n%s", err, b)
	}
	if _, err := os.Stat(filepath.Join(outDir, "IDM_members_Groups.csv")); err != nil {
		t.Fatal(err)
	}
	// A base given without /v2, as seed 004's Server setting is, is completed.
	_, errOut, err := run(t, "verify", "--url", "http://"+addr+"/scim", "--token", strings.TrimSpace(string(tok)), "--only", "discovery.")
	if err != nil || !strings.Contains(errOut, "using "+url) {
		t.Fatalf("base without /v2: %v %q", err, errOut)
	}
	// Bad usage is exit status 2.
	for _, args := range [][]string{
		{"export", "--url", url, "--connection", "bad_name"},
		{"export", "--url", url, "--filter", "Users"},
		{"verify"},
		{"verify", "--url", url, "--token", "x", "--user", "u"},
		{"fulfill", "--url", url, "--changes", "x.txt"},
	} {
		_, _, err := run(t, args...)
		if _, ok := err.(usageError); !ok {
			t.Errorf("%v: %v is not a usage error", args, err)
		}
	}
}
