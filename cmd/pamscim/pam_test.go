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
	"sync"
	"testing"

	"github.com/pamscim/pamscim/internal/app"
	"github.com/pamscim/pamscim/internal/pam"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/secretbox"
	"github.com/pamscim/pamscim/internal/store"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestPAMCommands runs the role, entitlement, access and keys commands
// against the data directory of a running server, as an operator would.
func TestPAMCommands(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	cfg := &app.Config{Listen: "127.0.0.1:0", Data: data, LogFormat: "text", LogLevel: "debug"}
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuf
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, cfg, &stderr, func(a string) { addrc <- a }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
		})
	}
	defer stop()
	keyFile := filepath.Join(data, secretbox.DefaultFile)
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file on first start: %v %v", fi, err)
	}
	tokb, err := os.ReadFile(filepath.Join(data, "bootstrap-token"))
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(string(tokb))
	call := func(method, path string, body any) map[string]any {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, "http://"+addr+"/scim/v2"+path, rd)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/scim+json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		if res.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v", method, path, res.StatusCode, m)
		}
		return m
	}
	const secret = "cli-test-secret-9f3e"
	u := call("POST", "/Users", map[string]any{"userName": "auditor.bob", "roles": []any{map[string]any{"value": "Auditor"}}})
	g := call("POST", "/Groups", map[string]any{"displayName": "Ops", "members": []any{map[string]any{"value": u["id"]}}})
	c := call("POST", "/Containers", map[string]any{"name": "Prod"})
	it := call("POST", "/PrivilegedData", map[string]any{"name": "root @ prod", "type": "credential",
		schema.CredentialURN: map[string]any{"username": "root", "secret": secret}})
	call("PATCH", "/Containers/"+c["id"].(string), map[string]any{"Operations": []any{map[string]any{"op": "add", "path": "privilegedData", "value": []any{map[string]any{"value": it["id"]}}}}})
	call("POST", "/ContainerPermissions", map[string]any{"container": map[string]any{"value": c["id"]}, "group": map[string]any{"value": g["id"]}, "rights": []string{"Connect", "View"}})

	// access, while the server runs.
	out, _, err := run(t, "access", it["id"].(string), "--data", data, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var a pam.Access
	if err := json.Unmarshal([]byte(out), &a); err != nil || len(a.Users) != 1 || a.Users[0].UserName != "auditor.bob" ||
		a.Users[0].Grants[0].Via != "container, group" || strings.Join(a.Users[0].Rights, ",") != "Connect,View" {
		t.Fatalf("access --json: %s %v", out, err)
	}
	out, _, err = run(t, "access", it["id"].(string), "--data", data)
	if err != nil || !strings.Contains(out, "auditor.bob") || !strings.Contains(out, "Container Prod > Group Ops") {
		t.Fatalf("access: %q %v", out, err)
	}
	if _, _, err := run(t, "access", "no-such-item", "--data", data); err == nil {
		t.Fatal("access of a missing item succeeded")
	}

	// role and entitlement.
	if _, _, err := run(t, "role", "add", "Break-glass", "--display", "Emergency access", "--data", data); err != nil {
		t.Fatal(err)
	}
	out, _, err = run(t, "role", "list", "--data", data)
	for _, want := range []string{"Administrator", "Approver", "Auditor", "Requester", "Break-glass", "Emergency access"} {
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("role list lacks %s: %q %v", want, out, err)
		}
	}
	call("PATCH", "/Users/"+u["id"].(string), map[string]any{"Operations": []any{map[string]any{"op": "add", "path": "roles", "value": []any{map[string]any{"value": "Break-glass"}}}}})
	if _, _, err := run(t, "role", "remove", "Break-glass", "--data", data); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, "role", "remove", "Break-glass", "--data", data); err == nil {
		t.Fatal("removing a missing role succeeded")
	}
	if _, _, err := run(t, "entitlement", "add", "license.full", "--type", "License", "--data", data); err != nil {
		t.Fatal(err)
	}
	out, _, err = run(t, "entitlement", "list", "--json", "--data", data)
	var es []pam.CatalogueEntry
	if err != nil || json.Unmarshal([]byte(out), &es) != nil || len(es) != 1 || es[0].Type != "License" {
		t.Fatalf("entitlement list --json: %q %v", out, err)
	}
	var ue usageError
	if _, _, err := run(t, "role", "add", "--data", data); !errors.As(err, &ue) {
		t.Fatalf("role add without a value: %v", err)
	}

	// keys rotate while the server runs; the server seals the next secret
	// under the new key.
	before, _ := os.ReadFile(keyFile)
	out, _, err = run(t, "keys", "rotate", "--data", data)
	if err != nil || !strings.Contains(out, "1 secret(s) re-encrypted") {
		t.Fatalf("keys rotate: %q %v", out, err)
	}
	after, _ := os.ReadFile(keyFile)
	if bytes.Equal(before, after) {
		t.Fatal("the key file did not change")
	}
	const secret2 = "cli-test-secret-after-rotation"
	it2 := call("POST", "/PrivilegedData", map[string]any{"name": "second", schema.CredentialURN: map[string]any{"secret": secret2}})
	ring, err := secretbox.ReadFile(keyFile)
	if err != nil || len(ring.Keys) != 1 {
		t.Fatalf("key file after rotation: %v", err)
	}
	stop()
	st, err := app.OpenStore(context.Background(), cfg, schema.Default())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	box, _, _ := secretbox.Open(keyFile, false)
	for id, want := range map[string]string{it["id"].(string): secret, it2["id"].(string): secret2} {
		sv, err := st.(store.PAMStore).SealedValue(context.Background(), store.DefaultTenant, id, pam.SecretAttr)
		if err != nil || sv == nil || sv.KeyID != ring.Keys[0].ID {
			t.Fatalf("sealed %s: %+v %v", id, sv, err)
		}
		if pt, err := box.Unseal(sv.KeyID, sv.Data, secretbox.AAD(store.DefaultTenant, id, pam.SecretAttr)); err != nil || string(pt) != want {
			t.Fatalf("open %s: %v", id, err)
		}
	}
	// Neither the server's log nor any file holds a secret in plain text.
	if strings.Contains(stderr.String(), secret) || strings.Contains(stderr.String(), secret2) {
		t.Fatal("the server log shows a secret")
	}
	files, _ := filepath.Glob(filepath.Join(data, "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte(secret)) || bytes.Contains(b, []byte(secret2)) {
			t.Fatalf("%s holds a secret in plain text", f)
		}
	}
}

// TestKeyFileMismatch: a store that seals under a key the given key file
// does not hold refuses to start rather than seal under a key nobody keeps.
func TestKeyFileMismatch(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if _, _, err := run(t, "role", "list", "--data", data); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other-keys")
	if _, _, err := secretbox.Open(other, true); err != nil {
		t.Fatal(err)
	}
	_, _, err := run(t, "role", "list", "--data", data, "--secret-key-file", other)
	if err == nil || !strings.Contains(err.Error(), "does not hold") {
		t.Fatalf("mismatched key file: %v", err)
	}
	if _, _, err := run(t, "role", "list", "--data", data, "--secret-key-file", filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("a missing --secret-key-file was generated instead of refused")
	}
}
