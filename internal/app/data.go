package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/pamscim/pamscim/internal/pam"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store/postgres"
	"github.com/pamscim/pamscim/internal/store/sqlite"
	"github.com/pamscim/pamscim/internal/store/sqlstore"
	"github.com/pamscim/pamscim/internal/store/storecopy"
)

// OpenTables opens a store by location — a postgres:// URL or a SQLite
// data directory — and applies its migrations, without the PAM keys: copy,
// backup and migrate work on tables and never decrypt anything.
func OpenTables(ctx context.Context, location, synchronous string) (*sqlstore.DB, error) {
	if location == "" {
		return nil, errors.New("no store given: a postgres:// URL or a data directory")
	}
	if postgres.IsURL(location) {
		return postgres.Open(ctx, location, schema.Default())
	}
	if strings.Contains(location, "://") {
		return nil, fmt.Errorf("%q: a store is a postgres:// URL or a data directory", location)
	}
	return sqlite.Open(ctx, location, schema.Default(), sqlite.Options{Synchronous: strings.ToUpper(synchronous)})
}

// Location is the store the configuration names.
func (c *Config) Location() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return c.Data
}

// Migrate applies the pending migrations of the configured store and
// reports them on w, then the version the store is at.
func Migrate(ctx context.Context, c *Config, w io.Writer) error {
	before := map[string]bool{}
	if names, err := appliedMigrations(ctx, c); err == nil {
		for _, n := range names {
			before[n] = true
		}
	}
	st, err := OpenTables(ctx, c.Location(), c.Synchronous)
	if err != nil {
		return err
	}
	defer st.Close()
	ms, err := st.Migrations(ctx)
	if err != nil {
		return err
	}
	applied := 0
	for _, m := range ms {
		// Another instance may apply some at the same moment; they are
		// reported here as applied too.
		if !before[m.Name] {
			fmt.Fprintf(w, "applied %s\n", m.Name)
			applied++
		}
	}
	if len(ms) > 0 {
		fmt.Fprintf(w, "%s store at migration %s (%d migrations, %d applied now)\n", st.FlavorName(), ms[len(ms)-1].Name, len(ms), applied)
	}
	return nil
}

// appliedMigrations reads schema_migrations without migrating; an error
// when the store or the table does not exist yet.
func appliedMigrations(ctx context.Context, c *Config) ([]string, error) {
	var db *sql.DB
	var err error
	if c.DatabaseURL != "" {
		db, err = postgres.Connect(ctx, c.DatabaseURL)
	} else {
		path := filepath.Join(c.Data, sqlite.FileName)
		if _, err := os.Stat(path); err != nil {
			return nil, err
		}
		db, err = sql.Open("sqlite", "file:"+path+"?mode=ro")
	}
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT name FROM schema_migrations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Copy copies the whole store at from into the store at to (see
// storecopy.Copy), reporting the tables on w. When the source is a SQLite
// data directory with a generated secret key file, the file goes along to a
// SQLite destination that has none; for PostgreSQL, w says to give it to
// every instance.
func Copy(ctx context.Context, from, to, synchronous string, overwrite bool, w io.Writer) error {
	if filepath.Clean(from) == filepath.Clean(to) {
		return errors.New("--from and --to name the same store")
	}
	if !postgres.IsURL(from) {
		if _, err := os.Stat(filepath.Join(from, sqlite.FileName)); err != nil {
			return fmt.Errorf("--from %s: no SQLite store there (%s)", from, sqlite.FileName)
		}
	}
	src, err := OpenTables(ctx, from, synchronous)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	defer src.Close()
	dst, err := OpenTables(ctx, to, synchronous)
	if err != nil {
		return fmt.Errorf("--to: %w", err)
	}
	defer dst.Close()
	counts, err := storecopy.Copy(ctx, src, dst, storecopy.Options{Overwrite: overwrite})
	if err != nil {
		return err
	}
	total := 0
	for _, c := range counts {
		fmt.Fprintf(w, "%-28s %d rows\n", c.Table, c.Rows)
		total += c.Rows
	}
	fmt.Fprintf(w, "copied %d rows from %s to %s\n", total, redact(from), redact(to))
	if postgres.IsURL(from) {
		return nil
	}
	key := pam.KeyFile("", from)
	if _, err := os.Stat(key); err != nil {
		return nil
	}
	if !postgres.IsURL(to) {
		dkey := pam.KeyFile("", to)
		if _, err := os.Stat(dkey); errors.Is(err, os.ErrNotExist) {
			b, err := os.ReadFile(key)
			if err != nil {
				return err
			}
			if err := os.WriteFile(dkey, b, 0o600); err != nil {
				return err
			}
			fmt.Fprintf(w, "copied the secret key file to %s\n", dkey)
			return nil
		}
	}
	fmt.Fprintf(w, "privileged data secrets are still encrypted with %s: give every instance of the destination that file (--secret-key-file)\n", key)
	return nil
}

func redact(location string) string {
	if postgres.IsURL(location) {
		return postgres.Redact(location)
	}
	return location
}

// Backup writes an online, consistent copy of the configured SQLite store
// into the new data directory dir.
func Backup(ctx context.Context, c *Config, dir string, w io.Writer) error {
	if c.DatabaseURL != "" {
		return storecopy.ErrNotSQLite
	}
	st, err := OpenTables(ctx, c.Data, c.Synchronous)
	if err != nil {
		return err
	}
	defer st.Close()
	path, err := storecopy.Backup(ctx, st, dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "backup written to %s\n", path)
	if key := pam.KeyFile(c.SecretKeyFile, c.Data); fileExists(key) {
		fmt.Fprintf(w, "the backup does not contain the secret key file %s: keep a copy of it apart from the backup\n", key)
	}
	return nil
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
