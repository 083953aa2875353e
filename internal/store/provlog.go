package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/pamscim/pamscim/internal/scimerr"
)

// LogEntry is one SCIM request in the provisioning log. Bodies arrive here
// already redacted (internal/provlog): the store keeps what it is given.
type LogEntry struct {
	ID                       int64 // assigned by the store, increasing
	Tenant                   string
	At                       time.Time
	Method, Path, Query      string
	Status                   int
	Duration                 time.Duration
	Client                   string // token name or OAuth client name/id
	ResourceType, ResourceID string // when known (from path or Location of a 201)
	RequestID                string
	// RequestBody and ResponseBody are JSON with secrets redacted, capped in
	// size; a cut body ends with a marker (internal/provlog).
	RequestBody, ResponseBody []byte
}

// LogQuery selects provisioning log entries. Every query is scoped to one
// tenant unless AllTenants is set (the operator's `pamscim log`), so that a
// console page that forgets the tenant sees nothing rather than everything.
type LogQuery struct {
	Tenant     string
	AllTenants bool
	Status     string // "" any; "409"; "4xx"; "5xx"; "error" = >=400
	Path       string // substring, ASCII case-insensitive
	Client     string
	ResourceID string
	Since      time.Time
	Until      time.Time
	BeforeID   int64 // paging: entries with ID < BeforeID, newest first
	Limit      int   // 0 means 100; at most MaxLogLimit
}

// MaxLogLimit is the most entries one QueryLog returns.
const MaxLogLimit = 1000

// LogStore keeps the provisioning log.
type LogStore interface {
	// AppendLog stores entries (one batch from the recorder). IDs and
	// Tenant-less entries are not checked: the recorder sets Tenant.
	AppendLog(ctx context.Context, entries []LogEntry) error
	// QueryLog returns entries matching q, newest first.
	QueryLog(ctx context.Context, q LogQuery) ([]LogEntry, error)
	// LogEntry returns one entry of tenant, or a NotFound error.
	LogEntry(ctx context.Context, tenant string, id int64) (*LogEntry, error)
	// PruneLog deletes the entries of tenant ("" means every tenant) that
	// lim puts beyond what is kept. It returns how many it deleted.
	PruneLog(ctx context.Context, tenant string, lim LogLimits) (int64, error)
}

// LogLimits are what the provisioning log keeps of each tenant; a zero
// field is no limit of that kind.
type LogLimits struct {
	OlderThan  time.Time // entries logged before it go
	MaxEntries int       // all but the newest MaxEntries go
	// MaxBytes bounds the space the tenant's log takes as stored
	// (compressed): its newest blocks are kept while they fit, whole.
	MaxBytes int64
}

// StatusRange parses a LogQuery.Status: "" (any), an exact code such as
// "409", a class such as "4xx", or "error" (400 and above). It returns the
// inclusive range [lo, hi]; lo == 0 means no condition. A malformed value is
// an InvalidValue error.
func StatusRange(s string) (lo, hi int, err error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "":
		return 0, 0, nil
	case s == "error" || s == "errors":
		return 400, 999, nil
	case len(s) == 3 && s[1:] == "xx" && s[0] >= '1' && s[0] <= '5':
		c := int(s[0]-'0') * 100
		return c, c + 99, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 100 || n > 599 || len(s) != 3 {
		return 0, 0, scimerr.New(scimerr.InvalidValue, "status %q: want a code such as 409, a class such as 4xx, or error", s)
	}
	return n, n, nil
}
