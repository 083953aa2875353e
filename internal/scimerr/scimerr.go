// Package scimerr defines the typed errors that every pamscim package returns.
//
// Packages below the HTTP layer never pick an HTTP status: they say what kind of
// problem happened (a Kind) and a human-readable detail. The api package maps
// each Kind to an HTTP status and a SCIM scimType in exactly one place.
package scimerr

import (
	"errors"
	"fmt"
)

// Kind classifies an error. The names follow RFC 7644 §3.12 scimType values
// where one exists.
type Kind int

const (
	// Internal is anything unexpected; the client sees a generic message.
	Internal Kind = iota
	InvalidSyntax
	InvalidValue
	InvalidFilter
	InvalidPath
	NoTarget
	Mutability
	Uniqueness
	TooMany
	InvalidVersion
	Sensitive
	InvalidCursor
	ExpiredCursor
	InvalidCount
	NotFound
	PreconditionFailed // If-Match mismatch
	NotModified        // If-None-Match match on GET
	Unauthorized
	Forbidden
	PayloadTooLarge
	MethodNotAllowed
	NotImplemented
	Conflict // a write conflict that is not a uniqueness violation
	Unavailable
	TooManyRequests // the server is at its concurrency cap
	RequestTimeout  // the request body did not arrive in time
)

var kindNames = map[Kind]string{
	Internal: "internal", InvalidSyntax: "invalidSyntax", InvalidValue: "invalidValue",
	InvalidFilter: "invalidFilter", InvalidPath: "invalidPath", NoTarget: "noTarget",
	Mutability: "mutability", Uniqueness: "uniqueness", TooMany: "tooMany",
	InvalidVersion: "invalidVers", Sensitive: "sensitive", InvalidCursor: "invalidCursor",
	ExpiredCursor: "expiredCursor", InvalidCount: "invalidCount", NotFound: "notFound",
	PreconditionFailed: "preconditionFailed", NotModified: "notModified",
	Unauthorized: "unauthorized", Forbidden: "forbidden", PayloadTooLarge: "payloadTooLarge",
	MethodNotAllowed: "methodNotAllowed", NotImplemented: "notImplemented", Conflict: "conflict",
	Unavailable: "unavailable", TooManyRequests: "tooManyRequests", RequestTimeout: "requestTimeout",
}

func (k Kind) String() string { return kindNames[k] }

// Error is a typed pamscim error.
type Error struct {
	Kind   Kind
	Detail string
	cause  error
}

func (e *Error) Error() string {
	if e.cause != nil && e.Detail == "" {
		return e.Kind.String() + ": " + e.cause.Error()
	}
	return e.Kind.String() + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.cause }

// Is lets errors.Is(err, scimerr.New(kind, "")) match on kind alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Detail == "" && t.Kind == e.Kind
}

// New returns an error of the given kind.
func New(k Kind, format string, args ...any) *Error {
	if len(args) == 0 {
		return &Error{Kind: k, Detail: format}
	}
	return &Error{Kind: k, Detail: fmt.Sprintf(format, args...)}
}

// Wrap returns an error of the given kind that keeps cause for logs.
func Wrap(k Kind, cause error, detail string) *Error {
	return &Error{Kind: k, Detail: detail, cause: cause}
}

// KindOf reports the kind of err; anything that is not an *Error is Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Sentinels for errors.Is checks.
var (
	ErrNotFound   = &Error{Kind: NotFound}
	ErrUniqueness = &Error{Kind: Uniqueness}
	ErrPrecond    = &Error{Kind: PreconditionFailed}
)
