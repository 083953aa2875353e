package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pamscim/pamscim/internal/export"
)

func exportCmd() *cobra.Command {
	var cf clientFlags
	var o export.Options
	var filter, since, paging string
	var asJSON, noProgress bool
	cmd := &cobra.Command{
		Use:   "export --url URL --connection NAME [--out DIR] [--filter SPEC] [--since TIME]",
		Short: "Export a SCIM server's resources to CSV files (<connection>_<entity>.csv, <connection>_members_<entity>.csv)",
		Long: `Export reads every resource of the server (cursor paging where it is advertised, index paging
otherwise) and writes seed 004's CSV layout into --out: <connection>_<entity>.csv with one column per
attribute ({attribute}:{sub-attribute} for complex ones), and one file per relation:
<connection>_members_Groups.csv (value, MemberId), <connection>_groups_Users.csv,
<connection>_privilegedData_Containers.csv. Files are replaced only when the whole export succeeded.

--filter takes seed 004's syntax: Users|?filter=active eq "true"*Groups|?filter=displayName sw "A"
(the "?filter=" may be left out). --since exports only the Users modified since a time
(meta.lastModified); the summary prints the --since for the next run.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.connect(cmd)
			if err != nil {
				return err
			}
			if err := export.ValidConnection(o.Connection); err != nil {
				return usageError{fmt.Errorf("--connection: %w", err)}
			}
			if o.Queries, err = export.ParseFilters(filter); err != nil {
				return usageError{fmt.Errorf("--filter: %w", err)}
			}
			if o.Paging, err = parsePaging(paging); err != nil {
				return usageError{err}
			}
			if since != "" {
				if o.Since, err = parseSince(since); err != nil {
					return usageError{err}
				}
			}
			if !noProgress && isTerminal(os.Stderr) {
				o.Progress = cmd.ErrOrStderr()
			}
			sum, err := export.Run(cmd.Context(), c, o)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(sum)
			}
			tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "FILE\tROWS\tCOLUMNS")
			for _, f := range sum.Files {
				fmt.Fprintf(tw, "%s\t%d\t%d\n", f.Name, f.Rows, f.Columns)
			}
			tw.Flush()
			var parts []string
			for _, e := range sum.Entities {
				mode := ""
				if e.Incremental {
					mode = ", incremental"
				}
				parts = append(parts, fmt.Sprintf("%s %d (%d pages, %s paging%s)", e.Entity, e.Resources, e.Pages, e.Paging, mode))
			}
			fmt.Fprintf(out, "exported %s into %s in %s\n", strings.Join(parts, ", "), o.OutDir, sum.Duration.Round(time.Millisecond))
			for _, e := range sum.Entities {
				if e.TotalResults != e.Resources {
					fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s: the server announced %d resources (totalResults) and returned %d — resources changed during the export, or its paging is faulty (try pamscim verify --only paging.)\n", e.Entity, e.TotalResults, e.Resources)
				}
			}
			if !sum.NextSince.IsZero() {
				fmt.Fprintf(out, "next incremental run: --since %s\n", sum.NextSince.Format(time.RFC3339))
			}
			return nil
		},
	}
	fs := cmd.Flags()
	cf.register(fs)
	fs.StringVar(&o.OutDir, "out", ".", "directory for the CSV files (created if missing)")
	fs.StringVar(&o.Connection, "connection", "SCIMExport", "connection name that prefixes every file (no < > : / \\ | ? * _, not starting with a digit)")
	fs.IntVar(&o.PageSize, "page-size", 200, "resources per page (count)")
	fs.StringVar(&filter, "filter", "", `per-entity filters: Users|?filter=active eq "true"*Groups|?filter=…`)
	fs.StringSliceVar(&o.Entities, "entities", nil, "endpoints to export, e.g. Users,Groups (default: every resource type the server advertises)")
	fs.StringVar(&since, "since", "", "incremental: only Users modified since this time (RFC 3339, or YYYY-MM-DD)")
	fs.StringVar(&paging, "paging", "auto", "auto (cursor when advertised), index or cursor")
	fs.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	fs.BoolVar(&noProgress, "no-progress", false, "no progress display even on a terminal")
	return cmd
}

func parseSince(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: want an RFC 3339 time (2026-11-23T10:00:00Z) or a date (2026-11-23)", s)
}
