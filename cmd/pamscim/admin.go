package main

import (
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pamscim/pamscim/internal/app"
	"github.com/pamscim/pamscim/internal/console"
	"github.com/pamscim/pamscim/internal/scimerr"
	"github.com/pamscim/pamscim/internal/store"
)

// consoleFlags are serve's web console settings.
func consoleFlags(fs *pflag.FlagSet, c *app.Config) {
	fs.DurationVar(&c.AdminSessionIdle, "admin-session-idle", console.DefaultIdleTimeout, "a console session ends after this long without a request; at least 1m, at most --admin-session-lifetime (0: the default) (env PAMSCIM_ADMIN_SESSION_IDLE)")
	fs.DurationVar(&c.AdminSessionLifetime, "admin-session-lifetime", console.DefaultMaxAge, "a console session ends this long after sign-in, whatever its activity (0: the default) (env PAMSCIM_ADMIN_SESSION_LIFETIME)")
}

func adminCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "admin", Short: "Manage administrators of the web console (/admin/)"}
	c := &app.Config{}
	storeFlags(cmd.PersistentFlags(), c)

	var (
		tenant     string
		allTenants bool
	)
	create := &cobra.Command{
		Use:   "create NAME [--tenant T | --all-tenants] < password",
		Short: "Create a console administrator; the password (12 characters at least) is read from stdin",
		Long: `Create a console administrator. The password is read from the first line of
stdin and stored as an argon2id hash.

An administrator belongs to one tenant (--tenant, default "default") and sees
only that tenant's pages; one created with --all-tenants may switch between
tenants and create new ones.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if allTenants && cmd.Flags().Changed("tenant") {
				return usageError{errors.New("--tenant and --all-tenants exclude each other")}
			}
			t := tenant
			if allTenants {
				t = ""
			} else if t == "" {
				return usageError{errors.New("--tenant must not be empty (or give --all-tenants)")}
			}
			pw, err := readPassword(cmd)
			if err != nil {
				return err
			}
			return withStore(cmd, c, func(st store.Store) error {
				err := console.NewAccounts(st).Create(cmd.Context(), args[0], t, pw, "cli")
				if t != "" && errors.Is(err, scimerr.ErrNotFound) {
					return fmt.Errorf("%w; create it first: pamscim tenant create %s", err, t)
				}
				return err
			})
		},
	}
	create.Flags().StringVar(&tenant, "tenant", store.DefaultTenant, "the one tenant the administrator sees")
	create.Flags().BoolVar(&allTenants, "all-tenants", false, "the administrator sees every tenant and may create tenants")

	list := &cobra.Command{
		Use:   "list",
		Short: "List console administrators (never their password)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, c, func(st store.Store) error {
				as, err := st.ListAdmins(cmd.Context())
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tTENANT\tCREATED\tPASSWORD CHANGED\tLAST SIGN-IN")
				for _, a := range as {
					t := a.Tenant
					if a.AllTenants() {
						t = "(all tenants)"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Name, t, a.Created.Format(time.RFC3339), a.PasswordChanged.Format(time.RFC3339), fmtTime(a.LastSignIn))
				}
				return tw.Flush()
			})
		},
	}
	setPassword := &cobra.Command{
		Use:   "set-password NAME < password",
		Short: "Replace an administrator's password (read from stdin) and end their sessions",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(cmd)
			if err != nil {
				return err
			}
			return withStore(cmd, c, func(st store.Store) error {
				return console.NewAccounts(st).SetPassword(cmd.Context(), args[0], pw, "cli")
			})
		},
	}
	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an administrator and end their sessions",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, c, func(st store.Store) error {
				return console.NewAccounts(st).Delete(cmd.Context(), args[0], "cli")
			})
		},
	}
	cmd.AddCommand(create, list, setPassword, del)
	return cmd
}
