package sharingtest

import (
	"net"
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

// createNS creates a DNS namespace as account and waits for its operation
// to end; it returns the operation (SUCCESS or FAIL).
func (e *env) createNS(t *testing.T, account, name, vpc string) *types.Operation {
	t.Helper()
	ctx := t.Context()
	c := e.clients[account]
	var opID *string
	if vpc == "" {
		out, err := c.CreatePublicDnsNamespace(ctx, &sd.CreatePublicDnsNamespaceInput{Name: aws.String(name)})
		if err != nil {
			t.Fatalf("CreatePublicDnsNamespace %s as %s: %v", name, account, err)
		}
		opID = out.OperationId
	} else {
		out, err := c.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String(name), Vpc: aws.String(vpc)})
		if err != nil {
			t.Fatalf("CreatePrivateDnsNamespace %s as %s: %v", name, account, err)
		}
		opID = out.OperationId
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := c.GetOperation(ctx, &sd.GetOperationInput{OperationId: opID})
		if err != nil {
			t.Fatal(err)
		}
		if s := out.Operation.Status; s == types.OperationStatusSuccess || s == types.OperationStatusFail {
			return out.Operation
		}
		if time.Now().After(deadline) {
			t.Fatalf("operation %s still %s", aws.ToString(opID), out.Operation.Status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func wantSuccess(t *testing.T, what string, op *types.Operation) string {
	t.Helper()
	if op.Status != types.OperationStatusSuccess {
		t.Fatalf("%s: %s %s %s", what, op.Status, aws.ToString(op.ErrorCode), aws.ToString(op.ErrorMessage))
	}
	return op.Targets[string(types.OperationTargetTypeNamespace)]
}

func wantFail(t *testing.T, what string, op *types.Operation, message string) {
	t.Helper()
	if op.Status != types.OperationStatusFail || aws.ToString(op.ErrorCode) != "CANNOT_CREATE_HOSTED_ZONE" ||
		!strings.Contains(aws.ToString(op.ErrorMessage), message) {
		t.Errorf("%s: %s %s %q; want FAIL CANNOT_CREATE_HOSTED_ZONE saying %q", what, op.Status,
			aws.ToString(op.ErrorCode), aws.ToString(op.ErrorMessage), message)
	}
}

// record registers an instance with an A record name → ip in namespace
// nsID as account.
func (e *env) record(t *testing.T, account, nsID, service, ip string) {
	t.Helper()
	ctx := t.Context()
	c := e.clients[account]
	svc, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String(service), NamespaceId: aws.String(nsID),
		DnsConfig: &types.DnsConfig{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(5)}}}})
	if err != nil {
		t.Fatalf("CreateService %s: %v", service, err)
	}
	if _, err := c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svc.Service.Id, InstanceId: aws.String("i-1"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": ip}}); err != nil {
		t.Fatalf("RegisterInstance: %v", err)
	}
}

// answersA reports the addresses of an answer, and the SOA owner of its
// authority section.
func answersA(m *dns.Msg) (ips []string, soa string) {
	ips = e2etest.AddrsA(m)
	for _, rr := range m.Ns {
		if s, ok := rr.(*dns.SOA); ok {
			soa = s.Hdr.Name
		}
	}
	return ips, soa
}

// Issue 12: another account could take over a name by creating a more
// specific zone ("db.secret.corp.test" inside "secret.corp.test"). On a
// listener several accounts share, a namespace that equals, contains or
// falls inside another account's fails as Route 53 fails a conflicting
// zone, and the owner's names keep resolving.
func TestTenancy_NoTakeoverOnASharedListener(t *testing.T) {
	t.Parallel()
	e := start(t)
	a := wantSuccess(t, "A's namespace", e.createNS(t, owner, "secret.corp.test", "vpc-aaaa"))
	e.record(t, owner, a, "db", "10.9.9.9")
	for _, tc := range []struct {
		what, name, vpc, how string
	}{
		{"inside, another VPC", "db.secret.corp.test", "vpc-bbbb", "falls inside"},
		{"inside, public", "www.db.secret.corp.test", "", "falls inside"},
		{"containing", "corp.test", "vpc-bbbb", "contains"},
		{"equal, public", "secret.corp.test", "", "equals"},
		{"equal, case differs", "SECRET.corp.test", "vpc-cccc", "equals"},
	} {
		wantFail(t, tc.what, e.createNS(t, consumer, tc.name, tc.vpc), "ConflictingDomainExists: the domain "+tc.name+" "+tc.how)
	}
	// The owner's name still answers with its record.
	if ips, _ := answersA(e2etest.Query(t, e.srv.DNSAddr(), "db.secret.corp.test", dns.TypeA)); len(ips) != 1 || ips[0] != "10.9.9.9" {
		t.Errorf("db.secret.corp.test = %v, want 10.9.9.9", ips)
	}
	// Names that do not overlap are free; one account may nest its own
	// namespaces, as Route 53's private zones nest in one VPC.
	wantSuccess(t, "B, a sibling name", e.createNS(t, consumer, "other.corp.test", "vpc-bbbb"))
	wantSuccess(t, "A nests its own", e.createNS(t, owner, "inner.secret.corp.test", "vpc-aaaa"))
}

// A VPC ID belongs to the account with the oldest namespace in it; another
// account may name it once the owner shares one of its namespaces there.
func TestTenancy_VPCBelongsToItsFirstAccount(t *testing.T) {
	t.Parallel()
	e := start(t)
	a := wantSuccess(t, "A's namespace", e.createNS(t, owner, "a.test", "vpc-aaaa"))
	wantFail(t, "B names A's VPC", e.createNS(t, consumer, "b.test", "vpc-aaaa"), "InvalidVPCId: the VPC vpc-aaaa belongs to account "+owner)
	if code, body := e.admin(t, owner, "ShareNamespace", map[string]any{"NamespaceId": a, "Accounts": []string{consumer}}); code != 200 {
		t.Fatalf("ShareNamespace: %d %s", code, body)
	}
	wantSuccess(t, "B names A's VPC once shared", e.createNS(t, consumer, "b.test", "vpc-aaaa"))
	wantFail(t, "C still can't", e.createNS(t, stranger, "c.test", "vpc-aaaa"), "InvalidVPCId")
	// A keeps adding to its own VPC.
	wantSuccess(t, "A again", e.createNS(t, owner, "a2.test", "vpc-aaaa"))
}

// With a DNS listener per VPC, each VPC's private namespaces are answered
// only there, so accounts in different VPCs may use overlapping names;
// public namespaces are answered on every listener and still can't
// overlap another account's.
func TestTenancy_ListenerPerVPC(t *testing.T) {
	t.Parallel()
	e := start(t, func(c *server.Config) {
		c.DNSVPCs = []server.DNSVPC{{VPC: "vpc-aaaa", Addr: "127.0.0.1:0"}, {VPC: "vpc-bbbb", Addr: "127.0.0.1:0"}}
	})
	a := wantSuccess(t, "A in vpc-aaaa", e.createNS(t, owner, "secret.corp.test", "vpc-aaaa"))
	e.record(t, owner, a, "db", "10.9.9.9")
	b := wantSuccess(t, "B in vpc-bbbb", e.createNS(t, consumer, "db.secret.corp.test", "vpc-bbbb"))
	e.record(t, consumer, b, "www", "10.6.6.6")
	// The shared listener answers neither VPC's namespaces: a third
	// account may use the name there.
	wantSuccess(t, "C in vpc-cccc (the shared listener)", e.createNS(t, stranger, "x.secret.corp.test", "vpc-cccc"))
	pub := wantSuccess(t, "C public", e.createNS(t, stranger, "public.test", ""))
	e.record(t, stranger, pub, "web", "192.0.2.1")
	wantFail(t, "B public over A's private", e.createNS(t, consumer, "corp.test", ""), "contains the domain secret.corp.test")
	aAddr, bAddr := e.srv.DNSVPCAddr("vpc-aaaa"), e.srv.DNSVPCAddr("vpc-bbbb")
	for _, tc := range []struct {
		listener, addr, name string
		rcode                int
		ips                  []string
		soa                  string
	}{
		{"vpc-aaaa", aAddr, "db.secret.corp.test", dns.RcodeSuccess, []string{"10.9.9.9"}, ""},
		{"vpc-aaaa", aAddr, "www.db.secret.corp.test", dns.RcodeNameError, nil, "secret.corp.test."},
		{"vpc-aaaa", aAddr, "web.public.test", dns.RcodeSuccess, []string{"192.0.2.1"}, ""},
		{"vpc-bbbb", bAddr, "www.db.secret.corp.test", dns.RcodeSuccess, []string{"10.6.6.6"}, ""},
		{"vpc-bbbb", bAddr, "db.secret.corp.test", dns.RcodeSuccess, nil, "db.secret.corp.test."},
		{"vpc-bbbb", bAddr, "other.secret.corp.test", dns.RcodeRefused, nil, ""},
		{"vpc-bbbb", bAddr, "web.public.test", dns.RcodeSuccess, []string{"192.0.2.1"}, ""},
		{"shared", e.srv.DNSAddr(), "db.secret.corp.test", dns.RcodeRefused, nil, ""},
		{"shared", e.srv.DNSAddr(), "web.public.test", dns.RcodeSuccess, []string{"192.0.2.1"}, ""},
	} {
		m := e2etest.Query(t, tc.addr, tc.name, dns.TypeA)
		ips, soa := answersA(m)
		if m.Rcode != tc.rcode || strings.Join(ips, ",") != strings.Join(tc.ips, ",") || soa != tc.soa {
			t.Errorf("%s at the %s listener: %s %v SOA %q; want %s %v SOA %q", tc.name, tc.listener,
				dns.RcodeToString[m.Rcode], ips, soa, dns.RcodeToString[tc.rcode], tc.ips, tc.soa)
		}
	}
	if _, _, err := net.SplitHostPort(aAddr); err != nil || aAddr == bAddr {
		t.Errorf("listener addresses %q %q", aAddr, bAddr)
	}
}

// Issue 12: a consumer of a shared namespace set the custom health of the
// owner's instance, though it could neither register nor deregister it.
// As for deregistering, an instance's status is its registrant's and the
// namespace owner's to set.
func TestSharing_ConsumerCustomHealthOfOthersInstances(t *testing.T) {
	t.Parallel()
	e := start(t)
	ctx := t.Context()
	o, c := e.clients[owner], e.clients[consumer]
	out, err := o.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shared")})
	if err != nil {
		t.Fatal(err)
	}
	op, err := o.GetOperation(ctx, &sd.GetOperationInput{OperationId: out.OperationId})
	if err != nil {
		t.Fatal(err)
	}
	nsID := op.Operation.Targets["NAMESPACE"]
	svc, err := o.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("web"), NamespaceId: aws.String(nsID),
		HealthCheckCustomConfig: &types.HealthCheckCustomConfig{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svc.Service.Id, InstanceId: aws.String("owners"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1"}}); err != nil {
		t.Fatal(err)
	}
	if code, body := e.admin(t, owner, "ShareNamespace", map[string]any{"NamespaceId": nsID, "Accounts": []string{consumer}}); code != 200 {
		t.Fatalf("ShareNamespace: %d %s", code, body)
	}
	arn := svc.Service.Arn
	_, err = c.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: arn,
		InstanceId: aws.String("owners"), Status: types.CustomHealthStatusUnhealthy})
	wantCode(t, err, "AccessDeniedException")
	_, err = c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: arn, InstanceId: aws.String("owners")})
	wantCode(t, err, "AccessDeniedException")
	st, err := o.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: svc.Service.Id})
	if err != nil || st.Status["owners"] != types.HealthStatusHealthy {
		t.Fatalf("owner's instance health = %v, %v; want HEALTHY", st.Status, err)
	}
	// The consumer sets the status of the instance it registered; the
	// owner sets any.
	if _, err := c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: arn, InstanceId: aws.String("consumers"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.2"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who  *sd.Client
		id   string
		what string
	}{{c, "consumers", "the consumer, its own"}, {o, "consumers", "the owner, the consumer's"}, {o, "owners", "the owner, its own"}} {
		if _, err := tc.who.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: arn,
			InstanceId: aws.String(tc.id), Status: types.CustomHealthStatusUnhealthy}); err != nil {
			t.Errorf("%s: %v", tc.what, err)
		}
	}
}
