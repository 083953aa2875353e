package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pamscim/pamscim/internal/app"
	"github.com/pamscim/pamscim/internal/audit"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/oauth"
	"github.com/pamscim/pamscim/internal/store"
)

// oauthService opens the OAuth administration over a store.
func oauthService(st store.Store) *oauth.Service {
	return oauth.New(st, oauth.Config{}, audit.New(st, nil), nil)
}

func oauthCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "oauth", Short: "Manage OAuth 2.0 clients and the service accounts of the password grant"}
	c := &app.Config{}
	storeFlags(cmd.PersistentFlags(), c)
	cmd.AddCommand(createClientCmd(c), updateClientCmd(c), rotateSecretCmd(c), listClientsCmd(c), deleteClientCmd(c),
		createAccountCmd(c), setPasswordCmd(c), listAccountsCmd(c), deleteAccountCmd(c))
	return cmd
}

func createClientCmd(c *app.Config) *cobra.Command {
	var (
		name, tenant, scopes, grants, keyFile string
		accessTTL, refreshTTL                 time.Duration
		asJSON, alone                         bool
	)
	cmd := &cobra.Command{
		Use:   "create-client --name NAME [--tenant T] [--scope SCOPES]",
		Short: "Create an OAuth client; prints client_id=… and client_secret=… (the secret is shown only once)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				return usageError{errors.New("--name is required")}
			}
			sc, err := auth.ParseScopes(scopes)
			if err != nil {
				return usageError{err}
			}
			gr, err := oauth.ParseGrants(grants)
			if err != nil {
				return usageError{err}
			}
			if accessTTL < 0 || refreshTTL < 0 {
				return usageError{errors.New("--access-ttl and --refresh-ttl must be positive")}
			}
			if alone && !slices.Contains(gr, oauth.GrantRefresh) {
				return usageError{errors.New("--refresh-token-alone needs the refresh_token grant (--grants)")}
			}
			var pem string
			if keyFile != "" {
				b, err := os.ReadFile(keyFile)
				if err != nil {
					return usageError{err}
				}
				pem = string(b)
			}
			return withStore(cmd, c, func(st store.Store) error {
				cl, secret, err := oauthService(st).CreateClient(cmd.Context(), oauth.ClientSpec{Tenant: tenant, Name: name, Scopes: sc, Grants: gr,
					AccessTTL: accessTTL, RefreshTTL: refreshTTL, PublicKeyPEM: pem, RefreshTokenAlone: alone}, "cli")
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if asJSON {
					v := map[string]any{"client_id": cl.ID, "tenant": cl.Tenant, "name": cl.Name, "scope": strings.Join(cl.Scopes, " "),
						"grant_types": cl.Grants, "access_token_lifetime": int64(cl.AccessTTL / time.Second), "refresh_token_lifetime": int64(cl.RefreshTTL / time.Second),
						"refresh_token_alone": cl.RefreshTokenAlone}
					if secret != "" {
						v["client_secret"] = secret
						v["token_endpoint_auth_method"] = "client_secret_basic"
					} else {
						v["token_endpoint_auth_method"] = "private_key_jwt"
					}
					b, _ := json.MarshalIndent(v, "", "  ")
					fmt.Fprintln(out, string(b))
					return nil
				}
				fmt.Fprintf(out, "client_id=%s\n", cl.ID)
				if secret != "" {
					fmt.Fprintf(out, "client_secret=%s\n", secret)
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "name of the client (required, unique in the tenant)")
	f.StringVar(&tenant, "tenant", store.DefaultTenant, "tenant whose data the client's tokens reach")
	f.StringVar(&scopes, "scope", "scim:read scim:write", "scopes the client may ask for: scim:read, scim:write (scim: both)")
	f.StringVar(&grants, "grants", "client_credentials,refresh_token", "grant types: client_credentials, password, refresh_token (with refresh_token, client_credentials also returns a refresh token)")
	f.DurationVar(&accessTTL, "access-ttl", oauth.DefaultAccessTTL, "lifetime of access tokens")
	f.DurationVar(&refreshTTL, "refresh-ttl", oauth.DefaultRefreshTTL, "lifetime of refresh tokens (renewed on each use)")
	f.StringVar(&keyFile, "public-key", "", "PEM public key: the client authenticates with private_key_jwt (RFC 7523) instead of a secret")
	f.BoolVar(&alone, "refresh-token-alone", false, refreshAloneUsage)
	f.BoolVar(&asJSON, "json", false, "print a JSON object")
	return cmd
}

const refreshAloneUsage = "exchange the client's refresh tokens at the token endpoint without its authentication (a connector given a refresh token and no secret, seed 000); each refresh token is then a credential on its own"

func updateClientCmd(c *app.Config) *cobra.Command {
	var alone bool
	cmd := &cobra.Command{
		Use:   "update-client CLIENT_ID --refresh-token-alone=true|false",
		Short: "Change a client's settings: whether its refresh tokens are exchanged without its authentication",
		Long: `Change a client's settings.

--refresh-token-alone=true lets the token endpoint exchange a refresh token of
the client sent with no client authentication at all
(grant_type=refresh_token&refresh_token=…), as connectors set up with a
refresh token and never the secret do. Every refresh token the client holds,
whichever grant issued it, is then a credential by itself, protected by
rotation and reuse detection only. --refresh-token-alone=false (the default
of a new client) requires the client's authentication again; tokens already
issued keep working with it.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("refresh-token-alone") {
				return usageError{errors.New("nothing to change: give --refresh-token-alone=true or --refresh-token-alone=false")}
			}
			return withStore(cmd, c, func(st store.Store) error {
				changed, err := oauthService(st).SetRefreshTokenAlone(cmd.Context(), args[0], alone, "cli")
				if err != nil {
					return err
				}
				state := "unchanged"
				if changed {
					state = "changed"
				}
				fmt.Fprintf(cmd.OutOrStdout(), "client_id=%s\nrefresh_token_alone=%t (%s)\n", args[0], alone, state)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&alone, "refresh-token-alone", false, refreshAloneUsage)
	return cmd
}

func rotateSecretCmd(c *app.Config) *cobra.Command {
	var (
		keyFile string
		revoke  bool
	)
	cmd := &cobra.Command{
		Use:   "rotate-secret CLIENT_ID",
		Short: "Issue a new client secret (or set a new public key); the old one stops working at once",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var pem string
			if keyFile != "" {
				b, err := os.ReadFile(keyFile)
				if err != nil {
					return usageError{err}
				}
				pem = string(b)
			}
			return withStore(cmd, c, func(st store.Store) error {
				secret, err := oauthService(st).RotateSecret(cmd.Context(), args[0], pem, revoke, "cli")
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "client_id=%s\n", args[0])
				if secret != "" {
					fmt.Fprintf(cmd.OutOrStdout(), "client_secret=%s\n", secret)
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&keyFile, "public-key", "", "new PEM public key of a private_key_jwt client")
	cmd.Flags().BoolVar(&revoke, "revoke-tokens", false, "also revoke every access and refresh token the client holds")
	return cmd
}

func listClientsCmd(c *app.Config) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "list-clients",
		Short: "List OAuth clients (never their secret)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, c, func(st store.Store) error {
				cs, err := st.ListClients(cmd.Context(), tenant)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TENANT\tNAME\tCLIENT ID\tAUTH\tSCOPES\tGRANTS\tREFRESH ALONE\tACCESS TTL\tREFRESH TTL\tCREATED\tSECRET CHANGED\tLAST USED")
				for _, cl := range cs {
					method := "secret"
					if cl.PublicKey != "" {
						method = "private_key_jwt"
					}
					alone := "no"
					if cl.RefreshTokenAlone {
						alone = "yes"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cl.Tenant, cl.Name, cl.ID, method, strings.Join(cl.Scopes, ","),
						strings.Join(cl.Grants, ","), alone, cl.AccessTTL, cl.RefreshTTL, cl.Created.Format(time.RFC3339), cl.SecretChanged.Format(time.RFC3339), fmtTime(cl.LastUsed))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "only this tenant's clients")
	return cmd
}

func deleteClientCmd(c *app.Config) *cobra.Command {
	return &cobra.Command{
		Use:   "delete-client CLIENT_ID",
		Short: "Delete a client and revoke every token it holds",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, c, func(st store.Store) error {
				return oauthService(st).DeleteClient(cmd.Context(), args[0], "cli")
			})
		},
	}
}

// readPassword reads one line from stdin: passwords never go on the command
// line, where ps and shell history would see them.
func readPassword(cmd *cobra.Command) (string, error) {
	sc := bufio.NewScanner(cmd.InOrStdin())
	sc.Buffer(make([]byte, 4096), 4096)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return "", err
		}
		return "", usageError{errors.New("give the password on stdin")}
	}
	pw := strings.TrimRight(sc.Text(), "\r")
	if pw == "" {
		return "", usageError{errors.New("the password on stdin is empty")}
	}
	return pw, nil
}

func createAccountCmd(c *app.Config) *cobra.Command {
	var tenant, scopes string
	cmd := &cobra.Command{
		Use:   "create-account NAME [--tenant T] [--scope SCOPES] < password",
		Short: "Create a service account for the password grant; the password is read from stdin",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := auth.ParseScopes(scopes)
			if err != nil {
				return usageError{err}
			}
			pw, err := readPassword(cmd)
			if err != nil {
				return err
			}
			return withStore(cmd, c, func(st store.Store) error {
				return oauthService(st).CreateAccount(cmd.Context(), tenant, args[0], pw, sc, "cli")
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", store.DefaultTenant, "tenant of the account")
	cmd.Flags().StringVar(&scopes, "scope", "scim:read scim:write", "scopes the account's tokens may carry")
	return cmd
}

func setPasswordCmd(c *app.Config) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "set-password NAME < password",
		Short: "Replace a service account's password (read from stdin) and revoke its tokens",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := readPassword(cmd)
			if err != nil {
				return err
			}
			return withStore(cmd, c, func(st store.Store) error {
				return oauthService(st).SetPassword(cmd.Context(), tenant, args[0], pw, "cli")
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", store.DefaultTenant, "tenant of the account")
	return cmd
}

func listAccountsCmd(c *app.Config) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "list-accounts",
		Short: "List service accounts (never their password)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, c, func(st store.Store) error {
				as, err := st.ListServiceAccounts(cmd.Context(), tenant)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TENANT\tNAME\tSCOPES\tCREATED\tPASSWORD CHANGED")
				for _, a := range as {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Tenant, a.Name, strings.Join(a.Scopes, ","), a.Created.Format(time.RFC3339), a.PasswordChanged.Format(time.RFC3339))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", "", "only this tenant's accounts")
	return cmd
}

func deleteAccountCmd(c *app.Config) *cobra.Command {
	var tenant string
	cmd := &cobra.Command{
		Use:   "delete-account NAME",
		Short: "Delete a service account and revoke its tokens",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, c, func(st store.Store) error {
				return oauthService(st).DeleteAccount(cmd.Context(), tenant, args[0], "cli")
			})
		},
	}
	cmd.Flags().StringVar(&tenant, "tenant", store.DefaultTenant, "tenant of the account")
	return cmd
}
