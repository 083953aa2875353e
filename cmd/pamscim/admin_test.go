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
	// An unknown tenant's error says how to make it.
	if _, err := runIn(t, "correct horse battery\n", "admin", "create", "bob", "--tenant", "nope", "--data", data); err == nil || !strings.Contains(err.Error(), "pamscim tenant create nope") {
		t.Fatalf("unknown tenant: %v", err)
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

// TestAdminSessionFlags: serve's console session lifetimes are checked
// before anything starts, from flags and from the environment alike.
func TestAdminSessionFlags(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"idle below a minute", []string{"--admin-session-idle", "30s"}, nil, "--admin-session-idle must be at least 1m0s"},
		{"idle above the lifetime", []string{"--admin-session-idle", "2h", "--admin-session-lifetime", "1h"}, nil, "must not exceed --admin-session-lifetime (1h0m0s)"},
		{"idle above the default lifetime", []string{"--admin-session-idle", "13h"}, nil, "must not exceed --admin-session-lifetime (12h0m0s)"},
		{"negative lifetime", []string{"--admin-session-lifetime", "-1h"}, nil, "must not be negative"},
		{"not a duration", []string{"--admin-session-idle", "soon"}, nil, `invalid argument "soon"`},
		{"environment", nil, map[string]string{"PAMSCIM_ADMIN_SESSION_IDLE": "3h", "PAMSCIM_ADMIN_SESSION_LIFETIME": "2h"}, "--admin-session-idle (3h0m0s) must not exceed --admin-session-lifetime (2h0m0s)"},
		{"environment, not a duration", nil, map[string]string{"PAMSCIM_ADMIN_SESSION_LIFETIME": "a day"}, `PAMSCIM_ADMIN_SESSION_LIFETIME: "a day" is not a valid duration`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, _, err := run(t, append([]string{"serve", "--data", data, "--listen", "127.0.0.1:0"}, tc.args...)...)
			var ue usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want a usage error with %q", err, tc.want)
			}
		})
	}
}
