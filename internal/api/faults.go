package api

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/internal/fault"
	"github.com/cairn-dev/cairn/internal/registry"
)

// injectFault applies the faults that fire for one request of operation
// op: it waits their latency, then returns their error, if any.
func (h *Handler) injectFault(ctx context.Context, op, account string, body []byte) *wireError {
	var ids struct{ ServiceId, NamespaceId, Id string }
	_ = json.Unmarshal(body, &ids) // a malformed body is the operation's to refuse
	switch {
	case strings.HasSuffix(op, "Service") && ids.ServiceId == "":
		ids.ServiceId = ids.Id
	case strings.HasSuffix(op, "Namespace") && ids.NamespaceId == "":
		ids.NamespaceId = ids.Id
	}
	hit, ok := h.cfg.Faults.Match(fault.Request{Account: account, Operation: op, ServiceID: ids.ServiceId, NamespaceID: ids.NamespaceId})
	if !ok {
		return nil
	}
	if hit.Latency > 0 {
		t := time.NewTimer(hit.Latency)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if hit.Error == "" {
		return nil
	}
	return &wireError{status: hit.Status, Type: hit.Error, lowerMessage: hit.Error == "ThrottlingException",
		Message: "Injected fault: " + op + " answers " + hit.Error + " (cairn fault add)"}
}

// FaultsResponse lists the caller's faults.
type FaultsResponse struct{ Faults []fault.Fault }

// AddFaultResponse names the fault added.
type AddFaultResponse struct{ Id string }

// ClearFaultsRequest names the fault to remove; empty removes every fault
// of the caller.
type ClearFaultsRequest struct{ Id string }

// ClearFaultsResponse says how many faults were removed.
type ClearFaultsResponse struct{ Cleared int }

// ForceHealthRequest forces an instance's health status for a while.
type ForceHealthRequest struct {
	ServiceId, InstanceId string
	// Status is HEALTHY or UNHEALTHY.
	Status string
	// Duration is how long (a Go duration such as 30s); "0s" ends a
	// forced status.
	Duration string
}

func faultOperations(r *registry.Registry, faults *fault.Set) map[string]operation {
	if faults == nil {
		return nil
	}
	return map[string]operation{
		"AddFault": handle(func(ctx context.Context, c registry.Caller, in *fault.Fault) (*AddFaultResponse, error) {
			id, err := faults.Add(c.Account, *in)
			if err != nil {
				return nil, &registry.Error{Kind: registry.KindInvalid, Message: err.Error()}
			}
			return &AddFaultResponse{Id: id}, nil
		}),
		"ListFaults": handle(func(ctx context.Context, c registry.Caller, _ *empty) (*FaultsResponse, error) {
			return &FaultsResponse{Faults: append([]fault.Fault{}, faults.List(c.Account)...)}, nil
		}),
		"ClearFaults": handle(func(ctx context.Context, c registry.Caller, in *ClearFaultsRequest) (*ClearFaultsResponse, error) {
			return &ClearFaultsResponse{Cleared: faults.Clear(c.Account, in.Id)}, nil
		}),
		"ForceHealth": handle(func(ctx context.Context, c registry.Caller, in *ForceHealthRequest) (*empty, error) {
			d, err := time.ParseDuration(in.Duration)
			if err != nil {
				return nil, &registry.Error{Kind: registry.KindInvalid, Message: "The duration " + in.Duration + " is not a duration such as 30s"}
			}
			return &empty{}, r.ForceHealth(ctx, c, in.ServiceId, in.InstanceId, in.Status, d)
		}),
	}
}
