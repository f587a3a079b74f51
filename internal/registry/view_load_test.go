package registry

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/bolt"
)

// loadView, which decodes the snapshot while the store reads it, builds
// exactly the view that applying the whole snapshot at once builds (how
// a start loaded before): same namespaces, services, instances in the
// same order, operations and revisions. The store holds several windows
// of instances, in HTTP and DNS namespaces, with every field an instance
// record can carry, and deregistrations.
func TestLoadViewMatchesApply(t *testing.T) {
	st, err := bolt.Open(t.TempDir(), bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	r := newRegistryOver(t, st, Config{})
	ctx := context.Background()
	c := testCaller
	nsID := func(opID string) string {
		t.Helper()
		got, err := r.GetOperation(ctx, c, &cloudmap.GetOperationRequest{OperationId: opID})
		if err != nil {
			t.Fatal(err)
		}
		return got.Operation.Targets["NAMESPACE"]
	}
	httpOp, err := r.CreateHttpNamespace(ctx, c, &cloudmap.CreateHttpNamespaceRequest{Name: "h"})
	if err != nil {
		t.Fatal(err)
	}
	dnsOp, err := r.CreatePublicDnsNamespace(ctx, c, &cloudmap.CreatePublicDnsNamespaceRequest{Name: "load.example"})
	if err != nil {
		t.Fatal(err)
	}
	ttl := int64(60)
	var svcs []string
	for _, in := range []*cloudmap.CreateServiceRequest{
		{Name: "plain", NamespaceId: nsID(httpOp.OperationId)},
		{Name: "custom", NamespaceId: nsID(httpOp.OperationId), HealthCheckCustomConfig: &cloudmap.HealthCheckCustomConfig{}},
		{Name: "web", NamespaceId: nsID(dnsOp.OperationId), DnsConfig: &cloudmap.DnsConfig{DnsRecords: []cloudmap.DnsRecord{{Type: "A", TTL: &ttl}, {Type: "AAAA", TTL: &ttl}}}},
	} {
		out, err := r.CreateService(ctx, c, in)
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, out.Service.Id)
	}
	const n = 3*loadWindow + 100 // per service
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				for s, svc := range svcs {
					attrs := map[string]string{AttrIPv4: fmt.Sprintf("10.%d.%d.%d", s, i/256, i%256), AttrIPv6: "2001:db8::1", AttrPort: "80",
						"stage": []string{"prod", "canary", "tab\tin", "quote\"back\\slash", "<&>"}[i%5]}
					if _, err := r.RegisterInstance(ctx, c, &cloudmap.RegisterInstanceRequest{ServiceId: svc, InstanceId: fmt.Sprintf("i-%05d", i),
						CreatorRequestId: fmt.Sprintf("r-%d", i), Attributes: attrs}); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := 0; i < n; i += 7 {
		status := []string{"HEALTHY", "UNHEALTHY"}[i%2]
		if err := r.UpdateInstanceCustomHealthStatus(ctx, c, &cloudmap.UpdateInstanceCustomHealthStatusRequest{
			ServiceId: svcs[1], InstanceId: fmt.Sprintf("i-%05d", i), Status: status}); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i += 11 {
		if _, err := r.DeregisterInstance(ctx, c, &cloudmap.DeregisterInstanceRequest{ServiceId: svcs[i%3], InstanceId: fmt.Sprintf("i-%05d", i)}); err != nil {
			t.Fatal(err)
		}
	}

	got, err := loadView(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	want := applySnapshot(t, st)
	if got.rev != want.rev || got.rev == 0 {
		t.Fatalf("revision %d; applying the snapshot %d", got.rev, want.rev)
	}
	for _, v := range []*view{got, want} {
		v.notify, v.abandoned = nil, nil
	}
	if !reflect.DeepEqual(got, want) {
		for id, s := range want.services {
			g := got.services[id]
			if g == nil || !reflect.DeepEqual(g, s) {
				t.Errorf("service %s (%s) differs", id, s.rec.Name)
			}
		}
		t.Fatal("loadView's view differs from applying the snapshot")
	}
	// What was compared is what the test built.
	custom := 0
	for _, inst := range want.services[svcs[1]].list {
		if inst.custom != "" {
			custom++
		}
	}
	if len(want.services) != 3 || len(want.services[svcs[2]].list) < 2*loadWindow || len(want.services[svcs[2]].hosts) == 0 || custom == 0 || len(want.ops.byID) == 0 {
		t.Fatalf("the view holds %d services, %d instances in the DNS one, %d with a custom status, %d operations",
			len(want.services), len(want.services[svcs[2]].list), custom, len(want.ops.byID))
	}
}

// applySnapshot builds a view by applying the whole snapshot in one call,
// from values copied out of the store.
func applySnapshot(t *testing.T, st store.Store) *view {
	t.Helper()
	v := newView()
	v.keyRevs = map[string]int64{}
	var changes []store.Change
	rev, err := st.LoadRevs(context.Background(), func(key string, value []byte, keyRev int64) error {
		if relevant(key) {
			changes = append(changes, store.Change{Key: key, Value: slices.Clone(value)})
			if len(key) > len(pOperation) && key[:len(pOperation)] == pOperation {
				v.keyRevs[key] = keyRev
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := v.apply(rev, changes); err != nil {
		t.Fatal(err)
	}
	v.keyRevs = nil
	return v
}
