package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/pamscim/pamscim/internal/app"
	"github.com/pamscim/pamscim/internal/pam"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/secretbox"
	"github.com/pamscim/pamscim/internal/store"
)

// pamCmds are the PAM commands: role, entitlement, keys, access.
func pamCmds() []*cobra.Command {
	return []*cobra.Command{
		catalogueCmd("role", schema.TypeRole),
		catalogueCmd("entitlement", schema.TypeEntitlement),
		keysCmd(), accessCmd(),
	}
}

func writeJSONOut(cmd *cobra.Command, v any) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func catalogueCmd(use, rtype string) *cobra.Command {
	plural := use + "s"
	cmd := &cobra.Command{Use: use, Short: fmt.Sprintf("Manage the %s catalogue served read-only at /%s", plural, strings.ToUpper(plural[:1])+plural[1:])}
	c := &app.Config{}
	storeFlags(cmd.PersistentFlags(), c)
	var tenant string
	cmd.PersistentFlags().StringVar(&tenant, "tenant", store.DefaultTenant, "tenant of the catalogue")

	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: fmt.Sprintf("List the %s", plural),
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, c, func(st store.Store) error {
				es, err := pam.NewCatalogue(schema.Default(), st, rtype).List(cmd.Context(), tenant)
				if err != nil {
					return err
				}
				if asJSON {
					if es == nil {
						es = []pam.CatalogueEntry{}
					}
					return writeJSONOut(cmd, es)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "VALUE\tDISPLAY\tTYPE\tSUPPORTED\tID")
				for _, e := range es {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\n", e.Value, e.Display, e.Type, e.Supported, e.ID)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var display, typ string
	var unsupported bool
	add := &cobra.Command{
		Use:   "add VALUE [--display TEXT] [--type TYPE] [--unsupported]",
		Short: fmt.Sprintf("Add a %s, or change the one with that value", use),
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if strings.TrimSpace(args[0]) == "" {
				return usageError{fmt.Errorf("the %s value must not be empty", use)}
			}
			return withStore(cmd, c, func(st store.Store) error {
				e, err := pam.NewCatalogue(schema.Default(), st, rtype).Put(cmd.Context(), tenant,
					pam.CatalogueEntry{Value: args[0], Display: display, Type: typ, Supported: !unsupported})
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), e.ID)
				return nil
			})
		},
	}
	add.Flags().StringVar(&display, "display", "", "human-readable name")
	add.Flags().StringVar(&typ, "type", "", "a label for its function")
	add.Flags().BoolVar(&unsupported, "unsupported", false, "listed, but users may not be given it (supported=false)")

	remove := &cobra.Command{
		Use:   "remove VALUE",
		Short: fmt.Sprintf("Remove a %s (users who hold it keep it)", use),
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, c, func(st store.Store) error {
				return pam.NewCatalogue(schema.Default(), st, rtype).Remove(cmd.Context(), tenant, args[0])
			})
		},
	}
	cmd.AddCommand(list, add, remove)
	return cmd
}

func keysCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Manage the keys that encrypt privileged data secrets"}
	c := &app.Config{}
	storeFlags(cmd.PersistentFlags(), c)
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Re-encrypt every secret under a new key, while servers keep running",
		Long: `rotate adds a new key to the secret key file, makes it the key that seals new
secrets (every server switches at once: they read the active key inside each write),
re-encrypts every stored secret under it, and then removes the old keys from the file.
If it stops part-way, the file keeps both keys and rotate can be run again.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStore(cmd, c, func(st store.Store) error {
				ps, ok := st.(store.PAMStore)
				if !ok {
					return fmt.Errorf("the store does not keep secrets")
				}
				box, _, err := secretbox.Open(pam.KeyFile(c.SecretKeyFile, c.Data), false)
				if err != nil {
					return err
				}
				res, err := secretbox.Rotate(cmd.Context(), box, ps)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "new key %s; %d secret(s) re-encrypted; retired %s\n", res.NewKey, res.Resealed, strings.Join(res.Retired, ", "))
				return nil
			})
		},
	}
	cmd.AddCommand(rotate)
	return cmd
}

func accessCmd() *cobra.Command {
	c := &app.Config{}
	var tenant string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "access ITEM_ID",
		Short: "List every user who holds rights on an item of privileged data, with the rights and the path that grants them",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withStore(cmd, c, func(st store.Store) error {
				svc, err := pam.NewService(schema.Default(), st)
				if err != nil {
					return err
				}
				a, err := svc.Access(cmd.Context(), tenant, args[0])
				if err != nil {
					return err
				}
				if asJSON {
					return writeJSONOut(cmd, a)
				}
				out := cmd.OutOrStdout()
				fmt.Fprintf(out, "%s (%s)", a.Item.Name, a.Item.ID)
				if a.Item.Type != "" {
					fmt.Fprintf(out, ", %s", a.Item.Type)
				}
				fmt.Fprintf(out, ": %d user(s)\n", len(a.Users))
				tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "USER\tRIGHTS\tVIA\tPATH\tPERMISSION")
				for _, u := range a.Users {
					for i, g := range u.Grants {
						name, rights := u.UserName, strings.Join(u.Rights, ",")
						if i > 0 {
							name, rights = "", ""
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s %s [%s]\n", name, rights, g.Via, pathText(g.Path), g.PermissionType, g.Permission, strings.Join(g.Rights, ","))
					}
				}
				return tw.Flush()
			})
		},
	}
	storeFlags(cmd.Flags(), c)
	cmd.Flags().StringVar(&tenant, "tenant", store.DefaultTenant, "tenant of the item")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func pathText(p []pam.Step) string {
	if len(p) == 0 {
		return "-"
	}
	parts := make([]string, len(p))
	for i, s := range p {
		name := s.Display
		if name == "" {
			name = s.ID
		}
		parts[i] = s.Kind + " " + name
	}
	return strings.Join(parts, " > ")
}
