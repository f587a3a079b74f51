package registry

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

// The reads below show what Route 53 holds for Cloud Map: each DNS
// namespace is a hosted zone, and each instance of a service with a
// HealthCheckConfig has a health check. They are plain data; the Route 53
// edge shapes them into record sets and health checks.

// Zone is a DNS namespace seen as the hosted zone Cloud Map creates for it.
type Zone struct {
	HostedZoneID string
	// Name is the namespace's name as created, without the final dot.
	Name         string
	NamespaceID  string
	NamespaceARN string
	Description  string
	Private      bool
	// VPC and Region are a private zone's VPC and the VPC's region (the
	// namespace's region).
	VPC    string
	Region string
	// SOATTL is the SOA record's TTL and negative-caching time.
	SOATTL   uint32
	Services []ZoneService
}

// ZoneService is a service of a namespace with its instances.
type ZoneService struct {
	ID   string
	ARN  string
	Name string
	// DNSConfig is nil for a service without DNS records.
	DNSConfig   *cloudmap.DnsConfig
	HealthCheck *cloudmap.HealthCheckConfig
	// Instances are sorted by ID.
	Instances []ZoneInstance
}

// ZoneInstance is an instance with its attributes and current health:
// HEALTHY or UNHEALTHY, or UNKNOWN for a service without health checks.
type ZoneInstance struct {
	ID         string
	Attributes map[string]string
	Health     string
	// HealthCheckID is the ID of the instance's Route 53-style health
	// check; empty when its service has no HealthCheckConfig.
	HealthCheckID string
}

// HealthCheck is the Route 53-style health check of one instance.
type HealthCheck struct {
	ID       string
	Service  ZoneService // without its Instances
	Instance ZoneInstance
}

// HealthCheckID is the ID of the health check of an instance of a service
// with a HealthCheckConfig: a UUID derived from the service and instance
// IDs, the same on every server and across restarts.
func HealthCheckID(serviceID, instanceID string) string {
	sum := sha256.Sum256([]byte("healthcheck/" + serviceID + "/" + instanceID))
	h := hex.EncodeToString(sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// Zones returns the hosted zones of account's DNS namespaces, in every
// region (Route 53 is global), sorted by hosted zone ID, each with its
// services and instances. Namespaces shared with account are the owner's
// zones, not account's.
func (r *Registry) Zones(account string) []Zone {
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []Zone
	for _, ns := range v.namespaces {
		if ns.rec.Account == account && ns.rec.isDNS() && ns.rec.HostedZoneID != "" {
			out = append(out, ns.zoneOut())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].HostedZoneID < out[j].HostedZoneID })
	return out
}

// HealthChecks returns the health checks of account's instances in every
// region, sorted by ID.
func (r *Registry) HealthChecks(account string) []HealthCheck {
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []HealthCheck
	for _, svc := range v.services {
		if svc.rec.Account != account || svc.rec.HealthCheckConfig == nil {
			continue
		}
		s := svc.serviceOut(false)
		for _, inst := range svc.list {
			out = append(out, HealthCheck{ID: HealthCheckID(svc.rec.ID, inst.id), Service: s, Instance: svc.instanceOut(inst)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// zoneOut copies a DNS namespace's zone. The read lock must be held.
func (ns *nsView) zoneOut() Zone {
	z := Zone{HostedZoneID: ns.rec.HostedZoneID, Name: ns.rec.Name, NamespaceID: ns.rec.ID,
		NamespaceARN: NamespaceARN(ns.rec.Region, ns.rec.Account, ns.rec.ID), Description: ns.rec.Description,
		Private: ns.rec.Type == cloudmap.NamespaceTypeDnsPrivate, VPC: ns.rec.Vpc, Region: ns.rec.Region,
		SOATTL: ns.zone(0).SOATTL}
	for _, svc := range ns.byName {
		z.Services = append(z.Services, svc.serviceOut(true))
	}
	sort.Slice(z.Services, func(i, j int) bool { return z.Services[i].ID < z.Services[j].ID })
	return z
}

// serviceOut copies a service, with its instances when withInstances.
// The read lock must be held.
func (s *svcView) serviceOut(withInstances bool) ZoneService {
	out := ZoneService{ID: s.rec.ID, ARN: ServiceARN(s.rec.Region, s.rec.Account, s.rec.ID), Name: s.rec.Name,
		DNSConfig: s.rec.DNSConfig, HealthCheck: s.rec.HealthCheckConfig}
	if withInstances {
		for _, inst := range s.list {
			out.Instances = append(out.Instances, s.instanceOut(inst))
		}
		sort.Slice(out.Instances, func(i, j int) bool { return out.Instances[i].ID < out.Instances[j].ID })
	}
	return out
}

func (s *svcView) instanceOut(inst *instView) ZoneInstance {
	out := ZoneInstance{ID: inst.id, Attributes: inst.attrMap(), Health: s.health(inst)}
	if s.rec.HealthCheckConfig != nil {
		out.HealthCheckID = HealthCheckID(s.rec.ID, inst.id)
	}
	return out
}
