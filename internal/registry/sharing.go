package registry

import (
	"context"
	"slices"

	"github.com/cairn-dev/cairn/internal/awsid"
	"github.com/cairn-dev/cairn/internal/store"
)

// Sharing stands in for AWS RAM's resource shares of Cloud Map namespaces:
// the owner of a namespace shares it with other accounts of its region,
// which then reach the namespace and its services by ARN, create services
// in it, register instances, and discover with OwnerAccount. Unsharing
// takes that away at once. A namespace shared with an account can't be
// shared on by it.

// ShareNamespace shares a namespace the caller owns with accounts.
func (r *Registry) ShareNamespace(ctx context.Context, c Caller, namespace string, accounts []string) error {
	return r.changeSharing(ctx, c, namespace, accounts, func(ns *nsRecord) {
		for _, a := range accounts {
			if !slices.Contains(ns.SharedWith, a) {
				ns.SharedWith = append(ns.SharedWith, a)
			}
		}
		slices.Sort(ns.SharedWith)
	})
}

// UnshareNamespace stops sharing a namespace the caller owns with accounts.
// Services and instances those accounts created stay, owned by the
// namespace's owner, out of their reach.
func (r *Registry) UnshareNamespace(ctx context.Context, c Caller, namespace string, accounts []string) error {
	return r.changeSharing(ctx, c, namespace, accounts, func(ns *nsRecord) {
		ns.SharedWith = slices.DeleteFunc(ns.SharedWith, func(a string) bool { return slices.Contains(accounts, a) })
		if len(ns.SharedWith) == 0 {
			ns.SharedWith = nil
		}
	})
}

// changeSharing checks the accounts, then applies change to the namespace
// the caller owns and stores it, in one commit.
func (r *Registry) changeSharing(ctx context.Context, c Caller, namespace string, accounts []string, change func(*nsRecord)) error {
	if err := checkAccounts(c, accounts); err != nil {
		return err
	}
	return r.update(ctx, func(tx store.Tx) error {
		ns, err := txOwnNamespace(tx, c, namespace)
		if err != nil {
			return err
		}
		change(ns)
		return putRecord(tx, nsKey(ns.ID), ns)
	})
}

// NamespaceShares lists the accounts a namespace the caller owns is shared
// with.
func (r *Registry) NamespaceShares(ctx context.Context, c Caller, namespace string) ([]string, error) {
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	rf, err := parseRef(c, "namespace", ResNamespace, namespace)
	if err != nil {
		return nil, err
	}
	ns := v.namespaces[rf.id]
	if ns == nil || !owns(c, rf, ns.rec.scope) {
		return nil, notFound(ResNamespace, namespace)
	}
	return append([]string{}, ns.rec.SharedWith...), nil
}

func checkAccounts(c Caller, accounts []string) error {
	if len(accounts) == 0 {
		return invalid("Name at least one account to share with")
	}
	if len(accounts) > 100 {
		return invalid("Share with at most 100 accounts at a time")
	}
	for _, a := range accounts {
		if !awsid.IsAccountID(a) {
			return invalid("The account %q is not a 12-digit account ID", a)
		}
		if a == c.Account {
			return invalid("A namespace can't be shared with its own account %s", a)
		}
	}
	return nil
}
