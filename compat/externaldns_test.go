//go:build unix

package compat_test

// external-dns, unmodified, reconciling DNS records into cairn through its
// AWS Cloud Map provider (aws-sd). Its "connector" source reads the wanted
// records from a TCP server (gob-encoded endpoints), so no Kubernetes is
// needed: this test is that server, runs `external-dns --once` three
// times, and checks what external-dns did to cairn, through the API and
// through cairn's DNS.

import (
	"context"
	"encoding/gob"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"

	"github.com/cairn-dev/cairn/cairntest"
)

// externalDNSVersion is the newest external-dns whose dependencies the Go
// module proxy serves and whose go directive (1.26.1) this toolchain
// meets: v0.22.0 needs github.com/exoscale/egoscale/v3@v3.1.44 and an
// openshift/api pseudo-version that the proxy refuses, and v0.23.0 needs
// go 1.27.
const externalDNSVersion = "v0.21.0"

var (
	ednsOnce sync.Once
	ednsDir  string
	ednsBin  string
	ednsErr  error
	ednsTook time.Duration
)

// buildExternalDNS builds external-dns with `go install …@version` into a
// temporary GOBIN, once per test binary (TestMain may start it early); the
// module and build caches are the user's (GOMODCACHE, GOCACHE), so only
// the first build on a machine is slow.
func buildExternalDNS() {
	ednsOnce.Do(func() {
		gobin, err := os.MkdirTemp("", "cairn-compat-external-dns-")
		if err != nil {
			ednsErr = err
			return
		}
		ednsDir = gobin // TestMain removes it
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goTool(), "install", "sigs.k8s.io/external-dns@"+externalDNSVersion)
		cmd.Dir = gobin // outside cairn's module
		cmd.Env = append(os.Environ(), "GOBIN="+gobin, "GOFLAGS=-mod=mod")
		started := time.Now()
		out, err := cmd.CombinedOutput()
		ednsTook = time.Since(started)
		if err != nil {
			ednsErr = &buildError{out: string(out), err: err}
			return
		}
		ednsBin = filepath.Join(gobin, "external-dns")
	})
}

// externalDNS returns the external-dns binary, building it if need be.
func externalDNS(t *testing.T) string {
	t.Helper()
	waited := time.Now()
	buildExternalDNS()
	if ednsErr != nil {
		t.Fatalf("go install sigs.k8s.io/external-dns@%s: %v\n(set CAIRN_COMPAT_SKIP=externaldns to skip this test where the Go module proxy can't be reached)",
			externalDNSVersion, ednsErr)
	}
	t.Logf("go install sigs.k8s.io/external-dns@%s took %v (this test waited %v for it)", externalDNSVersion,
		ednsTook.Round(100*time.Millisecond), time.Since(waited).Round(100*time.Millisecond))
	return ednsBin
}

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// edEndpoint has the fields of external-dns's endpoint.Endpoint that the
// connector source decodes (gob matches fields by name).
type edEndpoint struct {
	DNSName    string
	Targets    []string
	RecordType string
	RecordTTL  int64
	Labels     map[string]string
}

// connector serves the wanted endpoints to external-dns's connector source:
// one gob-encoded []*Endpoint per connection.
type connector struct {
	mu  sync.Mutex
	eps []*edEndpoint
	ln  net.Listener
}

func newConnector(t *testing.T) *connector {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &connector{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			eps := c.eps
			c.mu.Unlock()
			_ = gob.NewEncoder(conn).Encode(eps)
			conn.Close()
		}
	}()
	return c
}

func (c *connector) set(eps ...*edEndpoint) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.eps = eps
}

func record(name, typ string, ttl int64, targets ...string) *edEndpoint {
	return &edEndpoint{DNSName: name, RecordType: typ, RecordTTL: ttl, Targets: targets,
		Labels: map[string]string{"resource": "compat/" + strings.Split(name, ".")[0]}}
}

func TestExternalDNS(t *testing.T) {
	skipRequested(t, "externaldns")
	skipShort(t, "building external-dns takes minutes on a cold cache")
	if dataHost == "" {
		t.Skipf("external-dns can't turn the data- host prefix off, and %s", dataHostWhy)
	}
	t.Parallel()
	bin := externalDNS(t)
	// SigV4 on, but operations complete at once: external-dns never polls
	// GetOperation, and registers right after it creates or updates.
	c := startCairn(t, true, "--operation-delay", "0")
	ctx := t.Context()

	cfg := cairntest.AWSConfig(c.Endpoint, region)
	cfg.Credentials = credentials.NewStaticCredentialsProvider(accessKey, secretKey, "")
	api := sd.NewFromConfig(cfg)
	const zone = "edns.internal"
	created, err := api.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String(zone), Vpc: aws.String("vpc-0compat0000000001")})
	if err != nil {
		t.Fatal(err)
	}
	op, err := api.GetOperation(ctx, &sd.GetOperationInput{OperationId: created.OperationId})
	if err != nil || op.Operation.Status != types.OperationStatusSuccess {
		t.Fatalf("create namespace: %v %v", op, err)
	}
	nsID := op.Operation.Targets["NAMESPACE"]
	// A namespace outside --domain-filter, which external-dns must leave alone.
	if _, err := api.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("other.internal")}); err != nil {
		t.Fatal(err)
	}

	conn := newConnector(t)
	env := clientEnv(t, c, "edns")
	env = append(env, "AWS_ENDPOINT_URL_SERVICEDISCOVERY="+c.DataEndpoint)
	run := func(round string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "--provider=aws-sd", "--registry=aws-sd", "--source=connector",
			"--connector-source-server="+conn.ln.Addr().String(), "--txt-owner-id=cairn-compat",
			"--domain-filter="+zone, "--aws-sd-service-cleanup", "--once", "--metrics-address=127.0.0.1:0", "--log-level=debug")
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("external-dns, %s: %v\n%s", round, err, out)
		}
		for _, l := range lines(string(out), "level=") {
			if strings.Contains(l, "level=error") || strings.Contains(l, "level=fatal") || strings.Contains(l, "level=warn") {
				t.Errorf("external-dns, %s, logged: %s", round, l)
			}
		}
		var did []string
		for _, l := range lines(string(out), "level=info") {
			if !strings.Contains(l, "config: ") && !strings.Contains(l, "GitCommit") {
				did = append(did, l)
			}
		}
		t.Logf("external-dns, %s:\n%s", round, strings.Join(did, "\n"))
		return string(out)
	}

	type svcState struct {
		Type, Policy string
		TTL          int64
		Instances    map[string]map[string]string
		Description  string
	}
	state := func() map[string]svcState {
		t.Helper()
		got := map[string]svcState{}
		p := sd.NewListServicesPaginator(api, &sd.ListServicesInput{Filters: []types.ServiceFilter{{Name: types.ServiceFilterNameNamespaceId, Values: []string{nsID}}}})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range page.Services {
				st := svcState{Instances: map[string]map[string]string{}, Description: aws.ToString(s.Description)}
				if s.DnsConfig != nil && len(s.DnsConfig.DnsRecords) > 0 {
					st.Type, st.Policy, st.TTL = string(s.DnsConfig.DnsRecords[0].Type), string(s.DnsConfig.RoutingPolicy), aws.ToInt64(s.DnsConfig.DnsRecords[0].TTL)
				}
				ip := sd.NewListInstancesPaginator(api, &sd.ListInstancesInput{ServiceId: s.Id})
				for ip.HasMorePages() {
					ipage, err := ip.NextPage(ctx)
					if err != nil {
						t.Fatal(err)
					}
					for _, in := range ipage.Instances {
						st.Instances[aws.ToString(in.Id)] = in.Attributes
					}
				}
				got[aws.ToString(s.Name)] = st
			}
		}
		return got
	}
	expect := func(got map[string]svcState, name, typ, policy string, ttl int64, instances map[string]map[string]string) {
		t.Helper()
		s, ok := got[name]
		if !ok {
			t.Errorf("no service %s; services: %v", name, got)
			return
		}
		if s.Type != typ || s.Policy != policy || s.TTL != ttl {
			t.Errorf("service %s: %s %s TTL %d, want %s %s TTL %d", name, s.Type, s.Policy, s.TTL, typ, policy, ttl)
		}
		if !strings.Contains(s.Description, "external-dns/owner=cairn-compat") {
			t.Errorf("service %s: description %q does not name external-dns's owner", name, s.Description)
		}
		if len(s.Instances) != len(instances) {
			t.Errorf("service %s: instances %v, want %v", name, s.Instances, instances)
			return
		}
		for id, attrs := range instances {
			for k, v := range attrs {
				if s.Instances[id][k] != v {
					t.Errorf("service %s: instance %s: %s=%q, want %q (instances %v)", name, id, k, s.Instances[id][k], v, s.Instances)
				}
			}
		}
	}
	resolve := func(name string, qtype uint16) []string {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), qtype)
		r, err := dns.Exchange(m, c.DNSAddr)
		if err != nil {
			t.Fatalf("DNS %s %s: %v", name, dns.TypeToString[qtype], err)
		}
		var got []string
		for _, rr := range r.Answer {
			switch rr := rr.(type) {
			case *dns.A:
				got = append(got, rr.A.String())
			case *dns.AAAA:
				got = append(got, rr.AAAA.String())
			case *dns.CNAME:
				got = append(got, rr.Target)
			}
		}
		sort.Strings(got)
		return got
	}
	eqDNS := func(name string, qtype uint16, want ...string) {
		t.Helper()
		if got := resolve(name, qtype); !slices.Equal(got, want) {
			t.Errorf("DNS %s %s = %v, want %v", name, dns.TypeToString[qtype], got, want)
		}
	}

	// Round 1: three records to create.
	conn.set(
		record("web."+zone, "A", 60, "192.0.2.10", "192.0.2.11"),
		record("api."+zone, "CNAME", 0, "web."+zone),
		record("v6."+zone, "AAAA", 0, "2001:db8::1"),
	)
	run("round 1 (create)")
	got := state()
	if len(got) != 3 {
		t.Errorf("after round 1: services %v, want web, api, v6", got)
	}
	expect(got, "web", "A", "MULTIVALUE", 60, map[string]map[string]string{
		"192.0.2.10": {"AWS_INSTANCE_IPV4": "192.0.2.10"}, "192.0.2.11": {"AWS_INSTANCE_IPV4": "192.0.2.11"}})
	expect(got, "api", "CNAME", "WEIGHTED", 300, map[string]map[string]string{"web." + zone: {"AWS_INSTANCE_CNAME": "web." + zone}})
	expect(got, "v6", "AAAA", "MULTIVALUE", 300, map[string]map[string]string{"2001:db8::1": {"AWS_INSTANCE_IPV6": "2001:db8::1"}})
	eqDNS("web."+zone, dns.TypeA, "192.0.2.10", "192.0.2.11")
	eqDNS("api."+zone, dns.TypeCNAME, "web."+zone+".")
	eqDNS("v6."+zone, dns.TypeAAAA, "2001:db8::1")

	// Round 2: web moves one target and its TTL; api goes away.
	conn.set(
		record("web."+zone, "A", 120, "192.0.2.10", "192.0.2.12"),
		record("v6."+zone, "AAAA", 0, "2001:db8::1"),
	)
	out := run("round 2 (update, delete)")
	if !strings.Contains(out, `Updating service \"web\"`) {
		t.Errorf("round 2: external-dns did not update web's TTL")
	}
	got = state()
	expect(got, "web", "A", "MULTIVALUE", 120, map[string]map[string]string{
		"192.0.2.10": {"AWS_INSTANCE_IPV4": "192.0.2.10"}, "192.0.2.12": {"AWS_INSTANCE_IPV4": "192.0.2.12"}})
	if s, ok := got["api"]; ok && len(s.Instances) != 0 {
		t.Errorf("after round 2: api still has instances %v", s.Instances)
	}
	eqDNS("web."+zone, dns.TypeA, "192.0.2.10", "192.0.2.12")
	eqDNS("api."+zone, dns.TypeCNAME)

	// Round 3: nothing to change; the emptied service is cleaned up.
	out = run("round 3 (in sync, clean up)")
	if !strings.Contains(out, "All records are already up to date") {
		t.Errorf("round 3: external-dns did not find the records in sync")
	}
	got = state()
	if _, ok := got["api"]; ok {
		t.Errorf("after round 3: the empty service api was not deleted (--aws-sd-service-cleanup)")
	}
	if len(got) != 2 {
		t.Errorf("after round 3: services %v, want web and v6", got)
	}
	others, err := api.ListNamespaces(ctx, &sd.ListNamespacesInput{})
	if err != nil || len(others.Namespaces) != 2 {
		t.Errorf("namespaces after external-dns: %v, %v", others, err)
	}
}
