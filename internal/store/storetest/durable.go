package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"

	"github.com/cairn-dev/cairn/internal/store"
)

// RunDurable checks that what a store acknowledged survives closing and
// reopening it. open must open the store kept in dir, creating it if dir
// is empty; RunDurable closes it.
func RunDurable(t *testing.T, open func(t *testing.T, dir string) store.Store) {
	reopen := func(t *testing.T, dir string) store.Store {
		s := open(t, dir)
		t.Cleanup(func() { s.Close() })
		return s
	}
	t.Run("Reopen", func(t *testing.T) { testReopen(t, t.TempDir(), reopen) })
	t.Run("CloseWhileUpdating", func(t *testing.T) {
		dir := t.TempDir()
		acked, maxRev := closeWhileUpdating(t, reopen(t, dir))
		all, rev := loadMap(t, reopen(t, dir))
		for _, k := range acked {
			if string(all[k]) != k {
				t.Fatalf("acknowledged %s = %q after reopen", k, all[k])
			}
		}
		if rev < maxRev {
			t.Errorf("revision after reopen = %d; want >= %d", rev, maxRev)
		}
	})
}

func testReopen(t *testing.T, dir string, open func(t *testing.T, dir string) store.Store) {
	s := open(t, dir)
	write(t, s, put("a", "1"), put("b", "2"), put("empty", ""), put("gone", "x"))
	write(t, s, del("gone"), put("a", "1b"))
	if _, err := s.Update(context.Background(), func(tx store.Tx) error {
		tx.Put("rolled back", []byte("x"))
		return errors.New("no")
	}); err == nil {
		t.Fatal("failing Update returned nil")
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 25 {
				k := fmt.Sprintf("w/%02d/%02d", g, i)
				if _, err := s.Update(context.Background(), put(k, k).do); err != nil {
					t.Errorf("Update: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	want, rev := loadMap(t, s)
	if len(want) != 3+16*25 {
		t.Fatalf("Load gave %d keys; want %d", len(want), 3+16*25)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for round := range 2 {
		s := open(t, dir)
		got, gotRev := loadMap(t, s)
		if !maps.EqualFunc(got, want, sameValue) {
			t.Fatalf("reopen %d: Load differs from before Close", round)
		}
		if gotRev != rev {
			t.Errorf("reopen %d: revision %d; want %d", round, gotRev, rev)
		}
		if v, ok := get(t, s, "empty"); !ok || v == nil || len(v) != 0 {
			t.Errorf("reopen %d: empty value = %q, %v; want empty, true", round, v, ok)
		}

		ctx, cancel := context.WithCancel(context.Background())
		ch := s.Watch(ctx, rev)
		key := fmt.Sprint("round", round)
		next := write(t, s, put(key, "x"))
		if next <= rev {
			t.Errorf("reopen %d: revision %d after %d", round, next, rev)
		}
		expectEvent(t, "watch after reopen", ch, next, []op{put(key, "x")})
		cancel()
		want[key], rev = []byte("x"), next
		if err := s.Close(); err != nil {
			t.Fatalf("reopen %d: Close: %v", round, err)
		}
	}
}
