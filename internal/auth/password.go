package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's minimum for argon2id (19 MiB, 2 passes, one
// lane). They are stored in each hash, so raising them later keeps old
// hashes verifiable.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// MinPasswordLen is the shortest service-account password accepted.
const MinPasswordLen = 12

// HashPassword returns the argon2id hash of password in the PHC string
// format ($argon2id$v=19$m=…,t=…,p=…$salt$key).
func HashPassword(password string) (string, error) {
	if len(password) < MinPasswordLen {
		return "", fmt.Errorf("a password needs at least %d characters", MinPasswordLen)
	}
	if len(password) > 1024 {
		return "", errors.New("a password may have at most 1024 bytes")
	}
	return hashArgon(password)
}

// hashArgon is the argon2id hash of password in the PHC string format.
func hashArgon(password string) (string, error) {
	release := hashSlot()
	defer release()
	var salt [16]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt[:], argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt[:]), b64.EncodeToString(key)), nil
}

// dummyHash is checked against when an account does not exist, so that a
// missing account and a wrong password take the same time.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("pamscim-no-such-account")
	return h
})

// CheckPassword reports whether password matches the argon2id hash; an empty
// hash (no such account) is checked against a dummy at the same cost and
// never matches.
func CheckPassword(hash, password string) bool {
	match := hash != ""
	if hash == "" {
		hash = dummyHash()
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 16 || p == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 || len(password) > 1024 {
		return false
	}
	release := hashSlot()
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	release()
	return subtle.ConstantTimeCompare(got, want) == 1 && match
}
