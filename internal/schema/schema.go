package schema

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
)

// Attribute types (RFC 7643 §2.3).
const (
	TypeString    = "string"
	TypeBoolean   = "boolean"
	TypeDecimal   = "decimal"
	TypeInteger   = "integer"
	TypeDateTime  = "dateTime"
	TypeReference = "reference"
	TypeBinary    = "binary"
	TypeComplex   = "complex"
)

// Mutability values (RFC 7643 §7).
const (
	ReadOnly  = "readOnly"
	ReadWrite = "readWrite"
	Immutable = "immutable"
	WriteOnly = "writeOnly"
)

// Returned values (RFC 7643 §7).
const (
	ReturnAlways  = "always"
	ReturnNever   = "never"
	ReturnDefault = "default"
	ReturnRequest = "request"
)

// Well-known schema URNs.
const (
	UserURN           = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupURN          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseUserURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	ListResponseURN   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	ErrorURN          = "urn:ietf:params:scim:api:messages:2.0:Error"
	PatchOpURN        = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SearchRequestURN  = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	BulkRequestURN    = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	BulkResponseURN   = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	SchemaURN         = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	ResourceTypeURN   = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SPConfigURN       = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
)

// Attribute is one attribute definition with every characteristic of RFC 7643 §7.
// Characteristics absent from a definition take the defaults of RFC 7643 §2.2.
type Attribute struct {
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

	// Parent is the complex attribute this one belongs to, nil at top level.
	Parent *Attribute `json:"-"`
	// Schema is the schema that defines this attribute (nil for common attributes).
	Schema *Schema `json:"-"`
	// Prepare, when set, is the form in which values of a caseExact=false
	// string attribute are compared and held unique, instead of lower case
	// (PrepareUserName for userName).
	Prepare func(string) string `json:"-"`
	sub     map[string]*Attribute
}

// Key is the form in which a value of the string attribute a is compared:
// the value itself when a is caseExact, else Prepare's form or lower case.
func (a *Attribute) Key(s string) string {
	switch {
	case a.CaseExact:
		return s
	case a.Prepare != nil:
		return a.Prepare(s)
	}
	return strings.ToLower(s)
}

// Sub returns the sub-attribute with the given name, matched case-insensitively.
func (a *Attribute) Sub(name string) *Attribute {
	return a.sub[strings.ToLower(name)]
}

// IsComplex reports whether the attribute has sub-attributes.
func (a *Attribute) IsComplex() bool { return a.Type == TypeComplex }

// Path returns the attribute's short path, e.g. "name.givenName".
func (a *Attribute) Path() string {
	if a.Parent != nil {
		return a.Parent.Name + "." + a.Name
	}
	return a.Name
}

// FullPath returns the attribute path qualified by its schema URN when it
// belongs to an extension, e.g. "urn:…:enterprise:2.0:User:manager.value".
func (a *Attribute) FullPath() string {
	top := a
	if a.Parent != nil {
		top = a.Parent
	}
	if top.Schema != nil && top.Schema.extension {
		return top.Schema.ID + ":" + a.Path()
	}
	return a.Path()
}

func (a *Attribute) setDefaults() {
	if a.Type == "" {
		a.Type = TypeString
	}
	if a.Mutability == "" {
		a.Mutability = ReadWrite
	}
	if a.Returned == "" {
		a.Returned = ReturnDefault
	}
	if a.Uniqueness == "" {
		a.Uniqueness = "none"
	}
	a.sub = make(map[string]*Attribute, len(a.SubAttributes))
	for _, s := range a.SubAttributes {
		s.Parent = a
		s.Schema = a.Schema
		s.setDefaults()
		a.sub[strings.ToLower(s.Name)] = s
	}
}

// Schema is a schema resource (RFC 7643 §7).
type Schema struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Attributes  []*Attribute `json:"attributes"`

	extension bool
	byName    map[string]*Attribute
}

// Attr returns the top-level attribute with the given name, case-insensitively.
func (s *Schema) Attr(name string) *Attribute { return s.byName[strings.ToLower(name)] }

// IsExtension reports whether the schema is used as a schema extension.
func (s *Schema) IsExtension() bool { return s.extension }

func (s *Schema) index() {
	s.byName = make(map[string]*Attribute, len(s.Attributes))
	for _, a := range s.Attributes {
		a.Schema = s
		a.setDefaults()
		s.byName[strings.ToLower(a.Name)] = a
	}
}

//go:embed defs/*.json
var defsFS embed.FS

// loadSchemas reads a JSON array of schema definitions from the embedded files.
func loadSchemas(file string) ([]*Schema, error) {
	b, err := defsFS.ReadFile("defs/" + file)
	if err != nil {
		return nil, err
	}
	var out []*Schema
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("schema %s: %w", file, err)
	}
	return out, nil
}

// commonAttributes are id, externalId and meta (RFC 7643 §3.1). They belong to
// every resource but to no schema, so /Schemas does not list them.
func commonAttributes() []*Attribute {
	str := func(name string, mut, ret string, caseExact bool) *Attribute {
		return &Attribute{Name: name, Type: TypeString, CaseExact: caseExact, Mutability: mut, Returned: ret, Uniqueness: "none"}
	}
	id := str("id", ReadOnly, ReturnAlways, true)
	id.Uniqueness = "server"
	ext := str("externalId", ReadWrite, ReturnDefault, true)
	meta := &Attribute{Name: "meta", Type: TypeComplex, Mutability: ReadOnly, Returned: ReturnDefault, SubAttributes: []*Attribute{
		str("resourceType", ReadOnly, ReturnDefault, true),
		{Name: "created", Type: TypeDateTime, Mutability: ReadOnly},
		{Name: "lastModified", Type: TypeDateTime, Mutability: ReadOnly},
		{Name: "location", Type: TypeReference, Mutability: ReadOnly, CaseExact: true, ReferenceTypes: []string{"uri"}},
		str("version", ReadOnly, ReturnDefault, true),
	}}
	schemas := &Attribute{Name: "schemas", Type: TypeReference, MultiValued: true, CaseExact: true, Mutability: ReadWrite, Returned: ReturnAlways, ReferenceTypes: []string{"uri"}}
	attrs := []*Attribute{id, ext, meta, schemas}
	for _, a := range attrs {
		a.setDefaults()
	}
	return attrs
}
