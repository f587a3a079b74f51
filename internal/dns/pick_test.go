package dns

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/registry"
)

// checkUniform fails unless every key of counts is near want.
func checkUniform(t *testing.T, what string, counts map[string]int, keys int, want float64) {
	t.Helper()
	if len(counts) != keys {
		t.Errorf("%s: %d distinct values, want %d: %v", what, len(counts), keys, counts)
	}
	for k, n := range counts {
		if math.Abs(float64(n)-want) > 0.15*want {
			t.Errorf("%s: %s drawn %d times, want about %.0f", what, k, n, want)
		}
	}
}

// The draw of a MULTIVALUE answer is uniform: every instance of the pool
// is in an answer equally often, and first in it equally often (clients
// often take the first). Both the whole-list and the filtered pool.
func TestLookupDNS_MultivalueDrawIsUniform(t *testing.T) {
	fx := newDNSFixture(t)
	ctx := context.Background()
	c := registry.Caller{Account: "000000000000", Region: "us-east-1"}
	ns, err := fx.r.ListNamespaces(ctx, c, &cloudmap.ListNamespacesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var exID string
	for _, n := range ns.Namespaces {
		if n.Name == "example.com" {
			exID = n.Id
		}
	}
	mixed, err := fx.r.CreateService(ctx, c, &cloudmap.CreateServiceRequest{Name: "mixed", NamespaceId: exID,
		DnsConfig:               &cloudmap.DnsConfig{RoutingPolicy: cloudmap.RoutingPolicyMultivalue, DnsRecords: dnsRecordsOf("A")},
		HealthCheckCustomConfig: &cloudmap.HealthCheckCustomConfig{}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		in := &cloudmap.RegisterInstanceRequest{ServiceId: mixed.Service.Id, InstanceId: fmt.Sprint("m-", i),
			Attributes: attrsOf(registry.AttrIPv4, fmt.Sprintf("192.0.2.%d", i+1))}
		if i%4 == 0 {
			in.Attributes[registry.AttrInitHealth] = cloudmap.CustomHealthStatusUnhealthy
		}
		if _, err := fx.r.RegisterInstance(ctx, c, in); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name       string
		pool, size int
	}{{"web.example.com", 12, 8}, {"mixed.example.com", 15, 8}, {"down.example.com", 10, 8}} {
		const draws = 20000
		in, first := map[string]int{}, map[string]int{}
		for range draws {
			ans := fx.ask(tc.name, registry.TypeA)
			if len(ans.Answer) != tc.size {
				t.Fatalf("%s: %d records", tc.name, len(ans.Answer))
			}
			seen := map[string]bool{}
			for _, rec := range ans.Answer {
				ip := rec.Addr.String()
				if seen[ip] {
					t.Fatalf("%s: %s twice in one answer", tc.name, ip)
				}
				seen[ip] = true
				in[ip]++
			}
			first[ans.Answer[0].Addr.String()]++
		}
		checkUniform(t, tc.name+" in the answer", in, tc.pool, draws*float64(tc.size)/float64(tc.pool))
		checkUniform(t, tc.name+" first", first, tc.pool, draws/float64(tc.pool))
	}
}
