package secretbox

import (
	"context"
	"fmt"

	"github.com/pamscim/pamscim/internal/store"
)

// Activate makes sure the store names an active key that the key file
// holds: a new store adopts the file's newest key; a store whose active key
// is not in the file (the wrong --secret-key-file) is an error, since new
// secrets would be sealed under a key nobody keeps.
func Activate(ctx context.Context, b *Box, st store.PAMStore) error {
	cur, err := st.Setting(ctx, ActiveKeySetting)
	if err != nil {
		return err
	}
	if cur == "" {
		return st.SetSetting(ctx, ActiveKeySetting, b.Newest())
	}
	if !b.Has(cur) {
		return fmt.Errorf("the store seals secrets under key %s, which %s does not hold; give the key file this store was used with (--secret-key-file)", cur, b.Path())
	}
	return nil
}

// RotateResult says what a rotation did.
type RotateResult struct {
	NewKey   string
	Resealed int
	Retired  []string
}

// Rotate re-encrypts every sealed value under a new key while servers keep
// running: (1) the new key is added to the key file, old keys kept; (2) the
// store's active key becomes the new one, in a write transaction, so every
// seal that commits later uses it (each seal reads the setting inside its
// own transaction and reloads the file for a key it does not know); (3)
// every value under another key is re-sealed, each update conditional on
// the value not having changed meanwhile; (4) the old keys leave the file.
// A rotation that fails part-way leaves both keys in the file and can be
// run again.
func Rotate(ctx context.Context, b *Box, st store.PAMStore) (*RotateResult, error) {
	old, err := ReadFile(b.path)
	if err != nil {
		return nil, err
	}
	k, err := NewRandomKey()
	if err != nil {
		return nil, err
	}
	both := &Ring{Keys: append([]*Key{k}, old.Keys...)}
	if err := WriteFile(b.path, both); err != nil {
		return nil, fmt.Errorf("write key file: %w", err)
	}
	b.mu.Lock()
	b.ring = both
	b.mu.Unlock()
	if err := st.SetSetting(ctx, ActiveKeySetting, k.ID); err != nil {
		return nil, err
	}
	res := &RotateResult{NewKey: k.ID}
	for {
		batch, err := st.SealedNotUnder(ctx, k.ID, 500)
		if err != nil {
			return res, err
		}
		if len(batch) == 0 {
			break
		}
		for _, s := range batch {
			aad := AAD(s.Tenant, s.ID, s.Attr)
			pt, err := b.Unseal(s.KeyID, s.Data, aad)
			if err != nil {
				return res, fmt.Errorf("%s %s: %w", s.Tenant, s.ID, err)
			}
			sealed, err := b.Seal(k.ID, pt, aad)
			clear(pt)
			if err != nil {
				return res, err
			}
			if err := st.Reseal(ctx, s, k.ID, sealed); err != nil {
				return res, err
			}
			res.Resealed++
		}
	}
	for _, o := range old.Keys {
		res.Retired = append(res.Retired, o.ID)
	}
	if err := WriteFile(b.path, &Ring{Keys: []*Key{k}}); err != nil {
		return res, fmt.Errorf("write key file: %w", err)
	}
	b.mu.Lock()
	b.ring = &Ring{Keys: []*Key{k}}
	b.mu.Unlock()
	return res, nil
}
