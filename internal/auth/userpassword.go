package auth

import (
	"runtime"
	"strings"

	"golang.org/x/text/secure/precis"

	"github.com/pamscim/pamscim/internal/scimerr"
)

// MaxUserPasswordLen bounds the password of a SCIM User. argon2id's cost
// does not grow with the input, but nothing real is this long.
const MaxUserPasswordLen = 1024

// HashUserPassword returns the argon2id hash (PHC string) of a SCIM User's
// password. The password is prepared first with RFC 8265's OpaqueString
// profile, as RFC 7644 §7.8 requires before passwords are compared: other
// Unicode spaces become U+0020 and the text is NFC, so one password typed on
// two keyboards hashes alike. A password the profile refuses (control
// characters, say) is hashed as sent rather than refused: the identity
// platform owns the password policy, and refusing here would fail its sync.
// Unlike service-account passwords there is no minimum length, for the
// same reason. An empty or too long password is invalidValue.
func HashUserPassword(password string) (string, error) {
	if password == "" {
		return "", scimerr.New(scimerr.InvalidValue, "password must not be empty")
	}
	if len(password) > MaxUserPasswordLen {
		return "", scimerr.New(scimerr.InvalidValue, "password may have at most %d bytes", MaxUserPasswordLen)
	}
	return hashArgon(prepareOpaque(password))
}

// CheckUserPassword reports whether password is the one hash was made from.
func CheckUserPassword(hash, password string) bool {
	if !IsPasswordHash(hash) || password == "" {
		return false
	}
	return CheckPassword(hash, prepareOpaque(password))
}

// IsPasswordHash reports whether s is a stored hash rather than a password
// a client sent.
func IsPasswordHash(s string) bool { return strings.HasPrefix(s, "$argon2id$") }

func prepareOpaque(s string) string {
	if p, err := precis.OpaqueString.String(s); err == nil {
		return p
	}
	return s
}

// hashSlots bounds the argon2id computations running at once to the CPUs:
// each holds 19 MiB and a core for tens of milliseconds, so a burst of
// creates with passwords (an Okta import) queues here instead of taking
// gigabytes and starving every other request.
var hashSlots = make(chan struct{}, runtime.GOMAXPROCS(0))

func hashSlot() (release func()) {
	hashSlots <- struct{}{}
	return func() { <-hashSlots }
}
