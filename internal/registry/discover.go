package registry

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

// discoverTarget finds the service a DiscoverInstances call names, by
// namespace HttpName and service name. In DNS namespaces, where service
// names are unique regardless of case, the name also matches in any case.
// The view's read lock must be held.
//
// The caller gave names, not IDs, and AWS's messages say so: DiscoverInstances
// answers "Namespace not found" (as users report it, e.g. external-dns issue
// 5180, aws-otel-collector issue 2784), and in the same words "Service not
// found".
func (v *view) discoverTarget(c Caller, owner, nsName, svcName string) (*svcView, error) {
	if owner == "" {
		owner = c.Account
	}
	ns := v.byHTTPName[scope{Account: owner, Region: c.Region}.String()+"/"+nsName]
	if ns == nil || owner != c.Account && !ns.rec.sharedWith(c.Account) {
		return nil, &Error{Kind: KindNotFound, Resource: ResNamespace, Message: "Namespace not found"}
	}
	svc := ns.byName[svcName]
	if svc == nil && ns.rec.isDNS() {
		svc = ns.byLower[strings.ToLower(svcName)]
	}
	if svc == nil {
		return nil, &Error{Kind: KindNotFound, Resource: ResService, Message: "Service not found"}
	}
	return svc, nil
}

// DiscoverInstances returns a random selection of a service's instances
// that match the query, optional and health filters.
func (r *Registry) DiscoverInstances(ctx context.Context, c Caller, in *cloudmap.DiscoverInstancesRequest) (*cloudmap.DiscoverInstancesResult, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	svc, err := v.discoverTarget(c, in.OwnerAccount, in.NamespaceName, in.ServiceName)
	if err != nil {
		return nil, err
	}
	filter := in.HealthStatus
	if svc.rec.HealthCheckConfig == nil && svc.rec.HealthCheckCustomConfig == nil {
		filter = cloudmap.HealthStatusFilterAll // "ignored for services that don't have a health check"
	} else if filter == "" {
		filter = cloudmap.HealthStatusFilterHealthy // "returns healthy resources by default"
	}
	// The filters and the matches live on the stack while they are few.
	var queryBuf, optionalBuf [4]cloudmap.Attribute
	query, optional := appendPairs(queryBuf[:0], in.QueryParameters), appendPairs(optionalBuf[:0], in.OptionalParameters)
	candidates, rest := svc.list, query
	if len(query) > 0 {
		// The instances with the query's first attribute (by key, so
		// that the same key is indexed whatever the map's order), from
		// the service's index; the other pairs are tested on those.
		slices.SortFunc(query, func(a, b cloudmap.Attribute) int { return strings.Compare(a.Key, b.Key) })
		candidates, rest = svc.withAttr(query[0]), query[1:]
	}
	// Each match keeps the health it was filtered on, so that an
	// instance's health is computed once per query.
	type hit struct {
		inst   *instView
		health string
	}
	var matchedBuf [64]hit
	matched := matchedBuf[:0]
	var healthy []hit
	for _, inst := range candidates {
		if !matches(inst, rest) {
			continue
		}
		h := hit{inst, svc.health(inst)}
		switch filter {
		case cloudmap.HealthStatusFilterHealthy:
			if h.health != cloudmap.HealthStatusHealthy {
				continue
			}
		case cloudmap.HealthStatusFilterUnhealthy:
			if h.health != cloudmap.HealthStatusUnhealthy {
				continue
			}
		case cloudmap.HealthStatusFilterHealthyOrElseAll:
			if h.health == cloudmap.HealthStatusHealthy {
				healthy = append(healthy, h)
			}
		}
		matched = append(matched, h)
	}
	if filter == cloudmap.HealthStatusFilterHealthyOrElseAll && len(healthy) > 0 {
		matched = healthy
	}
	if len(optional) > 0 {
		var narrowed []hit
		for _, h := range matched {
			if matches(h.inst, optional) {
				narrowed = append(narrowed, h)
			}
		}
		if len(narrowed) > 0 {
			matched = narrowed
		}
	}
	n := min(len(matched), maxResults(in.MaxResults, 100))
	for i := 0; i < n; i++ { // a partial Fisher-Yates shuffle: a random n of them, in random order
		j := i + rand.IntN(len(matched)-i)
		matched[i], matched[j] = matched[j], matched[i]
	}
	out := cloudmap.NewDiscoverInstancesResult(n)
	out.InstancesRevision = v.instancesRevision(svc)
	for i, h := range matched[:n] {
		out.Instances[i] = cloudmap.DiscoveredInstance{
			InstanceId: h.inst.id, NamespaceName: svc.ns.rec.HTTPName, ServiceName: svc.rec.Name,
			HealthStatus: h.health, Attributes: h.inst.attrs, AttributesJSON: h.inst.attrsJSON,
		}
	}
	return out, nil
}

// pairs turns a filter map into a list, which is cheaper to test against
// every instance than the map.
func pairs(m map[string]string) []cloudmap.Attribute {
	if len(m) == 0 {
		return nil
	}
	return appendPairs(make([]cloudmap.Attribute, 0, len(m)), m)
}

// appendPairs appends m's pairs to list.
func appendPairs(list []cloudmap.Attribute, m map[string]string) []cloudmap.Attribute {
	for k, v := range m {
		list = append(list, cloudmap.Attribute{Key: k, Value: v})
	}
	return list
}

func matches(inst *instView, want []cloudmap.Attribute) bool {
	for _, w := range want {
		if got, ok := inst.attr(w.Key); !ok || got != w.Value {
			return false
		}
	}
	return true
}

// DiscoverInstancesRevision returns a service's InstancesRevision.
func (r *Registry) DiscoverInstancesRevision(ctx context.Context, c Caller, in *cloudmap.DiscoverInstancesRevisionRequest) (*cloudmap.DiscoverInstancesRevisionResponse, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	svc, err := v.discoverTarget(c, in.OwnerAccount, in.NamespaceName, in.ServiceName)
	if err != nil {
		return nil, err
	}
	rev := v.instancesRevision(svc)
	return &cloudmap.DiscoverInstancesRevisionResponse{InstancesRevision: &rev}, nil
}
