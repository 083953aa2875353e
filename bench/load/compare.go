package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// reportCmd reads the JSON of runs against several servers (the subject,
// its peers, the ceiling) and writes one markdown table with the ratios
// subject/peer and subject/ceiling per workload.
func reportCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	subject := fs.String("subject", "pamscim", "the server whose figures are compared (its --server name)")
	out := fs.String("out", "", "write the markdown here (default stdout)")
	title := fs.String("title", "", "a heading line for the markdown")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "load report: name the JSON files of the runs")
		return 2
	}
	var runs []*Run
	for _, p := range fs.Args() {
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintf(stderr, "load report: %v\n", err)
			return 1
		}
		var r Run
		if err := json.Unmarshal(b, &r); err != nil {
			fmt.Fprintf(stderr, "load report: %s: %v\n", p, err)
			return 1
		}
		runs = append(runs, &r)
	}
	md, err := Markdown(runs, *subject, *title)
	if err != nil {
		fmt.Fprintf(stderr, "load report: %v\n", err)
		return 1
	}
	if *out == "" {
		_, _ = io.WriteString(stdout, md)
		return 0
	}
	if err := os.WriteFile(*out, []byte(md), 0o644); err != nil {
		fmt.Fprintf(stderr, "load report: %v\n", err)
		return 1
	}
	return 0
}

func canned(r *Run) bool { c, _ := r.Options["canned"].(bool); return c }

// Markdown renders the comparison. The subject comes first, then its peers
// in the order given, then the ceiling (the run with canned answers).
func Markdown(runs []*Run, subject, title string) (string, error) {
	var subj, ceil *Run
	var peers []*Run
	for _, r := range runs {
		switch {
		case r.Server == subject:
			subj = r
		case canned(r):
			ceil = r
		default:
			peers = append(peers, r)
		}
	}
	if subj == nil {
		return "", fmt.Errorf("no run of %q among the files", subject)
	}
	var b strings.Builder
	if title != "" {
		fmt.Fprintf(&b, "%s\n\n", title)
	}
	m := subj.Machine
	fmt.Fprintf(&b, "Machine: %d CPUs (%s), %d MB memory, %s, %s.", m.CPUs, m.CPUModel, m.MemoryMB, m.OS, m.Go)
	// Versions and the command, from every run (the peer's run knows the
	// peer's versions); the first run to name a key wins.
	meta := map[string]string{}
	var keys []string
	for _, r := range runs {
		for k, v := range r.Meta {
			if _, ok := meta[k]; !ok {
				meta[k] = v
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != "command" {
			fmt.Fprintf(&b, " %s: %s.", k, meta[k])
		}
	}
	if c := meta["command"]; c != "" {
		fmt.Fprintf(&b, "\n\nCommand: `%s`", c)
	}
	b.WriteString("\n\n")
	all := append(append([]*Run{subj}, peers...), ceil)
	for _, r := range all {
		if r == nil {
			continue
		}
		fmt.Fprintf(&b, "- %s at %s: %s\n", r.Server, r.Started.Format("2006-01-02 15:04 UTC"), describeOptions(r))
	}
	b.WriteString("\n")
	// Header.
	b.WriteString("| workload |")
	sep := "| --- |"
	for _, r := range all {
		if r == nil {
			continue
		}
		what := "verified/s"
		if r == ceil {
			what = "answers/s"
		}
		fmt.Fprintf(&b, " %s %s | p50 / p95 / p99 ms |", r.Server, what)
		sep += " ---: | ---: |"
	}
	for _, p := range peers {
		fmt.Fprintf(&b, " %s/%s |", subject, p.Server)
		sep += " ---: |"
	}
	if ceil != nil {
		fmt.Fprintf(&b, " %s/ceiling |", subject)
		sep += " ---: |"
	}
	b.WriteString("\n" + sep + "\n")
	rows := rowKeys(all)
	if hasPrefix(rows, "W5/") {
		rows = append(rows, "W5/best")
		sort.SliceStable(rows, func(i, j int) bool { return rows[i][:2] < rows[j][:2] })
	}
	for _, key := range rows {
		fmt.Fprintf(&b, "| %s |", rowLabel(all, key))
		for _, r := range all {
			if r == nil {
				continue
			}
			row := find(r, key)
			fmt.Fprintf(&b, " %s | %s |", cell(row, r == ceil), latCell(row))
		}
		s := find(subj, key)
		for _, p := range peers {
			fmt.Fprintf(&b, " %s |", ratio(s, find(p, key), false))
		}
		if ceil != nil {
			fmt.Fprintf(&b, " %s |", ratio(s, find(ceil, key), true))
		}
		b.WriteString("\n")
	}
	b.WriteString("\nn = users in the store (W4: members in the group; W5: users exported). Ratios compare verified\n" +
		"work per second; against the ceiling, its answers per second.\n")
	// What went wrong, where.
	var notes, skips []string
	for _, r := range all {
		if r == nil {
			continue
		}
		for _, row := range r.Results {
			if row.Skipped != "" {
				skips = append(skips, fmt.Sprintf("- %s, %s: n/a, %s", r.Server, row.Name, row.Skipped))
			}
			if r == ceil || len(row.Errors) == 0 {
				continue
			}
			notes = append(notes, fmt.Sprintf("- %s, %s: %d failed, %d wrong; e.g. %s", r.Server, row.Name, row.Failed, row.Wrong, row.Errors[0]))
		}
	}
	if len(skips) > 0 {
		b.WriteString("\n" + strings.Join(skips, "\n") + "\n")
	}
	if len(notes) > 0 {
		b.WriteString("\nErrors and wrong answers (counted apart, never as throughput):\n\n" + strings.Join(notes, "\n") + "\n")
	}
	return b.String(), nil
}

func describeOptions(r *Run) string {
	o := r.Options
	if canned(r) {
		return fmt.Sprintf("canned answers, concurrency %v, %v per timed workload", o["concurrency"], o["duration"])
	}
	seeded := "seeded over HTTP (Bulk where offered)"
	if s, _ := o["seeded"].(bool); s {
		seeded = "seeded directly into its store"
	}
	return fmt.Sprintf("%s users %s, concurrency %v, W1 %s creates, %v per timed workload, W4 %v add/remove pairs per group, page size %v, workloads in the order %v",
		num(o["users"]), seeded, o["concurrency"], num(o["w1_users"]), o["duration"], o["w4_ops"], o["page_size"], o["workloads"])
}

// num writes a JSON number (a float64 once decoded) with thousands separators.
func num(v any) string {
	if f, ok := v.(float64); ok {
		return group(f)
	}
	return fmt.Sprint(v)
}

// rowKeys lists the rows in workload order, as the runs had them.
func rowKeys(runs []*Run) []string {
	var keys []string
	seen := map[string]bool{}
	for _, r := range runs {
		if r == nil {
			continue
		}
		for _, row := range r.Results {
			if !seen[row.Key] {
				seen[row.Key] = true
				keys = append(keys, row.Key)
			}
		}
	}
	sort.SliceStable(keys, func(i, j int) bool {
		if keys[i][:2] != keys[j][:2] {
			return keys[i][:2] < keys[j][:2]
		}
		// W4's group sizes in numeric order, whichever server had which.
		a, aok := strings.CutPrefix(keys[i], "W4/")
		b, bok := strings.CutPrefix(keys[j], "W4/")
		if aok && bok {
			x, _ := strconv.Atoi(a)
			y, _ := strconv.Atoi(b)
			return x < y
		}
		return false
	})
	return keys
}

var labels = map[string]string{
	"W1":        "W1 create (POST /Users)",
	"W2":        "W2 lookup (userName eq)",
	"W3":        "W3 PATCH replace (Entra)",
	"W5/index":  "W5 export, index paging",
	"W5/cursor": "W5 export, cursor paging",
	"W5/best":   "W5 export, the best paging each offers",
	"W6":        "W6 mixed sync (75% reads)",
}

func rowLabel(runs []*Run, key string) string {
	if l, ok := labels[key]; ok {
		if key[:2] == "W5" {
			l += " (users/s)"
		}
		return l
	}
	if strings.HasPrefix(key, "W4/") {
		return "W4 member add/remove, group of " + key[3:]
	}
	return key
}

func hasPrefix(keys []string, p string) bool {
	for _, k := range keys {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

func find(r *Run, key string) *Result {
	if r == nil {
		return nil
	}
	if key == "W5/best" {
		// The export with the fastest paging this server offers: what a
		// client that reads its ServiceProviderConfig would get.
		var best *Result
		for i := range r.Results {
			x := &r.Results[i]
			if strings.HasPrefix(x.Key, "W5/") && x.Skipped == "" && (best == nil || x.Throughput+x.Answered > best.Throughput+best.Answered) {
				best = x
			}
		}
		return best
	}
	for i := range r.Results {
		if r.Results[i].Key == key {
			return &r.Results[i]
		}
	}
	return nil
}

func cell(row *Result, isCeiling bool) string {
	switch {
	case row == nil:
		return "—"
	case row.Skipped != "":
		return "n/a"
	}
	v := row.Throughput
	if isCeiling {
		v = row.Answered
	}
	s := fmt.Sprintf("%s", group(v))
	if row.Size > 0 && !isCeiling {
		s += fmt.Sprintf(" (n=%s)", group(float64(row.Size)))
	}
	if !isCeiling && row.Failed+row.Wrong > 0 {
		s += fmt.Sprintf(" ⚠ %d failed, %d wrong", row.Failed, row.Wrong)
	}
	return s
}

func latCell(row *Result) string {
	if row == nil || row.Skipped != "" || row.Ops == 0 {
		return "—"
	}
	return fmt.Sprintf("%s / %s / %s", fmtMs(row.P50Ms), fmtMs(row.P95Ms), fmtMs(row.P99Ms))
}

func fmtMs(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func ratio(s, o *Result, isCeiling bool) string {
	if s == nil || o == nil || s.Skipped != "" || o.Skipped != "" {
		return "—"
	}
	den := o.Throughput
	if isCeiling {
		den = o.Answered
	}
	if den <= 0 {
		return "—"
	}
	r := s.Throughput / den
	if isCeiling {
		return fmt.Sprintf("%.2f", r)
	}
	if r >= 10 {
		return fmt.Sprintf("%.0f×", r)
	}
	return fmt.Sprintf("%.1f×", r)
}

// group writes 12345.6 as 12,346.
func group(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	if v < 10 && v > 0 {
		return fmt.Sprintf("%.1f", v)
	}
	var out []byte
	for i, c := range []byte(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, c)
	}
	return string(out)
}
