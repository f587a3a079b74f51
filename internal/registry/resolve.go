package registry

import (
	"strings"

	"github.com/cairn-dev/cairn/internal/store"
)

// resolveID accepts a resource ID or its ARN (the model's Arn type) and
// returns the ID, or NotFound when the ARN is not of this kind or not in
// the caller's account and region.
func resolveID(c Caller, kind string, res Resource, idOrARN string) (string, error) {
	if !strings.HasPrefix(idOrARN, "arn:") {
		return idOrARN, nil
	}
	a, ok := parseARN(idOrARN)
	if !ok || a.kind != kind || a.region != c.Region || a.account != c.Account {
		return "", notFound(res, idOrARN)
	}
	return a.id, nil
}

// txNamespace reads a namespace of the caller's, or returns NotFound.
func txNamespace(tx store.Tx, c Caller, idOrARN string) (*nsRecord, error) {
	id, err := resolveID(c, "namespace", ResNamespace, idOrARN)
	if err != nil {
		return nil, err
	}
	ns, err := getRecord[nsRecord](tx, nsKey(id))
	if err != nil {
		return nil, err
	}
	if ns == nil || ns.scope != c.scope() {
		return nil, notFound(ResNamespace, idOrARN)
	}
	return ns, nil
}

// txService reads a service of the caller's, or returns NotFound.
func txService(tx store.Tx, c Caller, idOrARN string) (*svcRecord, error) {
	id, err := resolveID(c, "service", ResService, idOrARN)
	if err != nil {
		return nil, err
	}
	svc, err := getRecord[svcRecord](tx, svcKey(id))
	if err != nil {
		return nil, err
	}
	if svc == nil || svc.scope != c.scope() {
		return nil, notFound(ResService, idOrARN)
	}
	return svc, nil
}

// viewNamespace finds a namespace of the caller's in the view; the view's
// read lock must be held.
func (v *view) namespace(c Caller, idOrARN string) (*nsView, error) {
	id, err := resolveID(c, "namespace", ResNamespace, idOrARN)
	if err != nil {
		return nil, err
	}
	ns := v.namespaces[id]
	if ns == nil || ns.rec.scope != c.scope() {
		return nil, notFound(ResNamespace, idOrARN)
	}
	return ns, nil
}

// service finds a service of the caller's in the view; the view's read
// lock must be held.
func (v *view) service(c Caller, idOrARN string) (*svcView, error) {
	id, err := resolveID(c, "service", ResService, idOrARN)
	if err != nil {
		return nil, err
	}
	svc := v.services[id]
	if svc == nil || svc.rec.scope != c.scope() {
		return nil, notFound(ResService, idOrARN)
	}
	return svc, nil
}
