package etcd_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/etcd"
	"github.com/cairn-dev/cairn/internal/store/etcd/etcdtest"
	"github.com/cairn-dev/cairn/internal/store/storetest"
)

var prefixes atomic.Int64

// newPrefix returns a prefix no other test of this process uses.
func newPrefix(t testing.TB) string {
	return fmt.Sprintf("/test/%s/%d/", t.Name(), prefixes.Add(1))
}

func open(t testing.TB, srv *etcdtest.Server, prefix string, tune ...func(*etcd.Options)) *etcd.Store {
	t.Helper()
	// A generous timeout: the suite's 64 concurrent writers queue for long
	// on two busy cores, and etcd shares them.
	opts := etcd.Options{Endpoints: srv.Endpoints(), Prefix: prefix, RequestTimeout: 30 * time.Second}
	for _, f := range tune {
		f(&opts)
	}
	s, err := etcd.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	srv := etcdtest.Start(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, srv, newPrefix(t))
	})
}

func TestDurable(t *testing.T) {
	srv := etcdtest.Start(t)
	storetest.RunDurable(t, func(t *testing.T, dir string) store.Store {
		sum := sha256.Sum256([]byte(dir))
		return open(t, srv, "/durable/"+hex.EncodeToString(sum[:8])+"/")
	})
}

// TestConformanceSmallTxn runs the suite with etcd's and the store's
// transaction limits low, so that batches split and comparisons fall back
// on the space's revision key.
func TestConformanceSmallTxn(t *testing.T) {
	srv := etcdtest.Start(t, "--max-txn-ops", "8")
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, srv, newPrefix(t), func(o *etcd.Options) { o.MaxTxnOps = 8 })
	})
}

// TestEtcdRestart checks that what was acknowledged survives a crash of
// etcd, and that a watcher resumes after it.
func TestEtcdRestart(t *testing.T) {
	srv := etcdtest.Start(t)
	s := open(t, srv, "/restart/")
	defer s.Close()
	ctx := context.Background()
	var last int64
	for i := range 20 {
		rev, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(fmt.Sprint("k", i), []byte("v")) })
		if err != nil {
			t.Fatal(err)
		}
		last = rev
	}
	w := s.Watch(ctx, last)
	srv.Kill()
	srv.Restart()
	rev, err := update(ctx, s, "after", "restart")
	if err != nil {
		t.Fatalf("Update after etcd restart: %v", err)
	}
	select {
	case ev := <-w:
		if ev.Err != nil || ev.Rev != rev || len(ev.Changes) != 1 || ev.Changes[0].Key != "after" {
			t.Fatalf("watch after restart: %+v; want revision %d with the key after", ev, rev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event after etcd restarted")
	}
	n := 0
	if _, err := s.Load(ctx, func(string, []byte) error { n++; return nil }); err != nil || n != 21 {
		t.Fatalf("Load after restart: %d keys, %v; want 21", n, err)
	}
}

// update puts key=value, retrying while etcd comes back.
func update(ctx context.Context, s store.Store, key, value string) (int64, error) {
	var err error
	for range 10 {
		var rev int64
		rev, err = s.Update(ctx, func(tx store.Tx) error { return tx.Put(key, []byte(value)) })
		if err == nil {
			return rev, nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return 0, err
}

// TestUnavailable checks that Update fails fast, with an error that is
// not a context error, while etcd is down, and works once it is back.
func TestUnavailable(t *testing.T) {
	srv := etcdtest.Start(t)
	s := open(t, srv, "/down/", func(o *etcd.Options) { o.RequestTimeout = time.Second })
	defer s.Close()
	ctx := context.Background()
	if _, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			start := time.Now()
			_, err := s.Update(ctx, func(tx store.Tx) error { return tx.Put(fmt.Sprint("k", i), []byte("v")) })
			took := time.Since(start)
			var ue *etcd.UnavailableError
			if !errors.As(err, &ue) || errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Update with etcd down = %v; want an *etcd.UnavailableError", err)
			}
			if took > 3*time.Second {
				t.Errorf("Update with etcd down took %v; want about the 1s request timeout", took)
			}
		})
	}
	wg.Wait()
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping with etcd down = nil")
	}
	if _, err := s.LastError(); err == nil {
		t.Error("LastError with etcd down = nil")
	}
	srv.Restart()
	if _, err := update(ctx, s, "back", "1"); err != nil {
		t.Fatalf("Update after etcd came back: %v", err)
	}
	if _, err := s.LastError(); err != nil {
		t.Errorf("LastError after etcd came back = %v", err)
	}
}

// TestOpenUnreachable checks that Open fails within DialTimeout when
// nothing answers.
func TestOpenUnreachable(t *testing.T) {
	start := time.Now()
	_, err := etcd.Open(context.Background(), etcd.Options{Endpoints: []string{"http://127.0.0.1:1"}, DialTimeout: 500 * time.Millisecond})
	if err == nil {
		t.Fatal("Open of an unreachable etcd succeeded")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Open took %v to fail", d)
	}
}

// increment adds one to the counter at key.
func increment(key string) func(tx store.Tx) error {
	return func(tx store.Tx) error {
		v, _, err := tx.Get(key)
		if err != nil {
			return err
		}
		n := 0
		if v != nil {
			if n, err = strconv.Atoi(string(v)); err != nil {
				return err
			}
		}
		return tx.Put(key, []byte(strconv.Itoa(n+1)))
	}
}

// TestTwoClientsCounter races increments of the same counters through two
// stores (two etcd clients): none may be lost.
func TestTwoClientsCounter(t *testing.T) {
	srv := etcdtest.Start(t)
	prefix := newPrefix(t)
	a, b := open(t, srv, prefix), open(t, srv, prefix)
	defer a.Close()
	defer b.Close()
	const perWriter, writers = 40, 8
	var wg sync.WaitGroup
	for _, s := range []*etcd.Store{a, b} {
		for g := range writers {
			wg.Go(func() {
				for i := range perWriter {
					key := "c" + strconv.Itoa((g+i)%2)
					if _, err := s.Update(context.Background(), increment(key)); err != nil {
						t.Errorf("Update: %v", err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	all := map[string]string{}
	if _, err := a.Load(context.Background(), func(k string, v []byte) error { all[k] = string(v); return nil }); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, k := range []string{"c0", "c1"} {
		n, _ := strconv.Atoi(all[k])
		total += n
	}
	if want := 2 * writers * perWriter; total != want {
		t.Errorf("counters add up to %d (%v); want %d", total, all, want)
	}
}

// TestScanPhantom checks that a transaction whose Scan result changes
// before it commits (a key added or deleted under the prefix by another
// client) runs again.
func TestScanPhantom(t *testing.T) {
	srv := etcdtest.Start(t)
	for _, tc := range []struct {
		name   string
		change func(tx store.Tx) error
	}{
		{"insert", func(tx store.Tx) error { return tx.Put("set/c", []byte("x")) }},
		{"delete", func(tx store.Tx) error { return tx.Delete("set/a") }},
		{"modify", func(tx store.Tx) error { return tx.Put("set/b", []byte("y")) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := newPrefix(t)
			a, b := open(t, srv, prefix), open(t, srv, prefix)
			defer a.Close()
			defer b.Close()
			ctx := context.Background()
			if _, err := a.Update(ctx, func(tx store.Tx) error {
				tx.Put("set/a", []byte("1"))
				return tx.Put("set/b", []byte("1"))
			}); err != nil {
				t.Fatal(err)
			}
			// The closure summarises the set into "summary"; the first run
			// lets another client change the set between its read and its
			// commit.
			runs := 0
			_, err := a.Update(ctx, func(tx store.Tx) error {
				runs++
				var summary string
				if err := tx.Scan("set/", func(k string, v []byte) bool {
					summary += k + "=" + string(v) + ";"
					return true
				}); err != nil {
					return err
				}
				if runs == 1 {
					if _, err := b.Update(ctx, tc.change); err != nil {
						return err
					}
				}
				return tx.Put("summary", []byte(summary))
			})
			if err != nil {
				t.Fatal(err)
			}
			if runs < 2 {
				t.Errorf("the closure ran %d time(s); want a rerun after the conflicting change", runs)
			}
			got := map[string]string{}
			a.Load(ctx, func(k string, v []byte) error { got[k] = string(v); return nil })
			want := ""
			for _, k := range []string{"set/a", "set/b", "set/c"} {
				if v, ok := got[k]; ok {
					want += k + "=" + v + ";"
				}
			}
			if got["summary"] != want {
				t.Errorf("summary = %q; want %q (the set as committed)", got["summary"], want)
			}
		})
	}
}

// TestScanStopEarly checks that a change past where a scan stopped does
// not conflict with it, and one before does.
func TestScanStopEarly(t *testing.T) {
	srv := etcdtest.Start(t)
	prefix := newPrefix(t)
	a, b := open(t, srv, prefix), open(t, srv, prefix)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	a.Update(ctx, func(tx store.Tx) error {
		for _, k := range []string{"s/a", "s/b", "s/c"} {
			tx.Put(k, []byte("1"))
		}
		return nil
	})
	for _, tc := range []struct {
		key   string
		reran bool
	}{{"s/z", false}, {"s/a", true}} {
		runs := 0
		_, err := a.Update(ctx, func(tx store.Tx) error {
			runs++
			tx.Scan("s/", func(string, []byte) bool { return false }) // reads s/a only
			if runs == 1 {
				if _, err := b.Update(ctx, func(tx store.Tx) error { return tx.Put(tc.key, []byte("2")) }); err != nil {
					return err
				}
			}
			return tx.Put("out", []byte("x"))
		})
		if err != nil {
			t.Fatal(err)
		}
		if (runs > 1) != tc.reran {
			t.Errorf("change of %s: closure ran %d times; want rerun %v", tc.key, runs, tc.reran)
		}
	}
}

// TestAbsentKeyStaysAbsent checks that a transaction that read a key as
// absent reruns when another client creates it before the commit.
func TestAbsentKeyStaysAbsent(t *testing.T) {
	srv := etcdtest.Start(t)
	prefix := newPrefix(t)
	a, b := open(t, srv, prefix), open(t, srv, prefix)
	defer a.Close()
	defer b.Close()
	ctx := context.Background()
	// Both claim the name "n": exactly one wins.
	claim := func(s *etcd.Store, who string, between func()) error {
		first := true
		_, err := s.Update(ctx, func(tx store.Tx) error {
			_, taken, err := tx.Get("name/n")
			if err != nil {
				return err
			}
			if first && between != nil {
				first = false
				between()
			}
			if taken {
				return errors.New("taken")
			}
			return tx.Put("name/n", []byte(who))
		})
		return err
	}
	var errB error
	errA := claim(a, "a", func() { errB = claim(b, "b", nil) })
	if errB != nil || errA == nil || errA.Error() != "taken" {
		t.Errorf("claims: a %v, b %v; want a taken, b nil", errA, errB)
	}
}

// TestBigTransaction checks the transaction size limit: a transaction
// writing more keys than MaxTxnOps allows fails with a clear error and
// commits nothing, while concurrent small ones split into batches.
func TestBigTransaction(t *testing.T) {
	srv := etcdtest.Start(t)
	s := open(t, srv, newPrefix(t))
	defer s.Close()
	ctx := context.Background()
	_, err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 200 {
			tx.Put(fmt.Sprint("big/", i), []byte("v"))
		}
		return nil
	})
	if err == nil || !errors.Is(err, etcd.ErrTooManyOps) {
		t.Fatalf("Update of 200 keys = %v; want ErrTooManyOps", err)
	}
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			_, err := s.Update(ctx, func(tx store.Tx) error {
				for i := range 20 {
					tx.Put(fmt.Sprintf("mid/%02d/%02d", g, i), []byte("v"))
				}
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n := 0
	s.Load(ctx, func(string, []byte) error { n++; return nil })
	if n != 32*20 {
		t.Errorf("Load: %d keys; want %d", n, 32*20)
	}
}

// TestCompactedWatch checks that a watcher whose start revision was
// compacted resumes when its space did not change in between, and gets
// ErrCompacted when it did.
func TestCompactedWatch(t *testing.T) {
	srv := etcdtest.Start(t)
	quiet, busy := open(t, srv, newPrefix(t)), open(t, srv, newPrefix(t))
	defer quiet.Close()
	defer busy.Close()
	ctx := context.Background()
	qrev, err := quiet.Update(ctx, func(tx store.Tx) error { return tx.Put("q", []byte("1")) })
	if err != nil {
		t.Fatal(err)
	}
	brev, _ := busy.Update(ctx, func(tx store.Tx) error { return tx.Put("b", []byte("1")) })
	var last int64
	for i := range 10 {
		last, _ = busy.Update(ctx, func(tx store.Tx) error { return tx.Put("b", []byte(strconv.Itoa(i))) })
	}
	if _, err := quiet.Client().Compact(ctx, last); err != nil {
		t.Fatal(err)
	}

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	qw := quiet.Watch(wctx, qrev)
	select {
	case ev, ok := <-qw:
		t.Fatalf("quiet watcher: %+v, %v before any commit; want it to wait", ev, ok)
	case <-time.After(500 * time.Millisecond):
	}
	next, _ := quiet.Update(ctx, func(tx store.Tx) error { return tx.Put("q", []byte("2")) })
	select {
	case ev := <-qw:
		if ev.Err != nil || ev.Rev != next {
			t.Errorf("quiet watcher: %+v; want revision %d", ev, next)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("quiet watcher: nothing")
	}

	bw := busy.Watch(wctx, brev)
	select {
	case ev := <-bw:
		if !errors.Is(ev.Err, store.ErrCompacted) {
			t.Errorf("busy watcher: %+v; want ErrCompacted", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("busy watcher: nothing")
	}
	if _, ok := <-bw; ok {
		t.Error("busy watcher: channel open after ErrCompacted")
	}
	// The space's state and revision are unchanged by the compaction.
	rev, err := busy.Load(ctx, func(string, []byte) error { return nil })
	if err != nil || rev != last {
		t.Errorf("Load after compaction = %d, %v; want %d", rev, err, last)
	}
}

// TestLoadPages checks Load across several pages.
func TestLoadPages(t *testing.T) {
	srv := etcdtest.Start(t)
	s := open(t, srv, newPrefix(t))
	defer s.Close()
	ctx := context.Background()
	const n = 2500
	for i := 0; i < n; i += 100 {
		if _, err := s.Update(ctx, func(tx store.Tx) error {
			for j := i; j < i+100; j++ {
				tx.Put(fmt.Sprintf("k/%05d", j), []byte(strconv.Itoa(j)))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	i := 0
	if _, err := s.Load(ctx, func(k string, v []byte) error {
		if want := fmt.Sprintf("k/%05d", i); k != want || string(v) != strconv.Itoa(i) {
			return fmt.Errorf("key %d: %s=%s; want %s", i, k, v, want)
		}
		i++
		return nil
	}); err != nil || i != n {
		t.Fatalf("Load: %d keys, %v; want %d", i, err, n)
	}
	// A scan inside a transaction crosses pages too.
	count := 0
	s.Update(ctx, func(tx store.Tx) error {
		count = 0
		return tx.Scan("k/", func(string, []byte) bool { count++; return true })
	})
	if count != n {
		t.Errorf("Scan: %d keys; want %d", count, n)
	}
}

// TestConflictRetriesOnWhatTheFailureRead makes a transaction lose its
// comparison once (another client writes the key it read while it runs):
// it runs once more, over the values its failed commit read back, and
// commits from the other client's value.
func TestConflictRetriesOnWhatTheFailureRead(t *testing.T) {
	srv := etcdtest.Start(t)
	prefix := newPrefix(t)
	a, b := open(t, srv, prefix), open(t, srv, prefix)
	defer a.Close()
	defer b.Close()
	put := func(s *etcd.Store, k, v string) {
		if _, err := s.Update(context.Background(), func(tx store.Tx) error { return tx.Put(k, []byte(v)) }); err != nil {
			t.Fatal(err)
		}
	}
	put(a, "k", "1")
	runs := 0
	_, err := a.Update(context.Background(), func(tx store.Tx) error {
		runs++
		v, _, err := tx.Get("k")
		if err != nil {
			return err
		}
		if runs == 1 {
			put(b, "k", "2") // a's read is now stale: its commit must fail
		}
		return tx.Put("copy", v)
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	if _, err := a.Load(context.Background(), func(k string, v []byte) error { got[k] = string(v); return nil }); err != nil {
		t.Fatal(err)
	}
	if runs != 2 || got["copy"] != "2" {
		t.Errorf("the transaction ran %d times and copied %q; want 2 runs copying \"2\"", runs, got["copy"])
	}
}

// TestPipelinedBatches holds a batch's commit Txn before it is sent and
// checks that the committer goes on meanwhile (pipelining): a batch that
// read nothing the held one writes commits beside it, while one that read
// a key the held batch writes is neither committed nor answered before
// it, and runs again after it, committing from its value.
func TestPipelinedBatches(t *testing.T) {
	srv := etcdtest.Start(t)
	s := open(t, srv, newPrefix(t))
	defer s.Close()
	var held atomic.Bool
	sending, release := make(chan struct{}), make(chan struct{})
	etcd.SetBeforeSend(s, func() {
		if held.CompareAndSwap(false, true) {
			close(sending)
			<-release
		}
	})
	update := func(fn func(tx store.Tx) error) <-chan storetest.Result { return storetest.UpdateAsync(s, fn) }
	first := update(func(tx store.Tx) error { return tx.Put("x", []byte("1")) })
	deadline := time.After(30 * time.Second)
	select {
	case <-sending:
	case <-deadline:
		t.Fatal("the first batch's Txn was never sent")
	}

	independent := update(func(tx store.Tx) error {
		if _, _, err := tx.Get("w"); err != nil {
			return err
		}
		return tx.Put("z", []byte("1"))
	})
	select {
	case r := <-independent:
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	case <-deadline:
		t.Fatal("a batch that read nothing the held batch writes did not commit beside it")
	}

	var runs atomic.Int32
	ran := make(chan struct{}, 16)
	dependent := update(func(tx store.Tx) error {
		runs.Add(1)
		ran <- struct{}{}
		v, _, err := tx.Get("x")
		if err != nil {
			return err
		}
		return tx.Put("y", append(v, '!'))
	})
	select {
	case <-ran: // its closure ran while the first batch is held
	case <-deadline:
		t.Fatal("the next batch's closures did not run while a batch's Txn was in flight")
	}
	select {
	case r := <-dependent:
		t.Fatalf("an Update that read what the held batch writes returned (%v) before it", r)
	default:
	}
	close(release)
	a, b := <-first, <-dependent
	if a.Err != nil || b.Err != nil {
		t.Fatalf("Update errors: %v, %v", a.Err, b.Err)
	}
	if b.Rev <= a.Rev {
		t.Errorf("the dependent batch committed at revision %d, not after the held one's %d", b.Rev, a.Rev)
	}
	got := map[string]string{}
	if _, err := s.Load(context.Background(), func(k string, v []byte) error { got[k] = string(v); return nil }); err != nil {
		t.Fatal(err)
	}
	if got["y"] != "1!" || runs.Load() < 2 {
		t.Errorf("y = %q after %d runs; want \"1!\": the closure that read x must run again after the batch that wrote it", got["y"], runs.Load())
	}
}

// batchSizes is a store.CommitObserver that keeps the largest batch.
type batchSizes struct{ largest atomic.Int64 }

func (b *batchSizes) Committed(n int, _, _ time.Duration) {
	for {
		l := b.largest.Load()
		if int64(n) <= l || b.largest.CompareAndSwap(l, int64(n)) {
			return
		}
	}
}
func (b *batchSizes) Conflicted(bool) {}
func (b *batchSizes) WatchRestarted() {}

// TestBatchRunsClosuresOnce commits batches of closures that read
// nothing another writes: each runs once, its prefetch run being its run
// over the batch. (Closures that read what an earlier one of their batch
// writes run again over its writes: storetest's concurrent counter.)
func TestBatchRunsClosuresOnce(t *testing.T) {
	srv := etcdtest.Start(t)
	obs := &batchSizes{}
	s := open(t, srv, newPrefix(t), func(o *etcd.Options) { o.Observer = obs })
	defer s.Close()
	const writers = 24
	for round := 0; obs.largest.Load() < 4; round++ {
		if round == 20 {
			t.Fatalf("no batch of more than %d Updates in %d rounds", obs.largest.Load(), round)
		}
		// The committer is held in a closure while the others queue, so
		// that they are gathered into batches.
		hold, holding := make(chan struct{}), make(chan struct{})
		first := storetest.UpdateAsync(s, func(tx store.Tx) error {
			select {
			case <-holding:
			default:
				close(holding)
				<-hold
			}
			return tx.Put("held", []byte("1"))
		})
		<-holding
		runs := make([]atomic.Int32, writers)
		var done []<-chan storetest.Result
		for i := range writers {
			done = append(done, storetest.UpdateAsync(s, func(tx store.Tx) error {
				runs[i].Add(1)
				if _, _, err := tx.Get(fmt.Sprintf("r%d/%d", round, i)); err != nil {
					return err
				}
				return tx.Put(fmt.Sprintf("k%d/%d", round, i), []byte("v"))
			}))
		}
		close(hold)
		for _, ch := range append(done, first) {
			if r := <-ch; r.Err != nil {
				t.Fatal(r.Err)
			}
		}
		for i := range runs {
			if n := runs[i].Load(); n != 1 {
				t.Errorf("round %d: closure %d ran %d times; want once", round, i, n)
			}
		}
	}
}
