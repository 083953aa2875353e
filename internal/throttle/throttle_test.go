package throttle

import (
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := NewLimiter(1, 3) // one a second, three at once
	now := time.Unix(1000, 0)
	for i := range 3 {
		if ok, _ := l.Allow("a", now); !ok {
			t.Fatalf("request %d refused", i)
		}
	}
	ok, wait := l.Allow("a", now)
	if ok || wait != time.Second {
		t.Fatalf("fourth: %v %v", ok, wait)
	}
	if ok, _ := l.Allow("b", now); !ok {
		t.Fatal("keys share a bucket")
	}
	if ok, _ := l.Allow("a", now.Add(time.Second)); !ok {
		t.Fatal("no refill")
	}
	if RetryAfter(1500*time.Millisecond) != "2" || RetryAfter(0) != "1" {
		t.Fatal("RetryAfter rounds up to whole seconds, at least 1")
	}
}

func TestLimiterEvictsIdleKeys(t *testing.T) {
	l := NewLimiter(1, 1)
	now := time.Unix(0, 0)
	for i := range maxKeys {
		l.Allow(strconv.Itoa(i), now)
	}
	// Everything refilled by now: a new key evicts the idle ones.
	l.Allow("new", now.Add(time.Hour))
	if n := l.Len(); n != 1 {
		t.Fatalf("%d keys kept", n)
	}
}

func TestFailures(t *testing.T) {
	f := NewFailures(FailurePolicy{PerSourceBurst: 10, PerSourceEvery: time.Second, PerClientBurst: 2, PerClientEvery: 10 * time.Second, PerUserBurst: 1, PerUserEvery: time.Minute})
	now := time.Unix(1000, 0)
	f.Succeeded("owner", "c", now)
	f.Failed("evil", "c", "", now)
	f.Failed("evil", "c", "", now)
	if b, d := f.Check("evil", "c", "", now); !b || d != 10*time.Second {
		t.Fatalf("client bucket: %v %v", b, d)
	}
	if b, _ := f.Check("owner", "c", "", now); b {
		t.Fatal("the owner's address is locked out")
	}
	if b, _ := f.Check("evil", "c", "", now.Add(10*time.Second)); b {
		t.Fatal("no refill after the interval")
	}
	// Failures from the trusted address do not drain the client's bucket.
	f.Failed("owner", "c", "", now)
	f.Failed("owner", "c", "", now)
	if b, _ := f.Check("third", "c", "", now.Add(10*time.Second)); b {
		t.Fatal("the owner's own mistakes locked others out")
	}
	f.Failed("x", "", "acct", now)
	if b, _ := f.Check("y", "", "acct", now); !b {
		t.Fatal("account bucket")
	}
	if b, _ := f.Check("owner", "c", "", now.Add(25*time.Hour)); b {
		t.Fatal("trust expired should fall back to the client bucket, which is full")
	}
}

func TestSourceIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	for _, tc := range []struct {
		remote, xff string
		trusted     []netip.Prefix
		want        string
	}{
		{"192.0.2.1:5555", "", nil, "192.0.2.1"},
		{"192.0.2.1:5555", "203.0.113.9", nil, "192.0.2.1"},                         // no trusted proxy: header ignored
		{"192.0.2.1:5555", "203.0.113.9", trusted, "192.0.2.1"},                     // peer is not a proxy
		{"10.1.2.3:5555", "203.0.113.9", trusted, "203.0.113.9"},                    // one proxy
		{"10.1.2.3:5555", "6.6.6.6, 203.0.113.9, 10.9.9.9", trusted, "203.0.113.9"}, // spoofed left part ignored
		{"10.1.2.3:5555", "junk", trusted, "10.1.2.3"},
		{"[::1]:80", "", nil, "::1"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := SourceIP(r, tc.trusted); got != tc.want {
			t.Errorf("%s %q: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}
