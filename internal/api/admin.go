package api

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/cairn-dev/cairn/internal/fault"
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

func adminOperations(r *registry.Registry, devMode bool, faults *fault.Set) map[string]operation {
	ops := map[string]operation{
		"Reset": handle(func(ctx context.Context, c registry.Caller, _ *empty) (*empty, error) {
			account := c.Account
			if devMode {
				account = "" // every caller is the one development account: forget everything
			}
			if faults != nil {
				faults.Clear(account, "")
			}
			return &empty{}, r.Reset(ctx, account)
		}),
		"Export": handle(func(ctx context.Context, c registry.Caller, _ *empty) (*registry.State, error) {
			return r.Export(c.Account), nil
		}),
		"Import": handle(func(ctx context.Context, c registry.Caller, in *registry.State) (*empty, error) {
			if err := r.Import(ctx, c.Account, c.Region, in); err != nil {
				var ie *registry.ImportError
				if errors.As(err, &ie) {
					if e, ok := registry.AsError(ie.Err); ok {
						e2 := *e
						// The path first, in brackets, so that cairn import
						// can name the element's line in its file.
						e2.Message = "[" + ie.Path + "] " + ie.What + ": " + e.Message
						return nil, &e2
					}
				}
				return nil, err
			}
			return &empty{}, nil
		}),
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
	for name, op := range faultOperations(r, faults) {
		ops[name] = op
	}
	return ops
}

// motoResetPath is moto's reset endpoint, which moto's decorators call in
// server mode before each test.
const motoResetPath = "/moto-api/reset"

// motoReset serves POST /moto-api/reset as moto does, in development mode
// only: it forgets everything. With credentials it is refused, since it
// carries no signature; the signed CairnAdmin_20261125.Reset resets an
// account there.
func (h *Handler) motoReset(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if !h.cfg.DevMode {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"__type":"AccessDeniedException","message":"POST /moto-api/reset is served in development mode only; `+
			`with --credentials, reset an account with the signed CairnAdmin_20261125.Reset (cairn reset)"}`)
		return
	}
	if req.Method != http.MethodPost {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"Error": "Need to POST to reset Moto"}`)
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(req.Body, MaxBodyBytes))
	if h.cfg.Faults != nil {
		h.cfg.Faults.Clear("", "")
	}
	if err := h.cfg.Registry.Reset(req.Context(), ""); err != nil {
		writeError(w, toWire(err))
		return
	}
	_, _ = io.WriteString(w, `{"status": "ok"}`)
}
