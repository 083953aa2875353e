package api

import (
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestWorkersReuse: requests one after another run on the same few
// goroutines (whose stacks have grown), requests at once each get one, and
// idle workers exit, leaving nothing behind.
func TestWorkersReuse(t *testing.T) {
	base := runtime.NumGoroutine()
	p := newWorkers(100 * time.Millisecond)

	for range 200 {
		done := make(chan struct{})
		p.run(func() { close(done) })
		<-done
	}
	// A worker that has not yet gone back to waiting when the next task
	// comes makes a second one; never one per task.
	if n := p.spawned.Load(); n > 20 {
		t.Fatalf("200 tasks one after another started %d goroutines", n)
	}

	before := p.spawned.Load()
	var wg sync.WaitGroup
	release := make(chan struct{})
	wg.Add(8)
	for range 8 {
		p.run(func() { wg.Done(); <-release })
	}
	wg.Wait() // all eight running at once
	close(release)
	if n := p.spawned.Load() - before; n > 8 {
		t.Fatalf("8 tasks started %d goroutines", n)
	}

	deadline := time.Now().Add(20 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Fatalf("%d goroutines left after the workers' idle time, %d before", n, base)
	}
}
