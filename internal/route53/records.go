package route53

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/registry"
)

// The records of a zone, as Route 53 lists the ones Cloud Map creates:
// SOA and NS at the apex, then for each service and each record type of
// its DnsConfig one record set per instance (SetIdentifier = instance ID,
// MultiValueAnswer or Weight 1 per the routing policy, the DnsConfig's
// TTL, the instance's health check), and for SRV services the A/AAAA
// records of each SRV target host. They are the records cairn's DNS server
// answers from.

// Route 53's TTL of the apex NS record.
const nsTTL = 172800

// recordSet is a record set with its sort key.
type recordSet struct {
	key string // name with labels reversed
	rrs resourceRecordSet
}

// zoneRecords returns the record sets of z, sorted as Route 53 sorts them:
// by name with the labels reversed, then by type, then by set identifier.
func zoneRecords(z *registry.Zone, nameserver string) []recordSet {
	apex := fqdn(z.Name)
	soaTTL := int64(z.SOATTL)
	out := []recordSet{
		newSet(apex, "NS", nsTTL, fqdn(nameserver)),
		newSet(apex, "SOA", soaTTL,
			fmt.Sprintf("%s hostmaster.%s 1 7200 900 1209600 %d", fqdn(nameserver), apex, z.SOATTL)),
	}
	for i := range z.Services {
		out = append(out, serviceRecords(&z.Services[i], z.Name)...)
	}
	sort.Slice(out, func(i, j int) bool { return less(&out[i], &out[j]) })
	return out
}

func less(a, b *recordSet) bool {
	if a.key != b.key {
		return a.key < b.key
	}
	if a.rrs.Type != b.rrs.Type {
		return a.rrs.Type < b.rrs.Type
	}
	return a.rrs.SetIdentifier < b.rrs.SetIdentifier
}

// serviceRecords returns the record sets of one service.
func serviceRecords(svc *registry.ZoneService, zone string) []recordSet {
	dc := svc.DNSConfig
	if dc == nil {
		return nil
	}
	var out []recordSet
	for _, rec := range dc.DnsRecords {
		ttl := int64(0)
		if rec.TTL != nil {
			ttl = *rec.TTL
		}
		for i := range svc.Instances {
			out = append(out, instanceRecords(svc, zone, rec.Type, ttl, &svc.Instances[i])...)
		}
	}
	return out
}

// instanceRecords are the record sets one instance has for one record
// type of its service's DnsConfig: none when it lacks the attribute the
// type needs, a CNAME for an alias, and for SRV also the A and AAAA
// records of its target host.
func instanceRecords(svc *registry.ZoneService, zone, typ string, ttl int64, inst *registry.ZoneInstance) []recordSet {
	dc := svc.DNSConfig
	name := fqdn(svc.Name + "." + zone)
	attrs := inst.Attributes
	if alias, ok := attrs[registry.AttrAlias]; ok {
		// cairn answers an alias with a CNAME (see README), once for the
		// A and AAAA records.
		if typ != "A" && (typ != "AAAA" || hasType(dc, "A")) {
			return nil
		}
		s := newSet(name, "CNAME", ttl, fqdn(alias))
		routeBy(dc, &s.rrs, inst)
		s.rrs.HealthCheckID = "" // not associated with alias records
		return []recordSet{s}
	}
	var out []recordSet
	var value string
	switch typ {
	case "A":
		value = attrs[registry.AttrIPv4]
	case "AAAA":
		value = attrs[registry.AttrIPv6]
	case "CNAME":
		if t := attrs[registry.AttrCNAME]; t != "" {
			value = fqdn(t)
		}
	case "SRV":
		port, ok := attrs[registry.AttrPort]
		if !ok {
			return nil
		}
		host := fqdn(inst.ID + "." + svc.Name + "." + zone)
		value = "1 1 " + port + " " + host
		if ip := attrs[registry.AttrIPv4]; ip != "" {
			out = append(out, newSet(host, "A", ttl, ip))
		}
		if ip := attrs[registry.AttrIPv6]; ip != "" {
			out = append(out, newSet(host, "AAAA", ttl, ip))
		}
	}
	if value == "" {
		return out
	}
	s := newSet(name, typ, ttl, value)
	routeBy(dc, &s.rrs, inst)
	return append(out, s)
}

// routeBy sets what routes among a service's record sets: the instance
// as the set identifier, its weight (WEIGHTED) or multivalue answer, and
// its health check.
func routeBy(dc *cloudmap.DnsConfig, rrs *resourceRecordSet, inst *registry.ZoneInstance) {
	rrs.SetIdentifier = inst.ID
	if dc.RoutingPolicy == cloudmap.RoutingPolicyWeighted {
		one := int64(1)
		rrs.Weight = &one
	} else {
		yes := true
		rrs.MultiValueAnswer = &yes
	}
	rrs.HealthCheckID = inst.HealthCheckID
}

func hasType(dc *cloudmap.DnsConfig, typ string) bool {
	for _, r := range dc.DnsRecords {
		if r.Type == typ {
			return true
		}
	}
	return false
}

func newSet(name, typ string, ttl int64, value string) recordSet {
	return recordSet{key: sortKey(name), rrs: resourceRecordSet{Name: name, Type: typ, TTL: &ttl,
		ResourceRecords: []string{value}}}
}

// fqdn is a name as Route 53 shows it: lower case, with the final dot,
// each octet other than a–z, 0–9, hyphen, underscore and the dots between
// labels escaped as \ followed by three octal digits.
func fqdn(name string) string {
	name = strings.TrimSuffix(name, ".")
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'A' <= c && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "\\%03o", c)
		}
	}
	b.WriteByte('.')
	return b.String()
}

// canonical turns a name a client sent (any case, final dot or not,
// Route 53's octal escapes or bare octets) into the form fqdn returns.
func canonical(name string) string {
	var raw []byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '\\' && i+3 < len(name) && isOctal(name[i+1]) && isOctal(name[i+2]) && isOctal(name[i+3]) {
			raw = append(raw, (name[i+1]-'0')*64+(name[i+2]-'0')*8+(name[i+3]-'0'))
			i += 3
			continue
		}
		raw = append(raw, c)
	}
	return fqdn(string(raw))
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }

// sortKey is a name in fqdn form with its labels reversed, the order
// Route 53 lists record sets and zones in ("com.example.www").
func sortKey(name string) string {
	labels := strings.Split(strings.TrimSuffix(name, "."), ".")
	for i, j := 0, len(labels)-1; i < j; i, j = i+1, j-1 {
		labels[i], labels[j] = labels[j], labels[i]
	}
	return strings.Join(labels, ".")
}
