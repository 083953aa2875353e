package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"

	"github.com/pamscim/pamscim/internal/client"
)

// W1 is the initial load: POST /Users at the run's concurrency. A create is
// right when it answers 201 with an id and the userName sent.
func (r *Runner) W1(ctx context.Context) Result {
	prefix := fmt.Sprintf("w1-%s-", r.opt.RunID)
	rec, el := drive(ctx, r.opt.Concurrency, r.opt.W1Users, 0, func(ctx context.Context, _, i int) sample {
		name := userName(prefix, i)
		return r.create(ctx, name, i)
	})
	return rec.result("W1", fmt.Sprintf("W1 create users (POST), c=%d", r.opt.Concurrency), r.opt.Concurrency, el, "req/s")
}

// create POSTs one user and verifies the answer.
func (r *Runner) create(ctx context.Context, name string, i int) sample {
	res, lat, err := r.call(ctx, client.Request{Method: http.MethodPost, Path: "/Users", Body: userDoc(name, i)})
	if f := expect(res, err, http.StatusCreated); f != nil {
		return sample{lat: lat, fail: f}
	}
	s := sample{lat: lat}
	u, derr := decodeObject(res.Body)
	switch {
	case derr != nil:
		s.wrong = derr
	case str(u, "userName") != name:
		s.wrong = fmt.Errorf("POST /Users for %s answered userName %q", name, str(u, "userName"))
	case str(u, "id") == "":
		s.wrong = fmt.Errorf("POST /Users for %s answered no id", name)
	}
	return s
}

// W2 is lookup: GET /Users?filter=userName eq "…" for random seeded users.
// A lookup is right when it returns exactly the user asked for.
func (r *Runner) W2(ctx context.Context) Result {
	n := len(r.ids)
	rec, el := drive(ctx, r.opt.Concurrency, 0, r.opt.Duration, func(ctx context.Context, _, _ int) sample {
		return r.lookup(ctx, rand.N(n))
	})
	return rec.result("W2", fmt.Sprintf("W2 userName eq lookup over %d users, c=%d", n, r.opt.Concurrency), r.opt.Concurrency, el, "req/s")
}

func (r *Runner) lookup(ctx context.Context, i int) sample {
	name := userName(r.opt.Prefix, i)
	res, lat, err := r.call(ctx, client.Request{Method: http.MethodGet, Path: "/Users", Query: query("filter", filterEq("userName", name))})
	if f := expect(res, err, http.StatusOK); f != nil {
		return sample{lat: lat, fail: f}
	}
	return sample{lat: lat, wrong: r.checkLookup(res.Body, name, r.ids[i])}
}

// checkLookup verifies a ListResponse that must hold exactly the user name
// (with id, when known).
func (r *Runner) checkLookup(body []byte, name, id string) error {
	var l listBody
	if err := jsonUnmarshal(body, &l); err != nil {
		return fmt.Errorf("lookup of %s: the answer is not a ListResponse: %v", name, err)
	}
	if l.TotalResults == nil || *l.TotalResults != 1 || len(l.Resources) != 1 {
		tr := -1
		if l.TotalResults != nil {
			tr = *l.TotalResults
		}
		return fmt.Errorf("lookup of %s: totalResults %d with %d resources, want exactly 1", name, tr, len(l.Resources))
	}
	u := l.Resources[0]
	if !strings.EqualFold(str(u, "userName"), name) {
		return fmt.Errorf("lookup of %s returned userName %q", name, str(u, "userName"))
	}
	if id != "" && str(u, "id") != id {
		return fmt.Errorf("lookup of %s returned id %q, want %q", name, str(u, "id"), id)
	}
	return nil
}
