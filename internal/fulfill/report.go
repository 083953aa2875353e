package fulfill

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// WriteTable writes one line per change and a summary.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LINE\tOP\tTARGET\tRESULT\tSTATUS\tID\tDETAIL")
	for _, o := range r.Outcomes {
		res := "ok"
		if !o.OK {
			res = "FAILED"
		}
		st := ""
		if o.Status != 0 {
			st = strconv.Itoa(o.Status)
		}
		detail := o.Action
		if o.Error != "" {
			detail = o.Error
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", o.Line, o.Op, o.Target, res, st, o.ID, detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return r.WriteSummary(w)
}

// WriteSummary writes the closing line.
func (r *Report) WriteSummary(w io.Writer) error {
	mode := "single requests"
	if r.BulkRequests > 0 {
		mode = fmt.Sprintf("%d Bulk requests of at most %d operations", r.BulkRequests, r.BulkMax)
	}
	if r.DryRun {
		mode = "dry run, nothing sent"
	}
	_, err := fmt.Fprintf(w, "%d changes: %d ok, %d failed (%s) in %s\n", len(r.Outcomes), r.OK, r.Failed, mode, r.Duration.Round(1e6))
	return err
}

// WriteJSONLines writes one JSON object per change, then the summary object.
func (r *Report) WriteJSONLines(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, o := range r.Outcomes {
		if err := enc.Encode(o); err != nil {
			return err
		}
	}
	return enc.Encode(map[string]any{"summary": true, "changes": len(r.Outcomes), "ok": r.OK, "failed": r.Failed,
		"bulkRequests": r.BulkRequests, "bulkMax": r.BulkMax, "dryRun": r.DryRun, "seconds": r.Duration.Seconds()})
}
