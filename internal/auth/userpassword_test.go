package auth

import (
	"strings"
	"testing"
)

func TestUserPassword(t *testing.T) {
	h, err := HashUserPassword("pässword\u00a0with nbsp")
	if err != nil {
		t.Fatal(err)
	}
	if !IsPasswordHash(h) {
		t.Fatalf("not a hash: %q", h)
	}
	for _, tc := range []struct {
		pw   string
		want bool
	}{
		{"pässword\u00a0with nbsp", true},
		{"pässword with nbsp", true},            // OpaqueString maps other spaces to U+0020
		{"pa\u0308ssword\u00a0with nbsp", true}, // NFC
		{"Pässword with nbsp", false},
		{"", false},
	} {
		if got := CheckUserPassword(h, tc.pw); got != tc.want {
			t.Errorf("CheckUserPassword(%q) = %v, want %v", tc.pw, got, tc.want)
		}
	}
	if CheckUserPassword("plain text", "plain text") {
		t.Error("a stored value that is not a hash verified")
	}
	for _, bad := range []string{"", strings.Repeat("x", MaxUserPasswordLen+1)} {
		if _, err := HashUserPassword(bad); err == nil {
			t.Errorf("HashUserPassword accepted a password of %d bytes", len(bad))
		}
	}
	// No minimum length: the identity platform owns the policy.
	if _, err := HashUserPassword("a"); err != nil {
		t.Error(err)
	}
}

// BenchmarkHashUserPassword is the CPU cost of one password on a create
// (README "Passwords"): go test -run '^$' -bench HashUserPassword ./internal/auth
func BenchmarkHashUserPassword(b *testing.B) {
	for b.Loop() {
		if _, err := HashUserPassword("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
