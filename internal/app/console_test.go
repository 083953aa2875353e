package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/app"
	"github.com/pamscim/pamscim/internal/auth"
	"github.com/pamscim/pamscim/internal/console"
	"github.com/pamscim/pamscim/internal/schema"
	"github.com/pamscim/pamscim/internal/store"
	"github.com/pamscim/pamscim/internal/store/sqlite"
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

// TestConsoleSessionLifetime: serve's --admin-session-lifetime reaches the
// console: a session signed in on the running server ends when it says.
func TestConsoleSessionLifetime(t *testing.T) {
	c := &app.Config{AdminSessions: app.AdminSessions{AdminSessionIdle: 5 * time.Minute, AdminSessionLifetime: 90 * time.Minute}}
	r := serve(t, c)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, c.Data, schema.Default(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	hash, err := auth.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := st.CreateAdmin(ctx, &store.Admin{Name: "root", PasswordHash: hash, Created: now, PasswordChanged: now}); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", "http://"+r.addr+"/admin/login", strings.NewReader(url.Values{"name": {"root"}, "password": {"correct horse battery"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://"+r.addr)
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var raw []byte
	for _, ck := range res.Cookies() {
		if ck.Name == console.CookieName {
			raw, _ = base64.RawURLEncoding.DecodeString(ck.Value)
		}
	}
	if res.StatusCode != http.StatusSeeOther || raw == nil {
		t.Fatalf("sign-in: %d %v", res.StatusCode, res.Cookies())
	}
	h := sha256.Sum256(raw)
	s, err := st.AdminSession(ctx, h[:])
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Expires.Sub(s.Created); got != 90*time.Minute {
		t.Fatalf("session lifetime %v, want 1h30m", got)
	}
}
