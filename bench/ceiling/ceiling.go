// Package ceiling is the load generator's yardstick: an HTTP server that
// does no SCIM work at all and answers every request with a canned SCIM
// body. Run against it, bench/load measures the most this machine can do
// through HTTP with the same client; every pamscim figure is also given as
// a fraction of it. Its answers are never right (a lookup always returns
// the same user), so the load generator's verifier reports them as wrong:
// the ceiling's figure is answers per second, not verified work.
package ceiling

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// User is the canned user every answer carries.
var User = map[string]any{
	"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
	"id":       "2819c223-7f76-453a-919d-413861904646",
	"userName": "ceiling@example.com",
	"active":   true,
	"name":     map[string]any{"givenName": "Canned", "familyName": "Ceiling"},
	"emails":   []any{map[string]any{"value": "ceiling@example.com", "type": "work", "primary": true}},
	"meta": map[string]any{"resourceType": "User", "version": `W/"1"`,
		"created": "2026-01-01T00:00:00Z", "lastModified": "2026-01-01T00:00:00Z",
		"location": "http://127.0.0.1/scim/v2/Users/2819c223-7f76-453a-919d-413861904646"},
}

// Handler answers:
//   - GET with a filter: a ListResponse holding the canned user;
//   - GET of a collection (/Users, /Groups) without a filter: a ListResponse
//     of `count` canned users (at most 1,000; 1 without count) claiming
//     total results, so that an export walks as many pages as it would over
//     a store of that size;
//   - POST: 201 with the canned user; DELETE: 204; anything else: 200 with
//     the canned user.
func Handler(total int) http.Handler {
	user := mustJSON(User)
	var mu sync.Mutex
	lists := map[int][]byte{}
	list := func(n, tot int) []byte {
		mu.Lock()
		defer mu.Unlock()
		key := n<<32 | tot
		if b, ok := lists[key]; ok {
			return b
		}
		rs := make([]any, n)
		for i := range rs {
			rs[i] = User
		}
		b := mustJSON(map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
			"totalResults": tot, "startIndex": 1, "itemsPerPage": n, "Resources": rs})
		lists[key] = b
		return b
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the body as a real server must, so that the client's writes
		// are part of the measure.
		buf := make([]byte, 4096)
		for {
			if _, err := r.Body.Read(buf); err != nil {
				break
			}
		}
		h := w.Header()
		h["Content-Type"] = []string{"application/scim+json"}
		var body []byte
		status := http.StatusOK
		switch {
		case r.Method == http.MethodGet && r.URL.Query().Has("filter"):
			body = list(1, 1)
		case r.Method == http.MethodGet && isCollection(r.URL.Path):
			n := 1
			if c, err := strconv.Atoi(r.URL.Query().Get("count")); err == nil && c >= 0 {
				n = min(c, 1000)
			}
			body = list(n, total)
		case r.Method == http.MethodPost:
			status, body = http.StatusCreated, user
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
			return
		default:
			body = user
		}
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

func isCollection(p string) bool {
	p = strings.TrimRight(p, "/")
	return strings.HasSuffix(p, "/Users") || strings.HasSuffix(p, "/Groups")
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
