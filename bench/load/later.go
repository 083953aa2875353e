package main

import (
	"context"
	"fmt"
	"io"
)

func (r *Runner) W3(ctx context.Context) Result { return Result{Name: "W3", Skipped: "not yet built"} }
func (r *Runner) W4(ctx context.Context) ([]Result, error) {
	return []Result{{Name: "W4", Skipped: "not yet built"}}, nil
}
func (r *Runner) W5(ctx context.Context) []Result {
	return []Result{{Name: "W5", Skipped: "not yet built"}}
}
func (r *Runner) W6(ctx context.Context) (Result, error) {
	return Result{Name: "W6", Skipped: "not yet built"}, nil
}
func reportCmd(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "load report: not yet built")
	return 1
}
