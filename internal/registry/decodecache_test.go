package registry

import (
	"context"
	"testing"

	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/bolt"
)

// sharedRecord decodes a key's record once for each stored value: the
// same bytes give the same value, new bytes a new value, an absent key
// nil, and a nil cache decodes every time.
func TestSharedRecord(t *testing.T) {
	st, err := bolt.Open(t.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var dc decodeCache
	read := func(c *decodeCache, key string) *svcRecord {
		t.Helper()
		var got *svcRecord
		if _, err := st.Update(context.Background(), func(tx store.Tx) error {
			got, err = sharedRecord[svcRecord](c, tx, key)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	put := func(key string, rec *svcRecord) {
		t.Helper()
		if _, err := st.Update(context.Background(), func(tx store.Tx) error { return putRecord(tx, key, rec) }); err != nil {
			t.Fatal(err)
		}
	}
	put("svc/a", &svcRecord{ID: "a", Name: "one"})
	first := read(&dc, "svc/a")
	if first == nil || first.Name != "one" {
		t.Fatalf("first read: %+v", first)
	}
	if again := read(&dc, "svc/a"); again != first {
		t.Errorf("same bytes decoded again: %p, then %p", first, again)
	}
	put("svc/a", &svcRecord{ID: "a", Name: "two"})
	if changed := read(&dc, "svc/a"); changed == first || changed.Name != "two" {
		t.Errorf("after a change: %+v (first %p, now %p)", changed, first, changed)
	}
	if absent := read(&dc, "svc/none"); absent != nil {
		t.Errorf("absent key: %+v", absent)
	}
	if a, b := read(nil, "svc/a"), read(nil, "svc/a"); a == b || a.Name != "two" {
		t.Errorf("without a cache: %p and %p, %+v", a, b, a)
	}
	for i := range maxDecoded + 1 { // past the bound it starts again
		dc.m["x"+string(rune(i))] = cachedRecord{}
	}
	if n := len(dc.m); n <= maxDecoded {
		t.Fatalf("%d entries", n)
	}
	put("svc/b", &svcRecord{ID: "b"})
	read(&dc, "svc/b")
	if n := len(dc.m); n != 1 {
		t.Errorf("%d entries after a new record past the bound, want 1", n)
	}
}
