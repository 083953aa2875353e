package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func runIn(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRoot(&out, &errb)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func TestAdminCommands(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if _, _, err := run(t, "tenant", "create", "acme", "--data", data); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, stdin string
		args        []string
		usage, fail bool
	}{
		{"all tenants", "correct horse battery\n", []string{"admin", "create", "alice", "--all-tenants"}, false, false},
		{"one tenant", "correct horse battery\n", []string{"admin", "create", "ann", "--tenant", "acme"}, false, false},
		{"taken name", "correct horse battery\n", []string{"admin", "create", "ann"}, false, true},
		{"unknown tenant", "correct horse battery\n", []string{"admin", "create", "bob", "--tenant", "nope"}, false, true},
		{"short password", "short\n", []string{"admin", "create", "bob"}, false, true},
		{"no password", "", []string{"admin", "create", "bob"}, true, true},
		{"bad name", "correct horse battery\n", []string{"admin", "create", "-x y"}, true, true},
		{"both flags", "correct horse battery\n", []string{"admin", "create", "bob", "--tenant", "acme", "--all-tenants"}, true, true},
		{"no name", "correct horse battery\n", []string{"admin", "create"}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runIn(t, tc.stdin, append(tc.args, "--data", data)...)
			if (err != nil) != tc.fail {
				t.Fatalf("err = %v, want failure %v", err, tc.fail)
			}
			var ue usageError
			if tc.usage != errors.As(err, &ue) && !(tc.fail && !tc.usage) {
				t.Fatalf("usage error = %v, want %v (%v)", errors.As(err, &ue), tc.usage, err)
			}
		})
	}
	out, err := runIn(t, "", "admin", "list", "--data", data)
	if err != nil || !strings.Contains(out, "alice  (all tenants)") || !strings.Contains(out, "ann") || strings.Contains(out, "argon2") {
		t.Fatalf("admin list: %q %v", out, err)
	}
	if _, err := runIn(t, "another long password\n", "admin", "set-password", "ann", "--data", data); err != nil {
		t.Fatal(err)
	}
	if _, err := runIn(t, "", "admin", "delete", "ann", "--data", data); err != nil {
		t.Fatal(err)
	}
	if _, err := runIn(t, "", "admin", "delete", "ann", "--data", data); err == nil {
		t.Fatal("deleted twice")
	}
	out, _ = run2(t, "audit", "--event", "admin.", "--data", data)
	for _, ev := range []string{"admin.created", "admin.password", "admin.deleted"} {
		if !strings.Contains(out, ev) {
			t.Errorf("audit lacks %s: %s", ev, out)
		}
	}
}

func run2(t *testing.T, args ...string) (string, error) {
	out, _, err := run(t, args...)
	return out, err
}
