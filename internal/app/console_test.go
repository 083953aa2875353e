package app_test

import (
	"net/http"
	"testing"

	"github.com/pamscim/pamscim/internal/app"
)

// The console is mounted at /admin/ on the main listener, and the SCIM API
// beside it is unchanged.
func TestConsoleMounted(t *testing.T) {
	r := serve(t, &app.Config{})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, tc := range []struct {
		path, auth string
		status     int
		location   string
		console    bool
	}{
		{"/admin", "", http.StatusTemporaryRedirect, "/admin/", true}, // ServeMux's redirect to the subtree
		{"/admin/", "", http.StatusSeeOther, "/admin/login", true},
		{"/admin/login", "", http.StatusOK, "", true},
		{"/admin/static/style.css", "", http.StatusOK, "", true},
		{"/scim/v2/ServiceProviderConfig", "", http.StatusOK, "", false},
		{"/scim/v2/Users", "Bearer " + r.token, http.StatusOK, "", false},
		{"/scim/v2/Users", "", http.StatusUnauthorized, "", false},
		{"/administrator", "", http.StatusNotFound, "", false},
	} {
		t.Run(tc.path, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "http://"+r.addr+tc.path, nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			res, err := noRedirect.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.status || res.Header.Get("Location") != tc.location {
				t.Fatalf("%d %q, want %d %q", res.StatusCode, res.Header.Get("Location"), tc.status, tc.location)
			}
			if got := res.Header.Get("X-Frame-Options") == "DENY" && res.Header.Get("Content-Security-Policy") != ""; got != tc.console {
				t.Fatalf("console headers %v, want %v", got, tc.console)
			}
		})
	}
}
