package etcd

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// snapshot reads the space at one etcd revision for one attempt of a
// batch, caching what it read. It is safe for concurrent use, for the
// prefetch pass.
type snapshot struct {
	s         *Store
	ctx       context.Context
	rev       int64 // the pinned etcd revision
	markerRev int64 // the space's latest commit at rev

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
	resp, err := sn.read(sn.s.kv+key, clientv3.WithRev(sn.rev))
	if err != nil {
		return entry{}, err
	}
	if len(resp.Kvs) > 0 {
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
	if sn.failed() != nil {
		return
	}
	for len(keys) > 0 {
		part := keys[:min(len(keys), sn.s.opts.MaxTxnOps)]
		keys = keys[len(part):]
		get := func(opts ...clientv3.OpOption) (*clientv3.TxnResponse, error) {
			ops := make([]clientv3.Op, len(part))
			for i, k := range part {
				ops[i] = clientv3.OpGet(sn.s.kv+k, append([]clientv3.OpOption{clientv3.WithRev(sn.rev)}, opts...)...)
			}
			return sn.s.cli.Txn(sn.ctx).Then(ops...).Commit()
		}
		// Serializable: the member answers from its own state, without a
		// quorum round. The client spreads requests over the members, so
		// this one may not have applied the pinned revision yet
		// (ErrFutureRev): then it is asked again linearizably, as read does,
		// rather than failing the attempt.
		resp, err := get(clientv3.WithSerializable())
		if errors.Is(err, rpctypes.ErrFutureRev) {
			resp, err = get()
		}
		sn.mu.Lock()
		if err != nil {
			if sn.err == nil {
				sn.err = err
			}
			sn.mu.Unlock()
			return
		}
		for i, k := range part {
			var e entry
			if r := resp.Responses[i].GetResponseRange(); r != nil && len(r.Kvs) > 0 {
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
	resp, err := sn.read(from, clientv3.WithRange(end), clientv3.WithRev(sn.rev), clientv3.WithLimit(page))
	if err != nil {
		return nil, nil, false, err
	}
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

// read is a Get at the pinned revision. It is served by whichever member
// the client talks to without a quorum round (serializable); a member
// that has not applied the revision yet is asked again linearizably.
func (sn *snapshot) read(key string, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	if err := sn.failed(); err != nil {
		return nil, err
	}
	resp, err := sn.s.cli.Get(sn.ctx, key, append(opts, clientv3.WithSerializable())...)
	if errors.Is(err, rpctypes.ErrFutureRev) {
		resp, err = sn.s.cli.Get(sn.ctx, key, opts...)
	}
	if err != nil {
		sn.mu.Lock()
		if sn.err == nil {
			sn.err = err
		}
		sn.mu.Unlock()
		return nil, err
	}
	return resp, nil
}
