// Package storetest is the conformance suite for store.Store
// implementations. Every store cairn can run on must pass Run; a store
// that keeps its data on disk must also pass RunDurable.
package storetest

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/store"
)

// timeout bounds every wait in the suite, so a hung store fails instead of
// stalling the test binary.
const timeout = 10 * time.Second

// Run checks that the stores made by open behave as package store
// documents. open must return a new, empty store for each subtest; Run
// closes it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"OwnWrites", testOwnWrites},
		{"Scan", testScan},
		{"Rollback", testRollback},
		{"ConcurrentRollback", testConcurrentRollback},
		{"Panic", testPanic},
		{"CanceledUpdate", testCanceledUpdate},
		{"Revisions", testRevisions},
		{"Load", testLoad},
		{"LoadRevs", testLoadRevs},
		{"Watch", testWatch},
		{"WatchCancel", testWatchCancel},
		{"Concurrent", testConcurrent},
		{"Closed", testClosed},
		{"CloseWhileUpdating", testCloseWhileUpdating},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tt.fn(t, s)
		})
	}
}

// op is one write: a Put of value, or a Delete if del is set.
type op struct {
	key   string
	value []byte
	del   bool
}

func put(key, value string) op { return op{key: key, value: []byte(value)} }
func del(key string) op        { return op{key: key, del: true} }

func (o op) do(tx store.Tx) error {
	if o.del {
		return tx.Delete(o.key)
	}
	return tx.Put(o.key, o.value)
}

// write commits ops in one transaction and returns its revision.
func write(t *testing.T, s store.Store, ops ...op) int64 {
	t.Helper()
	rev, err := s.Update(context.Background(), func(tx store.Tx) error {
		for _, o := range ops {
			if err := o.do(tx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	return rev
}

// kv is a key and its value as Load or Scan gave them.
type kv struct {
	key   string
	value []byte
}

func (e kv) String() string { return fmt.Sprintf("%s=%q", e.key, e.value) }

// load returns the whole store in Load order, checking that the order is
// ascending, and the revision.
func load(t *testing.T, s store.Store) ([]kv, int64) {
	t.Helper()
	var all []kv
	rev, err := s.Load(context.Background(), func(key string, value []byte) error {
		all = append(all, kv{key, value})
		return nil
	})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	for i := 1; i < len(all); i++ {
		if all[i-1].key >= all[i].key {
			t.Fatalf("Load: %q came before %q", all[i-1].key, all[i].key)
		}
	}
	return all, rev
}

// loadMap returns the whole store as a map, and the revision.
func loadMap(t *testing.T, s store.Store) (map[string][]byte, int64) {
	t.Helper()
	all, rev := load(t, s)
	m := make(map[string][]byte, len(all))
	for _, e := range all {
		m[e.key] = e.value
	}
	return m, rev
}

// get reads key in a transaction of its own.
func get(t *testing.T, s store.Store, key string) ([]byte, bool) {
	t.Helper()
	var (
		value []byte
		ok    bool
	)
	_, err := s.Update(context.Background(), func(tx store.Tx) (err error) {
		value, ok, err = tx.Get(key)
		return err
	})
	if err != nil {
		t.Fatalf("Get %q: %v", key, err)
	}
	return value, ok
}

// sameValue reports whether a and b are equal, an empty value being
// different from an absent one (nil).
func sameValue(a, b []byte) bool {
	return (a == nil) == (b == nil) && bytes.Equal(a, b)
}
