package observetest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"

	"github.com/cairn-dev/cairn/e2e/e2etest"
	"github.com/cairn-dev/cairn/server"
)

// TestMetricsFollowTraffic drives a server through the SDK, real DNS
// queries and real health probes, and reads what Prometheus would scrape.
func TestMetricsFollowTraffic(t *testing.T) {
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer target.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(target.URL, "http://"))
	srv, c := newServer(t, func(cfg *server.Config) { cfg.HealthInterval = 100 * time.Millisecond })
	ctx := context.Background()

	// API: successes, a modeled error, an unknown operation, a refused
	// signature.
	nsID := httpNamespace(t, c, "shop")
	svc, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("cart"), NamespaceId: aws.String(nsID),
		HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, ResourcePath: aws.String("/health")}})
	if err != nil {
		t.Fatal(err)
	}
	register(t, c, *svc.Service.Id, "cart-1", map[string]string{"AWS_INSTANCE_IPV4": "127.0.0.1", "AWS_INSTANCE_PORT": port})
	register(t, c, *svc.Service.Id, "cart-2", map[string]string{"AWS_INSTANCE_IPV4": "127.0.0.1", "AWS_INSTANCE_PORT": port})
	if _, err := c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("cart")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetService(ctx, &sd.GetServiceInput{Id: aws.String("srv-aaaaaaaaaaaaaaaa")}); err == nil {
		t.Fatal("GetService of an absent service succeeded")
	}
	post(t, srv.Endpoint, "Route53AutoNaming_v20170314.Frobnicate", "")
	post(t, srv.Endpoint, "Route53AutoNaming_v20170314.ListNamespaces", "AWS4-HMAC-SHA256 Credential=nonsense")

	// DNS: an answer, an NXDOMAIN, a REFUSED and a truncated answer.
	dnsID := dnsNamespace(t, c, "corp.test")
	web, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("web"), NamespaceId: aws.String(dnsID),
		DnsConfig: &types.DnsConfig{RoutingPolicy: types.RoutingPolicyMultivalue, DnsRecords: []types.DnsRecord{{Type: types.RecordTypeSrv, TTL: aws.Int64(60)}}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		register(t, c, *web.Service.Id, fmt.Sprintf("%s-%d", strings.Repeat("w", 56), i), map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_PORT": "80"})
	}
	query(t, srv.DNSAddr(), "web.corp.test.", dns.TypeSRV, dns.RcodeSuccess, true)
	query(t, srv.DNSAddr(), "nothing.corp.test.", dns.TypeA, dns.RcodeNameError, false)
	query(t, srv.DNSAddr(), "example.org.", dns.TypeA, dns.RcodeRefused, false)

	m := waitMetric(t, srv, `cairn_health_probes_total{result="healthy",type="HTTP"}`, 2)
	exact := map[string]float64{
		`cairn_api_requests_total{operation="RegisterInstance",outcome="ok"}`:               10,
		`cairn_api_requests_total{operation="GetService",outcome="ServiceNotFound"}`:        1,
		`cairn_api_requests_total{operation="unknown",outcome="UnknownOperationException"}`: 1,
		`cairn_api_auth_refusals_total{reason="incomplete_signature"}`:                      1,
		`cairn_api_request_duration_seconds_count{operation="DiscoverInstances"}`:           1,
		`cairn_dns_queries_total{qtype="SRV",rcode="NOERROR"}`:                              1,
		`cairn_dns_queries_total{qtype="A",rcode="NXDOMAIN"}`:                               1,
		`cairn_dns_queries_total{qtype="A",rcode="REFUSED"}`:                                1,
		`cairn_dns_query_duration_seconds_count`:                                            3,
		`cairn_dns_truncated_total`:                                                         1,
		`cairn_namespaces{account="000000000000",region="us-east-1"}`:                       2,
		`cairn_services{account="000000000000",region="us-east-1"}`:                         2,
		`cairn_instances{account="000000000000",region="us-east-1"}`:                        10,
		`cairn_health_checks_owned`:                                                         2,
		`cairn_api_list_operations_waiting`:                                                 0,
	}
	for series, want := range exact {
		if got, ok := m[series]; !ok || got != want {
			t.Errorf("%s = %v (present %v); want %v", series, got, ok, want)
		}
	}
	atLeast := map[string]float64{
		`cairn_store_commit_duration_seconds_count`:                                          12,
		`cairn_store_commit_batch_size_count`:                                                12,
		`cairn_view_apply_lag_seconds_count`:                                                 12,
		`cairn_health_probe_duration_seconds_count{type="HTTP"}`:                             2,
		`cairn_health_probe_lag_seconds_count`:                                               2,
		`go_goroutines`:                                                                      1,
		`process_start_time_seconds`:                                                         1,
		`cairn_api_request_duration_seconds_bucket{operation="DiscoverInstances",le="+Inf"}`: 1,
	}
	if !etcdRun() {
		atLeast[`cairn_store_sync_duration_seconds_count`] = 12
	}
	for series, want := range atLeast {
		if got := m[series]; got < want {
			t.Errorf("%s = %v; want at least %v", series, got, want)
		}
	}
	// Bounded cardinality: no instance ID, request ID or namespace ID is a
	// label value.
	_, body := get(t, "http://"+srv.AdminAddr()+"/metrics")
	for _, id := range []string{"cart-1", nsID, *svc.Service.Id, strings.Repeat("w", 56)} {
		if strings.Contains(body, id) {
			t.Errorf("/metrics mentions %q", id)
		}
	}
}

// TestHealthFlipsCounted: a target that starts failing flips its check
// after the threshold, and the flip is counted.
func TestHealthFlipsCounted(t *testing.T) {
	var failing = make(chan struct{})
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-failing:
			w.WriteHeader(http.StatusInternalServerError)
		default:
		}
	}))
	defer target.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(target.URL, "http://"))
	srv, c := newServer(t, func(cfg *server.Config) { cfg.HealthInterval = 100 * time.Millisecond })
	nsID := httpNamespace(t, c, "shop")
	svc, err := c.CreateService(context.Background(), &sd.CreateServiceInput{Name: aws.String("cart"), NamespaceId: aws.String(nsID),
		HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, FailureThreshold: aws.Int32(1)}})
	if err != nil {
		t.Fatal(err)
	}
	register(t, c, *svc.Service.Id, "cart-1", map[string]string{"AWS_INSTANCE_IPV4": "127.0.0.1", "AWS_INSTANCE_PORT": port})
	waitMetric(t, srv, `cairn_health_probes_total{result="healthy",type="HTTP"}`, 1)
	close(failing)
	waitMetric(t, srv, `cairn_health_status_changes_total{to="unhealthy"}`, 1)
	waitMetric(t, srv, `cairn_health_probes_total{result="unhealthy",type="HTTP"}`, 1)
}

// post sends a raw API request, unsigned or with the given Authorization,
// which must be refused with 400.
func post(t *testing.T, endpoint, target, authorization string) {
	t.Helper()
	resp := e2etest.Post(t, endpoint, target, []byte("{}"), func(req *http.Request) {
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
			req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
		}
	})
	if resp.Status != http.StatusBadRequest {
		t.Fatalf("%s: status %d; want 400", target, resp.Status)
	}
}

// query asks the server's DNS over UDP, without EDNS0, and checks the
// answer's rcode and truncation.
func query(t *testing.T, addr, name string, qtype uint16, rcode int, truncated bool) {
	t.Helper()
	r := e2etest.Query(t, addr, name, qtype)
	if r.Rcode != rcode || r.Truncated != truncated {
		t.Fatalf("query %s: rcode %s truncated %v; want %s, %v", name, dns.RcodeToString[r.Rcode], r.Truncated, dns.RcodeToString[rcode], truncated)
	}
}
