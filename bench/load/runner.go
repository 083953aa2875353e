package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/pamscim/pamscim/internal/client"
)

// SCIM schema URNs the workloads send.
const (
	userURN       = "urn:ietf:params:scim:schemas:core:2.0:User"
	groupURN      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// Options are the load command's settings.
type Options struct {
	URL, Token string
	// Server labels the server in reports ("pamscim", "scimmy", "ceiling").
	Server      string
	Workloads   []string
	Concurrency int
	// Users is the size of the populated store W2–W6 run over.
	Users int
	// Seeded says the store already holds Users users as `load seed` writes
	// them (names and ids derived from the index), so no seeding is done.
	Seeded bool
	// Canned says the server answers with canned bodies (bench/ceiling):
	// nothing is seeded, and wrong answers are expected.
	Canned     bool
	W1Users    int
	Duration   time.Duration
	GroupSizes []int
	W4Ops      int // add/remove pairs per group size
	PageSize   int // W5's count
	// Paging lists W5's kinds of paging ("index", "cursor"); cursor runs
	// only where the server advertises it.
	Paging      []string
	Prefix      string
	RunID       string
	Timeout     time.Duration
	SeedBatch   int           // Bulk operations per request when seeding
	Log         io.Writer     // progress; nil for none
	SeedTimeout time.Duration // bounds seeding over HTTP (0: none)
}

func (o *Options) defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.W1Users <= 0 {
		o.W1Users = 2000
	}
	if o.Duration <= 0 {
		o.Duration = 10 * time.Second
	}
	if o.W4Ops <= 0 {
		o.W4Ops = 200
	}
	if o.PageSize <= 0 {
		o.PageSize = 200
	}
	if len(o.Paging) == 0 {
		o.Paging = []string{"index", "cursor"}
	}
	if o.Prefix == "" {
		o.Prefix = "lg"
	}
	if o.RunID == "" {
		o.RunID = fmt.Sprintf("%x", rand.Uint32())
	}
	if o.Server == "" {
		o.Server = "server"
	}
	if o.SeedBatch <= 0 {
		o.SeedBatch = 500
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
}

// Runner drives one server.
type Runner struct {
	opt Options
	c   *client.Client
	sp  *client.ServiceProviderConfig
	// ids[i] is the id of seeded user i.
	ids []string
	// groups by W4 size.
	groups  map[int]string
	w6Group string
	seq     atomic.Int64
}

// NewRunner connects to the server (no request is sent yet).
func NewRunner(opt Options) (*Runner, error) {
	opt.defaults()
	hc := client.NewHTTPClient(opt.Timeout)
	// One idle connection per worker, whatever the concurrency.
	hc.Transport.(*http.Transport).MaxIdleConnsPerHost = max(256, opt.Concurrency*2)
	c, err := client.New(client.Config{BaseURL: opt.URL, Auth: client.Bearer(opt.Token), HTTPClient: hc,
		UserAgent: "pamscim-load", Retry: client.RetryPolicy{MaxRetries: -1}})
	if err != nil {
		return nil, err
	}
	return &Runner{opt: opt, c: c, groups: map[int]string{}}, nil
}

// userName is seeded user i's userName.
func userName(prefix string, i int) string { return fmt.Sprintf("%s%08d@example.com", prefix, i) }

// seedID is the id `load seed` gives seeded user name: derived from the
// name, so that a separate run of the tool knows every id without asking.
func seedID(name string) string {
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("pamscim-load:"+name)).String()
}

// userDoc is a user as Entra ID creates it.
func userDoc(name string, i int) map[string]any {
	local, _, _ := strings.Cut(name, "@")
	return map[string]any{
		"schemas":     []string{userURN, enterpriseURN},
		"externalId":  local + "-ext",
		"userName":    name,
		"active":      true,
		"displayName": "User " + local,
		"name":        map[string]any{"givenName": "Given", "familyName": local, "formatted": "Given " + local},
		"emails":      []any{map[string]any{"value": name, "type": "work", "primary": true}},
		enterpriseURN: map[string]any{"employeeNumber": fmt.Sprint(100000 + i), "department": "Sales"},
	}
}

func (r *Runner) logf(format string, a ...any) { fmt.Fprintf(r.opt.Log, format+"\n", a...) }

// call sends one request and times it, body read included.
func (r *Runner) call(ctx context.Context, req client.Request) (*client.Response, time.Duration, error) {
	t := time.Now()
	res, err := r.c.Do(ctx, req)
	return res, time.Since(t), err
}

// expect returns the failure of a timed call: a transport error or a
// status other than those wanted.
func expect(res *client.Response, err error, want ...int) error {
	if res == nil {
		if err == nil {
			err = fmt.Errorf("no answer")
		}
		return err
	}
	for _, w := range want {
		if res.Status == w {
			return nil
		}
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("status %d, want %v", res.Status, want)
}

// decodeObject decodes a JSON object body.
func decodeObject(b []byte) (map[string]any, error) {
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("the answer is not a JSON object: %v", err)
	}
	return m, nil
}

// listBody is a ListResponse as the verifier reads it.
type listBody struct {
	TotalResults *int             `json:"totalResults"`
	Resources    []map[string]any `json:"Resources"`
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func filterEq(attr, v string) string {
	return attr + ` eq "` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// Setup reads the ServiceProviderConfig and makes sure the store holds what
// the chosen workloads need.
func (r *Runner) Setup(ctx context.Context) error {
	sp, err := r.c.ServiceProviderConfig(ctx)
	if err != nil {
		r.logf("no ServiceProviderConfig (%v): assuming no Bulk, index paging", err)
		sp = &client.ServiceProviderConfig{}
	}
	r.sp = sp
	need := 0
	for _, w := range r.opt.Workloads {
		switch w {
		case "W2", "W3", "W5", "W6":
			need = max(need, r.opt.Users)
		case "W4":
			need = max(need, r.opt.Users)
		}
	}
	if need == 0 {
		return nil
	}
	r.ids = make([]string, need)
	if r.opt.Canned || r.opt.Seeded {
		for i := range r.ids {
			r.ids[i] = seedID(userName(r.opt.Prefix, i))
		}
		if r.opt.Seeded && !r.opt.Canned {
			// The seeded store must be the one asked about: the first and
			// the last users are there under the expected ids.
			for _, i := range []int{0, need - 1} {
				res, err := r.c.Get(ctx, client.ResourcePath("/Users", r.ids[i]), nil)
				if err != nil {
					return fmt.Errorf("--seeded: user %d (%s) is not in the store: %w", i, userName(r.opt.Prefix, i), err)
				}
				if !strings.EqualFold(res.Resource.Str("userName"), userName(r.opt.Prefix, i)) {
					return fmt.Errorf("--seeded: user %s has userName %q", r.ids[i], res.Resource.Str("userName"))
				}
			}
		}
		return nil
	}
	start := time.Now()
	if err := r.seedUsers(ctx, need); err != nil {
		return err
	}
	r.logf("%s: seeded %d users over HTTP in %v (bulk %v)", r.opt.Server, need, time.Since(start).Round(time.Millisecond), r.useBulk())
	return nil
}

func (r *Runner) useBulk() bool {
	return r.sp != nil && r.sp.Bulk.Supported && r.sp.Bulk.MaxOperations > 0
}

// seedUsers creates users 0…n-1 over HTTP: with Bulk when the server offers
// it, otherwise with POSTs, at the run's concurrency. A user that exists
// already (a second run against the same server) is looked up.
func (r *Runner) seedUsers(ctx context.Context, n int) error {
	if r.opt.SeedTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.opt.SeedTimeout)
		defer cancel()
	}
	batch := 1
	if r.useBulk() {
		batch = min(r.opt.SeedBatch, r.sp.Bulk.MaxOperations)
		if mp := r.sp.Bulk.MaxPayloadSize; mp > 0 {
			// Keep well inside the payload limit: one user is under 1 KiB.
			batch = max(1, min(batch, mp/1024))
		}
	}
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for w := 0; w < r.opt.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				lo := int(next.Add(int64(batch))) - batch
				if lo >= n {
					return
				}
				hi := min(n, lo+batch)
				var err error
				if batch == 1 {
					err = r.seedOne(ctx, lo)
				} else {
					err = r.seedBulk(ctx, lo, hi)
				}
				if err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = fmt.Errorf("seeding %d users: %w", n, ctx.Err())
	}
	return firstErr
}

func (r *Runner) seedOne(ctx context.Context, i int) error {
	name := userName(r.opt.Prefix, i)
	res, err := r.c.Create(ctx, "/Users", userDoc(name, i))
	if err != nil {
		if client.StatusOf(err) == http.StatusConflict {
			return r.lookupSeeded(ctx, i)
		}
		return fmt.Errorf("seeding %s: %w", name, err)
	}
	if res.Resource.ID() == "" {
		return fmt.Errorf("seeding %s: the answer has no id", name)
	}
	r.ids[i] = res.Resource.ID()
	return nil
}

func (r *Runner) lookupSeeded(ctx context.Context, i int) error {
	name := userName(r.opt.Prefix, i)
	var id string
	_, err := r.c.Page(ctx, "/Users", client.ListOptions{Filter: filterEq("userName", name)}, client.PageRequest{}, func(u client.Resource) error {
		id = u.ID()
		return nil
	})
	if err != nil || id == "" {
		return fmt.Errorf("seeding %s: it exists but cannot be found: %v", name, err)
	}
	r.ids[i] = id
	return nil
}

func (r *Runner) seedBulk(ctx context.Context, lo, hi int) error {
	ops := make([]client.BulkOperation, 0, hi-lo)
	for i := lo; i < hi; i++ {
		ops = append(ops, client.BulkOperation{Method: "POST", BulkID: fmt.Sprint(i), Path: "/Users", Data: userDoc(userName(r.opt.Prefix, i), i)})
	}
	br, err := r.c.Bulk(ctx, ops, 0)
	if err != nil {
		return fmt.Errorf("seeding users %d–%d with Bulk: %w", lo, hi-1, err)
	}
	done := map[string]bool{}
	for _, op := range br.Operations {
		var i int
		if _, err := fmt.Sscan(op.BulkID, &i); err != nil || i < lo || i >= hi {
			return fmt.Errorf("seeding with Bulk: unexpected bulkId %q", op.BulkID)
		}
		done[op.BulkID] = true
		if e := op.Err(); e != nil {
			if e.Status == http.StatusConflict {
				if err := r.lookupSeeded(ctx, i); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("seeding %s with Bulk: %v", userName(r.opt.Prefix, i), e)
		}
		if r.ids[i] = op.ID(); r.ids[i] == "" {
			return fmt.Errorf("seeding %s with Bulk: no id in the result", userName(r.opt.Prefix, i))
		}
	}
	if len(done) != hi-lo {
		return fmt.Errorf("seeding with Bulk: %d results for %d operations", len(done), hi-lo)
	}
	return nil
}

// Run runs the chosen workloads in order and returns their rows.
func (r *Runner) Run(ctx context.Context) ([]Result, error) {
	var out []Result
	for _, w := range r.opt.Workloads {
		start := time.Now()
		var rows []Result
		var err error
		switch w {
		case "W1":
			rows = []Result{r.W1(ctx)}
		case "W2":
			rows = []Result{r.W2(ctx)}
		case "W3":
			rows = []Result{r.W3(ctx)}
		case "W4":
			rows, err = r.W4(ctx)
		case "W5":
			rows = r.W5(ctx)
		case "W6":
			var row Result
			row, err = r.W6(ctx)
			rows = []Result{row}
		default:
			err = fmt.Errorf("unknown workload %q (W1…W6)", w)
		}
		if err != nil {
			return out, fmt.Errorf("%s: %w", w, err)
		}
		for i := range rows {
			rows[i].Workload = w
			if rows[i].Key == "" {
				rows[i].Key = w
			}
			if rows[i].Size == 0 && w != "W1" {
				rows[i].Size = len(r.ids)
			}
		}
		out = append(out, rows...)
		r.logf("%s: %s done in %v", r.opt.Server, w, time.Since(start).Round(time.Millisecond))
	}
	return out, nil
}

// query builds a url.Values from pairs.
func query(kv ...string) url.Values {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return q
}
