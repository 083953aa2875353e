// Package verify runs a conformance check of any SCIM 2.0 server: discovery
// consistency, CRUD, uniqueness, filters, paging (index and cursor),
// projection, PATCH in the RFC forms and in the dialects Entra ID, Okta and
// SailPoint send, ETags, Bulk and error bodies. Every check has a name and the
// RFC section it holds the server to; its outcome is PASS, FAIL or SKIP (the
// server does not advertise the feature). Everything a run creates carries a
// per-run prefix and is deleted at the end.
package verify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pamscim/pamscim/internal/client"
)

// Status is a check's outcome.
type Status string

// The outcomes.
const (
	Pass Status = "PASS"
	Fail Status = "FAIL"
	Skip Status = "SKIP"
)

// Check is one named conformance check.
type Check struct {
	Name    string // e.g. "filter.eq"
	Section string // the RFC section it holds the server to, e.g. "RFC 7644 §3.4.2.2"
	Title   string
	run     func(*run) error
}

// Result is one check's outcome.
type Result struct {
	Name     string        `json:"name"`
	Section  string        `json:"section"`
	Title    string        `json:"title"`
	Status   Status        `json:"status"`
	Detail   string        `json:"detail,omitempty"`
	Duration time.Duration `json:"durationNs"`
}

// Report is a whole run.
type Report struct {
	URL      string    `json:"url"`
	Started  time.Time `json:"started"`
	Results  []Result  `json:"results"`
	Pass     int       `json:"pass"`
	Fail     int       `json:"fail"`
	Skip     int       `json:"skip"`
	Prefix   string    `json:"prefix"`
	Leftover []string  `json:"leftover,omitempty"` // resources the cleanup could not delete
}

// OK reports whether no check failed and the cleanup left nothing behind.
func (r *Report) OK() bool { return r.Fail == 0 && len(r.Leftover) == 0 }

// Options tune a run.
type Options struct {
	// Only runs the checks whose name equals or starts with one of these
	// (e.g. "patch." or "filter.eq"); empty runs all.
	Only []string
	// Progress, if set, is called after each check.
	Progress func(Result)
}

// Checks lists every check in run order.
func Checks() []Check { return checks }

// Run runs the checks against the server c talks to.
func Run(ctx context.Context, c *client.Client, opt Options) (*Report, error) {
	for _, o := range opt.Only {
		if !slices.ContainsFunc(checks, func(ch Check) bool { return selected(ch.Name, []string{o}) }) {
			return nil, fmt.Errorf("no check is named %q (pamscim verify --list shows them)", o)
		}
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	r := &run{ctx: ctx, c: c, prefix: "pamscim-verify-" + hex.EncodeToString(b[:]) + "-"}
	rep := &Report{URL: c.BaseURL(), Started: time.Now().UTC(), Prefix: r.prefix}
	defer func() {
		rep.Leftover = r.cleanup()
	}()
	for _, ch := range checks {
		if !selected(ch.Name, opt.Only) {
			continue
		}
		if ctx.Err() != nil {
			return rep, ctx.Err()
		}
		start := time.Now()
		err := r.safeRun(ch)
		res := Result{Name: ch.Name, Section: ch.Section, Title: ch.Title, Status: Pass, Duration: time.Since(start)}
		var sk skipError
		switch {
		case err == nil:
		case errors.As(err, &sk):
			res.Status, res.Detail = Skip, string(sk)
		default:
			res.Status, res.Detail = Fail, err.Error()
		}
		switch res.Status {
		case Pass:
			rep.Pass++
		case Fail:
			rep.Fail++
		case Skip:
			rep.Skip++
		}
		rep.Results = append(rep.Results, res)
		if opt.Progress != nil {
			opt.Progress(res)
		}
	}
	return rep, nil
}

func selected(name string, only []string) bool {
	if len(only) == 0 {
		return true
	}
	for _, o := range only {
		if name == o || (strings.HasSuffix(o, ".") && strings.HasPrefix(name, o)) || strings.HasPrefix(name, o+".") {
			return true
		}
	}
	return false
}

type skipError string

func (s skipError) Error() string { return string(s) }

func skipf(format string, a ...any) error { return skipError(fmt.Sprintf(format, a...)) }

func failf(format string, a ...any) error { return fmt.Errorf(format, a...) }

// run is the state of one verification run.
type run struct {
	ctx    context.Context
	c      *client.Client
	prefix string
	seq    int

	mu      sync.Mutex
	created []ref

	disc     *client.Discovery
	discErr  error
	discDone bool

	badTypes []string // responses whose Content-Type was not SCIM's
}

type ref struct{ endpoint, id string }

func (r *run) safeRun(ch Check) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("check crashed: %v", p)
		}
	}()
	return ch.run(r)
}

// discovery reads the discovery endpoints once per run.
func (r *run) discovery() (*client.Discovery, error) {
	if !r.discDone {
		r.disc, r.discErr = r.c.Discover(r.ctx)
		r.discDone = true
	}
	return r.disc, r.discErr
}

func (r *run) sp() *client.ServiceProviderConfig {
	d, err := r.discovery()
	if err != nil || d.SP == nil {
		return &client.ServiceProviderConfig{}
	}
	return d.SP
}

// res is a response with its body decoded when it is JSON.
type res struct {
	method, path string
	status       int
	header       http.Header
	raw          []byte
	body         map[string]any
}

// do sends one request and never fails on a non-2xx status: the checks look
// at statuses themselves. hdr is name, value pairs.
func (r *run) do(method, path string, q url.Values, body any, hdr ...string) (*res, error) {
	rq := client.Request{Method: method, Path: path, Query: q, Body: body, Header: http.Header{}}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "NoAuth" {
			rq.NoAuth = true
			continue
		}
		rq.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := r.c.Do(r.ctx, rq)
	if resp == nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	out := &res{method: method, path: path, status: resp.Status, header: resp.Header, raw: resp.Body}
	if len(strings.TrimSpace(string(resp.Body))) > 0 {
		if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct != client.ContentType {
			r.mu.Lock()
			if len(r.badTypes) < 5 {
				r.badTypes = append(r.badTypes, fmt.Sprintf("%s %s → %q", method, path, resp.Header.Get("Content-Type")))
			}
			r.mu.Unlock()
		}
		_ = json.Unmarshal(resp.Body, &out.body)
	}
	return out, nil
}

func (x *res) String() string {
	b := string(x.raw)
	if len(b) > 300 {
		b = b[:300] + "…"
	}
	return fmt.Sprintf("%s %s → %d %s", x.method, x.path, x.status, strings.TrimSpace(b))
}

// want fails unless the status is one of those given.
func (x *res) want(statuses ...int) error {
	if slices.Contains(statuses, x.status) {
		return nil
	}
	return failf("%s (want %v)", x, statuses)
}

func (r *run) name(kind string) string {
	r.mu.Lock()
	r.seq++
	n := r.seq
	r.mu.Unlock()
	return fmt.Sprintf("%s%s%d", r.prefix, kind, n)
}

func (r *run) track(endpoint, id string) {
	if id == "" {
		return
	}
	r.mu.Lock()
	r.created = append(r.created, ref{endpoint, id})
	r.mu.Unlock()
}

func (r *run) forget(endpoint, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.created = slices.DeleteFunc(r.created, func(x ref) bool { return x.endpoint == endpoint && x.id == id })
}

// cleanup deletes everything the run created, groups first (they refer to
// users), and then looks for anything left with the run's prefix (resources a
// Bulk request created). It returns what it could not delete.
func (r *run) cleanup() []string {
	ctx := context.WithoutCancel(r.ctx)
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	r.mu.Lock()
	refs := slices.Clone(r.created)
	r.mu.Unlock()
	sort.SliceStable(refs, func(i, j int) bool { return refs[i].endpoint == "/Groups" && refs[j].endpoint != "/Groups" })
	var left []string
	for _, x := range refs {
		err := r.c.Delete(ctx, client.ResourcePath(x.endpoint, x.id), "")
		if err != nil && client.StatusOf(err) != http.StatusNotFound {
			left = append(left, fmt.Sprintf("%s/%s: %v", x.endpoint, x.id, err))
		}
	}
	for _, sweep := range []struct{ endpoint, attr string }{{"/Groups", "displayName"}, {"/Users", "userName"}} {
		var ids []string
		_, err := r.c.List(ctx, sweep.endpoint, client.ListOptions{Filter: fmt.Sprintf(`%s sw %q`, sweep.attr, r.prefix), Attributes: []string{"id", sweep.attr}, Paging: client.PagingIndex}, func(res client.Resource) error {
			// Only what carries this run's prefix is deleted, whatever the
			// server answered: a server that ignores the filter returns
			// everything, and none of that is ours.
			if id := res.ID(); id != "" && strings.HasPrefix(res.Str(sweep.attr), r.prefix) {
				ids = append(ids, id)
			}
			if len(ids) > 10000 {
				return errors.New("the sweep matched more than 10,000 resources: the server ignores the filter")
			}
			return nil
		})
		if err != nil {
			continue // the filter checks report a server that cannot do this
		}
		for _, id := range ids {
			if err := r.c.Delete(ctx, client.ResourcePath(sweep.endpoint, id), ""); err != nil && client.StatusOf(err) != http.StatusNotFound {
				left = append(left, fmt.Sprintf("%s/%s: %v", sweep.endpoint, id, err))
			}
		}
	}
	return left
}
