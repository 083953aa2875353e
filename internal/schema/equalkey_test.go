package schema

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestEqualKey: values Equal calls equal share a key, so that a long
// multi-valued list dropped repeats by bucket exactly as pairwise.
func TestEqualKey(t *testing.T) {
	pool := []any{
		nil, true, false, "", "a", "A", "1",
		json.Number("1"), json.Number("1.0"), json.Number("10e-1"), json.Number("0"), json.Number("-0"), json.Number("0.0"),
		json.Number("2"), json.Number("1e400"), json.Number("1E400"),
		[]any{}, []any{"a"}, []any{json.Number("1")}, []any{json.Number("1.0")}, []any{"a", "b"}, []any{"b", "a"},
		map[string]any{}, map[string]any{"value": "a"}, map[string]any{"value": "a", "type": "work"},
		map[string]any{"type": "work", "value": "a"}, map[string]any{"value": json.Number("1")}, map[string]any{"value": json.Number("1.00")},
		map[string]any{"value": "1"}, map[string]any{"a": map[string]any{"b": "c"}}, map[string]any{"a": map[string]any{"b": "d"}},
	}
	for _, a := range pool {
		for _, b := range pool {
			if Equal(a, b) && equalKey(a) != equalKey(b) {
				t.Errorf("Equal(%#v, %#v) but keys %q and %q", a, b, equalKey(a), equalKey(b))
			}
		}
	}
	// Through NormalizeValue: a long list keeps what pairwise kept.
	path, err := Default().ResourceType("User").ResolvePath("emails")
	if err != nil {
		t.Fatal(err)
	}
	attr := path.Attr
	var list, want []any
	for i := range 200 {
		v := map[string]any{"value": fmt.Sprintf("u%d@example.com", i%70), "type": []string{"work", "home"}[i%140/70]}
		list = append(list, v)
	}
	got, err := NormalizeValue(attr, list)
	if err != nil {
		t.Fatal(err)
	}
	for _, el := range list {
		nv, _ := NormalizeSingle(attr, el)
		if !containsEqual(want, nv) {
			want = append(want, nv)
		}
	}
	if gl, _ := got.([]any); len(gl) != 140 || !Equal(got, want) {
		t.Fatalf("kept %d values, want the 140 distinct ones in order", len(gl))
	}
}
