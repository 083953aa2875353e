package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/pamscim/pamscim/internal/app"
)

// securityFlags are serve's TLS, rate-limit and proxy settings.
func securityFlags(fs *pflag.FlagSet, c *app.Config) {
	fs.StringVar(&c.TLSCert, "tls-cert", "", "PEM certificate (chain) file: serve HTTPS, TLS 1.2 at least (env PAMSCIM_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "PEM private key file of --tls-cert (env PAMSCIM_TLS_KEY)")
	fs.Float64Var(&c.RateLimit, "rate-limit", app.DefaultRateLimit, "SCIM requests per second per token or OAuth client, per instance; more get 429 with Retry-After (0: no limit) (env PAMSCIM_RATE_LIMIT)")
	fs.IntVar(&c.RateBurst, "rate-burst", app.DefaultRateBurst, "requests a token may send at once above --rate-limit (env PAMSCIM_RATE_BURST)")
	fs.StringSliceVar(&c.TrustedProxies, "trusted-proxy", nil, "address or CIDR of a reverse proxy whose X-Forwarded-For names the client (repeatable) (env PAMSCIM_TRUSTED_PROXY)")
}

// parseExpiry reads a lifetime: a Go duration (720h), days (90d), or an
// RFC 3339 date or time (2027-01-31) from which the lifetime is computed.
func parseExpiry(s string, now time.Time) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" || s == "never" {
		return 0, nil
	}
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 36500 {
			return 0, fmt.Errorf("--expires %q: want a number of days like 90d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return 0, errors.New("--expires must be positive")
		}
		return d, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			if !t.After(now) {
				return 0, fmt.Errorf("--expires %s is in the past", s)
			}
			return t.Sub(now), nil
		}
	}
	return 0, fmt.Errorf("--expires %q: want a duration (720h), days (90d) or a date (2027-01-31)", s)
}
