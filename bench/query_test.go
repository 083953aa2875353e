package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func getJSON(b *testing.B, f *fixture, path string) map[string]any {
	req, _ := http.NewRequest("GET", f.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	res, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		b.Fatalf("GET %s: %d %s", path, res.StatusCode, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		b.Fatal(err)
	}
	return m
}

// lookup measures one filter query per iteration over random seeded users,
// checking that exactly the expected user comes back.
func lookup(b *testing.B, filter func(i int) string) {
	f := setup(b)
	n := len(f.ids)
	var lat latencies
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := (i * 7919) % n
		q := "/Users?filter=" + url.QueryEscape(filter(k)) + "&attributes=userName"
		t := time.Now()
		l := getJSON(b, f, q)
		lat.add(time.Since(t))
		if l["totalResults"] != 1.0 {
			b.Fatalf("%s: totalResults %v", q, l["totalResults"])
		}
	}
	lat.report(b)
}

// BenchmarkLookupUserName is Okta's and Entra's matching query.
func BenchmarkLookupUserName(b *testing.B) {
	lookup(b, func(k int) string { return fmt.Sprintf(`userName eq "seed%07d@contoso.com"`, k) })
}

// BenchmarkLookupUserNamePrefix is a userName sw lookup, answered by a
// range scan of the userName index.
func BenchmarkLookupUserNamePrefix(b *testing.B) {
	lookup(b, func(k int) string { return fmt.Sprintf(`userName sw "SEED%07d@"`, k) })
}

// BenchmarkUnindexedFilter times one filter that no index answers (every
// document is read): what --query-timeout exists for. It reports the
// seconds taken and whether the server answered (200) or stopped it
// (400 tooMany).
func BenchmarkUnindexedFilter(b *testing.B) {
	f := setup(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("GET", f.url+"/Users?filter="+url.QueryEscape(`title co "no such title"`), nil)
		req.Header.Set("Authorization", "Bearer "+f.token)
		t := time.Now()
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		d := time.Since(t)
		switch {
		case res.StatusCode == 200:
		case res.StatusCode == 400 && strings.Contains(string(raw), "tooMany"):
			b.ReportMetric(1, "tooMany")
		default:
			b.Fatalf("%d %s", res.StatusCode, raw)
		}
		b.ReportMetric(d.Seconds(), "s/query")
	}
}

// BenchmarkLookupWorkEmail is Entra's email matching query.
func BenchmarkLookupWorkEmail(b *testing.B) {
	lookup(b, func(k int) string { return fmt.Sprintf(`emails[type eq "work"].value eq "seed%07d@contoso.com"`, k) })
}

// BenchmarkLookupExternalID is Entra's externalId matching query.
func BenchmarkLookupExternalID(b *testing.B) {
	lookup(b, func(k int) string { return fmt.Sprintf(`externalId eq "seed%07d-ext"`, k) })
}

// walk lists every user at count 200, by cursor or by index, and reports
// the total time and the first and last page times.
func walk(b *testing.B, cursor bool) {
	f := setup(b)
	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		start := time.Now()
		var first, last time.Duration
		seen := 0
		ids := make(map[string]bool, len(f.ids))
		next, startIndex := "", 1
		for page := 0; ; page++ {
			q := fmt.Sprintf("/Users?count=200&startIndex=%d", startIndex)
			if cursor {
				q = "/Users?count=200&cursor=" + next
			}
			t := time.Now()
			l := getJSON(b, f, q)
			d := time.Since(t)
			if page == 0 {
				first = d
			}
			last = d
			res := l["Resources"].([]any)
			got := len(res)
			seen += got
			for _, r := range res {
				ids[r.(map[string]any)["id"].(string)] = true
			}
			if cursor {
				nc, ok := l["nextCursor"].(string)
				if !ok {
					break
				}
				next = nc
			} else {
				if got == 0 || startIndex+got > int(l["totalResults"].(float64)) {
					break
				}
				startIndex += got
			}
		}
		// Every user once: a page that repeats or skips rows is a wrong
		// answer, however fast.
		if seen != len(f.ids) || len(ids) != len(f.ids) {
			b.Fatalf("walk saw %d users (%d distinct), want %d", seen, len(ids), len(f.ids))
		}
		b.ReportMetric(time.Since(start).Seconds(), "total-s")
		b.ReportMetric(float64(first.Microseconds())/1000, "first-page-ms")
		b.ReportMetric(float64(last.Microseconds())/1000, "last-page-ms")
	}
}

// BenchmarkListAllCursor pages through every user with RFC 9865 cursors.
func BenchmarkListAllCursor(b *testing.B) { walk(b, true) }

// BenchmarkListAllIndex pages through every user with startIndex/count.
func BenchmarkListAllIndex(b *testing.B) { walk(b, false) }
