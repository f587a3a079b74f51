package dns

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/registry"
)

// TestLookupDNS_SRVHost_IndexMatchesScan checks the index of SRV target
// host names against a scan of the service, as every lookup did before,
// for instance IDs with dots and upper case, through registrations,
// replacements and deregistrations.
func TestLookupDNS_SRVHost_IndexMatchesScan(t *testing.T) {
	r := openRegistry(t)
	ctx := context.Background()
	testCaller := registry.Caller{Account: "000000000000", Region: "us-east-1"}
	op, err := r.CreatePrivateDnsNamespace(ctx, testCaller, &cloudmap.CreatePrivateDnsNamespaceRequest{Name: "srv.test", Vpc: "vpc-1"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.GetOperation(ctx, testCaller, &cloudmap.GetOperationRequest{OperationId: op.OperationId})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := r.CreateService(ctx, testCaller, &cloudmap.CreateServiceRequest{Name: "_h._tcp", NamespaceId: got.Operation.Targets["NAMESPACE"],
		DnsConfig: &cloudmap.DnsConfig{RoutingPolicy: "MULTIVALUE", DnsRecords: dnsRecordsOf("SRV")}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	labels := []string{"a", "B", "web", "Web", "x1", "db", "c-2"}
	randomID := func() string {
		n := 1 + rng.IntN(3)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = labels[rng.IntN(len(labels))]
		}
		return strings.Join(parts, ".")
	}
	var ids []string
	for step := range 300 {
		id := randomID()
		if rng.IntN(4) == 0 && len(ids) > 0 {
			k := rng.IntN(len(ids))
			id = ids[k]
			ids = slices.Delete(ids, k, k+1)
			if _, err := r.DeregisterInstance(ctx, testCaller, &cloudmap.DeregisterInstanceRequest{ServiceId: svc.Service.Id, InstanceId: id}); err != nil {
				t.Fatal(err)
			}
		} else {
			attrs := map[string]string{"AWS_INSTANCE_IPV4": fmt.Sprintf("10.0.%d.%d", step/256, step%256), "AWS_INSTANCE_PORT": "80"}
			if rng.IntN(5) == 0 {
				attrs = map[string]string{"AWS_INSTANCE_IPV6": "2001:db8::1", "AWS_INSTANCE_PORT": "80"}
			}
			if _, err := r.RegisterInstance(ctx, testCaller, &cloudmap.RegisterInstanceRequest{ServiceId: svc.Service.Id, InstanceId: id, Attributes: attrs}); err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		if step%30 != 29 {
			continue
		}
		for _, q := range []string{randomID(), randomID(), strings.ToUpper(randomID())} {
			for _, qtype := range []uint16{registry.TypeA, registry.TypeAAAA, registry.TypeANY} {
				name := q + "._h._tcp.srv.test."
				var ans lookup
				lookupDNS(r, &ans, name, qtype, nil)
				exists, addrs := scanHosts(t, r, svc.Service.Id, canonicalName(name), strings.ToLower(q), qtype)
				if ans.Exists != exists || (len(ans.Answer) > 0) != (len(addrs) > 0) {
					t.Fatalf("step %d: %s %d: exists %v with %d records; a scan finds exists %v, records from %v", step, name, qtype, ans.Exists, len(ans.Answer), exists, addrs)
				}
				for _, rec := range ans.Answer {
					if !addrs[rec.Addr.String()] {
						t.Fatalf("step %d: %s %d: answer %v is not the address of an instance of that name (%v)", step, name, qtype, rec, addrs)
					}
				}
			}
		}
	}
}

// scanHosts is the SRV target lookup as a scan of the service's
// instances (listed through the API): whether
// the name exists, and the addresses that can answer qtype there.
func scanHosts(t *testing.T, r *registry.Registry, svcID, name, label string, qtype uint16) (bool, map[string]bool) {
	t.Helper()
	svcName := name[len(label)+1:]
	exists := false
	addrs := map[string]bool{}
	in := &cloudmap.ListInstancesRequest{ServiceId: svcID}
	for {
		page, err := r.ListInstances(context.Background(), registry.Caller{Account: "000000000000", Region: "us-east-1"}, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, inst := range page.Instances {
			if !registry.ValidHost(inst.Id, svcName) {
				continue
			}
			lower := strings.ToLower(inst.Id)
			if lower == label {
				for _, typ := range []uint16{registry.TypeA, registry.TypeAAAA} {
					key := registry.AttrIPv4
					if typ == registry.TypeAAAA {
						key = registry.AttrIPv6
					}
					if ip, ok := inst.Attributes[key]; ok {
						exists = true
						if qtype == typ || qtype == registry.TypeANY {
							addrs[ip] = true
						}
					}
				}
			} else if strings.HasSuffix(lower, "."+label) {
				exists = true
			}
		}
		if page.NextToken == "" {
			return exists, addrs
		}
		in.NextToken = page.NextToken
	}
}
