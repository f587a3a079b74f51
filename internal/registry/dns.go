package registry

import (
	"math/rand/v2"
	"net/netip"
	"strings"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

// DefaultSOATTL is the SOA TTL, in seconds, of a DNS namespace created
// without one: how long resolvers may cache a negative answer. AWS does not
// document its default; a registry's names come and go, so it is short.
const DefaultSOATTL = 15

// maxMultivalue is how many records a MULTIVALUE answer holds at most, as
// Route 53 answers.
const maxMultivalue = 8

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

// DNSRecord is one resource record of an answer. Names are lower case,
// without the final dot.
type DNSRecord struct {
	Name   string
	Type   uint16 // TypeA, TypeAAAA, TypeSRV or TypeCNAME
	TTL    uint32
	Addr   netip.Addr // A, AAAA
	Port   uint16     // SRV
	Target string     // SRV target host, or CNAME target
}

// DNSAnswer is what the registry holds at a name for a query type.
type DNSAnswer struct {
	// Zone is the zone the name is in, or nil when cairn serves no zone
	// that holds it.
	Zone *DNSZone
	// Exists reports whether the name exists in the zone, with records of
	// any type or as an empty non-terminal; an absent name is NXDOMAIN.
	Exists bool
	// Apex reports whether the name is the zone's own name.
	Apex bool
	// Answer holds the records of the asked type (or a CNAME).
	Answer []DNSRecord
	// Extra holds the addresses of SRV targets.
	Extra []DNSRecord

	zone DNSZone // what Zone points to, for LookupDNSInto
}

// LookupDNS answers a query for name (any case, with or without the final
// dot, in DNS presentation format: "\." is a dot inside a label, "\DDD"
// and "\X" stand for one octet) and qtype (TypeA, TypeAAAA, TypeSRV,
// TypeCNAME, TypeANY; other types find no records), following Cloud Map's rules:
// records named <service>.<namespace> from the instances' attributes, per
// the service's DnsConfig and routing policy, and for SRV services an
// A/AAAA record named <instance-id>.<service>.<namespace> per instance.
// Names match label by label, ignoring ASCII case only (RFC 4343).
func (r *Registry) LookupDNS(name string, qtype uint16) DNSAnswer {
	var ans DNSAnswer // on the heap: the copy returned points into it
	r.LookupDNSInto(&ans, name, qtype)
	return ans
}

// LookupDNSInto is LookupDNS writing its answer into ans, whose Answer and
// Extra slices it reuses, for a caller that keeps answers in a pool: it
// then allocates nothing when the lookup finds the records, and ans.Zone
// points into ans.
func (r *Registry) LookupDNSInto(ans *DNSAnswer, name string, qtype uint16) {
	r.LookupDNSFor(ans, name, qtype, nil)
}

// ZoneFilter selects the namespaces a DNS listener answers for, from the
// namespace's type (private or public) and its VPC.
type ZoneFilter func(private bool, vpc string) bool

// LookupDNSFor is LookupDNSInto over the namespaces that answers selects
// (nil: every one): the most specific selected zone that holds the name
// answers, the oldest of a name first.
func (r *Registry) LookupDNSFor(ans *DNSAnswer, name string, qtype uint16, answers ZoneFilter) {
	*ans = DNSAnswer{Answer: ans.Answer[:0], Extra: ans.Extra[:0]}
	name = canonicalName(name)
	if name == "" || name[0] == '.' || strings.Contains(name, "..") {
		return // the root, or an empty label: no name of a zone
	}
	v := r.currentView()
	v.mu.RLock()
	defer v.mu.RUnlock()
	ns, rel := v.zoneOf(name, answers)
	if ns == nil {
		return
	}
	ans.zone = ns.zone(v.rev)
	ans.Zone = &ans.zone
	if rel == "" {
		ans.Exists, ans.Apex = true, true
		return
	}
	if svc := ns.byLower[rel]; svc != nil && svc.rec.DNSConfig != nil {
		svc.answer(ans, name, qtype)
		if ans.Exists {
			return
		}
	}
	// <instance-id>.<service>: the host of an SRV record. Instance IDs
	// may hold dots, so every split is tried; a name that ends an
	// instance's host is an empty non-terminal.
	for i := strings.IndexByte(rel, '.'); i >= 0; i = nextDot(rel, i) {
		svc := ns.byLower[rel[i+1:]]
		if svc == nil || !svc.hasRecord(TypeSRV) {
			continue
		}
		svcName := name[len(rel[:i])+1:]
		label := rel[:i]
		first, more := svc.hostsNamed(label)
		if first != nil && validHost(first.id, svcName) {
			svc.hostAnswer(ans, name, qtype, first)
			if len(ans.Answer) > 0 {
				return
			}
		}
		for _, inst := range more {
			if validHost(inst.id, svcName) {
				svc.hostAnswer(ans, name, qtype, inst)
				if len(ans.Answer) > 0 {
					return
				}
			}
		}
		for _, inst := range svc.ents[label] {
			if validHost(inst.id, svcName) {
				ans.Exists = true
				break
			}
		}
		if ans.Exists {
			return
		}
	}
	// An empty non-terminal: an ancestor of a name that has records.
	suffix := "." + rel
	for lower, svc := range ns.byLower {
		if strings.HasSuffix(lower, suffix) && svc.rec.DNSConfig != nil && svc.exists(lower+"."+ans.Zone.Name) {
			ans.Exists = true
			break
		}
	}
}

// canonicalName turns a name in presentation format into the form the
// registry matches: escapes decoded, ASCII letters in lower case, no final
// dot. An octet that no zone, service or instance name can hold (a dot
// inside a label, a space, a control or non-ASCII octet) becomes NUL, so
// that it matches nothing and never splits a label.
func canonicalName(name string) string {
	clean := true
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '\\' || c < '!' || c > '~' || 'A' <= c && c <= 'Z' {
			clean = false
			break
		}
	}
	if !clean {
		b := make([]byte, 0, len(name))
		for i := 0; i < len(name); i++ {
			c := name[i]
			if c == '\\' && i+1 < len(name) {
				if i+3 < len(name) && isDigit(name[i+1]) && isDigit(name[i+2]) && isDigit(name[i+3]) {
					n := int(name[i+1]-'0')*100 + int(name[i+2]-'0')*10 + int(name[i+3]-'0')
					c, i = byte(n), i+3
					if n > 255 {
						c = 0
					}
				} else {
					c, i = name[i+1], i+1
				}
				if c == '.' {
					c = 0 // a dot inside a label
				}
			}
			switch {
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			case c < '!' || c > '~':
				c = 0
			}
			b = append(b, c)
		}
		name = string(b)
	}
	return strings.TrimSuffix(name, ".")
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// validHost reports whether <id>.<svcName>, an SRV target, is a DNS name:
// every label 1 to 63 octets, 255 octets in all on the wire. Instance IDs
// may be 64 characters and hold empty labels ("a..b", ".x"); such an
// instance can have no SRV record. svcName's own labels are valid.
func validHost(id, svcName string) bool {
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

func nextDot(s string, i int) int {
	j := strings.IndexByte(s[i+1:], '.')
	if j < 0 {
		return -1
	}
	return i + 1 + j
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

func (s *svcView) hasRecord(typ uint16) bool {
	_, ok := s.ttl(typ)
	return ok
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

// eligible reports whether an instance makes a record of type typ at
// name.
func eligible(inst *instView, typ uint16, name string) bool {
	switch typ {
	case TypeA:
		_, ok := inst.attr(AttrIPv4)
		if !ok {
			_, ok = inst.attr(AttrAlias)
		}
		return ok
	case TypeAAAA:
		_, ok := inst.attr(AttrIPv6)
		if !ok {
			_, ok = inst.attr(AttrAlias)
		}
		return ok
	case TypeSRV:
		_, ok := inst.attr(AttrPort)
		return ok && validHost(inst.id, name)
	case TypeCNAME:
		_, ok := inst.attr(AttrCNAME)
		return ok
	}
	return false
}

// pick chooses the instances an answer holds, per the routing policy:
// MULTIVALUE, up to 8 healthy ones (or up to 8 of all when none is
// healthy); WEIGHTED, one healthy one (or one of all), each subset equally
// likely, in random order. Instances without a health check count as
// healthy. The result is buf's.
//
// It first draws from the whole list and keeps the draw if every instance
// drawn is eligible and healthy: the common case, in O(8), and still
// uniform, since each subset of the healthy ones is as likely as any
// other to be drawn. Otherwise it counts the pool and draws positions in
// it.
func (s *svcView) pick(typ uint16, name string, buf *[maxMultivalue]*instView) []*instView {
	weighted := s.rec.DNSConfig.RoutingPolicy == cloudmap.RoutingPolicyWeighted
	limit := maxMultivalue
	if weighted {
		limit = 1
	}
	var drawn [maxMultivalue]int
	k := min(len(s.list), limit)
	out := buf[:k]
	floyd(drawn[:k], len(s.list))
	for i, d := range drawn[:k] {
		inst := s.list[d]
		if !eligible(inst, typ, name) || s.health(inst) == cloudmap.HealthStatusUnhealthy {
			out = nil
			break
		}
		out[i] = inst
	}
	if out == nil {
		all, healthy := 0, 0
		for _, inst := range s.list {
			if eligible(inst, typ, name) {
				all++
				if s.health(inst) != cloudmap.HealthStatusUnhealthy {
					healthy++
				}
			}
		}
		onlyHealthy, pool := healthy > 0, healthy
		if !onlyHealthy {
			pool = all
		}
		k = min(pool, limit)
		out = buf[:k]
		floyd(drawn[:k], pool)
		pos := 0
		for _, inst := range s.list {
			if !eligible(inst, typ, name) || onlyHealthy && s.health(inst) == cloudmap.HealthStatusUnhealthy {
				continue
			}
			for i, d := range drawn[:k] {
				if d == pos {
					out[i] = inst
				}
			}
			pos++
		}
	}
	// Floyd's draw picks a uniform subset but not a uniform order.
	for i := len(out) - 1; i > 0; i-- {
		j := rand.IntN(i + 1)
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// floyd fills drawn with len(drawn) distinct numbers in [0, n), each
// subset equally likely (Floyd's algorithm); len(drawn) <= n.
func floyd(drawn []int, n int) {
	k := len(drawn)
	for i, j := 0, n-k; j < n; i, j = i+1, j+1 {
		d := rand.IntN(j + 1)
		for _, prev := range drawn[:i] {
			if prev == d {
				d = j
				break
			}
		}
		drawn[i] = d
	}
}

// answer fills ans for a query at a service's record name.
func (s *svcView) answer(ans *DNSAnswer, name string, qtype uint16) {
	types := []uint16{qtype}
	switch {
	case s.hasRecord(TypeCNAME):
		types = []uint16{TypeCNAME} // a CNAME answers every type
	case qtype == TypeANY:
		types = []uint16{TypeA, TypeAAAA, TypeSRV}
	}
	var buf [maxMultivalue]*instView
	for _, typ := range types {
		ttl, ok := s.ttl(typ)
		if !ok {
			continue
		}
		picked := s.pick(typ, name, &buf)
		if ans.Answer == nil {
			ans.Answer = make([]DNSRecord, 0, len(picked))
		}
		for _, inst := range picked {
			switch typ {
			case TypeA, TypeAAAA:
				if alias, ok := inst.attr(AttrAlias); ok {
					ans.Answer = append(ans.Answer, DNSRecord{Name: name, Type: TypeCNAME, TTL: ttl, Target: strings.ToLower(strings.TrimSuffix(alias, "."))})
					continue
				}
				ans.Answer = append(ans.Answer, addrRecord(name, typ, ttl, inst))
			case TypeCNAME:
				target, _ := inst.attr(AttrCNAME)
				ans.Answer = append(ans.Answer, DNSRecord{Name: name, Type: TypeCNAME, TTL: ttl, Target: strings.ToLower(strings.TrimSuffix(target, "."))})
			case TypeSRV:
				host := strings.ToLower(inst.id) + "." + name
				ans.Answer = append(ans.Answer, DNSRecord{Name: name, Type: TypeSRV, TTL: ttl, Port: inst.port, Target: host})
				for _, at := range [...]uint16{TypeA, TypeAAAA} {
					if rec, ok := hostRecord(host, at, ttl, inst); ok {
						ans.Extra = append(ans.Extra, rec)
					}
				}
			}
		}
	}
	// Records of the asked type show the name exists; only without them
	// does it take a look at the other types (NODATA or NXDOMAIN).
	ans.Exists = len(ans.Answer) > 0 || s.exists(name)
}

// exists reports whether the service has records at its name, name.
func (s *svcView) exists(name string) bool {
	for _, typ := range [...]uint16{TypeA, TypeAAAA, TypeSRV, TypeCNAME} {
		if s.hasRecord(typ) && s.anyEligible(typ, name) {
			return true
		}
	}
	return false
}

// anyEligible reports whether some instance makes a record of typ at
// name.
func (s *svcView) anyEligible(typ uint16, name string) bool {
	for _, inst := range s.list {
		if eligible(inst, typ, name) {
			return true
		}
	}
	return false
}

// hostAnswer fills ans for a query at an SRV target host,
// <instance-id>.<service>.<namespace>.
func (s *svcView) hostAnswer(ans *DNSAnswer, name string, qtype uint16, inst *instView) {
	ttl, _ := s.ttl(TypeSRV)
	for _, typ := range [...]uint16{TypeA, TypeAAAA} {
		rec, ok := hostRecord(name, typ, ttl, inst)
		if !ok {
			continue
		}
		ans.Exists = true
		if qtype == typ || qtype == TypeANY {
			ans.Answer = append(ans.Answer, rec)
		}
	}
}

func hostRecord(name string, typ uint16, ttl uint32, inst *instView) (DNSRecord, bool) {
	key := AttrIPv4
	if typ == TypeAAAA {
		key = AttrIPv6
	}
	if _, ok := inst.attr(key); !ok {
		return DNSRecord{}, false
	}
	return addrRecord(name, typ, ttl, inst), true
}

func addrRecord(name string, typ uint16, ttl uint32, inst *instView) DNSRecord {
	addr := inst.ipv4
	if typ == TypeAAAA {
		addr = inst.ipv6
	}
	return DNSRecord{Name: name, Type: typ, TTL: ttl, Addr: addr}
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
