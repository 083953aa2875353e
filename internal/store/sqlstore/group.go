package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pamscim/pamscim/internal/store"
)

// Group commit. SQLite has one writer; every SCIM write used to be its own
// transaction, so concurrent writes queued behind each other's COMMIT (the
// WAL frames of every page the write touched, written again for each
// transaction) and the audit row of each write was one more COMMIT. Writes
// submitted while the writer is busy are now run together: one
// transaction, each write inside its own SAVEPOINT, one COMMIT, and only
// then is any of them answered.
//
// Each write keeps its own semantics: a write that fails (uniqueness 409,
// If-Match 412, a PAM rule) is rolled back to its savepoint, undoing
// exactly its own changes, and gets its own error; the others go on. The
// writes of one group run one after another on one connection, in the
// order they arrived, each seeing the ones before it — the same as if each
// had its own transaction in that order. If the group's own statements
// (BEGIN, SAVEPOINT, ROLLBACK TO, RELEASE, COMMIT) fail, which is an
// I/O-level failure of the database, every write of the group that had not
// failed on its own gets that error and nothing of the group is stored.
//
// A write alone in the queue runs exactly as before, in its own
// transaction (withTx).

// writeFn is a write transaction's body. ctx is the request's context,
// without its cancellation when the write shares a transaction: SQLite
// interrupts a connection whose statement's context ends, and a statement
// interrupted inside a transaction may roll the whole transaction back —
// the other writes of the group with it.
type writeFn func(ctx context.Context, tx *sql.Tx) error

type groupJob struct {
	ctx  context.Context
	fn   writeFn
	err  error
	done chan struct{}
}

type committer struct {
	db        *DB
	max       int
	jobs      chan *groupJob // unbuffered: a job is either taken by the loop or its sender gives up
	quit      chan struct{}
	stopped   chan struct{}
	closeOnce sync.Once
	// groups and writes count the transactions that held several writes.
	groups, writes atomic.Int64
}

// errClosed answers writes submitted after Close.
var errClosed = errors.New("store is closed")

func newCommitter(db *DB, max int) *committer {
	c := &committer{db: db, max: max, jobs: make(chan *groupJob), quit: make(chan struct{}), stopped: make(chan struct{})}
	go c.loop()
	return c
}

// close stops the loop after the group it is running. Closing twice
// is allowed, as for the store.
func (c *committer) close() {
	c.closeOnce.Do(func() { close(c.quit) })
	<-c.stopped
}

// write runs fn in a write transaction: grouped when the flavor groups
// commits, else alone.
func (db *DB) write(ctx context.Context, fn writeFn) error {
	if pa := store.PendingAuditOf(ctx); pa != nil && !pa.Recorded {
		// The write's audit event goes into its own transaction (in its
		// savepoint when grouped), after the write succeeded.
		write := fn
		fn = func(ctx context.Context, tx *sql.Tx) error {
			if err := write(ctx, tx); err != nil {
				return err
			}
			if err := db.insertAudit(ctx, tx, &pa.Event); err != nil {
				return err
			}
			pa.Recorded = true
			return nil
		}
	}
	if db.group == nil {
		return db.withTx(ctx, func(tx *sql.Tx) error { return fn(ctx, tx) })
	}
	j := &groupJob{ctx: ctx, fn: fn, done: make(chan struct{})}
	select {
	case db.group.jobs <- j:
	case <-db.group.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once taken, the job's outcome is awaited even if ctx ends: it may
	// already be part of a transaction that commits.
	<-j.done
	return j.err
}

func (c *committer) loop() {
	defer close(c.stopped)
	batch := make([]*groupJob, 0, c.max)
	for {
		batch = batch[:0]
		select {
		case j := <-c.jobs:
			batch = append(batch, j)
		case <-c.quit:
			return
		}
		// Everyone who queued while the last group committed.
	gather:
		for len(batch) < c.max {
			select {
			case j := <-c.jobs:
				batch = append(batch, j)
			default:
				break gather
			}
		}
		c.run(batch)
		for _, j := range batch {
			close(j.done)
		}
	}
}

func (c *committer) run(batch []*groupJob) {
	live := make([]*groupJob, 0, len(batch))
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.err = err // given up before it started: nothing was done
			continue
		}
		live = append(live, j)
	}
	switch len(live) {
	case 0:
		return
	case 1:
		j := live[0]
		j.err = c.db.withTx(j.ctx, func(tx *sql.Tx) error { return j.fn(j.ctx, tx) })
		return
	}
	// The group's own statements run without any request's deadline.
	bg := context.Background()
	// As in withTx: the epoch moves after the commit, before any writer
	// of the group is answered.
	defer c.db.writes.Add(1)
	fail := func(err error) {
		for _, j := range live {
			if j.err == nil {
				j.err = err
			}
		}
	}
	tx, err := c.begin(bg)
	if err != nil {
		fail(err)
		return
	}
	failed := 0
	for _, j := range live {
		if _, err := tx.ExecContext(bg, "SAVEPOINT w"); err != nil {
			_ = tx.Rollback()
			fail(fmt.Errorf("savepoint: %w", err))
			return
		}
		ferr := j.fn(context.WithoutCancel(j.ctx), tx)
		if ferr == nil && j.ctx.Err() != nil {
			// Its request gave up (a timeout answered 503) while it ran:
			// undo it, as an interrupted statement of its own
			// transaction would have.
			ferr = j.ctx.Err()
		}
		if ferr != nil {
			if _, err := tx.ExecContext(bg, "ROLLBACK TO w"); err != nil {
				// The failure took the transaction with it (an I/O
				// error, a full disk): the group is lost.
				_ = tx.Rollback()
				j.err = c.db.mapErr(ferr)
				fail(fmt.Errorf("rollback to savepoint: %w (after: %v)", err, ferr))
				return
			}
			j.err = c.db.mapErr(ferr)
			failed++
		}
		if _, err := tx.ExecContext(bg, "RELEASE w"); err != nil {
			_ = tx.Rollback()
			fail(fmt.Errorf("release savepoint: %w", err))
			return
		}
	}
	if failed == len(live) {
		_ = tx.Rollback()
		return
	}
	if err := tx.Commit(); err != nil {
		fail(c.db.mapErr(fmt.Errorf("commit: %w", err)))
		return
	}
	c.groups.Add(1)
	c.writes.Add(int64(len(live)))
}

// begin starts the group's transaction, retrying as withTx does.
func (c *committer) begin(ctx context.Context) (*sql.Tx, error) {
	for attempt := 0; ; attempt++ {
		tx, err := c.db.wdb.BeginTx(ctx, nil)
		if err == nil {
			return tx, nil
		}
		if c.db.f.IsRetryable == nil || !c.db.f.IsRetryable(err) || attempt >= 10 {
			return nil, fmt.Errorf("begin: %w", err)
		}
		time.Sleep(time.Duration(attempt+1) * time.Millisecond)
	}
}

func (db *DB) mapErr(err error) error {
	if err != nil && db.f.MapError != nil {
		return db.f.MapError(err)
	}
	return err
}

// GroupCommits reports how many transactions ran more than one write and
// how many writes they held, since the store opened (tests, diagnostics).
func (db *DB) GroupCommits() (groups, writes int64) {
	if db.group == nil {
		return 0, 0
	}
	return db.group.groups.Load(), db.group.writes.Load()
}
