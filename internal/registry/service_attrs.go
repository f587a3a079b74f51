package registry

import (
	"context"
	"fmt"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
)

// maxServiceAttributes is AWS's quota of attributes per service.
const maxServiceAttributes = 30

// UpdateServiceAttributes adds or replaces service attributes.
func (r *Registry) UpdateServiceAttributes(ctx context.Context, c Caller, in *cloudmap.UpdateServiceAttributesRequest) (*cloudmap.UpdateServiceAttributesResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	err := r.changeServiceAttributes(ctx, c, in.ServiceId, func(svc *svcRecord) error {
		merged := make(map[string]string, len(svc.Attributes)+len(in.Attributes))
		for k, v := range svc.Attributes {
			merged[k] = v
		}
		for k, v := range in.Attributes {
			merged[k] = v
		}
		if len(merged) > maxServiceAttributes {
			return &Error{Kind: KindAttributesLimit, Message: fmt.Sprintf(
				"A service can have at most %d attributes; this request would leave %d on %s", maxServiceAttributes, len(merged), svc.ID)}
		}
		svc.Attributes = merged
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &cloudmap.UpdateServiceAttributesResponse{}, nil
}

// DeleteServiceAttributes removes service attributes by key; absent keys
// are ignored.
func (r *Registry) DeleteServiceAttributes(ctx context.Context, c Caller, in *cloudmap.DeleteServiceAttributesRequest) (*cloudmap.DeleteServiceAttributesResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	err := r.changeServiceAttributes(ctx, c, in.ServiceId, func(svc *svcRecord) error {
		for _, k := range in.Attributes {
			delete(svc.Attributes, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &cloudmap.DeleteServiceAttributesResponse{}, nil
}

// changeServiceAttributes applies change to a service that the caller may
// change (see mayChangeService) and stores the service, in one commit.
func (r *Registry) changeServiceAttributes(ctx context.Context, c Caller, idOrARN string, change func(*svcRecord) error) error {
	return r.update(ctx, func(tx store.Tx) error {
		svc, err := txService(tx, c, idOrARN)
		if err != nil {
			return err
		}
		if err := mayChangeService(c, svc); err != nil {
			return err
		}
		if err := change(svc); err != nil {
			return err
		}
		return putRecord(tx, svcKey(svc.ID), svc)
	})
}

// GetServiceAttributes returns a service's attributes.
func (r *Registry) GetServiceAttributes(ctx context.Context, c Caller, in *cloudmap.GetServiceAttributesRequest) (*cloudmap.GetServiceAttributesResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	svc, err := v.service(c, in.ServiceId)
	if err != nil {
		return nil, err
	}
	attrs := make(map[string]string, len(svc.rec.Attributes))
	for k, val := range svc.rec.Attributes {
		attrs[k] = val
	}
	return &cloudmap.GetServiceAttributesResponse{ServiceAttributes: &cloudmap.ServiceAttributes{
		ServiceArn: ServiceARN(svc.rec.Region, svc.rec.Account, svc.rec.ID), ResourceOwner: svc.rec.Account, Attributes: attrs,
	}}, nil
}
