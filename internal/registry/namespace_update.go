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
	if err := check(in); err != nil {
		return nil, err
	}
	var soa *cloudmap.SOAChange
	if p := in.Namespace.Properties; p != nil && p.DnsProperties != nil {
		soa = p.DnsProperties.SOA
	}
	fp := *in
	fp.UpdaterRequestId = ""
	id, err := r.updateNamespace(ctx, c, dnsNamespaceUpdate(cloudmap.NamespaceTypeDnsPrivate, in.Id, in.UpdaterRequestId,
		in.Namespace.Description, soa, fingerprint(fp)))
	if err != nil {
		return nil, err
	}
	return &cloudmap.UpdatePrivateDnsNamespaceResponse{OperationId: id}, nil
}

// UpdatePublicDnsNamespace starts updating a public DNS namespace.
func (r *Registry) UpdatePublicDnsNamespace(ctx context.Context, c Caller, in *cloudmap.UpdatePublicDnsNamespaceRequest) (*cloudmap.UpdatePublicDnsNamespaceResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	var soa *cloudmap.SOAChange
	if p := in.Namespace.Properties; p != nil && p.DnsProperties != nil {
		soa = p.DnsProperties.SOA
	}
	fp := *in
	fp.UpdaterRequestId = ""
	id, err := r.updateNamespace(ctx, c, dnsNamespaceUpdate(cloudmap.NamespaceTypeDnsPublic, in.Id, in.UpdaterRequestId,
		in.Namespace.Description, soa, fingerprint(fp)))
	if err != nil {
		return nil, err
	}
	return &cloudmap.UpdatePublicDnsNamespaceResponse{OperationId: id}, nil
}

// dnsNamespaceUpdate is the update of a DNS namespace, private or public
// (their requests differ only in type names): the description when one is
// given (an empty one leaves it as it is), and the SOA's TTL when given.
func dnsNamespaceUpdate(typ, id, token, desc string, soa *cloudmap.SOAChange, fingerprint string) namespaceUpdate {
	u := namespaceUpdate{typ: typ, id: id, token: token, fingerprint: fingerprint}
	if desc != "" {
		u.desc = &desc
	}
	if soa != nil {
		u.soaTTL = soa.TTL
	}
	return u
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
