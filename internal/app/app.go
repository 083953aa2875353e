// Package app wires pamscim together: it opens the store named by the
// configuration, creates the first-start bootstrap token, and runs the HTTP
// server with graceful shutdown. cmd/pamscim only parses flags and calls it.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pamscim/pamscim/internal/api"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/postgres"
	"github.com/pamscim/pamscim/internal/store/sqlite"
)

// Config is the store and listen configuration shared by every command.
type Config struct {
	Listen       string
	Data         string
	DatabaseURL  string
	BaseURL      string
	MaxBodyBytes int64
	// Bulk limits and the unknown-member policy (api.Config).
	BulkMaxOperations int
	BulkMaxPayload    int64
	UnknownMembers    string
	Synchronous       string
	LogLevel          string
	LogFormat         string
	// SecretKeyFile holds the keys that seal privileged data secrets
	// (pam.go); empty means <data>/secret-keys, generated on first start.
	SecretKeyFile string
	// ShutdownTimeout bounds how long in-flight requests may run after a signal.
	ShutdownTimeout time.Duration
	Security        // TLS, rate limits, trusted proxies (security.go)
	Observe         // provisioning log and metrics (observe.go)
	AdminSessions   // web console session lifetimes (console.go)
	// Limits: see api.Limits and limits.go.
	MaxInFlight       int
	RequestTimeout    time.Duration
	QueryTimeout      time.Duration // api.Config.QueryTimeout
	IndexPagingLimit  int           // api.Config.IndexPagingLimit
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
}

// Validate reports every problem with the configuration at once.
func (c *Config) Validate() error {
	var errs []error
	if c.DatabaseURL == "" && c.Data == "" {
		errs = append(errs, errors.New("--data must not be empty"))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, fmt.Errorf("--database-url must be a postgres:// URL"))
	}
	if c.BaseURL != "" && !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://") {
		errs = append(errs, fmt.Errorf("--base-url must be an absolute http(s) URL, got %q", c.BaseURL))
	}
	switch c.UnknownMembers {
	case "", api.UnknownMembersIgnore, api.UnknownMembersReject:
	default:
		errs = append(errs, fmt.Errorf("--unknown-members must be ignore or reject, not %q", c.UnknownMembers))
	}
	if c.BulkMaxOperations < 0 || c.BulkMaxPayload < 0 {
		errs = append(errs, errors.New("--bulk-max-operations and --bulk-max-payload must not be negative"))
	}
	switch strings.ToLower(c.LogFormat) {
	case "", "text", "json":
	default:
		errs = append(errs, fmt.Errorf("--log-format must be text or json"))
	}
	errs = append(errs, c.validateMore()...)
	errs = append(errs, c.validateSecurity()...)
	errs = append(errs, c.validateObserve()...)
	errs = append(errs, c.validateConsole()...)
	return errors.Join(errs...)
}

// Logger returns the structured logger the configuration asks for.
func (c *Config) Logger(w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if strings.EqualFold(c.LogFormat, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore opens the configured store; OpenStore (pam.go) adds the PAM guard.
func openStore(ctx context.Context, c *Config, reg *schema.Registry) (store.Store, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if c.DatabaseURL != "" {
		return postgres.Open(ctx, c.DatabaseURL, reg)
	}
	return sqlite.Open(ctx, c.Data, reg, sqlite.Options{Synchronous: strings.ToUpper(c.Synchronous)})
}

// BootstrapFile is where the first-start token is written.
func (c *Config) BootstrapFile() string { return filepath.Join(c.Data, "bootstrap-token") }

// Bootstrap creates the first token of a new, empty store and writes it to
// <data>/bootstrap-token (mode 0600). It does nothing when any token exists.
func Bootstrap(ctx context.Context, c *Config, st store.Store, au *auth.Service, log io.Writer) error {
	n, err := st.CountTokens(ctx)
	if err != nil || n > 0 {
		return err
	}
	if err := os.MkdirAll(c.Data, 0o700); err != nil {
		return err
	}
	secret, _, err := au.CreateToken(ctx, store.DefaultTenant, "bootstrap", []string{auth.ScopeRead, auth.ScopeWrite}, 0, "first start")
	if scimerr.KindOf(err) == scimerr.Uniqueness {
		// Another instance on the same database started at the same moment
		// and made it; its token file is on its machine.
		fmt.Fprintf(log, "pamscim: new store; another instance created the bootstrap token at the same time\n")
		return nil
	}
	if err != nil {
		return fmt.Errorf("bootstrap token: %w", err)
	}
	path := c.BootstrapFile()
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return fmt.Errorf("bootstrap token: %w", err)
	}
	fmt.Fprintf(log, "pamscim: new store; a bootstrap token for tenant %q is in %s (revoke it with 'pamscim token revoke bootstrap' once you have your own)\n", store.DefaultTenant, path)
	return nil
}

// Serve runs the server until ctx is cancelled, then drains in-flight
// requests for up to ShutdownTimeout. ready, if not nil, receives the bound
// address once the listener is open.
func Serve(ctx context.Context, c *Config, stderr io.Writer, ready func(addr string)) error {
	log := c.Logger(stderr)
	reg := schema.Default()
	st, err := OpenStore(ctx, c, reg)
	if err != nil {
		return err
	}
	defer st.Close()
	au := auth.NewService(st)
	if err := Bootstrap(ctx, c, st, au, stderr); err != nil {
		return err
	}
	srv := api.New(reg, st, au, api.Config{BaseURL: c.BaseURL, MaxBodyBytes: c.MaxBodyBytes, Limits: c.apiLimits(),
		BulkMaxOperations: c.BulkMaxOperations, BulkMaxPayload: c.BulkMaxPayload, UnknownMembers: c.UnknownMembers,
		QueryTimeout: c.QueryTimeout, IndexPagingLimit: c.IndexPagingLimit}, log)
	obs, err := c.wireObserve(srv, st, reg, log) // metrics and the provisioning log (observe.go)
	if err != nil {
		return err
	}
	defer func() {
		// After the drain, before the store closes: the log's last entries.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		obs.close(fctx)
	}()
	c.wireSecurity(ctx, srv, st, log, obs.met)
	handler, err := c.withConsole(srv.Handler(), st, reg, log) // the web console at /admin/ (console.go)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:        handler,
		MaxHeaderBytes: 1 << 20,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	c.serverTimeouts(hs)
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return err
	}
	log.Info("pamscim listening", "addr", ln.Addr().String(), "data", c.Data, "tls", c.TLSCert != "")
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- c.serveOn(hs, ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	timeout := c.ShutdownTimeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	log.Info("shutting down", "drain", timeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		// Past the drain time: cut what is left rather than hang.
		_ = hs.Close()
		return fmt.Errorf("shutdown: requests still running after %s were cut: %w", timeout, err)
	}
	return nil
}
