package storetest

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/cairn-dev/cairn/internal/store"
)

func testLoad(t *testing.T, s store.Store) {
	keys := []string{"m", "a/2", "z", "a", "a/10", "a/1", "b", "\x00", "é"}
	for _, k := range keys {
		write(t, s, put(k, "v:"+k))
	}
	write(t, s, del("b"))
	rev := write(t, s, put("m", "v:m2"))

	all, loadRev := load(t, s)
	want := []kv{{"\x00", []byte("v:\x00")}, {"a", []byte("v:a")}, {"a/1", []byte("v:a/1")},
		{"a/10", []byte("v:a/10")}, {"a/2", []byte("v:a/2")}, {"m", []byte("v:m2")},
		{"z", []byte("v:z")}, {"é", []byte("v:é")}}
	if !slices.EqualFunc(all, want, func(a, b kv) bool { return a.key == b.key && sameValue(a.value, b.value) }) {
		t.Errorf("Load = %v\nwant   %v", all, want)
	}
	if loadRev != rev {
		t.Errorf("Load revision = %d; want %d", loadRev, rev)
	}

	stop := errors.New("stop")
	calls := 0
	_, err := s.Load(context.Background(), func(string, []byte) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Errorf("Load with failing fn = %v after %d calls; want %v after 1", err, calls, stop)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Load(ctx, func(string, []byte) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Load with canceled context = %v; want %v", err, context.Canceled)
	}
}

// testLoadRevs checks that LoadRevs gives every key the revision of the
// commit that last wrote it, whatever else was committed since.
func testLoadRevs(t *testing.T, s store.Store) {
	want := map[string]int64{}
	want["a"] = write(t, s, put("a", "1"))
	want["b"] = write(t, s, put("b", "1"), put("c", "1"))
	want["c"] = want["b"]
	write(t, s, put("d", "1"))
	want["a"] = write(t, s, put("a", "2"), del("d"))
	got := map[string]int64{}
	values := map[string]string{}
	loadRev, err := s.LoadRevs(context.Background(), func(key string, value []byte, rev int64) error {
		got[key] = rev
		values[key] = string(value) // a copy: value is valid only during the call
		return nil
	})
	if err != nil {
		t.Fatalf("LoadRevs: %v", err)
	}
	if !maps.Equal(got, want) {
		t.Errorf("LoadRevs revisions = %v; want %v", got, want)
	}
	if loadRev != want["a"] {
		t.Errorf("LoadRevs revision = %d; want %d", loadRev, want["a"])
	}
	if wantValues := map[string]string{"a": "2", "b": "1", "c": "1"}; !maps.Equal(values, wantValues) {
		t.Errorf("LoadRevs values = %v; want %v", values, wantValues)
	}

	// fn's error stops LoadRevs and is returned as it is.
	stop := errors.New("stop")
	calls := 0
	if _, err := s.LoadRevs(context.Background(), func(string, []byte, int64) error {
		calls++
		return stop
	}); err != stop || calls != 1 {
		t.Errorf("LoadRevs with failing fn = %v after %d calls; want %v after 1", err, calls, stop)
	}
}
