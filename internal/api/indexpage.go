package api

import (
	"container/list"
	"sync"
	"time"

	"github.com/pamscim/pamscim/internal/store"
)

// Index paging (startIndex) is how Entra, Okta, SailPoint and Netwrix read
// whole directories: startIndex=1, then 1+count, 1+2·count… Served as
// written, page n skips n·count rows with OFFSET and counts totalResults
// again, so a walk costs the square of the directory: 43 minutes for a
// million users (bench/RESULTS.md). walks remembers, per query, where the
// last pages ended and the total it counted, so that the next page of a
// walk seeks past the previous page's last row, as a cursor does, and
// carries the total:
//
//   - The continuation is used for the page that starts exactly where a
//     page of the same query (same tenant, credential, resource type,
//     filter and sort) ended, within walkTTL. Without writes between the
//     two pages it returns what OFFSET would. With writes it is better than
//     OFFSET: a user deleted before the position would make OFFSET skip a
//     user the client never sees (and an IGA then treats as deleted); the
//     seek skips none and repeats none. RFC 7644 §3.4.2.4 allows either:
//     index pages are not a session and may change between requests.
//   - The total is reused while the store's WriteEpoch has not moved and
//     for at most totalTTL, which bounds how stale it can be when another
//     instance or process writes to the same database.
//
// Any other startIndex (a jump, a repeat, a page the cache forgot) is
// served by OFFSET as before.
type walks struct {
	mu      sync.RWMutex
	entries map[walkKey]*list.Element
	lru     *list.List
	max     int
}

const (
	walkTTL       = 2 * time.Minute
	totalTTL      = 10 * time.Second
	walkMax       = 2048 // queries remembered
	walkPositions = 4    // page ends remembered per query: walkers of one query at once
)

// walkKey names a query. The credential is part of it so that one client's
// walk never steers another's, even inside a tenant.
type walkKey struct {
	tenant, credential, rtype, filter, sortBy string
	desc                                      bool
}

type walkPos struct {
	offset int // rows before the next page: its startIndex - 1
	key    store.Key
	at     time.Time
}

type walkEntry struct {
	k          walkKey
	total      int
	totalEpoch uint64
	totalAt    time.Time // zero: no total
	pos        [walkPositions]walkPos
	next       int // the slot of pos written next
}

func newWalks() *walks {
	return &walks{entries: map[walkKey]*list.Element{}, lru: list.New(), max: walkMax}
}

// lookup returns the continuation for a page starting after offset rows
// (nil: use OFFSET) and the total, when it may be reused.
func (w *walks) lookup(k walkKey, offset int, epoch uint64, now time.Time) (after *store.Key, total int, haveTotal bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	el := w.entries[k]
	if el == nil {
		return nil, 0, false
	}
	e := el.Value.(*walkEntry)
	if !e.totalAt.IsZero() && e.totalEpoch == epoch && !now.Before(e.totalAt) && now.Sub(e.totalAt) < totalTTL {
		total, haveTotal = e.total, true
	}
	if offset > 0 {
		for i := range e.pos {
			p := &e.pos[i]
			if p.offset == offset && !now.Before(p.at) && now.Sub(p.at) < walkTTL {
				key := p.key
				after = &key
				break
			}
		}
	}
	return after, total, haveTotal
}

// record notes what a page served: where it ended (when more rows follow)
// and, when it counted, the total and the epoch read before counting.
func (w *walks) record(k walkKey, end int, last *store.Key, counted bool, total int, epoch uint64, now time.Time) {
	if last == nil && !counted {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var e *walkEntry
	if el := w.entries[k]; el != nil {
		w.lru.MoveToFront(el)
		e = el.Value.(*walkEntry)
	} else {
		for w.lru.Len() >= w.max {
			old := w.lru.Back()
			w.lru.Remove(old)
			delete(w.entries, old.Value.(*walkEntry).k)
		}
		e = &walkEntry{k: k}
		w.entries[k] = w.lru.PushFront(e)
	}
	if counted {
		e.total, e.totalEpoch, e.totalAt = total, epoch, now
	}
	if last != nil {
		for i := range e.pos {
			if e.pos[i].offset == end {
				e.pos[i] = walkPos{offset: end, key: *last, at: now}
				return
			}
		}
		e.pos[e.next] = walkPos{offset: end, key: *last, at: now}
		e.next = (e.next + 1) % walkPositions
	}
}
