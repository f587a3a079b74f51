package dns_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/store/bolt"
)

// regFixture drives a registry directly, without the API, for fuzzing
// and benchmarks.
type regFixture struct {
	tb  testing.TB
	r   *registry.Registry
	ctx context.Context
	c   registry.Caller
}

// newRegistry opens a registry over a bolt store in a temporary folder.
func newRegistry(tb testing.TB) *regFixture {
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
	return &regFixture{tb: tb, r: r, ctx: context.Background(), c: registry.Caller{Account: "000000000000", Region: "us-east-1"}}
}

func (f *regFixture) must(err error) {
	f.tb.Helper()
	if err != nil {
		f.tb.Fatal(err)
	}
}

func (f *regFixture) nsID(opID string) string {
	f.tb.Helper()
	out, err := f.r.GetOperation(f.ctx, f.c, &cloudmap.GetOperationRequest{OperationId: opID})
	f.must(err)
	return out.Operation.Targets[cloudmap.OperationTargetTypeNamespace]
}

// private creates a private DNS namespace with SOA TTL 30.
func (f *regFixture) private(name string) string {
	f.tb.Helper()
	ttl := int64(30)
	out, err := f.r.CreatePrivateDnsNamespace(f.ctx, f.c, &cloudmap.CreatePrivateDnsNamespaceRequest{Name: name, Vpc: "vpc-1",
		Properties: &cloudmap.PrivateDnsNamespaceProperties{DnsProperties: &cloudmap.PrivateDnsPropertiesMutable{SOA: &cloudmap.SOA{TTL: &ttl}}}})
	f.must(err)
	return f.nsID(out.OperationId)
}

// service creates a DNS service with records of the given types (TTL 60).
func (f *regFixture) service(ns, name, policy string, types ...string) string {
	f.tb.Helper()
	var recs []cloudmap.DnsRecord
	for _, t := range types {
		ttl := int64(60)
		recs = append(recs, cloudmap.DnsRecord{Type: t, TTL: &ttl})
	}
	out, err := f.r.CreateService(f.ctx, f.c, &cloudmap.CreateServiceRequest{Name: name, NamespaceId: ns,
		DnsConfig: &cloudmap.DnsConfig{RoutingPolicy: policy, DnsRecords: recs}})
	f.must(err)
	return out.Service.Id
}

// register registers an instance with attributes given as key, value, ….
func (f *regFixture) register(svc, id string, kv ...string) {
	f.tb.Helper()
	attrs := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		attrs[kv[i]] = kv[i+1]
	}
	_, err := f.r.RegisterInstance(f.ctx, f.c, &cloudmap.RegisterInstanceRequest{ServiceId: svc, InstanceId: id, Attributes: attrs})
	f.must(err)
}

// multivalueA makes web.example.com, a MULTIVALUE A service with n
// instances.
func (f *regFixture) multivalueA(n int) {
	f.tb.Helper()
	svc := f.service(f.private("example.com"), "web", cloudmap.RoutingPolicyMultivalue, "A")
	for i := range n {
		f.register(svc, fmt.Sprintf("web-%d", i), registry.AttrIPv4, fmt.Sprintf("10.0.%d.%d", i/250, i%250+1))
	}
}

// everything makes a zone with a service of every kind, for fuzzing.
func (f *regFixture) everything() {
	f.tb.Helper()
	ns := f.private("example.com")
	mv, wt := cloudmap.RoutingPolicyMultivalue, cloudmap.RoutingPolicyWeighted
	web := f.service(ns, "web", mv, "A")
	for i := range 10 {
		f.register(web, fmt.Sprintf("web-%d", i), registry.AttrIPv4, fmt.Sprintf("192.0.2.%d", i+1))
	}
	dual := f.service(ns, "dual", mv, "A", "AAAA")
	f.register(dual, "d", registry.AttrIPv4, "192.0.2.1", registry.AttrIPv6, "2001:db8::1")
	srv := f.service(ns, "_http._tcp", mv, "SRV")
	for i, id := range []string{"i-1", "Node.A", "user@host", strings.Repeat("x", 63), "a/b:c"} {
		f.register(srv, id, registry.AttrIPv4, fmt.Sprintf("192.0.2.%d", i+1), registry.AttrIPv6, "2001:db8::9", registry.AttrPort, "443")
	}
	alias := f.service(ns, "alias", wt, "CNAME")
	f.register(alias, "c", registry.AttrCNAME, "www.example.org")
	f.private("dev.example.com")
}
