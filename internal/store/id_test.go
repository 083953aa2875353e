package store

import (
	"testing"

	"github.com/google/uuid"
)

// TestNewIDOrdered: ids are UUIDv7, distinct, and sort (as strings, as the
// stores' indexes compare them) in the order they were made.
func TestNewIDOrdered(t *testing.T) {
	prev := ""
	seen := map[string]bool{}
	for i := range 10000 {
		id := NewID()
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 7 || u.Variant() != uuid.RFC4122 || id != u.String() {
			t.Fatalf("%s: not a canonical UUIDv7 (%v)", id, err)
		}
		if seen[id] {
			t.Fatalf("id %s made twice", id)
		}
		seen[id] = true
		if i > 0 && id <= prev {
			t.Fatalf("%s made after %s sorts before it", id, prev)
		}
		prev = id
	}
}
