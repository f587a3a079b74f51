package bolt

import (
	"errors"
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
	n       int               // its requests
}

// writesPerRequest is how many keys an Update is expected to write, to
// size a batch's maps (a registration writes three).
const writesPerRequest = 4

// commit runs reqs' closures over the store as it will be once prev (the
// batch before, nil for none) has committed; until prev is durable, it
// takes the requests that arrive meanwhile into the batch too and runs
// theirs (so that a batch gathers while the one before syncs, and groups
// as many writes per sync as before); then, in the background, it writes
// their writes as one durable commit, publishes it to watchers and
// answers every request. If prev failed to commit, the closures ran over
// writes that never happened: they run again in the commit's own
// transaction.
func (s *Store) commit(reqs []*batch.Request, prev *flight) *flight {
	reqs = slices.Clone(reqs) // batch.Run reuses its slice for the next batch
	start := time.Now()
	// The map is sized for a batch like the one before (requests keep
	// arriving while it syncs) of a few writes each, so that it does not
	// grow one doubling at a time as closures run.
	hint := len(reqs)
	if prev != nil {
		hint = max(hint, prev.n)
	}
	hint *= writesPerRequest
	p := &prepared{writes: make(map[string][]byte, hint)}
	if prev != nil {
		p.prev = prev.changed
	}
	err := s.prepare(p, reqs)
	if prev != nil {
	gather:
		for err == nil && len(reqs) < s.opts.MaxBatch {
			select {
			case <-prev.done:
				break gather
			case r := <-s.reqs:
				more := []*batch.Request{r}
			drain:
				for len(reqs)+len(more) < s.opts.MaxBatch {
					select {
					case r := <-s.reqs:
						more = append(more, r)
					default:
						break drain
					}
				}
				err = s.prepare(p, more)
				reqs = append(reqs, more...)
			}
		}
		<-prev.done
		if prev.err != nil {
			err = errRerun
		}
	}
	writes, errs := p.writes, p.errs
	if err != nil {
		writes, errs = nil, make([]error, len(reqs))
	}
	f := &flight{done: make(chan struct{}), changed: writes, n: len(reqs)}
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
	if writes == nil {
		<-f.done // the next batch must read what this one wrote
		f.changed = map[string][]byte{}
	}
	return f
}

// errRerun is prepare's error when the closures must run again in the
// commit's transaction.
var errRerun = errors.New("bolt: run the batch again")

// prepared is a batch whose closures ran before its commit: the writes of
// those that succeeded, each request's own error (by index), and prev,
// the previous batch's writes, which its closures read through.
type prepared struct {
	writes, prev map[string][]byte
	errs         []error
}

// prepare runs each request's closure over a read-only bbolt transaction
// with p.prev and then p.writes laid over it, and adds its writes to p.
// The transaction ends before prepare returns: a commit growing the file
// waits for every read transaction to end.
func (s *Store) prepare(p *prepared, reqs []*batch.Request) error {
	rtx, err := s.db.Begin(false)
	if err != nil {
		return errRerun
	}
	defer rtx.Rollback()
	data := rtx.Bucket(dataBucket)
	cur := data.Cursor()
	for _, r := range reqs {
		t := &tx{data: data, cur: cur, prev: p.prev, writes: batch.Writes{Below: p.writes}}
		err := t.run(r.Fn)
		p.errs = append(p.errs, err)
		if err == nil {
			maps.Copy(p.writes, t.writes.Own)
		}
	}
	return nil
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
