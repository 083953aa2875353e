// Package secretbox encrypts the secrets of privileged data at rest with
// AES-256-GCM under keys kept in a key file outside the database, and
// rotates them.
//
// The key file (--secret-key-file, PAMSCIM_SECRET_KEY_FILE, or
// <data>/secret-keys generated with mode 0600 on first start) holds one
// key per line, "pamscim-key-v1 ID BASE64". The ID is derived from the key
// (the first 8 bytes of its SHA-256, in hex), so a line cannot name the
// wrong key. Every sealed value records the ID of its key; the database
// records which key seals new values (the setting ActiveKeySetting), so
// that every instance switches at the same transaction when a rotation
// begins, and a rotation can finish without stopping any of them.
//
// A sealed value is nonce (12 bytes) || ciphertext || tag, with the
// tenant, resource id and attribute as additional data: a value copied to
// another row does not open.
package secretbox

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// ActiveKeySetting is the store setting naming the key that seals new values.
const ActiveKeySetting = "secretbox.activeKey"

// DefaultFile is the key file's name inside the data directory.
const DefaultFile = "secret-keys"

const magic = "pamscim-key-v1"

// Key is one AES-256 key.
type Key struct {
	ID  string
	key []byte
	gcm cipher.AEAD
}

func newKey(raw []byte) (*Key, error) {
	if len(raw) != 32 {
		return nil, fmt.Errorf("a key must be 32 bytes, got %d", len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Key{ID: KeyID(raw), key: raw, gcm: gcm}, nil
}

// KeyID derives a key's ID from the key.
func KeyID(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:8])
}

// NewRandomKey returns a fresh random key.
func NewRandomKey() (*Key, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	return newKey(raw)
}

// Ring is the keys of one key file, the first being the newest.
type Ring struct {
	Keys []*Key
}

// Get returns the key with the given ID, or nil.
func (r *Ring) Get(id string) *Key {
	for _, k := range r.Keys {
		if k.ID == id {
			return k
		}
	}
	return nil
}

// ParseRing reads a key file's content.
func ParseRing(b []byte) (*Ring, error) {
	r := &Ring{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != magic {
			return nil, fmt.Errorf("line %d: want %q followed by a key id and a base64 key", n, magic)
		}
		raw, err := base64.StdEncoding.DecodeString(f[2])
		if err != nil {
			return nil, fmt.Errorf("line %d: the key is not base64", n)
		}
		k, err := newKey(raw)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		if k.ID != f[1] {
			return nil, fmt.Errorf("line %d: key id %s does not match the key (its id is %s)", n, f[1], k.ID)
		}
		if r.Get(k.ID) == nil {
			r.Keys = append(r.Keys, k)
		}
	}
	if len(r.Keys) == 0 {
		return nil, errors.New("no key in the key file")
	}
	return r, nil
}

// Format writes the ring in key-file form.
func (r *Ring) Format() []byte {
	var b bytes.Buffer
	b.WriteString("# pamscim secret keys (AES-256-GCM). Keep this file private and backed up:\n")
	b.WriteString("# without it the secrets of privileged data cannot be decrypted.\n")
	for _, k := range r.Keys {
		fmt.Fprintf(&b, "%s %s %s\n", magic, k.ID, base64.StdEncoding.EncodeToString(k.key))
	}
	return b.Bytes()
}

// WriteFile replaces the key file atomically with mode 0600.
func WriteFile(path string, r *Ring) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret-keys-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(r.Format()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// ReadFile reads a key file, refusing one that others may read.
func ReadFile(path string) (*Ring, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret key file %s has mode %o; it must not be readable by group or others (chmod 600)", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := ParseRing(b)
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return r, nil
}

// Box seals and opens values with the keys of one key file, reloading the
// file when asked for a key it does not hold (another process rotated).
type Box struct {
	path string
	mu   sync.Mutex
	ring *Ring
}

// Open returns a box over the key file at path. When create is true and
// the file does not exist, a new key is generated into it (mode 0600).
func Open(path string, create bool) (*Box, bool, error) {
	r, err := ReadFile(path)
	created := false
	if errors.Is(err, os.ErrNotExist) && create {
		k, kerr := NewRandomKey()
		if kerr != nil {
			return nil, false, kerr
		}
		r = &Ring{Keys: []*Key{k}}
		if err = WriteFile(path, r); err == nil {
			created = true
		}
	}
	if err != nil {
		return nil, false, err
	}
	return &Box{path: path, ring: r}, created, nil
}

// Path is the key file.
func (b *Box) Path() string { return b.path }

// Newest is the ID of the first key of the file.
func (b *Box) Newest() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ring.Keys[0].ID
}

// key returns the key with the given ID, reloading the file once if needed.
func (b *Box) key(id string) (*Key, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if k := b.ring.Get(id); k != nil {
		return k, nil
	}
	r, err := ReadFile(b.path)
	if err != nil {
		return nil, fmt.Errorf("reload secret keys: %w", err)
	}
	b.ring = r
	if k := r.Get(id); k != nil {
		return k, nil
	}
	return nil, fmt.Errorf("secret key %s is not in %s", id, b.path)
}

// Has reports whether the key file holds the key (reloading it if needed).
func (b *Box) Has(id string) bool {
	_, err := b.key(id)
	return err == nil
}

// Seal encrypts plaintext under key id, bound to aad.
func (b *Box) Seal(id string, plaintext, aad []byte) ([]byte, error) {
	k, err := b.key(id)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, k.gcm.NonceSize(), k.gcm.NonceSize()+len(plaintext)+k.gcm.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.gcm.Seal(nonce, nonce, plaintext, aad), nil
}

// Unseal decrypts a value sealed under key id with aad.
func (b *Box) Unseal(id string, sealed, aad []byte) ([]byte, error) {
	k, err := b.key(id)
	if err != nil {
		return nil, err
	}
	ns := k.gcm.NonceSize()
	if len(sealed) < ns+k.gcm.Overhead() {
		return nil, errors.New("sealed value is too short")
	}
	pt, err := k.gcm.Open(nil, sealed[:ns], sealed[ns:], aad)
	if err != nil {
		return nil, errors.New("sealed value does not open with its key (wrong key file, or the value was tampered with)")
	}
	return pt, nil
}

// AAD is the additional data binding a sealed value to its row.
func AAD(tenant, id, attr string) []byte {
	return []byte(tenant + "\x00" + id + "\x00" + attr)
}
