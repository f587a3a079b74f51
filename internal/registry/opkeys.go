package registry

import (
	"context"
	"fmt"

	"github.com/cairn-dev/cairn/internal/store"
)

// moveOperationKeys moves the operations a store keeps under keys of the
// earlier layout (op/<id>) to opKey's (op/<time>/<prefix>), a batch of
// them per commit, each operation's new key written and old one deleted
// in the same commit. New runs at every start, before loading the view;
// once a store holds none of the earlier keys it only reads the
// operations' keys.
//
// The view ignores the deletion of a key that is not its operation's
// opKey, so that a server following the move (etcd) keeps the operation
// whatever order the commit's changes come in. Servers sharing an etcd
// must all run a version that keys operations this way.
func moveOperationKeys(ctx context.Context, st store.Store) (moved int, err error) {
	var old []string
	if _, err := st.Update(ctx, func(tx store.Tx) error {
		old = old[:0]
		return tx.Scan(pOperation, func(key string, _ []byte) bool {
			if id := key[len(pOperation):]; isOpIDForm(id) && opKey(id) != key {
				old = append(old, key)
			}
			return true
		})
	}); err != nil {
		return 0, fmt.Errorf("registry: find operations to move: %w", err)
	}
	batch := 500 // two writes each
	if l, ok := st.(interface{ MaxWrites() int }); ok {
		batch = max(min(batch, l.MaxWrites()/2), 1)
	}
	for len(old) > 0 {
		n := min(batch, len(old))
		if _, err := st.Update(ctx, func(tx store.Tx) error {
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
			}
			return nil
		}); err != nil {
			return moved, fmt.Errorf("registry: move operations to their new keys: %w", err)
		}
		moved += n
		old = old[n:]
	}
	return moved, nil
}
