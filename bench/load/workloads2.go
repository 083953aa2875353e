package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pamscim/pamscim/internal/client"
)

// w3Pool is how many seeded users W3 and W6 update: enough that
// concurrent updates rarely meet on one user, few enough to read back.
const w3Pool = 5000

// patchState remembers the last displayName written to each user, so that
// the updates can be read back after the timed phase.
type patchState struct {
	mu   sync.Mutex
	last map[int]string
}

func (p *patchState) set(i int, v string) {
	p.mu.Lock()
	if p.last == nil {
		p.last = map[int]string{}
	}
	p.last[i] = v
	p.mu.Unlock()
}

// W3 is Entra-style updates: PATCH with "Replace" operations (capitalised,
// as Entra sends them) on a user's displayName, name.familyName, title and
// enterprise department. Each worker owns its own users, so the last value
// written to a user is known; a 200 answer must carry the new values, and
// after the timed phase every updated user (up to 500) is read back.
func (r *Runner) W3(ctx context.Context) Result {
	conc := r.opt.Concurrency
	pool := min(len(r.ids), w3Pool)
	if pool < conc {
		return Result{Name: "W3 PATCH replace", Skipped: fmt.Sprintf("needs at least %d users", conc)}
	}
	st := &patchState{}
	count := make([]int, conc)
	rec, el := drive(ctx, conc, 0, r.opt.Duration, func(ctx context.Context, w, _ int) sample {
		// Worker w owns users w, w+conc, w+2·conc… of the pool.
		i := w + conc*(count[w]%(pool/conc))
		count[w]++
		return r.patchUser(ctx, i, st)
	})
	name := fmt.Sprintf("W3 PATCH replace (Entra) over %d users, c=%d", pool, conc)
	r.readBack(ctx, rec, st, 500)
	return rec.result("W3", name, conc, el, "req/s")
}

func (r *Runner) patchUser(ctx context.Context, i int, st *patchState) sample {
	seq := r.seq.Add(1)
	dn := fmt.Sprintf("W3 %s %d", r.opt.RunID, seq)
	title := fmt.Sprintf("Title %d", seq)
	ops := []client.PatchOp{
		{Op: "Replace", Path: "displayName", Value: dn},
		{Op: "Replace", Path: "name.familyName", Value: fmt.Sprintf("Family %d", seq)},
		{Op: "Replace", Path: "title", Value: title},
		{Op: "Replace", Path: enterpriseURN + ":department", Value: fmt.Sprintf("Dept %d", seq%50)},
	}
	res, lat, err := r.call(ctx, client.Request{Method: http.MethodPatch, Path: client.ResourcePath("/Users", r.ids[i]), Body: client.PatchBody(ops...)})
	if f := expect(res, err, http.StatusOK, http.StatusNoContent); f != nil {
		return sample{lat: lat, fail: f}
	}
	st.set(i, dn)
	s := sample{lat: lat}
	if res.Status == http.StatusOK && len(res.Body) > 0 {
		u, derr := decodeObject(res.Body)
		switch {
		case derr != nil:
			s.wrong = derr
		case str(u, "displayName") != dn || str(u, "title") != title:
			s.wrong = fmt.Errorf("PATCH of user %s answered displayName %q title %q, want %q %q", r.ids[i], str(u, "displayName"), str(u, "title"), dn, title)
		case str(u, "id") != r.ids[i]:
			s.wrong = fmt.Errorf("PATCH of user %s answered id %q", r.ids[i], str(u, "id"))
		}
	}
	return s
}

// readBack GETs up to max updated users and counts each whose displayName
// is not the last one written as a wrong answer.
func (r *Runner) readBack(ctx context.Context, rec *recorder, st *patchState, maxN int) {
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for i, want := range st.last {
		if n++; n > maxN {
			break
		}
		res, err := r.c.Do(ctx, client.Request{Method: http.MethodGet, Path: client.ResourcePath("/Users", r.ids[i])})
		if err != nil {
			rec.addWrong(fmt.Errorf("reading back user %s: %v", r.ids[i], err))
			continue
		}
		u, derr := decodeObject(res.Body)
		if derr != nil || str(u, "displayName") != want {
			rec.addWrong(fmt.Errorf("user %s reads back displayName %q after PATCH set %q", r.ids[i], str(u, "displayName"), want))
		}
	}
}

// W4 is membership: one-member add and remove on groups of each size in
// GroupSizes. The group holds seeded users 0…size-1; the members added and
// removed are seeded users beyond the group, one set per worker, so no two
// workers touch the same member. Every tenth pair is checked (untimed) with
// a filter on the group's members after the add and after the remove.
func (r *Runner) W4(ctx context.Context) ([]Result, error) {
	var out []Result
	conc := r.opt.Concurrency
	for _, size := range r.opt.GroupSizes {
		name := fmt.Sprintf("W4 member add/remove, group of %d, c=%d", size, conc)
		spare := len(r.ids) - size
		if spare < conc {
			out = append(out, Result{Key: fmt.Sprintf("W4/%d", size), Name: name, Size: size, Skipped: fmt.Sprintf("needs --users > %d (has %d)", size+conc, len(r.ids))})
			continue
		}
		start := time.Now()
		gid, gname, err := r.group(ctx, size)
		if err != nil {
			return out, err
		}
		r.logf("%s: group of %d members made in %v", r.opt.Server, size, time.Since(start).Round(time.Millisecond))
		per := min(spare/conc, 1000)
		count := make([]int, conc)
		path := client.ResourcePath("/Groups", gid)
		// No excludedAttributes=members on the PATCH, although it would
		// spare a server that answers with the group (RFC 7644 §3.5.2
		// allows 200 or 204) sending every member back: Entra does not
		// send it, and SCIMMY 1.3.5 applies it to the resource it patches
		// (the add is lost).
		rec, el := drive(ctx, conc, r.opt.W4Ops*2, 0, func(ctx context.Context, w, i int) sample {
			k := count[w]
			count[w]++
			u := r.ids[size+w*per+(k/2)%per]
			var body map[string]any
			if k%2 == 0 {
				body = client.PatchBody(client.PatchOp{Op: "add", Path: "members", Value: []any{map[string]any{"value": u}}})
			} else {
				body = client.PatchBody(client.PatchOp{Op: "remove", Path: `members[value eq "` + u + `"]`})
			}
			res, lat, err := r.call(ctx, client.Request{Method: http.MethodPatch, Path: path, Body: body})
			if f := expect(res, err, http.StatusOK, http.StatusNoContent); f != nil {
				return sample{lat: lat, fail: f}
			}
			s := sample{lat: lat}
			if res.Status == http.StatusOK && len(res.Body) > 0 {
				if g, derr := decodeObject(res.Body); derr != nil || str(g, "id") != gid || str(g, "displayName") != gname {
					s.wrong = fmt.Errorf("PATCH of group %s answered id %q displayName %q (%v)", gid, str(g, "id"), str(g, "displayName"), derr)
				}
			}
			if s.wrong == nil && (k/2)%10 == 0 {
				s.wrong = r.checkMember(ctx, gid, u, k%2 == 0)
			}
			return s
		})
		row := rec.result("W4", name, conc, el, "req/s")
		row.Size, row.Key = size, fmt.Sprintf("W4/%d", size)
		out = append(out, row)
	}
	return out, nil
}

// checkMember asks whether u is a member of group gid, as Entra does.
func (r *Runner) checkMember(ctx context.Context, gid, u string, want bool) error {
	f := filterEq("id", gid) + " and " + filterEq("members.value", u)
	res, err := r.c.Do(ctx, client.Request{Method: http.MethodGet, Path: "/Groups", Query: query("filter", f, "excludedAttributes", "members")})
	if err != nil {
		return fmt.Errorf("membership check %s: %v", f, err)
	}
	var l listBody
	if err := jsonUnmarshal(res.Body, &l); err != nil || l.TotalResults == nil {
		return fmt.Errorf("membership check %s: not a ListResponse (%v)", f, err)
	}
	got := *l.TotalResults == 1 && len(l.Resources) == 1 && str(l.Resources[0], "id") == gid
	if got != want || (!want && *l.TotalResults != 0) {
		return fmt.Errorf("membership check %s: totalResults %d, want member=%v", f, *l.TotalResults, want)
	}
	return nil
}

// group creates a group holding seeded users 0…size-1, filled by PATCHes
// of up to 10,000 members as a provisioning platform fills a large group.
func (r *Runner) group(ctx context.Context, size int) (id, name string, err error) {
	name = fmt.Sprintf("load %s group %d", r.opt.RunID, size)
	if id, ok := r.groups[size]; ok {
		return id, name, nil
	}
	res, err := r.c.Create(ctx, "/Groups", map[string]any{"schemas": []string{groupURN}, "displayName": name})
	if err != nil {
		return "", "", fmt.Errorf("creating %s: %w", name, err)
	}
	gid := res.Resource.ID()
	if gid == "" {
		return "", "", fmt.Errorf("creating %s: no id", name)
	}
	for lo := 0; lo < size; lo += 10_000 {
		vals := make([]any, 0, 10_000)
		for _, id := range r.ids[lo:min(size, lo+10_000)] {
			vals = append(vals, map[string]any{"value": id})
		}
		_, err := r.c.Do(ctx, client.Request{Method: http.MethodPatch, Path: client.ResourcePath("/Groups", gid),
			Body: client.PatchBody(client.PatchOp{Op: "add", Path: "members", Value: vals})})
		if err != nil {
			return "", "", fmt.Errorf("filling %s (members %d…): %w", name, lo, err)
		}
	}
	r.groups[size] = gid
	return gid, name, nil
}

// W5 is the full export: every user, in pages of PageSize, once with index
// paging and once with cursor paging where the server advertises it
// (RFC 9865). Latency is per page; throughput is users per second. The
// export is right when it yields exactly totalResults users, no id twice,
// and every seeded user.
func (r *Runner) W5(ctx context.Context) []Result {
	var out []Result
	for _, p := range r.opt.Paging {
		switch {
		case p == "index":
			out = append(out, r.export(ctx, client.PagingIndex))
		case p == "cursor" && r.sp.CursorPaging():
			out = append(out, r.export(ctx, client.PagingCursor))
		case p == "cursor":
			out = append(out, Result{Workload: "W5", Key: "W5/cursor", Name: fmt.Sprintf("W5 export, cursor paging, count=%d", r.opt.PageSize), Skipped: "the server does not advertise cursor paging"})
		}
	}
	return out
}

func (r *Runner) export(ctx context.Context, mode client.Paging) Result {
	label := "index"
	if mode == client.PagingCursor {
		label = "cursor"
	}
	name := fmt.Sprintf("W5 export, %s paging, count=%d", label, r.opt.PageSize)
	rec := &recorder{}
	seen := make(map[string]struct{}, len(r.ids)+r.opt.W1Users)
	seeded := 0
	prefix := r.opt.Prefix
	total, hasTotal := -1, false
	opt := client.ListOptions{PageSize: r.opt.PageSize}
	start := time.Now()
	next := 1
	cur := ""
	var pageErr error
	for pages := 0; ctx.Err() == nil; pages++ {
		pr := client.PageRequest{StartIndex: next}
		if mode == client.PagingCursor {
			c := cur
			pr = client.PageRequest{Cursor: &c}
		}
		var dup int
		t := time.Now()
		info, err := r.c.Page(ctx, "/Users", opt, pr, func(u client.Resource) error {
			id := u.ID()
			if _, ok := seen[id]; ok {
				dup++
			}
			seen[id] = struct{}{}
			if n := u.Str("userName"); strings.HasPrefix(n, prefix) && len(n) == len(prefix)+8+len("@example.com") {
				seeded++
			}
			return nil
		})
		lat := time.Since(t)
		if err != nil {
			rec.add(sample{lat: lat, fail: err})
			pageErr = err
			break
		}
		s := sample{lat: lat, units: info.Count, exact: true}
		if pages == 0 {
			total, hasTotal = info.TotalResults, info.HasTotal
		}
		switch {
		case dup > 0:
			s.wrong = fmt.Errorf("page %d repeated %d users already exported", pages+1, dup)
		case info.Count > r.opt.PageSize:
			s.wrong = fmt.Errorf("page %d held %d users, more than count=%d", pages+1, info.Count, r.opt.PageSize)
		}
		rec.add(s)
		if hasTotal && pages > total/max(1, r.opt.PageSize)+10 {
			// A server whose cursors go round in circles must not keep
			// the walk going for ever.
			rec.addWrong(fmt.Errorf("%d pages and not done: more than totalResults %d allows", pages+1, total))
			break
		}
		if mode == client.PagingCursor {
			if info.NextCursor == "" || info.NextCursor == cur {
				break
			}
			cur = info.NextCursor
			continue
		}
		if info.Count == 0 {
			break
		}
		next += info.Count
		if info.HasTotal && next > info.TotalResults {
			break
		}
	}
	el := time.Since(start)
	if pageErr == nil {
		switch {
		case !hasTotal:
			rec.addWrong(fmt.Errorf("the first page had no totalResults"))
		case len(seen) != total:
			rec.addWrong(fmt.Errorf("exported %d distinct users, totalResults said %d", len(seen), total))
		case !r.opt.Canned && seeded < len(r.ids):
			rec.addWrong(fmt.Errorf("exported %d of the %d seeded users", seeded, len(r.ids)))
		}
	}
	row := rec.result("W5", name, 1, el, "users/s")
	row.Key, row.Size = "W5/"+label, len(seen)
	row.Note = fmt.Sprintf("%d users in %.1f s", len(seen), el.Seconds())
	return row
}
