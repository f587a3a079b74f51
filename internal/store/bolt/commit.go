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
// batches, so an Update whose context ends while a batch is prepared is
// never run.
//
// It pipelines: while one batch is written and synced to disk (in the
// background), the next batch is gathered and its closures run, over a
// read-only bbolt transaction and the writes of the batch being synced.
// Its own commit (bbolt has one writer at a time) starts only once the
// batch before it is durable and answered, so batches commit, reach the
// watchers and are answered in order, and nothing is answered before
// the writes it read are on disk.
func (s *Store) run() {
	defer close(s.done)
	var prev *flight
	batch.Run(s.reqs, s.quit, s.opts.MaxBatch, func(b []*batch.Request) []*batch.Request {
		prev = s.commit(b, prev)
		return nil
	})
	if prev != nil {
		<-prev.done
	}
}

// flight is a batch being committed in the background.
type flight struct {
	done    chan struct{}     // closed once its requests are answered
	changed map[string][]byte // its writes (nil: deleted), read by the next batch
	err     error             // its commit's failure; read after done
}

// commit runs reqs' closures over the store as it will be once prev (the
// batch before, nil for none) has committed, waits for prev, and then, in
// the background, writes their writes as one durable commit, publishes it
// to watchers and answers every request. If prev failed to commit, the
// closures ran over writes that never happened: they run again in the
// commit's own transaction.
func (s *Store) commit(reqs []*batch.Request, prev *flight) *flight {
	reqs = slices.Clone(reqs) // batch.Run reuses its slice for the next batch
	start := time.Now()
	errs := make([]error, len(reqs))
	var below map[string][]byte
	if prev != nil {
		below = maps.Clone(prev.changed)
	}
	writes, err := s.prepare(reqs, errs, below)
	if prev != nil {
		<-prev.done
		if prev.err != nil {
			writes, err = nil, errRerun
		}
	}
	f := &flight{done: make(chan struct{})}
	f.changed = writes
	if err == errRerun {
		f.changed = nil // unknown until written: the next batch waits for it
	}
	go func() {
		defer close(f.done)
		changes, sync, err := s.write(reqs, errs, writes, err)
		if err == nil && len(changes) > 0 && s.opts.Observer != nil {
			s.opts.Observer.Committed(len(reqs), time.Since(start), sync)
		}
		if err == nil && len(changes) > 0 {
			s.rev++
			s.hub.publish(store.Event{Rev: s.rev, Changes: changes})
		}
		f.err = err
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
	}()
	if f.changed == nil && err == errRerun {
		<-f.done // the next batch must read what this one wrote
		f.changed = map[string][]byte{}
	}
	return f
}

// errRerun is prepare's error when the closures must run again in the
// commit's transaction.
var errRerun = fmt.Errorf("bolt: run the batch again")

// prepare runs each request's closure over a read-only bbolt transaction
// with below (the writes of the batch being committed) and the writes of
// the closures before it laid over it, and returns the writes of those
// that succeed; errs[i] receives request i's own error.
func (s *Store) prepare(reqs []*batch.Request, errs []error, below map[string][]byte) (map[string][]byte, error) {
	rtx, err := s.db.Begin(false)
	if err != nil {
		return nil, errRerun
	}
	defer rtx.Rollback()
	data := rtx.Bucket(dataBucket)
	if below == nil {
		below = map[string][]byte{}
	}
	writes := map[string][]byte{}
	for i, r := range reqs {
		t := &tx{data: data, writes: batch.Writes{Below: below}}
		if errs[i] = t.run(r.Fn); errs[i] != nil {
			continue
		}
		maps.Copy(below, t.writes.Own)
		maps.Copy(writes, t.writes.Own)
	}
	return writes, nil
}

// write stores writes (or, when prepared is errRerun, runs each request's
// closure again in the bbolt read-write transaction, errs[i] receiving
// request i's own error) behind the next revision and commits, returning
// the changes, one per key in key order, and the time bbolt spent writing
// and syncing them to disk. If nothing changed it rolls back and returns
// none.
func (s *Store) write(reqs []*batch.Request, errs []error, writes map[string][]byte, prepared error) (changes []store.Change, sync time.Duration, err error) {
	if s.beforeWrite != nil {
		if err := s.beforeWrite(); err != nil {
			return nil, 0, err
		}
	}
	btx, err := s.db.Begin(true)
	if err != nil {
		return nil, 0, fmt.Errorf("bolt: commit %s: %w", s.db.Path(), err)
	}
	defer btx.Rollback() // a no-op once committed

	data := btx.Bucket(dataBucket)
	changed := make(map[string][]byte)
	if prepared == errRerun {
		for i, r := range reqs {
			t := &tx{data: data}
			if errs[i] = t.run(r.Fn); errs[i] != nil {
				continue
			}
			if err := t.apply(s.rev+1, changed); err != nil {
				return nil, 0, fmt.Errorf("bolt: commit %s: %w", s.db.Path(), err)
			}
		}
	} else {
		t := &tx{data: data, writes: batch.Writes{Own: writes}}
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
