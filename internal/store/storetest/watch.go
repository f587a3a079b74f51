package storetest

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/store"
)

// recv returns the next event on ch, or ok=false if ch is closed.
func recv(t *testing.T, ch <-chan store.Event) (store.Event, bool) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		return ev, ok
	case <-time.After(timeout):
		t.Fatalf("no event and no close within %v", timeout)
		return store.Event{}, false
	}
}

// expectEvent receives one event and checks it is the commit rev made of
// ops: applying its Changes in order must give the state ops left.
func expectEvent(t *testing.T, name string, ch <-chan store.Event, rev int64, ops []op) {
	t.Helper()
	ev, ok := recv(t, ch)
	if !ok {
		t.Fatalf("%s: channel closed; want revision %d", name, rev)
	}
	if ev.Err != nil || ev.Rev != rev {
		t.Fatalf("%s: event at %d, err %v; want revision %d", name, ev.Rev, ev.Err, rev)
	}
	want := make(map[string][]byte)
	for _, o := range ops {
		if o.del {
			want[o.key] = nil
		} else {
			want[o.key] = o.value
		}
	}
	got := make(map[string][]byte)
	for _, c := range ev.Changes {
		if c.Deleted() != (c.Value == nil) {
			t.Errorf("%s: change of %q: Deleted() = %v with value %q", name, c.Key, c.Deleted(), c.Value)
		}
		got[c.Key] = c.Value
	}
	if !maps.EqualFunc(got, want, sameValue) {
		t.Errorf("%s: revision %d changes %q; want %q", name, rev, got, want)
	}
}

// expectClosed drains ch and fails if it carries an event other than
// the ones allowed.
func expectClosed(t *testing.T, name string, ch <-chan store.Event, allowEvents bool) {
	t.Helper()
	for {
		ev, ok := recv(t, ch)
		if !ok {
			return
		}
		if !allowEvents {
			t.Errorf("%s: unexpected event at %d (err %v) before close", name, ev.Rev, ev.Err)
		}
	}
}

func testWatch(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	commits := [][]op{
		{put("a", "1"), put("b", "2")},
		{put("a", "3"), del("b")},
		{put("c", "")},
		{put("d", "4")},
		{put("a", "5"), put("e", "5")},
	}
	revs := make([]int64, len(commits))

	live := s.Watch(ctx, 0)
	for i := range 3 {
		revs[i] = write(t, s, commits[i]...)
	}
	fromZero := s.Watch(ctx, 0)
	fromFirst := s.Watch(ctx, revs[0])
	write(t, s) // changes nothing: no event
	revs[3] = write(t, s, commits[3]...)
	fromLast := s.Watch(ctx, revs[3])
	revs[4] = write(t, s, commits[4]...)

	watchers := []struct {
		name  string
		ch    <-chan store.Event
		first int // index of the first commit it must see
	}{
		{"live from 0", live, 0},
		{"from 0", fromZero, 0},
		{"from first revision", fromFirst, 1},
		{"from latest revision", fromLast, 4},
	}
	for _, w := range watchers {
		for i := w.first; i < len(commits); i++ {
			expectEvent(t, w.name, w.ch, revs[i], commits[i])
		}
	}
	cancel()
	for _, w := range watchers {
		expectClosed(t, w.name, w.ch, false)
	}
}

func testWatchCancel(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	idle := s.Watch(ctx, 0)
	cancel()
	expectClosed(t, "idle watcher", idle, false)
	expectClosed(t, "watch with canceled context", s.Watch(ctx, 0), false)

	// Cancel a watcher while commits stream to it.
	ctx, cancel = context.WithCancel(context.Background())
	busy := s.Watch(ctx, 0)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.Update(context.Background(), put("k", "v").do); err != nil {
				t.Errorf("Update: %v", err)
				return
			}
		}
	}()
	if ev, ok := recv(t, busy); !ok || ev.Err != nil {
		t.Fatalf("first event: %v, %v", ev, ok)
	}
	cancel()
	expectClosed(t, "busy watcher", busy, true)
	close(stop)
	<-done
}
