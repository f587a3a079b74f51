package registry

import (
	"context"
	"fmt"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
)

// namespaceUpdate is the validated effect of an Update*Namespace call.
type namespaceUpdate struct {
	typ, id, token string
	desc           *string
	soaTTL         *int64
	fingerprint    string
}

// UpdateHttpNamespace starts updating an HTTP namespace's description.
func (r *Registry) UpdateHttpNamespace(ctx context.Context, c Caller, in *cloudmap.UpdateHttpNamespaceRequest) (*cloudmap.UpdateHttpNamespaceResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	fp := *in
	fp.UpdaterRequestId = ""
	d := in.Namespace.Description
	id, err := r.updateNamespace(ctx, c, namespaceUpdate{typ: cloudmap.NamespaceTypeHttp, id: in.Id, token: in.UpdaterRequestId,
		desc: &d, fingerprint: fingerprint(fp)})
	if err != nil {
		return nil, err
	}
	return &cloudmap.UpdateHttpNamespaceResponse{OperationId: id}, nil
}

// UpdatePrivateDnsNamespace starts updating a private DNS namespace.
func (r *Registry) UpdatePrivateDnsNamespace(ctx context.Context, c Caller, in *cloudmap.UpdatePrivateDnsNamespaceRequest) (*cloudmap.UpdatePrivateDnsNamespaceResponse, error) {
	id, err := r.updateDNSNamespace(ctx, c, cloudmap.NamespaceTypeDnsPrivate, in)
	if err != nil {
		return nil, err
	}
	return &cloudmap.UpdatePrivateDnsNamespaceResponse{OperationId: id}, nil
}

// UpdatePublicDnsNamespace starts updating a public DNS namespace. Its
// request is the private one's under other type names (the same fields,
// JSON and checks), so it takes the private one's path.
func (r *Registry) UpdatePublicDnsNamespace(ctx context.Context, c Caller, in *cloudmap.UpdatePublicDnsNamespaceRequest) (*cloudmap.UpdatePublicDnsNamespaceResponse, error) {
	id, err := r.updateDNSNamespace(ctx, c, cloudmap.NamespaceTypeDnsPublic, privateUpdate(in))
	if err != nil {
		return nil, err
	}
	return &cloudmap.UpdatePublicDnsNamespaceResponse{OperationId: id}, nil
}

// updateDNSNamespace starts the update of a DNS namespace of type typ,
// private or public: the description when one is given (an empty one
// leaves it as it is), and the SOA's TTL when given.
func (r *Registry) updateDNSNamespace(ctx context.Context, c Caller, typ string, in *cloudmap.UpdatePrivateDnsNamespaceRequest) (string, error) {
	if err := check(in); err != nil {
		return "", err
	}
	fp := *in
	fp.UpdaterRequestId = ""
	u := namespaceUpdate{typ: typ, id: in.Id, token: in.UpdaterRequestId, fingerprint: fingerprint(fp)}
	if d := in.Namespace.Description; d != "" {
		u.desc = &d
	}
	if p := in.Namespace.Properties; p != nil && p.DnsProperties != nil && p.DnsProperties.SOA != nil {
		u.soaTTL = p.DnsProperties.SOA.TTL
	}
	return r.updateNamespace(ctx, c, u)
}

// privateUpdate is a public DNS namespace's update request as the private
// one's type. Both encode to the same JSON, so the fingerprint of a
// request does not depend on which of the two it came as.
func privateUpdate(in *cloudmap.UpdatePublicDnsNamespaceRequest) *cloudmap.UpdatePrivateDnsNamespaceRequest {
	out := &cloudmap.UpdatePrivateDnsNamespaceRequest{Id: in.Id, UpdaterRequestId: in.UpdaterRequestId}
	if ns := in.Namespace; ns != nil {
		out.Namespace = &cloudmap.PrivateDnsNamespaceChange{Description: ns.Description}
		if p := ns.Properties; p != nil {
			out.Namespace.Properties = &cloudmap.PrivateDnsNamespacePropertiesChange{}
			if dp := p.DnsProperties; dp != nil {
				out.Namespace.Properties.DnsProperties = &cloudmap.PrivateDnsPropertiesMutableChange{SOA: dp.SOA}
			}
		}
	}
	return out
}

var updateOpName = map[string]string{
	cloudmap.NamespaceTypeHttp:       "UpdateHttpNamespace",
	cloudmap.NamespaceTypeDnsPrivate: "UpdatePrivateDnsNamespace",
	cloudmap.NamespaceTypeDnsPublic:  "UpdatePublicDnsNamespace",
}

func (r *Registry) updateNamespace(ctx context.Context, c Caller, u namespaceUpdate) (string, error) {
	if u.desc == nil && u.soaTTL == nil {
		return "", invalid("The namespace change must set a Description or Properties.DnsProperties.SOA.TTL")
	}
	start := opStart{fingerprint: u.fingerprint}
	if u.token != "" {
		start.idem = idemKey(c.scope(), "nsupdate", u.token)
		start.conflict = func(store.Tx, *idemRecord) error {
			return invalid("The UpdaterRequestId %s was already used for a different namespace update", u.token)
		}
	}
	start.prepare = func(tx store.Tx) (*opPlan, error) {
		ns, err := txOwnNamespace(tx, c, u.id)
		if err != nil {
			return nil, err
		}
		if ns.Type != u.typ {
			return nil, invalid("The namespace %s is of type %s; update it with %s", ns.ID, ns.Type, updateOpName[ns.Type])
		}
		return &opPlan{typ: cloudmap.OperationTypeUpdateNamespace, targetID: ns.ID, lock: pLock + nsKey(ns.ID),
			targets: map[string]string{cloudmap.OperationTargetTypeNamespace: ns.ID},
			work:    &opWork{NamespaceID: ns.ID, Description: u.desc, SOATTL: u.soaTTL}}, nil
	}
	return r.startOperation(ctx, c, start)
}

func (r *Registry) execUpdateNamespace(tx store.Tx, w *opWork) (*opFailure, error) {
	ns, err := getRecord[nsRecord](tx, nsKey(w.NamespaceID))
	if err != nil {
		return nil, err
	}
	if ns == nil {
		return &opFailure{"INTERNAL_FAILURE", fmt.Sprintf("the namespace %s no longer exists", w.NamespaceID)}, nil
	}
	if w.Description != nil {
		ns.Description = *w.Description
	}
	if w.SOATTL != nil {
		ttl := *w.SOATTL
		ns.SOATTL = &ttl
	}
	return nil, putRecord(tx, nsKey(ns.ID), ns)
}
