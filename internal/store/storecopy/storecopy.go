// Package storecopy copies the whole key space of one store.Store into
// another, as `cairn migrate` does between the embedded store and etcd.
//
// The source is read with one Load (a consistent snapshot) and written to
// the target in batches of Updates; the copy is then read back and
// compared. Servers must be stopped while a copy runs: writes to the
// source after its Load are not copied. The target's revisions are its
// own; cairn's state does not depend on revision numbers carrying over.
package storecopy

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/cairn-dev/cairn/internal/store"
)

// ErrTargetNotEmpty is returned when the target holds keys and Force is
// not set.
var ErrTargetNotEmpty = errors.New("storecopy: the target store is not empty")

// Options tunes Copy.
type Options struct {
	// Force copies into a target that holds keys: the target ends equal to
	// the source, its keys that the source lacks deleted.
	Force bool
	// Batch is the most keys written per Update; default 100, fewer when
	// the target bounds the writes of one Update (etcd).
	Batch int
	// Progress, when set, is called after each batch with the keys written
	// so far and the total.
	Progress func(done, total int)
}

// Stats says what Copy did.
type Stats struct {
	Keys    int // keys in the source, all now in the target
	Deleted int // target keys the source lacked (with Force)
	Bytes   int // bytes of values copied
	// SourceRev is the source's revision at the snapshot copied.
	SourceRev int64
}

type kv struct {
	key   string
	value []byte
}

// Copy makes dst hold exactly the keys and values of src.
func Copy(ctx context.Context, dst, src store.Store, opts Options) (Stats, error) {
	var st Stats
	existing, err := targetKeys(ctx, dst, opts.Force)
	if err != nil {
		return st, err
	}
	all, srcRev, err := snapshot(ctx, src)
	if err != nil {
		return st, err
	}
	st.SourceRev = srcRev
	for _, e := range all {
		st.Bytes += len(e.value)
	}
	batch := batchSize(dst, opts.Batch)
	stale := missingFrom(all, existing)
	if err := inBatches(ctx, dst, stale, batch, store.Tx.Delete, func(done int) {
		st.Deleted = done
	}); err != nil {
		return st, fmt.Errorf("storecopy: delete target keys the source lacks: %w", err)
	}
	put := func(tx store.Tx, e kv) error { return tx.Put(e.key, e.value) }
	if err := inBatches(ctx, dst, all, batch, put, func(done int) {
		st.Keys = done
		if opts.Progress != nil {
			opts.Progress(done, len(all))
		}
	}); err != nil {
		return st, fmt.Errorf("storecopy: write keys %d to %d of %d: %w", st.Keys+1, st.Keys+min(batch, len(all)-st.Keys), len(all), err)
	}
	return st, verify(ctx, dst, all)
}

// targetKeys lists the keys dst holds, which must be none unless force.
func targetKeys(ctx context.Context, dst store.Store, force bool) ([]string, error) {
	var existing []string
	if _, err := dst.Load(ctx, func(k string, _ []byte) error {
		existing = append(existing, k)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("storecopy: read the target: %w", err)
	}
	if len(existing) > 0 && !force {
		return nil, fmt.Errorf("%w: it holds %d keys; copy with force to replace them", ErrTargetNotEmpty, len(existing))
	}
	return existing, nil
}

// snapshot reads every key and value of src, in key order, and the
// revision they are at.
func snapshot(ctx context.Context, src store.Store) ([]kv, int64, error) {
	var all []kv
	rev, err := src.Load(ctx, func(k string, v []byte) error {
		all = append(all, kv{k, v})
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("storecopy: read the source: %w", err)
	}
	return all, rev, nil
}

// batchSize is the most keys one Update writes: the option (default 100),
// within what the target accepts in one Update.
func batchSize(dst store.Store, opt int) int {
	batch := opt
	if batch <= 0 {
		batch = 100
	}
	if l, ok := dst.(interface{ MaxWrites() int }); ok {
		batch = max(min(batch, l.MaxWrites()), 1)
	}
	return batch
}

// missingFrom lists the keys of existing that all lacks.
func missingFrom(all []kv, existing []string) []string {
	seen := make(map[string]bool, len(all))
	for _, e := range all {
		seen[e.key] = true
	}
	var stale []string
	for _, k := range existing {
		if !seen[k] {
			stale = append(stale, k)
		}
	}
	return stale
}

// inBatches applies write to every item, batch items an Update, and
// reports after each Update how many items are done.
func inBatches[T any](ctx context.Context, dst store.Store, items []T, batch int, write func(store.Tx, T) error, done func(int)) error {
	for i := 0; i < len(items); i += batch {
		part := items[i:min(i+batch, len(items))]
		if _, err := dst.Update(ctx, func(tx store.Tx) error {
			for _, item := range part {
				if err := write(tx, item); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		done(i + len(part))
	}
	return nil
}

// verify reads the copy back: dst must hold exactly all.
func verify(ctx context.Context, dst store.Store, all []kv) error {
	i := 0
	if _, err := dst.Load(ctx, func(k string, v []byte) error {
		if i >= len(all) || all[i].key != k || !bytes.Equal(all[i].value, v) {
			return fmt.Errorf("storecopy: the target differs from the source at key %q", k)
		}
		i++
		return nil
	}); err != nil {
		return err
	}
	if i != len(all) {
		return fmt.Errorf("storecopy: the target holds %d keys after the copy; the source %d", i, len(all))
	}
	return nil
}
