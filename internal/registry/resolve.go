package registry

import (
	"strings"

	"github.com/cairn-dev/cairn/internal/store"
)

// ref is a resource named by ID or by ARN. Resources of the caller's own
// account are named either way; a resource in a namespace another account
// shares with the caller must be named by ARN, as AWS requires.
type ref struct {
	id      string
	arn     bool
	account string // the ARN's account
	text    string // as given, for messages
}

// parseRef reads an ID or an ARN of kind ("namespace" or "service"). An ARN
// of another kind or region names nothing the caller can reach.
func parseRef(c Caller, kind string, res Resource, s string) (ref, error) {
	if !strings.HasPrefix(s, "arn:") {
		return ref{id: s, text: s}, nil
	}
	a, ok := parseARN(s)
	if !ok || a.kind != kind || a.region != c.Region {
		return ref{}, notFound(res, s)
	}
	return ref{id: a.id, arn: true, account: a.account, text: s}, nil
}

// resolveID returns the ID a reference names.
func resolveID(c Caller, kind string, res Resource, idOrARN string) (string, error) {
	r, err := parseRef(c, kind, res, idOrARN)
	return r.id, err
}

// access reports whether c may use, through r, a resource of scope s in
// namespace ns: its own, or one in a namespace shared with it and named by
// ARN.
func access(c Caller, r ref, s scope, ns *nsRecord) bool {
	if s == c.scope() {
		return !r.arn || r.account == c.Account
	}
	return r.arn && r.account == s.Account && s.Region == c.Region && ns != nil && ns.sharedWith(c.Account)
}

// owns reports whether c owns a resource of scope s named by r.
func owns(c Caller, r ref, s scope) bool {
	return s == c.scope() && (!r.arn || r.account == c.Account)
}

// txNamespace reads a namespace the caller may use, or returns NotFound.
func txNamespace(tx store.Tx, c Caller, idOrARN string) (*nsRecord, error) {
	return txNamespaceIf(tx, c, idOrARN, func(r ref, ns *nsRecord) bool { return access(c, r, ns.scope, ns) })
}

// txOwnNamespace reads a namespace the caller owns, or returns NotFound:
// what only the owner may change.
func txOwnNamespace(tx store.Tx, c Caller, idOrARN string) (*nsRecord, error) {
	return txNamespaceIf(tx, c, idOrARN, func(r ref, ns *nsRecord) bool { return owns(c, r, ns.scope) })
}

// txNamespaceIf reads the namespace idOrARN names, or returns NotFound
// when there is none or allowed says the caller may not reach it.
func txNamespaceIf(tx store.Tx, c Caller, idOrARN string, allowed func(ref, *nsRecord) bool) (*nsRecord, error) {
	r, err := parseRef(c, "namespace", ResNamespace, idOrARN)
	if err != nil {
		return nil, err
	}
	ns, err := getRecord[nsRecord](tx, nsKey(r.id))
	if err != nil {
		return nil, err
	}
	if ns == nil || !allowed(r, ns) {
		return nil, notFound(ResNamespace, idOrARN)
	}
	return ns, nil
}

// txService reads a service the caller may use, with its namespace, or
// returns NotFound.
func txService(tx store.Tx, c Caller, idOrARN string) (*svcRecord, error) {
	svc, _, err := txServiceAndNamespace(tx, c, idOrARN)
	return svc, err
}

func txServiceAndNamespace(tx store.Tx, c Caller, idOrARN string) (*svcRecord, *nsRecord, error) {
	return sharedServiceAndNamespace(nil, tx, c, idOrARN)
}

// sharedServiceAndNamespace is txServiceAndNamespace with the records
// decoded through dc (nil: each decoded anew); records from dc are shared
// and must not be changed.
func sharedServiceAndNamespace(dc *decodeCache, tx store.Tx, c Caller, idOrARN string) (*svcRecord, *nsRecord, error) {
	r, err := parseRef(c, "service", ResService, idOrARN)
	if err != nil {
		return nil, nil, err
	}
	svc, err := sharedRecord[svcRecord](dc, tx, svcKey(r.id))
	if err != nil {
		return nil, nil, err
	}
	if svc == nil {
		return nil, nil, notFound(ResService, idOrARN)
	}
	ns, err := sharedRecord[nsRecord](dc, tx, nsKey(svc.NamespaceID))
	if err != nil {
		return nil, nil, err
	}
	if ns == nil || !access(c, r, svc.scope, ns) {
		return nil, nil, notFound(ResService, idOrARN)
	}
	return svc, ns, nil
}

// namespace finds a namespace the caller may use in the view; the view's
// read lock must be held.
func (v *view) namespace(c Caller, idOrARN string) (*nsView, error) {
	r, err := parseRef(c, "namespace", ResNamespace, idOrARN)
	if err != nil {
		return nil, err
	}
	ns := v.namespaces[r.id]
	if ns == nil || !access(c, r, ns.rec.scope, ns.rec) {
		return nil, notFound(ResNamespace, idOrARN)
	}
	return ns, nil
}

// service finds a service the caller may use in the view; the view's read
// lock must be held.
func (v *view) service(c Caller, idOrARN string) (*svcView, error) {
	r, err := parseRef(c, "service", ResService, idOrARN)
	if err != nil {
		return nil, err
	}
	svc := v.services[r.id]
	if svc == nil || !access(c, r, svc.rec.scope, svc.ns.rec) {
		return nil, notFound(ResService, idOrARN)
	}
	return svc, nil
}

// visible reports whether a namespace is listed for c: its own, or shared
// with it, in its region.
func visible(c Caller, ns *nsRecord) bool {
	return ns.scope == c.scope() || ns.Region == c.Region && ns.sharedWith(c.Account)
}
