// Package pgtest gives tests a PostgreSQL database of their own: a fresh
// schema on the server named by PAMSCIM_TEST_POSTGRES, selected through
// search_path in the connection URL, and dropped when the test ends, so that
// parallel packages and repeated runs never see each other's tables.
//
// Without PAMSCIM_TEST_POSTGRES the tests skip with a message saying how to
// run them; under CI=true a missing or unreachable server fails them
// instead, so that CI never passes by skipping. It depends only on the
// standard library and pgx so that any package's tests can import it.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// EnvVar names the server the PostgreSQL tests use.
const EnvVar = "PAMSCIM_TEST_POSTGRES"

// URL returns the base URL of the test server, skipping (or under CI=true
// failing) the test when there is none or it does not answer.
func URL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvVar)
	if u == "" {
		unavailable(tb, EnvVar+" is not set (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
		return ""
	}
	db, err := sql.Open("pgx", u)
	if err != nil {
		unavailable(tb, fmt.Sprintf("%s=%s: %v", EnvVar, u, err))
		return ""
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		unavailable(tb, fmt.Sprintf("PostgreSQL at %s does not answer: %v", u, err))
	}
	return u
}

func unavailable(tb testing.TB, why string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("PostgreSQL test cannot run under CI=true: %s", why)
	}
	tb.Skipf("skipping PostgreSQL test: %s", why)
}

// Schema creates a new, empty schema and returns a connection URL whose
// search_path selects it; the schema and everything in it are dropped when
// the test ends.
func Schema(tb testing.TB) string {
	tb.Helper()
	base := URL(tb)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "pamscim_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + name); err != nil {
		admin.Close()
		tb.Fatalf("create schema %s: %v", name, err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		// Connections of the store under test may still be closing.
		for i := 0; ; i++ {
			_, err := admin.Exec("DROP SCHEMA " + name + " CASCADE")
			if err == nil || i == 20 {
				if err != nil {
					tb.Errorf("drop schema %s: %v", name, err)
				}
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	return WithParam(tb, base, "search_path", name)
}

// WithParam returns u with the query parameter key set to value.
func WithParam(tb testing.TB, u, key, value string) string {
	tb.Helper()
	pu, err := url.Parse(u)
	if err != nil {
		tb.Fatalf("%s: %v", EnvVar, err)
	}
	q := pu.Query()
	q.Set(key, value)
	pu.RawQuery = q.Encode()
	return pu.String()
}

// Open opens a database/sql pool on a fresh schema (see Schema).
func Open(tb testing.TB) (*sql.DB, string) {
	tb.Helper()
	u := Schema(tb)
	return OpenURL(tb, u), u
}

// OpenURL opens a database/sql pool on u, which may carry pgxpool's
// pool_* parameters (a plain sql.Open("pgx", u) would send them to the
// server as settings, which it refuses); closed when the test ends.
func OpenURL(tb testing.TB, u string) *sql.DB {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(u)
	if err != nil {
		tb.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	db := stdlib.OpenDBFromPool(pool)
	tb.Cleanup(func() { db.Close(); pool.Close() })
	return db
}
