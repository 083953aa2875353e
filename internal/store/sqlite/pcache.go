package sqlite

import (
	"fmt"
	"unsafe"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// The page cache's memory comes from one buffer set up at start
// (SQLITE_CONFIG_PAGECACHE) instead of one malloc and free per page.
//
// Why: SQLite empties a connection's page cache whenever a read transaction
// starts after another connection wrote (WAL mode cannot tell which pages
// changed), which on a server with a provisioning log and SCIM writes is
// several times a second on every reader. Each page went back to modernc's
// allocator, which hands whole 64 KiB regions past a 4 MiB pool back to the
// kernel (madvise) and faults them in again on the next read: a fifth of a
// userName lookup's CPU. A page in the buffer goes back to SQLite's own free
// list. (The per-connection "bulk" that SQLITE_CONFIG_PAGECACHE offers with
// no buffer is compiled out of this SQLite build: it uses one cache group.)
const (
	// pageCachePageSize is the database page size the slots fit (SQLite's
	// default); a page of another size is allocated as before.
	pageCachePageSize = 4096
	// pageCacheSlots is one default-sized cache (2,000 KiB, about 470
	// pages) for each of the 9 connections of a store, with room to
	// spare. When the buffer runs low SQLite's caches reuse their own
	// least recently used pages before asking malloc for more. It is
	// address space until used: 4,608 slots of about 4.3 KiB are 20 MiB.
	pageCacheSlots = 4608
)

// pageCacheErr is why the buffer could not be set up (nil when it was); the
// store works without it, only slower.
var pageCacheErr = configurePageCache()

// configurePageCache must run before the process opens any SQLite
// connection (SQLite refuses configuration once initialised): a package
// variable's initialiser runs before any code of this package or of its
// importers can open one.
func configurePageCache() error {
	tls := libc.NewTLS()
	defer tls.Close()
	va := libc.Xmalloc(tls, 3*8)
	hdr := libc.Xmalloc(tls, 8)
	if va == 0 || hdr == 0 {
		return fmt.Errorf("page cache buffer: out of memory")
	}
	defer libc.Xfree(tls, va)
	defer libc.Xfree(tls, hdr)
	// The slot holds the page and SQLite's header for it.
	*(*int32)(cmem(hdr)) = 0
	if rc := sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_PCACHE_HDRSZ, libc.VaList(va, hdr)); rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("page cache buffer: header size: sqlite3_config returned %d", rc)
	}
	slot := (pageCachePageSize + int(*(*int32)(cmem(hdr))) + 7) &^ 7
	// Never freed: SQLite uses it until the process ends.
	buf := libc.Xmalloc(tls, uint64(slot*pageCacheSlots))
	if buf == 0 {
		return fmt.Errorf("page cache buffer: out of memory")
	}
	if rc := sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_PAGECACHE, libc.VaList(va, buf, int32(slot), int32(pageCacheSlots))); rc != sqlite3.SQLITE_OK {
		libc.Xfree(tls, buf)
		return fmt.Errorf("page cache buffer: sqlite3_config returned %d", rc)
	}
	return nil
}

// cmem is C memory (libc.Xmalloc's, outside the Go heap) at address p.
func cmem(p uintptr) unsafe.Pointer { return unsafe.Add(nil, p) }

// pageCacheStatus returns the number of page cache slots in use and the
// bytes of page cache taken from malloc since the last reset (SQLite's
// PAGECACHE_USED and PAGECACHE_OVERFLOW), for the tests.
func pageCacheStatus() (used, overflow int64) {
	tls := libc.NewTLS()
	defer tls.Close()
	p := libc.Xmalloc(tls, 16)
	defer libc.Xfree(tls, p)
	cur, hi := p, p+8
	sqlite3.Xsqlite3_status64(tls, sqlite3.SQLITE_STATUS_PAGECACHE_USED, cur, hi, 0)
	used = *(*int64)(cmem(cur))
	sqlite3.Xsqlite3_status64(tls, sqlite3.SQLITE_STATUS_PAGECACHE_OVERFLOW, cur, hi, 0)
	overflow = *(*int64)(cmem(cur))
	return used, overflow
}
