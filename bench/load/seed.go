package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
)

// seedCmd writes users straight into a pamscim SQLite store, as
// bench/foundation_test.go does: a million users over HTTP would take most
// of the benchmark's time. The server is started on the store afterwards;
// `load --seeded` then knows every user's name and id from its index.
func seedCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("store", "", "pamscim SQLite data directory (as serve's --data; created if missing)")
	n := fs.Int("users", 10000, "users to write")
	prefix := fs.String("prefix", "lg", "userName prefix")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" || *n <= 0 {
		fmt.Fprintln(stderr, "load seed: --store and a positive --users are required")
		return 2
	}
	start := time.Now()
	if err := SeedStore(ctx, *dir, *prefix, 0, *n); err != nil {
		fmt.Fprintf(stderr, "load seed: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "seeded %d users into %s in %v\n", *n, *dir, time.Since(start).Round(time.Millisecond))
	return 0
}

// SeedStore writes users lo…hi-1 into the SQLite store in dir, in
// transactions of 5,000, with the ids seedID gives.
func SeedStore(ctx context.Context, dir, prefix string, lo, hi int) error {
	reg := schema.Default()
	st, err := sqlite.Open(ctx, dir, reg, sqlite.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	rt := reg.ResourceType("User")
	const batch = 5000
	for i := lo; i < hi; i += batch {
		rs := make([]*store.Resource, 0, batch)
		now := time.Now().UTC()
		for j := i; j < min(hi, i+batch); j++ {
			name := userName(prefix, j)
			in, err := rt.Normalize(userDoc(name, j))
			if err != nil {
				return err
			}
			rs = append(rs, &store.Resource{Tenant: store.DefaultTenant, Type: "User", ID: seedID(name), Doc: in.Doc, Version: 1, Created: now, Modified: now})
		}
		if err := st.CreateBatch(ctx, rt, rs); err != nil {
			return fmt.Errorf("users %d–%d: %w", i, min(hi, i+batch)-1, err)
		}
	}
	return st.Optimize(ctx)
}
