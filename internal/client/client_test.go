package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pamscim/pamscim/internal/client"
	"github.com/pamscim/pamscim/internal/client/scimtest"
)

var fastRetry = client.RetryPolicy{MaxRetries: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxRetryAfter: 50 * time.Millisecond}

func newClient(t *testing.T, base string, a client.Authenticator) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{BaseURL: base, Auth: a, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func user(name string) map[string]any {
	return map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": name,
		"name":     map[string]any{"givenName": "G", "familyName": name},
		"emails":   []any{map[string]any{"value": name + "@example.com", "type": "work", "primary": true}},
		"active":   true,
	}
}

func TestCRUDAgainstPamscim(t *testing.T) {
	s := scimtest.Start(t)
	c := newClient(t, s.URL, client.Bearer(s.Token))
	ctx := context.Background()

	cr, err := c.Create(ctx, "/Users", user("alice"))
	if err != nil {
		t.Fatal(err)
	}
	if cr.Status != 201 || cr.Resource.ID() == "" || cr.Location() == "" || cr.ETag() == "" {
		t.Fatalf("create: status %d id %q location %q etag %q", cr.Status, cr.Resource.ID(), cr.Location(), cr.ETag())
	}
	path := client.ResourcePath("/Users", cr.Resource.ID())

	g, err := c.Get(ctx, path, &client.GetOptions{Attributes: []string{"userName"}})
	if err != nil || g.Resource.Str("userName") != "alice" || g.Resource.Get("name") != nil {
		t.Fatalf("get with attributes: %v %v", err, g.Resource)
	}
	nm, err := c.Get(ctx, path, &client.GetOptions{IfNoneMatch: cr.ETag()})
	if err != nil || nm.Status != http.StatusNotModified {
		t.Fatalf("If-None-Match: %v status %d", err, nm.Status)
	}

	if _, err := c.Patch(ctx, path, []client.PatchOp{{Op: "replace", Path: "active", Value: false}}, cr.ETag()); err != nil {
		t.Fatal(err)
	}
	// The old ETag no longer matches.
	_, err = c.Patch(ctx, path, []client.PatchOp{{Op: "replace", Path: "active", Value: true}}, cr.ETag())
	if client.StatusOf(err) != http.StatusPreconditionFailed {
		t.Fatalf("stale If-Match: %v", err)
	}

	doc := user("alice")
	doc["displayName"] = "Alice"
	rp, err := c.Replace(ctx, path, doc, "")
	if err != nil || rp.Resource.Str("displayName") != "Alice" {
		t.Fatalf("replace: %v", err)
	}

	_, err = c.Create(ctx, "/Users", user("ALICE"))
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 409 || ce.ScimType != "uniqueness" || !ce.SCIM {
		t.Fatalf("duplicate: %#v", err)
	}
	if err := c.Delete(ctx, path, ""); err != nil {
		t.Fatal(err)
	}
	_, err = c.Get(ctx, path, nil)
	if client.StatusOf(err) != 404 {
		t.Fatalf("after delete: %v", err)
	}
}

func TestListWalksEveryResourceOnce(t *testing.T) {
	s := scimtest.Start(t)
	c := newClient(t, s.URL, client.Bearer(s.Token))
	ctx := context.Background()
	const n = 230
	for i := range n {
		if _, err := c.Create(ctx, "/Users", user(fmt.Sprintf("u%03d", i))); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		paging client.Paging
		want   client.Paging
	}{
		{"index", client.PagingIndex, client.PagingIndex},
		{"cursor", client.PagingCursor, client.PagingCursor},
		{"auto picks cursor as advertised", client.PagingAuto, client.PagingCursor},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[string]int{}
			st, err := c.List(ctx, "/Users", client.ListOptions{PageSize: 50, Paging: tc.paging, Attributes: []string{"userName"}}, func(r client.Resource) error {
				seen[r.Str("userName")]++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(seen) != n || st.Resources != n || st.Pages != 5 || st.Paging != tc.want || st.TotalResults != n {
				t.Fatalf("saw %d distinct, stats %+v", len(seen), st)
			}
			for k, v := range seen {
				if v != 1 {
					t.Fatalf("%s seen %d times", k, v)
				}
			}
		})
	}
	// A filter narrows, and the iterator form stops when the loop breaks.
	count := 0
	for r, err := range c.All(ctx, "/Users", client.ListOptions{Filter: `userName sw "u1"`, PageSize: 10}) {
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(r.Str("userName"), "u1") {
			t.Fatalf("filter ignored: %v", r.Str("userName"))
		}
		if count++; count == 15 {
			break
		}
	}
	if count != 15 {
		t.Fatalf("iterated %d", count)
	}
	// A callback error stops the walk and comes back unchanged.
	stop := errors.New("enough")
	_, err := c.List(ctx, "/Users", client.ListOptions{PageSize: 10}, func(client.Resource) error { return stop })
	if err != stop {
		t.Fatalf("callback error: %v", err)
	}
}

// A server that answers 429/503 a few times before passing requests on.
func TestRetries(t *testing.T) {
	s := scimtest.Start(t)
	target, _ := url.Parse(s.Root)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	plan := map[string][]int{} // method → statuses to answer before passing on
	var hits atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		mu.Lock()
		q := plan[r.Method]
		var st int
		if len(q) > 0 {
			st, plan[r.Method] = q[0], q[1:]
		}
		mu.Unlock()
		switch st {
		case 0:
			proxy.ServeHTTP(w, r)
			return
		case 429:
			w.Header().Set("Retry-After", "0")
		case 503:
			w.Header().Set("Retry-After", time.Now().Add(-time.Second).UTC().Format(http.TimeFormat))
		}
		w.WriteHeader(st)
	}))
	defer front.Close()
	var events []client.RetryEvent
	c, err := client.New(client.Config{BaseURL: front.URL + "/scim/v2", Auth: client.Bearer(s.Token), Retry: fastRetry,
		OnRetry: func(e client.RetryEvent) { events = append(events, e) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		method   string
		plan     []int
		wantErr  int
		wantHits int64
	}{
		{"429 then ok", "POST", []int{429, 429}, 0, 3},
		{"503 with a past HTTP date then ok", "POST", []int{503}, 0, 2},
		{"500 502 504 then ok", "GET", []int{500, 502, 504}, 0, 4},
		{"gives up after MaxRetries", "GET", []int{503, 503, 503, 503, 503}, 503, 4},
		{"501 is not retried", "GET", []int{501}, 501, 1},
		{"400 is not retried", "GET", []int{400}, 400, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			plan = map[string][]int{tc.method: tc.plan}
			mu.Unlock()
			hits.Store(0)
			events = nil
			var err error
			if tc.method == "POST" {
				_, err = c.Create(ctx, "/Users", user(fmt.Sprintf("r%d", time.Now().UnixNano())))
			} else {
				_, err = c.Get(ctx, "/ServiceProviderConfig", nil)
			}
			if client.StatusOf(err) != tc.wantErr {
				t.Fatalf("err %v, want status %d", err, tc.wantErr)
			}
			if hits.Load() != tc.wantHits {
				t.Fatalf("%d requests, want %d", hits.Load(), tc.wantHits)
			}
			if int64(len(events)) != tc.wantHits-1 {
				t.Fatalf("%d retry events", len(events))
			}
			for _, e := range events {
				if e.Wait > fastRetry.MaxRetryAfter {
					t.Fatalf("waited %v, more than the cap", e.Wait)
				}
			}
		})
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
			return
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	var waits []time.Duration // OnRetry runs on the calling goroutine
	c, _ := client.New(client.Config{BaseURL: srv.URL, Retry: client.RetryPolicy{MaxRetries: 2, MaxRetryAfter: time.Millisecond},
		OnRetry: func(e client.RetryEvent) { waits = append(waits, e.Wait) }})
	if _, err := c.Get(context.Background(), "/x", nil); err != nil {
		t.Fatal(err)
	}
	// 7 s asked, capped by MaxRetryAfter: the header, not the backoff, decided.
	if len(waits) != 1 || waits[0] != time.Millisecond {
		t.Fatalf("waits %v", waits)
	}
	// Uncapped, the client waits the 7 s the server asked for; cancelling
	// the context ends the wait.
	n.Store(0)
	ctx, cancel := context.WithCancel(context.Background())
	var asked time.Duration
	c2, _ := client.New(client.Config{BaseURL: srv.URL, Retry: client.RetryPolicy{MaxRetries: 2, MaxRetryAfter: time.Hour},
		OnRetry: func(e client.RetryEvent) { asked = e.Wait; cancel() }})
	_, err := c2.Get(ctx, "/x", nil)
	if !errors.Is(err, context.Canceled) || asked != 7*time.Second {
		t.Fatalf("err %v, waited %v", err, asked)
	}
}

func TestErrorBodies(t *testing.T) {
	for _, tc := range []struct {
		body     string
		scim     bool
		scimType string
		detail   string
	}{
		{`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"taken"}`, true, "uniqueness", "taken"},
		{`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":409,"detail":"numeric status"}`, true, "", "numeric status"},
		{`<html>Bad gateway</html>`, false, "", ""},
		{`{"error":"nope"}`, false, "", ""},
	} {
		e := client.ParseError("GET", "http://x/Users", 409, []byte(tc.body))
		if e.SCIM != tc.scim || e.ScimType != tc.scimType || e.Detail != tc.detail || !strings.Contains(e.Error(), "409") {
			t.Errorf("%s: %+v", tc.body, e)
		}
	}
}

func TestBadBaseURL(t *testing.T) {
	for _, u := range []string{"", "localhost:8080", "ftp://x/scim", "http://"} {
		if _, err := client.New(client.Config{BaseURL: u}); err == nil {
			t.Errorf("%q accepted", u)
		}
	}
}

func TestURLEscaping(t *testing.T) {
	c, _ := client.New(client.Config{BaseURL: "http://h/scim/v2/"})
	got := c.URL(client.ResourcePath("/Users", "a b/c"), url.Values{"filter": {`userName eq "a+b c"`}})
	want := `http://h/scim/v2/Users/a%20b%2Fc?filter=userName%20eq%20%22a%2Bb%20c%22`
	if got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
}

// A ListResponse with odd but legal member order and lenient forms.
func TestDecodeListForms(t *testing.T) {
	bodies := map[string]string{
		"resources first, lower-case names": `{"resources":[{"id":"1"},{"id":"2"}],"totalresults":"2","schemas":["` + client.ListResponseURN + `"]}`,
		"null Resources":                    `{"schemas":["` + client.ListResponseURN + `"],"totalResults":0,"Resources":null}`,
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(body)) }))
			defer srv.Close()
			c, _ := client.New(client.Config{BaseURL: srv.URL})
			var ids []string
			info, err := c.Page(context.Background(), "/Users", client.ListOptions{}, client.PageRequest{StartIndex: 1}, func(r client.Resource) error {
				ids = append(ids, r.ID())
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var want struct {
				Resources []struct{ ID string } `json:"resources"`
			}
			_ = json.Unmarshal([]byte(strings.ToLower(body)), &want)
			if len(ids) != len(want.Resources) || info.Count != len(ids) {
				t.Fatalf("ids %v info %+v", ids, info)
			}
		})
	}
	for _, bad := range []string{`[]`, `{"Resources":{}}`, `{"totalResults":"x"}`, `{"Resources":[1,2]}`, `{"Resources":[{}]`} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(bad)) }))
		c, _ := client.New(client.Config{BaseURL: srv.URL})
		_, err := c.Page(context.Background(), "/Users", client.ListOptions{}, client.PageRequest{}, func(client.Resource) error { return nil })
		srv.Close()
		if err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// The index walk stops on an empty page even when totalResults lies.
func TestIndexWalkStopsOnEmptyPage(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Query().Get("startIndex") == "1" {
			w.Write([]byte(`{"totalResults":1000,"Resources":[{"id":"a"}]}`))
			return
		}
		w.Write([]byte(`{"totalResults":1000,"Resources":[]}`))
	}))
	defer srv.Close()
	c, _ := client.New(client.Config{BaseURL: srv.URL})
	st, err := c.List(context.Background(), "/Users", client.ListOptions{Paging: client.PagingIndex}, func(client.Resource) error { return nil })
	if err != nil || st.Resources != 1 || calls.Load() != 2 {
		t.Fatalf("%v %+v calls %d", err, st, calls.Load())
	}
}

// A base given without /v2 (as seed 004's Server setting is) is completed.
func TestResolveBase(t *testing.T) {
	s := scimtest.Start(t)
	ctx := context.Background()
	c := newClient(t, s.Root+"/scim", client.Bearer(s.Token))
	changed, err := c.ResolveBase(ctx)
	if err != nil || !changed || c.BaseURL() != s.URL {
		t.Fatalf("changed %v err %v base %s", changed, err, c.BaseURL())
	}
	c2 := newClient(t, s.URL, client.Bearer(s.Token))
	if changed, _ := c2.ResolveBase(ctx); changed || c2.BaseURL() != s.URL {
		t.Fatal("a correct base was changed")
	}
	c3 := newClient(t, s.Root+"/nothing", client.Bearer(s.Token))
	if changed, _ := c3.ResolveBase(ctx); changed {
		t.Fatal("a base with nothing under /v2 was changed")
	}
}
