package dns_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"

	cairndns "github.com/cairn-dev/cairn/internal/dns"
	"github.com/cairn-dev/cairn/internal/registry"
)

// The end-to-end tests below register through the AWS SDK for Go v2 and
// query cairn's DNS listener over real UDP and TCP sockets, checking what
// Route 53 answers for a Cloud Map hosted zone (cloudmap-semantics.md §2).

func TestRecords_A(t *testing.T) {
	e := newEnv(t)
	ns := e.privateNS("example.com", 30)
	svc := e.service(ns, svcSpec{name: "web", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	e.register(svc, "web-1", v4("192.0.2.1"))
	e.register(svc, "web-2", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.2", "AWS_INSTANCE_IPV6": "2001:db8::2", "AWS_INSTANCE_PORT": "80"})
	for _, n := range nets {
		r := e.query(n, "web.example.com", dns.TypeA)
		checkAuthoritative(t, r, dns.RcodeSuccess)
		if got := addrs(t, r.Answer, "web.example.com", 60); !slices.Equal(got, []string{"192.0.2.1", "192.0.2.2"}) {
			t.Errorf("%s: A answer %v", n, got)
		}
		if len(r.Ns) != 0 || len(r.Extra) != 0 {
			t.Errorf("%s: a positive answer carries authority %v / additional %v", n, r.Ns, r.Extra)
		}
		// The service has no AAAA record, even though an instance has an
		// IPv6 address: NODATA.
		checkNegative(t, e.query(n, "web.example.com", dns.TypeAAAA), dns.RcodeSuccess, "example.com", 30)
	}
}

func TestRecords_AAAA(t *testing.T) {
	e := newEnv(t)
	ns := e.privateNS("example.com", -1)
	svc := e.service(ns, svcSpec{name: "v6", records: map[types.RecordType]int64{types.RecordTypeAaaa: 120}})
	e.register(svc, "v6-1", map[string]string{"AWS_INSTANCE_IPV6": "2001:db8::1"})
	e.register(svc, "v6-2", map[string]string{"AWS_INSTANCE_IPV6": "2001:0db8:85a3::8a2e:0370:7334"})
	for _, n := range nets {
		r := e.query(n, "v6.example.com", dns.TypeAAAA)
		checkAuthoritative(t, r, dns.RcodeSuccess)
		if got := addrs(t, r.Answer, "v6.example.com", 120); !slices.Equal(got, []string{"2001:db8:85a3::8a2e:370:7334", "2001:db8::1"}) {
			t.Errorf("%s: AAAA answer %v", n, got)
		}
		checkNegative(t, e.query(n, "v6.example.com", dns.TypeA), dns.RcodeSuccess, "example.com", registry.DefaultSOATTL)
	}
}

func TestRecords_AAndAAAA(t *testing.T) {
	e := newEnv(t)
	ns := e.privateNS("example.com", 30)
	svc := e.service(ns, svcSpec{name: "dual", records: map[types.RecordType]int64{types.RecordTypeA: 40, types.RecordTypeAaaa: 50}})
	e.register(svc, "both", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.1", "AWS_INSTANCE_IPV6": "2001:db8::1"})
	e.register(svc, "only4", v4("192.0.2.2"))
	e.register(svc, "only6", map[string]string{"AWS_INSTANCE_IPV6": "2001:db8::3"})
	for _, n := range nets {
		r := e.query(n, "dual.example.com", dns.TypeA)
		checkAuthoritative(t, r, dns.RcodeSuccess)
		if got := addrs(t, r.Answer, "dual.example.com", 40); !slices.Equal(got, []string{"192.0.2.1", "192.0.2.2"}) {
			t.Errorf("%s: A answer %v", n, got)
		}
		r = e.query(n, "dual.example.com", dns.TypeAAAA)
		checkAuthoritative(t, r, dns.RcodeSuccess)
		if got := addrs(t, r.Answer, "dual.example.com", 50); !slices.Equal(got, []string{"2001:db8::1", "2001:db8::3"}) {
			t.Errorf("%s: AAAA answer %v", n, got)
		}
	}
	// With only IPv4 instances left, AAAA at the name is NODATA.
	e.deregister(svc, "both")
	e.deregister(svc, "only6")
	checkNegative(t, e.udp("dual.example.com", dns.TypeAAAA), dns.RcodeSuccess, "example.com", 30)
}

func TestRecords_SRV(t *testing.T) {
	e := newEnv(t)
	ns := e.privateNS("example.com", 30)
	svc := e.service(ns, svcSpec{name: "_http._tcp", records: map[types.RecordType]int64{types.RecordTypeSrv: 90}})
	e.register(svc, "i-1", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.1", "AWS_INSTANCE_PORT": "8080"})
	e.register(svc, "i-2", map[string]string{"AWS_INSTANCE_IPV6": "2001:db8::2", "AWS_INSTANCE_PORT": "9090"})
	e.register(svc, "i-3", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.3", "AWS_INSTANCE_IPV6": "2001:db8::3", "AWS_INSTANCE_PORT": "80"})
	const name = "_http._tcp.example.com."
	for _, n := range nets {
		r := e.query(n, name, dns.TypeSRV)
		checkAuthoritative(t, r, dns.RcodeSuccess)
		var got []string
		for _, rr := range r.Answer {
			srv, ok := rr.(*dns.SRV)
			if !ok {
				t.Fatalf("%s: answer %v, want SRV records", n, rr)
			}
			if srv.Hdr.Name != name || srv.Hdr.Ttl != 90 || srv.Priority != 1 || srv.Weight != 1 {
				t.Errorf("%s: SRV %v: want owner %s, TTL 90, priority 1, weight 1", n, srv, name)
			}
			got = append(got, fmt.Sprintf("%d %s", srv.Port, srv.Target))
		}
		want := []string{"8080 i-1." + name, "9090 i-2." + name, "80 i-3." + name}
		if !sameSet(got, want) {
			t.Errorf("%s: SRV answer %v, want %v", n, got, want)
		}
		// The additional section has the targets' addresses.
		var extra []string
		for _, rr := range r.Extra {
			switch rr := rr.(type) {
			case *dns.A:
				extra = append(extra, rr.Hdr.Name+" "+rr.A.String())
			case *dns.AAAA:
				extra = append(extra, rr.Hdr.Name+" "+rr.AAAA.String())
			default:
				t.Errorf("%s: additional record %v", n, rr)
			}
			if rr.Header().Ttl != 90 {
				t.Errorf("%s: additional record %v: TTL %d, want the SRV's 90", n, rr, rr.Header().Ttl)
			}
		}
		wantExtra := []string{"i-1." + name + " 192.0.2.1", "i-2." + name + " 2001:db8::2", "i-3." + name + " 192.0.2.3", "i-3." + name + " 2001:db8::3"}
		if !sameSet(extra, wantExtra) {
			t.Errorf("%s: additional section %v, want %v", n, extra, wantExtra)
		}

		// The targets are names of their own, with A and AAAA records.
		r = e.query(n, "i-1."+name, dns.TypeA)
		checkAuthoritative(t, r, dns.RcodeSuccess)
		if got := addrs(t, r.Answer, "i-1."+name, 90); !slices.Equal(got, []string{"192.0.2.1"}) {
			t.Errorf("%s: A at i-1: %v", n, got)
		}
		r = e.query(n, "i-3."+name, dns.TypeAAAA)
		checkAuthoritative(t, r, dns.RcodeSuccess)
		if got := addrs(t, r.Answer, "i-3."+name, 90); !slices.Equal(got, []string{"2001:db8::3"}) {
			t.Errorf("%s: AAAA at i-3: %v", n, got)
		}
		checkNegative(t, e.query(n, "i-1."+name, dns.TypeAAAA), dns.RcodeSuccess, "example.com", 30)
		checkNegative(t, e.query(n, "i-2."+name, dns.TypeA), dns.RcodeSuccess, "example.com", 30)
		checkNegative(t, e.query(n, "i-9."+name, dns.TypeA), dns.RcodeNameError, "example.com", 30)

		// The service's name has only the SRV record.
		checkNegative(t, e.query(n, name, dns.TypeA), dns.RcodeSuccess, "example.com", 30)
		checkNegative(t, e.query(n, name, dns.TypeTXT), dns.RcodeSuccess, "example.com", 30)
		// _tcp.example.com is an empty non-terminal: it exists, without
		// records.
		checkNegative(t, e.query(n, "_tcp.example.com", dns.TypeA), dns.RcodeSuccess, "example.com", 30)
		checkNegative(t, e.query(n, "_TCP.Example.COM", dns.TypeSRV), dns.RcodeSuccess, "example.com", 30)
	}
	// Once the service has no instances, its name and the empty
	// non-terminal above it are gone.
	for _, id := range []string{"i-1", "i-2", "i-3"} {
		e.deregister(svc, id)
	}
	checkNegative(t, e.udp(name, dns.TypeSRV), dns.RcodeNameError, "example.com", 30)
	checkNegative(t, e.udp("_tcp.example.com", dns.TypeA), dns.RcodeNameError, "example.com", 30)
	checkNegative(t, e.udp("i-1."+name, dns.TypeA), dns.RcodeNameError, "example.com", 30)
}

func TestRecords_CNAMEAnswersEveryType(t *testing.T) {
	e := newEnv(t)
	ns := e.publicNS("example.com", 30)
	svc := e.service(ns, svcSpec{name: "alias", policy: types.RoutingPolicyWeighted, records: map[types.RecordType]int64{types.RecordTypeCname: 300}})
	e.register(svc, "c-1", map[string]string{"AWS_INSTANCE_CNAME": "www.Example.org"})
	for _, n := range nets {
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeCNAME, dns.TypeSRV, dns.TypeTXT, dns.TypeMX} {
			r := e.query(n, "alias.example.com", qt)
			checkAuthoritative(t, r, dns.RcodeSuccess)
			if len(r.Answer) != 1 {
				t.Fatalf("%s %s: answer %v, want one CNAME", n, dns.TypeToString[qt], r.Answer)
			}
			c, ok := r.Answer[0].(*dns.CNAME)
			if !ok || c.Hdr.Name != "alias.example.com." || c.Hdr.Ttl != 300 || !dns.IsFqdn(c.Target) || !equalFold(c.Target, "www.example.org.") {
				t.Errorf("%s %s: answer %v, want alias.example.com. 300 CNAME www.example.org.", n, dns.TypeToString[qt], r.Answer[0])
			}
		}
	}
}

func equalFold(a, b string) bool { return dns.CanonicalName(a) == dns.CanonicalName(b) }

func TestRecords_TTLsFollowDnsConfig(t *testing.T) {
	e := newEnv(t)
	ns := e.privateNS("ttl.test", 0)
	svc := e.service(ns, svcSpec{name: "zero", records: map[types.RecordType]int64{types.RecordTypeA: 0}})
	e.register(svc, "z", v4("192.0.2.9"))
	big := e.service(ns, svcSpec{name: "big", records: map[types.RecordType]int64{types.RecordTypeA: 2147483647}})
	e.register(big, "b", v4("192.0.2.10"))
	if got := addrs(t, e.udp("zero.ttl.test", dns.TypeA).Answer, "zero.ttl.test", 0); len(got) != 1 {
		t.Errorf("TTL 0 answer %v", got)
	}
	if got := addrs(t, e.udp("big.ttl.test", dns.TypeA).Answer, "big.ttl.test", 2147483647); len(got) != 1 {
		t.Errorf("TTL 2147483647 answer %v", got)
	}
	// An SOA TTL of 0 is kept, not replaced by the default.
	checkNegative(t, e.udp("nothing.ttl.test", dns.TypeA), dns.RcodeNameError, "ttl.test", 0)
}

func TestApex_SOAAndNS(t *testing.T) {
	e := newEnv(t)
	e.privateNS("example.com", 42)
	for _, n := range nets {
		r := e.query(n, "example.com", dns.TypeSOA)
		checkAuthoritative(t, r, dns.RcodeSuccess)
		if len(r.Answer) != 1 {
			t.Fatalf("%s: SOA answer %v", n, r.Answer)
		}
		soa, ok := r.Answer[0].(*dns.SOA)
		if !ok || soa.Hdr.Name != "example.com." || soa.Minttl != 42 || soa.Hdr.Ttl != 42 || soa.Ns != cairndns.DefaultNameserver {
			t.Errorf("%s: SOA %v: want example.com., TTL and minimum 42, primary %s", n, r.Answer[0], cairndns.DefaultNameserver)
		}
		r = e.query(n, "example.com", dns.TypeNS)
		checkAuthoritative(t, r, dns.RcodeSuccess)
		if len(r.Answer) != 1 {
			t.Fatalf("%s: NS answer %v", n, r.Answer)
		}
		if ns, ok := r.Answer[0].(*dns.NS); !ok || ns.Hdr.Name != "example.com." || ns.Ns != cairndns.DefaultNameserver {
			t.Errorf("%s: NS %v", n, r.Answer[0])
		}
		// ANY at the apex has both.
		r = e.query(n, "example.com", dns.TypeANY)
		checkAuthoritative(t, r, dns.RcodeSuccess)
		if len(r.Answer) != 2 {
			t.Errorf("%s: ANY at the apex: %v, want SOA and NS", n, r.Answer)
		}
		// Other types at the apex: NODATA.
		checkNegative(t, e.query(n, "example.com", dns.TypeA), dns.RcodeSuccess, "example.com", 42)
		checkNegative(t, e.query(n, "example.com", dns.TypeTXT), dns.RcodeSuccess, "example.com", 42)
	}
	// The serial moves on with every change to the registry.
	serial := func() uint32 { return e.udp("example.com", dns.TypeSOA).Answer[0].(*dns.SOA).Serial }
	before := serial()
	e.privateNS("other.test", -1)
	if after := serial(); after == before {
		t.Errorf("SOA serial %d did not change after a change", after)
	}
}

func TestNXDOMAIN(t *testing.T) {
	e := newEnv(t)
	ns := e.privateNS("example.com", 42)
	e.privateNS("default.test", -1)
	svc := e.service(ns, svcSpec{name: "web", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	e.register(svc, "w", v4("192.0.2.1"))
	e.service(ns, svcSpec{name: "empty", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	for _, n := range nets {
		for _, name := range []string{"nope.example.com", "x.web.example.com", "w.web.example.com", "empty.example.com", "a.b.c.example.com"} {
			checkNegative(t, e.query(n, name, dns.TypeA), dns.RcodeNameError, "example.com", 42)
		}
		// Without an SOA TTL the namespace's negative TTL is the default.
		checkNegative(t, e.query(n, "nope.default.test", dns.TypeA), dns.RcodeNameError, "default.test", registry.DefaultSOATTL)
		if registry.DefaultSOATTL != 15 {
			t.Errorf("DefaultSOATTL is %d; the README documents 15", registry.DefaultSOATTL)
		}
	}
}

func TestREFUSEDOutsideEveryZone(t *testing.T) {
	e := newEnv(t)
	e.privateNS("example.com", -1)
	httpNS := e.httpNS("api.test")
	svc, err := e.sd.CreateService(t.Context(), svcInput("cart", httpNS))
	e.must(err)
	e.register(*svc.Service.Id, "c", v4("192.0.2.1"))
	for _, n := range nets {
		for _, name := range []string{"example.org", "com", ".", "cart.api.test", "api.test", "example.com.evil.test", "xexample.com"} {
			r := e.query(n, name, dns.TypeA)
			if r.Rcode != dns.RcodeRefused {
				t.Errorf("%s %s: rcode %s, want REFUSED", n, name, dns.RcodeToString[r.Rcode])
			}
			if r.Authoritative || r.RecursionAvailable || len(r.Answer)+len(r.Ns) != 0 {
				t.Errorf("%s %s: REFUSED with AA %v, RA %v, records %v %v", n, name, r.Authoritative, r.RecursionAvailable, r.Answer, r.Ns)
			}
		}
	}
}

func TestPublicAndPrivateNamespaces(t *testing.T) {
	e := newEnv(t)
	priv := e.privateNS("internal.test", 10)
	pub := e.publicNS("public.example", 20)
	s1 := e.service(priv, svcSpec{name: "db", records: map[types.RecordType]int64{types.RecordTypeA: 5}})
	s2 := e.service(pub, svcSpec{name: "www", records: map[types.RecordType]int64{types.RecordTypeA: 6}})
	e.register(s1, "db-1", v4("10.0.0.1"))
	e.register(s2, "www-1", v4("198.51.100.1"))
	for _, n := range nets {
		if got := addrs(t, e.query(n, "db.internal.test", dns.TypeA).Answer, "db.internal.test", 5); !slices.Equal(got, []string{"10.0.0.1"}) {
			t.Errorf("%s: private namespace answer %v", n, got)
		}
		if got := addrs(t, e.query(n, "www.public.example", dns.TypeA).Answer, "www.public.example", 6); !slices.Equal(got, []string{"198.51.100.1"}) {
			t.Errorf("%s: public namespace answer %v", n, got)
		}
		checkNegative(t, e.query(n, "x.internal.test", dns.TypeA), dns.RcodeNameError, "internal.test", 10)
		checkNegative(t, e.query(n, "x.public.example", dns.TypeA), dns.RcodeNameError, "public.example", 20)
	}
}

func TestCaseInsensitiveNames(t *testing.T) {
	e := newEnv(t)
	ns := e.privateNS("Example.COM", 30)
	svc := e.service(ns, svcSpec{name: "MixedCase", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	e.register(svc, "m", v4("192.0.2.7"))
	srv := e.service(ns, svcSpec{name: "_Sip._UDP", records: map[types.RecordType]int64{types.RecordTypeSrv: 60}})
	e.register(srv, "Node-A", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.8", "AWS_INSTANCE_PORT": "5060"})
	for _, n := range nets {
		for _, name := range []string{"mixedcase.example.com.", "MIXEDCASE.EXAMPLE.COM.", "mIxEdCaSe.eXaMpLe.CoM."} {
			r := e.query(n, name, dns.TypeA)
			checkAuthoritative(t, r, dns.RcodeSuccess)
			// The answer keeps the asker's spelling (0x20 randomisation
			// relies on it).
			if got := addrs(t, r.Answer, name, 60); !slices.Equal(got, []string{"192.0.2.7"}) {
				t.Errorf("%s %s: answer %v", n, name, got)
			}
			if r.Question[0].Name != name {
				t.Errorf("%s: question echoed as %s, asked %s", n, r.Question[0].Name, name)
			}
		}
		r := e.query(n, "eXample.com", dns.TypeSOA)
		checkAuthoritative(t, r, dns.RcodeSuccess)
		if len(r.Answer) != 1 || r.Answer[0].Header().Name != "eXample.com." {
			t.Errorf("%s: SOA at the apex asked as eXample.com.: %v", n, r.Answer)
		}
		r = e.query(n, "_SIP._udp.EXAMPLE.com", dns.TypeSRV)
		checkAuthoritative(t, r, dns.RcodeSuccess)
		if len(r.Answer) != 1 || r.Answer[0].(*dns.SRV).Port != 5060 {
			t.Fatalf("%s: SRV %v", n, r.Answer)
		}
		target := r.Answer[0].(*dns.SRV).Target
		r = e.query(n, target, dns.TypeA)
		if got := addrs(t, r.Answer, target, 60); !slices.Equal(got, []string{"192.0.2.8"}) {
			t.Errorf("%s: A at the SRV target %s: %v", n, target, got)
		}
		r = e.query(n, "NODE-a._sip._udp.example.com", dns.TypeA)
		if got := addrs(t, r.Answer, "NODE-a._sip._udp.example.com", 60); !slices.Equal(got, []string{"192.0.2.8"}) {
			t.Errorf("%s: A at the SRV target in another case: %v", n, got)
		}
	}
}

// svcInput is a CreateService input for a service without DNS records.
func svcInput(name, nsID string) *sd.CreateServiceInput {
	return &sd.CreateServiceInput{Name: aws.String(name), NamespaceId: aws.String(nsID)}
}
