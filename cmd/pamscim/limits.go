package main

import (
	"github.com/spf13/pflag"

	"github.com/pamscim/pamscim/internal/api"
	"github.com/pamscim/pamscim/internal/app"
)

// limitFlags are serve's limits and back-pressure settings (api.Limits).
func limitFlags(fs *pflag.FlagSet, c *app.Config) {
	fs.IntVar(&c.MaxInFlight, "max-in-flight", app.DefaultMaxInFlight, "requests handled at once; more wait up to 1 s, then get 429 with Retry-After (0: no cap) (env PAMSCIM_MAX_IN_FLIGHT)")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", app.DefaultRequestTimeout, "bound on one request, body upload included: a late body gets 408, a late answer 503 (env PAMSCIM_REQUEST_TIMEOUT)")
	fs.DurationVar(&c.QueryTimeout, "query-timeout", api.DefaultQueryTimeout, "store time one list or search may take; a filter that needs longer gets 400 tooMany (env PAMSCIM_QUERY_TIMEOUT)")
	fs.IntVar(&c.IndexPagingLimit, "index-paging-limit", 0, "refuse index paging (startIndex) past this many results with 400 tooMany, pointing to cursor paging (0: no limit) (env PAMSCIM_INDEX_PAGING_LIMIT)")
	fs.DurationVar(&c.ReadHeaderTimeout, "read-header-timeout", app.DefaultReadHeaderTimeout, "time a client has to send its request headers (env PAMSCIM_READ_HEADER_TIMEOUT)")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", app.DefaultIdleTimeout, "how long an idle keep-alive connection stays open (env PAMSCIM_IDLE_TIMEOUT)")
}
