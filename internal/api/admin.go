package api

import (
	"context"

	"github.com/cairn-dev/cairn/internal/registry"
)

// AdminTargetPrefix is the X-Amz-Target prefix of cairn's own operations,
// which stand in for AWS RAM's sharing of namespaces. They are signed and
// authenticated like every Cloud Map call; only a namespace's owner may
// use them on it.
const AdminTargetPrefix = "CairnAdmin_20261125."

// ShareRequest is the input of ShareNamespace and UnshareNamespace.
type ShareRequest struct {
	// NamespaceId is the namespace's ID or ARN.
	NamespaceId string
	// Accounts are 12-digit account IDs.
	Accounts []string
}

// SharesRequest is the input of ListNamespaceShares.
type SharesRequest struct{ NamespaceId string }

// SharesResponse lists the accounts a namespace is shared with.
type SharesResponse struct{ Accounts []string }

func adminOperations(r *registry.Registry) map[string]operation {
	return map[string]operation{
		"ShareNamespace": handle(func(ctx context.Context, c registry.Caller, in *ShareRequest) (*empty, error) {
			return &empty{}, r.ShareNamespace(ctx, c, in.NamespaceId, in.Accounts)
		}),
		"UnshareNamespace": handle(func(ctx context.Context, c registry.Caller, in *ShareRequest) (*empty, error) {
			return &empty{}, r.UnshareNamespace(ctx, c, in.NamespaceId, in.Accounts)
		}),
		"ListNamespaceShares": handle(func(ctx context.Context, c registry.Caller, in *SharesRequest) (*SharesResponse, error) {
			accounts, err := r.NamespaceShares(ctx, c, in.NamespaceId)
			if err != nil {
				return nil, err
			}
			return &SharesResponse{Accounts: accounts}, nil
		}),
	}
}
