package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// WriteTable writes the report as a terminal table: one line per check, the
// reason under each FAIL and SKIP, and a summary line.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tCHECK\tSECTION\tWHAT")
	for _, res := range r.Results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", res.Status, res.Name, res.Section, res.Title)
		if res.Detail != "" && res.Status != Pass {
			fmt.Fprintf(tw, "\t  ↳ %s\t\t\n", oneLine(res.Detail, 240))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d checks against %s: %d passed, %d failed, %d skipped (not advertised)\n", len(r.Results), r.URL, r.Pass, r.Fail, r.Skip)
	if len(r.Leftover) > 0 {
		fmt.Fprintf(w, "cleanup could not delete %d resources created by this run (prefix %s):\n", len(r.Leftover), r.Prefix)
		for _, l := range r.Leftover {
			fmt.Fprintln(w, "  "+l)
		}
	}
	return nil
}

// WriteJSON writes the report as one JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
