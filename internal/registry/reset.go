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
	if account == "" {
		var keys []string
		for _, p := range []string{pInstance, pSvcName, pService, pNSName, pDNSName, pNamespace, pOperation, pLock, pIdem} {
			if err := tx.Scan(p, func(k string, _ []byte) bool { keys = append(keys, k); return true }); err != nil {
				return nil, err
			}
		}
		return keys, nil
	}
	var nsIDs, svcIDs []string
	var scanErr error
	ours := map[string]bool{}
	if err := tx.Scan(pNamespace, func(k string, v []byte) bool {
		ns, err := decode[nsRecord](v)
		if err != nil {
			scanErr = err
			return false
		}
		if ns.Account == account {
			nsIDs = append(nsIDs, ns.ID)
			ours[ns.ID] = true
		}
		return true
	}); err != nil {
		return nil, err
	}
	if scanErr != nil {
		return nil, scanErr
	}
	if err := tx.Scan(pService, func(k string, v []byte) bool {
		svc, err := decode[svcRecord](v)
		if err != nil {
			scanErr = err
			return false
		}
		if ours[svc.NamespaceID] {
			svcIDs = append(svcIDs, svc.ID)
		}
		return true
	}); err != nil {
		return nil, err
	}
	if scanErr != nil {
		return nil, scanErr
	}
	var keys []string
	collect := func(prefix string) error {
		return tx.Scan(prefix, func(k string, _ []byte) bool { keys = append(keys, k); return true })
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
	if err := tx.Scan(pOperation, func(k string, v []byte) bool {
		// Only the scope is needed: decode it without the work payload.
		op, err := decode[struct {
			scope
			Lock string `json:"lock,omitempty"`
		}](v)
		if err != nil {
			scanErr = err
			return false
		}
		if op.Account == account {
			keys = append(keys, k)
			if op.Lock != "" {
				keys = append(keys, op.Lock)
			}
		}
		return true
	}); err != nil {
		return nil, err
	}
	if scanErr != nil {
		return nil, scanErr
	}
	if err := collect(pIdem + account + "/"); err != nil {
		return nil, err
	}
	return dedupe(keys), nil
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
