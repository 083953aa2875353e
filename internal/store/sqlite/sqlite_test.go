package sqlite_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
	"github.com/pamscim/pamscim/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, reg *schema.Registry) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "data"), reg, sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// A data directory whose name holds URI delimiters opens the database in
// that directory, not in a truncated path beside it.
func TestDataDirWithURIDelimiters(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"a#b", "a?b", "a%20b", "a%b"} {
		t.Run(name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, name)
			s, err := sqlite.Open(ctx, dir, schema.Default(), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.CreateTenant(ctx, "marker", time.Now()); err != nil {
				t.Fatal(err)
			}
			s.Close()
			entries, _ := os.ReadDir(parent)
			if len(entries) != 1 || entries[0].Name() != name {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Fatalf("files beside the data directory: %v", names)
			}
			s, err = sqlite.Open(ctx, dir, schema.Default(), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if ok, err := s.TenantExists(ctx, "marker"); err != nil || !ok {
				t.Fatalf("reopened store lost the tenant: %v %v", ok, err)
			}
		})
	}
}
