package auth

import (
	"strings"
	"testing"
)

func TestParseScopes(t *testing.T) {
	tests := []struct {
		in   string
		want string
		err  bool
	}{
		{"", "scim:read scim:write", false},
		{"scim:read", "scim:read", false},
		{"scim:read,scim:write", "scim:read scim:write", false},
		{"scim:write scim:write", "scim:write", false},
		{"admin", "", true},
		{"scim:read scim:delete", "", true},
	}
	for _, tc := range tests {
		got, err := ParseScopes(tc.in)
		if (err != nil) != tc.err || strings.Join(got, " ") != tc.want {
			t.Errorf("ParseScopes(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestPrincipalCan(t *testing.T) {
	w := &Principal{Scopes: []string{ScopeWrite}}
	r := &Principal{Scopes: []string{ScopeRead}}
	if !w.Can(ScopeRead) || !w.Can(ScopeWrite) || !r.Can(ScopeRead) || r.Can(ScopeWrite) {
		t.Fatal("scope rules: write implies read, read does not imply write")
	}
}

func TestSecrets(t *testing.T) {
	a, b := NewSecret(TokenPrefix), NewSecret(TokenPrefix)
	if a == b || !strings.HasPrefix(a, TokenPrefix) || len(a) != len(TokenPrefix)+43 {
		t.Fatalf("secrets: %q %q", a, b)
	}
	if string(Hash(a)) == string(Hash(b)) || len(Hash(a)) != 32 {
		t.Fatal("hashes")
	}
}
