// Package fulfill applies a file of changes — create, update and delete
// users; add and remove group members — to any SCIM server, as seed 004's
// fulfilment does: in Bulk requests of at most BulkMax operations when the
// server advertises Bulk (RFC 7644 §3.7), one request per change otherwise.
// Throttled and failed requests are retried by the client (429 and 5xx,
// honouring Retry-After). A create answered 409 looks the account up by
// userName and updates it instead, as seed 001 expects of a client. Every
// change gets an outcome in the report; nothing stops at the first failure.
package fulfill

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pamscim/pamscim/internal/client"
)

// Options tune a run.
type Options struct {
	// BulkMax is the most operations per Bulk request (seed 004's
	// BulkMaxOperation); the server's bulk.maxOperations caps it. 0 uses
	// the server's maximum; negative never uses Bulk.
	BulkMax int
	// DryRun reads (discovery and lookups) but writes nothing.
	DryRun bool
	// Workers is how many single requests are in flight at once when Bulk
	// is not used (default 1). Changes that name the same user (by the same
	// userName or id) stay in file order.
	Workers int
	// Progress is told about each change as its outcome is known.
	Progress func(Outcome)
}

// Outcome is what happened to one change.
type Outcome struct {
	Line   int    `json:"line"`
	Op     Op     `json:"op"`
	Target string `json:"target"`
	OK     bool   `json:"ok"`
	// Action says what was done: created, updated, deleted, member added,
	// member removed, or "exists, updated" for a create answered 409; in a
	// dry run, what would be sent.
	Action string `json:"action"`
	Status int    `json:"status,omitempty"`
	ID     string `json:"id,omitempty"`
	Error  string `json:"error,omitempty"`
	// Bulk is the number of the Bulk request that carried the change (1…),
	// 0 when it went as a single request.
	Bulk int `json:"bulk,omitempty"`
}

// Report is a whole run.
type Report struct {
	Outcomes     []Outcome     `json:"outcomes"`
	OK           int           `json:"ok"`
	Failed       int           `json:"failed"`
	BulkRequests int           `json:"bulkRequests"`
	BulkMax      int           `json:"bulkMax"`
	Duration     time.Duration `json:"durationNs"`
	DryRun       bool          `json:"dryRun"`
}

type runner struct {
	c      *client.Client
	opt    Options
	schema *userSchema
	patch  bool
	rep    *Report

	mu     sync.Mutex        // guards users and groups (workers share them)
	users  map[string]string // lower-cased userName → id
	groups map[string]string // displayName → id
	// bulkIDs maps the bulkId of each create already answered to the id the
	// server gave it: a batch split after a 413 refers to those by id.
	bulkIDs map[string]string
}

// Run applies the changes in order.
func Run(ctx context.Context, c *client.Client, changes []*Change, opt Options) (*Report, error) {
	start := time.Now()
	d, err := c.Discover(ctx)
	if err != nil {
		return nil, err
	}
	r := &runner{c: c, opt: opt, schema: newUserSchema(d), patch: d.SP.Patch.Supported,
		rep: &Report{DryRun: opt.DryRun}, users: map[string]string{}, groups: map[string]string{}, bulkIDs: map[string]string{}}
	// Check every change against the server's schema before sending any.
	var bad []error
	for _, ch := range changes {
		if err := r.precheck(ch); err != nil {
			bad = append(bad, fmt.Errorf("line %d: %w", ch.Line, err))
		}
	}
	if len(bad) > 0 {
		return nil, errors.Join(bad...)
	}
	max := 0
	if d.SP.Bulk.Supported && opt.BulkMax >= 0 {
		max = d.SP.Bulk.MaxOperations
		if opt.BulkMax > 0 && (max <= 0 || opt.BulkMax < max) {
			max = opt.BulkMax
		}
	}
	r.rep.BulkMax = max
	switch {
	case opt.DryRun:
		for _, ch := range changes {
			r.record(r.dryRun(ctx, ch, max > 1))
		}
	case max > 1:
		if err := r.runBulk(ctx, changes, max, d.SP.Bulk.MaxPayloadSize); err != nil {
			return r.rep, err
		}
	default:
		if err := r.runSingle(ctx, changes); err != nil {
			return r.rep, err
		}
	}
	r.rep.Duration = time.Since(start)
	return r.rep, nil
}

// runSingle sends one request per change, on opt.Workers workers. Each
// user's changes go to one worker, so they keep their order; outcomes are
// reported in file order.
func (r *runner) runSingle(ctx context.Context, changes []*Change) error {
	workers := max(1, r.opt.Workers)
	if workers == 1 {
		for _, ch := range changes {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			r.record(r.single(ctx, ch))
		}
		return nil
	}
	outs := make([]Outcome, len(changes))
	queues := make([]chan int, workers)
	var wg sync.WaitGroup
	var progress sync.Mutex
	for w := range queues {
		queues[w] = make(chan int, 64)
		wg.Add(1)
		go func(q chan int) {
			defer wg.Done()
			for i := range q {
				if ctx.Err() != nil {
					outs[i] = fail(Outcome{Line: changes[i].Line, Op: changes[i].Op, Target: changes[i].Target()}, ctx.Err())
					continue
				}
				outs[i] = r.single(ctx, changes[i])
				if r.opt.Progress != nil {
					progress.Lock()
					r.opt.Progress(outs[i])
					progress.Unlock()
				}
			}
		}(queues[w])
	}
	for i, ch := range changes {
		h := fnv.New32a()
		h.Write([]byte(userKey(ch)))
		queues[h.Sum32()%uint32(workers)] <- i
	}
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	progressFn := r.opt.Progress
	r.opt.Progress = nil // already told, as each finished
	for _, o := range outs {
		r.record(o)
	}
	r.opt.Progress = progressFn
	return ctx.Err()
}

// userKey names the user a change is about.
func userKey(ch *Change) string {
	switch ch.Op {
	case AddMember, RemoveMember:
		return strings.ToLower(or(ch.MemberUserName, ch.Member))
	case Create:
		return strings.ToLower(createName(ch))
	}
	return strings.ToLower(or(ch.UserName, ch.ID))
}

func (r *runner) precheck(ch *Change) error {
	switch ch.Op {
	case Create:
		_, err := r.schema.document(ch)
		return err
	case Update:
		_, err := r.schema.patchOps(ch)
		return err
	}
	return nil
}

func (r *runner) record(o Outcome) {
	if o.OK {
		r.rep.OK++
	} else {
		r.rep.Failed++
	}
	r.rep.Outcomes = append(r.rep.Outcomes, o)
	if r.opt.Progress != nil {
		r.opt.Progress(o)
	}
}

func fail(o Outcome, err error) Outcome {
	o.OK = false
	o.Status = client.StatusOf(err)
	o.Error = err.Error()
	return o
}

func (r *runner) user(name string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ok := r.users[strings.ToLower(name)]
	return id, ok
}

func (r *runner) setUser(name, id string) {
	r.mu.Lock()
	r.users[strings.ToLower(name)] = id
	r.mu.Unlock()
}

func (r *runner) delUser(name string) {
	r.mu.Lock()
	delete(r.users, strings.ToLower(name))
	r.mu.Unlock()
}

func (r *runner) group(name string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ok := r.groups[name]
	return id, ok
}

func (r *runner) setGroup(name, id string) {
	r.mu.Lock()
	r.groups[name] = id
	r.mu.Unlock()
}

// lookupUser finds a user's id by userName (cached).
func (r *runner) lookupUser(ctx context.Context, userName string) (string, error) {
	k := strings.ToLower(userName)
	if id, ok := r.user(k); ok {
		return id, nil
	}
	if err := r.lookupUsers(ctx, []string{userName}); err != nil {
		return "", err
	}
	id, ok := r.user(k)
	if !ok {
		return "", fmt.Errorf("no user with userName %q", userName)
	}
	return id, nil
}

// lookupUsers resolves many userNames with as few filter queries as the
// server's filter.maxResults allows (50 per query).
func (r *runner) lookupUsers(ctx context.Context, names []string) error {
	for i := 0; i < len(names); i += 50 {
		part := names[i:min(i+50, len(names))]
		var f []string
		for _, n := range part {
			f = append(f, fmt.Sprintf("userName eq %s", strconv.Quote(n)))
		}
		_, err := r.c.List(ctx, "/Users", client.ListOptions{Filter: strings.Join(f, " or "), Attributes: []string{"id", "userName"}, PageSize: len(part) + 1, Paging: client.PagingIndex}, func(u client.Resource) error {
			if n := u.Str("userName"); n != "" {
				r.setUser(n, u.ID())
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) lookupGroup(ctx context.Context, name string) (string, error) {
	if id, ok := r.group(name); ok {
		return id, nil
	}
	var ids []string
	_, err := r.c.List(ctx, "/Groups", client.ListOptions{Filter: fmt.Sprintf("displayName eq %s", strconv.Quote(name)), Attributes: []string{"id", "displayName"}, ExcludedAttributes: nil, PageSize: 2, Paging: client.PagingIndex}, func(g client.Resource) error {
		ids = append(ids, g.ID())
		return nil
	})
	if err != nil {
		return "", err
	}
	switch len(ids) {
	case 0:
		return "", fmt.Errorf("no group with displayName %q (fulfilment never creates groups)", name)
	case 1:
		r.setGroup(name, ids[0])
		return ids[0], nil
	}
	return "", fmt.Errorf("%d groups have the displayName %q", len(ids), name)
}

func (r *runner) userID(ctx context.Context, id, userName string) (string, error) {
	if id != "" {
		return id, nil
	}
	return r.lookupUser(ctx, userName)
}

func (r *runner) groupID(ctx context.Context, ch *Change) (string, error) {
	if ch.Group != "" {
		return ch.Group, nil
	}
	return r.lookupGroup(ctx, ch.GroupName)
}

// single applies one change with single requests.
func (r *runner) single(ctx context.Context, ch *Change) Outcome {
	o := Outcome{Line: ch.Line, Op: ch.Op, Target: ch.Target(), OK: true}
	switch ch.Op {
	case Create:
		doc, _ := r.schema.document(ch)
		res, err := r.c.Create(ctx, "/Users", doc)
		if client.StatusOf(err) == http.StatusConflict {
			return r.conflict(ctx, ch, o)
		}
		if err != nil {
			return fail(o, err)
		}
		o.Action, o.Status, o.ID = "created", res.Status, res.Resource.ID()
		r.setUser(fmt.Sprint(doc["userName"]), o.ID)
	case Update:
		id, err := r.userID(ctx, ch.ID, ch.UserName)
		if err != nil {
			return fail(o, err)
		}
		o.ID = id
		st, err := r.update(ctx, id, ch)
		if err != nil {
			return fail(o, err)
		}
		o.Action, o.Status = "updated", st
	case Delete:
		id, err := r.userID(ctx, ch.ID, ch.UserName)
		if err != nil {
			return fail(o, err)
		}
		o.ID = id
		if err := r.c.Delete(ctx, client.ResourcePath("/Users", id), ""); err != nil {
			return fail(o, err)
		}
		o.Action, o.Status = "deleted", http.StatusNoContent
		r.delUser(ch.UserName)
	case AddMember, RemoveMember:
		gid, err := r.groupID(ctx, ch)
		if err != nil {
			return fail(o, err)
		}
		uid, err := r.userID(ctx, ch.Member, ch.MemberUserName)
		if err != nil {
			return fail(o, err)
		}
		o.ID = gid
		res, err := r.c.Patch(ctx, client.ResourcePath("/Groups", gid), []client.PatchOp{memberOp(ch.Op, uid)}, "")
		if err != nil {
			return fail(o, err)
		}
		o.Status = res.Status
		o.Action = "member added"
		if ch.Op == RemoveMember {
			o.Action = "member removed"
		}
	}
	return o
}

func memberOp(op Op, uid string) client.PatchOp {
	if op == AddMember {
		return client.PatchOp{Op: "add", Path: "members", Value: []any{map[string]any{"value": uid}}}
	}
	return client.PatchOp{Op: "remove", Path: "members[value eq " + strconv.Quote(uid) + "]"}
}

// update sends the attribute changes: PATCH when the server supports it,
// otherwise GET, merge and PUT (with If-Match when the server gave an ETag).
func (r *runner) update(ctx context.Context, id string, ch *Change) (int, error) {
	path := client.ResourcePath("/Users", id)
	if r.patch {
		ops, err := r.schema.patchOps(ch)
		if err != nil {
			return 0, err
		}
		res, err := r.c.Patch(ctx, path, ops, "")
		if err != nil {
			return 0, err
		}
		return res.Status, nil
	}
	cur, err := r.c.Get(ctx, path, nil)
	if err != nil {
		return 0, err
	}
	doc, err := r.schema.merge(cur.Resource, ch)
	if err != nil {
		return 0, err
	}
	res, err := r.c.Replace(ctx, path, doc, cur.ETag())
	if err != nil {
		return 0, err
	}
	return res.Status, nil
}

// conflict handles a create answered 409: the account exists, so it is
// looked up by userName and given the change's attributes.
func (r *runner) conflict(ctx context.Context, ch *Change, o Outcome) Outcome {
	o.OK, o.Error = true, ""
	doc, _ := r.schema.document(ch)
	name := fmt.Sprint(doc["userName"])
	r.delUser(name)
	id, err := r.lookupUser(ctx, name)
	if err != nil {
		return fail(o, fmt.Errorf("create answered 409 and the lookup of %q failed: %w", name, err))
	}
	o.ID = id
	upd := &Change{Line: ch.Line, Op: Update, ID: id, Attributes: ch.Attributes}
	if len(upd.Attributes) == 0 && ch.Resource == nil {
		o.Action, o.Status = "exists, nothing to update", http.StatusConflict
		return o
	}
	if ch.Resource != nil {
		// A whole resource was given: make the account equal to it.
		doc["id"] = id
		res, err := r.c.Replace(ctx, client.ResourcePath("/Users", id), doc, "")
		if err != nil {
			return fail(o, fmt.Errorf("create answered 409; replacing the existing account: %w", err))
		}
		o.Action, o.Status = "exists, replaced", res.Status
		return o
	}
	st, err := r.update(ctx, id, upd)
	if err != nil {
		return fail(o, fmt.Errorf("create answered 409; updating the existing account: %w", err))
	}
	o.Action, o.Status = "exists, updated", st
	return o
}

// dryRun says what a change would send, resolving names with reads only.
func (r *runner) dryRun(ctx context.Context, ch *Change, bulk bool) Outcome {
	o := Outcome{Line: ch.Line, Op: ch.Op, Target: ch.Target(), OK: true}
	via := ""
	if bulk {
		via = " (in a Bulk request)"
	}
	resolve := func(id, name string) string {
		if id != "" {
			return id
		}
		if v, ok := r.user(name); ok {
			return v
		}
		got, err := r.lookupUser(ctx, name)
		if err != nil {
			o.OK, o.Error = false, err.Error()
			return "?"
		}
		return got
	}
	switch ch.Op {
	case Create:
		doc, _ := r.schema.document(ch)
		o.Action = "would POST /Users" + via
		r.setUser(fmt.Sprint(doc["userName"]), "(created by line "+strconv.Itoa(ch.Line)+")")
	case Update:
		o.ID = resolve(ch.ID, ch.UserName)
		verb := "PATCH"
		if !r.patch {
			verb = "GET and PUT"
		}
		o.Action = "would " + verb + " /Users/" + o.ID + via
	case Delete:
		o.ID = resolve(ch.ID, ch.UserName)
		o.Action = "would DELETE /Users/" + o.ID + via
	case AddMember, RemoveMember:
		uid := resolve(ch.Member, ch.MemberUserName)
		gid, err := r.groupID(ctx, ch)
		if err != nil {
			o.OK, o.Error, gid = false, err.Error(), "?"
		}
		o.ID = gid
		o.Action = fmt.Sprintf("would PATCH /Groups/%s (%s member %s)%s", gid, map[Op]string{AddMember: "add", RemoveMember: "remove"}[ch.Op], uid, via)
	}
	return o
}

// ----- Bulk --------------------------------------------------------------

type pending struct {
	ch     *Change
	op     client.BulkOperation
	out    Outcome
	failed bool   // refused before sending (a lookup failed)
	ref    string // the userName of a create in the same request it refers to by bulkId
}

// runBulk sends the changes in Bulk requests of at most max operations (and
// maxPayload bytes when the server states it), in file order.
func (r *runner) runBulk(ctx context.Context, changes []*Change, max, maxPayload int) error {
	for i := 0; i < len(changes); {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		batch := r.nextBatch(changes[i:], max)
		i += len(batch)
		r.resolveBatch(ctx, batch)
		ps := r.buildBatch(ctx, batch)
		r.sendBatch(ctx, ps, maxPayload)
	}
	return nil
}

// nextBatch takes up to max changes; a change that addresses a user created
// earlier in the same batch by its path (update, delete) starts a new batch,
// since its id is not known until the create has run. Memberships refer to
// such users through bulkId, which RFC 7644 §3.7.2 defines.
func (r *runner) nextBatch(cs []*Change, max int) []*Change {
	created := map[string]bool{}
	n := 0
	for n < len(cs) && n < max {
		ch := cs[n]
		if (ch.Op == Update || ch.Op == Delete) && ch.ID == "" && created[strings.ToLower(ch.UserName)] {
			break
		}
		if ch.Op == Create {
			created[strings.ToLower(createName(ch))] = true
		}
		n++
	}
	return cs[:n]
}

func createName(ch *Change) string {
	if ch.UserName != "" {
		return ch.UserName
	}
	s, _ := ch.Resource["userName"].(string)
	return s
}

// resolveBatch looks up, in a few filter queries, every userName the batch
// needs that is neither known nor created by the batch.
func (r *runner) resolveBatch(ctx context.Context, batch []*Change) {
	created := map[string]bool{}
	var need []string
	seen := map[string]bool{}
	ask := func(n string) {
		k := strings.ToLower(n)
		if n == "" || created[k] || seen[k] {
			return
		}
		if _, ok := r.user(k); ok {
			return
		}
		seen[k] = true
		need = append(need, n)
	}
	for _, ch := range batch {
		switch ch.Op {
		case Create:
			created[strings.ToLower(createName(ch))] = true
		case Update, Delete:
			if ch.ID == "" {
				ask(ch.UserName)
			}
		case AddMember, RemoveMember:
			if ch.Member == "" {
				ask(ch.MemberUserName)
			}
		}
	}
	if len(need) > 0 {
		_ = r.lookupUsers(ctx, need) // a name still unknown fails its own change
	}
}

func (r *runner) buildBatch(ctx context.Context, batch []*Change) []*pending {
	var ps []*pending
	bulkIDs := map[string]string{} // lower userName → bulkId of its create in this batch
	for _, ch := range batch {
		p := &pending{ch: ch, out: Outcome{Line: ch.Line, Op: ch.Op, Target: ch.Target(), OK: true}}
		ps = append(ps, p)
		userRef := func(id, name string) (string, error) {
			if id != "" {
				return id, nil
			}
			if b, ok := bulkIDs[strings.ToLower(name)]; ok {
				p.ref = name
				return "bulkId:" + b, nil
			}
			if v, ok := r.user(name); ok {
				return v, nil
			}
			return "", fmt.Errorf("no user with userName %q", name)
		}
		switch ch.Op {
		case Create:
			doc, _ := r.schema.document(ch)
			b := "c" + strconv.Itoa(ch.Line)
			bulkIDs[strings.ToLower(createName(ch))] = b
			p.op = client.BulkOperation{Method: "POST", Path: "/Users", BulkID: b, Data: doc}
		case Update:
			id, err := userRef(ch.ID, ch.UserName)
			if err != nil {
				p.failed, p.out = true, fail(p.out, err)
				continue
			}
			p.out.ID = id
			if !r.patch {
				// Without PATCH an update needs the current resource: it
				// goes as single requests after the batch.
				continue
			}
			ops, _ := r.schema.patchOps(ch)
			p.op = client.BulkOperation{Method: "PATCH", Path: client.ResourcePath("/Users", id), Data: client.PatchBody(ops...)}
		case Delete:
			id, err := userRef(ch.ID, ch.UserName)
			if err != nil {
				p.failed, p.out = true, fail(p.out, err)
				continue
			}
			p.out.ID = id
			p.op = client.BulkOperation{Method: "DELETE", Path: client.ResourcePath("/Users", id)}
		case AddMember, RemoveMember:
			gid, err := r.groupID(ctx, ch)
			if err != nil {
				p.failed, p.out = true, fail(p.out, err)
				continue
			}
			uid, err := userRef(ch.Member, ch.MemberUserName)
			if err != nil {
				p.failed, p.out = true, fail(p.out, err)
				continue
			}
			p.out.ID = gid
			p.op = client.BulkOperation{Method: "PATCH", Path: client.ResourcePath("/Groups", gid), Data: client.PatchBody(memberOp(ch.Op, uid))}
		}
	}
	return ps
}

// sendBatch sends the batch's operations (halving it when the server says
// 413), records each outcome, and handles what Bulk cannot: creates answered
// 409 and updates on servers without PATCH.
func (r *runner) sendBatch(ctx context.Context, ps []*pending, maxPayload int) {
	var send []*pending
	for _, p := range ps {
		if !p.failed && p.op.Method != "" {
			send = append(send, p)
		}
	}
	r.sendOps(ctx, send, maxPayload)
	// Creates answered 409 first: the existing accounts are looked up, so
	// that operations which referred to them by bulkId (and failed with
	// them) can be repeated by id — a re-run of a file must not fail its
	// memberships.
	conflicted := map[string]bool{}
	for _, p := range ps {
		if !p.failed && p.op.Method != "" && p.ch.Op == Create && p.out.Status == http.StatusConflict {
			n := p.out.Bulk
			p.out = r.conflict(ctx, p.ch, p.out)
			p.out.Bulk = n
			if p.out.OK {
				conflicted[strings.ToLower(createName(p.ch))] = true
			}
		}
	}
	for _, p := range ps {
		switch {
		case p.failed:
		case p.op.Method == "":
			p.out = r.single(ctx, p.ch) // update without PATCH
		case !p.out.OK && p.ref != "" && conflicted[strings.ToLower(p.ref)]:
			p.out = r.single(ctx, p.ch)
		}
		r.record(p.out)
	}
}

func (r *runner) sendOps(ctx context.Context, ps []*pending, maxPayload int) {
	if len(ps) == 0 {
		return
	}
	ops := make([]client.BulkOperation, len(ps))
	inRequest := map[string]bool{}
	for _, p := range ps {
		if p.op.BulkID != "" {
			inRequest[p.op.BulkID] = true
		}
	}
	for i, p := range ps {
		ops[i] = r.resolveRefs(p.op, inRequest)
	}
	if maxPayload > 0 && len(ps) > 1 && client.EncodedSize(ops) > maxPayload*9/10 {
		r.sendOps(ctx, ps[:len(ps)/2], maxPayload)
		r.sendOps(ctx, ps[len(ps)/2:], maxPayload)
		return
	}
	r.rep.BulkRequests++
	n := r.rep.BulkRequests
	resp, err := r.c.Bulk(ctx, ops, 0)
	if client.StatusOf(err) == http.StatusRequestEntityTooLarge && len(ps) > 1 {
		r.sendOps(ctx, ps[:len(ps)/2], maxPayload)
		r.sendOps(ctx, ps[len(ps)/2:], maxPayload)
		return
	}
	if err != nil {
		for _, p := range ps {
			p.out.Bulk = n
			p.out = fail(p.out, fmt.Errorf("the Bulk request failed: %w", err))
		}
		return
	}
	results := matchResults(ops, resp.Operations)
	for i, p := range ps {
		p.out.Bulk = n
		res := results[i]
		if res == nil {
			p.out = fail(p.out, errors.New("the BulkResponse has no result for this operation"))
			continue
		}
		p.out.Status = res.Status
		if e := res.Err(); e != nil {
			e.Method, e.URL = p.op.Method, p.op.Path
			p.out.OK, p.out.Error = false, e.Error()
			continue
		}
		switch p.ch.Op {
		case Create:
			p.out.ID = res.ID()
			p.out.Action = "created"
			if p.out.ID != "" {
				r.setUser(createName(p.ch), p.out.ID)
				r.bulkIDs[p.op.BulkID] = p.out.ID
			}
		case Update:
			p.out.Action = "updated"
		case Delete:
			p.out.Action = "deleted"
			r.delUser(p.ch.UserName)
		case AddMember:
			p.out.Action = "member added"
		case RemoveMember:
			p.out.Action = "member removed"
		}
	}
}

// resolveRefs replaces "bulkId:x" references to creates sent in an earlier
// request (after a split) by the ids the server gave them.
func (r *runner) resolveRefs(op client.BulkOperation, inRequest map[string]bool) client.BulkOperation {
	if op.Data == nil || len(r.bulkIDs) == 0 {
		return op
	}
	b, err := json.Marshal(op.Data)
	if err != nil || !strings.Contains(string(b), `"bulkId:`) {
		return op
	}
	s := string(b)
	for bid, id := range r.bulkIDs {
		if !inRequest[bid] {
			s = strings.ReplaceAll(s, strconv.Quote("bulkId:"+bid), strconv.Quote(id))
		}
	}
	op.Data = json.RawMessage(s)
	return op
}

// matchResults pairs each request operation with its result: POSTs by
// bulkId, the rest by position (RFC 7644 §3.7.3 answers in request order;
// only POSTs are required to carry a bulkId).
func matchResults(ops []client.BulkOperation, res []client.BulkResult) []*client.BulkResult {
	out := make([]*client.BulkResult, len(ops))
	byID := map[string]*client.BulkResult{}
	for i := range res {
		if res[i].BulkID != "" {
			byID[res[i].BulkID] = &res[i]
		}
	}
	sameLen := len(res) == len(ops)
	for i, op := range ops {
		if op.BulkID != "" {
			if m, ok := byID[op.BulkID]; ok {
				out[i] = m
				continue
			}
		}
		if sameLen && strings.EqualFold(res[i].Method, op.Method) {
			out[i] = &res[i]
		}
	}
	return out
}

// MarshalJSON keeps Duration readable in the JSON report.
func (r *Report) MarshalJSON() ([]byte, error) {
	type plain Report
	return json.Marshal(struct {
		*plain
		Seconds float64 `json:"seconds"`
	}{(*plain)(r), r.Duration.Seconds()})
}
