package main

import (
	"context"
	"errors"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pamscim/pamscim/internal/app"
	"github.com/pamscim/pamscim/internal/config"
)

type problemsKey struct{}

// addConfig gives every command --config FILE (env PAMSCIM_CONFIG): a YAML
// file of settings, equivalent to the flags and environment variables
// (internal/config says how they combine).
func addConfig(root *cobra.Command) {
	cobra.EnableTraverseRunHooks = true
	root.PersistentFlags().String("config", "", "YAML file of settings, keys named like the flags, e.g. \"listen: 0.0.0.0:8080\" (env PAMSCIM_CONFIG)")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		fs := cmd.Flags()
		path, _ := fs.GetString("config")
		if !fs.Changed("config") {
			if v, ok := os.LookupEnv("PAMSCIM_CONFIG"); ok {
				path = v
			}
		}
		var probs config.Problems
		var file *config.File
		if path != "" {
			f, err := config.Read(path)
			if errors.As(err, &probs) {
				file = f // report its problems with the rest
			} else if err != nil {
				return usageError{err}
			} else {
				file = f
			}
		}
		known := knownSettings(root)
		if err := config.Resolve(fs, file, func(n string) bool { return known[n] }, os.LookupEnv); err != nil {
			var more config.Problems
			errors.As(err, &more)
			probs = append(probs, more...)
		}
		if len(probs) == 0 {
			return nil
		}
		// Commands that validate a store configuration report these
		// together with their own findings (validate); others stop here.
		if fs.Lookup("data") != nil {
			cmd.SetContext(context.WithValue(cmd.Context(), problemsKey{}, probs))
			return nil
		}
		return usageError{probs}
	}
}

// validate reports the configuration file's and environment's problems
// and the configuration's own, all at once, as a usage error (exit 2).
func validate(cmd *cobra.Command, c *app.Config) error {
	var errs []error
	if p, ok := cmd.Context().Value(problemsKey{}).(config.Problems); ok {
		errs = append(errs, p)
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return usageError{errors.Join(errs...)}
	}
	return nil
}

// knownSettings are the settings a file or the environment may set: the
// flags of serve and the persistent (store) flags of every command. One
// file serves every command, so a key only serve uses is no error for
// token; per-invocation flags (--name, --scope) are not settings.
func knownSettings(root *cobra.Command) map[string]bool {
	known := map[string]bool{}
	add := func(f *pflag.Flag) { known[f.Name] = true }
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Name() == "serve" {
			c.LocalFlags().VisitAll(add)
		}
		c.PersistentFlags().VisitAll(add)
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	delete(known, "help")
	delete(known, "config")
	return known
}
