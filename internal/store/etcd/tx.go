package etcd

import (
	"fmt"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/batch"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// tx is the store.Tx of one closure in a batch: its writes are buffered
// (batch.Writes) over the writes of the closures before it in the batch,
// over the snapshot. It records what it read from the snapshot, for the
// commit's comparisons.
type tx struct {
	snap   *snapshot
	rounds *rounds      // in the prefetch pass: groups the Gets
	writes batch.Writes // Below is the batch's earlier writes, not modified by tx
	reads  map[string]int64
	ranges []keyRange
	done   bool
	err    error // what the closure returned
}

var (
	_ store.Tx         = (*tx)(nil)
	_ store.Prefetcher = (*tx)(nil)
)

// run calls fn with t, turning a panic into an error.
func (t *tx) run(fn func(store.Tx) error) (err error) {
	defer func() {
		t.done = true
		if p := recover(); p != nil {
			err = fmt.Errorf("etcd: update: panic in transaction: %v\n%s", p, debug.Stack())
		}
	}()
	return fn(t)
}

func (t *tx) record(key string, modRev int64) {
	if t.reads == nil {
		t.reads = make(map[string]int64)
	}
	t.reads[key] = modRev
}

func (t *tx) Get(key string) ([]byte, bool, error) {
	if t.done {
		return nil, false, errTxDone
	}
	if v, ok := t.writes.Get(key); ok {
		return v, v != nil, nil
	}
	if t.rounds != nil && !t.snap.cached(key) {
		t.rounds.wait(key)
	}
	e, err := t.snap.get(key)
	if err != nil {
		return nil, false, fmt.Errorf("etcd: get %q: %w", key, err)
	}
	t.record(key, e.modRev)
	if e.modRev == 0 {
		return nil, false, nil
	}
	return e.value, true, nil
}

// Prefetch reads the keys not read yet in one round trip: with the other
// closures' in the prefetch pass, alone in the sequential run. It records
// no read: only a Get makes the commit depend on a key.
func (t *tx) Prefetch(keys ...string) {
	if t.done {
		return
	}
	var missing []string
	for _, k := range keys {
		if _, ok := t.writes.Get(k); !ok && k != "" && !t.snap.cached(k) {
			missing = append(missing, k)
		}
	}
	switch {
	case len(missing) == 0:
	case t.rounds != nil:
		t.rounds.waitAll(missing)
	default:
		slices.Sort(missing)
		t.snap.getMany(slices.Compact(missing))
	}
}

func (t *tx) Put(key string, value []byte) error {
	switch {
	case t.done:
		return errTxDone
	case key == "":
		return errEmptyKey
	}
	t.writes.Put(key, batch.Clone(value))
	return nil
}

func (t *tx) Delete(key string) error {
	if t.done {
		return errTxDone
	}
	t.writes.Put(key, nil)
	return nil
}

// Scan merges the local writes under prefix with the snapshot's keys,
// read page by page. It records the range it covered and every snapshot
// key it passed.
func (t *tx) Scan(prefix string, fn func(key string, value []byte) bool) error {
	if t.done {
		return errTxDone
	}
	s := t.snap.s
	end := s.kvEnd
	if prefix != "" {
		end = clientv3.GetPrefixRangeEnd(s.kv + prefix)
	}
	pages := &pager{snap: t.snap, next: s.kv + prefix, end: end, more: true}
	stopped, last, err := t.writes.Scan(prefix, pages, fn, func(k string) { t.record(k, pages.modRev(k)) })
	if err != nil {
		return fmt.Errorf("etcd: scan %q: %w", prefix, err)
	}
	if stopped {
		t.ranges = append(t.ranges, keyRange{start: prefix, last: last})
	} else {
		t.ranges = append(t.ranges, keyRange{start: prefix, whole: true})
	}
	return nil
}

// pager reads the snapshot's keys from next to end, a page at a time, as
// a batch.Stored.
type pager struct {
	snap      *snapshot
	next, end string // etcd keys
	more      bool
	keys      []string
	entries   []entry
	j         int
	lastKey   string
	lastEntry entry
}

func (p *pager) Next() (string, []byte, bool, error) {
	if p.j >= len(p.keys) {
		if !p.more {
			return "", nil, false, nil
		}
		var err error
		p.keys, p.entries, p.more, err = p.snap.scanPage(p.next, p.end)
		if err != nil {
			return "", nil, false, err
		}
		p.j = 0
		if len(p.keys) == 0 {
			p.more = false
			return "", nil, false, nil
		}
		p.next = p.snap.s.kv + p.keys[len(p.keys)-1] + "\x00"
	}
	p.lastKey, p.lastEntry = p.keys[p.j], p.entries[p.j]
	p.j++
	return p.lastKey, p.lastEntry.value, true, nil
}

// modRev is the ModRevision of the key Next returned last.
func (p *pager) modRev(key string) int64 {
	if key == p.lastKey {
		return p.lastEntry.modRev
	}
	return 0
}

// keyRange is a scanned range of store keys: from start, up to and
// including last when set, else every key with the prefix start.
type keyRange struct {
	start string
	last  string
	whole bool
}

// holds reports whether the store key k is in r.
func (r keyRange) holds(k string) bool {
	if r.whole {
		return strings.HasPrefix(k, r.start)
	}
	return k >= r.start && k <= r.last
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
