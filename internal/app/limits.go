package app

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/pamscim/pamscim/internal/api"
)

// validateMore checks the settings that Validate's first version did not,
// so that a configuration file with several mistakes fails once, naming
// them all. Zero values mean "default" (CLI commands leave serve's unset).
func (c *Config) validateMore() []error {
	var errs []error
	if c.DatabaseURL == "" {
		switch strings.ToUpper(c.Synchronous) {
		case "", "NORMAL", "FULL", "EXTRA":
		default:
			errs = append(errs, fmt.Errorf("--sqlite-synchronous must be NORMAL, FULL or EXTRA, got %q", c.Synchronous))
		}
	}
	var lvl slog.Level
	if c.LogLevel != "" && lvl.UnmarshalText([]byte(c.LogLevel)) != nil {
		errs = append(errs, fmt.Errorf("--log-level must be debug, info, warn or error, got %q", c.LogLevel))
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("--max-body must not be negative"))
	}
	if c.IndexPagingLimit < 0 {
		errs = append(errs, fmt.Errorf("--index-paging-limit must not be negative (0 means no limit)"))
	}
	if c.MaxInFlight < 0 {
		errs = append(errs, fmt.Errorf("--max-in-flight must not be negative (0 means no cap)"))
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--query-timeout", c.QueryTimeout}, {"--request-timeout", c.RequestTimeout}, {"--read-header-timeout", c.ReadHeaderTimeout}, {"--idle-timeout", c.IdleTimeout}, {"--shutdown-timeout", c.ShutdownTimeout}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative", d.flag))
		}
	}
	return errs
}

// Defaults of the limits, shared with the flags.
const (
	DefaultMaxInFlight       = 128
	DefaultRequestTimeout    = 30 * time.Second
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
)

func (c *Config) apiLimits() api.Limits {
	l := api.Limits{MaxInFlight: c.MaxInFlight, RequestTimeout: c.RequestTimeout}
	if l.MaxInFlight == 0 {
		l.MaxInFlight = -1 // the flag's 0 means no cap
	}
	return l
}

// serverTimeouts sets the connection-level timeouts. Per-request bounds
// (body upload, handler, response) are api.Limits'; these cover what
// happens outside a request: a client trickling its headers (slow loris)
// is cut at ReadHeaderTimeout, an idle keep-alive at IdleTimeout, and the
// whole-request read and write deadlines back up api.Limits for the
// uncapped health endpoints.
func (c *Config) serverTimeouts(hs *http.Server) {
	rht := or(c.ReadHeaderTimeout, DefaultReadHeaderTimeout)
	rt := or(c.RequestTimeout, DefaultRequestTimeout)
	hs.ReadHeaderTimeout = rht
	hs.ReadTimeout = rht + rt
	hs.WriteTimeout = rht + rt + 10*time.Second
	hs.IdleTimeout = or(c.IdleTimeout, DefaultIdleTimeout)
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
