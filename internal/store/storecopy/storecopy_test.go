package storecopy_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/bolt"
	"github.com/cairn-dev/cairn/internal/store/storecopy"
)

func open(t *testing.T) store.Store {
	t.Helper()
	s, err := bolt.Open(t.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func put(t *testing.T, s store.Store, kvs map[string]string) {
	t.Helper()
	if _, err := s.Update(context.Background(), func(tx store.Tx) error {
		for k, v := range kvs {
			if err := tx.Put(k, []byte(v)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func dump(t *testing.T, s store.Store) string {
	t.Helper()
	out := ""
	if _, err := s.Load(context.Background(), func(k string, v []byte) error {
		out += fmt.Sprintf("%s=%s;", k, v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCopy(t *testing.T) {
	ctx := context.Background()
	src, dst := open(t), open(t)
	kvs := map[string]string{"empty": ""}
	for i := range 250 {
		kvs[fmt.Sprintf("k/%03d", i)] = fmt.Sprint(i)
	}
	put(t, src, kvs)
	batches := 0
	st, err := storecopy.Copy(ctx, dst, src, storecopy.Options{Batch: 100, Progress: func(int, int) { batches++ }})
	if err != nil || st.Keys != 251 || batches != 3 {
		t.Fatalf("Copy = %+v, %v after %d batches; want 251 keys in 3 batches", st, err, batches)
	}
	if dump(t, dst) != dump(t, src) {
		t.Fatal("the copy differs from the source")
	}

	other := open(t)
	put(t, other, map[string]string{"k/000": "changed", "stale": "x"})
	if _, err := storecopy.Copy(ctx, other, src, storecopy.Options{}); !errors.Is(err, storecopy.ErrTargetNotEmpty) {
		t.Fatalf("Copy into a non-empty store = %v; want ErrTargetNotEmpty", err)
	}
	st, err = storecopy.Copy(ctx, other, src, storecopy.Options{Force: true})
	if err != nil || st.Deleted != 1 {
		t.Fatalf("Copy with Force = %+v, %v; want 1 deleted", st, err)
	}
	if dump(t, other) != dump(t, src) {
		t.Fatal("the forced copy differs from the source")
	}
}
