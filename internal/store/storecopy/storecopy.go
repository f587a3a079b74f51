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
	var existing []string
	if _, err := dst.Load(ctx, func(k string, _ []byte) error {
		existing = append(existing, k)
		return nil
	}); err != nil {
		return st, fmt.Errorf("storecopy: read the target: %w", err)
	}
	if len(existing) > 0 && !opts.Force {
		return st, fmt.Errorf("%w: it holds %d keys; copy with force to replace them", ErrTargetNotEmpty, len(existing))
	}
	var all []kv
	seen := make(map[string]bool)
	srcRev, err := src.Load(ctx, func(k string, v []byte) error {
		all = append(all, kv{k, v})
		seen[k] = true
		st.Bytes += len(v)
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("storecopy: read the source: %w", err)
	}
	st.SourceRev = srcRev
	batch := opts.Batch
	if batch <= 0 {
		batch = 100
	}
	if l, ok := dst.(interface{ MaxWrites() int }); ok {
		batch = max(min(batch, l.MaxWrites()), 1)
	}
	var stale []string
	for _, k := range existing {
		if !seen[k] {
			stale = append(stale, k)
		}
	}
	for i := 0; i < len(stale); i += batch {
		part := stale[i:min(i+batch, len(stale))]
		if _, err := dst.Update(ctx, func(tx store.Tx) error {
			for _, k := range part {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return st, fmt.Errorf("storecopy: delete target keys the source lacks: %w", err)
		}
		st.Deleted += len(part)
	}
	for i := 0; i < len(all); i += batch {
		part := all[i:min(i+batch, len(all))]
		if _, err := dst.Update(ctx, func(tx store.Tx) error {
			for _, e := range part {
				if err := tx.Put(e.key, e.value); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return st, fmt.Errorf("storecopy: write keys %d to %d of %d: %w", i+1, i+len(part), len(all), err)
		}
		st.Keys += len(part)
		if opts.Progress != nil {
			opts.Progress(st.Keys, len(all))
		}
	}
	// Read the copy back.
	i := 0
	if _, err := dst.Load(ctx, func(k string, v []byte) error {
		if i >= len(all) || all[i].key != k || !bytes.Equal(all[i].value, v) {
			return fmt.Errorf("storecopy: the target differs from the source at key %q", k)
		}
		i++
		return nil
	}); err != nil {
		return st, err
	}
	if i != len(all) {
		return st, fmt.Errorf("storecopy: the target holds %d keys after the copy; the source %d", i, len(all))
	}
	return st, nil
}
