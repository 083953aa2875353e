package schema

import "encoding/json"

// SchemaResource returns the /Schemas/{urn} representation of s. The
// attribute characteristics are the ones the engine enforces: they are read
// from the same structures that validate requests, so the two cannot disagree.
func (r *Registry) SchemaResource(s *Schema, baseURL string) map[string]any {
	return map[string]any{
		"schemas":     []string{SchemaURN},
		"id":          s.ID,
		"name":        s.Name,
		"description": s.Description,
		"attributes":  s.Attributes,
		"meta": map[string]any{
			"resourceType": "Schema",
			"location":     baseURL + "/Schemas/" + s.ID,
		},
	}
}

// ResourceTypeResource returns the /ResourceTypes/{name} representation of rt.
func (r *Registry) ResourceTypeResource(rt *ResourceType, baseURL string) map[string]any {
	out := map[string]any{
		"schemas":     []string{ResourceTypeURN},
		"id":          rt.ID,
		"name":        rt.Name,
		"endpoint":    rt.Endpoint,
		"description": rt.Description,
		"schema":      rt.Schema.ID,
		"meta": map[string]any{
			"resourceType": "ResourceType",
			"location":     baseURL + "/ResourceTypes/" + rt.ID,
		},
	}
	if len(rt.Extensions) > 0 {
		exts := make([]map[string]any, 0, len(rt.Extensions))
		for _, e := range rt.Extensions {
			exts = append(exts, map[string]any{"schema": e.Schema.ID, "required": e.Required})
		}
		out["schemaExtensions"] = exts
	}
	return out
}

// MarshalJSON writes an attribute with every characteristic, omitting
// referenceTypes for non-references and subAttributes for simple types.
func (a *Attribute) MarshalJSON() ([]byte, error) {
	type attr struct {
		Name            string       `json:"name"`
		Type            string       `json:"type"`
		MultiValued     bool         `json:"multiValued"`
		Description     string       `json:"description,omitempty"`
		Required        bool         `json:"required"`
		CaseExact       bool         `json:"caseExact"`
		Mutability      string       `json:"mutability"`
		Returned        string       `json:"returned"`
		Uniqueness      string       `json:"uniqueness"`
		CanonicalValues []string     `json:"canonicalValues,omitempty"`
		ReferenceTypes  []string     `json:"referenceTypes,omitempty"`
		SubAttributes   []*Attribute `json:"subAttributes,omitempty"`
	}
	out := attr{a.Name, a.Type, a.MultiValued, a.Description, a.Required, a.CaseExact, a.Mutability, a.Returned, a.Uniqueness, a.CanonicalValues, nil, nil}
	if a.Type == TypeReference {
		out.ReferenceTypes = a.ReferenceTypes
	}
	if a.Type == TypeComplex {
		out.SubAttributes = a.SubAttributes
	}
	return json.Marshal(out)
}
