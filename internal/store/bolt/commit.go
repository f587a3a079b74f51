package bolt

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/batch"
)

// run is the committer: see batch.Run. Requests are taken only between
// commits, so an Update whose context ends while a commit is in progress
// is never run.
func (s *Store) run() {
	defer close(s.done)
	batch.Run(s.reqs, s.quit, s.opts.MaxBatch, func(b []*batch.Request) []*batch.Request {
		s.commit(b)
		return nil
	})
}

// commit writes batch as one durable commit, publishes it to watchers and
// answers every request in it.
func (s *Store) commit(reqs []*batch.Request) {
	errs := make([]error, len(reqs))
	start := time.Now()
	changes, sync, err := s.write(reqs, errs)
	if err == nil && len(changes) > 0 && s.opts.Observer != nil {
		s.opts.Observer.Committed(len(reqs), time.Since(start), sync)
	}
	if err == nil && len(changes) > 0 {
		s.rev++
		s.hub.publish(store.Event{Rev: s.rev, Changes: changes})
	}
	for i, r := range reqs {
		switch {
		case errs[i] != nil:
			r.Done <- batch.Result{Err: errs[i]}
		case err != nil:
			r.Done <- batch.Result{Err: err}
		default:
			r.Done <- batch.Result{Rev: s.rev}
		}
	}
}

// write runs each request's closure in one bbolt read-write transaction,
// each over its own tx, and keeps the writes of those that succeed; errs[i]
// receives request i's own error. If anything changed it stores the next
// revision and commits, returning the changes, one per key in key order,
// and the time bbolt spent writing and syncing them to disk; otherwise it
// rolls back and returns none.
func (s *Store) write(reqs []*batch.Request, errs []error) (changes []store.Change, sync time.Duration, err error) {
	btx, err := s.db.Begin(true)
	if err != nil {
		return nil, 0, fmt.Errorf("bolt: commit %s: %w", s.db.Path(), err)
	}
	defer btx.Rollback() // a no-op once committed

	data := btx.Bucket(dataBucket)
	changed := make(map[string][]byte)
	for i, r := range reqs {
		t := &tx{data: data}
		if errs[i] = t.run(r.Fn); errs[i] != nil {
			continue
		}
		if err := t.apply(s.rev+1, changed); err != nil {
			return nil, 0, fmt.Errorf("bolt: commit %s: %w", s.db.Path(), err)
		}
	}
	if len(changed) == 0 {
		return nil, 0, nil
	}
	if err := btx.Bucket(metaBucket).Put(revKey, encodeRev(s.rev+1)); err != nil {
		return nil, 0, fmt.Errorf("bolt: commit %s: %w", s.db.Path(), err)
	}
	if err := btx.Commit(); err != nil {
		return nil, 0, fmt.Errorf("bolt: commit %s: %w", s.db.Path(), err)
	}
	stats := btx.Stats()
	sync = stats.GetWriteTime()
	changes = make([]store.Change, 0, len(changed))
	for _, k := range slices.Sorted(maps.Keys(changed)) {
		changes = append(changes, store.Change{Key: k, Value: changed[k]})
	}
	return changes, sync, nil
}
