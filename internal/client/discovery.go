package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Supported is a {"supported": bool} feature object of the
// ServiceProviderConfig.
type Supported struct {
	Supported bool `json:"supported"`
}

// ServiceProviderConfig is RFC 7643 §5, with the pagination object of
// RFC 9865 §4.
type ServiceProviderConfig struct {
	Schemas []string  `json:"schemas"`
	Patch   Supported `json:"patch"`
	Bulk    struct {
		Supported      bool `json:"supported"`
		MaxOperations  int  `json:"maxOperations"`
		MaxPayloadSize int  `json:"maxPayloadSize"`
	} `json:"bulk"`
	Filter struct {
		Supported  bool `json:"supported"`
		MaxResults int  `json:"maxResults"`
	} `json:"filter"`
	ChangePassword Supported `json:"changePassword"`
	Sort           Supported `json:"sort"`
	ETag           Supported `json:"etag"`
	Pagination     *struct {
		Cursor                  bool   `json:"cursor"`
		Index                   bool   `json:"index"`
		DefaultPaginationMethod string `json:"defaultPaginationMethod"`
		DefaultPageSize         int    `json:"defaultPageSize"`
		MaxPageSize             int    `json:"maxPageSize"`
		CursorTimeout           int    `json:"cursorTimeout"`
	} `json:"pagination"`
	AuthenticationSchemes []struct {
		Type    string `json:"type"`
		Name    string `json:"name"`
		Primary bool   `json:"primary"`
	} `json:"authenticationSchemes"`
}

// CursorPaging reports whether the server advertises cursor paging.
func (s *ServiceProviderConfig) CursorPaging() bool {
	return s != nil && s.Pagination != nil && s.Pagination.Cursor
}

// IndexPaging reports whether index paging may be used: RFC 7644 servers
// support it unless RFC 9865's pagination object says otherwise.
func (s *ServiceProviderConfig) IndexPaging() bool {
	return s == nil || s.Pagination == nil || s.Pagination.Index
}

// ResourceType is RFC 7643 §6.
type ResourceType struct {
	ID               string `json:"id"`
	Name             string `json:"name"`
	Endpoint         string `json:"endpoint"`
	Description      string `json:"description"`
	Schema           string `json:"schema"`
	SchemaExtensions []struct {
		Schema   string `json:"schema"`
		Required bool   `json:"required"`
	} `json:"schemaExtensions"`
}

// EndpointName is the endpoint without its slash ("Users"), the entity name
// in export file names.
func (rt ResourceType) EndpointName() string {
	return strings.Trim(rt.Endpoint, "/")
}

// Schema is RFC 7643 §7.
type Schema struct {
	ID          string      `json:"id"`
	Name        string      `json:"name"`
	Description string      `json:"description"`
	Attributes  []Attribute `json:"attributes"`
}

// Attribute is one attribute definition (RFC 7643 §7).
type Attribute struct {
	Name            string      `json:"name"`
	Type            string      `json:"type"`
	MultiValued     bool        `json:"multiValued"`
	Required        bool        `json:"required"`
	CaseExact       bool        `json:"caseExact"`
	Mutability      string      `json:"mutability"`
	Returned        string      `json:"returned"`
	Uniqueness      string      `json:"uniqueness"`
	SubAttributes   []Attribute `json:"subAttributes"`
	ReferenceTypes  []string    `json:"referenceTypes"`
	CanonicalValues []string    `json:"canonicalValues"`
}

// Sub returns the sub-attribute named n (case-insensitive), or nil.
func (a *Attribute) Sub(n string) *Attribute {
	for i := range a.SubAttributes {
		if strings.EqualFold(a.SubAttributes[i].Name, n) {
			return &a.SubAttributes[i]
		}
	}
	return nil
}

// Attr returns the attribute named n (case-insensitive), or nil.
func (s *Schema) Attr(n string) *Attribute {
	for i := range s.Attributes {
		if strings.EqualFold(s.Attributes[i].Name, n) {
			return &s.Attributes[i]
		}
	}
	return nil
}

func (c *Client) getJSON(ctx context.Context, path string, v any) error {
	res, err := c.Do(ctx, Request{Method: http.MethodGet, Path: path})
	if err != nil {
		return err
	}
	if err := json.Unmarshal(res.Body, v); err != nil {
		return fmt.Errorf("GET %s: the answer is not the expected JSON: %w", path, err)
	}
	return nil
}

// ServiceProviderConfig fetches /ServiceProviderConfig (cached after the
// first success; Refresh clears the cache).
func (c *Client) ServiceProviderConfig(ctx context.Context) (*ServiceProviderConfig, error) {
	c.mu.Lock()
	sp := c.spConfig
	c.mu.Unlock()
	if sp != nil {
		return sp, nil
	}
	sp = &ServiceProviderConfig{}
	if err := c.getJSON(ctx, "/ServiceProviderConfig", sp); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.spConfig = sp
	c.mu.Unlock()
	return sp, nil
}

// Refresh forgets the cached ServiceProviderConfig.
func (c *Client) Refresh() {
	c.mu.Lock()
	c.spConfig = nil
	c.mu.Unlock()
}

type listOf[T any] struct {
	TotalResults int `json:"totalResults"`
	Resources    []T `json:"Resources"`
}

// ResourceTypes fetches /ResourceTypes. A server that answers with a bare
// array instead of a ListResponse is accepted.
func (c *Client) ResourceTypes(ctx context.Context) ([]ResourceType, error) {
	return getList[ResourceType](ctx, c, "/ResourceTypes")
}

// Schemas fetches /Schemas.
func (c *Client) Schemas(ctx context.Context) ([]Schema, error) {
	return getList[Schema](ctx, c, "/Schemas")
}

func getList[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	res, err := c.Do(ctx, Request{Method: http.MethodGet, Path: path})
	if err != nil {
		return nil, err
	}
	var l listOf[T]
	if err := json.Unmarshal(res.Body, &l); err == nil {
		return l.Resources, nil
	}
	var arr []T
	if err := json.Unmarshal(res.Body, &arr); err != nil {
		return nil, fmt.Errorf("GET %s: the answer is neither a ListResponse nor an array: %w", path, err)
	}
	return arr, nil
}

// Discovery is everything the discovery endpoints say, fetched once.
type Discovery struct {
	SP            *ServiceProviderConfig
	ResourceTypes []ResourceType
	Schemas       map[string]*Schema // by schema URN, lower-cased
}

// Discover reads the three discovery endpoints. Missing ResourceTypes or
// Schemas are not an error (many servers lack them); their fields stay empty.
func (c *Client) Discover(ctx context.Context) (*Discovery, error) {
	d := &Discovery{Schemas: map[string]*Schema{}}
	var err error
	if d.SP, err = c.ServiceProviderConfig(ctx); err != nil {
		// Without it, assume RFC 7644's baseline: index paging, no bulk.
		if StatusOf(err) == 0 {
			return nil, err
		}
		d.SP = &ServiceProviderConfig{}
	}
	if rts, err := c.ResourceTypes(ctx); err == nil {
		d.ResourceTypes = rts
	} else if StatusOf(err) == 0 {
		return nil, err
	}
	if ss, err := c.Schemas(ctx); err == nil {
		for i := range ss {
			d.Schemas[strings.ToLower(ss[i].ID)] = &ss[i]
		}
	} else if StatusOf(err) == 0 {
		return nil, err
	}
	return d, nil
}

// ResourceType returns the resource type whose name or endpoint is n.
func (d *Discovery) ResourceType(n string) *ResourceType {
	n = strings.Trim(n, "/")
	for i := range d.ResourceTypes {
		rt := &d.ResourceTypes[i]
		if strings.EqualFold(rt.Name, n) || strings.EqualFold(rt.EndpointName(), n) {
			return rt
		}
	}
	return nil
}

// Schema returns a schema by URN.
func (d *Discovery) Schema(urn string) *Schema { return d.Schemas[strings.ToLower(urn)] }

// ResolveBase accepts a base URL given as seed 004's connector takes it —
// the SCIM endpoints "excluding /v2": when /ServiceProviderConfig is not
// found at the base and the base does not already end in /v2, it tries
// base/v2 and keeps it if the server answers there. It reports whether the
// base changed. Call it before the client is shared between goroutines.
func (c *Client) ResolveBase(ctx context.Context) (bool, error) {
	_, err := c.ServiceProviderConfig(ctx)
	if err == nil || StatusOf(err) != http.StatusNotFound || strings.HasSuffix(strings.TrimRight(c.base.Path, "/"), "/v2") {
		return false, nil
	}
	alt := *c.base
	alt.Path = strings.TrimRight(alt.Path, "/") + "/v2"
	old := c.base
	c.base = &alt
	if _, err2 := c.ServiceProviderConfig(ctx); err2 != nil {
		c.base = old
		return false, nil
	}
	return true, nil
}
