package main

import (
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/pamscim/pamscim/internal/verify"
)

func verifyCmd() *cobra.Command {
	var cf clientFlags
	var only []string
	var asJSON, list bool
	cmd := &cobra.Command{
		Use:   "verify --url URL [--json] [--only CHECK,...]",
		Short: "Check a SCIM server's conformance (discovery, CRUD, filters, paging, PATCH dialects, ETags, Bulk, errors)",
		Long: `Verify runs named checks against any SCIM 2.0 server, each citing the RFC section it holds the
server to, with the outcome PASS, FAIL or SKIP (a feature the server does not advertise). It creates
users and groups whose names start with pamscim-verify-<random>- and deletes them at the end. The
exit status is 1 when a check failed or something could not be cleaned up.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			if list {
				tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
				for _, ch := range verify.Checks() {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", ch.Name, ch.Section, ch.Title)
				}
				return tw.Flush()
			}
			c, err := cf.connect(cmd)
			if err != nil {
				return err
			}
			opt := verify.Options{Only: only}
			if !asJSON && isTerminal(os.Stderr) {
				errw := cmd.ErrOrStderr()
				opt.Progress = func(r verify.Result) { fmt.Fprintf(errw, "\r\033[K%s %s", r.Status, r.Name) }
			}
			rep, err := verify.Run(cmd.Context(), c, opt)
			if opt.Progress != nil {
				fmt.Fprint(cmd.ErrOrStderr(), "\r\033[K")
			}
			if err != nil && rep == nil {
				return usageError{err}
			}
			if asJSON {
				_ = rep.WriteJSON(out)
			} else {
				_ = rep.WriteTable(out)
			}
			if err != nil {
				return err
			}
			if !rep.OK() {
				return fmt.Errorf("%d of %d checks failed, %d resources left behind", rep.Fail, len(rep.Results), len(rep.Leftover))
			}
			return nil
		},
	}
	fs := cmd.Flags()
	cf.register(fs)
	fs.StringSliceVar(&only, "only", nil, "run only these checks or groups (e.g. patch.,filter.eq)")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&list, "list", false, "list the checks and exit")
	return cmd
}
