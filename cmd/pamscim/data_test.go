package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pamscim/pamscim/internal/store/postgres/pgtest"
)

// TestCopyAndBackupCommands moves a store SQLite → PostgreSQL → SQLite
// and backs it up; the token made at the start works on every copy, and
// the secret key file goes along where a data directory can hold it.
func TestCopyAndBackupCommands(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if _, _, err := run(t, "token", "create", "--name", "keep", "--data", src); err != nil {
		t.Fatal(err)
	}
	pg := pgtest.Schema(t)

	out, _, err := run(t, "migrate", "--database-url", pg)
	if err != nil || !strings.Contains(out, "applied 0001_init.sql") {
		t.Fatalf("migrate: %q %v", out, err)
	}
	out, _, err = run(t, "migrate", "--database-url", pg)
	if err != nil || strings.Contains(out, "applied 0") || !strings.Contains(out, "0 applied now") {
		t.Fatalf("second migrate: %q %v", out, err)
	}

	out, _, err = run(t, "copy", "--from", src, "--to", pg)
	if err != nil || !strings.Contains(out, "tokens") || !strings.Contains(out, "--secret-key-file") {
		t.Fatalf("copy to PostgreSQL: %q %v", out, err)
	}
	keys := filepath.Join(src, "secret-keys")
	out, _, err = run(t, "token", "list", "--database-url", pg, "--secret-key-file", keys)
	if err != nil || !strings.Contains(out, "keep") {
		t.Fatalf("token list on PostgreSQL: %q %v", out, err)
	}
	if _, _, err := run(t, "copy", "--from", src, "--to", pg); err == nil {
		t.Fatal("a second copy into a store in use succeeded")
	}

	back := filepath.Join(dir, "back")
	if _, _, err := run(t, "copy", "--from", pg, "--to", back); err != nil {
		t.Fatal(err)
	}
	out, _, err = run(t, "token", "list", "--data", back, "--secret-key-file", keys)
	if err != nil || !strings.Contains(out, "keep") {
		t.Fatalf("token list on the SQLite copy: %q %v", out, err)
	}

	// SQLite to SQLite: the key file goes along.
	lite := filepath.Join(dir, "lite")
	if out, _, err := run(t, "copy", "--from", src, "--to", lite); err != nil || !strings.Contains(out, "copied the secret key file") {
		t.Fatalf("copy to SQLite: %q %v", out, err)
	}
	a, _ := os.ReadFile(keys)
	b, _ := os.ReadFile(filepath.Join(lite, "secret-keys"))
	if len(a) == 0 || string(a) != string(b) {
		t.Fatal("the secret key file was not copied")
	}

	bk := filepath.Join(dir, "backup")
	if out, _, err := run(t, "backup", "--data", src, "--to", bk); err != nil || !strings.Contains(out, "pamscim.db") {
		t.Fatalf("backup: %q %v", out, err)
	}
	out, _, err = run(t, "token", "list", "--data", bk, "--secret-key-file", keys)
	if err != nil || !strings.Contains(out, "keep") {
		t.Fatalf("token list on the backup: %q %v", out, err)
	}
	if _, _, err := run(t, "backup", "--database-url", pg, "--to", filepath.Join(dir, "b2")); err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("backup of PostgreSQL: %v", err)
	}
	for _, args := range [][]string{
		{"copy", "--from", src},
		{"copy", "--from", src, "--to", src},
		{"copy", "--from", filepath.Join(dir, "nothing"), "--to", filepath.Join(dir, "x")},
		{"copy", "--from", "mysql://x", "--to", filepath.Join(dir, "y")},
		{"backup", "--data", src},
	} {
		if _, _, err := run(t, args...); err == nil {
			t.Errorf("pamscim %v: no error", args)
		}
	}
}
