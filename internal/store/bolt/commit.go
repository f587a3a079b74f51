package bolt

import (
	"fmt"
	"maps"
	"slices"

	"github.com/cairn-dev/cairn/internal/store"
)

// request is one Update call handed to the committer.
type request struct {
	fn   func(store.Tx) error
	done chan result // buffered; receives exactly one result
}

type result struct {
	rev int64
	err error
}

// run is the committer. It takes every request waiting at that moment, up
// to MaxBatch, commits them together, and repeats until Close. Requests are
// taken only between commits, so an Update whose context ends while a
// commit is in progress is never run.
func (s *Store) run() {
	defer close(s.done)
	batch := make([]*request, 0, s.opts.MaxBatch)
	for {
		select {
		case r := <-s.reqs:
			batch = append(batch[:0], r)
		case <-s.quit:
			return
		}
	gather:
		for len(batch) < s.opts.MaxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		s.commit(batch)
		clear(batch)
	}
}

// commit writes batch as one durable commit, publishes it to watchers and
// answers every request in it.
func (s *Store) commit(batch []*request) {
	errs := make([]error, len(batch))
	changes, err := s.write(batch, errs)
	if err == nil && len(changes) > 0 {
		s.rev++
		s.hub.publish(store.Event{Rev: s.rev, Changes: changes})
	}
	for i, r := range batch {
		switch {
		case errs[i] != nil:
			r.done <- result{err: errs[i]}
		case err != nil:
			r.done <- result{err: err}
		default:
			r.done <- result{rev: s.rev}
		}
	}
}

// write runs each request's closure in one bbolt read-write transaction,
// each over its own tx, and keeps the writes of those that succeed; errs[i]
// receives request i's own error. If anything changed it stores the next
// revision and commits, returning the changes, one per key in key order;
// otherwise it rolls back and returns none.
func (s *Store) write(batch []*request, errs []error) ([]store.Change, error) {
	btx, err := s.db.Begin(true)
	if err != nil {
		return nil, fmt.Errorf("bolt: commit %s: %w", s.db.Path(), err)
	}
	defer btx.Rollback() // a no-op once committed

	data := btx.Bucket(dataBucket)
	changed := make(map[string][]byte)
	for i, r := range batch {
		t := &tx{data: data}
		if errs[i] = t.run(r.fn); errs[i] != nil {
			continue
		}
		if err := t.apply(s.rev+1, changed); err != nil {
			return nil, fmt.Errorf("bolt: commit %s: %w", s.db.Path(), err)
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	if err := btx.Bucket(metaBucket).Put(revKey, encodeRev(s.rev+1)); err != nil {
		return nil, fmt.Errorf("bolt: commit %s: %w", s.db.Path(), err)
	}
	if err := btx.Commit(); err != nil {
		return nil, fmt.Errorf("bolt: commit %s: %w", s.db.Path(), err)
	}
	changes := make([]store.Change, 0, len(changed))
	for _, k := range slices.Sorted(maps.Keys(changed)) {
		changes = append(changes, store.Change{Key: k, Value: changed[k]})
	}
	return changes, nil
}
