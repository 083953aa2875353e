package api_test

import (
	"fmt"
	"sync"
	"testing"
)

// TestCreateRace: 50 clients create one userName at once; exactly one wins.
func TestCreateRace(t *testing.T) {
	e := newEnv(t)
	const n = 50
	codes := make(chan int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- e.do("POST", "/Users", fmt.Sprintf(`{"userName":"Racer@Example.com","title":"t%d"}`, i)).status
		}()
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[201] != 1 || count[409] != n-1 {
		t.Fatalf("statuses: %v", count)
	}
}

// TestConcurrentMembershipPatches: Entra E28 — concurrent member adds on one
// group all take effect.
func TestConcurrentMembershipPatches(t *testing.T) {
	e := newEnv(t)
	gid := e.createGroup("Busy")["id"].(string)
	var users []string
	for i := 0; i < 25; i++ {
		users = append(users, e.createUser(fmt.Sprintf("m%02d", i))["id"].(string))
	}
	var wg sync.WaitGroup
	for _, uid := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := e.do("PATCH", "/Groups/"+gid, fmt.Sprintf(`{"Operations":[{"op":"Add","path":"members","value":[{"value":"%s"}]}]}`, uid))
			if r.status != 204 {
				t.Errorf("PATCH: %d %s", r.status, r.raw)
			}
		}()
	}
	wg.Wait()
	g := e.do("GET", "/Groups/"+gid, nil).want(t, 200)
	if n := len(g.body["members"].([]any)); n != len(users) {
		t.Fatalf("%d members after %d concurrent adds", n, len(users))
	}
	if v := g.header.Get("ETag"); v != fmt.Sprintf(`W/"%d"`, 1+len(users)) {
		t.Fatalf("version %s after %d changes", v, len(users))
	}
}
