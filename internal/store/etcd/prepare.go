package etcd

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/cairn-dev/cairn/internal/store/batch"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// prepared is a batch whose closures have run: the etcd Txn that commits
// their writes if what they read still holds.
type prepared struct {
	snap     *snapshot
	overlay  map[string][]byte // the batch's writes
	reads    map[string]int64  // what its closures read, and compare
	ranges   []keyRange
	results  []*batch.Result // by request; nil for those left out
	left     []*batch.Request
	included int           // closures taken
	bytes    int           // the values the batch writes
	ops      []clientv3.Op // empty: nothing to write
	cmps     []clientv3.Cmp
	elseOps  []clientv3.Op
	readKeys []string // what elseOps reads after the marker
	readOnly bool     // ops only reads the marker
}

// dependsOn reports whether p read a key that before writes.
func (p *prepared) dependsOn(before *prepared) bool {
	return writesRead(before.overlay, p.reads, p.ranges)
}

// writesRead reports whether writes hold a key of reads, or one in
// ranges.
func writesRead(writes map[string][]byte, reads map[string]int64, ranges []keyRange) bool {
	for k := range writes {
		if _, ok := reads[k]; ok {
			return true
		}
		for _, r := range ranges {
			if r.holds(k) {
				return true
			}
		}
	}
	return false
}

// taking returns the requests of reqs that p includes, and keeps only
// their results.
func (p *prepared) taking(reqs []*batch.Request) []*batch.Request {
	var in []*batch.Request
	var res []*batch.Result
	for i, r := range reqs {
		if p.results[i] != nil {
			in = append(in, r)
			res = append(res, p.results[i])
		}
	}
	p.results = res
	return in
}

// prepare runs every closure of reqs over one snapshot (again's, when
// the previous attempt lost its comparisons) and builds the etcd Txn
// that commits their writes if what they read still holds. Its results
// hold a result for each request that takes part (nil for the others,
// left for the next batch).
func (s *Store) prepare(ctx context.Context, reqs []*batch.Request, again *reread) (*prepared, error) {
	snap := s.snapshot(ctx, again)
	runs := s.prefetch(snap, reqs)
	p := &prepared{snap: snap, overlay: map[string][]byte{}, reads: map[string]int64{}, results: make([]*batch.Result, len(reqs))}
	for i, r := range reqs {
		// The closure's prefetch run, over the snapshot alone, is its run
		// over the batch unless it read what the closures before it
		// write: each closure runs once, as a rule, not twice.
		t := runs[i]
		if t == nil || writesRead(p.overlay, t.reads, t.ranges) {
			t = &tx{snap: snap, writes: batch.Writes{Below: p.overlay}}
			t.err = t.run(r.Fn)
		}
		if err := snap.failed(); err != nil {
			return nil, err
		}
		if !p.add(s, i, t) {
			p.left = append(p.left, r)
		}
	}
	if err := p.deletions(s); err != nil {
		return nil, err
	}
	if len(p.ops) == 0 {
		// A batch that writes nothing is answered at the space's
		// revision: the snapshot's, if nothing was read to pin it.
		if err := snap.pin(); err != nil {
			return nil, err
		}
	}
	p.build(s)
	return p, nil
}

// snapshot returns the snapshot a batch's closures run over: again's,
// with what the failed attempt read already cached, or a new one, which
// its first read pins (see readTxn).
func (s *Store) snapshot(ctx context.Context, again *reread) *snapshot {
	if again == nil {
		return newSnapshot(s, ctx, 0, 0)
	}
	snap := newSnapshot(s, ctx, again.rev, again.markerRev)
	maps.Copy(snap.cache, again.entries)
	return snap
}

// add takes the closure of request i into the batch, with its writes
// (those of t, unless the closure failed) and its reads, unless
// the batch's comparisons or writes would then no longer fit in one etcd
// Txn: then it reports false, and the request waits for the next batch.
// The first closure of a batch is always taken; if its writes alone do
// not fit, it fails.
func (p *prepared) add(s *Store, i int, t *tx) bool {
	first, ferr := p.included == 0, t.err
	// Past MaxTxnOps the commit would compare the space's revision
	// instead, which every other server's commit changes: the closure
	// waits for the next batch rather than make this one conflict with
	// every other writer.
	if !first && comparisons(p.reads, p.ranges, t) > s.opts.MaxTxnOps {
		return false
	}
	if ferr == nil {
		n, b := len(p.overlay), p.bytes
		for k, v := range t.writes.Own {
			if _, ok := p.overlay[k]; !ok {
				n++
			}
			b += len(v)
		}
		switch {
		case (n+1 > s.opts.MaxTxnOps || b > s.opts.MaxTxnBytes) && !first:
			return false
		case n+1 > s.opts.MaxTxnOps:
			ferr = fmt.Errorf("%w: %d keys, at most %d", ErrTooManyOps, n, s.opts.MaxTxnOps-1)
		default:
			// A closure alone over MaxTxnBytes is still sent: etcd's own
			// bound (--max-request-bytes) is larger.
			maps.Copy(p.overlay, t.writes.Own)
			p.bytes = b
		}
	}
	p.included++
	// The reads of every closure, failed ones included, must still hold
	// at the commit: each result was computed from them.
	maps.Copy(p.reads, t.reads)
	p.ranges = append(p.ranges, t.ranges...)
	p.results[i] = &batch.Result{Err: ferr}
	return true
}

// deletions turns the batch's deletions into Txn operations. Deleting a
// key that is absent at the snapshot changes nothing: it is left out (a
// comparison keeps it absent), so that every commit changes the space
// and so reaches the watchers.
func (p *prepared) deletions(s *Store) error {
	p.ops = slices.Grow(p.ops, len(p.overlay)+1) // and build's marker
	for _, k := range slices.Sorted(maps.Keys(p.overlay)) {
		v := p.overlay[k]
		if v != nil {
			p.ops = append(p.ops, clientv3.OpPut(s.kv+k, string(v)))
			continue
		}
		e, err := p.snap.get(k)
		if err != nil {
			return err
		}
		p.reads[k] = e.modRev
		if e.modRev != 0 {
			p.ops = append(p.ops, clientv3.OpDelete(s.kv+k))
		}
	}
	return nil
}

// build completes the batch's etcd Txn: the comparisons of what it read
// (If), its writes and the space's revision key (Then), and the reads of
// the next attempt (Else).
func (p *prepared) build(s *Store) {
	if len(p.ops) == 0 && len(p.reads)+len(p.ranges) == 0 {
		return // nothing to write nor compare: answered without a Txn
	}
	// The keys read, sorted once, each with the space's prefix: both the
	// comparisons and the Else reads are of them (sized up front: a
	// clientv3.Op is large, and growing its slice copied it repeatedly).
	keys := slices.Sorted(maps.Keys(p.reads))
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = s.kv + k
	}
	if len(p.reads)+len(p.ranges) > s.opts.MaxTxnOps {
		// Too many comparisons for one transaction: compare the space's
		// revision instead, which any commit to the space changes.
		p.cmps = []clientv3.Cmp{clientv3.Compare(clientv3.ModRevision(s.marker), "=", p.snap.markerRev)}
	} else {
		p.cmps = make([]clientv3.Cmp, 0, len(keys)+len(p.ranges))
		for i, k := range keys {
			p.cmps = append(p.cmps, clientv3.Compare(clientv3.ModRevision(full[i]), "=", p.reads[k]))
		}
		for _, kr := range p.ranges {
			p.cmps = append(p.cmps, clientv3.Compare(clientv3.ModRevision(s.kv+kr.start), "<", p.snap.rev+1).WithRange(kr.end(s)))
		}
	}
	if len(p.ops) > 0 {
		p.ops = append(p.ops, clientv3.OpPut(s.marker, ""))
	} else {
		// Nothing to write: the Txn only checks what was read, and reads
		// the space's latest commit, the result's revision.
		p.readOnly = true
		p.ops = []clientv3.Op{clientv3.OpGet(s.marker)}
	}
	// If the comparisons fail, the Else reads the keys the batch read (as
	// many as one Txn may hold), for the next attempt.
	n := min(len(keys), s.opts.MaxTxnOps-1)
	p.readKeys = keys[:n]
	p.elseOps = make([]clientv3.Op, 0, n+1)
	p.elseOps = append(p.elseOps, clientv3.OpGet(s.marker))
	for _, k := range full[:n] {
		p.elseOps = append(p.elseOps, clientv3.OpGet(k))
	}
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
// alone, so that the Gets they make reach etcd in rounds, many keys per
// request, and returns each closure's run (none for a batch of one). A
// run that read nothing the batch's earlier closures write is the
// closure's run over the batch as well (see prepare); the others run
// again over the batch's earlier writes, sequentially, their reads then
// mostly cached.
func (s *Store) prefetch(snap *snapshot, reqs []*batch.Request) []*tx {
	runs := make([]*tx, len(reqs))
	if len(reqs) < 2 {
		return runs
	}
	rs := newRounds(snap, len(reqs))
	var wg sync.WaitGroup
	for i, r := range reqs {
		wg.Go(func() {
			defer rs.done()
			t := &tx{snap: snap, rounds: rs}
			t.err = t.run(r.Fn)
			runs[i] = t
		})
	}
	wg.Wait()
	return runs
}
