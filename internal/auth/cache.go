package auth

import (
	"sync"
	"time"
)

// CacheTTL bounds how long a verified bearer token is used without reading
// the store again, and so how long a revocation made by another instance
// (or by the CLI on the same database) takes to be seen. A revocation made
// through this instance's store is seen by the next request (the store's
// TokenEpoch). At thousands of requests a second, one read per token each
// CacheTTL is nothing; a read per request was a fifth of a lookup's CPU.
const CacheTTL = 250 * time.Millisecond

// DefaultCacheSize bounds the tokens kept: far more than the live tokens of
// a deployment (one or a few per identity platform, a handful of OAuth
// access tokens each), so that eviction is rare, and small in memory.
const DefaultCacheSize = 4096

// cached is a token as it was verified: the principal it names and what
// must still be checked on every use.
type cached struct {
	p       Principal
	expires time.Time // zero: never
	named   bool      // a named token, whose last use is recorded
	read    time.Time // when it was read from the store
	epoch   uint64    // the store's TokenEpoch before that read
}

// tokenCache holds verified, unrevoked tokens by the SHA-256 of their
// secret. Refusals are not kept: a token created a moment ago on another
// instance works at once, and unknown secrets cannot fill the cache.
type tokenCache struct {
	mu      sync.RWMutex
	entries map[[32]byte]*cached
	max     int
}

// get returns the entry for h if it was read less than CacheTTL before now
// and no revocation was made through the store since (epoch).
func (c *tokenCache) get(h [32]byte, now time.Time, epoch uint64) *cached {
	c.mu.RLock()
	e := c.entries[h]
	c.mu.RUnlock()
	if e == nil || e.epoch != epoch || now.Before(e.read) || now.Sub(e.read) >= CacheTTL {
		return nil
	}
	return e
}

func (c *tokenCache) put(h [32]byte, e *cached) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[[32]byte]*cached{}
	}
	if _, ok := c.entries[h]; !ok {
		for k := range c.entries {
			if len(c.entries) < c.max {
				break
			}
			// Map order is random: this evicts an arbitrary entry, which
			// costs its token one store read.
			delete(c.entries, k)
		}
	}
	c.entries[h] = e
}

func (c *tokenCache) drop(h [32]byte) {
	c.mu.Lock()
	delete(c.entries, h)
	c.mu.Unlock()
}

func (c *tokenCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}
