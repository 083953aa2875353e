package pam

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/secretbox"
	"github.com/pamscim/pamscim/internal/store"
)

// KeyFile is the secret key file in use: the one given, else
// <data>/secret-keys.
func KeyFile(given, dataDir string) string {
	if given != "" {
		return given
	}
	return filepath.Join(dataDir, secretbox.DefaultFile)
}

// Install opens the secret key file (generating <data>/secret-keys, mode
// 0600, when no file is given and none exists), checks it against the
// store and installs the PAM guard on the store. It reports whether it
// generated the key file.
func Install(ctx context.Context, reg *schema.Registry, st store.Store, keyFile, dataDir string) (*secretbox.Box, bool, error) {
	ps, ok := st.(store.PAMStore)
	if !ok {
		return nil, false, fmt.Errorf("the %T store does not keep PAM resources", st)
	}
	box, created, err := secretbox.Open(KeyFile(keyFile, dataDir), keyFile == "")
	if err != nil {
		return nil, false, fmt.Errorf("secret key file: %w", err)
	}
	if err := secretbox.Activate(ctx, box, ps); err != nil {
		return nil, false, err
	}
	ps.SetGuard(NewGuard(reg, box))
	return box, created, nil
}
