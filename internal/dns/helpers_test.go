package dns_test

import (
	"net"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"

	"github.com/cairn-dev/cairn/cairntest"
)

// env is a cairn started for one test, with an SDK client and DNS
// clients for its listener.
type env struct {
	t   *testing.T
	srv *cairntest.Server
	sd  *sd.Client
	// dns is the DNS listener's address, host:port, for UDP and TCP.
	dns string
}

func newEnv(t *testing.T, opts ...cairntest.Option) *env {
	t.Helper()
	srv := cairntest.NewServer(t, opts...)
	if srv.DNSAddr() == "" {
		t.Fatal("cairntest started cairn without DNS")
	}
	return &env{t: t, srv: srv, sd: sd.NewFromConfig(srv.AWSConfig), dns: srv.DNSAddr()}
}

// client returns an SDK client of the same server acting in region.
func (e *env) client(region string) *sd.Client {
	cfg := e.srv.AWSConfig.Copy()
	cfg.Region = region
	return sd.NewFromConfig(cfg)
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// wait polls GetOperation until opID succeeds and returns its targets.
func (e *env) wait(c *sd.Client, opID *string) map[string]string {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := c.GetOperation(e.t.Context(), &sd.GetOperationInput{OperationId: opID})
		e.must(err)
		switch out.Operation.Status {
		case types.OperationStatusSuccess:
			return out.Operation.Targets
		case types.OperationStatusFail:
			e.t.Fatalf("operation %s (%s) failed: %s %s", aws.ToString(opID), out.Operation.Type,
				aws.ToString(out.Operation.ErrorCode), aws.ToString(out.Operation.ErrorMessage))
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("operation %s still %s after 20s", aws.ToString(opID), out.Operation.Status)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// privateNS creates a private DNS namespace (with an SOA TTL when soaTTL
// >= 0) and returns its ID.
func (e *env) privateNS(name string, soaTTL int64) string {
	return e.privateNSWith(e.sd, name, soaTTL)
}

func (e *env) privateNSWith(c *sd.Client, name string, soaTTL int64) string {
	e.t.Helper()
	in := &sd.CreatePrivateDnsNamespaceInput{Name: aws.String(name), Vpc: aws.String("vpc-0123456789abcdef0")}
	if soaTTL >= 0 {
		in.Properties = &types.PrivateDnsNamespaceProperties{DnsProperties: &types.PrivateDnsPropertiesMutable{SOA: &types.SOA{TTL: aws.Int64(soaTTL)}}}
	}
	out, err := c.CreatePrivateDnsNamespace(e.t.Context(), in)
	e.must(err)
	return e.wait(c, out.OperationId)["NAMESPACE"]
}

// publicNS creates a public DNS namespace and returns its ID.
func (e *env) publicNS(name string, soaTTL int64) string {
	e.t.Helper()
	in := &sd.CreatePublicDnsNamespaceInput{Name: aws.String(name)}
	if soaTTL >= 0 {
		in.Properties = &types.PublicDnsNamespaceProperties{DnsProperties: &types.PublicDnsPropertiesMutable{SOA: &types.SOA{TTL: aws.Int64(soaTTL)}}}
	}
	out, err := e.sd.CreatePublicDnsNamespace(e.t.Context(), in)
	e.must(err)
	return e.wait(e.sd, out.OperationId)["NAMESPACE"]
}

// httpNS creates an HTTP namespace and returns its ID.
func (e *env) httpNS(name string) string {
	e.t.Helper()
	out, err := e.sd.CreateHttpNamespace(e.t.Context(), &sd.CreateHttpNamespaceInput{Name: aws.String(name)})
	e.must(err)
	return e.wait(e.sd, out.OperationId)["NAMESPACE"]
}

// svcSpec describes a DNS service for newService.
type svcSpec struct {
	name    string
	policy  types.RoutingPolicy // MULTIVALUE when empty
	records map[types.RecordType]int64
	custom  bool // with HealthCheckCustomConfig
}

// service creates a DNS service and returns its ID.
func (e *env) service(nsID string, s svcSpec) string {
	return e.serviceWith(e.sd, nsID, s)
}

func (e *env) serviceWith(c *sd.Client, nsID string, s svcSpec) string {
	e.t.Helper()
	policy := s.policy
	if policy == "" {
		policy = types.RoutingPolicyMultivalue
	}
	var recs []types.DnsRecord
	for typ, ttl := range s.records {
		recs = append(recs, types.DnsRecord{Type: typ, TTL: aws.Int64(ttl)})
	}
	sort.Slice(recs, func(a, b int) bool { return recs[a].Type < recs[b].Type })
	in := &sd.CreateServiceInput{Name: aws.String(s.name), NamespaceId: aws.String(nsID),
		DnsConfig: &types.DnsConfig{RoutingPolicy: policy, DnsRecords: recs}}
	if s.custom {
		in.HealthCheckCustomConfig = &types.HealthCheckCustomConfig{}
	}
	out, err := c.CreateService(e.t.Context(), in)
	e.must(err)
	return aws.ToString(out.Service.Id)
}

// register registers an instance and waits for its operation.
func (e *env) register(svcID, instID string, attrs map[string]string) {
	e.registerWith(e.sd, svcID, instID, attrs)
}

func (e *env) registerWith(c *sd.Client, svcID, instID string, attrs map[string]string) {
	e.t.Helper()
	out, err := c.RegisterInstance(e.t.Context(), &sd.RegisterInstanceInput{ServiceId: aws.String(svcID),
		InstanceId: aws.String(instID), Attributes: attrs})
	e.must(err)
	e.wait(c, out.OperationId)
}

// deregister deregisters an instance and waits for its operation.
func (e *env) deregister(svcID, instID string) {
	e.deregisterWith(e.sd, svcID, instID)
}

func (e *env) deregisterWith(c *sd.Client, svcID, instID string) {
	e.t.Helper()
	out, err := c.DeregisterInstance(e.t.Context(), &sd.DeregisterInstanceInput{ServiceId: aws.String(svcID), InstanceId: aws.String(instID)})
	e.must(err)
	e.wait(c, out.OperationId)
}

// health sets an instance's custom health status.
func (e *env) health(svcID, instID string, st types.CustomHealthStatus) {
	e.t.Helper()
	_, err := e.sd.UpdateInstanceCustomHealthStatus(e.t.Context(), &sd.UpdateInstanceCustomHealthStatusInput{
		ServiceId: aws.String(svcID), InstanceId: aws.String(instID), Status: st})
	e.must(err)
}

func v4(ip string) map[string]string { return map[string]string{"AWS_INSTANCE_IPV4": ip} }

// The transports every protocol test runs over.
var nets = []string{"udp", "tcp"}

// exchange sends m to addr over network and returns the reply.
func exchange(t testing.TB, network, addr string, m *dns.Msg) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: network, Timeout: 3 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s query %s %s: %v", network, m.Question[0].Name, dns.TypeToString[m.Question[0].Qtype], err)
	}
	if r.Id != m.Id {
		t.Fatalf("reply ID %d, query ID %d", r.Id, m.Id)
	}
	return r
}

// question builds a query for name and qtype, with mods applied.
func question(name string, qtype uint16, mods ...func(*dns.Msg)) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	for _, mod := range mods {
		mod(m)
	}
	return m
}

// query asks the env's listener over network.
func (e *env) query(network, name string, qtype uint16, mods ...func(*dns.Msg)) *dns.Msg {
	e.t.Helper()
	return exchange(e.t, network, e.dns, question(name, qtype, mods...))
}

// udp queries over UDP.
func (e *env) udp(name string, qtype uint16, mods ...func(*dns.Msg)) *dns.Msg {
	e.t.Helper()
	return e.query("udp", name, qtype, mods...)
}

func edns(size uint16) func(*dns.Msg) { return func(m *dns.Msg) { m.SetEdns0(size, false) } }

// checkAuthoritative checks the flags of an answer from a zone: AA set,
// RA clear, the question echoed.
func checkAuthoritative(t testing.TB, r *dns.Msg, rcode int) {
	t.Helper()
	if r.Rcode != rcode {
		t.Fatalf("rcode %s, want %s\n%v", dns.RcodeToString[r.Rcode], dns.RcodeToString[rcode], r)
	}
	if !r.Authoritative {
		t.Errorf("AA clear in an answer from a zone\n%v", r)
	}
	if r.RecursionAvailable {
		t.Errorf("RA set; cairn offers no recursion\n%v", r)
	}
	if !r.Response {
		t.Errorf("QR clear in a reply")
	}
}

// checkNegative checks a NXDOMAIN or NODATA answer: no answer, the
// zone's SOA alone in the authority section with the namespace's SOA TTL
// as both TTL and minimum.
func checkNegative(t testing.TB, r *dns.Msg, rcode int, zone string, soaTTL uint32) {
	t.Helper()
	checkAuthoritative(t, r, rcode)
	if len(r.Answer) != 0 {
		t.Errorf("negative answer has records: %v", r.Answer)
	}
	if len(r.Ns) != 1 {
		t.Fatalf("authority section %v, want the zone's SOA", r.Ns)
	}
	soa, ok := r.Ns[0].(*dns.SOA)
	if !ok {
		t.Fatalf("authority section %v, want an SOA", r.Ns[0])
	}
	if soa.Hdr.Name != dns.Fqdn(zone) {
		t.Errorf("SOA owner %s, want %s", soa.Hdr.Name, dns.Fqdn(zone))
	}
	if soa.Minttl != soaTTL || soa.Hdr.Ttl != soaTTL {
		t.Errorf("SOA TTL %d, minimum %d; want %d for both", soa.Hdr.Ttl, soa.Minttl, soaTTL)
	}
}

// addrs returns the addresses of the A and AAAA records in rrs, sorted,
// and fails the test if any other record is there or an owner or TTL is
// not the wanted one.
func addrs(t testing.TB, rrs []dns.RR, owner string, ttl uint32) []string {
	t.Helper()
	var out []string
	for _, rr := range rrs {
		if rr.Header().Name != dns.Fqdn(owner) {
			t.Errorf("record %v: owner %s, want %s", rr, rr.Header().Name, dns.Fqdn(owner))
		}
		if rr.Header().Ttl != ttl {
			t.Errorf("record %v: TTL %d, want %d", rr, rr.Header().Ttl, ttl)
		}
		switch rr := rr.(type) {
		case *dns.A:
			out = append(out, rr.A.String())
		case *dns.AAAA:
			out = append(out, rr.AAAA.String())
		default:
			t.Errorf("unexpected record %v", rr)
		}
	}
	sort.Strings(out)
	return out
}

func sameSet(got, want []string) bool {
	got, want = slices.Clone(got), slices.Clone(want)
	sort.Strings(got)
	sort.Strings(want)
	return slices.Equal(got, want)
}

// key is a sorted, comma-joined set of addresses, for counting distinct
// answers.
func key(set []string) string {
	s := slices.Clone(set)
	sort.Strings(s)
	return strings.Join(s, ",")
}

// freePort returns a loopback port that is free now, for UDP and TCP.
func freePort(t testing.TB) int {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		_ = pc.Close()
		if err == nil {
			_ = ln.Close()
			return port
		}
	}
	t.Fatal("no free port for UDP and TCP")
	return 0
}
