package bolt

import (
	"context"
	"sync"

	"github.com/cairn-dev/cairn/internal/store"
)

// Watch returns the commits after revision from, one Event per commit. The
// most recent WatchHistory commits are kept in memory; a watcher that asks
// for an older one, or falls more than WatchBuffer events behind, receives
// store.ErrCompacted and a closed channel. Watch never slows down commits.
// After Close, Watch returns a closed channel.
func (s *Store) Watch(ctx context.Context, from int64) <-chan store.Event {
	return s.hub.watch(ctx, max(from, 0))
}

// hub holds the recent commits and the live watchers.
type hub struct {
	mu       sync.Mutex
	rev      int64         // latest published revision
	ring     []store.Event // commit r is at ring[r%len(ring)]
	n        int           // commits held in ring: revisions rev-n+1 .. rev
	buf      int           // watcher buffer
	watchers map[*watcher]struct{}
	closed   bool
}

type watcher struct {
	ch   chan store.Event // one slot is kept free for ErrCompacted
	from int64            // only commits after from are sent
	stop func() bool      // stops the context callback
}

func newHub(rev int64, history, buf int) *hub {
	return &hub{
		rev:      rev,
		ring:     make([]store.Event, history),
		buf:      buf,
		watchers: make(map[*watcher]struct{}),
	}
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
	h.rev = ev.Rev
	h.ring[ev.Rev%int64(len(h.ring))] = ev
	h.n = min(h.n+1, len(h.ring))
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
