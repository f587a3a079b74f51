package registry

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/bolt"
)

// TestOpList_InsertRemove_KeepsOrder checks the block list against a
// sorted slice through random insertions and removals, with many
// operations of the same millisecond, and that after resumes after any
// key.
func TestOpList_InsertRemove_KeepsOrder(t *testing.T) {
	for _, tc := range []struct {
		name    string
		n       int
		created func(i int) int64
	}{
		{"in time order", 3000, func(i int) int64 { return int64(i) }},
		{"reverse order", 3000, func(i int) int64 { return 1e12 - int64(i) }},
		{"random", 5000, func(i int) int64 { return rand.Int64N(1000) }},
		{"one millisecond", 1000, func(i int) int64 { return 7 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var l opList
			var want []*opView
			for i := range tc.n {
				o := &opView{id: fmt.Sprintf("op-%08d", rand.IntN(1e8)), created: tc.created(i)}
				if slices.ContainsFunc(want, func(w *opView) bool { return w.id == o.id && w.created == o.created }) {
					continue
				}
				l.insert(o)
				want = append(want, o)
				if rand.IntN(4) == 0 { // remove one at random
					k := rand.IntN(len(want))
					l.remove(want[k])
					want = slices.Delete(want, k, k+1)
				}
			}
			slices.SortFunc(want, func(a, b *opView) int {
				if a.before(b) {
					return -1
				}
				return 1
			})
			var got []*opView
			l.after("", func(o *opView) bool { got = append(got, o); return true })
			if l.n != len(want) || !slices.Equal(got, want) {
				t.Fatalf("list holds %d (n=%d) in another order than the %d sorted", len(got), l.n, len(want))
			}
			for _, blk := range l.blocks {
				if len(blk) == 0 || len(blk) > opBlock {
					t.Fatalf("a block of %d operations", len(blk))
				}
			}
			for _, k := range []int{0, 1, len(want) / 2, len(want) - 1} {
				var rest []*opView
				l.after(opSortKey(want[k]), func(o *opView) bool { rest = append(rest, o); return true })
				if !slices.Equal(rest, want[k+1:]) {
					t.Errorf("after operation %d: %d operations, want %d", k, len(rest), len(want)-k-1)
				}
			}
			var back []*opView
			l.backward(func(o *opView) bool { back = append(back, o); return true })
			slices.Reverse(back)
			if !slices.Equal(back, want) {
				t.Error("backward is not the reverse order")
			}
		})
	}
}

// opChange is the stored record of an operation, as a change to apply.
func opChange(s scope, i int, created int64, status string) store.Change {
	id := fmt.Sprintf("%032d-%08x", i, created)
	rec := &opRecord{scope: s, ID: id, Type: cloudmap.OperationTypeRegisterInstance, Status: status,
		CreateDate: created, UpdateDate: created + 40,
		Targets: instanceTargets("ns-aaaaaaaaaaaaaaaa", fmt.Sprintf("srv-%016d", i%4), fmt.Sprintf("i-%08d", i)),
		Lock:    "lock/x", IdemKey: "idem/x"}
	return store.Change{Key: opKey(id), Value: encode(rec)}
}

// viewOperationBytes applies n operation records to a view and returns
// the bytes of heap each one keeps.
func viewOperationBytes(tb testing.TB, n int) float64 {
	s := scope{Account: "000000000000", Region: "us-east-1"}
	v := newView()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const batch = 1000
	for lo := 0; lo < n; lo += batch {
		changes := make([]store.Change, 0, batch)
		for i := lo; i < min(lo+batch, n); i++ {
			changes = append(changes, opChange(s, i, 1_700_000_000_000+int64(i), cloudmap.OperationStatusSuccess))
		}
		if err := v.apply(int64(lo+1), changes); err != nil {
			tb.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if len(v.ops.byID) != n {
		tb.Fatalf("view holds %d operations, want %d", len(v.ops.byID), n)
	}
	runtime.KeepAlive(v)
	return (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(n)
}

// TestView_OperationMemory checks the bound: a retained operation
// (a registration's, with three targets) takes at most 600 bytes of the
// view's memory, measured around 40,000 operations.
func TestView_OperationMemory(t *testing.T) {
	per := viewOperationBytes(t, 40_000)
	t.Logf("%.0f bytes per retained operation", per)
	if per > 600 {
		t.Errorf("%.0f bytes per retained operation; want at most 600", per)
	}
}

// BenchmarkViewMemoryPerOperation reports what one retained operation
// costs in the view, around 40,000 operations.
func BenchmarkViewMemoryPerOperation(b *testing.B) {
	per := viewOperationBytes(b, 40_000)
	for b.Loop() {
	}
	b.ReportAllocs()
	b.ReportMetric(per, "bytes/operation")
}

// BenchmarkListOperations_Page measures one page of 100 from the middle of
// 20,000 retained operations: it should cost the page, not the 20,000.
func BenchmarkListOperations_Page(b *testing.B) {
	r := newTestRegistry(b, Config{})
	c := Caller{Account: "000000000000", Region: "us-east-1"}
	v := r.currentView()
	changes := make([]store.Change, 0, 20_000)
	for i := range 20_000 {
		changes = append(changes, opChange(c.scope(), i, 1_700_000_000_000+int64(i), cloudmap.OperationStatusSuccess))
	}
	if err := v.apply(v.rev, changes); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	token := ""
	for range 100 { // to the middle
		out, err := r.ListOperations(ctx, c, &cloudmap.ListOperationsRequest{NextToken: token})
		if err != nil {
			b.Fatal(err)
		}
		token = out.NextToken
	}
	b.ReportAllocs()
	for b.Loop() {
		out, err := r.ListOperations(ctx, c, &cloudmap.ListOperationsRequest{NextToken: token})
		if err != nil || len(out.Operations) != 100 {
			b.Fatal(err, len(out.Operations))
		}
	}
}

func TestRegistry_MaxOperationsPerAccount_ExpiresOldestFinished(t *testing.T) {
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	r := newTestRegistry(t, Config{MaxOperationsPerAccount: 5, OperationRetention: time.Hour, Now: clock.Now})
	ctx := context.Background()
	c := Caller{Account: "000000000000", Region: "us-east-1"}
	other := Caller{Account: "111111111111", Region: "us-east-1"}

	ns, err := r.CreateHttpNamespace(ctx, c, &cloudmap.CreateHttpNamespaceRequest{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	nsID := r.currentView().ops.byID[ns.OperationId].target(cloudmap.OperationTargetTypeNamespace)
	svc, err := r.CreateService(ctx, c, &cloudmap.CreateServiceRequest{Name: "s", NamespaceId: nsID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.CreateHttpNamespace(ctx, other, &cloudmap.CreateHttpNamespaceRequest{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	ops := []string{ns.OperationId}
	for i := range 9 {
		clock.Add(time.Millisecond)
		out, err := r.RegisterInstance(ctx, c, &cloudmap.RegisterInstanceRequest{ServiceId: svc.Service.Id, InstanceId: fmt.Sprintf("i-%d", i),
			CreatorRequestId: fmt.Sprintf("tok-%d", i), Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}})
		if err != nil {
			t.Fatal(err)
		}
		ops = append(ops, out.OperationId)
	}
	// The janitor runs as soon as the account is over: wait for it.
	deadline := time.Now().Add(10 * time.Second)
	var listed []string
	for {
		out, err := r.ListOperations(ctx, c, &cloudmap.ListOperationsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		listed = listed[:0]
		for _, o := range out.Operations {
			listed = append(listed, o.Id)
		}
		if len(listed) <= 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	want := slices.Clone(ops[len(ops)-5:])
	slices.Reverse(want) // newest first
	if !slices.Equal(listed, want) {
		t.Errorf("kept %v; want the newest five %v", listed, want)
	}
	if out, err := r.ListOperations(ctx, other, &cloudmap.ListOperationsRequest{}); err != nil || len(out.Operations) != 1 {
		t.Errorf("the other account's operations: %v, %v; want its one, untouched", out, err)
	}
	// An expired operation's token went with it: reusing it starts a new
	// registration instead of returning the old operation.
	again, err := r.RegisterInstance(ctx, c, &cloudmap.RegisterInstanceRequest{ServiceId: svc.Service.Id, InstanceId: "i-0",
		CreatorRequestId: "tok-0", Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}})
	if err != nil {
		t.Fatal(err)
	}
	if again.OperationId == ops[1] {
		t.Errorf("the token of an expired operation still returns it")
	}
}

// BenchmarkRegistryMemoryPerOperation measures, through the registry over
// bolt, the heap that 20,000 and 40,000 operations (registrations and
// deregistrations of one instance each, so that no instance stays) keep:
// the view's operations, and what the store holds in memory. The store
// keeps recent commits for watchers that start behind (bolt's
// WatchHistory and WatchHistoryBytes, "default"): memory bounded by
// bytes, not by operations kept, which the history=16 case leaves out.
func BenchmarkRegistryMemoryPerOperation(b *testing.B) {
	for _, tc := range []struct {
		n       int
		name    string
		history int
	}{{20_000, "default", 0}, {40_000, "default", 0}, {40_000, "history=16", 16}} {
		b.Run(fmt.Sprintf("ops=%d/%s", tc.n, tc.name), func(b *testing.B) { benchRegistryMemory(b, tc.n, tc.history) })
	}
}

func benchRegistryMemory(b *testing.B, n, history int) {
	st, err := bolt.Open(b.TempDir(), bolt.Options{NoSync: true, WatchHistory: history})
	if err != nil {
		b.Fatal(err)
	}
	r, err := New(context.Background(), st, Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	defer r.Close()
	ctx := context.Background()
	c := Caller{Account: "000000000000", Region: "us-east-1"}
	nsOp, err := r.CreateHttpNamespace(ctx, c, &cloudmap.CreateHttpNamespaceRequest{Name: "mem"})
	if err != nil {
		b.Fatal(err)
	}
	nsID := r.currentView().ops.byID[nsOp.OperationId].target(cloudmap.OperationTargetTypeNamespace)
	svc, err := r.CreateService(ctx, c, &cloudmap.CreateServiceRequest{Name: "s", NamespaceId: nsID})
	if err != nil {
		b.Fatal(err)
	}
	const writers = 32
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; k < n/2; k += writers {
				id := fmt.Sprintf("i-%d", k)
				if _, err := r.RegisterInstance(ctx, c, &cloudmap.RegisterInstanceRequest{ServiceId: svc.Service.Id, InstanceId: id,
					CreatorRequestId: id, Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}}); err != nil {
					b.Error(err)
					return
				}
				if _, err := r.DeregisterInstance(ctx, c, &cloudmap.DeregisterInstanceRequest{ServiceId: svc.Service.Id, InstanceId: id}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got := len(r.currentView().ops.byID); got != n+1 {
		b.Fatalf("%d operations kept, want %d", got, n+1)
	}
	for b.Loop() {
	}
	b.ReportMetric((float64(after.HeapAlloc)-float64(before.HeapAlloc))/float64(n), "bytes/operation")
}

// sortKeyPast decides as the string comparison of sort keys does, for
// keys opSortKey writes and for any other string a token could carry.
func TestSortKeyPast_MatchesStringOrder(t *testing.T) {
	ops := []*opView{
		{id: "a", created: 1_700_000_000_000}, {id: "b", created: 1_700_000_000_000}, {id: "a", created: 1_700_000_000_001},
		{id: "z", created: 0}, {id: "m", created: opSortMax}, {id: "", created: 5}, {id: "x", created: -1}, {id: "y", created: opSortMax + 1},
	}
	afters := []string{"", "0", "/", "999999999999999", "00000000000000/", "000000000000000/", "abc/def", "99999999999999x/a"}
	for _, o := range ops {
		afters = append(afters, opSortKey(o), opSortKey(o)+"0", opSortKey(o)[:15]+"/")
	}
	for _, after := range afters {
		past := sortKeyPast(after)
		for _, o := range ops {
			if got, want := past(o), opSortKey(o) > after; got != want {
				t.Errorf("sortKeyPast(%q)(%q created %d) = %v; the strings say %v", after, o.id, o.created, got, want)
			}
		}
	}
}

// FuzzSortKeyPast: for any key a token could carry and any operation,
// sortKeyPast decides as comparing the sort keys as strings does.
func FuzzSortKeyPast(f *testing.F) {
	f.Add("000000000000000/a", int64(0), "a")
	f.Add("998299999999999/x", int64(1_700_000_000_000), "x")
	f.Add("99999999999999/", int64(opSortMax), "")
	f.Add("", int64(-5), "b")
	f.Fuzz(func(t *testing.T, after string, created int64, id string) {
		o := &opView{id: id, created: created}
		if got, want := sortKeyPast(after)(o), opSortKey(o) > after; got != want {
			t.Fatalf("sortKeyPast(%q)(%q created %d) = %v; the strings say %v", after, id, created, got, want)
		}
	})
}
