package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync/atomic"

	"github.com/pamscim/pamscim/internal/client"
)

// W6's mix, in percent, as an identity platform's sync cycle sends it:
// mostly reads (matching a user by userName, reading one by id, finding a
// group by displayName), some writes (attribute updates, new users).
var w6Mix = []struct {
	kind string
	pct  int
}{
	{"lookup", 40}, {"get", 25}, {"group", 10}, {"patch", 15}, {"create", 10},
}

// W6 is a mixed identity-platform sync for Duration; every answer is
// verified as the single-kind workloads verify it.
func (r *Runner) W6(ctx context.Context) (Result, error) {
	conc := r.opt.Concurrency
	pool := min(len(r.ids), w3Pool)
	name := fmt.Sprintf("W6 mixed sync (75%% reads) over %d users, c=%d", len(r.ids), conc)
	if pool < conc {
		return Result{Name: name, Skipped: fmt.Sprintf("needs at least %d users", conc)}, nil
	}
	gname := fmt.Sprintf("load %s sync group", r.opt.RunID)
	res, err := r.c.Create(ctx, "/Groups", map[string]any{"schemas": []string{groupURN}, "displayName": gname,
		"members": []any{map[string]any{"value": r.ids[0]}}})
	if err != nil {
		return Result{}, fmt.Errorf("creating the sync group: %w", err)
	}
	gid := res.Resource.ID()
	st := &patchState{}
	count := make([]int, conc)
	var created atomic.Int64
	prefix := fmt.Sprintf("w6-%s-", r.opt.RunID)
	rec, el := drive(ctx, conc, 0, r.opt.Duration, func(ctx context.Context, w, _ int) sample {
		p := rand.N(100)
		kind := w6Mix[len(w6Mix)-1].kind
		for _, m := range w6Mix {
			if p < m.pct {
				kind = m.kind
				break
			}
			p -= m.pct
		}
		switch kind {
		case "lookup":
			return r.lookup(ctx, rand.N(len(r.ids)))
		case "get":
			return r.getUser(ctx, rand.N(len(r.ids)))
		case "group":
			return r.findGroup(ctx, gname, gid)
		case "patch":
			// The same ownership as W3: worker w updates its own users.
			i := w + conc*(count[w]%(pool/conc))
			count[w]++
			return r.patchUser(ctx, i, st)
		default:
			return r.create(ctx, userName(prefix, int(created.Add(1))), 0)
		}
	})
	r.readBack(ctx, rec, st, 200)
	return rec.result("W6", name, conc, el, "req/s"), nil
}

func (r *Runner) getUser(ctx context.Context, i int) sample {
	res, lat, err := r.call(ctx, client.Request{Method: http.MethodGet, Path: client.ResourcePath("/Users", r.ids[i])})
	if f := expect(res, err, http.StatusOK); f != nil {
		return sample{lat: lat, fail: f}
	}
	s := sample{lat: lat}
	u, derr := decodeObject(res.Body)
	want := userName(r.opt.Prefix, i)
	switch {
	case derr != nil:
		s.wrong = derr
	case str(u, "id") != r.ids[i] || str(u, "userName") != want:
		s.wrong = fmt.Errorf("GET /Users/%s answered id %q userName %q, want %q", r.ids[i], str(u, "id"), str(u, "userName"), want)
	}
	return s
}

// findGroup is Entra's group match: displayName eq, members left out.
func (r *Runner) findGroup(ctx context.Context, name, gid string) sample {
	res, lat, err := r.call(ctx, client.Request{Method: http.MethodGet, Path: "/Groups", Query: query("filter", filterEq("displayName", name), "excludedAttributes", "members")})
	if f := expect(res, err, http.StatusOK); f != nil {
		return sample{lat: lat, fail: f}
	}
	var l listBody
	s := sample{lat: lat}
	if err := jsonUnmarshal(res.Body, &l); err != nil || l.TotalResults == nil || *l.TotalResults != 1 || len(l.Resources) != 1 {
		s.wrong = fmt.Errorf("group lookup %q: not a ListResponse of exactly one group (%v)", name, err)
	} else if g := l.Resources[0]; str(g, "id") != gid || str(g, "displayName") != name || g["members"] != nil {
		s.wrong = fmt.Errorf("group lookup %q answered id %q displayName %q (members excluded: %v)", name, str(g, "id"), str(g, "displayName"), g["members"] == nil)
	}
	return s
}
