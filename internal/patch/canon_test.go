package patch

import (
	"fmt"

	"github.com/pamscim/pamscim/internal/schema"
)

// checkCanonical verifies the properties every successful Apply result must
// have: required attributes present, and every attribute, re-normalised,
// equal to itself (canonical names, no empty values, no duplicates, at most
// one primary).
func checkCanonical(rt *schema.ResourceType, doc schema.Doc) error {
	rel := map[*schema.Attribute][]any{}
	for a := range rt.Relations {
		rel[a] = nil
	}
	if err := rt.CheckRequired(doc, rel); err != nil {
		return err
	}
	check := func(s *schema.Schema, m map[string]any) error {
		for k, v := range m {
			a := s.Attr(k)
			if a == nil && s == rt.Schema {
				a = commonAttr(rt, k)
			}
			if a == nil || a.Name != k {
				return fmt.Errorf("key %q is not a canonical attribute name of %s", k, s.ID)
			}
			if rt.RelationOf(a) != schema.RelNone {
				return fmt.Errorf("relational attribute %s in the document", k)
			}
			nv, err := schema.NormalizeValue(a, v)
			if err != nil {
				return fmt.Errorf("%s does not re-normalise: %v", k, err)
			}
			if !schema.Equal(nv, v) {
				return fmt.Errorf("%s re-normalises to %s, not %s", k, toJSON(nv), toJSON(v))
			}
		}
		return nil
	}
	core := map[string]any{}
	for k, v := range doc {
		if e := rt.Extension(k); e != nil {
			m, ok := v.(map[string]any)
			if !ok || len(m) == 0 || k != e.Schema.ID {
				return fmt.Errorf("extension %q is not a non-empty object under its canonical URN", k)
			}
			if err := check(e.Schema, m); err != nil {
				return err
			}
			continue
		}
		core[k] = v
	}
	return check(rt.Schema, core)
}

func commonAttr(rt *schema.ResourceType, name string) *schema.Attribute {
	p, err := rt.ResolvePath(name)
	if err != nil || p.Schema != nil || p.Attr.Mutability == schema.ReadOnly || p.Attr.Name == "schemas" {
		return nil
	}
	return p.Attr
}
