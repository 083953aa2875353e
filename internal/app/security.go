package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/pamscim/pamscim/internal/api"
	"github.com/pamscim/pamscim/internal/audit"
	"github.com/pamscim/pamscim/internal/metrics"
	"github.com/pamscim/pamscim/internal/oauth"
	"github.com/pamscim/pamscim/internal/store"
)

// Security is serve's TLS, throttling and proxy configuration.
type Security struct {
	// TLSCert and TLSKey are PEM files; both set serves HTTPS.
	TLSCert string
	TLSKey  string
	// RateLimit is each credential's request rate on the SCIM API in
	// requests per second (0: no limit); RateBurst its burst.
	RateLimit float64
	RateBurst int
	// TrustedProxies are CIDRs (or addresses) whose X-Forwarded-For names the
	// client's address for throttling and the audit trail.
	TrustedProxies []string
}

// Defaults of the request rate: twice the IPSIE profile's 25 requests per
// second per tenant, per token, per instance.
const (
	DefaultRateLimit = 50
	DefaultRateBurst = 100
)

func (c *Config) validateSecurity() []error {
	var errs []error
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	if c.RateLimit < 0 || c.RateBurst < 0 {
		errs = append(errs, errors.New("--rate-limit and --rate-burst must not be negative"))
	}
	if _, err := c.trustedProxies(); err != nil {
		errs = append(errs, err)
	}
	return errs
}

func (c *Config) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				a, err2 := netip.ParseAddr(f)
				if err2 != nil {
					return nil, fmt.Errorf("--trusted-proxy %q is not an address or CIDR", f)
				}
				p = netip.PrefixFrom(a, a.BitLen())
			}
			out = append(out, p)
		}
	}
	return out, nil
}

// issuer is the OAuth issuer for a SCIM base URL: the base without its
// /scim/v2 path.
func issuer(baseURL string) string {
	b := strings.TrimRight(baseURL, "/")
	return strings.TrimSuffix(b, api.Prefix)
}

// wireSecurity mounts the OAuth endpoints on srv and turns on the audit
// trail, the failure buckets and the request rate; it also starts the
// hourly sweep of expired tokens, which stops with ctx.
func (c *Config) wireSecurity(ctx context.Context, srv *api.Server, st store.Store, log *slog.Logger, met *metrics.Metrics) *oauth.Service {
	trusted, _ := c.trustedProxies()
	rec := met.Audit(audit.New(st, log)) // token events are counted (nil met: not)
	svc := oauth.New(st, oauth.Config{Issuer: issuer(c.BaseURL), TrustedProxies: trusted}, rec, log)
	svc.Register(srv.Handle)
	srv.UseAudit(rec)
	srv.UseFailures(svc.Failures())
	srv.UseTrustedProxies(trusted)
	rate, burst := c.RateLimit, c.RateBurst
	if burst <= 0 {
		burst = int(2 * rate)
	}
	srv.UseRateLimit(rate, max(burst, 1))
	go func() {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			if n, err := svc.Sweep(ctx); err != nil && ctx.Err() == nil {
				log.Warn("sweeping expired OAuth tokens", "err", err)
			} else if n > 0 {
				log.Info("swept expired OAuth tokens", "rows", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return svc
}

// serveOn serves hs on ln, over TLS when a certificate is configured: TLS
// 1.2 at least, 1.3 preferred (Go negotiates the highest both sides speak).
func (c *Config) serveOn(hs *http.Server, ln net.Listener) error {
	if c.TLSCert == "" {
		return hs.Serve(ln)
	}
	hs.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	return hs.ServeTLS(ln, c.TLSCert, c.TLSKey)
}
