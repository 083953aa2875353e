package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/scimerr"
)

// statusOf is the one place where a typed error becomes an HTTP status and a
// SCIM scimType (RFC 7644 §3.12).
func statusOf(k scimerr.Kind) (status int, scimType string) {
	switch k {
	case scimerr.InvalidSyntax, scimerr.InvalidValue, scimerr.InvalidFilter, scimerr.InvalidPath,
		scimerr.NoTarget, scimerr.Mutability, scimerr.TooMany, scimerr.InvalidVersion,
		scimerr.InvalidCursor, scimerr.ExpiredCursor, scimerr.InvalidCount:
		return http.StatusBadRequest, k.String()
	case scimerr.Uniqueness:
		return http.StatusConflict, "uniqueness"
	case scimerr.Sensitive:
		return http.StatusForbidden, "sensitive"
	case scimerr.NotFound:
		return http.StatusNotFound, ""
	case scimerr.PreconditionFailed:
		return http.StatusPreconditionFailed, ""
	case scimerr.NotModified:
		return http.StatusNotModified, ""
	case scimerr.Unauthorized:
		return http.StatusUnauthorized, ""
	case scimerr.Forbidden:
		return http.StatusForbidden, ""
	case scimerr.PayloadTooLarge:
		return http.StatusRequestEntityTooLarge, ""
	case scimerr.MethodNotAllowed:
		return http.StatusMethodNotAllowed, ""
	case scimerr.NotImplemented:
		return http.StatusNotImplemented, ""
	case scimerr.Conflict:
		return http.StatusConflict, ""
	case scimerr.Unavailable:
		return http.StatusServiceUnavailable, ""
	case scimerr.TooManyRequests:
		return http.StatusTooManyRequests, ""
	case scimerr.RequestTimeout:
		return http.StatusRequestTimeout, ""
	}
	return http.StatusInternalServerError, ""
}

type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

// writeError writes err as a SCIM error. Internal errors are logged and the
// client sees a generic detail, never the cause.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	k := scimerr.KindOf(err)
	detail := ""
	var se *scimerr.Error
	if errors.As(err, &se) {
		detail = se.Detail
	}
	if k == scimerr.Internal && requestTimedOut(r) {
		// The request outlived Limits.RequestTimeout: say so (503, retry)
		// rather than report an internal error.
		k, detail = scimerr.Unavailable, "the request did not finish within the server's request timeout"
	}
	status, scimType := statusOf(k)
	if k == scimerr.Internal {
		s.log.ErrorContext(r.Context(), "internal error", "method", r.Method, "path", r.URL.Path, "err", err)
		detail = "internal server error"
	}
	if status == http.StatusNotModified {
		w.WriteHeader(status)
		return
	}
	if status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pamscim", error="invalid_token"`)
	}
	if (status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests) && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "1")
	}
	body, _ := json.Marshal(errorBody{Schemas: []string{schema.ErrorURN}, Status: strconv.Itoa(status), ScimType: scimType, Detail: detail})
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
