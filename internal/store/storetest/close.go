package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/store"
)

func testClosed(t *testing.T, s store.Store) {
	write(t, s, put("k", "v"))
	watcher := s.Watch(context.Background(), 0)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	expectClosed(t, "watcher open at Close", watcher, true)

	if _, err := s.Update(context.Background(), put("k", "w").do); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update after Close = %v; want %v", err, store.ErrClosed)
	}
	if _, err := s.Load(context.Background(), func(string, []byte) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Load after Close = %v; want %v", err, store.ErrClosed)
	}
	for ch := s.Watch(context.Background(), 0); ; {
		ev, ok := recv(t, ch)
		if !ok {
			break
		}
		if !errors.Is(ev.Err, store.ErrClosed) {
			t.Errorf("Watch after Close sent revision %d, err %v; want a closed channel", ev.Rev, ev.Err)
		}
	}
	if err := s.Close(); !errors.Is(err, store.ErrClosed) {
		t.Errorf("second Close = %v; want %v", err, store.ErrClosed)
	}
}

func testCloseWhileUpdating(t *testing.T, s store.Store) {
	closeWhileUpdating(t, s)
}

// closeWhileUpdating closes s while writers keep committing, checks that
// every Update either succeeded or returned ErrClosed, and returns the keys
// whose Update succeeded and the highest revision acknowledged.
func closeWhileUpdating(t *testing.T, s store.Store) (acked []string, maxRev int64) {
	t.Helper()
	const writers = 16
	var (
		mu    sync.Mutex
		count atomic.Int64
		wg    sync.WaitGroup
	)
	for g := range writers {
		wg.Go(func() {
			for i := 0; ; i++ {
				key := fmt.Sprintf("cw/%02d/%06d", g, i)
				rev, err := s.Update(context.Background(), put(key, key).do)
				if err != nil {
					if !errors.Is(err, store.ErrClosed) {
						t.Errorf("Update during Close = %v; want nil or %v", err, store.ErrClosed)
					}
					return
				}
				count.Add(1)
				mu.Lock()
				acked = append(acked, key)
				maxRev = max(maxRev, rev)
				mu.Unlock()
			}
		})
	}
	for deadline := time.Now().Add(timeout); count.Load() < 100; {
		if time.Now().After(deadline) {
			t.Fatalf("only %d Updates done within %v", count.Load(), timeout)
		}
		time.Sleep(time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		t.Fatalf("Updates still running %v after Close", timeout)
	}
	return acked, maxRev
}
