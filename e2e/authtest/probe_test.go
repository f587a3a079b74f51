package authtest_test

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/cairn-dev/cairn/server"
)

// countingListener is a TCP target that counts the connections it gets.
func countingListener(t *testing.T) (addr netip.AddrPort, conns *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	conns = new(atomic.Int64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			_ = c.Close()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String()), conns
}

// tcpChecked creates an HTTP namespace and a service with a TCP health
// check through c, and returns the service's ID.
func tcpChecked(t *testing.T, c *sd.Client, ns string) string {
	t.Helper()
	out, err := c.CreateHttpNamespace(t.Context(), &sd.CreateHttpNamespaceInput{Name: aws.String(ns)})
	if err != nil {
		t.Fatal(err)
	}
	nsID := waitOp(t, c, out.OperationId).Targets["NAMESPACE"]
	svc, err := c.CreateService(t.Context(), &sd.CreateServiceInput{Name: aws.String("probe"), NamespaceId: aws.String(nsID),
		HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeTcp, FailureThreshold: aws.Int32(1)}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(svc.Service.Id)
}

func register(c *sd.Client, t *testing.T, svcID, id string, addr netip.AddrPort) error {
	attrs := map[string]string{"AWS_INSTANCE_PORT": strconv.Itoa(int(addr.Port()))}
	if addr.Addr().Is4() {
		attrs["AWS_INSTANCE_IPV4"] = addr.Addr().String()
	} else {
		attrs["AWS_INSTANCE_IPV6"] = addr.Addr().String()
	}
	_, err := c.RegisterInstance(t.Context(), &sd.RegisterInstanceInput{ServiceId: aws.String(svcID), InstanceId: aws.String(id), Attributes: attrs})
	return err
}

// Issue 12: an account registered instances at 127.0.0.1:<port> and read
// from GetInstancesHealthStatus which of the host's ports were open. With
// --credentials, the default policy refuses such registrations with
// InvalidInput, and nothing is probed.
func TestHealthProbePolicy(t *testing.T) {
	t.Parallel()
	srv, _ := withCredsConfig(t, func(c *server.Config) {
		c.HealthInterval = 50 * time.Millisecond
		c.HealthProbeDeny = []netip.Prefix{netip.MustParsePrefix("10.66.0.0/16")}
	}, teamA)
	c := client(srv, teamA, "us-east-1")
	svcID := tcpChecked(t, c, "scan")
	target, conns := countingListener(t)
	api := netip.MustParseAddrPort(srv.APIAddr())
	for _, tc := range []struct {
		what string
		addr netip.AddrPort
		rule string
	}{
		{"a local port", target, "127.0.0.0/8 (loopback addresses, denied by default with --credentials; --health-probe-allow lets them through)"},
		{"cairn's API", api, api.String() + " (cairn's own listener or etcd"},
		{"loopback v6", netip.MustParseAddrPort("[::1]:2379"), "::1/128"},
		{"the metadata address", netip.MustParseAddrPort("169.254.169.254:80"), "169.254.0.0/16"},
		{"link-local v6", netip.MustParseAddrPort("[fe80::1]:80"), "fe80::/10"},
		{"unspecified", netip.MustParseAddrPort("0.0.0.0:9080"), "0.0.0.0/32"},
		{"multicast", netip.MustParseAddrPort("239.1.1.1:80"), "224.0.0.0/4"},
		{"the operator's deny", netip.MustParseAddrPort("10.66.1.1:80"), "10.66.0.0/16 of --health-probe-deny"},
	} {
		err := register(c, t, svcID, "i-"+strconv.Itoa(int(tc.addr.Port())), tc.addr)
		wantCode(t, tc.what, err, "InvalidInput")
		if err != nil && !strings.Contains(err.Error(), "is denied by the rule "+tc.rule) {
			t.Errorf("%s: %v; want the rule %s named", tc.what, err, tc.rule)
		}
	}
	// A private fleet address is fine (it is never reached here: probes
	// of 10.0.0.0/8 from a test machine just fail).
	if err := register(c, t, svcID, "fleet", netip.MustParseAddrPort("10.1.2.3:8080")); err != nil {
		t.Errorf("a private address: %v", err)
	}
	out, err := c.ListInstances(t.Context(), &sd.ListInstancesInput{ServiceId: aws.String(svcID)})
	if err != nil || len(out.Instances) != 1 {
		t.Fatalf("ListInstances = %v, %v; want only the fleet instance", out, err)
	}
	// Nothing was probed: several intervals pass, and the local target
	// saw no connection.
	deadline := time.Now().Add(500 * time.Millisecond)
	for time.Now().Before(deadline) {
		if n := conns.Load(); n != 0 {
			t.Fatalf("the refused target got %d connections", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// --health-probe-allow lets a denied range through: the target is
// registered and probed.
func TestHealthProbeAllow(t *testing.T) {
	t.Parallel()
	srv, _ := withCredsConfig(t, func(c *server.Config) {
		c.HealthInterval = 50 * time.Millisecond
		c.HealthProbeAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	}, teamA)
	c := client(srv, teamA, "us-east-1")
	svcID := tcpChecked(t, c, "allowed")
	target, conns := countingListener(t)
	if err := register(c, t, svcID, "local", target); err != nil {
		t.Fatalf("RegisterInstance of an allowed address: %v", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for conns.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the allowed target was never probed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Another loopback address stays denied.
	err := register(c, t, svcID, "other", netip.MustParseAddrPort("127.0.0.2:80"))
	wantCode(t, "127.0.0.2", err, "InvalidInput")
}
