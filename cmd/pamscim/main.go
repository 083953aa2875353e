// Command pamscim is a SCIM 2.0 server for privileged access management.
// This file only parses flags and calls the internal packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pamscim/pamscim/internal/app"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
)

// Set by -ldflags at release time.
var (
	version = "dev"
	commit  = ""
	date    = ""
)

type usageError struct{ error }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pamscim:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func envInt(name string, def int64) int64 {
	if v, ok := os.LookupEnv(name); ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return def
}

// storeFlags are the flags every command that touches the store takes.
func storeFlags(fs *pflag.FlagSet, c *app.Config) {
	fs.StringVar(&c.Data, "data", env("PAMSCIM_DATA", "./pamscim-data"), "data directory of the embedded SQLite store (env PAMSCIM_DATA)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("PAMSCIM_DATABASE_URL", ""), "postgres:// URL selecting the PostgreSQL store (env PAMSCIM_DATABASE_URL)")
	fs.StringVar(&c.Synchronous, "sqlite-synchronous", env("PAMSCIM_SQLITE_SYNCHRONOUS", "NORMAL"), "SQLite synchronous mode: NORMAL (survives a process crash) or FULL (also a power loss)")
	fs.StringVar(&c.LogLevel, "log-level", env("PAMSCIM_LOG_LEVEL", "info"), "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", env("PAMSCIM_LOG_FORMAT", "text"), "log format: text or json")
	fs.StringVar(&c.SecretKeyFile, "secret-key-file", env("PAMSCIM_SECRET_KEY_FILE", ""), "file of the AES-256 keys that encrypt privileged data secrets (env PAMSCIM_SECRET_KEY_FILE); default <data>/secret-keys, generated with mode 0600 on first start")
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "pamscim",
		Short:         "A SCIM 2.0 server for privileged access management",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(serveCmd(), tokenCmd(), tenantCmd(), versionCmd())
	root.AddCommand(pamCmds()...)
	root.AddCommand(oauthCmd(), auditCmd())
	root.AddCommand(logCmd())
	root.AddCommand(adminCmd())
	root.AddCommand(exportCmd(), fulfillCmd(), verifyCmd())
	root.AddCommand(dataCmds()...)
	addConfig(root)
	return root
}

func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

func serveCmd() *cobra.Command {
	c := &app.Config{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the SCIM server",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := validate(cmd, c); err != nil {
				return err
			}
			return app.Serve(cmd.Context(), c, cmd.ErrOrStderr(), nil)
		},
	}
	fs := cmd.Flags()
	storeFlags(fs, c)
	fs.StringVar(&c.Listen, "listen", env("PAMSCIM_LISTEN", "127.0.0.1:8080"), "address to listen on (env PAMSCIM_LISTEN)")
	fs.StringVar(&c.BaseURL, "base-url", env("PAMSCIM_BASE_URL", ""), "absolute SCIM base URL for meta.location, e.g. https://scim.example.com/scim/v2 (env PAMSCIM_BASE_URL); derived from each request when empty")
	fs.Int64Var(&c.MaxBodyBytes, "max-body", envInt("PAMSCIM_MAX_BODY", 10<<20), "largest request body in bytes (env PAMSCIM_MAX_BODY)")
	fs.IntVar(&c.BulkMaxOperations, "bulk-max-operations", int(envInt("PAMSCIM_BULK_MAX_OPERATIONS", 1000)), "most operations in one /Bulk request (env PAMSCIM_BULK_MAX_OPERATIONS)")
	fs.Int64Var(&c.BulkMaxPayload, "bulk-max-payload", envInt("PAMSCIM_BULK_MAX_PAYLOAD", 10<<20), "largest /Bulk request in bytes, at most --max-body (env PAMSCIM_BULK_MAX_PAYLOAD)")
	fs.StringVar(&c.UnknownMembers, "unknown-members", env("PAMSCIM_UNKNOWN_MEMBERS", "ignore"), "member ids that do not exist: ignore (drop and log them) or reject (400 invalidValue) (env PAMSCIM_UNKNOWN_MEMBERS)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long in-flight requests may finish after SIGTERM (env PAMSCIM_SHUTDOWN_TIMEOUT)")
	limitFlags(fs, c)
	securityFlags(fs, c)
	observeFlags(fs, c) // log.go
	consoleFlags(fs, c) // admin.go
	return cmd
}

// withStore opens the store for a CLI command.
func withStore(cmd *cobra.Command, c *app.Config, fn func(st store.Store) error) error {
	if err := validate(cmd, c); err != nil {
		return err
	}
	st, err := app.OpenStore(cmd.Context(), c, schema.Default())
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

func tokenCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage named SCIM bearer tokens"}
	c := &app.Config{}
	storeFlags(cmd.PersistentFlags(), c)

	var name, scopes, tenant, expiresText string
	create := &cobra.Command{
		Use:   "create --name NAME [--expires DURATION] [--scope SCOPES] [--tenant T]",
		Short: "Create a token and print it, alone, on stdout (it is shown only once)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return usageError{errors.New("--name is required")}
			}
			sc, err := auth.ParseScopes(scopes)
			if err != nil {
				return usageError{err}
			}
			expires, err := parseExpiry(expiresText, time.Now())
			if err != nil {
				return usageError{err}
			}
			return withStore(cmd, c, func(st store.Store) error {
				secret, _, err := auth.NewService(st).CreateToken(cmd.Context(), tenant, name, sc, expires, "cli")
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), secret)
				return nil
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", "name of the token (required)")
	create.Flags().StringVar(&expiresText, "expires", "", "lifetime: 720h, 90d or a date (2027-01-31); empty never expires")
	create.Flags().StringVar(&scopes, "scope", "scim:read scim:write", "scopes: scim:read, scim:write (scim: both)")
	create.Flags().StringVar(&tenant, "tenant", store.DefaultTenant, "tenant the token belongs to")

	var listTenant string
	list := &cobra.Command{
		Use:   "list",
		Short: "List tokens (never their secret)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, c, func(st store.Store) error {
				ts, err := st.ListTokens(cmd.Context(), listTenant)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TENANT\tNAME\tSCOPES\tCREATED\tEXPIRES\tLAST USED\tSTATE")
				for _, t := range ts {
					state := "active"
					switch {
					case t.Revoked != nil:
						state = "revoked " + t.Revoked.Format(time.RFC3339)
					case t.Expires != nil && time.Now().After(*t.Expires):
						state = "expired"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Tenant, t.Name, fmt.Sprint(t.Scopes), t.Created.Format(time.RFC3339), fmtTime(t.Expires), fmtTime(t.LastUsed), state)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&listTenant, "tenant", "", "only this tenant's tokens")

	var revTenant string
	revoke := &cobra.Command{
		Use:   "revoke NAME",
		Short: "Revoke a token; it is refused from then on",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, c, func(st store.Store) error {
				return auth.NewService(st).RevokeToken(cmd.Context(), revTenant, args[0], "cli")
			})
		},
	}
	revoke.Flags().StringVar(&revTenant, "tenant", store.DefaultTenant, "tenant of the token")
	cmd.AddCommand(create, list, revoke)
	return cmd
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format(time.RFC3339)
}

func tenantCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tenant", Short: "Manage tenants"}
	c := &app.Config{}
	storeFlags(cmd.PersistentFlags(), c)
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a tenant",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, c, func(st store.Store) error {
				return st.CreateTenant(cmd.Context(), args[0], time.Now())
			})
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "List tenants",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, c, func(st store.Store) error {
				ts, err := st.ListTenants(cmd.Context())
				if err != nil {
					return err
				}
				for _, t := range ts {
					fmt.Fprintln(cmd.OutOrStdout(), t.Name)
				}
				return nil
			})
		},
	}
	cmd.AddCommand(create, list)
	return cmd
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print version, commit and build date",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, d := commit, date
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" && c == "" {
						c = s.Value
					}
					if s.Key == "vcs.time" && d == "" {
						d = s.Value
					}
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "pamscim %s commit %s built %s\n", version, or(c, "unknown"), or(d, "unknown"))
			return nil
		},
	}
}

func or(a, b string) string {
	if a == "" {
		return b
	}
	return a
}
