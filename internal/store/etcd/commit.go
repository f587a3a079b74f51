package etcd

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/batch"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
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
// batch's etcd transaction start the next batch.
func (s *Store) run() {
	defer close(s.done)
	batch.Run(s.reqs, s.ctx.Done(), s.opts.MaxBatch, s.commit)
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

// commit tries batch until it commits, conflicts too often or etcd does
// not answer, answers its requests, and returns those left for the next
// batch.
func (s *Store) commit(reqs []*batch.Request) (leftover []*batch.Request) {
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
		return nil
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	var again *reread
	obs := s.opts.Observer
	for attempt := 1; ; attempt++ {
		start := time.Now()
		res, left, next, err := s.attempt(ctx, live, again)
		again = next
		if err == nil {
			if obs != nil {
				obs.Committed(len(live)-len(left), time.Since(start), 0)
			}
			s.health.ok()
			for i, r := range live {
				if res[i] != nil {
					r.Done <- *res[i]
				}
			}
			return left
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
		for _, r := range live {
			r.Done <- batch.Result{Err: fail}
		}
		return nil
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

// attempt runs every closure of batch over one snapshot (again's, when
// the previous attempt lost its comparisons) and commits their writes
// with one etcd Txn. It returns a result for each request that took part
// (nil for the others, left for the next batch), or an error: a conflict,
// with what the Txn read instead, or etcd's.
func (s *Store) attempt(ctx context.Context, reqs []*batch.Request, again *reread) ([]*batch.Result, []*batch.Request, *reread, error) {
	var snap *snapshot
	if again != nil {
		snap = newSnapshot(s, ctx, again.rev, again.markerRev)
		maps.Copy(snap.cache, again.entries)
	} else {
		pin, err := s.cli.Get(ctx, s.marker)
		if err != nil {
			return nil, nil, nil, err
		}
		var markerRev int64
		if len(pin.Kvs) > 0 {
			markerRev = pin.Kvs[0].ModRevision
		}
		snap = newSnapshot(s, ctx, pin.Header.Revision, markerRev)
	}
	s.prefetch(snap, reqs)
	var (
		overlay  = map[string][]byte{} // the batch's writes; nil deletes
		reads    = map[string]int64{}  // key → ModRevision at snap.rev (0: absent)
		ranges   []keyRange
		bytes    int
		included = 0
		results  = make([]*batch.Result, len(reqs))
		left     []*batch.Request
	)
	for i, r := range reqs {
		t := &tx{snap: snap, writes: batch.Writes{Below: overlay}}
		ferr := t.run(r.Fn)
		if err := snap.failed(); err != nil {
			return nil, nil, nil, err
		}
		// Do the batch's comparisons still fit in one etcd transaction?
		// Past MaxTxnOps the commit would compare the space's revision
		// instead, which every other server's commit changes: the
		// closure waits for the next batch rather than make this one
		// conflict with every other writer.
		if included > 0 && comparisons(reads, ranges, t) > s.opts.MaxTxnOps {
			left = append(left, r)
			continue
		}
		if ferr == nil {
			// Does the batch still fit in one etcd transaction?
			n, b := len(overlay), bytes
			for k, v := range t.writes.Own {
				if _, ok := overlay[k]; !ok {
					n++
				}
				b += len(v)
			}
			if n+1 > s.opts.MaxTxnOps || b > s.opts.MaxTxnBytes {
				if included > 0 {
					left = append(left, r)
					continue
				}
				if n+1 > s.opts.MaxTxnOps {
					ferr = fmt.Errorf("%w: %d keys, at most %d", ErrTooManyOps, n, s.opts.MaxTxnOps-1)
				}
			}
			if ferr == nil {
				maps.Copy(overlay, t.writes.Own)
				bytes = b
			}
		}
		included++
		// The reads of every closure, failed ones included, must still
		// hold at the commit: each result was computed from them.
		for k, rev := range t.reads {
			reads[k] = rev
		}
		ranges = append(ranges, t.ranges...)
		results[i] = &batch.Result{Err: ferr}
	}

	// Deleting a key that is absent at the snapshot changes nothing: it is
	// left out (the comparison keeps it absent), so that every commit
	// changes the space and so reaches the watchers.
	var ops []clientv3.Op
	for _, k := range slices.Sorted(maps.Keys(overlay)) {
		v := overlay[k]
		if v != nil {
			ops = append(ops, clientv3.OpPut(s.kv+k, string(v)))
			continue
		}
		e, err := snap.get(k)
		if err != nil {
			return nil, nil, nil, err
		}
		reads[k] = e.modRev
		if e.modRev != 0 {
			ops = append(ops, clientv3.OpDelete(s.kv+k))
		}
	}
	if len(ops) == 0 {
		for _, res := range results {
			if res != nil && res.Err == nil {
				res.Rev = snap.markerRev
			}
		}
		return results, left, nil, nil
	}

	var cmps []clientv3.Cmp
	if len(reads)+len(ranges) > s.opts.MaxTxnOps {
		// Too many comparisons for one transaction: compare the space's
		// revision instead, which any commit to the space changes.
		cmps = []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(s.marker), "=", snap.markerRev)}
	} else {
		for _, k := range slices.Sorted(maps.Keys(reads)) {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(s.kv+k), "=", reads[k]))
		}
		for _, kr := range ranges {
			cmps = append(cmps, clientv3.Compare(clientv3.ModRevision(s.kv+kr.start), "<", snap.rev+1).WithRange(kr.end(s)))
		}
	}
	ops = append(ops, clientv3.OpPut(s.marker, ""))
	// If the comparisons fail, the Else reads the keys the batch read (as
	// many as one Txn may hold), for the next attempt.
	elseOps := []clientv3.Op{clientv3.OpGet(s.marker)}
	readKeys := slices.Sorted(maps.Keys(reads))
	readKeys = readKeys[:min(len(readKeys), s.opts.MaxTxnOps-1)]
	for _, k := range readKeys {
		elseOps = append(elseOps, clientv3.OpGet(s.kv+k))
	}
	resp, err := s.cli.Txn(ctx).If(cmps...).Then(ops...).Else(elseOps...).Commit()
	if err != nil {
		return nil, nil, nil, &ambiguousError{err}
	}
	if !resp.Succeeded {
		again := &reread{rev: resp.Header.Revision, entries: make(map[string]entry, len(readKeys))}
		if m := resp.Responses[0].GetResponseRange(); m != nil && len(m.Kvs) > 0 {
			again.markerRev = m.Kvs[0].ModRevision
		}
		for i, k := range readKeys {
			var e entry
			if r := resp.Responses[i+1].GetResponseRange(); r != nil && len(r.Kvs) > 0 {
				e = entry{value: value(r.Kvs[0].Value), modRev: r.Kvs[0].ModRevision}
			}
			again.entries[k] = e
		}
		return nil, nil, again, errConflict
	}
	for _, res := range results {
		if res != nil && res.Err == nil {
			res.Rev = resp.Header.Revision
		}
	}
	return results, left, nil, nil
}

// comparisons is how many comparisons the batch's commit needs with t's
// reads (and the deletions it may have to compare) added to reads and
// ranges.
func comparisons(reads map[string]int64, ranges []keyRange, t *tx) int {
	n := len(reads) + len(ranges) + len(t.ranges)
	for k := range t.reads {
		if _, ok := reads[k]; !ok {
			n++
		}
	}
	for k, v := range t.writes.Own {
		if _, ok := reads[k]; !ok && v == nil {
			if _, ok := t.reads[k]; !ok {
				n++
			}
		}
	}
	return n
}

// prefetch runs the closures of a batch concurrently over the snapshot
// alone, their results and writes thrown away, so that the Gets they make
// reach etcd in rounds, many keys per request, and are cached for the
// real, sequential run. A closure's reads mostly do not depend on the
// batch's earlier writes, so the sequential run then rarely waits for
// etcd.
func (s *Store) prefetch(snap *snapshot, reqs []*batch.Request) {
	if len(reqs) < 2 {
		return
	}
	rs := newRounds(snap, len(reqs))
	var wg sync.WaitGroup
	for _, r := range reqs {
		wg.Go(func() {
			defer rs.done()
			t := &tx{snap: snap, rounds: rs}
			_ = t.run(r.Fn)
		})
	}
	wg.Wait()
}

// keyRange is a scanned range of store keys: from start, up to and
// including last when set, else every key with the prefix start.
type keyRange struct {
	start string
	last  string
	whole bool
}

// end is the etcd range end of r.
func (r keyRange) end(s *Store) string {
	if r.whole {
		if r.start == "" {
			return s.kvEnd
		}
		return clientv3.GetPrefixRangeEnd(s.kv + r.start)
	}
	return s.kv + r.last + "\x00"
}
