package dns

import (
	"math/rand/v2"
	"net/netip"
	"strings"

	"github.com/cairn-dev/cairn/internal/registry"
)

// Which records a name holds, from Cloud Map's state (registry.DNSView):
// records named <service>.<namespace> from the instances' attributes, per
// the service's DnsConfig and routing policy, and for SRV services an
// A/AAAA record named <instance-id>.<service>.<namespace> per instance.

// maxMultivalue is how many records a MULTIVALUE answer holds at most, as
// Route 53 answers.
const maxMultivalue = 8

// record is one resource record of an answer. Names are lower case,
// without the final dot.
type record struct {
	Name   string
	Type   uint16 // registry.TypeA, TypeAAAA, TypeSRV or TypeCNAME
	TTL    uint32
	Addr   netip.Addr // A, AAAA
	Port   uint16     // SRV
	Target string     // SRV target host, or CNAME target
}

// lookup is what the registry holds at a name for a query type.
type lookup struct {
	// Zone is the zone the name is in, or nil when cairn serves no zone
	// that holds it.
	Zone *registry.DNSZone
	// Exists reports whether the name exists in the zone, with records of
	// any type or as an empty non-terminal; an absent name is NXDOMAIN.
	Exists bool
	// Apex reports whether the name is the zone's own name.
	Apex bool
	// Answer holds the records of the asked type (or a CNAME).
	Answer []record
	// Extra holds the addresses of SRV targets.
	Extra []record

	zone registry.DNSZone // what Zone points to
}

// lookupDNS answers a query for name (any case, with or without the final
// dot, in DNS presentation format: "\." is a dot inside a label, "\DDD"
// and "\X" stand for one octet) and qtype (other types than A, AAAA, SRV,
// CNAME and ANY find no records), over the namespaces answers selects
// (nil: every one): the most specific selected zone that holds the name
// answers, the oldest of a name first. Names match label by label,
// ignoring ASCII case only (RFC 4343). It writes into ans, whose Answer
// and Extra slices it reuses, and allocates nothing when it finds the
// records; ans.Zone points into ans.
func lookupDNS(reg *registry.Registry, ans *lookup, name string, qtype uint16, answers registry.ZoneFilter) {
	*ans = lookup{Answer: ans.Answer[:0], Extra: ans.Extra[:0]}
	name = canonicalName(name)
	if name == "" || name[0] == '.' || strings.Contains(name, "..") {
		return // the root, or an empty label: no name of a zone
	}
	d := reg.ReadDNS()
	defer d.Release()
	z, rel, ok := d.ZoneOf(name, answers)
	if !ok {
		return
	}
	ans.zone = z.Zone()
	ans.Zone = &ans.zone
	if rel == "" {
		ans.Exists, ans.Apex = true, true
		return
	}
	if svc, ok := z.Service(rel); ok {
		serviceAnswer(ans, svc, name, qtype)
		if ans.Exists {
			return
		}
	}
	if hostLookup(ans, z, name, rel, qtype) {
		return
	}
	// An empty non-terminal: an ancestor of a name that has records.
	suffix := "." + rel
	for lower, svc := range z.Services() {
		if strings.HasSuffix(lower, suffix) && exists(svc, lower+"."+ans.Zone.Name) {
			ans.Exists = true
			break
		}
	}
}

// hostLookup fills ans for a name of the form <instance-id>.<service>
// (rel, relative to the zone): the host of an SRV record. Instance IDs may
// hold dots, so every split is tried; a name that ends an instance's host
// is an empty non-terminal. It reports whether the name was found.
func hostLookup(ans *lookup, z registry.DNSZoneView, name, rel string, qtype uint16) bool {
	for i := strings.IndexByte(rel, '.'); i >= 0; i = nextDot(rel, i) {
		svc, ok := z.Service(rel[i+1:])
		if !ok {
			continue
		}
		if _, ok := svc.TTL(registry.TypeSRV); !ok {
			continue
		}
		svcName := name[len(rel[:i])+1:]
		label := rel[:i]
		for inst := range svc.Hosts(label) {
			if registry.ValidHost(inst.ID(), svcName) {
				hostAnswer(ans, svc, name, qtype, inst)
				if len(ans.Answer) > 0 {
					return true
				}
			}
		}
		for inst := range svc.Below(label) {
			if registry.ValidHost(inst.ID(), svcName) {
				ans.Exists = true
				break
			}
		}
		if ans.Exists {
			return true
		}
	}
	return false
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

func nextDot(s string, i int) int {
	j := strings.IndexByte(s[i+1:], '.')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// eligible reports whether an instance makes a record of type typ at
// name.
func eligible(inst registry.DNSInstance, typ uint16, name string) bool {
	switch typ {
	case registry.TypeA:
		_, ok := inst.IPv4()
		if !ok {
			_, ok = inst.Attr(registry.AttrAlias)
		}
		return ok
	case registry.TypeAAAA:
		_, ok := inst.IPv6()
		if !ok {
			_, ok = inst.Attr(registry.AttrAlias)
		}
		return ok
	case registry.TypeSRV:
		_, ok := inst.Port()
		return ok && registry.ValidHost(inst.ID(), name)
	case registry.TypeCNAME:
		_, ok := inst.Attr(registry.AttrCNAME)
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
func pick(s registry.DNSService, typ uint16, name string, buf *[maxMultivalue]registry.DNSInstance) []registry.DNSInstance {
	limit := maxMultivalue
	if s.Weighted() {
		limit = 1
	}
	var drawn [maxMultivalue]int
	n := s.Len()
	k := min(n, limit)
	out := buf[:k]
	floyd(drawn[:k], n)
	for i, d := range drawn[:k] {
		inst := s.Instance(d)
		if !eligible(inst, typ, name) || inst.Unhealthy() {
			out = nil
			break
		}
		out[i] = inst
	}
	if out == nil {
		out = pickFiltered(s, typ, name, limit, buf)
	}
	// Floyd's draw picks a uniform subset but not a uniform order.
	for i := len(out) - 1; i > 0; i-- {
		j := rand.IntN(i + 1)
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// pickFiltered is pick's draw when the whole list's was not: it counts
// the eligible instances, healthy ones apart, and draws positions among
// the healthy ones (all eligible ones when none is).
func pickFiltered(s registry.DNSService, typ uint16, name string, limit int, buf *[maxMultivalue]registry.DNSInstance) []registry.DNSInstance {
	all, healthy := 0, 0
	for i := range s.Len() {
		if inst := s.Instance(i); eligible(inst, typ, name) {
			all++
			if !inst.Unhealthy() {
				healthy++
			}
		}
	}
	onlyHealthy, pool := healthy > 0, healthy
	if !onlyHealthy {
		pool = all
	}
	var drawn [maxMultivalue]int
	k := min(pool, limit)
	out := buf[:k]
	floyd(drawn[:k], pool)
	pos := 0
	for i := range s.Len() {
		inst := s.Instance(i)
		if !eligible(inst, typ, name) || onlyHealthy && inst.Unhealthy() {
			continue
		}
		for i, d := range drawn[:k] {
			if d == pos {
				out[i] = inst
			}
		}
		pos++
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

// serviceAnswer fills ans for a query at a service's record name.
func serviceAnswer(ans *lookup, s registry.DNSService, name string, qtype uint16) {
	types := []uint16{qtype}
	switch {
	case hasRecord(s, registry.TypeCNAME):
		types = []uint16{registry.TypeCNAME} // a CNAME answers every type
	case qtype == registry.TypeANY:
		types = []uint16{registry.TypeA, registry.TypeAAAA, registry.TypeSRV}
	}
	var buf [maxMultivalue]registry.DNSInstance
	for _, typ := range types {
		ttl, ok := s.TTL(typ)
		if !ok {
			continue
		}
		picked := pick(s, typ, name, &buf)
		if ans.Answer == nil {
			ans.Answer = make([]record, 0, len(picked))
		}
		for _, inst := range picked {
			switch typ {
			case registry.TypeA, registry.TypeAAAA:
				if alias, ok := inst.Attr(registry.AttrAlias); ok {
					ans.Answer = append(ans.Answer, record{Name: name, Type: registry.TypeCNAME, TTL: ttl, Target: strings.ToLower(strings.TrimSuffix(alias, "."))})
					continue
				}
				ans.Answer = append(ans.Answer, addrRecord(name, typ, ttl, inst))
			case registry.TypeCNAME:
				target, _ := inst.Attr(registry.AttrCNAME)
				ans.Answer = append(ans.Answer, record{Name: name, Type: registry.TypeCNAME, TTL: ttl, Target: strings.ToLower(strings.TrimSuffix(target, "."))})
			case registry.TypeSRV:
				port, _ := inst.Port()
				host := strings.ToLower(inst.ID()) + "." + name
				ans.Answer = append(ans.Answer, record{Name: name, Type: registry.TypeSRV, TTL: ttl, Port: port, Target: host})
				for _, at := range [...]uint16{registry.TypeA, registry.TypeAAAA} {
					if rec, ok := hostRecord(host, at, ttl, inst); ok {
						ans.Extra = append(ans.Extra, rec)
					}
				}
			}
		}
	}
	// Records of the asked type show the name exists; only without them
	// does it take a look at the other types (NODATA or NXDOMAIN).
	ans.Exists = len(ans.Answer) > 0 || exists(s, name)
}

func hasRecord(s registry.DNSService, typ uint16) bool {
	_, ok := s.TTL(typ)
	return ok
}

// exists reports whether the service has records at its name, name.
func exists(s registry.DNSService, name string) bool {
	for _, typ := range [...]uint16{registry.TypeA, registry.TypeAAAA, registry.TypeSRV, registry.TypeCNAME} {
		if hasRecord(s, typ) && anyEligible(s, typ, name) {
			return true
		}
	}
	return false
}

// anyEligible reports whether some instance makes a record of typ at
// name.
func anyEligible(s registry.DNSService, typ uint16, name string) bool {
	for i := range s.Len() {
		if eligible(s.Instance(i), typ, name) {
			return true
		}
	}
	return false
}

// hostAnswer fills ans for a query at an SRV target host,
// <instance-id>.<service>.<namespace>.
func hostAnswer(ans *lookup, s registry.DNSService, name string, qtype uint16, inst registry.DNSInstance) {
	ttl, _ := s.TTL(registry.TypeSRV)
	for _, typ := range [...]uint16{registry.TypeA, registry.TypeAAAA} {
		rec, ok := hostRecord(name, typ, ttl, inst)
		if !ok {
			continue
		}
		ans.Exists = true
		if qtype == typ || qtype == registry.TypeANY {
			ans.Answer = append(ans.Answer, rec)
		}
	}
}

// hostRecord is the A or AAAA record (typ) of an SRV target host, when
// the instance has that address.
func hostRecord(name string, typ uint16, ttl uint32, inst registry.DNSInstance) (record, bool) {
	if _, ok := address(inst, typ); !ok {
		return record{}, false
	}
	return addrRecord(name, typ, ttl, inst), true
}

func addrRecord(name string, typ uint16, ttl uint32, inst registry.DNSInstance) record {
	addr, _ := address(inst, typ)
	return record{Name: name, Type: typ, TTL: ttl, Addr: addr}
}

// address is the instance's IPv4 address for A, IPv6 for AAAA.
func address(inst registry.DNSInstance, typ uint16) (netip.Addr, bool) {
	if typ == registry.TypeAAAA {
		return inst.IPv6()
	}
	return inst.IPv4()
}
