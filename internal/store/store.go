// Package store defines how cairn keeps its state durably: an ordered
// key-value space changed by transactions, each committed atomically and
// acknowledged only once it is durable, and a change stream from which an
// in-memory view can be built and kept current.
//
// # Basics
//
// Keys are strings (cairn uses '/'-separated paths such as "svc/srv-…");
// values are opaque bytes (cairn stores JSON). A transaction is a closure
// passed to Update: it reads with Get and writes with Put and Delete. Its
// writes become visible to later transactions, and are sent to watchers,
// only when Update has returned nil, and by then they are on disk.
//
// Every committed transaction that changed something is given a revision,
// a number greater than every revision before it. Load returns the whole
// space with the revision it reflects; Watch streams every commit after a
// given revision, in order. Together they let a reader build a view and keep
// it exact: load at revision R, then apply the changes after R.
//
// # Caveats
//
//   - Transactions are serializable: an implementation may run a closure
//     more than once (an optimistic store retries on conflict), so a closure
//     must have no side effects outside the Tx, and must compute everything
//     it returns from what it read.
//   - Several concurrent Update calls may share one durable commit (group
//     commit); a closure that returns an error is rolled back alone and does
//     not affect the others.
//   - The byte slices that Get returns and that events carry must not be
//     modified.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("store: closed")

// ErrLocked is returned by Open functions when another process holds the
// store's data directory.
var ErrLocked = errors.New("store: data directory is in use by another process")

// Store is a durable, transactional key-value space with a change stream.
// Every implementation passes the storetest conformance suite.
type Store interface {
	// Update runs fn in a read-write transaction and commits it durably.
	// If fn returns an error, nothing it wrote is kept and Update returns
	// that error unchanged. On success it returns the revision of the commit
	// that holds fn's writes (the current revision if fn wrote nothing).
	Update(ctx context.Context, fn func(tx Tx) error) (rev int64, err error)

	// Load calls fn for every key in ascending key order, from one
	// consistent snapshot, and returns the revision of that snapshot.
	// If fn returns an error, Load stops and returns it.
	Load(ctx context.Context, fn func(key string, value []byte) error) (rev int64, err error)

	// LoadRevs is Load that also gives each key's revision: the revision
	// of the commit that last wrote it (at most the snapshot's revision).
	// A key whose writer predates per-key revisions (a store upgraded from
	// an older format) has a revision of at most the store's revision at
	// the upgrade. Unlike Load's, the value fn is given is valid only
	// until fn returns (a store may hand out its own memory, as bbolt's
	// file mapping): fn copies what it keeps. fn may run inside the
	// store's read, so it must not wait for a write to the store.
	LoadRevs(ctx context.Context, fn func(key string, value []byte, rev int64) error) (rev int64, err error)

	// Watch returns a channel of the commits after revision from, in
	// revision order, one Event per commit. The channel is closed when ctx
	// ends or the store closes. A watcher that falls too far behind, or
	// asks for a revision that is no longer kept, receives an Event whose
	// Err is ErrCompacted and then a closed channel: it must Load again.
	Watch(ctx context.Context, from int64) <-chan Event

	// Close releases the store. It waits for commits in progress.
	Close() error
}

// ErrCompacted is carried by a watch Event when the changes the watcher
// needs are no longer available.
var ErrCompacted = errors.New("store: revision compacted; load again")

// Tx is a transaction: reads see the store as of the transaction's start
// plus the transaction's own writes.
type Tx interface {
	// Get returns the value of key, or ok=false if it is absent.
	Get(key string) (value []byte, ok bool, err error)
	// Put sets key to value.
	Put(key string, value []byte) error
	// Delete removes key; deleting an absent key is not an error.
	Delete(key string) error
	// Scan calls fn for every key with the given prefix in ascending
	// order, including the transaction's own writes; fn returning false
	// stops the scan.
	Scan(prefix string, fn func(key string, value []byte) bool) error
}

// Prefetcher is implemented by a Tx whose reads cost a round trip (etcd):
// Prefetch reads keys together, in one round trip, ahead of the Gets that
// need them. It reads nothing into the transaction's outcome: a key
// prefetched but never got is not one the commit depends on.
type Prefetcher interface {
	Prefetch(keys ...string)
}

// Prefetch hints tx that its closure is about to Get keys; a no-op unless
// tx is a Prefetcher.
func Prefetch(tx Tx, keys ...string) {
	if p, ok := tx.(Prefetcher); ok {
		p.Prefetch(keys...)
	}
}

// Event is one committed transaction as seen by a watcher.
type Event struct {
	Rev     int64
	Changes []Change
	Err     error
}

// Change is one key's new state in a commit. Value is nil when the key was
// deleted.
type Change struct {
	Key   string
	Value []byte
}

// Deleted reports whether the change removed its key.
func (c Change) Deleted() bool { return c.Value == nil }

// CommitObserver is told about a store's commits (see package metrics).
// Its methods are called from the store's committer and must be quick.
type CommitObserver interface {
	// Committed is called after each durable commit attempt that
	// succeeded: batch Update calls shared it, it took took in all, of
	// which sync writing and syncing to disk (zero where the store cannot
	// tell, as with etcd, which syncs on its own side).
	Committed(batch int, took, sync time.Duration)
	// Conflicted is called when an optimistic commit lost to another
	// writer; retried says whether it is tried again.
	Conflicted(retried bool)
	// WatchRestarted is called when the store's change stream reconnects
	// after losing its connection.
	WatchRestarted()
}
