// Package bolt is cairn's default store: an embedded, single-process
// implementation of store.Store on a bbolt file (dir/cairn.db).
//
// All writes go through one committer goroutine that gathers the Update
// calls waiting at that moment and commits them in one bbolt transaction
// and one fsync (group commit). Each closure writes to its own buffer, so a
// closure that fails or panics is dropped alone and the others still commit.
// Recent commits are kept in memory to serve watchers.
package bolt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/batch"
	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// FileName is the name of the database file inside the data directory.
const FileName = "cairn.db"

var (
	// dataBucket is the key space: each value is stored behind the
	// revision of the commit that wrote it (8 bytes, big-endian).
	dataBucket = []byte("kv")
	// legacyBucket is the key space of files written before per-key
	// revisions, values alone; Open moves it into dataBucket.
	legacyBucket = []byte("data")
	metaBucket   = []byte("meta") // bookkeeping: the revision
	revKey       = []byte("rev")  // in metaBucket: 8 bytes, big-endian
)

// revLen is the length of the revision in front of every stored value.
const revLen = 8

// withRev returns value behind rev, as dataBucket stores it.
func withRev(rev int64, value []byte) []byte {
	b := make([]byte, revLen, revLen+len(value))
	binary.BigEndian.PutUint64(b, uint64(rev))
	return append(b, value...)
}

// stored returns the value of a dataBucket entry, without its revision.
func stored(v []byte) []byte { return v[revLen:] }

// storedRev returns the revision of a dataBucket entry.
func storedRev(v []byte) int64 { return int64(binary.BigEndian.Uint64(v[:revLen])) }

// Options tunes a Store. The zero value of a field means its default.
type Options struct {
	// NoSync skips the fsync at each commit, so acknowledged writes can be
	// lost if the machine crashes. For benchmarks and tests only.
	NoSync bool
	// MaxBatch is the most Update calls that share one commit.
	MaxBatch int
	// WatchBuffer is how many events a watcher may fall behind before it is
	// sent store.ErrCompacted and dropped.
	WatchBuffer int
	// WatchHistory is how many recent commits are kept in memory for
	// watchers that start behind the current revision, and
	// WatchHistoryBytes how many bytes of keys and values they may hold
	// (the newest commit is kept whatever its size). See Store.Watch.
	WatchHistory      int
	WatchHistoryBytes int
	// LockTimeout is how long Open waits for another process to release
	// the data directory before failing with store.ErrLocked.
	LockTimeout time.Duration
	// Observer, when set, is told about every commit.
	Observer store.CommitObserver
}

// DefaultOptions returns the options Open uses for zero fields.
func DefaultOptions() Options {
	return Options{
		MaxBatch:     1024,
		WatchBuffer:  1024,
		WatchHistory: 4096,
		// 4 MiB: some 5,000 registrations, far more than the writers in
		// flight while a view reloads, and 105 bytes per retained
		// operation at 40,000 (the target is 600 in all).
		WatchHistoryBytes: 4 << 20,
		LockTimeout:       100 * time.Millisecond,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.MaxBatch <= 0 {
		o.MaxBatch = d.MaxBatch
	}
	if o.WatchBuffer <= 0 {
		o.WatchBuffer = d.WatchBuffer
	}
	if o.WatchHistory <= 0 {
		o.WatchHistory = d.WatchHistory
	}
	if o.WatchHistoryBytes <= 0 {
		o.WatchHistoryBytes = d.WatchHistoryBytes
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = d.LockTimeout
	}
	return o
}

// Store is a store.Store kept in a bbolt file. It is safe for concurrent
// use. A closure passed to Update runs on the committer goroutine and must
// not call the Store.
type Store struct {
	db   *bbolt.DB
	opts Options

	reqs chan *batch.Request // unbuffered: a send is a pickup by the committer
	quit chan struct{}       // closed by Close
	done chan struct{}       // closed when the committer has stopped
	rev  int64               // owned by the committing batch: batches commit one after another
	hub  *hub

	// beforeWrite, set by this package's tests, runs before each batch's
	// bbolt commit; an error fails the commit.
	beforeWrite func() error

	closeMu sync.Mutex
	closed  bool
}

var _ store.Store = (*Store)(nil)

// Open opens the store in dir, creating dir and the database if needed.
// If another process holds dir, Open fails after opts.LockTimeout with an
// error wrapping store.ErrLocked.
func Open(dir string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", dir, err)
	}
	path := filepath.Join(dir, FileName)
	_, statErr := os.Stat(path)
	bopts := *bbolt.DefaultOptions
	bopts.Timeout = opts.LockTimeout
	bopts.NoSync = opts.NoSync
	db, err := bbolt.Open(path, 0o600, &bopts)
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("bolt: open %s: %w", dir, store.ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	var rev int64
	err = db.Update(func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(dataBucket); err != nil {
			return err
		}
		meta, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return err
		}
		rev, err = decodeRev(meta.Get(revKey))
		return err
	})
	if err == nil {
		err = upgrade(db, rev)
	}
	if err == nil && errors.Is(statErr, fs.ErrNotExist) && !opts.NoSync {
		err = syncDir(dir) // make the new file's directory entry durable
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("bolt: open %s: %w", path, err)
	}
	s := &Store{
		db:   db,
		opts: opts,
		reqs: make(chan *batch.Request),
		quit: make(chan struct{}),
		done: make(chan struct{}),
		rev:  rev,
		hub:  newHub(rev, opts.WatchHistory, opts.WatchHistoryBytes, opts.WatchBuffer),
	}
	go s.run()
	return s, nil
}

// Update runs fn in a read-write transaction and commits it durably,
// possibly together with concurrent Update calls. If ctx ends before the
// committer picks the call up, Update returns ctx.Err() and fn never runs;
// once picked up, the call completes regardless of ctx.
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) (int64, error) {
	select {
	case <-s.quit:
		return 0, store.ErrClosed
	default:
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	r := batch.NewRequest(fn)
	select {
	case s.reqs <- r:
	case <-s.quit:
		return 0, store.ErrClosed
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	res := <-r.Done
	return res.Rev, res.Err
}

// Load calls fn for every key in ascending order from one snapshot and
// returns the snapshot's revision. The snapshot is copied out before fn is
// first called, so fn runs outside any bbolt transaction and may keep the
// values it is given.
func (s *Store) Load(ctx context.Context, fn func(key string, value []byte) error) (int64, error) {
	type kv struct {
		key   string
		value []byte
	}
	var all []kv
	rev, err := s.LoadRevs(ctx, func(key string, value []byte, _ int64) error {
		all = append(all, kv{key, batch.Clone(value)})
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, e := range all {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if err := fn(e.key, e.value); err != nil {
			return 0, err
		}
	}
	return rev, nil
}

// LoadRevs is Load, with the revision of the commit that last wrote each
// key, without copying the snapshot out first: fn runs inside the bbolt
// read transaction and is given each value where the file maps it, valid
// only until fn returns (store.Store's contract). A start decodes a
// million values once each; copying them all out first was a third of
// its CPU and as much memory as the file. fn must not wait for a write
// to this store: a commit that grows the file waits for the read to end.
func (s *Store) LoadRevs(ctx context.Context, fn func(key string, value []byte, rev int64) error) (int64, error) {
	select {
	case <-s.quit:
		return 0, store.ErrClosed
	default:
	}
	var rev int64
	var fnErr error
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		if rev, err = decodeRev(tx.Bucket(metaBucket).Get(revKey)); err != nil {
			return err
		}
		c := tx.Bucket(dataBucket).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := fn(string(k), stored(v), storedRev(v)); err != nil {
				fnErr = err
				return err
			}
		}
		return nil
	})
	if fnErr != nil {
		return 0, fnErr
	}
	if err != nil {
		if errors.Is(err, berrors.ErrDatabaseNotOpen) {
			return 0, store.ErrClosed
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return 0, ctxErr
		}
		return 0, fmt.Errorf("bolt: load: %w", err)
	}
	return rev, nil
}

// upgrade moves the key space of a file written before per-key revisions
// into dataBucket, each key with the store's current revision, in
// transactions of a bounded size so that a large file does not need its
// whole space in memory at once. Each key moves in one transaction, so a
// crash during the upgrade leaves every key in exactly one of the two
// buckets, and the next Open goes on.
func upgrade(db *bbolt.DB, rev int64) error {
	const chunk = 10000
	for {
		var done bool
		err := db.Update(func(tx *bbolt.Tx) error {
			old := tx.Bucket(legacyBucket)
			if old == nil {
				done = true
				return nil
			}
			data := tx.Bucket(dataBucket)
			var keys [][]byte
			c := old.Cursor()
			for k, v := c.First(); k != nil && len(keys) < chunk; k, v = c.Next() {
				if err := data.Put(k, withRev(rev, v)); err != nil {
					return err
				}
				keys = append(keys, k)
			}
			if len(keys) == 0 {
				done = true
				return tx.DeleteBucket(legacyBucket)
			}
			for _, k := range keys {
				if err := old.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || done {
			return err
		}
	}
}

// Close finishes the commits in progress, closes every watch channel and
// closes the database. Calls after the first return store.ErrClosed.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	s.closed = true
	close(s.quit)
	<-s.done
	s.hub.close()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt: close %s: %w", s.db.Path(), err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func encodeRev(rev int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(rev))
}

func decodeRev(b []byte) (int64, error) {
	switch len(b) {
	case 0:
		return 0, nil
	case 8:
		return int64(binary.BigEndian.Uint64(b)), nil
	}
	return 0, fmt.Errorf("bad revision record (%d bytes)", len(b))
}
