package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestSignInReturns: a page opened without a session (it ended, or a link
// from elsewhere) asks to sign in, says why when a session ended, and
// after sign-in opens that page, never a page outside the console.
func TestSignInReturns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.signIn("root")
	e.clk.add(31 * time.Minute)
	page := "/admin/t/default/log?status=409&path=%2FUsers"
	r := b.get(page)
	wantStatus(t, "page after the session ended", r, http.StatusSeeOther)
	loc := r.header.Get("Location")
	if loc != "/admin/login?ended=1&next="+url.QueryEscape(page) {
		t.Fatalf("redirect to %q", loc)
	}
	r = b.get(loc)
	wantStatus(t, "sign-in page", r, http.StatusOK)
	if !strings.Contains(r.body, "Your session has ended: sessions end after 30 minutes without activity, 12 hours after sign-in") {
		t.Fatalf("the sign-in page does not say the session ended: %.600s", r.body)
	}
	if !strings.Contains(r.body, `name="next" value="/admin/t/default/log?status=409&amp;path=%2FUsers"`) {
		t.Fatalf("the sign-in form does not carry the page: %.1500s", r.body)
	}
	// A wrong password keeps it; the right one goes there.
	form := url.Values{"name": {"root"}, "password": {"wrong password!!"}, "next": {page}}
	r = b.do(http.MethodPost, "/admin/login", form, nil)
	wantStatus(t, "wrong password", r, http.StatusUnauthorized)
	if !strings.Contains(r.body, `name="next"`) {
		t.Fatal("a refused sign-in lost the page to return to")
	}
	form.Set("password", password)
	r = b.do(http.MethodPost, "/admin/login", form, nil)
	wantStatus(t, "sign-in", r, http.StatusSeeOther)
	if r.header.Get("Location") != page {
		t.Fatalf("after sign-in: %q, want %q", r.header.Get("Location"), page)
	}
	wantStatus(t, "the page", b.get(page), http.StatusOK)
	// Signed in, the sign-in link goes straight there.
	if r := b.get("/admin/login?next=" + url.QueryEscape("/admin/t/default/audit")); r.header.Get("Location") != "/admin/t/default/audit" {
		t.Fatalf("signed-in sign-in link: %d %q", r.status, r.header.Get("Location"))
	}

	// A first visit says nothing about a session.
	anon := e.browser()
	if r := anon.get("/admin/login?next=%2Fadmin%2Ft%2Fdefault%2F"); strings.Contains(r.body, "session has ended") {
		t.Fatal("a first visit is told its session ended")
	}

	// Never outside the console.
	for _, next := range []string{"//evil.example/admin/", "https://evil.example/admin/", "/admin/../evil", "/admin/%2e%2e/evil",
		"/admin/\\evil.example", "/evil", "/admin/login", "/admin/logout", "/admin/t/x#frag", "javascript:alert(1)"} {
		c := e.browser()
		r := c.do(http.MethodPost, "/admin/login", url.Values{"name": {"root"}, "password": {password}, "next": {next}}, nil)
		wantStatus(t, next, r, http.StatusSeeOther)
		if r.header.Get("Location") != "/admin/" {
			t.Errorf("next=%q: sent to %q", next, r.header.Get("Location"))
		}
		if r := c.get("/admin/login?next=" + url.QueryEscape(next)); r.header.Get("Location") != "/admin/" {
			t.Errorf("signed in, next=%q: sent to %q", next, r.header.Get("Location"))
		}
	}
}

// TestTenantSwitchKeepsSection: switching tenant on a section's page opens
// the same section of the other tenant.
func TestTenantSwitchKeepsSection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.signIn("root")
	for _, sec := range []string{"clients", "tokens", "log", "audit"} {
		body := b.get("/admin/t/default/" + sec).body
		if !strings.Contains(body, `<input type="hidden" name="to" value="`+sec+`">`) {
			t.Fatalf("the switcher on %s does not say the section", sec)
		}
		if r := b.get("/admin/switch?tenant=acme&to=" + sec); r.header.Get("Location") != "/admin/t/acme/"+sec {
			t.Fatalf("switch from %s: %q", sec, r.header.Get("Location"))
		}
	}
	if strings.Contains(b.get("/admin/t/default/").body, `name="to"`) || strings.Contains(b.get("/admin/tenants").body, `name="to"`) {
		t.Fatal("the dashboard or tenant list names a section")
	}
	for _, to := range []string{"", "tenants", "../../x", "log/1", "https://evil.example"} {
		if r := b.get("/admin/switch?tenant=acme&to=" + url.QueryEscape(to)); r.header.Get("Location") != "/admin/t/acme/" {
			t.Errorf("to=%q: %q", to, r.header.Get("Location"))
		}
	}
}

// TestTimesSayUTC: every column of times says its zone, as the pages show
// times in UTC whatever the administrator's own zone.
func TestTimesSayUTC(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.signIn("root")
	// Lists with rows, so that each table is on its page.
	b.follow(b.post("/admin/t/default/tokens", url.Values{"name": {"okta"}, "scope_read": {"1"}, "expires": {"30d"}}))
	b.follow(b.post("/admin/t/default/clients", url.Values{"name": {"c"}, "scope_read": {"1"}, "grant_client_credentials": {"1"},
		"access_ttl": {"15m"}, "refresh_ttl": {"30d"}}))
	th := regexp.MustCompile(`<th>([^<]*)</th>`)
	timely := regexp.MustCompile(`(?i)^time\b|created|expires|used|changed`)
	seen := 0
	for _, p := range []string{"/admin/tenants", "/admin/t/default/", "/admin/t/default/clients", "/admin/t/default/tokens", "/admin/t/default/log", "/admin/t/default/audit"} {
		for _, m := range th.FindAllStringSubmatch(b.get(p).body, -1) {
			if timely.MatchString(m[1]) {
				seen++
				if !strings.Contains(m[1], "UTC") {
					t.Errorf("%s: column %q does not say its zone", p, m[1])
				}
			}
		}
	}
	if seen < 6 {
		t.Fatalf("%d time columns found: the pages' tables are missing", seen)
	}
}
