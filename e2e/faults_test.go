package e2e_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/miekg/dns"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/e2e/e2etest"
	"github.com/cairn-dev/cairn/server"
)

// noRetries is a client of srv that sends each call once.
func noRetries(srv *cairntest.Server) *sd.Client {
	cfg := srv.AWSConfig.Copy()
	cfg.RetryMaxAttempts = 1
	return sd.NewFromConfig(cfg)
}

// status is the HTTP status of an SDK error.
func status(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// Injected errors come with AWS's status and shape, so the SDK decodes
// them as it decodes AWS's: modeled errors as their types, the common
// ones by code.
func TestFaults_Errors(t *testing.T) {
	srv := cairntest.NewServer(t)
	c := noRetries(srv)
	ctx := t.Context()
	nsID := mustNamespace(t, c, httpNS, "shop")
	a, b := httpService(t, c, nsID, "a"), httpService(t, c, nsID, "b")

	srv.FailOperation(t, "DiscoverInstances", "NamespaceNotFound")
	_, err := c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("a")})
	if nf := wantErr[*types.NamespaceNotFound](t, err); !strings.Contains(nf.ErrorMessage(), "Injected fault") || status(err) != 400 {
		t.Fatalf("injected NamespaceNotFound: %v (HTTP %d)", err, status(err))
	}
	for code, want := range map[string]int{"ServiceUnavailable": 503, "InternalFailure": 500, "ThrottlingException": 400} {
		id := srv.FailOperation(t, "ListNamespaces", code)
		_, err := c.ListNamespaces(ctx, &sd.ListNamespacesInput{})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != code || status(err) != want {
			t.Errorf("injected %s: %v (HTTP %d); want HTTP %d", code, err, status(err), want)
		}
		srv.Faults().Clear("", id)
	}

	// Limited to one service; counted.
	srv.AddFault(t, cairntest.Fault{Operation: "GetService", Error: "ServiceNotFound", ServiceId: aws.ToString(a.Id), Count: 2})
	if _, err := c.GetService(ctx, &sd.GetServiceInput{Id: b.Id}); err != nil {
		t.Fatalf("a fault on service a failed service b: %v", err)
	}
	for range 2 {
		_, err := c.GetService(ctx, &sd.GetServiceInput{Id: a.Id})
		wantErr[*types.ServiceNotFound](t, err)
	}
	if _, err := c.GetService(ctx, &sd.GetServiceInput{Id: a.Id}); err != nil {
		t.Fatalf("a fault of count 2 fired a third time: %v", err)
	}

	// Half the time.
	srv.AddFault(t, cairntest.Fault{Operation: "ListServices", Error: "InvalidInput", Probability: 0.5})
	failed := 0
	for range 100 {
		if _, err := c.ListServices(ctx, &sd.ListServicesInput{}); err != nil {
			failed++
		}
	}
	if failed == 0 || failed == 100 {
		t.Fatalf("a fault of probability 0.5 failed %d of 100 calls", failed)
	}

	// The SDK's retryer rides through a transient ServiceUnavailable.
	srv.AddFault(t, cairntest.Fault{Operation: "ListOperations", Error: "ServiceUnavailable", Count: 1})
	if _, err := sd.NewFromConfig(srv.AWSConfig).ListOperations(ctx, &sd.ListOperationsInput{}); err != nil {
		t.Fatalf("one ServiceUnavailable was not retried through: %v", err)
	}

	// A reset forgets the faults.
	srv.Reset(t)
	if _, err := c.ListServices(ctx, &sd.ListServicesInput{}); err != nil {
		t.Fatalf("after a reset: %v", err)
	}
	if _, err := srv.Faults().Add(srv.Account, cairntest.Fault{Operation: "ListServices", Error: "NamespaceNotFound"}); err == nil {
		t.Fatal("ListServices was given an error it does not model")
	}
}

func TestFaults_Latency(t *testing.T) {
	srv := cairntest.NewServer(t)
	c := noRetries(srv)
	srv.DelayOperation(t, "ListNamespaces", 300*time.Millisecond)
	start := time.Now()
	if _, err := c.ListNamespaces(t.Context(), &sd.ListNamespacesInput{}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Fatalf("a delayed call took %v", took)
	}
}

func TestFaults_DNS(t *testing.T) {
	srv := cairntest.NewServer(t)
	c := sd.NewFromConfig(srv.AWSConfig)
	nsID := mustNamespace(t, c, privateNS, "corp.test")
	web := aService(t, c, nsID, "web")
	mustRegister(t, c, aws.ToString(web.Id), "w1", ipv4(1))
	query := func(name string, timeout time.Duration) (*dns.Msg, time.Duration, error) {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		cl := &dns.Client{Timeout: timeout}
		in, rtt, err := cl.Exchange(m, srv.DNSAddr())
		return in, rtt, err
	}
	srv.FailDNS(t, "web.corp.test", "SERVFAIL")
	if in, _, err := query("WEB.corp.test.", time.Second); err != nil || in.Rcode != dns.RcodeServerFailure {
		t.Fatalf("SERVFAIL fault: %v, %v", in, err)
	}
	if in, _, err := query("corp.test.", time.Second); err != nil || in.Rcode != dns.RcodeSuccess {
		t.Fatalf("the apex, outside the fault: %v, %v", in, err)
	}
	srv.ClearFaults(t)
	srv.FailDNS(t, "corp.test", "NOANSWER")
	if _, _, err := query("web.corp.test.", 300*time.Millisecond); err == nil {
		t.Fatal("a NOANSWER fault answered")
	}
	srv.ClearFaults(t)
	srv.DelayDNS(t, "web.corp.test", 200*time.Millisecond)
	start := time.Now()
	if in, _, err := query("web.corp.test.", 5*time.Second); err != nil || len(in.Answer) != 1 || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("a delayed answer: %v, %v after %v", in, err, time.Since(start))
	}
}

// A forced health status shows in discovery, DNS and
// GetInstancesHealthStatus, and ends by itself.
func TestFaults_ForceHealth(t *testing.T) {
	srv := cairntest.NewServer(t)
	c := sd.NewFromConfig(srv.AWSConfig)
	ctx := t.Context()
	nsID := mustNamespace(t, c, privateNS, "corp.test")
	web := mustService(t, c, &sd.CreateServiceInput{Name: aws.String("web"), NamespaceId: aws.String(nsID), HealthCheckCustomConfig: &types.HealthCheckCustomConfig{},
		DnsConfig: &types.DnsConfig{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(60)}}}})
	mustRegister(t, c, aws.ToString(web.Id), "w1", ipv4(1))
	mustRegister(t, c, aws.ToString(web.Id), "w2", ipv4(2))
	srv.ForceHealth(t, aws.ToString(web.Id), "w1", "UNHEALTHY", time.Second)
	healthy := discoverIDs(t, c, &sd.DiscoverInstancesInput{NamespaceName: aws.String("corp.test"), ServiceName: aws.String("web"), HealthStatus: types.HealthStatusFilterHealthy})
	if !sameSet(healthy, set("w2")) {
		t.Fatalf("healthy while w1 is forced UNHEALTHY: %v", healthy)
	}
	hs, err := c.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: web.Id})
	if err != nil || hs.Status["w1"] != types.HealthStatusUnhealthy {
		t.Fatalf("GetInstancesHealthStatus: %v, %v", hs, err)
	}
	if got := e2etest.Query(t, srv.DNSAddr(), "web.corp.test.", dns.TypeA); len(got.Answer) != 1 {
		t.Fatalf("DNS while w1 is forced UNHEALTHY: %v", got.Answer)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !sameSet(discoverIDs(t, c, &sd.DiscoverInstancesInput{NamespaceName: aws.String("corp.test"), ServiceName: aws.String("web"),
		HealthStatus: types.HealthStatusFilterHealthy}), set("w1", "w2")) {
		if time.Now().After(deadline) {
			t.Fatal("the forced status did not end")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// --faults FILE injects faults from the start; a bad file stops the
// server with its position.
func TestFaults_File(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "faults.yaml")
	os.WriteFile(good, []byte("Faults:\n  - {Operation: ListNamespaces, Error: InternalFailure, Count: 1}\n  - {DNSName: x.test, DNS: SERVFAIL}\n"), 0o600)
	srv := cairntest.NewServer(t, cairntest.WithConfig(func(c *server.Config) { c.FaultsFile = good }))
	c := noRetries(srv)
	if _, err := c.ListNamespaces(context.Background(), &sd.ListNamespacesInput{}); status(err) != 500 {
		t.Fatalf("the file's fault: %v", err)
	}
	if n := len(srv.Faults().List(srv.Account)); n != 1 {
		t.Fatalf("%d faults left; want the DNS one", n)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("Faults:\n  - Operation: ListNamespaces\n    Eror: InternalFailure\n"), 0o600)
	cfg := server.DefaultConfig()
	cfg.APIAddr, cfg.DNSAddr, cfg.DataDir, cfg.FaultsFile = "127.0.0.1:0", "", t.TempDir(), bad
	if s, err := server.Start(cfg); err == nil {
		s.Close(context.Background())
		t.Fatal("started with a bad faults file")
	} else if !strings.Contains(err.Error(), bad+`:3:5: unknown member "Eror"`) {
		t.Fatalf("error %v", err)
	}
}
