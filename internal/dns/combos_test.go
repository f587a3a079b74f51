package dns_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"
)

// TestRecords_SRVWithAddresses covers the combinations of SRV with A
// and/or AAAA records that the service accepts beyond the API reference's
// list (ECS's "any combination of A or SRV records"): created and
// registered through the SDK, each record type the service defines is
// answered over DNS, at the service's name and at the SRV targets, and
// each registration is checked against every type.
func TestRecords_SRVWithAddresses(t *testing.T) {
	const (
		ip4  = "AWS_INSTANCE_IPV4"
		ip6  = "AWS_INSTANCE_IPV6"
		port = "AWS_INSTANCE_PORT"
	)
	for _, tc := range []struct {
		name    string
		records map[types.RecordType]int64
		// instances registered, by ID, and what each makes.
		instances map[string]map[string]string
		wantA     []string // at the service's name
		wantAAAA  []string
		// refused are registrations refused with InvalidInput.
		refused []map[string]string
	}{
		{
			name:    "A+SRV",
			records: map[types.RecordType]int64{types.RecordTypeA: 40, types.RecordTypeSrv: 90},
			instances: map[string]map[string]string{
				"i-1": {ip4: "192.0.2.1", port: "8080"},
				"i-2": {ip4: "192.0.2.2", ip6: "2001:db8::2", port: "9090"},
			},
			wantA: []string{"192.0.2.1", "192.0.2.2"},
			refused: []map[string]string{
				{ip6: "2001:db8::3", port: "80"}, // the A record needs IPv4
				{ip4: "192.0.2.3"},               // the SRV record needs a port
			},
		},
		{
			name:    "AAAA+SRV",
			records: map[types.RecordType]int64{types.RecordTypeAaaa: 50, types.RecordTypeSrv: 90},
			instances: map[string]map[string]string{
				"i-1": {ip6: "2001:db8::1", port: "8080"},
				"i-2": {ip4: "192.0.2.2", ip6: "2001:db8::2", port: "9090"},
			},
			wantAAAA: []string{"2001:db8::1", "2001:db8::2"},
			refused: []map[string]string{
				{ip4: "192.0.2.3", port: "80"}, // the AAAA record needs IPv6
				{ip6: "2001:db8::3"},           // the SRV record needs a port
			},
		},
		{
			name:    "A+AAAA+SRV",
			records: map[types.RecordType]int64{types.RecordTypeA: 40, types.RecordTypeAaaa: 50, types.RecordTypeSrv: 90},
			instances: map[string]map[string]string{
				"i-1": {ip4: "192.0.2.1", port: "8080"},
				"i-2": {ip6: "2001:db8::2", port: "9090"},
				"i-3": {ip4: "192.0.2.3", ip6: "2001:db8::3", port: "80"},
			},
			wantA:    []string{"192.0.2.1", "192.0.2.3"},
			wantAAAA: []string{"2001:db8::2", "2001:db8::3"},
			refused: []map[string]string{
				{port: "80"},                           // A and AAAA need an address
				{ip4: "192.0.2.4", ip6: "2001:db8::4"}, // the SRV record needs a port
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ns := e.privateNS("example.com", 30)
			svc := e.service(ns, svcSpec{name: "_api._tcp", records: tc.records})
			got, err := e.sd.GetService(t.Context(), &sd.GetServiceInput{Id: aws.String(svc)})
			e.must(err)
			if n := len(got.Service.DnsConfig.DnsRecords); n != len(tc.records) {
				t.Fatalf("GetService shows %d records, want %d", n, len(tc.records))
			}
			for id, attrs := range tc.instances {
				e.register(svc, id, attrs)
			}
			for i, attrs := range tc.refused {
				_, err := e.sd.RegisterInstance(t.Context(), &sd.RegisterInstanceInput{ServiceId: aws.String(svc),
					InstanceId: aws.String(fmt.Sprintf("bad-%d", i)), Attributes: attrs})
				var invalid *types.InvalidInput
				if !errors.As(err, &invalid) {
					t.Errorf("RegisterInstance %v: %v, want InvalidInput", attrs, err)
				}
			}
			const name = "_api._tcp.example.com."
			for _, n := range nets {
				for _, q := range []struct {
					qtype uint16
					ttl   uint32
					want  []string
				}{{dns.TypeA, 40, tc.wantA}, {dns.TypeAAAA, 50, tc.wantAAAA}} {
					r := e.query(n, name, q.qtype)
					if q.want == nil {
						// A type the service doesn't define: NODATA.
						checkNegative(t, r, dns.RcodeSuccess, "example.com", 30)
						continue
					}
					checkAuthoritative(t, r, dns.RcodeSuccess)
					if got := addrs(t, r.Answer, name, q.ttl); !slices.Equal(got, q.want) {
						t.Errorf("%s %s: %v, want %v", n, dns.TypeToString[q.qtype], got, q.want)
					}
				}

				// SRV at the service's name, one per instance, with the
				// targets' addresses as additional records.
				r := e.query(n, name, dns.TypeSRV)
				checkAuthoritative(t, r, dns.RcodeSuccess)
				var srvs, wantSRV, extra, wantExtra []string
				for _, rr := range r.Answer {
					srv, ok := rr.(*dns.SRV)
					if !ok || srv.Hdr.Ttl != 90 || srv.Priority != 1 || srv.Weight != 1 {
						t.Fatalf("%s: SRV answer %v", n, rr)
					}
					srvs = append(srvs, fmt.Sprintf("%d %s", srv.Port, srv.Target))
				}
				for _, rr := range r.Extra {
					extra = append(extra, rr.String())
				}
				for id, attrs := range tc.instances {
					host := id + "." + name
					wantSRV = append(wantSRV, attrs[port]+" "+host)
					if a, ok := attrs[ip4]; ok {
						wantExtra = append(wantExtra, fmt.Sprintf("%s\t90\tIN\tA\t%s", host, a))
						if got := addrs(t, e.query(n, host, dns.TypeA).Answer, host, 90); !slices.Equal(got, []string{a}) {
							t.Errorf("%s: A at %s: %v", n, host, got)
						}
					} else {
						checkNegative(t, e.query(n, host, dns.TypeA), dns.RcodeSuccess, "example.com", 30)
					}
					if a, ok := attrs[ip6]; ok {
						wantExtra = append(wantExtra, fmt.Sprintf("%s\t90\tIN\tAAAA\t%s", host, a))
						if got := addrs(t, e.query(n, host, dns.TypeAAAA).Answer, host, 90); !slices.Equal(got, []string{a}) {
							t.Errorf("%s: AAAA at %s: %v", n, host, got)
						}
					} else {
						checkNegative(t, e.query(n, host, dns.TypeAAAA), dns.RcodeSuccess, "example.com", 30)
					}
				}
				if !sameSet(srvs, wantSRV) {
					t.Errorf("%s: SRV answer %v, want %v", n, srvs, wantSRV)
				}
				if !sameSet(extra, wantExtra) {
					t.Errorf("%s: additional section %v, want %v", n, extra, wantExtra)
				}

				// ANY has every type the service defines.
				r = e.query(n, name, dns.TypeANY)
				checkAuthoritative(t, r, dns.RcodeSuccess)
				if want := len(tc.wantA) + len(tc.wantAAAA) + len(tc.instances); len(r.Answer) != want {
					t.Errorf("%s: ANY has %d records, want %d: %v", n, len(r.Answer), want, r.Answer)
				}
			}

			// DiscoverInstances returns them all, with their attributes.
			out, err := e.sd.DiscoverInstances(t.Context(), &sd.DiscoverInstancesInput{NamespaceName: aws.String("example.com"), ServiceName: aws.String("_api._tcp")})
			e.must(err)
			if len(out.Instances) != len(tc.instances) {
				t.Errorf("DiscoverInstances: %d instances, want %d", len(out.Instances), len(tc.instances))
			}
		})
	}
}

// TestRecords_RefusedCombinations: CNAME combines with nothing, and a
// type may not be listed twice, through the SDK as AWS refuses them.
func TestRecords_RefusedCombinations(t *testing.T) {
	e := newEnv(t)
	ns := e.privateNS("example.com", 30)
	for i, recs := range [][]types.RecordType{
		{types.RecordTypeCname, types.RecordTypeA},
		{types.RecordTypeCname, types.RecordTypeAaaa},
		{types.RecordTypeCname, types.RecordTypeSrv},
		{types.RecordTypeA, types.RecordTypeAaaa, types.RecordTypeSrv, types.RecordTypeCname},
		{types.RecordTypeSrv, types.RecordTypeSrv},
	} {
		var dr []types.DnsRecord
		for _, r := range recs {
			dr = append(dr, types.DnsRecord{Type: r, TTL: aws.Int64(60)})
		}
		_, err := e.sd.CreateService(t.Context(), &sd.CreateServiceInput{Name: aws.String(fmt.Sprintf("s%d", i)), NamespaceId: aws.String(ns),
			DnsConfig: &types.DnsConfig{RoutingPolicy: types.RoutingPolicyWeighted, DnsRecords: dr}})
		var invalid *types.InvalidInput
		if !errors.As(err, &invalid) {
			t.Errorf("CreateService with %v: %v, want InvalidInput", recs, err)
		}
	}
}
