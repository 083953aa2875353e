package secretbox

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenGeneratesPrivateKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", DefaultFile)
	b, created, err := Open(path, true)
	if err != nil || !created {
		t.Fatalf("open: %v %v", created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", fi.Mode(), err)
	}
	b2, created, err := Open(path, true)
	if err != nil || created || b2.Newest() != b.Newest() {
		t.Fatalf("reopen: %v %v", created, err)
	}
	if _, _, err := Open(filepath.Join(t.TempDir(), "missing"), false); err == nil {
		t.Fatal("a missing key file that may not be created opened")
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(path, true); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("a world-readable key file: %v", err)
	}
}

func TestSealUnseal(t *testing.T) {
	b, _, err := Open(filepath.Join(t.TempDir(), DefaultFile), true)
	if err != nil {
		t.Fatal(err)
	}
	id := b.Newest()
	aad := AAD("t", "id", "a")
	s1, err := b.Seal(id, []byte("hunter2"), aad)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := b.Seal(id, []byte("hunter2"), aad)
	if bytes.Equal(s1, s2) || bytes.Contains(s1, []byte("hunter2")) {
		t.Fatal("sealing is not randomised, or leaks the plaintext")
	}
	cases := []struct {
		name   string
		id     string
		sealed []byte
		aad    []byte
		ok     bool
	}{
		{"good", id, s1, aad, true},
		{"other row", id, s1, AAD("t", "id2", "a"), false},
		{"other tenant", id, s1, AAD("u", "id", "a"), false},
		{"tampered", id, append(bytes.Clone(s1[:len(s1)-1]), s1[len(s1)-1]^1), aad, false},
		{"short", id, s1[:5], aad, false},
		{"unknown key", "0011223344556677", s1, aad, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pt, err := b.Unseal(tc.id, tc.sealed, tc.aad)
			if tc.ok != (err == nil) || (tc.ok && string(pt) != "hunter2") {
				t.Fatalf("unseal: %q %v", pt, err)
			}
		})
	}
}

func TestParseRing(t *testing.T) {
	k, _ := NewRandomKey()
	good := string((&Ring{Keys: []*Key{k}}).Format())
	raw := base64.StdEncoding.EncodeToString(k.key)
	cases := []struct {
		name, text string
		ok         bool
	}{
		{"formatted", good, true},
		{"comments and blanks", "# x\n\n" + good, true},
		{"empty", "", false},
		{"wrong magic", "pamscim-key-v0 " + k.ID + " " + raw + "\n", false},
		{"wrong id", magic + " 0000000000000000 " + raw + "\n", false},
		{"not base64", magic + " " + k.ID + " !!!\n", false},
		{"short key", magic + " " + KeyID([]byte("short")) + " " + base64.StdEncoding.EncodeToString([]byte("short")) + "\n", false},
		{"extra field", magic + " " + k.ID + " " + raw + " x\n", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRing([]byte(tc.text))
			if tc.ok != (err == nil) {
				t.Fatalf("parse: %v %v", r, err)
			}
			if err != nil && strings.Contains(err.Error(), raw) {
				t.Fatalf("the error shows the key: %v", err)
			}
		})
	}
}

// FuzzParseRing: no input crashes the key file parser, and what it accepts
// formats back to a file it reads the same.
func FuzzParseRing(f *testing.F) {
	k, _ := NewRandomKey()
	f.Add((&Ring{Keys: []*Key{k}}).Format())
	f.Add([]byte("# only a comment\n"))
	f.Add([]byte(magic + " x y\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseRing(b)
		if err != nil {
			return
		}
		r2, err := ParseRing(r.Format())
		if err != nil || len(r2.Keys) != len(r.Keys) {
			t.Fatalf("round trip: %v", err)
		}
		for i := range r.Keys {
			if r.Keys[i].ID != r2.Keys[i].ID {
				t.Fatalf("key %d changed", i)
			}
		}
	})
}
