package app

import (
	"context"
	"fmt"
	"os"

	"github.com/pamscim/pamscim/internal/pam"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
)

// OpenStore opens the configured store with the PAM guard installed: every
// write checks the PAM rules, and privileged data secrets are sealed with
// the keys of the secret key file, which is generated (mode 0600) into the
// data directory on first start when no --secret-key-file is given.
func OpenStore(ctx context.Context, c *Config, reg *schema.Registry) (store.Store, error) {
	st, err := openStore(ctx, c, reg)
	if err != nil {
		return nil, err
	}
	_, created, err := pam.Install(ctx, reg, st, c.SecretKeyFile, c.Data)
	if err != nil {
		st.Close()
		return nil, err
	}
	if created {
		fmt.Fprintf(os.Stderr, "pamscim: generated the secret key file %s (mode 0600); back it up: the secrets of privileged data cannot be decrypted without it\n", pam.KeyFile(c.SecretKeyFile, c.Data))
	}
	return st, nil
}
