package registry

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/bolt"
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
