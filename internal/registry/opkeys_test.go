package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/bolt"
	"github.com/cairn-dev/cairn/internal/store/etcd/etcdtest"
)

// Operation keys put the creation time first, so keys sort by time
// whatever the target; opIDFromKey reads the ID back from either layout.
func TestOpKeyLayout(t *testing.T) {
	at := time.UnixMilli(1587055860121)
	var keys []string
	for i, target := range []string{"z", "a", "m", "b"} {
		id := operationID("123456789012", target, at.Add(time.Duration(i)*time.Millisecond))
		key := opKey(id)
		if !strings.HasPrefix(key, pOperation+id[33:]+"/") || opIDFromKey(key) != id {
			t.Errorf("opKey(%s) = %s, read back as %s", id, key, opIDFromKey(key))
		}
		if old := pOperation + id; opIDFromKey(old) != id {
			t.Errorf("earlier layout %s read as %s", old, opIDFromKey(old))
		}
		keys = append(keys, key)
	}
	if !slices.IsSorted(keys) {
		t.Errorf("keys of operations created in time order are not in order: %v", keys)
	}
	for _, id := range []string{"op-1", "", strings.Repeat("a", 32) + "/" + strings.Repeat("b", 8)} {
		if key := opKey(id); key != pOperation+id || opIDFromKey(key) != id {
			t.Errorf("opKey(%q) = %q, read back as %q", id, key, opIDFromKey(key))
		}
	}
}

// A store whose operations are under the earlier keys (op/<id>) has them
// moved at the next start, values unchanged, and they are served as
// before; another registry following the same store sees the move and
// keeps every operation.
func TestMoveOperationKeys(t *testing.T) {
	ctx := context.Background()
	st, err := bolt.Open(t.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	c := Caller{Account: "123456789012", Region: "us-east-1"}
	r, err := New(ctx, st, Config{})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := r.CreateHttpNamespace(ctx, c, &cloudmap.CreateHttpNamespaceRequest{Name: "moved", CreatorRequestId: "tok"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 3 {
		out, err := r.UpdateHttpNamespace(ctx, c, &cloudmap.UpdateHttpNamespaceRequest{Id: nsID(t, r, c, ns.OperationId),
			Namespace: &cloudmap.HttpNamespaceChange{Description: "d"}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, out.OperationId)
	}
	ids = append(ids, ns.OperationId)

	// Back to the earlier layout, as a file written before would be.
	values := map[string][]byte{}
	if _, err := st.Update(ctx, func(tx store.Tx) error {
		for _, id := range ids {
			v, ok, err := tx.Get(opKey(id))
			if err != nil || !ok {
				t.Fatalf("operation %s: %v, %v", id, ok, err)
			}
			values[id] = v
			if err := tx.Delete(opKey(id)); err != nil {
				return err
			}
			if err := tx.Put(pOperation+id, v); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// A second registry on the same store moves them; the first follows.
	r2, err := New(ctx, st, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	defer r.Close()
	if _, err := st.Update(ctx, func(tx store.Tx) error {
		return tx.Scan(pOperation, func(key string, v []byte) bool {
			id := opIDFromKey(key)
			if key != opKey(id) || string(v) != string(values[id]) {
				t.Errorf("after the move: %s = %s", key, v)
			}
			delete(values, id)
			return true
		})
	}); err != nil {
		t.Fatal(err)
	}
	if len(values) != 0 {
		t.Errorf("operations lost in the move: %v", values)
	}
	// r follows the move: wait until it holds r2's revision.
	if err := r.update(ctx, func(store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	for name, reg := range map[string]*Registry{"moving": r2, "following": r} {
		for _, id := range ids {
			if _, err := reg.GetOperation(ctx, c, &cloudmap.GetOperationRequest{OperationId: id}); err != nil {
				t.Errorf("%s registry: GetOperation(%s): %v", name, id, err)
			}
		}
		list, err := reg.ListOperations(ctx, c, &cloudmap.ListOperationsRequest{})
		if err != nil || len(list.Operations) != len(ids) {
			t.Errorf("%s registry: ListOperations: %d operations, %v", name, len(list.Operations), err)
		}
	}
}

// nsID is the namespace an operation created.
func nsID(t *testing.T, r *Registry, c Caller, opID string) string {
	t.Helper()
	op, err := r.GetOperation(context.Background(), c, &cloudmap.GetOperationRequest{OperationId: opID})
	if err != nil {
		t.Fatal(err)
	}
	return op.Operation.Targets[cloudmap.OperationTargetTypeNamespace]
}

// seedOps stores n finished operations of testCaller, under the earlier
// key layout (op/<id>) when old, and returns their IDs.
func seedOps(t *testing.T, st store.Store, n int, created time.Time, old bool) []string {
	t.Helper()
	ids := make([]string, n)
	for lo := 0; lo < n; lo += 50 {
		if _, err := st.Update(context.Background(), func(tx store.Tx) error {
			for i := lo; i < min(lo+50, n); i++ {
				at := created.Add(time.Duration(i) * time.Millisecond)
				id := operationID(testCaller.Account, fmt.Sprint("t", i), at)
				rec := opRecord{scope: testCaller.scope(), ID: id, Type: "CREATE_NAMESPACE", Status: "SUCCESS",
					CreateDate: at.UnixMilli(), UpdateDate: at.UnixMilli(), Targets: map[string]string{"NAMESPACE": "ns-x"}}
				b, err := json.Marshal(&rec)
				if err != nil {
					return err
				}
				key := opKey(id)
				if old {
					key = pOperation + id
				}
				if err := tx.Put(key, b); err != nil {
					return err
				}
				ids[i] = id
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

// checkMoved checks that the store holds exactly ids, each at opKey, and
// that every registry serves them.
func checkMoved(t *testing.T, st store.Store, ids []string, regs ...*Registry) {
	t.Helper()
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
	}
	if _, err := st.Update(context.Background(), func(tx store.Tx) error {
		return tx.Scan(pOperation, func(key string, _ []byte) bool {
			id := opIDFromKey(key)
			if key != opKey(id) || !want[id] {
				t.Errorf("after the move: unexpected, repeated or unmoved key %s", key)
			}
			delete(want, id)
			return true
		})
	}); err != nil {
		t.Fatal(err)
	}
	if len(want) != 0 {
		t.Errorf("%d operations lost in the move", len(want))
	}
	for i, r := range regs {
		// Wait until r holds every commit so far.
		if err := r.update(context.Background(), func(store.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			if _, err := r.GetOperation(context.Background(), testCaller, &cloudmap.GetOperationRequest{OperationId: id}); err != nil {
				t.Fatalf("registry %d: GetOperation(%s): %v", i, id, err)
			}
		}
	}
}

// A file half moved (a crash between two of the move's commits) is
// finished at the next start, and the start after that finds nothing to
// move.
func TestMoveOperationKeys_HalfMoved(t *testing.T) {
	ctx := context.Background()
	st, err := bolt.Open(t.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ids := seedOps(t, st, 1200, time.Now().Add(-time.Minute), true)
	if _, err := moveOperationKeys(ctx, st, prefixed(ids[:600])); err != nil {
		t.Fatal(err)
	}
	v, err := loadView(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.oldOpKeys) != 600 {
		t.Fatalf("half moved: the view found %d keys to move, want 600", len(v.oldOpKeys))
	}
	r, err := New(ctx, st, Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkMoved(t, st, ids, r)
	if v, err := loadView(ctx, st); err != nil || len(v.oldOpKeys) != 0 {
		t.Errorf("after the move the view finds %d keys to move (%v)", len(v.oldOpKeys), err)
	}
}

func prefixed(ids []string) []string {
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = pOperation + id
	}
	return keys
}

// Three servers starting at once on one etcd prefix of earlier keys move
// each operation exactly once, and each serves all of them.
func TestMoveOperationKeys_ServersStartTogether_Etcd(t *testing.T) {
	srv := etcdtest.Start(t)
	prefix := fmt.Sprintf("/opkeys/%d/", time.Now().UnixNano())
	seed := openEtcd(t, srv, prefix)
	ids := seedOps(t, seed, 700, time.Now().Add(-time.Minute), true)
	var regs [3]*Registry
	var errs [3]error
	var wg sync.WaitGroup
	for i := range regs {
		st := openEtcd(t, srv, prefix)
		wg.Go(func() { regs[i], errs[i] = New(context.Background(), st, Config{}) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("registry %d: %v", i, err)
		}
		defer regs[i].Close()
	}
	checkMoved(t, seed, ids, regs[:]...)
}

// A server starts on an etcd prefix of many operations while another
// server keeps committing: the start reads what it needs page by page and
// commits nothing when there is nothing to move (it once scanned every
// operation in one transaction, which any other commit broke).
func TestStartWhileAnotherServerWrites_Etcd(t *testing.T) {
	srv := etcdtest.Start(t)
	prefix := fmt.Sprintf("/opkeys/%d/", time.Now().UnixNano())
	ctx := context.Background()
	ids := seedOps(t, openEtcd(t, srv, prefix), 3000, time.Now().Add(-time.Minute), false)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writes atomic.Int64
	for w := range 4 {
		other := openEtcd(t, srv, prefix)
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := other.Update(ctx, func(tx store.Tx) error {
					return tx.Put(fmt.Sprintf("zz/%d/%d", w, i), []byte("x"))
				}); err == nil {
					writes.Add(1)
				}
			}
		})
	}
	// Start only once the others are committing.
	for deadline := time.Now().Add(30 * time.Second); writes.Load() < 20; {
		if time.Now().After(deadline) {
			t.Fatal("the other servers did not commit")
		}
		time.Sleep(5 * time.Millisecond)
	}
	r, err := New(ctx, openEtcd(t, srv, prefix), Config{})
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("a server starting while another writes: %v", err)
	}
	defer r.Close()
	if _, err := r.GetOperation(ctx, testCaller, &cloudmap.GetOperationRequest{OperationId: ids[len(ids)-1]}); err != nil {
		t.Error(err)
	}
}

// An expired operation stored under the earlier key (a server of the
// earlier version shares the store) is deleted by the janitor, which
// then stops: it once found it every round, deleted nothing and tried
// again without end.
func TestExpireOperationUnderEarlierKey(t *testing.T) {
	ctx := context.Background()
	st, err := bolt.Open(t.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	r, err := New(ctx, st, Config{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// Written after the start, as a server of the earlier version would.
	ids := seedOps(t, st, 2, now.Add(-100*time.Hour), true)
	if err := r.update(ctx, func(store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := r.GetOperation(ctx, testCaller, &cloudmap.GetOperationRequest{OperationId: ids[0]}); err != nil {
		t.Fatalf("an operation under the earlier key is not served: %v", err)
	}
	done := make(chan struct{})
	go func() { r.expireOperations(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("expireOperations still running after 30 s")
	}
	for _, id := range ids {
		if _, err := r.GetOperation(ctx, testCaller, &cloudmap.GetOperationRequest{OperationId: id}); err == nil {
			t.Errorf("expired operation %s still served", id)
		}
	}
	if _, err := st.Update(ctx, func(tx store.Tx) error {
		return tx.Scan(pOperation, func(key string, _ []byte) bool {
			t.Errorf("expired operation still stored at %s", key)
			return true
		})
	}); err != nil {
		t.Fatal(err)
	}
}
