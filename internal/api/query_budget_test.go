package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/api"
)

// A list whose store query outlives the query budget is stopped and
// refused with 400 tooMany, on every way of listing; reads of one resource
// are not lists and are not limited. A budget of a nanosecond has expired
// before the store starts, which makes the refusal certain without a
// million users.
func TestQueryBudgetIsTooMany(t *testing.T) {
	e := newEnv(t, api.Config{QueryTimeout: time.Nanosecond})
	u, _ := e.createUser("budget")["id"].(string)
	for _, tc := range []struct {
		name, method, path string
		body               any
	}{
		{"list", "GET", "/Users", nil},
		{"filter", "GET", `/Users?filter=name.familyName+co+"x"`, nil},
		{"cursor", "GET", "/Users?cursor&count=10", nil},
		{"search", "POST", "/Users/.search", map[string]any{"filter": `title co "x"`}},
		{"root", "GET", `?filter=displayName+co+"x"`, nil},
		{"root search", "POST", "/.search", map[string]any{"filter": `displayName co "x"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.body).want(t, http.StatusBadRequest, "tooMany")
			detail, _ := r.body["detail"].(string)
			if !strings.Contains(detail, "query budget") || !strings.Contains(detail, "indexed attribute") {
				t.Fatalf("detail does not say what to do: %q", detail)
			}
		})
	}
	e.do("GET", "/Users/"+u, nil).want(t, http.StatusOK)
}

// A long filter is quoted in the detail cut short, so the error stays small.
func TestQueryBudgetDetailIsBounded(t *testing.T) {
	e := newEnv(t, api.Config{QueryTimeout: time.Nanosecond})
	long := `title co "` + strings.Repeat("x", 3000) + `"`
	r := e.do("POST", "/Users/.search", map[string]any{"filter": long}).want(t, http.StatusBadRequest, "tooMany")
	if len(r.raw) > 700 {
		t.Fatalf("error body of %d bytes for a long filter", len(r.raw))
	}
}

// --index-paging-limit refuses index pages past the window with tooMany
// and a pointer to cursor paging; pages inside it, count=0 totals and
// cursor paging past it still work.
func TestIndexPagingLimit(t *testing.T) {
	e := newEnv(t, api.Config{IndexPagingLimit: 5})
	for i := range 8 {
		e.createUser("window" + itoa(i))
	}
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/Users?startIndex=1&count=5", http.StatusOK},
		{"/Users?startIndex=3&count=3", http.StatusOK},
		{"/Users?startIndex=3&count=4", http.StatusBadRequest},
		{"/Users?startIndex=6&count=1", http.StatusBadRequest},
		{"/Users?count=100", http.StatusBadRequest}, // the default startIndex is 1
		{"/Users?startIndex=100&count=0", http.StatusOK},
		{"?startIndex=4&count=2", http.StatusOK},
		{"?startIndex=5&count=2", http.StatusBadRequest},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := e.do("GET", tc.path, nil)
			if tc.want == http.StatusBadRequest {
				r.want(t, tc.want, "tooMany")
				if d, _ := r.body["detail"].(string); !strings.Contains(d, "cursor") {
					t.Fatalf("detail does not point to cursor paging: %q", d)
				}
				return
			}
			r.want(t, tc.want)
		})
	}
	// A cursor walk reads all eight, past the window.
	seen := 0
	path := "/Users?cursor&count=3"
	for path != "" {
		r := e.do("GET", path, nil).want(t, http.StatusOK)
		res, _ := r.body["Resources"].([]any)
		seen += len(res)
		next, _ := r.body["nextCursor"].(string)
		path = ""
		if next != "" {
			path = "/Users?count=3&cursor=" + next
		}
	}
	if seen != 8 {
		t.Fatalf("cursor walk read %d users, want 8", seen)
	}
}
