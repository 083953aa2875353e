package main

import (
	"errors"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pamscim/pamscim/internal/app"
	"github.com/pamscim/pamscim/internal/metrics"
	"github.com/pamscim/pamscim/internal/provlog"
	"github.com/pamscim/pamscim/internal/store"
)

// observeFlags are serve's provisioning log and metrics flags.
func observeFlags(fs *pflag.FlagSet, c *app.Config) {
	fs.StringVar(&c.ProvLog, "log", "on", "provisioning log of every SCIM request, bodies redacted: on or off (env PAMSCIM_LOG)")
	fs.DurationVar(&c.LogRetention, "log-retention", provlog.DefaultRetention, "how long provisioning log entries are kept (env PAMSCIM_LOG_RETENTION)")
	fs.IntVar(&c.LogMaxEntries, "log-max-entries", provlog.DefaultMaxEntries, "most provisioning log entries kept per tenant; older ones are pruned (env PAMSCIM_LOG_MAX_ENTRIES)")
	fs.Int64Var(&c.LogMaxBytes, "log-max-bytes", provlog.DefaultMaxBytes, "most bytes of provisioning log kept per tenant, as stored (compressed); older entries are pruned (env PAMSCIM_LOG_MAX_BYTES)")
	fs.StringVar(&c.MetricsListen, "metrics-listen", "", "serve /metrics on this address (e.g. 127.0.0.1:9090) instead of the main listener (env PAMSCIM_METRICS_LISTEN)")
	c.Build = metrics.Build{Version: version, Commit: commit, Date: date}
}

func logCmd() *cobra.Command {
	c := &app.Config{}
	var (
		q            store.LogQuery
		since, until string
		asJSON       bool
	)
	cmd := &cobra.Command{
		Use:   "log [--status S] [--since T] [--limit N] [--json] [--tenant T] [--path P] [--client C] [--resource-id ID]",
		Short: "Show the provisioning log: SCIM requests and responses, secrets redacted",
		Long: `Show the provisioning log: the newest --limit SCIM requests that match,
printed oldest first, one line each; --json prints one JSON object a line
with the request and response bodies (secrets redacted when they were
recorded).

--status takes a code (409), a class (4xx, 5xx) or "error" (400 and
above). --since and --until take a duration back from now (1h, 30m) or an
RFC 3339 time. --path matches a substring of the path, ignoring ASCII case.
It reads the store a running server writes to; entries reach it within a
fraction of a second of the answer.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			now := time.Now()
			var err error
			if q.Since, err = parseWhen("--since", since, now); err != nil {
				return usageError{err}
			}
			if q.Until, err = parseWhen("--until", until, now); err != nil {
				return usageError{err}
			}
			if q.Limit <= 0 || q.Limit > store.MaxLogLimit {
				return usageError{errors.New("--limit must be between 1 and 1000")}
			}
			if _, _, err := store.StatusRange(q.Status); err != nil {
				return usageError{err}
			}
			if q.Tenant == "*" {
				q.Tenant, q.AllTenants = "", true
			}
			return withStore(cmd, c, func(st store.Store) error {
				es, err := st.QueryLog(cmd.Context(), q)
				if err != nil {
					return err
				}
				return provlog.Print(cmd.OutOrStdout(), es, asJSON)
			})
		},
	}
	storeFlags(cmd.Flags(), c)
	f := cmd.Flags()
	f.StringVar(&q.Tenant, "tenant", store.DefaultTenant, `tenant whose log to show ("*": every tenant)`)
	f.StringVar(&q.Status, "status", "", "status: a code (409), a class (4xx) or error (>= 400)")
	f.StringVar(&since, "since", "", "entries at or after: a duration back from now (1h) or an RFC 3339 time")
	f.StringVar(&until, "until", "", "entries before: a duration back from now or an RFC 3339 time")
	f.IntVar(&q.Limit, "limit", 50, "most entries shown (the newest), at most 1000")
	f.StringVar(&q.Path, "path", "", "path substring, e.g. /Groups")
	f.StringVar(&q.Client, "client", "", "token name or OAuth client (oauth:NAME)")
	f.StringVar(&q.ResourceID, "resource-id", "", "resource id (from the path or the Location of a create)")
	f.Int64Var(&q.BeforeID, "before-id", 0, "only entries older than this entry id (paging back)")
	f.BoolVar(&asJSON, "json", false, "print JSON lines with the request and response bodies")
	return cmd
}
