package bolt

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/cairn-dev/cairn/internal/store"
	bbolt "go.etcd.io/bbolt"
)

var errTxDone = errors.New("bolt: transaction used after its closure returned")

// tx is the store.Tx of one Update closure. Its writes are buffered in
// writes (a nil value marks a deletion) over the batch's bbolt transaction,
// which already holds the writes of the closures before it in the batch.
// The buffer reaches bbolt only if the closure succeeds.
type tx struct {
	data   *bbolt.Bucket
	writes map[string][]byte
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
	if v, ok := t.writes[key]; ok {
		return v, v != nil, nil
	}
	v := t.data.Get([]byte(key))
	if v == nil {
		return nil, false, nil
	}
	return cloneValue(stored(v)), true, nil
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
	t.write(key, cloneValue(value))
	return nil
}

func (t *tx) Delete(key string) error {
	if t.done {
		return errTxDone
	}
	t.write(key, nil)
	return nil
}

func (t *tx) write(key string, value []byte) {
	if t.writes == nil {
		t.writes = make(map[string][]byte)
	}
	t.writes[key] = value
}

// Scan merges the buffered writes under prefix, as they are when Scan is
// called, with a bbolt cursor; a buffered write wins over the stored key.
func (t *tx) Scan(prefix string, fn func(key string, value []byte) bool) error {
	if t.done {
		return errTxDone
	}
	var own []string
	for k := range t.writes {
		if strings.HasPrefix(k, prefix) {
			own = append(own, k)
		}
	}
	slices.Sort(own)
	ownVals := make([][]byte, len(own))
	for i, k := range own {
		ownVals[i] = t.writes[k]
	}

	p := []byte(prefix)
	c := t.data.Cursor()
	k, v := c.Seek(p)
	for i := 0; ; {
		inStore := k != nil && bytes.HasPrefix(k, p)
		var key string
		var value []byte
		switch {
		case i < len(own) && (!inStore || own[i] <= string(k)):
			if inStore && own[i] == string(k) {
				k, v = c.Next()
			}
			key, value = own[i], ownVals[i]
			i++
			if value == nil {
				continue // deleted in this transaction
			}
		case inStore:
			key, value = string(k), cloneValue(stored(v))
			k, v = c.Next()
		default:
			return nil
		}
		if !fn(key, value) {
			return nil
		}
	}
}

// apply writes t's buffered writes into the bbolt transaction, each value
// behind the revision rev, and records each key's new state in changed.
// Deleting an absent key changes nothing.
func (t *tx) apply(rev int64, changed map[string][]byte) error {
	for _, k := range slices.Sorted(maps.Keys(t.writes)) {
		v, bk := t.writes[k], []byte(k)
		if v == nil {
			if t.data.Get(bk) == nil {
				continue
			}
			if err := t.data.Delete(bk); err != nil {
				return fmt.Errorf("delete %q: %w", k, err)
			}
		} else if err := t.data.Put(bk, withRev(rev, v)); err != nil {
			return fmt.Errorf("put %q: %w", k, err)
		}
		changed[k] = v
	}
	return nil
}
