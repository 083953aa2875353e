package api

import (
	"context"
	"errors"
	"time"

	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// DefaultQueryTimeout bounds the store's work for one list or search.
const DefaultQueryTimeout = 10 * time.Second

// listStore runs one store query under the query budget. A filter that the
// indexes cannot answer is evaluated on every resource of the type; over a
// few million documents that costs seconds, and a client that sends one on
// every sync cycle (or a hostile one) would hold a database connection and
// a core for each. Past QueryTimeout the query is cancelled and the client
// gets 400 tooMany, RFC 7644's "more results than the server is willing to
// calculate or process", naming what to do instead. The request's own
// deadline (--request-timeout) keeps its 503: only the budget's expiry is
// the query's fault.
func (s *Server) listStore(ctx context.Context, q store.Query, filter string) (*store.Page, error) {
	qctx, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
	defer cancel()
	page, err := s.store.List(qctx, q)
	if err != nil && ctx.Err() == nil && errors.Is(qctx.Err(), context.DeadlineExceeded) {
		what := "listing " + q.Type.Name + " resources"
		if filter != "" {
			what = "the filter " + quoteDetail(filter)
		}
		return nil, scimerr.New(scimerr.TooMany,
			"%s took more than the server's query budget of %s and was stopped; filter on an indexed attribute (id, externalId, %s) or narrow the filter",
			what, s.cfg.QueryTimeout, indexedHint(q))
	}
	return page, err
}

// checkIndexWindow refuses index paging past IndexPagingLimit, for
// operators who want clients on cursors: a page that does not continue a
// walk this instance served (indexpage.go) costs an OFFSET over the rows
// before it. The limit is off by default because Netwrix and SailPoint walk
// whole directories by startIndex.
func (s *Server) checkIndexWindow(start, count int) error {
	lim := s.cfg.IndexPagingLimit
	if lim <= 0 || count == 0 || start+count-1 <= lim {
		return nil
	}
	return scimerr.New(scimerr.TooMany,
		"index paging is limited to the first %d results (startIndex %d, count %d asks past it); page with cursor (RFC 9865: add ?cursor to the first request) or narrow the filter",
		lim, start, count)
}

func indexedHint(q store.Query) string {
	switch q.Type.Name {
	case "User":
		return "userName, emails.value, active"
	case "Group":
		return "displayName, members.value"
	}
	return "displayName"
}

// quoteDetail quotes a client's text for an error detail, cut so that a huge
// filter does not make a huge error.
func quoteDetail(s string) string {
	const max = 200
	if len(s) > max {
		s = s[:max] + "…"
	}
	return `"` + s + `"`
}
