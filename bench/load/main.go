// Command load drives a SCIM server with provisioning workloads and reports
// throughput and latency (issue 9):
//
//	go run ./bench/load --url http://127.0.0.1:8080/scim/v2 --token T --workload W1,W2
//	go run ./bench/load seed --store DIR --users 1000000   # a pamscim SQLite store, directly
//	go run ./bench/load report --out FILE.md a.json b.json c.json
//
// Every timed answer is verified; a wrong answer is counted apart and never
// as throughput. bench/README.md describes the workloads.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "seed":
			return seedCmd(ctx, args[1:], stdout, stderr)
		case "report":
			return reportCmd(args[1:], stdout, stderr)
		}
	}
	return loadCmd(ctx, args, stdout, stderr)
}

// metaFlag collects repeated key=value flags.
type metaFlag map[string]string

func (m metaFlag) String() string { return fmt.Sprint(map[string]string(m)) }
func (m metaFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return errors.New("want key=value")
	}
	m[k] = v
	return nil
}

func loadCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	var workloads, groups, paging, jsonOut, tokenFile string
	meta := metaFlag{}
	fs.StringVar(&o.URL, "url", "", "SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2 (required)")
	fs.StringVar(&o.Token, "token", os.Getenv("LOAD_TOKEN"), "bearer token (env LOAD_TOKEN)")
	fs.StringVar(&tokenFile, "token-file", "", "read the bearer token from this file")
	fs.StringVar(&o.Server, "server", "server", "the server's name in tables and JSON")
	fs.StringVar(&workloads, "workload", "W1,W2,W3,W4,W5,W6", "workloads to run, in order (comma-separated; \"all\" for W1–W6)")
	fs.IntVar(&o.Concurrency, "concurrency", 8, "concurrent requests")
	fs.IntVar(&o.Users, "users", 10000, "users in the populated store W2–W6 run over (seeded by the setup phase unless --seeded)")
	fs.BoolVar(&o.Seeded, "seeded", false, "the store already holds --users users written by `load seed` with the same --prefix")
	fs.BoolVar(&o.Canned, "canned", false, "the server answers canned bodies (bench/ceiling): seed nothing, expect wrong answers")
	fs.IntVar(&o.W1Users, "w1-users", 2000, "users W1 creates")
	fs.DurationVar(&o.Duration, "duration", 10*time.Second, "how long W2, W3 and W6 run")
	fs.StringVar(&groups, "group-sizes", "100,10000,200000", "W4's group sizes (each needs --users above it)")
	fs.IntVar(&o.W4Ops, "w4-ops", 200, "W4's add/remove pairs per group size")
	fs.IntVar(&o.PageSize, "page-size", 200, "W5's count per page")
	fs.StringVar(&paging, "paging", "index,cursor", "W5's kinds of paging (cursor only where the server advertises it)")
	fs.StringVar(&o.Prefix, "prefix", "lg", "userName prefix of the seeded users")
	fs.StringVar(&o.RunID, "run-id", "", "tells this run's created users apart (default random)")
	fs.DurationVar(&o.Timeout, "timeout", 60*time.Second, "one request's time limit")
	fs.DurationVar(&o.SeedTimeout, "seed-timeout", 0, "give up seeding over HTTP after this long (0: never)")
	fs.StringVar(&jsonOut, "json", "", "write the results as JSON to this file")
	fs.Var(meta, "meta", "key=value recorded in the JSON (versions, the command); repeatable")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.URL == "" {
		fmt.Fprintln(stderr, "load: --url is required")
		return 2
	}
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "load: %v\n", err)
			return 1
		}
		o.Token = strings.TrimSpace(string(b))
	}
	var err error
	if o.Workloads, err = parseWorkloads(workloads); err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 2
	}
	if o.GroupSizes, err = parseInts(groups); err != nil {
		fmt.Fprintf(stderr, "load: --group-sizes: %v\n", err)
		return 2
	}
	for _, p := range strings.Split(paging, ",") {
		switch p = strings.TrimSpace(p); p {
		case "index", "cursor":
			o.Paging = append(o.Paging, p)
		case "":
		default:
			fmt.Fprintf(stderr, "load: --paging: %q is neither index nor cursor\n", p)
			return 2
		}
	}
	if !*quiet {
		o.Log = stderr
	}
	out, err := Load(ctx, o, meta)
	if out != nil {
		printTable(stdout, o.Server, out.Results)
		if jsonOut != "" {
			if werr := writeJSON(jsonOut, out); werr != nil {
				fmt.Fprintf(stderr, "load: %v\n", werr)
				return 1
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 1
	}
	return 0
}

// Load sets up the server and runs the workloads.
func Load(ctx context.Context, o Options, meta map[string]string) (*Run, error) {
	r, err := NewRunner(o)
	if err != nil {
		return nil, err
	}
	o = r.opt
	out := &Run{Tool: "pamscim bench/load", Server: o.Server, URL: o.URL, Started: time.Now().UTC(), Machine: thisMachine(), Meta: meta,
		Options: map[string]any{"workloads": o.Workloads, "concurrency": o.Concurrency, "users": o.Users, "seeded": o.Seeded, "canned": o.Canned,
			"w1_users": o.W1Users, "duration": o.Duration.String(), "group_sizes": o.GroupSizes, "w4_ops": o.W4Ops, "page_size": o.PageSize,
			"paging": o.Paging}}
	if err := r.Setup(ctx); err != nil {
		return out, fmt.Errorf("setup: %w", err)
	}
	out.Results, err = r.Run(ctx)
	return out, err
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

func parseWorkloads(s string) ([]string, error) {
	if strings.EqualFold(strings.TrimSpace(s), "all") {
		return []string{"W1", "W2", "W3", "W4", "W5", "W6"}, nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.ToUpper(strings.TrimSpace(f))
		switch f {
		case "":
		case "W1", "W2", "W3", "W4", "W5", "W6":
			out = append(out, f)
		default:
			return nil, fmt.Errorf("unknown workload %q (W1…W6)", f)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no workload chosen")
	}
	return out, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}
