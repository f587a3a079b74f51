package registry

import (
	"context"
	"fmt"

	"github.com/cairn-dev/cairn/internal/store"
)

// InstancesRevision without a shared record
//
// A service's InstancesRevision is the revision base (the record kRevBase)
// plus the store revision of the commit of its latest successful
// registration or deregistration, which the view knows from that
// operation's record; or the floor in the service's record, if greater
// (see view.instancesRevision). Store revisions only grow, across
// restarts too, so the value grows at every registration and
// deregistration without any write beyond the instance's and its
// operation's keys. Every server following the store computes the same
// value at the same store revision. The floor keeps the value when the
// operations behind it expire (expireOperations raises it in the same
// commit) and is where a new service starts (the base plus the view's
// revision, so that a service created again under an old name does not
// start below the old one). The base keeps values growing where store
// revisions start again: `cairn migrate` raises it by the source's
// revision (Rebase), and a store written before this scheme (whose
// revisions were clock microseconds) starts it above every floor.

// revisionFloor is where a new service's InstancesRevision starts.
func (r *Registry) revisionFloor() int64 {
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	return v.revBase + v.rev
}

// txRevBase returns the store's revision base, or, when the store has
// none yet, one above the floor of every service.
func txRevBase(tx store.Tx) (base int64, found bool, err error) {
	b, err := getRecord[int64](tx, kRevBase)
	if err != nil || b != nil {
		if b != nil {
			return *b, true, err
		}
		return 0, false, err
	}
	var bad error
	err = tx.Scan(pService, func(_ string, v []byte) bool {
		svc, err := decode[svcRecord](v)
		if err != nil {
			bad = err
			return false
		}
		base = max(base, svc.Revision+1)
		return true
	})
	if err == nil {
		err = bad
	}
	return base, false, err
}

// ensureRevBase records the revision base on a store that has none: a new
// one, or one written before the base existed.
func ensureRevBase(ctx context.Context, st store.Store) error {
	_, err := st.Update(ctx, func(tx store.Tx) error {
		base, found, err := txRevBase(tx)
		if err != nil || found {
			return err
		}
		return putRecord(tx, kRevBase, base)
	})
	if err != nil {
		return fmt.Errorf("registry: revision base: %w", err)
	}
	return nil
}

// Rebase prepares a store that `cairn migrate` has just filled from a
// source whose revision was sourceRev: every InstancesRevision the source
// could show is at most its base plus sourceRev, and the target's
// revisions start again from its own, so the target's base becomes the
// source's plus sourceRev. Run it before any server uses the target.
func Rebase(ctx context.Context, st store.Store, sourceRev int64) error {
	_, err := st.Update(ctx, func(tx store.Tx) error {
		base, _, err := txRevBase(tx)
		if err != nil {
			return err
		}
		return putRecord(tx, kRevBase, base+max(sourceRev, 0))
	})
	if err != nil {
		return fmt.Errorf("registry: rebase revisions: %w", err)
	}
	return nil
}

// foldRevisions raises, in tx, the floor of each service of floors (by ID:
// the store revision of its latest registration or deregistration among
// operations about to be deleted) to what those operations give its
// InstancesRevision, so that they can be deleted in the same transaction
// without any InstancesRevision going back.
func foldRevisions(tx store.Tx, floors map[string]int64) error {
	if len(floors) == 0 {
		return nil
	}
	base, _, err := txRevBase(tx)
	if err != nil {
		return err
	}
	for svcID, rev := range floors {
		svc, err := getRecord[svcRecord](tx, svcKey(svcID))
		if err != nil {
			return err
		}
		if svc == nil || svc.Revision >= base+rev {
			continue
		}
		svc.Revision = base + rev
		if err := putRecord(tx, svcKey(svcID), svc); err != nil {
			return err
		}
	}
	return nil
}
