package sqlite

import (
	"fmt"

	"github.com/pamscim/pamscim/internal/schema"
)

// registerFunctions registers the SQL functions the filter compiler uses.
func registerFunctions() {}

func compileFilter(expr any, first int) (string, []any, error) {
	return "", nil, fmt.Errorf("filters are not supported yet")
}

func orderBy(p *schema.Path) (string, error) {
	return "", fmt.Errorf("sorting is not supported yet")
}
