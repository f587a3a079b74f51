package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/bolt"
	"github.com/cairn-dev/cairn/internal/store/etcd"
	"github.com/cairn-dev/cairn/internal/store/etcd/etcdtest"
)

var testCaller = Caller{Account: "000000000000", Region: "us-east-1"}

// openEtcd opens a store over srv under a prefix of its own.
func openEtcd(t *testing.T, srv *etcdtest.Server, prefix string) *etcd.Store {
	t.Helper()
	st, err := etcd.Open(context.Background(), etcd.Options{Endpoints: srv.Endpoints(), Prefix: prefix, RequestTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func newRegistryOver(t *testing.T, st store.Store, cfg Config) *Registry {
	t.Helper()
	r, err := New(context.Background(), st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// httpService creates an HTTP namespace and a service in it, and returns
// the service's ID.
func httpService(t *testing.T, r *Registry) string {
	t.Helper()
	ctx := context.Background()
	op, err := r.CreateHttpNamespace(ctx, testCaller, &cloudmap.CreateHttpNamespaceRequest{Name: "race"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.GetOperation(ctx, testCaller, &cloudmap.GetOperationRequest{OperationId: op.OperationId})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := r.CreateService(ctx, testCaller, &cloudmap.CreateServiceRequest{Name: "s", NamespaceId: got.Operation.Targets["NAMESPACE"]})
	if err != nil {
		t.Fatal(err)
	}
	return svc.Service.Id
}

func registerOne(ctx context.Context, r *Registry, svcID, id string) error {
	_, err := r.RegisterInstance(ctx, testCaller, &cloudmap.RegisterInstanceRequest{ServiceId: svcID, InstanceId: id,
		CreatorRequestId: id, Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}})
	return err
}

// instanceIDs lists the instances of a service as r's view has them.
func instanceIDs(t *testing.T, r *Registry, svcID string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	in := &cloudmap.ListInstancesRequest{ServiceId: svcID}
	for {
		out, err := r.ListInstances(context.Background(), testCaller, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range out.Instances {
			ids[i.Id] = true
		}
		if out.NextToken == "" {
			return ids
		}
		in.NextToken = out.NextToken
	}
}

// gate holds the view's follower before it applies a commit, when armed,
// until the test releases it with what beforeApply should return.
type gate struct {
	armed   atomic.Bool
	held    chan struct{} // closed once the follower is held
	release chan error
	once    sync.Once
}

func newGate() *gate { return &gate{held: make(chan struct{}), release: make(chan error, 1)} }

func (g *gate) hooks() *testHooks {
	return &testHooks{beforeApply: func(store.Event) error {
		if !g.armed.Load() {
			return nil
		}
		g.once.Do(func() { close(g.held) })
		err := <-g.release
		g.armed.Store(false)
		return err
	}}
}

// waitersWoken is the body of the tests below: writers commit while the
// view is held, so they wait on it; fail breaks the view (a compaction,
// an apply error); every writer must then return success well before its
// deadline, with its instance in the view.
func waitersWoken(t *testing.T, r *Registry, st store.Store, g *gate, fail func(), how error) {
	ctx := context.Background()
	svcID := httpService(t, r)
	g.armed.Store(true)
	const writers = 8
	type result struct {
		err  error
		took time.Duration
	}
	results := make(chan result, writers)
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for i := range writers {
		go func() {
			began := time.Now()
			err := registerOne(wctx, r, svcID, fmt.Sprintf("i-%d", i))
			results <- result{err, time.Since(began)}
		}()
	}
	select {
	case <-g.held:
	case <-time.After(30 * time.Second):
		t.Fatal("the follower was never held")
	}
	// Every write is committed before the view is broken: the writers are
	// all waiting for the view.
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := 0
		if _, err := st.Load(ctx, func(k string, _ []byte) error {
			if strings.HasPrefix(k, instKey(svcID, "")) {
				n++
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n == writers {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d writes committed", n, writers)
		}
		time.Sleep(20 * time.Millisecond)
	}
	old := r.currentView()
	fail()
	g.release <- how
	for range writers {
		res := <-results
		if res.err != nil {
			t.Errorf("a writer waiting while the view was replaced: %v after %v", res.err, res.took)
		}
	}
	if r.currentView() == old {
		t.Error("the view was not replaced")
	}
	if got := instanceIDs(t, r, svcID); len(got) != writers {
		t.Errorf("the new view holds %d instances, want %d: %v", len(got), writers, got)
	}
	// The registry goes on following the store.
	if err := registerOne(ctx, r, svcID, "after"); err != nil {
		t.Fatal(err)
	}
	if !instanceIDs(t, r, svcID)["after"] {
		t.Error("a write after the replacement is not in the view")
	}
}

// TestRegistry_Compaction_WakesWaiters_Etcd: while writers wait for the
// view, etcd compacts the revisions the view still needs and the watch
// is lost (as a connection is), so the store reports ErrCompacted; the
// view is reloaded and the waiters, woken, find their writes in it.
func TestRegistry_Compaction_WakesWaiters_Etcd(t *testing.T) {
	srv := etcdtest.Start(t)
	st := openEtcd(t, srv, "/compaction/")
	g := newGate()
	r := newRegistryOver(t, st, Config{hooks: g.hooks()})
	waitersWoken(t, r, st, g, func() {
		ctx := context.Background()
		// One more commit, so that the compaction also removes the
		// revision of the held one (the writes may share one commit).
		if _, err := st.Update(ctx, func(tx store.Tx) error { return tx.Put("test/bump", []byte("1")) }); err != nil {
			t.Fatal(err)
		}
		resp, err := st.Client().Get(ctx, "any")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Client().Compact(ctx, resp.Header.Revision); err != nil {
			t.Fatal(err)
		}
	}, errRewatch)
}

// TestRegistry_Compaction_WakesWaiters_Bolt: the same over bolt, whose
// watcher is dropped with ErrCompacted when it falls behind its buffer.
func TestRegistry_Compaction_WakesWaiters_Bolt(t *testing.T) {
	st, err := bolt.Open(t.TempDir(), bolt.Options{NoSync: true, MaxBatch: 1, WatchBuffer: 2, WatchHistory: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	g := newGate()
	r := newRegistryOver(t, st, Config{hooks: g.hooks()})
	waitersWoken(t, r, st, g, func() {}, nil)
}

// TestRegistry_HistoryBytes_WatcherBehindReloads_Bolt: bolt keeps its
// recent commits up to a number of bytes (WatchHistoryBytes); a view that
// watches again from a revision the history no longer holds gets
// ErrCompacted, reloads, and the writers waiting on it find their writes
// in the new view.
func TestRegistry_HistoryBytes_WatcherBehindReloads_Bolt(t *testing.T) {
	// One byte: only the newest commit is kept.
	st, err := bolt.Open(t.TempDir(), bolt.Options{NoSync: true, MaxBatch: 1, WatchHistoryBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	g := newGate()
	r := newRegistryOver(t, st, Config{hooks: g.hooks()})
	waitersWoken(t, r, st, g, func() {}, errRewatch)
}

// TestRegistry_ApplyError_ReloadsView_Etcd: a commit that fails to apply
// while writers wait reloads the view from the store rather than leaving
// it without that commit, and wakes the waiters.
func TestRegistry_ApplyError_ReloadsView_Etcd(t *testing.T) {
	srv := etcdtest.Start(t)
	st := openEtcd(t, srv, "/apply-error/")
	g := newGate()
	r := newRegistryOver(t, st, Config{hooks: g.hooks()})
	waitersWoken(t, r, st, g, func() {}, errors.New("injected: this commit does not apply"))
}

// TestRegistry_TwoServersRace_Etcd: two servers over one etcd register
// instances into one service at once while readers on both ask for the
// service's InstancesRevision. Every acknowledged instance is in both
// views at the end, and every reader saw the revision only grow.
func TestRegistry_TwoServersRace_Etcd(t *testing.T) {
	srv := etcdtest.Start(t)
	servers := []*Registry{
		newRegistryOver(t, openEtcd(t, srv, "/race/"), Config{}),
		newRegistryOver(t, openEtcd(t, srv, "/race/"), Config{}),
	}
	ctx := context.Background()
	svcID := httpService(t, servers[0])
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := servers[1].GetService(ctx, testCaller, &cloudmap.GetServiceRequest{Id: svcID}); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the second server never saw the service: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	const writers, each = 6, 12
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	for s, r := range servers {
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range each {
					id := fmt.Sprintf("s%d-w%d-%d", s, w, k)
					if err := registerOne(ctx, r, svcID, id); err != nil {
						t.Errorf("register %s: %v", id, err)
						continue
					}
					mu.Lock()
					acked[id] = true
					mu.Unlock()
				}
			}()
		}
	}
	var stop atomic.Bool
	var readers sync.WaitGroup
	reads := make([]int, 2*len(servers))
	for i := range reads {
		r := servers[i%len(servers)]
		readers.Add(1)
		go func() {
			defer readers.Done()
			var last int64
			for !stop.Load() {
				out, err := r.DiscoverInstancesRevision(ctx, testCaller, &cloudmap.DiscoverInstancesRevisionRequest{NamespaceName: "race", ServiceName: "s"})
				if err != nil {
					t.Errorf("reader %d: %v", i, err)
					return
				}
				rev := *out.InstancesRevision
				if rev < last {
					t.Errorf("reader %d on server %d saw InstancesRevision go from %d back to %d", i, i%len(servers), last, rev)
					return
				}
				last = rev
				reads[i]++
				time.Sleep(time.Millisecond)
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	readers.Wait()
	if len(acked) != len(servers)*writers*each {
		t.Errorf("%d registrations acknowledged, want %d", len(acked), len(servers)*writers*each)
	}
	for i, n := range reads {
		if n == 0 {
			t.Errorf("reader %d read nothing", i)
		}
	}
	for s, r := range servers {
		var got map[string]bool
		for deadline := time.Now().Add(30 * time.Second); ; {
			got = instanceIDs(t, r, svcID)
			if len(got) >= len(acked) || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		for id := range acked {
			if !got[id] {
				t.Errorf("server %d: the acknowledged instance %s is missing", s, id)
			}
		}
	}
}
