package registry

import (
	"iter"
	"net/netip"
	"strings"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

// The records API: what internal/dns reads to build DNS answers. The
// registry keeps Cloud Map's state; which records a name has, and how an
// answer is drawn from them, is internal/dns's (lookup.go).

// DefaultSOATTL is the SOA TTL, in seconds, of a DNS namespace created
// without one: how long resolvers may cache a negative answer. AWS does not
// document its default; a registry's names come and go, so it is short.
const DefaultSOATTL = 15

// DNS record and query types, by their IANA numbers: the values of
// miekg/dns's dns.TypeA and the others (the registry does not import it;
// internal/dns's tests check they agree).
const (
	TypeA     uint16 = 1
	TypeCNAME uint16 = 5
	TypeAAAA  uint16 = 28
	TypeSRV   uint16 = 33
	TypeANY   uint16 = 255
)

// recordType is the DnsConfig record type (cloudmap.RecordType) of t.
func recordType(t uint16) string {
	switch t {
	case TypeA:
		return cloudmap.RecordTypeA
	case TypeAAAA:
		return cloudmap.RecordTypeAaaa
	case TypeSRV:
		return cloudmap.RecordTypeSrv
	case TypeCNAME:
		return cloudmap.RecordTypeCname
	}
	return ""
}

// DNSZone is the zone of a DNS namespace.
type DNSZone struct {
	// Name is the zone's name in lower case, without the final dot.
	Name         string
	NamespaceID  string
	HostedZoneID string
	// SOATTL is the SOA record's TTL and negative-caching time.
	SOATTL uint32
	// Serial changes whenever the registry changes.
	Serial uint32
}

// ZoneFilter selects the namespaces a DNS listener answers for, from the
// namespace's type (private or public) and its VPC.
type ZoneFilter func(private bool, vpc string) bool

// DNSView is the registry's state as DNS reads it, at one moment: zones,
// their DNS services, and the instances' record data. ReadDNS holds the
// view's read lock until Release: keep a DNSView for one query, and use
// nothing it returned after Release.
type DNSView struct{ v *view }

// ReadDNS returns the current state for DNS reads; call Release when done.
func (r *Registry) ReadDNS() DNSView {
	v := r.currentView()
	v.mu.RLock()
	return DNSView{v}
}

// Release ends the read.
func (d DNSView) Release() { d.v.mu.RUnlock() }

// ZoneOf finds the DNS namespace, among those answers selects (nil: all),
// whose name is the longest suffix of name (lower case, no final dot; the
// oldest namespace of a name first), and the part of name before it (""
// at the apex).
func (d DNSView) ZoneOf(name string, answers ZoneFilter) (DNSZoneView, string, bool) {
	ns, rel := d.v.zoneOf(name, answers)
	return DNSZoneView{ns, d.v.rev}, rel, ns != nil
}

// DNSZoneView is one DNS namespace of a DNSView.
type DNSZoneView struct {
	ns  *nsView
	rev int64
}

// Zone is the zone's SOA data; its Serial is the view's revision.
func (z DNSZoneView) Zone() DNSZone { return z.ns.zone(z.rev) }

// Service returns the service of DNS records named lower (lower case)
// in the zone.
func (z DNSZoneView) Service(lower string) (DNSService, bool) {
	s := z.ns.byLower[lower]
	if s == nil || s.rec.DNSConfig == nil {
		return DNSService{}, false
	}
	return DNSService{s}, true
}

// Services lists the zone's services of DNS records, by lower-case name,
// in no order.
func (z DNSZoneView) Services() iter.Seq2[string, DNSService] {
	return func(yield func(string, DNSService) bool) {
		for lower, s := range z.ns.byLower {
			if s.rec.DNSConfig != nil && !yield(lower, DNSService{s}) {
				return
			}
		}
	}
}

// DNSService is a service of DNS records.
type DNSService struct{ s *svcView }

// TTL is the TTL of the service's records of type typ, and whether its
// DnsConfig has that type.
func (s DNSService) TTL(typ uint16) (uint32, bool) { return s.s.ttl(typ) }

// Weighted reports whether the routing policy is WEIGHTED (else
// MULTIVALUE).
func (s DNSService) Weighted() bool {
	return s.s.rec.DNSConfig.RoutingPolicy == cloudmap.RoutingPolicyWeighted
}

// Len is the number of instances; Instance(i) is the i-th, in an order
// that stays while the view does.
func (s DNSService) Len() int { return len(s.s.list) }

// Instance is the i-th instance.
func (s DNSService) Instance(i int) DNSInstance { return DNSInstance{s.s.list[i], s.s} }

// Hosts lists the instances whose ID is label (lower case), ignoring
// ASCII case: the instances an SRV target host <label>.<service> names.
func (s DNSService) Hosts(label string) iter.Seq[DNSInstance] {
	return func(yield func(DNSInstance) bool) {
		first, more := s.s.hostsNamed(label)
		if first != nil && !yield(DNSInstance{first, s.s}) {
			return
		}
		for _, inst := range more {
			if !yield(DNSInstance{inst, s.s}) {
				return
			}
		}
	}
}

// Below lists the instances whose ID (lower case) ends in "."+label: the
// SRV target hosts of which <label>.<service> is an ancestor.
func (s DNSService) Below(label string) iter.Seq[DNSInstance] {
	return func(yield func(DNSInstance) bool) {
		for _, inst := range s.s.ents[label] {
			if !yield(DNSInstance{inst, s.s}) {
				return
			}
		}
	}
}

// DNSInstance is an instance of a DNSService, with the data of its
// records parsed.
type DNSInstance struct {
	i *instView
	s *svcView
}

// ID is the instance's ID, as registered.
func (i DNSInstance) ID() string { return i.i.id }

// IPv4 is the address of AWS_INSTANCE_IPV4, and whether it is set.
func (i DNSInstance) IPv4() (netip.Addr, bool) {
	_, ok := i.i.attr(AttrIPv4)
	return i.i.ipv4, ok
}

// IPv6 is the address of AWS_INSTANCE_IPV6, and whether it is set.
func (i DNSInstance) IPv6() (netip.Addr, bool) {
	_, ok := i.i.attr(AttrIPv6)
	return i.i.ipv6, ok
}

// Port is AWS_INSTANCE_PORT, and whether it is set.
func (i DNSInstance) Port() (uint16, bool) {
	_, ok := i.i.attr(AttrPort)
	return i.i.port, ok
}

// Attr is the value of an attribute, and whether it is set.
func (i DNSInstance) Attr(key string) (string, bool) { return i.i.attr(key) }

// Unhealthy reports whether the instance's current health is UNHEALTHY
// (an instance of a service without health checks never is).
func (i DNSInstance) Unhealthy() bool { return i.s.health(i.i) == cloudmap.HealthStatusUnhealthy }

// ValidHost reports whether <id>.<svcName>, an SRV target, is a DNS name:
// every label 1 to 63 octets, 255 octets in all on the wire. Instance IDs
// may be 64 characters and hold empty labels ("a..b", ".x"); such an
// instance can have no SRV record. svcName's own labels are valid.
func ValidHost(id, svcName string) bool {
	if len(id)+1+len(svcName) > 253 {
		return false
	}
	start := 0
	for i := 0; i <= len(id); i++ {
		if i == len(id) || id[i] == '.' {
			if n := i - start; n == 0 || n > 63 {
				return false
			}
			start = i + 1
		}
	}
	return true
}

// zoneOf finds the DNS namespace, among those answers selects (nil: all),
// whose name is the longest suffix of name, and the part of name before it
// ("" at the apex). The read lock must be
// held.
func (v *view) zoneOf(name string, answers ZoneFilter) (*nsView, string) {
	for rest := name; ; {
		for _, ns := range v.zones[rest] {
			if answers == nil || answers(ns.rec.Type == cloudmap.NamespaceTypeDnsPrivate, ns.rec.Vpc) {
				rel := strings.TrimSuffix(strings.TrimSuffix(name, rest), ".")
				return ns, rel
			}
		}
		i := strings.IndexByte(rest, '.')
		if i < 0 {
			return nil, ""
		}
		rest = rest[i+1:]
	}
}

func (ns *nsView) zone(rev int64) DNSZone {
	ttl := uint32(DefaultSOATTL)
	if ns.rec.SOATTL != nil {
		ttl = uint32(*ns.rec.SOATTL)
	}
	return DNSZone{Name: zoneKey(ns.rec.Name), NamespaceID: ns.rec.ID, HostedZoneID: ns.rec.HostedZoneID, SOATTL: ttl, Serial: uint32(rev)}
}

func (s *svcView) ttl(typ uint16) (uint32, bool) {
	if s.rec.DNSConfig == nil {
		return 0, false
	}
	name := recordType(typ)
	for _, rec := range s.rec.DNSConfig.DnsRecords {
		if rec.Type == name {
			if rec.TTL == nil {
				return 0, true
			}
			return uint32(*rec.TTL), true
		}
	}
	return 0, false
}

// dnsData parses the attributes DNS records carry, once, when the view
// takes the instance in: addresses and ports were validated at
// registration.
func (i *instView) dnsData() {
	if s, ok := i.attr(AttrIPv4); ok {
		i.ipv4, _ = netip.ParseAddr(s)
	}
	if s, ok := i.attr(AttrIPv6); ok {
		i.ipv6, _ = netip.ParseAddr(s)
	}
	if s, ok := i.attr(AttrPort); ok {
		i.port = parsePort(s)
	}
}

func parsePort(s string) uint16 {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return uint16(n)
}
