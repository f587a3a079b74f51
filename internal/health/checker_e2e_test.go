package health_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/server"
)

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestChecker_HTTPTargetFailsAndRecovers(t *testing.T) {
	srv := cairntest.NewServer(t, cairntest.WithConfig(func(c *server.Config) { c.HealthInterval = 100 * time.Millisecond }))
	ctx := context.Background()
	client := sd.NewFromConfig(srv.AWSConfig)

	var failing atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	t.Cleanup(target.Close)
	host, port, _ := net.SplitHostPort(target.Listener.Addr().String())

	op, err := client.CreatePublicDnsNamespace(ctx, &sd.CreatePublicDnsNamespaceInput{Name: aws.String("example.com")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := client.GetOperation(ctx, &sd.GetOperationInput{OperationId: op.OperationId})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := client.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("web"), NamespaceId: aws.String(got.Operation.Targets["NAMESPACE"]),
		DnsConfig:         &types.DnsConfig{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(10)}}},
		HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, ResourcePath: aws.String("/health"), FailureThreshold: aws.Int32(2)}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svc.Service.Id, InstanceId: aws.String("web-1"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": host, "AWS_INSTANCE_PORT": port}}); err != nil {
		t.Fatal(err)
	}
	status := func() types.HealthStatus {
		out, err := client.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: svc.Service.Id})
		if err != nil {
			t.Fatal(err)
		}
		return out.Status["web-1"]
	}
	healthyCount := func() int {
		out, err := client.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("example.com"), ServiceName: aws.String("web")})
		if err != nil {
			t.Fatal(err)
		}
		return len(out.Instances)
	}
	if s := status(); s != types.HealthStatusHealthy {
		t.Fatalf("a new check is %s, want HEALTHY", s)
	}
	eventually(t, "the checker has probed", func() bool { return srv.HealthStats().Probes >= 2 })

	failing.Store(true)
	eventually(t, "the failing instance is UNHEALTHY", func() bool { return status() == types.HealthStatusUnhealthy })
	if n := healthyCount(); n != 0 {
		t.Fatalf("DiscoverInstances (HEALTHY) returned %d instances, want 0", n)
	}
	failing.Store(false)
	eventually(t, "the instance recovers", func() bool { return status() == types.HealthStatusHealthy })
	if n := healthyCount(); n != 1 {
		t.Fatalf("DiscoverInstances returned %d instances after recovery, want 1", n)
	}
}
