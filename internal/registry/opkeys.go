package registry

import (
	"context"
	"fmt"

	"github.com/cairn-dev/cairn/internal/store"
)

// moveOperationKeys moves the operations stored under the keys old, of
// the earlier layout (op/<id>, which loadView lists), to opKey's
// (op/<time>/<prefix>), a batch of them per commit, each operation's new
// key written and its old one deleted in the same commit. New calls it
// only when the view it loaded found such keys: a store already moved
// costs nothing at start.
//
// The view drops an operation at the deletion of an old key only while
// it has the operation from that key, so that a server following the
// move (etcd) keeps the operation whatever order the commit's changes
// come in. Servers sharing an etcd should run a version that keys
// operations this way (README, Upgrading).
func moveOperationKeys(ctx context.Context, st store.Store, old []string) (moved int, err error) {
	batch := 500 // two writes each
	if l, ok := st.(interface{ MaxWrites() int }); ok {
		batch = max(min(batch, l.MaxWrites()/2), 1)
	}
	for len(old) > 0 {
		n := min(batch, len(old))
		done := 0
		if _, err := st.Update(ctx, func(tx store.Tx) error {
			done = 0
			for _, key := range old[:n] {
				v, ok, err := tx.Get(key)
				if err != nil {
					return err
				}
				if !ok {
					continue // deleted meanwhile
				}
				if err := tx.Put(opKey(opIDFromKey(key)), v); err != nil {
					return err
				}
				if err := tx.Delete(key); err != nil {
					return err
				}
				done++
			}
			return nil
		}); err != nil {
			return moved, fmt.Errorf("registry: move operations to their new keys: %w", err)
		}
		moved += done
		old = old[n:]
	}
	return moved, nil
}
