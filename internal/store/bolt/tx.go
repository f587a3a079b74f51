package bolt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/batch"
	bbolt "go.etcd.io/bbolt"
)

var errTxDone = errors.New("bolt: transaction used after its closure returned")

// tx is the store.Tx of one Update closure. Its writes are buffered
// (batch.Writes, over the writes of the closures before it in the batch),
// laid over prev, the writes of the batch committing before this one
// (nil for none), laid over bbolt. The buffer reaches bbolt only if the
// closure succeeds.
//
// A buffered value is kept as dataBucket stores it, behind room for the
// revision (withRev), which apply fills in once the commit's revision is
// known: the value is copied once, at Put, not again at the commit.
type tx struct {
	data   *bbolt.Bucket
	cur    *bbolt.Cursor // for Get: one for a pass's closures, not one a read
	prev   map[string][]byte
	writes batch.Writes
	done   bool
}

var _ store.Tx = (*tx)(nil)

// run calls fn with t, turning a panic into an error.
func (t *tx) run(fn func(store.Tx) error) (err error) {
	defer func() {
		t.done = true
		if p := recover(); p != nil {
			err = fmt.Errorf("bolt: update: panic in transaction: %v\n%s", p, debug.Stack())
		}
	}()
	return fn(t)
}

func (t *tx) Get(key string) ([]byte, bool, error) {
	if t.done {
		return nil, false, errTxDone
	}
	if v, ok := t.writes.Get(key); ok {
		return unbuffered(v)
	}
	if v, ok := t.prev[key]; ok {
		return unbuffered(v)
	}
	v := t.get([]byte(key))
	if v == nil {
		return nil, false, nil
	}
	return batch.Clone(stored(v)), true, nil
}

// unbuffered is Get's answer for a buffered value (nil: deleted).
func unbuffered(v []byte) ([]byte, bool, error) {
	if v == nil {
		return nil, false, nil
	}
	return stored(v), true, nil
}

// get is t.data.Get(key) through t's cursor: bbolt's Get allocates a
// cursor, and its stack, at every call.
func (t *tx) get(key []byte) []byte {
	if t.cur == nil {
		t.cur = t.data.Cursor()
	}
	k, v := t.cur.Seek(key)
	if !bytes.Equal(k, key) {
		return nil
	}
	return v
}

func (t *tx) Put(key string, value []byte) error {
	switch {
	case t.done:
		return errTxDone
	case key == "":
		return errors.New("bolt: put: empty key")
	case len(key) > bbolt.MaxKeySize:
		return fmt.Errorf("bolt: put %.40q...: key longer than %d bytes", key, bbolt.MaxKeySize)
	case len(value) > bbolt.MaxValueSize-revLen:
		return fmt.Errorf("bolt: put %q: value longer than %d bytes", key, bbolt.MaxValueSize-revLen)
	}
	t.writes.Put(key, withRev(0, value)) // never nil: an empty value is not a deletion
	return nil
}

func (t *tx) Delete(key string) error {
	if t.done {
		return errTxDone
	}
	t.writes.Put(key, nil)
	return nil
}

// Scan merges the buffered writes under prefix with a bbolt cursor.
func (t *tx) Scan(prefix string, fn func(key string, value []byte) bool) error {
	if t.done {
		return errTxDone
	}
	w := t.writes
	if len(t.prev) > 0 {
		// The batch's writes and then the closure's, over prev's.
		below := make(map[string][]byte)
		for k, v := range t.prev {
			if strings.HasPrefix(k, prefix) {
				below[k] = v
			}
		}
		maps.Copy(below, w.Below)
		w.Below = below
	}
	_, _, err := w.Scan(prefix, &cursor{c: t.data.Cursor(), prefix: []byte(prefix)}, func(k string, v []byte) bool {
		return fn(k, stored(v))
	}, nil)
	return err
}

// cursor is a bbolt cursor over the keys with a prefix, as a
// batch.Stored; its values keep their revision, as buffered values do.
type cursor struct {
	c       *bbolt.Cursor
	prefix  []byte
	started bool
}

func (c *cursor) Next() (string, []byte, bool, error) {
	var k, v []byte
	if c.started {
		k, v = c.c.Next()
	} else {
		k, v = c.c.Seek(c.prefix)
		c.started = true
	}
	if k == nil || !bytes.HasPrefix(k, c.prefix) {
		return "", nil, false, nil
	}
	return string(k), batch.Clone(v), true, nil
}

// apply writes t's buffered writes into the bbolt transaction, each value
// behind the revision rev (written into its buffer), and records each
// key's new state in changed. Deleting an absent key changes nothing.
func (t *tx) apply(rev int64, changed map[string][]byte) error {
	for _, k := range slices.Sorted(maps.Keys(t.writes.Own)) {
		v, bk := t.writes.Own[k], []byte(k)
		if v == nil {
			if t.get(bk) == nil {
				continue
			}
			if err := t.data.Delete(bk); err != nil {
				return fmt.Errorf("delete %q: %w", k, err)
			}
		} else {
			binary.BigEndian.PutUint64(v[:revLen], uint64(rev))
			if err := t.data.Put(bk, v); err != nil {
				return fmt.Errorf("put %q: %w", k, err)
			}
			v = stored(v)
		}
		changed[k] = v
	}
	return nil
}
