package api

import (
	"net/http"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
)

// features says which optional SCIM features are wired in, so that
// ServiceProviderConfig cannot claim more than the server does.
type features struct {
	patch, filter, sort bool
}

func (s *Server) bindFilter(rt *schema.ResourceType, text string) (any, error) {
	return nil, scimerr.New(scimerr.InvalidFilter, "filtering is not available yet")
}

func (s *Server) handlePatch(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType) error {
	return scimerr.New(scimerr.NotImplemented, "PATCH is not available yet")
}
