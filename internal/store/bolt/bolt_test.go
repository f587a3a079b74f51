package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/bolt"
	"github.com/cairn-dev/cairn/internal/store/storetest"
)

func open(t testing.TB, dir string, opts bolt.Options) *bolt.Store {
	t.Helper()
	s, err := bolt.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, t.TempDir(), bolt.DefaultOptions())
	})
}

func TestDurable(t *testing.T) {
	storetest.RunDurable(t, func(t *testing.T, dir string) store.Store {
		return open(t, dir, bolt.DefaultOptions())
	})
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, bolt.DefaultOptions())
	defer s.Close()

	start := time.Now()
	s2, err := bolt.Open(dir, bolt.DefaultOptions())
	if err == nil {
		s2.Close()
		t.Fatal("second Open of the same directory succeeded")
	}
	if !errors.Is(err, store.ErrLocked) {
		t.Errorf("second Open = %v; want an error wrapping store.ErrLocked", err)
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("error %q does not name the directory %s", err, dir)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("second Open took %v to fail", d)
	}
}

// block holds the committer inside a closure until the returned release
// is called.
func block(t *testing.T, s *bolt.Store) (release func()) {
	held, unblock := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := s.Update(context.Background(), func(store.Tx) error {
			close(held)
			<-unblock
			return nil
		})
		done <- err
	}()
	<-held
	return func() {
		close(unblock)
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestUpdateCanceledWhileWaiting(t *testing.T) {
	s := open(t, t.TempDir(), bolt.DefaultOptions())
	defer s.Close()
	release := block(t, s)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	ran := false
	_, err := s.Update(ctx, func(tx store.Tx) error {
		ran = true
		return tx.Put("k", []byte("v"))
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Update = %v; want %v", err, context.DeadlineExceeded)
	}
	release()
	if _, err := s.Load(context.Background(), func(k string, _ []byte) error {
		return fmt.Errorf("found %q", k)
	}); err != nil || ran {
		t.Errorf("canceled Update was applied (ran %v): %v", ran, err)
	}
}

func TestGroupCommit(t *testing.T) {
	s := open(t, t.TempDir(), bolt.DefaultOptions())
	defer s.Close()
	release := block(t, s)

	// These queue up behind the blocked commit and then share one.
	const n = 8
	revs, errs := make([]int64, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			revs[i], errs[i] = s.Update(context.Background(), func(tx store.Tx) error {
				tx.Put(fmt.Sprint("k", i), []byte("v"))
				switch i % 4 {
				case 1:
					return errors.New("fail")
				case 2:
					panic("boom")
				}
				return nil
			})
		})
	}
	time.Sleep(100 * time.Millisecond)
	release()
	wg.Wait()

	want := map[int64]bool{}
	for i := range n {
		if (errs[i] == nil) != (i%4 == 0 || i%4 == 3) {
			t.Errorf("Update %d = %v", i, errs[i])
		}
		if errs[i] == nil {
			want[revs[i]] = true
		}
	}
	if len(want) != 1 {
		t.Errorf("successful Updates got revisions %v; want one shared commit", want)
	}
	var keys []string
	rev, err := s.Load(context.Background(), func(k string, _ []byte) error {
		keys = append(keys, k)
		return nil
	})
	if err != nil || !want[rev] || fmt.Sprint(keys) != "[k0 k3 k4 k7]" {
		t.Errorf("Load = %v at %d (%v); want [k0 k3 k4 k7] at %v", keys, rev, err, want)
	}
}

func TestPutInvalid(t *testing.T) {
	s := open(t, t.TempDir(), bolt.DefaultOptions())
	defer s.Close()
	for _, key := range []string{"", strings.Repeat("k", 40000)} {
		_, err := s.Update(context.Background(), func(tx store.Tx) error { return tx.Put(key, nil) })
		if err == nil || !strings.HasPrefix(err.Error(), "bolt: put") {
			t.Errorf("Put of a %d-byte key: %v; want a bolt: put error", len(key), err)
		}
	}
}

func TestWatchHistory(t *testing.T) {
	opts := bolt.DefaultOptions()
	opts.WatchHistory = 4
	opts.WatchBuffer = 2
	s := open(t, t.TempDir(), opts)
	defer s.Close()
	ctx := context.Background()
	put := func(i int) int64 {
		rev, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(fmt.Sprint("k", i), []byte("v")) })
		if err != nil {
			t.Fatal(err)
		}
		return rev
	}

	slow := s.Watch(ctx, 0)
	var last int64
	for i := range 10 {
		last = put(i)
	}
	// The slow watcher gets what fitted in its buffer, then ErrCompacted.
	var revs []int64
	for ev := range slow {
		if ev.Err != nil {
			if !errors.Is(ev.Err, store.ErrCompacted) {
				t.Errorf("slow watcher: err %v; want ErrCompacted", ev.Err)
			}
			revs = append(revs, -1)
			continue
		}
		revs = append(revs, ev.Rev)
	}
	if got := fmt.Sprint(revs); got != "[1 2 -1]" {
		t.Errorf("slow watcher got %s; want [1 2 -1]", got)
	}

	tests := []struct {
		from int64
		want string
	}{
		{0, "[compacted]"},
		{last - 5, "[compacted]"},
		{last - 4, fmt.Sprint([]int64{last - 3, last - 2, last - 1, last})},
		{last, "[]"},
	}
	for _, tt := range tests {
		ctx, cancel := context.WithCancel(ctx)
		ch := s.Watch(ctx, tt.from)
		got := []string{}
		for len(ch) > 0 {
			ev := <-ch
			if errors.Is(ev.Err, store.ErrCompacted) {
				got = append(got, "compacted")
			} else {
				got = append(got, fmt.Sprint(ev.Rev))
			}
		}
		cancel()
		if s := "[" + strings.Join(got, " ") + "]"; s != tt.want {
			t.Errorf("Watch from %d at %d: %s; want %s", tt.from, last, s, tt.want)
		}
	}

	// A watcher may start from a revision not yet committed.
	future := s.Watch(ctx, last+1)
	put(100)
	want := put(101)
	select {
	case ev := <-future:
		if ev.Rev != want || ev.Err != nil {
			t.Errorf("Watch from %d: first event %d, %v; want %d", last+1, ev.Rev, ev.Err, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event")
	}
}

// The history holds at most WatchHistoryBytes of keys and values (the
// newest commit whatever its size): a watcher from within it gets every
// commit after its revision, one from before gets ErrCompacted.
func TestWatchHistoryBytes(t *testing.T) {
	opts := bolt.DefaultOptions()
	opts.WatchHistoryBytes = 1000
	s := open(t, t.TempDir(), opts)
	defer s.Close()
	ctx := context.Background()
	put := func(key string, size int) int64 {
		rev, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(key, make([]byte, size)) })
		if err != nil {
			t.Fatal(err)
		}
		return rev
	}
	// watchFrom reports the revisions a watcher from from gets at once,
	// or "compacted".
	watchFrom := func(from int64) string {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		ch := s.Watch(ctx, from)
		got := []string{}
		for len(ch) > 0 {
			ev := <-ch
			if errors.Is(ev.Err, store.ErrCompacted) {
				return "compacted"
			}
			got = append(got, fmt.Sprint(ev.Rev))
		}
		return strings.Join(got, " ")
	}
	var revs []int64
	for i := range 20 { // each about 100 + 2 + 40 bytes: the last 7 fit in 1,000
		revs = append(revs, put(fmt.Sprint("k", i%10), 100))
	}
	last := revs[len(revs)-1]
	if got, want := watchFrom(last-7), fmt.Sprintf("%d %d %d %d %d %d %d", last-6, last-5, last-4, last-3, last-2, last-1, last); got != want {
		t.Errorf("Watch from %d: %s; want %s", last-7, got, want)
	}
	if got := watchFrom(last - 8); got != "compacted" {
		t.Errorf("Watch from %d, before the history: %s; want compacted", last-8, got)
	}
	// A commit larger than the bound is kept alone.
	big := put("big", 5000)
	if got := watchFrom(big - 1); got != fmt.Sprint(big) {
		t.Errorf("Watch from %d: %s; want the large commit %d", big-1, got, big)
	}
	if got := watchFrom(big - 2); got != "compacted" {
		t.Errorf("Watch from %d: %s; want compacted", big-2, got)
	}
	// Smaller ones after it push it out.
	for range 3 {
		last = put("k", 100)
	}
	if got := watchFrom(big); got != fmt.Sprintf("%d %d %d", last-2, last-1, last) {
		t.Errorf("Watch from %d after the large commit: %s", big, got)
	}
}

func TestDeleteAbsentIsNoChange(t *testing.T) {
	s := open(t, t.TempDir(), bolt.DefaultOptions())
	defer s.Close()
	ctx := context.Background()
	rev, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte("v")) })
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Update(ctx, func(tx store.Tx) error { return tx.Delete("absent") })
	if err != nil || got != rev {
		t.Errorf("deleting an absent key = %d, %v; want revision %d unchanged", got, err, rev)
	}
}

func TestWatchAfterReopenIsCompacted(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, bolt.DefaultOptions())
	if _, err := s.Update(context.Background(), func(tx store.Tx) error { return tx.Put("k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dir, bolt.DefaultOptions())
	defer s.Close()
	ev, ok := <-s.Watch(context.Background(), 0)
	if !ok || !errors.Is(ev.Err, store.ErrCompacted) {
		t.Errorf("Watch from 0 after reopen: %v, %v; want ErrCompacted", ev, ok)
	}
}

func Example() {
	dir, err := os.MkdirTemp("", "cairn-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := bolt.Open(dir, bolt.DefaultOptions())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	ctx := context.Background()
	rev, err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put("svc/srv-1", []byte(`{"Name":"web"}`)); err != nil {
			return err
		}
		return tx.Put("ns/ns-1", []byte(`{"Name":"example.local"}`))
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("committed revision", rev)

	rev, err = s.Load(ctx, func(key string, value []byte) error {
		fmt.Printf("%s %s\n", key, value)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("loaded revision", rev)
	// Output:
	// committed revision 1
	// ns/ns-1 {"Name":"example.local"}
	// svc/srv-1 {"Name":"web"}
	// loaded revision 1
}

// benchmarkUpdate runs b.N durable single-key Puts from the given number
// of concurrent writers and reports commits per second.
func benchmarkUpdate(b *testing.B, writers int) {
	s := open(b, b.TempDir(), bolt.DefaultOptions())
	defer s.Close()
	value := []byte(`{"Id":"srv-0123456789abcdef","Name":"web"}`)
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	for range writers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				key := fmt.Sprintf("svc/%08d", i)
				if _, err := s.Update(context.Background(), func(tx store.Tx) error {
					return tx.Put(key, value)
				}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func BenchmarkUpdateParallel(b *testing.B) { benchmarkUpdate(b, 64) }

func BenchmarkUpdateSerial(b *testing.B) { benchmarkUpdate(b, 1) }

// TestPipelinedBatches holds a batch's commit and checks that the
// committer runs the next batch's closures meanwhile (pipelining), over
// the held batch's writes (its Get and Scan see them, a deletion
// included), and answers the next batch only after the held
// one, at a later revision; and that when the held commit fails, the next
// batch's closures run again without its writes.
func TestPipelinedBatches(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run(fmt.Sprintf("fail=%v", fail), func(t *testing.T) {
			s := open(t, t.TempDir(), bolt.DefaultOptions())
			defer s.Close()
			if _, err := s.Update(context.Background(), func(tx store.Tx) error { return tx.Put("k/z", []byte("0")) }); err != nil {
				t.Fatal(err)
			}
			var held atomic.Bool
			writing, release := make(chan struct{}), make(chan struct{})
			errDisk := errors.New("injected commit failure")
			bolt.SetBeforeWrite(s, func() error {
				if held.CompareAndSwap(false, true) {
					close(writing)
					<-release
					if fail {
						return errDisk
					}
				}
				return nil
			})
			update := func(fn func(tx store.Tx) error) <-chan storetest.Result { return storetest.UpdateAsync(s, fn) }
			first := update(func(tx store.Tx) error {
				if err := tx.Delete("k/z"); err != nil {
					return err
				}
				if err := tx.Put("k/w", []byte("2")); err != nil {
					return err
				}
				return tx.Put("x", []byte("1"))
			})
			deadline := time.After(30 * time.Second)
			select {
			case <-writing:
			case <-deadline:
				t.Fatal("the first batch was never written")
			}
			var runs atomic.Int32
			ran := make(chan struct{}, 16)
			second := update(func(tx store.Tx) error {
				runs.Add(1)
				ran <- struct{}{}
				v, _, err := tx.Get("x")
				if err != nil {
					return err
				}
				v = append(v, '!')
				err = tx.Scan("k/", func(key string, value []byte) bool {
					v = fmt.Appendf(v, "%s=%s;", key, value)
					return true
				})
				if err != nil {
					return err
				}
				return tx.Put("y", v)
			})
			select {
			case <-ran:
			case <-deadline:
				t.Fatal("the next batch's closures did not run while the previous batch was being written")
			}
			select {
			case r := <-second:
				t.Fatalf("the second Update returned (%v) while the batch before it is not yet durable", r)
			default:
			}
			close(release)
			a, b := <-first, <-second
			if b.Err != nil {
				t.Fatal(b.Err)
			}
			want, wantRuns := "1!k/w=2;", int32(1)
			if fail {
				if !errors.Is(a.Err, errDisk) {
					t.Fatalf("the failed commit's Update returned %v", a.Err)
				}
				want, wantRuns = "!k/z=0;", 2
			} else if a.Err != nil || b.Rev <= a.Rev {
				t.Fatalf("first: rev %d, %v; second: rev %d: want the second committed after the first", a.Rev, a.Err, b.Rev)
			}
			if got, _ := get(t, s, "y"); string(got) != want || runs.Load() != wantRuns {
				t.Errorf("y = %q after %d runs; want %q after %d", got, runs.Load(), want, wantRuns)
			}
		})
	}
}

// get reads key in its own Update.
func get(t *testing.T, s store.Store, key string) ([]byte, bool) {
	t.Helper()
	var v []byte
	var ok bool
	if _, err := s.Update(context.Background(), func(tx store.Tx) error {
		var err error
		v, ok, err = tx.Get(key)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return v, ok
}
