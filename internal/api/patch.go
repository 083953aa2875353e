package api

import (
	"net/http"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
)

func (s *Server) handlePatch(w http.ResponseWriter, r *http.Request, rt *schema.ResourceType) error {
	return scimerr.New(scimerr.NotImplemented, "PATCH is not available yet")
}
