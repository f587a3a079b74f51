package registry

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cairn-dev/cairn/internal/store"
)

// loadView builds a view from the store's snapshot. The records are
// decoded while the store reads them, on every CPU at once (at a million
// instances, decoding is most of a start): the reading copies each value
// into a window's buffer, a window of loadWindow records at a time, and
// the decoders turn a full window into the records the view keeps while
// the reading fills the next. Buffers are reused, so the memory a start
// needs beyond the view stays a few windows, and no value is allocated
// on its own. The decoded records are then linked into the view in the
// order apply needs (namespaces, services, instances, the rest), each
// rank in key order, as apply of the whole snapshot would.
func loadView(ctx context.Context, st store.Store) (*view, error) {
	v := newView()
	v.keyRevs = map[string]int64{}
	defer func() { v.keyRevs = nil }()
	l := newSnapshotLoader(runtime.GOMAXPROCS(0))
	rev, err := st.LoadRevs(ctx, func(key string, value []byte, keyRev int64) error {
		if !relevant(key) {
			return nil
		}
		if strings.HasPrefix(key, pOperation) {
			v.keyRevs[key] = keyRev
			if id := key[len(pOperation):]; isOpIDForm(id) && opKey(id) != key {
				v.oldOpKeys = append(v.oldOpKeys, key)
			}
		}
		return l.add(key, value)
	})
	ranks, lerr := l.finish()
	if err != nil {
		return nil, err
	}
	if lerr != nil {
		return nil, lerr
	}
	for i, r := range ranks {
		if i == rank(loaded(pInstance)) {
			v.reserveInstances(r)
		}
		for _, c := range r {
			v.applySorted(rev, c.changes, c.pre)
		}
	}
	if v.rev < rev { // an empty snapshot
		v.applySorted(rev, nil, nil)
	}
	return v, nil
}

// loadWindow is how many records a decoder takes at once, and how many
// loadView links in under one holding of the view's lock.
const loadWindow = 2048

// loaded is the change loadView applies for a record of the snapshot: one
// that exists (its Value is empty, not nil, so Deleted is false), decoded
// already.
func loaded(key string) store.Change { return store.Change{Key: key, Value: []byte{}} }

// snapshotLoader decodes a snapshot's records as they are read (see
// loadView): add copies a record into the window being filled and hands
// full windows to the decoders; a collector gathers decoded windows in
// the order they were filled and sorts their records by rank.
type snapshotLoader struct {
	free    chan *window // windows to fill
	work    chan *window // full windows, to decode
	decoded chan *window // decoded windows, to collect
	cur     *window
	seq     int
	err     atomic.Pointer[error] // the first record that did not decode
	workers sync.WaitGroup
	done    chan struct{} // closed when the collector has collected every window
	// ranks are the snapshot's records by rank (see rank), each rank in
	// key order, in chunks of at most loadWindow: a million records are
	// not copied each time a slice of them grows.
	ranks [4][]decodedChunk
}

// decodedChunk is records with what they decoded to.
type decodedChunk struct {
	changes []store.Change
	pre     []decoded
}

// window is a batch of records: their keys, their values (slices of buf,
// which is reused) and, once decoded, their records.
type window struct {
	seq  int
	keys []string
	ends []int // end of each value in buf
	buf  []byte
	out  []decoded
}

func newSnapshotLoader(workers int) *snapshotLoader {
	workers = max(workers, 1)
	n := 2*workers + 1 // enough that neither the reading nor a decoder waits for the other
	l := &snapshotLoader{
		free:    make(chan *window, n),
		work:    make(chan *window, n),
		decoded: make(chan *window, n),
		done:    make(chan struct{}),
	}
	for range n {
		l.free <- &window{}
	}
	l.workers.Add(workers)
	for range workers {
		go l.decode()
	}
	go l.collect()
	return l
}

// add copies the record into the window being filled, and hands the
// window to the decoders once full. It fails once a record has failed to
// decode, so that the store's read stops.
func (l *snapshotLoader) add(key string, value []byte) error {
	if p := l.err.Load(); p != nil {
		return *p
	}
	w := l.cur
	if w == nil {
		w = <-l.free
		w.seq, l.seq = l.seq, l.seq+1
		w.keys, w.ends, w.buf = w.keys[:0], w.ends[:0], w.buf[:0]
		l.cur = w
	}
	w.keys = append(w.keys, key)
	w.buf = append(w.buf, value...)
	w.ends = append(w.ends, len(w.buf))
	if len(w.keys) == loadWindow {
		l.work <- w
		l.cur = nil
	}
	return nil
}

// finish hands the last window to the decoders, waits for every window
// to be decoded and collected, and returns the records by rank, or the
// first record's error.
func (l *snapshotLoader) finish() ([4][]decodedChunk, error) {
	if l.cur != nil {
		l.work <- l.cur
		l.cur = nil
	}
	close(l.work)
	l.workers.Wait()
	close(l.decoded)
	<-l.done
	if p := l.err.Load(); p != nil {
		return l.ranks, *p
	}
	return l.ranks, nil
}

// decode decodes full windows until there are no more.
func (l *snapshotLoader) decode() {
	defer l.workers.Done()
	for w := range l.work {
		w.out = w.out[:0]
		if l.err.Load() == nil {
			start := 0
			for i, key := range w.keys {
				c := store.Change{Key: key, Value: w.buf[start:w.ends[i]:w.ends[i]]}
				start = w.ends[i]
				d, err := decodeChange(c)
				if err != nil {
					l.err.CompareAndSwap(nil, &err)
					break
				}
				w.out = append(w.out, d)
			}
		}
		l.decoded <- w
	}
}

// collect takes decoded windows in the order they were filled, adds their
// records to their ranks and frees the windows.
func (l *snapshotLoader) collect() {
	defer close(l.done)
	next := 0
	early := map[int]*window{}
	for w := range l.decoded {
		early[w.seq] = w
		for {
			w, ok := early[next]
			if !ok {
				break
			}
			delete(early, next)
			next++
			if len(w.out) == len(w.keys) { // not after an error
				for i, key := range w.keys {
					c := loaded(key)
					chunks := l.ranks[rank(c)]
					if len(chunks) == 0 || len(chunks[len(chunks)-1].changes) == loadWindow {
						chunks = append(chunks, decodedChunk{make([]store.Change, 0, loadWindow), make([]decoded, 0, loadWindow)})
						l.ranks[rank(c)] = chunks
					}
					last := &chunks[len(chunks)-1]
					last.changes = append(last.changes, c)
					last.pre = append(last.pre, w.out[i])
				}
			}
			clear(w.keys)
			clear(w.out)
			l.free <- w
		}
	}
}

// reserveInstances makes room in each service for the instances chunks
// hold (instance records, in key order: each service's together).
func (v *view) reserveInstances(chunks []decodedChunk) {
	svcID, n := "", 0
	flush := func() {
		if svc := v.services[svcID]; svc != nil {
			svc.reserve(n)
		}
	}
	for _, c := range chunks {
		for _, ch := range c.changes {
			id, _, _ := strings.Cut(ch.Key[len(pInstance):], "/")
			if id != svcID {
				flush()
				svcID, n = id, 0
			}
			n++
		}
	}
	flush()
}
