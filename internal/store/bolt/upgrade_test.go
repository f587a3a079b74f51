package bolt_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/bolt"
	bbolt "go.etcd.io/bbolt"
)

// TestUpgradeLegacyFile opens a file in the format before per-key
// revisions (values alone in the bucket "data") and checks that every key
// is kept, with the store's revision as its own, and that the store then
// commits on top of it.
func TestUpgradeLegacyFile(t *testing.T) {
	dir := t.TempDir()
	db, err := bbolt.Open(filepath.Join(dir, bolt.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 25000 // more than one upgrade transaction
	err = db.Update(func(tx *bbolt.Tx) error {
		data, err := tx.CreateBucket([]byte("data"))
		if err != nil {
			return err
		}
		for i := range n {
			if err := data.Put(fmt.Appendf(nil, "k/%05d", i), fmt.Appendf(nil, "v%d", i)); err != nil {
				return err
			}
		}
		meta, err := tx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		return meta.Put([]byte("rev"), binary.BigEndian.AppendUint64(nil, 77))
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	s := open(t, dir, bolt.DefaultOptions())
	defer s.Close()
	rev, err := s.Update(context.Background(), func(tx store.Tx) error {
		v, ok, err := tx.Get("k/00007")
		if err != nil || !ok || string(v) != "v7" {
			return fmt.Errorf("get k/00007 = %q, %v, %v", v, ok, err)
		}
		return tx.Put("new", []byte("x"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if rev != 78 {
		t.Errorf("first commit after the upgrade at revision %d; want 78", rev)
	}
	count := 0
	_, err = s.LoadRevs(context.Background(), func(key string, value []byte, r int64) error {
		want := int64(77)
		if key == "new" {
			want = 78
		} else if fmt.Sprintf("v%d", atoi(key[2:])) != string(value) {
			return fmt.Errorf("%s = %q", key, value)
		}
		if r != want {
			return fmt.Errorf("%s at revision %d; want %d", key, r, want)
		}
		count++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if count != n+1 {
		t.Errorf("%d keys after the upgrade; want %d", count, n+1)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
