package api

import (
	"github.com/pamscim/pamscim/internal/filter"
	"github.com/pamscim/pamscim/internal/schema"
)

// bindFilter parses a filter and binds it to the resource type; errors are
// invalidFilter with the position of the problem.
func (s *Server) bindFilter(rt *schema.ResourceType, text string) (any, error) {
	e, err := filter.Parse(text)
	if err != nil {
		return nil, err
	}
	return filter.Bind(rt, e)
}
