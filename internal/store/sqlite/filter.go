package sqlite

import (
	"fmt"

	"github.com/pamscim/pamscim/internal/filter"
	"github.com/pamscim/pamscim/internal/schema"
)

// registerFunctions registers scim_fold and scim_time, which the filter
// compiler's SQLite dialect uses so that SQL folds case and compares
// dateTimes exactly as the in-memory evaluator does.
func registerFunctions() { filter.RegisterSQLiteFunctions() }

func compileFilter(expr any, first int) (string, []any, error) {
	e, ok := expr.(filter.Expr)
	if !ok {
		return "", nil, fmt.Errorf("filter of type %T is not a filter.Expr", expr)
	}
	return filter.Compile(e, filter.SQLite, first)
}

func orderBy(rt *schema.ResourceType, p *schema.Path) (string, error) {
	return filter.OrderBy(rt, p, false, filter.SQLite)
}
