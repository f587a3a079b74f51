package registry

import (
	"context"
	"strings"

	"github.com/cairn-dev/cairn/internal/store"
)

// Reset forgets everything of an account, in every region: its
// namespaces with their services (also those other accounts created in
// them) and instances, its operations (finished or in flight), its
// idempotency tokens, its health statuses and the shares it made. What
// the account created in namespaces other accounts shared with it stays:
// it is the owners'. An empty account forgets every account's state (the
// development mode's reset, and moto's /moto-api/reset). The key that
// signs pagination tokens stays, so tokens issued before stay invalid
// only because what they page is gone.
//
// When Reset returns, the view no longer holds anything of the account:
// discovery and DNS answer nothing of the old state. On a store that
// bounds the keys one commit may write (etcd), the reset is committed in
// batches, children before parents, so every commit leaves a consistent
// state; on the embedded store it is one commit.
func (r *Registry) Reset(ctx context.Context, account string) error {
	batch := 0
	if l, ok := r.st.(interface{ MaxWrites() int }); ok {
		batch = max(l.MaxWrites(), 1)
	}
	for {
		more := false
		err := r.update(ctx, func(tx store.Tx) error {
			keys, err := resetKeys(tx, account)
			if err != nil {
				return err
			}
			more = batch > 0 && len(keys) > batch
			if more {
				keys = keys[:batch]
			}
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || !more {
			return err
		}
	}
}

// resetKeys lists the keys a reset of account deletes, children before
// parents: instances, service names and services, namespaces and their
// names, then operations, locks and idempotency records.
func resetKeys(tx store.Tx, account string) ([]string, error) {
	var keys []string
	collect := func(prefix string) error {
		return tx.Scan(prefix, func(k string, _ []byte) bool { keys = append(keys, k); return true })
	}
	if account == "" {
		for _, p := range []string{pInstance, pSvcName, pService, pNSName, pDNSName, pNamespace, pOperation, pLock, pIdem} {
			if err := collect(p); err != nil {
				return nil, err
			}
		}
		return keys, nil
	}
	nsIDs, svcIDs, err := accountResources(tx, account)
	if err != nil {
		return nil, err
	}
	for _, id := range svcIDs {
		if err := collect(instKey(id, "")); err != nil {
			return nil, err
		}
		if err := collect(pLock + instKey(id, "")); err != nil {
			return nil, err
		}
	}
	for _, id := range nsIDs {
		if err := collect(pSvcName + id + "/"); err != nil {
			return nil, err
		}
	}
	for _, id := range svcIDs {
		keys = append(keys, svcKey(id), pLock+svcKey(id))
	}
	for _, id := range nsIDs {
		keys = append(keys, nsKey(id), pLock+nsKey(id))
	}
	if err := collect(pNSName + account + "/"); err != nil {
		return nil, err
	}
	if err := collect(pDNSName + account + "/"); err != nil {
		return nil, err
	}
	// Only an operation's scope and lock are needed: decode them without
	// the work payload.
	type opScope struct {
		scope
		Lock string `json:"lock,omitempty"`
	}
	if err := scanRecords(tx, pOperation, func(k string, op *opScope) {
		if op.Account == account {
			keys = append(keys, k)
			if op.Lock != "" {
				keys = append(keys, op.Lock)
			}
		}
	}); err != nil {
		return nil, err
	}
	if err := collect(pIdem + account + "/"); err != nil {
		return nil, err
	}
	return dedupe(keys), nil
}

// accountResources lists the IDs of account's namespaces and of the
// services in them.
func accountResources(tx store.Tx, account string) (nsIDs, svcIDs []string, err error) {
	ours := map[string]bool{}
	if err := scanRecords(tx, pNamespace, func(_ string, ns *nsRecord) {
		if ns.Account == account {
			nsIDs = append(nsIDs, ns.ID)
			ours[ns.ID] = true
		}
	}); err != nil {
		return nil, nil, err
	}
	err = scanRecords(tx, pService, func(_ string, svc *svcRecord) {
		if ours[svc.NamespaceID] {
			svcIDs = append(svcIDs, svc.ID)
		}
	})
	return nsIDs, svcIDs, err
}

// scanRecords decodes every record under prefix as a T and calls fn with
// it, stopping at the first that does not decode.
func scanRecords[T any](tx store.Tx, prefix string, fn func(k string, rec *T)) error {
	var decodeErr error
	err := tx.Scan(prefix, func(k string, v []byte) bool {
		rec, err := decode[T](v)
		if err != nil {
			decodeErr = err
			return false
		}
		fn(k, rec)
		return true
	})
	if err != nil {
		return err
	}
	return decodeErr
}

// dedupe drops repeated keys, keeping the first of each (a lock may be
// both a resource's and an operation's).
func dedupe(keys []string) []string {
	seen := make(map[string]bool, len(keys))
	out := keys[:0]
	for _, k := range keys {
		if !seen[k] && !strings.HasSuffix(k, "/") {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}
