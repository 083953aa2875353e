package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/pamscim/pamscim/internal/fulfill"
)

func fulfillCmd() *cobra.Command {
	var cf clientFlags
	var changes, format string
	var opt fulfill.Options
	var asJSON, noBulk bool
	cmd := &cobra.Command{
		Use:   "fulfill --url URL --changes FILE [--bulk-max N] [--dry-run]",
		Short: "Apply a file of changes (create/update/delete users, add/remove group members) to a SCIM server",
		Long: `Fulfill applies the changes of a CSV or JSON-lines file in order. It uses Bulk requests of at most
--bulk-max operations when the server advertises Bulk (never more than its bulk.maxOperations), single
requests otherwise; requests answered 429 or 5xx are retried with backoff, honouring Retry-After. A create
answered 409 looks the account up by userName and updates it instead. Each change's outcome is
reported; the exit status is 1 when any change failed.

CSV: a header with op (create, update, delete, add-member, remove-member), userName or id, groupName or
group, memberUserName or member, and attribute columns named as export names them (name:givenName,
emails:value, active, employeeNumber…); an empty cell leaves an attribute unchanged. JSON lines: one
object per line, e.g. {"op":"create","userName":"a","attributes":{"name:givenName":"A"}} or
{"op":"create","resource":{…a SCIM User…}}; a null attribute removes it.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if changes == "" {
				return usageError{fmt.Errorf("--changes FILE is required")}
			}
			if opt.BulkMax < 0 {
				return usageError{fmt.Errorf("--bulk-max must be 0 (the server's maximum) or more")}
			}
			if opt.Workers < 1 {
				return usageError{fmt.Errorf("--workers must be 1 or more")}
			}
			if noBulk {
				opt.BulkMax = -1
			}
			f := fulfill.Format(format)
			if f == "" {
				var err error
				if f, err = fulfill.DetectFormat(changes); err != nil {
					return usageError{err}
				}
			}
			if f != fulfill.CSV && f != fulfill.JSONLines {
				return usageError{fmt.Errorf("--format %q: want csv or jsonl", format)}
			}
			c, err := cf.connect(cmd)
			if err != nil {
				return err
			}
			var in io.Reader = os.Stdin
			if changes != "-" {
				fh, err := os.Open(changes)
				if err != nil {
					return err
				}
				defer fh.Close()
				in = fh
			}
			cs, err := fulfill.Parse(in, f)
			if err != nil {
				return fmt.Errorf("%s: %w", changes, err)
			}
			if isTerminal(os.Stderr) && !asJSON {
				n := 0
				errw := cmd.ErrOrStderr()
				opt.Progress = func(fulfill.Outcome) {
					if n++; n%100 == 0 || n == len(cs) {
						fmt.Fprintf(errw, "\r\033[K%d of %d changes", n, len(cs))
						if n == len(cs) {
							fmt.Fprintln(errw)
						}
					}
				}
			}
			rep, err := fulfill.Run(cmd.Context(), c, cs, opt)
			if rep != nil {
				if asJSON {
					_ = rep.WriteJSONLines(cmd.OutOrStdout())
				} else {
					_ = rep.WriteTable(cmd.OutOrStdout())
				}
			}
			if err != nil {
				return err
			}
			if rep.Failed > 0 {
				return fmt.Errorf("%d of %d changes failed", rep.Failed, len(rep.Outcomes))
			}
			return nil
		},
	}
	fs := cmd.Flags()
	cf.register(fs)
	fs.StringVar(&changes, "changes", "", "file of changes (.csv, or .jsonl/.ndjson/.json for JSON lines; - for stdin with --format)")
	fs.StringVar(&format, "format", "", "csv or jsonl (default: from the file name)")
	fs.IntVar(&opt.BulkMax, "bulk-max", 0, "most operations per Bulk request (seed 004's BulkMaxOperation); 0: the server's bulk.maxOperations")
	fs.BoolVar(&noBulk, "no-bulk", false, "never use Bulk, even when the server advertises it")
	fs.IntVar(&opt.Workers, "workers", 1, "single requests in flight at once when Bulk is not used; one user's changes keep their order")
	fs.BoolVar(&opt.DryRun, "dry-run", false, "check the changes and resolve names (reads only); send no write")
	fs.BoolVar(&asJSON, "json", false, "report as JSON lines (one per change, then a summary)")
	return cmd
}
