package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"testing"

	"github.com/cairn-dev/cairn/internal/store"
)

func testRollback(t *testing.T, s store.Store) {
	rev := write(t, s, put("keep", "1"), put("other", "2"))
	before, _ := loadMap(t, s)
	myErr := errors.New("changed my mind")
	_, err := s.Update(context.Background(), func(tx store.Tx) error {
		tx.Put("keep", []byte("changed"))
		tx.Put("new", []byte("x"))
		tx.Delete("other")
		return myErr
	})
	if err != myErr {
		t.Fatalf("Update = %v; want the closure's error unchanged", err)
	}
	after, loadRev := loadMap(t, s)
	if !maps.EqualFunc(after, before, sameValue) {
		t.Errorf("after rollback: %q; want %q", after, before)
	}
	if loadRev != rev {
		t.Errorf("revision after rollback = %d; want %d", loadRev, rev)
	}
}

// testConcurrentRollback runs rounds of concurrent Updates of which some
// fail or panic, so that stores with group commit mix them in one commit.
func testConcurrentRollback(t *testing.T, s store.Store) {
	const rounds, writers = 5, 32
	for round := range rounds {
		start := make(chan struct{})
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				<-start
				key := fmt.Sprintf("r%d/%02d", round, i)
				_, errs[i] = s.Update(context.Background(), func(tx store.Tx) error {
					if err := tx.Put(key, []byte(key)); err != nil {
						return err
					}
					if err := tx.Put("shared", []byte(key)); err != nil {
						return err
					}
					switch i % 4 {
					case 1:
						return fmt.Errorf("writer %d fails", i)
					case 3:
						panic(fmt.Sprintf("writer %d panics", i))
					}
					return nil
				})
			})
		}
		close(start)
		wg.Wait()
		all, _ := loadMap(t, s)
		for i, err := range errs {
			key := fmt.Sprintf("r%d/%02d", round, i)
			_, stored := all[key]
			switch i % 4 {
			case 1:
				if want := fmt.Sprintf("writer %d fails", i); err == nil || err.Error() != want {
					t.Errorf("round %d writer %d: Update = %v; want %q", round, i, err, want)
				}
			case 3:
				if err == nil {
					t.Errorf("round %d writer %d panicked but Update returned nil", round, i)
				}
			default:
				if err != nil {
					t.Errorf("round %d writer %d: Update = %v", round, i, err)
				}
			}
			if want := err == nil; stored != want {
				t.Errorf("round %d: %s stored = %v; want %v", round, key, stored, want)
			}
		}
		if v := string(all["shared"]); v == "" || errs[mustAtoi(t, v[len(v)-2:])] != nil {
			t.Errorf("round %d: shared = %q, written by a failed Update", round, v)
		}
	}
}

func mustAtoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func testPanic(t *testing.T, s store.Store) {
	rev := write(t, s, put("k", "1"))
	_, err := s.Update(context.Background(), func(tx store.Tx) error {
		tx.Put("k", []byte("2"))
		tx.Put("p", []byte("x"))
		var m map[string]int
		m["boom"]++ // panics
		return nil
	})
	if err == nil {
		t.Fatal("Update of a panicking closure returned nil")
	}
	all, loadRev := loadMap(t, s)
	if want := map[string][]byte{"k": []byte("1")}; !maps.EqualFunc(all, want, sameValue) {
		t.Errorf("after panic: %q; want %q", all, want)
	}
	if loadRev != rev {
		t.Errorf("revision after panic = %d; want %d", loadRev, rev)
	}
	if next := write(t, s, put("k", "3")); next <= rev {
		t.Errorf("revision after panic and write = %d; want > %d", next, rev)
	}
}

func testCanceledUpdate(t *testing.T, s store.Store) {
	rev := write(t, s, put("k", "1"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte("2")) })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update with canceled context = %v; want %v", err, context.Canceled)
	}
	all, loadRev := loadMap(t, s)
	if want := map[string][]byte{"k": []byte("1")}; !maps.EqualFunc(all, want, sameValue) || loadRev != rev {
		t.Errorf("after canceled Update: %q at %d; want %q at %d", all, loadRev, want, rev)
	}
}

func testRevisions(t *testing.T, s store.Store) {
	if _, rev := load(t, s); rev != 0 {
		t.Errorf("revision of an empty store = %d; want 0", rev)
	}
	var last int64
	for i := range 5 {
		rev := write(t, s, put(fmt.Sprint("k", i), "v"))
		if rev <= last {
			t.Fatalf("commit %d: revision %d after %d", i, rev, last)
		}
		last = rev
	}
	readOnly, err := s.Update(context.Background(), func(tx store.Tx) error {
		_, _, err := tx.Get("k0")
		return err
	})
	if err != nil || readOnly != last {
		t.Errorf("read-only Update = %d, %v; want %d, nil", readOnly, err, last)
	}
	if rev := write(t, s); rev != last {
		t.Errorf("empty Update = %d; want %d", rev, last)
	}
	if _, rev := load(t, s); rev != last {
		t.Errorf("Load revision after no-write Updates = %d; want %d", rev, last)
	}
	if rev := write(t, s, put("k0", "w")); rev <= last {
		t.Errorf("revision after no-write Updates = %d; want > %d", rev, last)
	}
}

// testConcurrent runs many concurrent writers, each also incrementing one
// shared counter, and checks that no write and no increment was lost.
func testConcurrent(t *testing.T, s store.Store) {
	writers, perWriter := 64, 100
	if testing.Short() {
		writers, perWriter = 16, 20
	}
	revs := make([][]int64, writers)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range perWriter {
				key := fmt.Sprintf("w/%02d/%03d", g, i)
				rev, err := s.Update(context.Background(), func(tx store.Tx) error {
					if err := tx.Put(key, []byte(key)); err != nil {
						return err
					}
					v, _, err := tx.Get("counter")
					if err != nil {
						return err
					}
					n := 0
					if v != nil {
						if n, err = strconv.Atoi(string(v)); err != nil {
							return err
						}
					}
					return tx.Put("counter", []byte(strconv.Itoa(n+1)))
				})
				if err != nil {
					t.Errorf("writer %d: Update: %v", g, err)
					return
				}
				revs[g] = append(revs[g], rev)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}

	all, loadRev := loadMap(t, s)
	total := writers * perWriter
	if got := string(all["counter"]); got != strconv.Itoa(total) {
		t.Errorf("counter = %s; want %d", got, total)
	}
	if len(all) != total+1 {
		t.Errorf("Load gave %d keys; want %d", len(all), total+1)
	}
	for g := range writers {
		for i := range perWriter {
			key := fmt.Sprintf("w/%02d/%03d", g, i)
			if string(all[key]) != key {
				t.Fatalf("%s = %q after its Update succeeded", key, all[key])
			}
		}
	}
	seen := make(map[int64]bool)
	for g, rs := range revs {
		for i, rev := range rs {
			if i > 0 && rev <= rs[i-1] {
				t.Errorf("writer %d: revision %d after %d", g, rev, rs[i-1])
			}
			if rev > loadRev {
				t.Errorf("writer %d: revision %d is past Load's %d", g, rev, loadRev)
			}
			seen[rev] = true
		}
	}
	if !seen[loadRev] {
		t.Errorf("Load revision %d was returned by no Update", loadRev)
	}
}

// Result is what an Update started by UpdateAsync returned.
type Result struct {
	Rev int64
	Err error
}

// UpdateAsync starts s.Update(fn) in a goroutine and returns the channel
// its result arrives on: the stores' own tests hold a batch mid-commit and
// watch which later updates are answered meanwhile.
func UpdateAsync(s store.Store, fn func(tx store.Tx) error) <-chan Result {
	ch := make(chan Result, 1)
	go func() {
		rev, err := s.Update(context.Background(), fn)
		ch <- Result{rev, err}
	}()
	return ch
}
