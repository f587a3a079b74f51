package registry

import "github.com/cairn-dev/cairn/internal/cloudmap"

// Target is what an authorization decision needs to know of the
// namespace and service a request names: their ARNs, names, tags and the
// account that created the service. Fields of what is not known are
// empty. The tag slices are shared with the view and must not be
// modified.
type Target struct {
	NamespaceARN     string
	NamespaceName    string
	NamespaceTags    []cloudmap.Tag
	ServiceARN       string
	ServiceName      string
	ServiceTags      []cloudmap.Tag
	ServiceCreatedBy string
}

// NamespaceTarget describes the namespace idOrARN names, as c would reach
// it; ok is false when c can reach no such namespace.
func (r *Registry) NamespaceTarget(c Caller, idOrARN string) (t Target, ok bool) {
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	ns, err := v.namespace(c, idOrARN)
	if err != nil {
		return Target{}, false
	}
	return namespaceTarget(ns.rec), true
}

// ServiceTarget describes the service idOrARN names and its namespace,
// as c would reach them; ok is false when c can reach no such service.
func (r *Registry) ServiceTarget(c Caller, idOrARN string) (t Target, ok bool) {
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	svc, err := v.service(c, idOrARN)
	if err != nil {
		return Target{}, false
	}
	return serviceTarget(svc), true
}

// DiscoverTarget describes the namespace and service a DiscoverInstances
// call names by HttpName and service name (owner empty for c's own
// account). ok is false when the namespace is not found; a namespace
// found without the service gives a Target without the service.
func (r *Registry) DiscoverTarget(c Caller, owner, nsName, svcName string) (t Target, ok bool) {
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	svc, err := v.discoverTarget(c, owner, nsName, svcName)
	if err == nil {
		return serviceTarget(svc), true
	}
	if owner == "" {
		owner = c.Account
	}
	ns := v.byHTTPName[scope{Account: owner, Region: c.Region}.String()+"/"+nsName]
	if ns == nil || owner != c.Account && !ns.rec.sharedWith(c.Account) {
		return Target{}, false
	}
	return namespaceTarget(ns.rec), true
}

func namespaceTarget(ns *nsRecord) Target {
	return Target{NamespaceARN: NamespaceARN(ns.Region, ns.Account, ns.ID), NamespaceName: ns.Name, NamespaceTags: ns.Tags}
}

func serviceTarget(svc *svcView) Target {
	t := namespaceTarget(svc.ns.rec)
	s := svc.rec
	t.ServiceARN, t.ServiceName, t.ServiceTags, t.ServiceCreatedBy = ServiceARN(s.Region, s.Account, s.ID), s.Name, s.Tags, s.creator()
	return t
}

// ParseResourceARN reads a Cloud Map namespace or service ARN; kind is
// "namespace" or "service".
func ParseResourceARN(arn string) (kind, account, region, id string, ok bool) {
	a, ok := parseARN(arn)
	if !ok || a.kind != "namespace" && a.kind != "service" {
		return "", "", "", "", false
	}
	return a.kind, a.account, a.region, a.id, true
}
