// Package batch is what cairn's two stores (bolt and etcd) share to
// commit concurrent Update calls together (group commit): the request an
// Update hands to its store's committer, the committer's loop that
// gathers the requests waiting at that moment into one batch, and the
// write buffer of one closure, whose Scan merges the closure's own writes
// (and the batch's earlier ones) with the store's keys.
//
// Each closure writes to a buffer of its own, over the writes of the
// closures before it in the batch, so that a closure that fails or panics
// is dropped alone and the others still commit, in the same transaction
// and sync. That is why the bolt store does not use bbolt's DB.Batch:
// DB.Batch runs the closures directly in the shared bbolt transaction, so
// one that fails rolls back the whole batch and every other closure is
// run again (a second time, or more: fine for DB.Batch's idempotent
// closures, but then every Update would pay for its neighbours' errors,
// and a registry closure that reads what another wrote in the same batch
// would see it vanish); it waits MaxBatchDelay for a batch to fill even
// when the writer is alone; and it reports neither the commit's revision
// nor the keys it changed, which the stores need to number commits and
// feed their watchers.
package batch

import (
	"slices"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/internal/store"
)

// Request is one Update call handed to a committer.
type Request struct {
	Fn func(store.Tx) error
	// Deadline, when set, is when the caller stops waiting (etcd).
	Deadline time.Time
	// Done receives exactly one Result; it is buffered.
	Done chan Result
}

// NewRequest returns the request of an Update running fn.
func NewRequest(fn func(store.Tx) error) *Request {
	return &Request{Fn: fn, Done: make(chan Result, 1)}
}

// Result is what an Update returns.
type Result struct {
	Rev int64
	Err error
}

// Run is a committer's loop: it waits for a request, takes with it every
// request waiting at that moment, up to max, and calls commit with them,
// until quit is closed. commit returns the requests it left for the next
// batch (they start it); requests are taken only between calls, so the
// callers whose requests are not taken yet wait in their send. Both
// stores' commit functions pipeline: they run a batch's closures and hand
// its durable write to the background, so that the next batch gathers
// and runs while the previous one syncs, and they keep their own copy of
// the slice, which Run reuses.
func Run(reqs <-chan *Request, quit <-chan struct{}, max int, commit func([]*Request) (left []*Request)) {
	var batch []*Request
	for {
		if len(batch) == 0 {
			select {
			case r := <-reqs:
				batch = append(batch, r)
			case <-quit:
				return
			}
		}
	gather:
		for len(batch) < max {
			select {
			case r := <-reqs:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		left := commit(batch)
		clear(batch)
		batch = append(batch[:0], left...)
	}
}

// Writes is one closure's buffered writes, over Below, the writes of the
// batch's closures before it (nil when there are none). A nil value
// marks a deletion.
type Writes struct {
	Own   map[string][]byte
	Below map[string][]byte
}

// Get returns key's value in the buffer; found is false when neither the
// closure nor the batch wrote it.
func (w *Writes) Get(key string) (value []byte, found bool) {
	if v, ok := w.Own[key]; ok {
		return v, true
	}
	if v, ok := w.Below[key]; ok {
		return v, true
	}
	return nil, false
}

// Put records a write of key (value nil: a deletion); value is kept as
// given.
func (w *Writes) Put(key string, value []byte) {
	if w.Own == nil {
		w.Own = make(map[string][]byte)
	}
	w.Own[key] = value
}

// Clone returns a copy of value that is never nil, so that an empty
// value is not mistaken for a deletion.
func Clone(value []byte) []byte {
	return append(make([]byte, 0, len(value)), value...)
}

// Stored is a store's side of a merged scan: Next returns its next key
// under the prefix, in ascending order, and ok=false after the last.
type Stored interface {
	Next() (key string, value []byte, ok bool, err error)
}

// Scan calls fn for every key with prefix, in ascending order: the
// buffer's keys, as they are when Scan is called, merged with stored's; a
// buffered write wins over the stored key, and a buffered deletion hides
// it. passed, when not nil, is called with every stored key Scan steps
// over, shown or hidden. Scan returns whether fn stopped it, and the last
// key given to fn.
func (w *Writes) Scan(prefix string, stored Stored, fn func(key string, value []byte) bool, passed func(key string)) (stopped bool, last string, err error) {
	var own []string
	for k := range w.Below {
		if strings.HasPrefix(k, prefix) {
			own = append(own, k)
		}
	}
	for k := range w.Own {
		if _, dup := w.Below[k]; !dup && strings.HasPrefix(k, prefix) {
			own = append(own, k)
		}
	}
	slices.Sort(own)
	ownVals := make([][]byte, len(own))
	for i, k := range own {
		ownVals[i], _ = w.Get(k)
	}
	sk, sv, sok, err := stored.Next()
	if err != nil {
		return false, "", err
	}
	advance := func() error {
		if passed != nil {
			passed(sk)
		}
		sk, sv, sok, err = stored.Next()
		return err
	}
	for i := 0; ; {
		var key string
		var value []byte
		switch {
		case i < len(own) && (!sok || own[i] <= sk):
			if sok && own[i] == sk {
				if err := advance(); err != nil {
					return false, "", err
				}
			}
			key, value = own[i], ownVals[i]
			i++
			if value == nil {
				continue // deleted in this batch
			}
		case sok:
			key, value = sk, sv
			if err := advance(); err != nil {
				return false, "", err
			}
		default:
			return false, last, nil
		}
		last = key
		if !fn(key, value) {
			return true, last, nil
		}
	}
}
