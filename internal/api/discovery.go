package api

import (
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
)

// spConfig is the ServiceProviderConfig (RFC 7643 §5). Every flag tells what
// the server does; the tests check each claim against behaviour.
func (s *Server) spConfig(base string) map[string]any {
	return map[string]any{
		"schemas":              []string{schema.SPConfigURN},
		"documentationUri":     "https://github.com/pamscim/pamscim#readme",
		"patch":                map[string]any{"supported": true},
		"bulk":                 s.bulkConfig(),
		"filter":               map[string]any{"supported": true, "maxResults": s.cfg.MaxCount},
		"changePassword":       map[string]any{"supported": false},
		"sort":                 map[string]any{"supported": true},
		"etag":                 map[string]any{"supported": true},
		"RolesAndEntitlements": rolesAndEntitlements(),
		"pagination": map[string]any{
			"cursor": true, "index": true, "defaultPaginationMethod": "index",
			"defaultPageSize": s.cfg.DefaultCount, "maxPageSize": s.cfg.MaxCount,
			"cursorTimeout": int(cursorTimeout.Seconds()),
		},
		"authenticationSchemes": []map[string]any{{
			"type":        "oauthbearertoken",
			"name":        "OAuth Bearer Token",
			"description": "A bearer token in the Authorization header: a named SCIM token (pamscim token create) or an OAuth 2.0 access token from /scim/oauth/token (client_credentials, password, refresh_token; metadata at /.well-known/oauth-authorization-server).",
			"specUri":     "https://www.rfc-editor.org/rfc/rfc6750",
			"primary":     true,
		}},
		"meta": map[string]any{"resourceType": "ServiceProviderConfig", "location": base + "/ServiceProviderConfig"},
	}
}

func writeAny(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

// Discovery endpoints refuse filters (RFC 7644 §4: 403).
func noFilter(r *http.Request) error {
	if r.URL.Query().Has("filter") {
		return scimerr.New(scimerr.Forbidden, "discovery endpoints do not support filtering")
	}
	return nil
}

func (s *Server) handleSPConfig(w http.ResponseWriter, r *http.Request) error {
	if err := noFilter(r); err != nil {
		return err
	}
	return writeAny(w, s.spConfig(s.baseURL(r)))
}

func listOf(items []any) map[string]any {
	return map[string]any{
		"schemas":      []string{schema.ListResponseURN},
		"totalResults": len(items),
		"itemsPerPage": len(items),
		"startIndex":   1,
		"Resources":    items,
	}
}

func (s *Server) handleResourceTypes(w http.ResponseWriter, r *http.Request) error {
	if err := noFilter(r); err != nil {
		return err
	}
	var items []any
	for _, rt := range s.reg.ResourceTypes() {
		items = append(items, s.reg.ResourceTypeResource(rt, s.baseURL(r)))
	}
	return writeAny(w, listOf(items))
}

func (s *Server) handleResourceType(w http.ResponseWriter, r *http.Request) error {
	rt := s.reg.ResourceType(r.PathValue("id"))
	if rt == nil {
		return scimerr.New(scimerr.NotFound, "no resource type %q", r.PathValue("id"))
	}
	return writeAny(w, s.reg.ResourceTypeResource(rt, s.baseURL(r)))
}

func (s *Server) handleSchemas(w http.ResponseWriter, r *http.Request) error {
	if err := noFilter(r); err != nil {
		return err
	}
	var items []any
	for _, sc := range s.reg.Schemas() {
		items = append(items, s.reg.SchemaResource(sc, s.baseURL(r)))
	}
	return writeAny(w, listOf(items))
}

func (s *Server) handleSchema(w http.ResponseWriter, r *http.Request) error {
	id, _ := url.PathUnescape(r.PathValue("id"))
	sc := s.reg.Schema(id)
	if sc == nil {
		return scimerr.New(scimerr.NotFound, "no schema %q", id)
	}
	return writeAny(w, s.reg.SchemaResource(sc, s.baseURL(r)))
}
