package bolt

import (
	"context"
	"sync"

	"github.com/cairn-dev/cairn/internal/store"
)

// Watch returns the commits after revision from, one Event per commit. The
// most recent commits are kept in memory, at most WatchHistory of them and
// WatchHistoryBytes of keys and values (the newest one whatever its size);
// a watcher that asks for an older one, or falls more than
// WatchBuffer events behind, receives store.ErrCompacted and a closed
// channel. Watch never slows down commits. After Close, Watch returns a
// closed channel.
//
// The history serves a watcher that starts behind the store: the
// registry's view, after it loaded the state at some revision (at start,
// or reloading after ErrCompacted), watches from there. While it reloads,
// writers wait for it after their commit, so the commits it must catch up
// on are about as many as the writers in flight, not a span of time; a
// watcher that keeps up (the view applies each commit as it comes) needs
// none. Bounding the history by bytes keeps its memory off the
// operations a server retains: 4,096 commits of 24 registrations each
// held ~20 MB, 500 bytes per retained operation at 40,000.
func (s *Store) Watch(ctx context.Context, from int64) <-chan store.Event {
	return s.hub.watch(ctx, max(from, 0))
}

// hub holds the recent commits and the live watchers.
type hub struct {
	mu       sync.Mutex
	rev      int64         // latest published revision
	ring     []store.Event // commit r is at ring[r%len(ring)]
	n        int           // commits held in ring: revisions rev-n+1 .. rev
	bytes    int           // eventBytes of the commits held
	maxBytes int           // most bytes held, unless the newest commit alone is more
	buf      int           // watcher buffer
	watchers map[*watcher]struct{}
	closed   bool
}

type watcher struct {
	ch   chan store.Event // one slot is kept free for ErrCompacted
	from int64            // only commits after from are sent
	stop func() bool      // stops the context callback
}

func newHub(rev int64, history, historyBytes, buf int) *hub {
	return &hub{
		rev:      rev,
		ring:     make([]store.Event, history),
		maxBytes: historyBytes,
		buf:      buf,
		watchers: make(map[*watcher]struct{}),
	}
}

// eventBytes is about the memory an event's changes hold: their keys and
// values, and a change's own fields.
func eventBytes(ev store.Event) int {
	n := 0
	for _, c := range ev.Changes {
		n += len(c.Key) + len(c.Value) + 40
	}
	return n
}

// evictOldest drops the oldest commit held. h.mu must be held and h.n > 0.
func (h *hub) evictOldest() {
	i := (h.rev - int64(h.n) + 1) % int64(len(h.ring))
	h.bytes -= eventBytes(h.ring[i])
	h.ring[i] = store.Event{} // its values are garbage now
	h.n--
}

func (h *hub) watch(ctx context.Context, from int64) <-chan store.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || ctx.Err() != nil {
		ch := make(chan store.Event)
		close(ch)
		return ch
	}
	if oldest := h.rev - int64(h.n) + 1; from < h.rev && from+1 < oldest {
		ch := make(chan store.Event, 1)
		ch <- store.Event{Err: store.ErrCompacted}
		close(ch)
		return ch
	}
	backlog := max(h.rev-from, 0)
	w := &watcher{ch: make(chan store.Event, h.buf+int(backlog)+1), from: from}
	for r := from + 1; r <= h.rev; r++ {
		w.ch <- h.ring[r%int64(len(h.ring))]
	}
	h.watchers[w] = struct{}{}
	w.stop = context.AfterFunc(ctx, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.watchers[w]; ok {
			h.drop(w)
		}
	})
	return w.ch
}

// publish records a commit and sends it to every watcher without blocking.
func (h *hub) publish(ev store.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == len(h.ring) {
		h.evictOldest() // its slot is the one ev takes
	}
	h.rev = ev.Rev
	h.ring[ev.Rev%int64(len(h.ring))] = ev
	h.n++
	h.bytes += eventBytes(ev)
	for h.n > 1 && h.bytes > h.maxBytes {
		h.evictOldest()
	}
	for w := range h.watchers {
		switch {
		case ev.Rev <= w.from:
		case len(w.ch) < cap(w.ch)-1:
			w.ch <- ev
		default:
			w.ch <- store.Event{Err: store.ErrCompacted}
			h.drop(w)
		}
	}
}

// close closes every watcher; later watchers get a closed channel.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for w := range h.watchers {
		h.drop(w)
	}
}

// drop unregisters w and closes its channel. h.mu must be held.
func (h *hub) drop(w *watcher) {
	delete(h.watchers, w)
	w.stop()
	close(w.ch)
}
