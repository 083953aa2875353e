package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

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
