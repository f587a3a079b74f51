package etcd

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/cairn-dev/cairn/internal/store"
	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Watch returns the commits after revision from, one Event per commit,
// from an etcd watch of the key space. etcd's client resumes the watch
// after a disconnect from the last revision it delivered. When etcd has
// compacted revisions the watcher still needs, Watch checks the space's
// revision key: if the space has not changed since from, the watch goes
// on from etcd's current revision; otherwise it sends store.ErrCompacted
// and closes the channel. The channel is closed when ctx ends or the store
// closes.
func (s *Store) Watch(ctx context.Context, from int64) <-chan store.Event {
	ch := make(chan store.Event, 64)
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed || ctx.Err() != nil {
		close(ch)
		return ch
	}
	s.wg.Add(1)
	go s.watch(ctx, max(from, 0), ch)
	return ch
}

func (s *Store) watch(ctx context.Context, from int64, ch chan<- store.Event) {
	defer s.wg.Done()
	defer close(ch)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()

	next := from // the etcd revision the watch starts after
	for restarts := 0; wctx.Err() == nil; restarts++ {
		if restarts > 0 && s.opts.Observer != nil {
			s.opts.Observer.WatchRestarted()
		}
		// WithRequireLeader ends the watch when its member loses the
		// leader, so that a partitioned member is not watched forever.
		// No progress notifications: etcd before 3.4.24 may send one
		// ahead of events not yet sent, and the client resumes from it.
		wch := s.cli.Watch(clientv3.WithRequireLeader(wctx), s.kv,
			clientv3.WithRange(s.kvEnd), clientv3.WithRev(next+1))
		var werr error
		for resp := range wch {
			if err := resp.Err(); err != nil {
				werr = err
				if resp.CompactRevision != 0 {
					werr = rpctypes.ErrCompacted
				}
				break
			}
			for _, ev := range group(s, resp.Events, from) {
				select {
				case ch <- ev:
				case <-wctx.Done():
					return
				}
				from, next = ev.Rev, ev.Rev
			}
		}
		if wctx.Err() != nil {
			return
		}
		if errors.Is(werr, rpctypes.ErrCompacted) {
			rev, ok := s.unchangedSince(wctx, from)
			if wctx.Err() != nil {
				return
			}
			if !ok {
				select {
				case ch <- store.Event{Err: store.ErrCompacted}:
				case <-wctx.Done():
				}
				return
			}
			next = rev
			continue
		}
		if werr != nil {
			s.log.Warn("etcd: watch interrupted; resuming", "after_rev", from, "err", werr)
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-wctx.Done():
		}
	}
}

// unchangedSince reports whether the space has had no commit after from,
// and the etcd revision at which that was read.
func (s *Store) unchangedSince(ctx context.Context, from int64) (int64, bool) {
	for ctx.Err() == nil {
		rctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
		resp, err := s.cli.Get(rctx, s.marker)
		cancel()
		if err == nil {
			if len(resp.Kvs) > 0 && resp.Kvs[0].ModRevision > from {
				return 0, false
			}
			return resp.Header.Revision, true
		}
		select {
		case <-time.After(200 * time.Millisecond):
		case <-ctx.Done():
		}
	}
	return 0, false
}

// group turns etcd events into one store.Event per revision (etcd sends
// the events of one revision in one response), skipping revisions up to
// from.
func group(s *Store, evs []*clientv3.Event, from int64) []store.Event {
	var out []store.Event
	for _, e := range evs {
		rev := e.Kv.ModRevision
		if rev <= from {
			continue
		}
		if len(out) == 0 || out[len(out)-1].Rev != rev {
			out = append(out, store.Event{Rev: rev})
		}
		c := store.Change{Key: string(e.Kv.Key[len(s.kv):])}
		if e.Type == mvccpb.PUT {
			c.Value = value(e.Kv.Value)
		}
		last := &out[len(out)-1]
		last.Changes = append(last.Changes, c)
	}
	for i := range out {
		slices.SortStableFunc(out[i].Changes, func(a, b store.Change) int { return cmp.Compare(a.Key, b.Key) })
	}
	return out
}

// health remembers whether etcd answered the store's last request.
type health struct {
	mu   sync.Mutex
	err  error
	when time.Time
}

func (h *health) ok() {
	h.mu.Lock()
	h.err, h.when = nil, time.Now()
	h.mu.Unlock()
}

func (h *health) failed(err error) {
	h.mu.Lock()
	h.err, h.when = err, time.Now()
	h.mu.Unlock()
}

// LastError returns when the store last heard from etcd or failed to, and
// the error if it failed; the error is nil once etcd answers again.
func (s *Store) LastError() (time.Time, error) {
	s.health.mu.Lock()
	defer s.health.mu.Unlock()
	return s.health.when, s.health.err
}

// Ping asks etcd for the space's revision with a linearizable read, which
// needs a quorum, within RequestTimeout. It returns nil when etcd answers.
func (s *Store) Ping(ctx context.Context) error {
	if s.isClosed() {
		return store.ErrClosed
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.RequestTimeout)
	defer cancel()
	if _, err := s.cli.Get(ctx, s.marker); err != nil {
		err = s.unavailable(err)
		return err
	}
	s.health.ok()
	return nil
}
