package etcd

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/batch"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
)

// Update runs fn in a transaction and commits it to etcd, possibly in one
// etcd transaction with concurrent Update calls. If ctx ends before the
// committer picks the call up, Update returns ctx.Err() and fn never runs;
// once picked up, the call completes regardless of ctx, within
// RequestTimeout of the call.
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) (int64, error) {
	if s.isClosed() {
		return 0, store.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	deadline := time.Now().Add(s.opts.RequestTimeout)
	r := batch.NewRequest(fn)
	r.Deadline = deadline
	timer := time.NewTimer(s.opts.RequestTimeout)
	defer timer.Stop()
	select {
	case s.reqs <- r:
	case <-s.ctx.Done():
		return 0, store.ErrClosed
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-timer.C:
		return 0, s.unavailable(errors.New("the committer is busy"))
	}
	res := <-r.Done
	return res.Rev, res.Err
}

// unavailable is the error of an Update that etcd did not answer in time.
// It deliberately does not wrap context errors: the registry reports it as
// ServiceUnavailable, which SDKs retry.
func (s *Store) unavailable(err error) error {
	s.health.failed(err)
	return &UnavailableError{Endpoints: s.opts.Endpoints, Timeout: s.opts.RequestTimeout, Err: err.Error()}
}

// UnavailableError is returned by Update when etcd does not answer within
// RequestTimeout.
type UnavailableError struct {
	Endpoints []string
	Timeout   time.Duration
	Err       string
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("etcd: no answer from %s within %v (%s); retry later", strings.Join(e.Endpoints, ","), e.Timeout, e.Err)
}

// run is the committer (see batch.Run). Requests that did not fit in a
// batch's etcd transaction start the next batch. It pipelines: while
// batches' etcd Txns are in flight (etcd syncing them to its log), the
// next batch is gathered and its closures run, and its Txn is sent beside
// theirs unless it read what they write (see commit).
func (s *Store) run() {
	defer close(s.done)
	var inflight []*flight
	batch.Run(s.reqs, s.ctx.Done(), s.opts.MaxBatch, func(b []*batch.Request) []*batch.Request {
		var left []*batch.Request
		left, inflight = s.commit(b, inflight)
		return left
	})
	for _, f := range inflight {
		<-f.done
	}
}

// pipelineDepth is how many batches' Txns may be in flight at once. etcd
// syncs the Txns it receives together in one write to its log, so a few
// batches in flight cost little more than one, where one batch at a time
// would wait a sync each.
const pipelineDepth = 4

// flight is a batch whose Txn the committer has handed to the background.
type flight struct {
	// done is closed once the batch's outcome is final, just before its
	// requests are answered: a caller's next write, sent as soon as it is
	// answered, must not find the batch still in flight, or it would wait
	// for it and run its closure again for nothing.
	done chan struct{}
	once sync.Once
	p    *prepared // as first prepared; nil if preparing failed
}

// settle closes done, once.
func (f *flight) settle() { f.once.Do(func() { close(f.done) }) }

func (f *flight) answered() bool {
	select {
	case <-f.done:
		return true
	default:
		return false
	}
}

// ErrTooManyOps is returned by an Update that writes more keys than one
// etcd transaction may hold.
var ErrTooManyOps = errors.New("etcd: the transaction writes more keys than one etcd transaction may hold (Options.MaxTxnOps, etcd's --max-txn-ops)")

var (
	errConflict    = errors.New("etcd: conflict")
	errTxDone      = errors.New("etcd: transaction used after its closure returned")
	errEmptyKey    = errors.New("etcd: put: empty key")
	errOutcomeLost = "etcd did not confirm the commit, which may or may not have been applied"
)

// commit runs batch's closures over a snapshot it reads now, waits
// until fewer than pipelineDepth batches are in flight and every batch
// in flight it may depend on is answered, and then, in the background,
// sends the batch's Txn, retries it until it commits, conflicts too often
// or etcd does not answer, and answers its requests. It returns the
// requests left for the next batch, and the batches then in flight.
//
// Pipelining never lets a batch build on a write that is not durable, nor
// commit before a batch it depends on. Its closures run over a snapshot
// read while other batches may be in flight, which holds none of their
// writes (they might fail). If it read a key that a batch in flight
// writes (or a range that holds one), it depends on that batch: it waits
// for it to be answered and its closures run again over a new snapshot
// (its Txn, comparing what it read, would only fail). A batch that does
// not depend on those in flight is sent beside them: it read nothing they
// write, so whichever commits first, the result is as if it had committed
// before them; a batch in flight that read what it writes fails its
// comparisons and runs again (etcd's STM path). A batch whose first
// preparation failed, whose writes the committer does not know, is
// waited for by every later batch.
func (s *Store) commit(reqs []*batch.Request, inflight []*flight) (leftover []*batch.Request, _ []*flight) {
	now := time.Now()
	live := reqs[:0:0]
	deadline := now.Add(s.opts.RequestTimeout)
	for _, r := range reqs {
		if !now.Before(r.Deadline) {
			r.Done <- batch.Result{Err: s.unavailable(errors.New("the request waited too long for a commit"))}
			continue
		}
		live = append(live, r)
		if r.Deadline.Before(deadline) {
			deadline = r.Deadline
		}
	}
	if len(live) == 0 {
		return nil, inflight
	}
	// A batch answered by now is committed, so the next pin's revision
	// includes it, unless the member that answers the pin lags; then the
	// Txn's comparisons fail on what it wrote and the batch runs again.
	inflight = slices.DeleteFunc(inflight, (*flight).answered)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	start := time.Now()
	p, err := s.prepare(ctx, live, nil)
	if err == nil {
		leftover = p.left
		live = p.taking(live)
	}
	next := &flight{done: make(chan struct{}), p: p}
	stale := false
	var kept []*flight
	for i, f := range inflight {
		dep := p == nil || f.p == nil || p.dependsOn(f.p)
		if dep || len(inflight)-i >= pipelineDepth {
			<-f.done
			stale = stale || (dep && p != nil)
		}
		if !f.answered() {
			kept = append(kept, f)
		}
	}
	if stale {
		p = nil // finish prepares it again, over a snapshot after what it waited for
	}
	go func() {
		defer next.settle()
		defer cancel()
		s.finish(ctx, live, p, err, start, next.settle)
	}()
	return leftover, append(kept, next)
}

// finish sends the prepared batch p (or, when preparing it failed with
// err, prepares it again), retries it until it commits, conflicts too
// often or etcd does not answer, and answers every request of live.
// Requests that a retry's Txn has no room for are committed after it,
// here. It calls settle before it answers the last of them.
func (s *Store) finish(ctx context.Context, live []*batch.Request, p *prepared, err error, start time.Time, settle func()) {
	obs := s.opts.Observer
	var again *reread
	var later []*batch.Request
	for attempt := 1; ; attempt++ {
		if p == nil && err == nil {
			start = time.Now()
			a := again
			again = nil
			if p, err = s.prepare(ctx, live, a); err == nil {
				later = append(later, p.left...)
				live = p.taking(live)
			}
		}
		var res []*batch.Result
		if err == nil {
			res, again, err = s.send(ctx, p)
		}
		p = nil
		if err == nil {
			if obs != nil {
				obs.Committed(len(live), time.Since(start), 0)
			}
			s.health.ok()
			if len(later) == 0 {
				settle()
			}
			for i, r := range live {
				r.Done <- *res[i]
			}
			if len(later) == 0 {
				return
			}
			live, later, again, attempt = later, nil, nil, 0
			continue
		}
		retry := errors.Is(err, errConflict) || errors.Is(err, rpctypes.ErrCompacted) || errors.Is(err, rpctypes.ErrFutureRev)
		if obs != nil && errors.Is(err, errConflict) {
			obs.Conflicted(attempt < s.opts.MaxAttempts && ctx.Err() == nil)
		}
		var fail error
		switch {
		case retry && attempt >= s.opts.MaxAttempts:
			fail = fmt.Errorf("etcd: the commit conflicted with other writers %d times; retry later", attempt)
		case retry && ctx.Err() != nil:
			fail = s.unavailable(fmt.Errorf("conflicting writers: %d attempts", attempt))
		case retry:
			s.health.ok()
			err = nil
			backoff := time.Duration(rand.Int64N(int64(min(attempt, 20)) * int64(time.Millisecond)))
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
			}
			continue
		case errors.Is(err, errAmbiguous):
			fail = s.unavailable(fmt.Errorf("%s: %v", errOutcomeLost, errors.Unwrap(err)))
		default:
			fail = s.unavailable(err)
		}
		settle()
		for _, r := range append(live, later...) {
			r.Done <- batch.Result{Err: fail}
		}
		return
	}
}

// errAmbiguous wraps the error of an etcd Txn whose outcome is unknown.
var errAmbiguous = errors.New("ambiguous")

type ambiguousError struct{ err error }

func (e *ambiguousError) Error() string   { return e.err.Error() }
func (e *ambiguousError) Unwrap() error   { return e.err }
func (e *ambiguousError) Is(t error) bool { return t == errAmbiguous }

// reread is what a commit that lost its comparisons read in the same
// round trip (the etcd Txn's Else: etcd's STM pattern), at the revision it
// failed at: the next attempt's snapshot, with the keys the batch read
// already cached, instead of a new linearizable read and new reads of
// every key.
type reread struct {
	rev, markerRev int64
	entries        map[string]entry
}

// send commits p with one etcd Txn. It returns p's results (those that
// took part), or an error: a conflict, with what the Txn read instead,
// or etcd's.
func (s *Store) send(ctx context.Context, p *prepared) ([]*batch.Result, *reread, error) {
	if len(p.ops) == 0 {
		for _, res := range p.results {
			if res.Err == nil {
				res.Rev = p.snap.markerRev
			}
		}
		return p.results, nil, nil
	}
	if s.beforeSend != nil {
		s.beforeSend()
	}
	resp, err := s.cli.Txn(ctx).If(p.cmps...).Then(p.ops...).Else(p.elseOps...).Commit()
	if err != nil {
		return nil, nil, &ambiguousError{err}
	}
	if !resp.Succeeded {
		again := &reread{rev: resp.Header.Revision, entries: make(map[string]entry, len(p.readKeys))}
		if m := resp.Responses[0].GetResponseRange(); m != nil && len(m.Kvs) > 0 {
			again.markerRev = m.Kvs[0].ModRevision
		}
		for i, k := range p.readKeys {
			var e entry
			if r := resp.Responses[i+1].GetResponseRange(); r != nil && len(r.Kvs) > 0 {
				e = entry{value: value(r.Kvs[0].Value), modRev: r.Kvs[0].ModRevision}
			}
			again.entries[k] = e
		}
		return nil, again, errConflict
	}
	rev := resp.Header.Revision
	if p.readOnly {
		rev = 0
		if m := resp.Responses[0].GetResponseRange(); m != nil && len(m.Kvs) > 0 {
			rev = m.Kvs[0].ModRevision
		}
	}
	for _, res := range p.results {
		if res.Err == nil {
			res.Rev = rev
		}
	}
	return p.results, nil, nil
}
