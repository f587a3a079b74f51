package etcd

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// snapshot reads the space at one etcd revision for one attempt of a
// batch, caching what it read. It is safe for concurrent use, for the
// prefetch pass.
//
// A new snapshot is pinned by its first read: that read also reads the
// space's revision key, and the revision it was answered at becomes the
// snapshot's (see readTxn), so that pinning costs no round trip of its
// own.
type snapshot struct {
	s   *Store
	ctx context.Context

	pinMu     sync.Mutex // held by the read that pins the snapshot
	rev       int64      // the pinned etcd revision; 0 until pinned
	markerRev int64      // the space's latest commit at rev

	mu    sync.Mutex
	cache map[string]entry
	pages map[[2]string]scanned // by the range read
	err   error                 // the first etcd error: the attempt fails
}

// scanned is one page of a scan.
type scanned struct {
	keys    []string
	entries []entry
	more    bool
}

// newSnapshot returns a snapshot at rev, or one that its first read pins
// when rev is 0.
func newSnapshot(s *Store, ctx context.Context, rev, markerRev int64) *snapshot {
	return &snapshot{s: s, ctx: ctx, rev: rev, markerRev: markerRev, cache: map[string]entry{}, pages: map[[2]string]scanned{}}
}

// failed returns the attempt's etcd error, if any.
func (sn *snapshot) failed() error {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	return sn.err
}

// entry is a key as the snapshot has it; modRev 0 means absent.
type entry struct {
	value  []byte
	modRev int64
}

// get returns key at the snapshot's revision.
func (sn *snapshot) get(key string) (entry, error) {
	sn.mu.Lock()
	e, ok := sn.cache[key]
	sn.mu.Unlock()
	if ok {
		return e, nil
	}
	rs, err := sn.readTxn([]get{{key: sn.s.kv + key}})
	if err != nil {
		return entry{}, err
	}
	if resp := rs[0]; len(resp.Kvs) > 0 {
		e = entry{value: value(resp.Kvs[0].Value), modRev: resp.Kvs[0].ModRevision}
	}
	sn.mu.Lock()
	sn.cache[key] = e
	sn.mu.Unlock()
	return e, nil
}

// cached reports whether the snapshot has read key.
func (sn *snapshot) cached(key string) bool {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	_, ok := sn.cache[key]
	return ok
}

// getMany reads keys at the snapshot's revision into the cache, with as
// few etcd transactions as MaxTxnOps allows.
func (sn *snapshot) getMany(keys []string) {
	// One operation of the first read pins the snapshot: a part leaves
	// room for it.
	size := max(sn.s.opts.MaxTxnOps-1, 1)
	for len(keys) > 0 {
		part := keys[:min(len(keys), size)]
		keys = keys[len(part):]
		gets := make([]get, len(part))
		for i, k := range part {
			gets[i].key = sn.s.kv + k
		}
		rs, err := sn.readTxn(gets)
		if err != nil {
			return
		}
		sn.mu.Lock()
		for i, k := range part {
			var e entry
			if r := rs[i]; len(r.Kvs) > 0 {
				e = entry{value: value(r.Kvs[0].Value), modRev: r.Kvs[0].ModRevision}
			}
			sn.cache[k] = e
		}
		sn.mu.Unlock()
	}
}

// rounds groups the Gets of the closures that the prefetch pass runs at
// once: each closure blocks at its first Get of a key not read yet; once
// every running closure is blocked (or done), the keys they wait for are
// read together, and they go on.
type rounds struct {
	snap    *snapshot
	mu      sync.Mutex
	running int
	waiting int
	keys    map[string]struct{}
	next    chan struct{} // closed when the keys waited for are read
}

func newRounds(snap *snapshot, running int) *rounds {
	return &rounds{snap: snap, running: running, keys: map[string]struct{}{}, next: make(chan struct{})}
}

// wait blocks until key has been read with the other keys of its round.
func (r *rounds) wait(key string) {
	r.mu.Lock()
	r.keys[key] = struct{}{}
	r.waiting++
	ch := r.next
	if r.waiting == r.running {
		r.flush()
	}
	r.mu.Unlock()
	select {
	case <-ch:
	case <-time.After(roundWait):
		// A closure that is neither waiting nor done is slow, or blocked
		// on something a waiting closure holds: read what is waited for
		// now rather than wait for it.
		r.mu.Lock()
		if r.next == ch {
			r.flush()
		}
		r.mu.Unlock()
		<-ch
	}
}

// waitAll blocks until keys have been read with the other keys of their
// round: one wait for all of them.
func (r *rounds) waitAll(keys []string) {
	r.mu.Lock()
	for _, k := range keys {
		r.keys[k] = struct{}{}
	}
	r.mu.Unlock()
	r.wait(keys[0])
}

// roundWait is how long a closure of the prefetch pass waits for the
// others before its round is read anyway.
const roundWait = 2 * time.Millisecond

// done is called when a closure of the pass has returned.
func (r *rounds) done() {
	r.mu.Lock()
	r.running--
	if r.waiting > 0 && r.waiting == r.running {
		r.flush()
	}
	r.mu.Unlock()
}

// flush reads the keys waited for and releases their closures. r.mu is
// held: every other closure is blocked, so nothing waits for it.
func (r *rounds) flush() {
	keys := make([]string, 0, len(r.keys))
	for k := range r.keys {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	r.snap.getMany(keys)
	clear(r.keys)
	r.waiting = 0
	close(r.next)
	r.next = make(chan struct{})
}

// page is how many keys one read of a scan fetches.
const page = 256

// scanPage returns up to page keys of the snapshot from from (an etcd
// key) to end.
func (sn *snapshot) scanPage(from, end string) ([]string, []entry, bool, error) {
	sn.mu.Lock()
	p, ok := sn.pages[[2]string{from, end}]
	sn.mu.Unlock()
	if ok {
		return p.keys, p.entries, p.more, nil
	}
	rs, err := sn.readTxn([]get{{key: from, opts: []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(page)}}})
	if err != nil {
		return nil, nil, false, err
	}
	resp := rs[0]
	keys := make([]string, len(resp.Kvs))
	entries := make([]entry, len(resp.Kvs))
	sn.mu.Lock()
	defer sn.mu.Unlock()
	for i, kv := range resp.Kvs {
		keys[i] = string(kv.Key[len(sn.s.kv):])
		entries[i] = entry{value: value(kv.Value), modRev: kv.ModRevision}
		sn.cache[keys[i]] = entries[i]
	}
	sn.pages[[2]string{from, end}] = scanned{keys, entries, resp.More}
	return keys, entries, resp.More, nil
}

// get is one Get of a read: an etcd key and the Get's options.
type get struct {
	key  string
	opts []clientv3.OpOption
}

// readTxn reads gets at the snapshot's revision in one etcd transaction
// and returns their answers. It is served by whichever member the client
// talks to, without a quorum round (serializable); a member that has not
// applied the revision yet is asked again linearizably. If the snapshot
// is not pinned yet, the read also reads the space's revision key, at the
// member's latest revision, and pins the snapshot there; other reads wait
// for it. A revision behind the cluster is safe: the commit's Txn compares
// everything the closures read, and a batch that writes nothing still
// sends its comparisons (see send), so no result rests on a stale read;
// a linearizable pin would wait for etcd to apply what it is syncing, a
// sync's time per batch.
func (sn *snapshot) readTxn(gets []get) ([]*etcdserverpb.RangeResponse, error) {
	if err := sn.failed(); err != nil {
		return nil, err
	}
	sn.pinMu.Lock()
	pinning := sn.rev == 0
	if pinning {
		defer sn.pinMu.Unlock()
	} else {
		sn.pinMu.Unlock()
		if len(gets) == 0 {
			return nil, nil
		}
	}
	ops := func(more ...clientv3.OpOption) []clientv3.Op {
		var ops []clientv3.Op
		if pinning {
			ops = append(ops, clientv3.OpGet(sn.s.marker, more...))
		} else {
			more = append(more, clientv3.WithRev(sn.rev))
		}
		for _, g := range gets {
			ops = append(ops, clientv3.OpGet(g.key, append(slices.Clip(g.opts), more...)...))
		}
		return ops
	}
	resp, err := sn.s.cli.Txn(sn.ctx).Then(ops(clientv3.WithSerializable())...).Commit()
	if !pinning && errors.Is(err, rpctypes.ErrFutureRev) {
		resp, err = sn.s.cli.Txn(sn.ctx).Then(ops()...).Commit()
	}
	if err != nil {
		sn.mu.Lock()
		if sn.err == nil {
			sn.err = err
		}
		sn.mu.Unlock()
		return nil, err
	}
	rs := make([]*etcdserverpb.RangeResponse, len(resp.Responses))
	for i, r := range resp.Responses {
		rs[i] = r.GetResponseRange()
	}
	if pinning {
		sn.rev = resp.Header.Revision
		if len(rs[0].Kvs) > 0 {
			sn.markerRev = rs[0].Kvs[0].ModRevision
		}
		rs = rs[1:]
	}
	return rs, nil
}

// pin pins the snapshot if no read has yet.
func (sn *snapshot) pin() error {
	_, err := sn.readTxn(nil)
	return err
}
