package dns

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/store/bolt"
)

// dnsFixture is a registry holding every kind of DNS record, and the
// names it has records at.
type dnsFixture struct {
	r *registry.Registry
	// names are the record names (lower case) and, for each, whether it
	// is a WEIGHTED service's name.
	names map[string]bool
}

// ask asks the fixture's registry, as the handler does, over every
// namespace.
func (f *dnsFixture) ask(name string, qtype uint16) lookup {
	var ans lookup
	lookupDNS(f.r, &ans, name, qtype, nil)
	return ans
}

// dnsRecordsOf is a DnsConfig's records of types, TTL 60.
func dnsRecordsOf(types ...string) []cloudmap.DnsRecord {
	out := make([]cloudmap.DnsRecord, len(types))
	for i, t := range types {
		ttl := int64(60)
		out[i] = cloudmap.DnsRecord{Type: t, TTL: &ttl}
	}
	return out
}

// attrsOf is a map of alternating keys and values.
func attrsOf(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// openRegistry opens a registry over a bolt store in a temporary folder.
func openRegistry(tb testing.TB) *registry.Registry {
	tb.Helper()
	st, err := bolt.Open(tb.TempDir(), bolt.DefaultOptions())
	if err != nil {
		tb.Fatal(err)
	}
	r, err := registry.New(context.Background(), st, registry.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Close(); _ = st.Close() })
	return r
}

// newDNSFixture builds, over a bolt store in a temporary folder:
//
//	example.com (private, SOA 30): web (A, 12 instances), v6 (AAAA), dual
//	  (A+AAAA), _http._tcp (SRV, with IDs that make no DNS name), w
//	  (WEIGHTED A, custom health, two of three unhealthy), down
//	  (MULTIVALUE, all unhealthy), empty (no instances), plain (no DNS)
//	dev.example.com (private, nested): web
//	Public.Example (public, default SOA): alias (CNAME)
//	http.test (HTTP): cart
func newDNSFixture(tb testing.TB) *dnsFixture {
	tb.Helper()
	r := openRegistry(tb)
	ctx := context.Background()
	c := registry.Caller{Account: "000000000000", Region: "us-east-1"}
	must := func(err error) {
		tb.Helper()
		if err != nil {
			tb.Fatal(err)
		}
	}
	nsID := func(opID string) string {
		out, err := r.GetOperation(ctx, c, &cloudmap.GetOperationRequest{OperationId: opID})
		must(err)
		return out.Operation.Targets[cloudmap.OperationTargetTypeNamespace]
	}
	soa := func(ttl int64) *cloudmap.PrivateDnsNamespaceProperties {
		return &cloudmap.PrivateDnsNamespaceProperties{DnsProperties: &cloudmap.PrivateDnsPropertiesMutable{SOA: &cloudmap.SOA{TTL: &ttl}}}
	}
	priv, err := r.CreatePrivateDnsNamespace(ctx, c, &cloudmap.CreatePrivateDnsNamespaceRequest{Name: "example.com", Vpc: "vpc-1", Properties: soa(30)})
	must(err)
	dev, err := r.CreatePrivateDnsNamespace(ctx, c, &cloudmap.CreatePrivateDnsNamespaceRequest{Name: "dev.example.com", Vpc: "vpc-1"})
	must(err)
	pub, err := r.CreatePublicDnsNamespace(ctx, c, &cloudmap.CreatePublicDnsNamespaceRequest{Name: "Public.Example"})
	must(err)
	httpNS, err := r.CreateHttpNamespace(ctx, c, &cloudmap.CreateHttpNamespaceRequest{Name: "http.test"})
	must(err)
	f := &dnsFixture{r: r, names: map[string]bool{}}

	service := func(ns, name, policy string, custom bool, types ...string) string {
		in := &cloudmap.CreateServiceRequest{Name: name, NamespaceId: ns}
		if len(types) > 0 {
			in.DnsConfig = &cloudmap.DnsConfig{RoutingPolicy: policy, DnsRecords: dnsRecordsOf(types...)}
		}
		if custom {
			in.HealthCheckCustomConfig = &cloudmap.HealthCheckCustomConfig{}
		}
		out, err := r.CreateService(ctx, c, in)
		must(err)
		return out.Service.Id
	}
	register := func(svc, id string, kv ...string) {
		_, err := r.RegisterInstance(ctx, c, &cloudmap.RegisterInstanceRequest{ServiceId: svc, InstanceId: id, Attributes: attrsOf(kv...)})
		must(err)
	}
	unhealthy := func(svc, id string) {
		must(r.UpdateInstanceCustomHealthStatus(ctx, c, &cloudmap.UpdateInstanceCustomHealthStatusRequest{ServiceId: svc, InstanceId: id,
			Status: cloudmap.CustomHealthStatusUnhealthy}))
	}
	const mv, wt = cloudmap.RoutingPolicyMultivalue, cloudmap.RoutingPolicyWeighted

	ex := nsID(priv.OperationId)
	web := service(ex, "web", mv, false, "A")
	for i := range 12 {
		register(web, fmt.Sprintf("web-%d", i), registry.AttrIPv4, fmt.Sprintf("192.0.2.%d", i+1))
	}
	f.names["web.example.com"] = false
	v6 := service(ex, "v6", mv, false, "AAAA")
	register(v6, "v6-1", registry.AttrIPv6, "2001:db8::1")
	f.names["v6.example.com"] = false
	dual := service(ex, "Dual", mv, false, "A", "AAAA")
	register(dual, "d-1", registry.AttrIPv4, "192.0.2.1", registry.AttrIPv6, "2001:db8::1")
	register(dual, "d-2", registry.AttrIPv4, "192.0.2.2")
	f.names["dual.example.com"] = false
	srv := service(ex, "_http._tcp", mv, false, "SRV")
	for _, id := range []string{"i-1", "Node.A", "user@host", strings.Repeat("x", 63)} {
		register(srv, id, registry.AttrIPv4, "192.0.2.9", registry.AttrIPv6, "2001:db8::9", registry.AttrPort, "8080")
	}
	f.names["_http._tcp.example.com"] = false
	for _, h := range []string{"i-1", "node.a", "user@host"} {
		f.names[h+"._http._tcp.example.com"] = false
	}
	combo := service(ex, "combo", mv, false, "A", "AAAA", "SRV")
	register(combo, "c-1", registry.AttrIPv4, "192.0.2.21", registry.AttrPort, "80")
	register(combo, "c-2", registry.AttrIPv6, "2001:db8::22", registry.AttrPort, "81")
	f.names["combo.example.com"] = false
	for _, h := range []string{"c-1", "c-2"} {
		f.names[h+".combo.example.com"] = false
	}
	w := service(ex, "w", wt, true, "A")
	for i := range 3 {
		register(w, fmt.Sprintf("w-%d", i), registry.AttrIPv4, fmt.Sprintf("198.51.100.%d", i+1))
	}
	unhealthy(w, "w-0")
	unhealthy(w, "w-2")
	f.names["w.example.com"] = true
	down := service(ex, "down", mv, true, "A")
	for i := range 10 {
		register(down, fmt.Sprintf("d-%d", i), registry.AttrIPv4, fmt.Sprintf("203.0.113.%d", i+1), registry.AttrInitHealth, cloudmap.CustomHealthStatusUnhealthy)
	}
	f.names["down.example.com"] = false
	service(ex, "empty", mv, false, "A")
	plain := service(ex, "plain", "", false)
	register(plain, "p", registry.AttrIPv4, "192.0.2.1")

	dweb := service(nsID(dev.OperationId), "web", mv, false, "A")
	register(dweb, "dw", registry.AttrIPv4, "10.0.0.1")
	f.names["web.dev.example.com"] = false

	alias := service(nsID(pub.OperationId), "alias", wt, false, "CNAME")
	register(alias, "c", registry.AttrCNAME, "www.Example.org")
	f.names["alias.public.example"] = true

	cart := service(nsID(httpNS.OperationId), "cart", "", false)
	register(cart, "c", registry.AttrIPv4, "192.0.2.1")
	return f
}

// fuzzQtypes are the query types FuzzLookupDNS asks with.
// (TXT 16, SOA 6, NS 2, MX 15, 0 and a private-use type find no records).
var fuzzQtypes = []uint16{registry.TypeA, registry.TypeAAAA, registry.TypeSRV, registry.TypeCNAME, registry.TypeANY, 16, 6, 2, 15, 0, 65280}

// asciiUpper upper-cases ASCII letters only.
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// isDNSName reports whether s (no final dot, no escapes) is a name that
// packs: labels of 1 to 63 octets, at most 253 characters.
func isDNSName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 {
			return false
		}
	}
	return true
}

// FuzzLookupDNS asks the registry's DNS lookup random names and types:
// it must not panic, every record it returns must be at the asked name
// inside the zone it reports (or be an SRV target's address in the zone),
// and its rcode facts (zone, existence, apex) must be consistent with each
// other, with the records, across case, and across repeated asks.
func FuzzLookupDNS(f *testing.F) {
	fx := newDNSFixture(f)
	seeds := []string{"", ".", "com", "example.com", "example.com.", "EXAMPLE.COM.", "nope.example.com", "_tcp.example.com",
		"a.b.c.example.com", "x.web.example.com", "dev.example.com", "x.dev.example.com", "public.example", "http.test", "cart.http.test",
		`foo\.example.com.`, `web\.example.com`, `\119eb.example.com`, `\226\132\170v.example.com`, "web.example.com\\", `\\.example.com`,
		"a.node.a._http._tcp.example.com", "a._http._tcp.example.com", "._http._tcp.example.com", "a..b._http._tcp.example.com",
		strings.Repeat("x", 64) + "._http._tcp.example.com", "empty.example.com", "plain.example.com", "user\\@host._http._tcp.example.com",
		"..example.com", "example..com", "web.example.com..", "\x00.example.com", "WEB.example.com\xff"}
	for name := range fx.names {
		seeds = append(seeds, name, asciiUpper(name)+".")
	}
	for _, s := range seeds {
		for i := range fuzzQtypes {
			f.Add(s, uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, name string, qt uint8) {
		qtype := fuzzQtypes[int(qt)%len(fuzzQtypes)]
		ans := fx.ask(name, qtype)
		canon := canonicalName(name)
		if ans.Zone == nil {
			if ans.Exists || ans.Apex || len(ans.Answer)+len(ans.Extra) > 0 {
				t.Fatalf("%q: no zone, yet %+v", name, ans)
			}
			if _, ok := fx.names[canon]; ok {
				t.Fatalf("%q: a record name outside every zone", name)
			}
		} else {
			zone := ans.Zone.Name
			if canon != zone && !strings.HasSuffix(canon, "."+zone) {
				t.Fatalf("%q (%q) is not in the zone %q it was answered from", name, canon, zone)
			}
			if ans.Apex != (canon == zone) {
				t.Fatalf("%q: Apex %v in zone %q", name, ans.Apex, zone)
			}
			if (ans.Apex || len(ans.Answer) > 0) && !ans.Exists {
				t.Fatalf("%q: apex or records, yet absent: %+v", name, ans)
			}
			if ans.Apex && len(ans.Answer)+len(ans.Extra) > 0 {
				t.Fatalf("%q: records at the apex: %+v", name, ans)
			}
			if _, ok := fx.names[canon]; ok && !ans.Exists {
				t.Fatalf("%q: a record name answered NXDOMAIN", name)
			}
		}
		if len(ans.Extra) > 0 && !slices.ContainsFunc(ans.Answer, func(rec record) bool { return rec.Type == registry.TypeSRV }) {
			t.Fatalf("%q: additional records without SRV records: %+v", name, ans)
		}
		perType := map[uint16]int{}
		targets := map[string]bool{}
		for _, rec := range ans.Answer {
			perType[rec.Type]++
			if rec.Name != canon {
				t.Fatalf("%q: record %+v is not at the asked name %q", name, rec, canon)
			}
			if !isDNSName(rec.Name) {
				t.Fatalf("%q: record name %q is not a DNS name", name, rec.Name)
			}
			switch rec.Type {
			case registry.TypeA:
				if !rec.Addr.Is4() {
					t.Fatalf("%q: A record %+v", name, rec)
				}
			case registry.TypeAAAA:
				if !rec.Addr.Is6() || rec.Addr.Is4In6() {
					t.Fatalf("%q: AAAA record %+v", name, rec)
				}
			case registry.TypeSRV:
				if !strings.HasSuffix(rec.Target, "."+canon) || !isDNSName(rec.Target) {
					t.Fatalf("%q: SRV target %q is not a DNS name under %q", name, rec.Target, canon)
				}
				targets[rec.Target] = true
			case registry.TypeCNAME:
				if !isDNSName(rec.Target) {
					t.Fatalf("%q: CNAME target %q", name, rec.Target)
				}
			default:
				t.Fatalf("%q: record type %d", name, rec.Type)
			}
			if want := qtype; rec.Type != want && rec.Type != registry.TypeCNAME && (want != registry.TypeANY || rec.Type == registry.TypeCNAME) {
				t.Fatalf("%q: a %d record for a %d query", name, rec.Type, qtype)
			}
		}
		for typ, n := range perType {
			if n > maxMultivalue || fx.names[canon] && n > 1 {
				t.Fatalf("%q: %d records of type %d", name, n, typ)
			}
		}
		for _, rec := range ans.Extra {
			if !targets[rec.Name] || rec.Type != registry.TypeA && rec.Type != registry.TypeAAAA {
				t.Fatalf("%q: additional record %+v is not an SRV target's address", name, rec)
			}
		}

		// The facts behind the rcode do not depend on the draw, nor on
		// ASCII case; the number of records does not either.
		for _, again := range []lookup{fx.ask(name, qtype), fx.ask(asciiUpper(name), qtype)} {
			if (again.Zone == nil) != (ans.Zone == nil) || again.Exists != ans.Exists || again.Apex != ans.Apex ||
				len(again.Answer) != len(ans.Answer) || len(again.Extra) != len(ans.Extra) {
				t.Fatalf("%q: answers differ:\n%+v\n%+v", name, ans, again)
			}
			if ans.Zone != nil && again.Zone.Name != ans.Zone.Name {
				t.Fatalf("%q: zones differ: %q, %q", name, ans.Zone.Name, again.Zone.Name)
			}
		}
	})
}
