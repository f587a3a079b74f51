package registry

import (
	"cmp"
	"slices"
	"time"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

// This file is the registry seen from outside any account: what an
// operator's console and the metrics read. Nothing here changes state.

// ScopeCount is how many namespaces, services and instances one account
// holds in one region.
type ScopeCount struct {
	Account, Region                 string
	Namespaces, Services, Instances int
}

// Counts returns the resources of every account and region that holds any,
// ordered by account and region. It reads the view once, under its read
// lock, and costs one pass over the namespaces and services (not the
// instances).
func (r *Registry) Counts() []ScopeCount {
	v := r.currentView()
	v.mu.RLock()
	by := map[scope]*ScopeCount{}
	get := func(s scope) *ScopeCount {
		c := by[s]
		if c == nil {
			c = &ScopeCount{Account: s.Account, Region: s.Region}
			by[s] = c
		}
		return c
	}
	for _, ns := range v.namespaces {
		get(ns.rec.scope).Namespaces++
	}
	for _, svc := range v.services {
		c := get(svc.rec.scope)
		c.Services++
		c.Instances += len(svc.list)
	}
	v.mu.RUnlock()
	out := make([]ScopeCount, 0, len(by))
	for _, c := range by {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b ScopeCount) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region))
	})
	return out
}

// Snapshot is the whole registry at one revision, for reading by an
// operator: every namespace with its services and their instances, and
// every operation kept.
type Snapshot struct {
	Rev        int64
	Namespaces []NamespaceInfo
	Operations []OperationInfo
}

// NamespaceInfo is one namespace as an operator sees it.
type NamespaceInfo struct {
	Account, Region string
	ID, Name, Type  string
	Description     string
	Created         time.Time
	// SharedWith lists the accounts the namespace is shared with.
	SharedWith []string
	Services   []ServiceInfo
}

// ServiceInfo is one service with its instances.
type ServiceInfo struct {
	ID, Name, Type string
	Description    string
	Created        time.Time
	// DNS is the service's DnsConfig, nil in HTTP namespaces.
	DNS *cloudmap.DnsConfig
	// HealthCheck and HealthCheckCustom are its health check settings;
	// at most one is set.
	HealthCheck       *cloudmap.HealthCheckConfig
	HealthCheckCustom bool
	Attributes        map[string]string
	// InstanceCount is how many instances the service has, of which
	// Unhealthy report UNHEALTHY.
	InstanceCount, Unhealthy int
	// Instances lists them, when the snapshot was asked for them.
	Instances []InstanceInfo
}

// InstanceInfo is one instance: its attributes (sorted by key; shared
// with the registry, not to be modified) and the health status discovery
// reports for it now.
type InstanceInfo struct {
	ID         string
	Attributes []cloudmap.Attribute
	Health     string
}

// OperationInfo is one asynchronous operation.
type OperationInfo struct {
	Account, Region string
	ID, Type        string
	Status          string
	ErrorCode       string
	ErrorMessage    string
	Targets         map[string]string
	Created         time.Time
	Updated         time.Time
}

// Snapshot copies the registry's current state, ordered by account,
// region and name (operations newest first), with the instances of the
// services for which withInstances returns true (none when it is nil). It
// holds the view's read lock while copying and computes every instance's
// health: fine once a second for an operator's page, not meant for a hot
// path.
func (r *Registry) Snapshot(withInstances func(serviceID string) bool) Snapshot {
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	snap := Snapshot{Rev: v.rev}
	nsIdx := map[string]int{}
	for _, ns := range v.namespaces {
		rec := ns.rec
		nsIdx[rec.ID] = len(snap.Namespaces)
		snap.Namespaces = append(snap.Namespaces, NamespaceInfo{
			Account: rec.Account, Region: rec.Region, ID: rec.ID, Name: rec.Name, Type: rec.Type,
			Description: rec.Description, Created: time.UnixMilli(rec.CreateDate),
			SharedWith: slices.Clone(rec.SharedWith),
		})
	}
	for _, svc := range v.services {
		i, ok := nsIdx[svc.rec.NamespaceID]
		if !ok {
			continue
		}
		rec := svc.rec
		si := ServiceInfo{
			ID: rec.ID, Name: rec.Name, Type: rec.Type, Description: rec.Description,
			Created: time.UnixMilli(rec.CreateDate), DNS: rec.DNSConfig, HealthCheck: rec.HealthCheckConfig,
			HealthCheckCustom: rec.HealthCheckCustomConfig != nil, Attributes: rec.Attributes,
		}
		si.InstanceCount = len(svc.list)
		copyAll := withInstances != nil && withInstances(rec.ID)
		for _, inst := range svc.list {
			h := svc.health(inst)
			if h == cloudmap.HealthStatusUnhealthy {
				si.Unhealthy++
			}
			if copyAll {
				si.Instances = append(si.Instances, InstanceInfo{ID: inst.id, Attributes: inst.attrs, Health: h})
			}
		}
		slices.SortFunc(si.Instances, func(a, b InstanceInfo) int { return cmp.Compare(a.ID, b.ID) })
		snap.Namespaces[i].Services = append(snap.Namespaces[i].Services, si)
	}
	for i := range snap.Namespaces {
		slices.SortFunc(snap.Namespaces[i].Services, func(a, b ServiceInfo) int {
			return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
		})
	}
	slices.SortFunc(snap.Namespaces, func(a, b NamespaceInfo) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region),
			cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	for _, op := range v.ops.byID {
		sc := op.scope.Value()
		info := OperationInfo{
			Account: sc.Account, Region: sc.Region, ID: op.id, Type: op.typeName(), Status: op.statusName(),
			Targets: map[string]string{}, Created: time.UnixMilli(op.created), Updated: time.UnixMilli(op.updated),
		}
		if op.fail != nil {
			info.ErrorCode, info.ErrorMessage = op.fail.code, op.fail.message
		}
		for _, typ := range []string{cloudmap.OperationTargetTypeNamespace, cloudmap.OperationTargetTypeService, cloudmap.OperationTargetTypeInstance} {
			if id := op.target(typ); id != "" {
				info.Targets[typ] = id
			}
		}
		snap.Operations = append(snap.Operations, info)
	}
	slices.SortFunc(snap.Operations, func(a, b OperationInfo) int {
		return cmp.Or(b.Updated.Compare(a.Updated), cmp.Compare(a.ID, b.ID))
	})
	return snap
}
