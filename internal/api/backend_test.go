package api_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/postgres"
	"github.com/pamscim/pamscim/internal/store/postgres/pgtest"
	"github.com/pamscim/pamscim/internal/store/sqlite"
)

// backendEnv selects the store of the end-to-end tests: "sqlite" (the
// default) or "postgres".
const backendEnv = "PAMSCIM_TEST_BACKEND"

// TestMain runs the package's tests on SQLite, then once more on
// PostgreSQL in a child process of the same test binary with the same
// flags: skipped with a message when PAMSCIM_TEST_POSTGRES is not set, a
// failure under CI=true (pgtest).
func TestMain(m *testing.M) {
	code := m.Run()
	if os.Getenv(backendEnv) != "" {
		os.Exit(code)
	}
	if os.Getenv(pgtest.EnvVar) == "" && os.Getenv("CI") != "true" {
		fmt.Printf("api: the end-to-end tests ran on SQLite only; set %s to run them on PostgreSQL too\n", pgtest.EnvVar)
		os.Exit(code)
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "api: cannot rerun on PostgreSQL:", err)
		os.Exit(1)
	}
	fmt.Printf("api: the same tests on PostgreSQL (%s=postgres)\n", backendEnv)
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), backendEnv+"=postgres")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "api: on PostgreSQL:", err)
		code = 1
	}
	os.Exit(code)
}

// openTestStore opens an empty store of the selected backend, closed
// (and for PostgreSQL its schema dropped) when the test ends.
func openTestStore(t *testing.T, reg *schema.Registry) store.Store {
	t.Helper()
	var st store.Store
	var err error
	switch b := os.Getenv(backendEnv); b {
	case "", "sqlite":
		st, err = sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "data"), reg, sqlite.Options{})
	case "postgres":
		st, err = postgres.Open(context.Background(), pgtest.Schema(t), reg)
	default:
		t.Fatalf("%s=%q: say sqlite or postgres", backendEnv, b)
	}
	if err != nil {
		t.Fatal(err)
	}
	return st
}
