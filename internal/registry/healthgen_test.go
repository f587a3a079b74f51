package registry

import (
	"context"
	"fmt"
	"testing"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store/etcd"
	"github.com/cairn-dev/cairn/internal/store/etcd/etcdtest"
)

// TestReplaceHealthCheckOfManyProbedInstances replaces the health check of
// a service whose probed instances outnumber what one etcd transaction
// may hold (etcd's default --max-txn-ops, 128): every status the old check
// measured is forgotten, in one small commit, and stays forgotten after a
// restart; the new check's results count.
func TestReplaceHealthCheckOfManyProbedInstances(t *testing.T) {
	e := etcdtest.Start(t) // etcd's defaults: --max-txn-ops 128
	ctx := context.Background()
	open := func() *Registry {
		st, err := etcd.Open(ctx, etcd.Options{Endpoints: e.Endpoints(), Prefix: "/probes/"})
		if err != nil {
			t.Fatal(err)
		}
		r, err := New(ctx, st, Config{Limits: DefaultLimits()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close(); _ = st.Close() })
		return r
	}
	r := open()
	c := Caller{Account: "000000000000", Region: "us-east-1"}
	op, err := r.CreatePublicDnsNamespace(ctx, c, &cloudmap.CreatePublicDnsNamespaceRequest{Name: "probes.example"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.GetOperation(ctx, c, &cloudmap.GetOperationRequest{OperationId: op.OperationId})
	if err != nil {
		t.Fatal(err)
	}
	ttl := int64(60)
	svc, err := r.CreateService(ctx, c, &cloudmap.CreateServiceRequest{Name: "web", NamespaceId: got.Operation.Targets["NAMESPACE"],
		DnsConfig:         &cloudmap.DnsConfig{DnsRecords: []cloudmap.DnsRecord{{Type: "A", TTL: &ttl}}},
		HealthCheckConfig: &cloudmap.HealthCheckConfig{Type: "HTTP", ResourcePath: "/old"}})
	if err != nil {
		t.Fatal(err)
	}
	svcID := svc.Service.Id
	const n = 200
	for i := range n {
		if _, err := r.RegisterInstance(ctx, c, &cloudmap.RegisterInstanceRequest{ServiceId: svcID, InstanceId: fmt.Sprintf("i-%03d", i),
			Attributes: map[string]string{AttrIPv4: "192.0.2.1", AttrPort: "80"}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, target := range r.HealthTargets() {
		if err := r.ReportHealth(ctx, target, false); err != nil {
			t.Fatal(err)
		}
	}
	statuses := func(r *Registry) map[string]int {
		t.Helper()
		count := map[string]int{}
		next := ""
		for {
			out, err := r.GetInstancesHealthStatus(ctx, c, &cloudmap.GetInstancesHealthStatusRequest{ServiceId: svcID, NextToken: next})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range out.Status {
				count[s]++
			}
			if next = out.NextToken; next == "" {
				return count
			}
		}
	}
	if s := statuses(r); s[cloudmap.HealthStatusUnhealthy] != n {
		t.Fatalf("statuses after the failed probes: %v; want %d UNHEALTHY", s, n)
	}

	if _, err := r.UpdateService(ctx, c, &cloudmap.UpdateServiceRequest{Id: svcID,
		Service: &cloudmap.ServiceChange{HealthCheckConfig: &cloudmap.HealthCheckConfig{Type: "HTTP", ResourcePath: "/new"}}}); err != nil {
		t.Fatalf("UpdateService of a service with %d probed instances: %v", n, err)
	}
	if s := statuses(r); s[cloudmap.HealthStatusHealthy] != n {
		t.Errorf("statuses after the check was replaced: %v; want %d HEALTHY (a new check starts healthy)", s, n)
	}
	for _, target := range r.HealthTargets() {
		if target.InstanceID == "i-007" {
			if err := r.ReportHealth(ctx, target, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]int{cloudmap.HealthStatusHealthy: n - 1, cloudmap.HealthStatusUnhealthy: 1}
	if s := statuses(r); s[cloudmap.HealthStatusHealthy] != want[cloudmap.HealthStatusHealthy] || s[cloudmap.HealthStatusUnhealthy] != 1 {
		t.Errorf("statuses after the new check failed one instance: %v; want %v", s, want)
	}
	if s := statuses(open()); s[cloudmap.HealthStatusHealthy] != want[cloudmap.HealthStatusHealthy] || s[cloudmap.HealthStatusUnhealthy] != 1 {
		t.Errorf("statuses seen by a server started afterwards: %v; want %v", s, want)
	}
}
