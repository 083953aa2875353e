package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/pamscim/pamscim/internal/app"
)

// dataCmds are the commands that work on a whole store: migrate, copy,
// backup.
func dataCmds() []*cobra.Command { return []*cobra.Command{migrateCmd(), copyCmd(), backupCmd()} }

func migrateCmd() *cobra.Command {
	c := &app.Config{}
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply pending store migrations and print the version (serve also applies them; several instances may run it at once)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := validate(cmd, c); err != nil {
				return err
			}
			return app.Migrate(cmd.Context(), c, cmd.OutOrStdout())
		},
	}
	storeFlags(cmd.Flags(), c)
	return cmd
}

func copyCmd() *cobra.Command {
	var from, to, sync string
	var overwrite bool
	cmd := &cobra.Command{
		Use:   "copy --from STORE --to STORE",
		Short: "Copy a whole store, e.g. SQLite to PostgreSQL or back; a STORE is a data directory or a postgres:// URL",
		Long: `Copy every table of one store into another, in one consistent snapshot of the
source (which may be serving) and one transaction on the destination (all or
nothing). Privileged data secrets stay encrypted with the same key file; token
hashes, OAuth clients and the cursor key go along, so clients and their
tokens keep working against the new store.

The destination is migrated first and must not hold users, groups or tokens
(--overwrite replaces them).`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || to == "" {
				return usageError{errors.New("--from and --to are required")}
			}
			return app.Copy(cmd.Context(), from, to, sync, overwrite, cmd.OutOrStdout())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&from, "from", "", "source store: a data directory or a postgres:// URL (required)")
	fs.StringVar(&to, "to", "", "destination store: a data directory (created if needed) or a postgres:// URL (required)")
	fs.BoolVar(&overwrite, "overwrite", false, "replace the contents of a destination that is in use")
	fs.StringVar(&sync, "sqlite-synchronous", env("PAMSCIM_SQLITE_SYNCHRONOUS", "NORMAL"), "SQLite synchronous mode of a SQLite destination")
	return cmd
}

func backupCmd() *cobra.Command {
	c := &app.Config{}
	var to string
	cmd := &cobra.Command{
		Use:   "backup --to DIR",
		Short: "Write a consistent copy of the SQLite store, taken while it serves, into a new data directory",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to == "" {
				return usageError{errors.New("--to is required")}
			}
			if err := validate(cmd, c); err != nil {
				return err
			}
			return app.Backup(cmd.Context(), c, to, cmd.OutOrStdout())
		},
	}
	storeFlags(cmd.Flags(), c)
	cmd.Flags().StringVar(&to, "to", "", "new data directory for the backup (must not exist or be empty); restore by serving with --data DIR")
	return cmd
}
