package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// Run is what one run of the tool against one server writes as JSON.
type Run struct {
	Tool    string            `json:"tool"`
	Server  string            `json:"server"`
	URL     string            `json:"url"`
	Started time.Time         `json:"started"`
	Options map[string]any    `json:"options"`
	Machine Machine           `json:"machine"`
	Meta    map[string]string `json:"meta,omitempty"` // versions and the command, as the caller gives them
	Results []Result          `json:"results"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs     int    `json:"cpus"`
	CPUModel string `json:"cpu_model"`
	MemoryMB int    `json:"memory_mb"`
	OS       string `json:"os"`
	Go       string `json:"go"`
}

func thisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, Go: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if f, err := os.Open("/proc/meminfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var kb int
			if _, err := fmt.Sscanf(sc.Text(), "MemTotal: %d kB", &kb); err == nil {
				m.MemoryMB = kb / 1024
				break
			}
		}
		f.Close()
	}
	return m
}

// printTable writes the rows as a plain-text table.
func printTable(w io.Writer, server string, rows []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\tok\tfailed\twrong\tseconds\tthroughput\tunit\tp50 ms\tp95 ms\tp99 ms\t\n", server)
	for _, r := range rows {
		if r.Skipped != "" {
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\t%.0f\t%s\t%.2f\t%.2f\t%.2f\t\n", r.Name, r.OK, r.Failed, r.Wrong, r.Seconds, r.Throughput, r.Unit, r.P50Ms, r.P95Ms, r.P99Ms)
	}
	tw.Flush()
	for _, r := range rows {
		if r.Skipped != "" {
			fmt.Fprintf(w, "  %s: skipped: %s\n", r.Name, r.Skipped)
		}
		for _, e := range r.Errors {
			fmt.Fprintf(w, "  %s: %s\n", r.Name, e)
		}
	}
}
