package route53_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/aws/smithy-go"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/server"
)

// fixture is a cairn with a private zone, a public zone with health
// checks, and an HTTP namespace with a health-checked service, built
// through the Cloud Map API; r53 is a Route 53 client of the same server.
type fixture struct {
	t                  *testing.T
	sd                 *sd.Client
	r53                *r53.Client
	priv, pub, httpNS  string // namespace IDs
	privZone, pubZone  string // their HostedZoneId
	checked, httpCheck string // health-checked service IDs
}

func newFixture(t *testing.T, opts ...cairntest.Option) (*fixture, *cairntest.Server) {
	t.Helper()
	srv := cairntest.NewServer(t, opts...)
	return build(t, srv.AWSConfig, apiPort(t, srv)), srv
}

// apiPort is the port of cairn's API: health-checked instances point at
// it, so that probes stay on loopback.
func apiPort(t *testing.T, srv *cairntest.Server) string {
	t.Helper()
	i := strings.LastIndexByte(srv.Endpoint, ':')
	if i < 0 {
		t.Fatalf("endpoint %s has no port", srv.Endpoint)
	}
	return srv.Endpoint[i+1:]
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func build(t *testing.T, cfg aws.Config, port string) *fixture {
	t.Helper()
	f := &fixture{t: t, sd: sd.NewFromConfig(cfg), r53: r53.NewFromConfig(cfg)}
	ctx := t.Context()
	nsID := func(opID *string) string {
		out, err := f.sd.GetOperation(ctx, &sd.GetOperationInput{OperationId: opID})
		must(t, err)
		return out.Operation.Targets["NAMESPACE"]
	}
	p, err := f.sd.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("corp.test"), Vpc: aws.String("vpc-0123"),
		Description: aws.String("the corp")})
	must(t, err)
	f.priv = nsID(p.OperationId)
	q, err := f.sd.CreatePublicDnsNamespace(ctx, &sd.CreatePublicDnsNamespaceInput{Name: aws.String("Example.com")})
	must(t, err)
	f.pub = nsID(q.OperationId)
	h, err := f.sd.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shop")})
	must(t, err)
	f.httpNS = nsID(h.OperationId)
	for _, id := range []struct {
		ns   string
		zone *string
	}{{f.priv, &f.privZone}, {f.pub, &f.pubZone}} {
		out, err := f.sd.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(id.ns)})
		must(t, err)
		*id.zone = aws.ToString(out.Namespace.Properties.DnsProperties.HostedZoneId)
	}
	svc := func(in *sd.CreateServiceInput) string {
		out, err := f.sd.CreateService(ctx, in)
		must(t, err)
		return aws.ToString(out.Service.Id)
	}
	recs := func(ttl int64, typs ...types.RecordType) []types.DnsRecord {
		var out []types.DnsRecord
		for _, typ := range typs {
			out = append(out, types.DnsRecord{Type: typ, TTL: aws.Int64(ttl)})
		}
		return out
	}
	reg := func(svcID, id string, kv ...string) {
		attrs := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			attrs[kv[i]] = kv[i+1]
		}
		_, err := f.sd.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(svcID), InstanceId: aws.String(id), Attributes: attrs})
		must(t, err)
	}
	web := svc(&sd.CreateServiceInput{Name: aws.String("web"), NamespaceId: aws.String(f.priv),
		DnsConfig: &types.DnsConfig{DnsRecords: recs(60, types.RecordTypeA)}})
	reg(web, "web-1", "AWS_INSTANCE_IPV4", "10.0.0.1")
	reg(web, "web-2", "AWS_INSTANCE_IPV4", "10.0.0.2")
	api := svc(&sd.CreateServiceInput{Name: aws.String("_api._tcp"), NamespaceId: aws.String(f.priv),
		DnsConfig: &types.DnsConfig{DnsRecords: recs(30, types.RecordTypeA, types.RecordTypeSrv)}})
	reg(api, "Node@1", "AWS_INSTANCE_IPV4", "10.0.1.1", "AWS_INSTANCE_PORT", "8443")
	svc(&sd.CreateServiceInput{Name: aws.String("api-only"), NamespaceId: aws.String(f.priv), Type: types.ServiceTypeOptionHttp})
	f.checked = svc(&sd.CreateServiceInput{Name: aws.String("www"), NamespaceId: aws.String(f.pub),
		DnsConfig:         &types.DnsConfig{RoutingPolicy: types.RoutingPolicyWeighted, DnsRecords: recs(300, types.RecordTypeA)},
		HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, ResourcePath: aws.String("/health"), FailureThreshold: aws.Int32(2)}})
	reg(f.checked, "w-1", "AWS_INSTANCE_IPV4", "127.0.0.1", "AWS_INSTANCE_PORT", port)
	reg(f.checked, "w-2", "AWS_INSTANCE_IPV4", "127.0.0.2", "AWS_INSTANCE_PORT", port)
	cname := svc(&sd.CreateServiceInput{Name: aws.String("docs"), NamespaceId: aws.String(f.pub),
		DnsConfig: &types.DnsConfig{RoutingPolicy: types.RoutingPolicyWeighted, DnsRecords: recs(120, types.RecordTypeCname)}})
	reg(cname, "c", "AWS_INSTANCE_CNAME", "Docs.Example.org")
	f.httpCheck = svc(&sd.CreateServiceInput{Name: aws.String("cart"), NamespaceId: aws.String(f.httpNS),
		HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeTcp}})
	reg(f.httpCheck, "cart-1", "AWS_INSTANCE_IPV6", "::1", "AWS_INSTANCE_PORT", port)
	return f
}

// allRecords lists a zone's record sets page by page, maxItems at a time,
// with the SDK's paginator.
func (f *fixture) allRecords(zone string, maxItems int32) []r53types.ResourceRecordSet {
	f.t.Helper()
	var out []r53types.ResourceRecordSet
	p := r53.NewListResourceRecordSetsPaginator(f.r53, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone), MaxItems: aws.Int32(maxItems)})
	for p.HasMorePages() {
		page, err := p.NextPage(f.t.Context())
		must(f.t, err)
		if len(page.ResourceRecordSets) > int(maxItems) {
			f.t.Fatalf("a page of %d record sets, MaxItems %d", len(page.ResourceRecordSets), maxItems)
		}
		out = append(out, page.ResourceRecordSets...)
	}
	return out
}

func show(rs r53types.ResourceRecordSet) string {
	var vals []string
	for _, r := range rs.ResourceRecords {
		vals = append(vals, aws.ToString(r.Value))
	}
	s := fmt.Sprintf("%s %s %d %s", aws.ToString(rs.Name), rs.Type, aws.ToInt64(rs.TTL), strings.Join(vals, ","))
	if rs.SetIdentifier != nil {
		s += " id=" + aws.ToString(rs.SetIdentifier)
	}
	if rs.MultiValueAnswer != nil {
		s += fmt.Sprintf(" multivalue=%v", *rs.MultiValueAnswer)
	}
	if rs.Weight != nil {
		s += fmt.Sprintf(" weight=%d", *rs.Weight)
	}
	if rs.HealthCheckId != nil {
		s += " hc"
	}
	return s
}

func TestHostedZones(t *testing.T) {
	f, _ := newFixture(t)
	ctx := t.Context()
	got, err := f.r53.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(f.privZone)})
	must(t, err)
	z := got.HostedZone
	if aws.ToString(z.Id) != "/hostedzone/"+f.privZone || aws.ToString(z.Name) != "corp.test." || !z.Config.PrivateZone ||
		aws.ToString(z.Config.Comment) != "the corp" || z.LinkedService == nil ||
		aws.ToString(z.LinkedService.ServicePrincipal) != "servicediscovery.amazonaws.com" ||
		!strings.HasSuffix(aws.ToString(z.LinkedService.Description), ":namespace/"+f.priv) {
		t.Errorf("GetHostedZone = %+v (config %+v, linked %+v)", z, z.Config, z.LinkedService)
	}
	if len(got.VPCs) != 1 || aws.ToString(got.VPCs[0].VPCId) != "vpc-0123" || got.VPCs[0].VPCRegion != "us-east-1" || got.DelegationSet != nil {
		t.Errorf("private zone VPCs %+v, delegation set %+v", got.VPCs, got.DelegationSet)
	}
	if n := len(f.allRecords(f.privZone, 300)); aws.ToInt64(z.ResourceRecordSetCount) != int64(n) {
		t.Errorf("ResourceRecordSetCount %d, ListResourceRecordSets lists %d", aws.ToInt64(z.ResourceRecordSetCount), n)
	}
	// The ID with its /hostedzone/ prefix finds it too.
	pub, err := f.r53.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String("/hostedzone/" + f.pubZone)})
	must(t, err)
	if pub.HostedZone.Config.PrivateZone || aws.ToString(pub.HostedZone.Name) != "example.com." || pub.DelegationSet == nil || len(pub.VPCs) != 0 {
		t.Errorf("public zone %+v, delegation set %+v, VPCs %+v", pub.HostedZone, pub.DelegationSet, pub.VPCs)
	}

	count, err := f.r53.GetHostedZoneCount(ctx, &r53.GetHostedZoneCountInput{})
	must(t, err)
	if aws.ToInt64(count.HostedZoneCount) != 2 {
		t.Errorf("GetHostedZoneCount = %d, want 2 (the HTTP namespace has no zone)", aws.ToInt64(count.HostedZoneCount))
	}
	// ListHostedZones, one a page.
	var ids []string
	p := r53.NewListHostedZonesPaginator(f.r53, &r53.ListHostedZonesInput{MaxItems: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		must(t, err)
		for _, z := range page.HostedZones {
			ids = append(ids, strings.TrimPrefix(aws.ToString(z.Id), "/hostedzone/"))
		}
	}
	if !sameSet(ids, []string{f.privZone, f.pubZone}) {
		t.Errorf("ListHostedZones = %v, want %s and %s", ids, f.privZone, f.pubZone)
	}
	priv, err := f.r53.ListHostedZones(ctx, &r53.ListHostedZonesInput{HostedZoneType: r53types.HostedZoneTypePrivateHostedZone})
	must(t, err)
	if len(priv.HostedZones) != 1 || aws.ToString(priv.HostedZones[0].Name) != "corp.test." {
		t.Errorf("private zones %+v", priv.HostedZones)
	}
	// By name: labels reversed, so example.com (com.example) before
	// corp.test (test.corp); paged with NextDNSName.
	byName, err := f.r53.ListHostedZonesByName(ctx, &r53.ListHostedZonesByNameInput{MaxItems: aws.Int32(1)})
	must(t, err)
	if len(byName.HostedZones) != 1 || aws.ToString(byName.HostedZones[0].Name) != "example.com." || !byName.IsTruncated ||
		aws.ToString(byName.NextDNSName) != "corp.test." || aws.ToString(byName.NextHostedZoneId) != f.privZone {
		t.Fatalf("ListHostedZonesByName page 1: %+v", byName)
	}
	byName, err = f.r53.ListHostedZonesByName(ctx, &r53.ListHostedZonesByNameInput{DNSName: byName.NextDNSName, HostedZoneId: byName.NextHostedZoneId})
	must(t, err)
	if len(byName.HostedZones) != 1 || aws.ToString(byName.HostedZones[0].Name) != "corp.test." || byName.IsTruncated {
		t.Errorf("ListHostedZonesByName page 2: %+v", byName)
	}
}

func TestResourceRecordSets(t *testing.T) {
	f, _ := newFixture(t)
	all := f.allRecords(f.privZone, 300)
	var got []string
	for _, rs := range all {
		got = append(got, show(rs))
	}
	want := []string{
		"corp.test. NS 172800 ns1.cairn.internal.",
		"corp.test. SOA 15 ns1.cairn.internal. hostmaster.corp.test. 1 7200 900 1209600 15",
		"_api._tcp.corp.test. A 30 10.0.1.1 id=Node@1 multivalue=true",
		"_api._tcp.corp.test. SRV 30 1 1 8443 node\\1001._api._tcp.corp.test. id=Node@1 multivalue=true",
		"node\\1001._api._tcp.corp.test. A 30 10.0.1.1",
		"web.corp.test. A 60 10.0.0.1 id=web-1 multivalue=true",
		"web.corp.test. A 60 10.0.0.2 id=web-2 multivalue=true",
	}
	if !slices.Equal(got, want) {
		t.Errorf("record sets:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Every page size lists the same record sets, in the same order.
	for _, n := range []int32{1, 2, 3} {
		var paged []string
		for _, rs := range f.allRecords(f.privZone, n) {
			paged = append(paged, show(rs))
		}
		if !slices.Equal(paged, got) {
			t.Errorf("MaxItems %d lists\n%s", n, strings.Join(paged, "\n"))
		}
	}
	// Starting at a name, type and identifier.
	out, err := f.r53.ListResourceRecordSets(t.Context(), &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(f.privZone),
		StartRecordName: aws.String("WEB.corp.test"), StartRecordType: r53types.RRTypeA, StartRecordIdentifier: aws.String("web-2")})
	must(t, err)
	if len(out.ResourceRecordSets) != 1 || aws.ToString(out.ResourceRecordSets[0].SetIdentifier) != "web-2" || out.IsTruncated {
		t.Errorf("from web.corp.test A web-2: %+v", out.ResourceRecordSets)
	}
	// The public zone: weighted records with their health checks, and a
	// CNAME.
	var pub []string
	for _, rs := range f.allRecords(f.pubZone, 300) {
		pub = append(pub, show(rs))
	}
	wantPub := []string{
		"example.com. NS 172800 ns1.cairn.internal.",
		"example.com. SOA 15 ns1.cairn.internal. hostmaster.example.com. 1 7200 900 1209600 15",
		"docs.example.com. CNAME 120 docs.example.org. id=c weight=1",
		"www.example.com. A 300 127.0.0.1 id=w-1 weight=1 hc",
		"www.example.com. A 300 127.0.0.2 id=w-2 weight=1 hc",
	}
	if !slices.Equal(pub, wantPub) {
		t.Errorf("public record sets:\n%s\nwant:\n%s", strings.Join(pub, "\n"), strings.Join(wantPub, "\n"))
	}
}

func TestHealthChecks(t *testing.T) {
	f, srv := newFixture(t)
	ctx := t.Context()
	count, err := f.r53.GetHealthCheckCount(ctx, &r53.GetHealthCheckCountInput{})
	must(t, err)
	if aws.ToInt64(count.HealthCheckCount) != 3 {
		t.Errorf("GetHealthCheckCount = %d, want 3", aws.ToInt64(count.HealthCheckCount))
	}
	var checks []r53types.HealthCheck
	p := r53.NewListHealthChecksPaginator(f.r53, &r53.ListHealthChecksInput{MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		must(t, err)
		checks = append(checks, page.HealthChecks...)
	}
	if len(checks) != 3 {
		t.Fatalf("ListHealthChecks = %d checks, want 3", len(checks))
	}
	byIP := map[string]r53types.HealthCheck{}
	for _, hc := range checks {
		byIP[aws.ToString(hc.HealthCheckConfig.IPAddress)] = hc
	}
	w1, cart := byIP["127.0.0.1"], byIP["::1"]
	port, _ := strconv.Atoi(apiPort(t, srv))
	if c := w1.HealthCheckConfig; c == nil || c.Type != r53types.HealthCheckTypeHttp || aws.ToInt32(c.Port) != int32(port) ||
		aws.ToString(c.ResourcePath) != "/health" || aws.ToInt32(c.FailureThreshold) != 2 || aws.ToInt32(c.RequestInterval) != 30 {
		t.Errorf("w-1's health check config %+v", c)
	}
	if w1.LinkedService == nil || !strings.HasSuffix(aws.ToString(w1.LinkedService.Description), ":service/"+f.checked) {
		t.Errorf("w-1's LinkedService %+v", w1.LinkedService)
	}
	if c := cart.HealthCheckConfig; c == nil || c.Type != r53types.HealthCheckTypeTcp || aws.ToInt32(c.Port) != int32(port) ||
		c.ResourcePath != nil || aws.ToInt32(c.FailureThreshold) != 3 {
		t.Errorf("cart-1's health check config %+v", c)
	}
	// The record set of w-1 names its health check.
	for _, rs := range f.allRecords(f.pubZone, 300) {
		if aws.ToString(rs.SetIdentifier) == "w-1" && aws.ToString(rs.HealthCheckId) != aws.ToString(w1.Id) {
			t.Errorf("w-1's record set has health check %s, want %s", aws.ToString(rs.HealthCheckId), aws.ToString(w1.Id))
		}
	}
	got, err := f.r53.GetHealthCheck(ctx, &r53.GetHealthCheckInput{HealthCheckId: w1.Id})
	must(t, err)
	if aws.ToString(got.HealthCheck.Id) != aws.ToString(w1.Id) || aws.ToString(got.HealthCheck.CallerReference) != "w-1" {
		t.Errorf("GetHealthCheck = %+v", got.HealthCheck)
	}
	// A new check is healthy until it has results, as Route 53's; the
	// status follows what the checker settles on, as Cloud Map reports.
	st, err := f.r53.GetHealthCheckStatus(ctx, &r53.GetHealthCheckStatusInput{HealthCheckId: w1.Id})
	must(t, err)
	if len(st.HealthCheckObservations) != 1 || !strings.HasPrefix(aws.ToString(st.HealthCheckObservations[0].StatusReport.Status), "Success") {
		t.Errorf("GetHealthCheckStatus = %+v", st.HealthCheckObservations)
	}
	h, err := f.sd.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: aws.String(f.checked)})
	must(t, err)
	if h.Status["w-1"] != types.HealthStatusHealthy {
		t.Errorf("Cloud Map reports w-1 %s", h.Status["w-1"])
	}
	// Deregistering removes the check.
	_, err = f.sd.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: aws.String(f.httpCheck), InstanceId: aws.String("cart-1")})
	must(t, err)
	_, err = f.r53.GetHealthCheck(ctx, &r53.GetHealthCheckInput{HealthCheckId: cart.Id})
	var nhc *r53types.NoSuchHealthCheck
	if !errors.As(err, &nhc) {
		t.Errorf("GetHealthCheck of a deregistered instance: %v, want NoSuchHealthCheck", err)
	}
}

func TestRefusals(t *testing.T) {
	f, _ := newFixture(t)
	ctx := t.Context()
	_, err := f.r53.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String("Z0000000000000000000")})
	var nsz *r53types.NoSuchHostedZone
	if !errors.As(err, &nsz) {
		t.Errorf("GetHostedZone of an unknown zone: %v, want NoSuchHostedZone", err)
	}
	_, err = f.r53.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String("Z0000000000000000000")})
	if !errors.As(err, &nsz) {
		t.Errorf("ListResourceRecordSets of an unknown zone: %v, want NoSuchHostedZone", err)
	}
	_, err = f.r53.GetHealthCheck(ctx, &r53.GetHealthCheckInput{HealthCheckId: aws.String("00000000-0000-0000-0000-000000000000")})
	var nhc *r53types.NoSuchHealthCheck
	if !errors.As(err, &nhc) {
		t.Errorf("GetHealthCheck of an unknown check: %v, want NoSuchHealthCheck", err)
	}
	_, err = f.r53.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(f.privZone), StartRecordType: r53types.RRTypeA})
	var inv *r53types.InvalidInput
	if !errors.As(err, &inv) {
		t.Errorf("StartRecordType without a name: %v, want InvalidInput", err)
	}
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return fmt.Sprint(err)
	}
	// Writes to what Cloud Map manages: AccessDenied, as Route 53 answers.
	_, err = f.r53.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(f.privZone),
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: r53types.ChangeActionUpsert, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String("x.corp.test"), Type: r53types.RRTypeA, TTL: aws.Int64(1), ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("10.0.0.9")}}}}}}})
	if code(err) != "AccessDenied" || !strings.Contains(err.Error(), "can only be managed through servicediscovery.amazonaws.com") {
		t.Errorf("ChangeResourceRecordSets: %v, want AccessDenied", err)
	}
	_, err = f.r53.DeleteHostedZone(ctx, &r53.DeleteHostedZoneInput{Id: aws.String(f.pubZone)})
	if code(err) != "AccessDenied" {
		t.Errorf("DeleteHostedZone: %v, want AccessDenied", err)
	}
	checks, err := f.r53.ListHealthChecks(ctx, &r53.ListHealthChecksInput{})
	must(t, err)
	_, err = f.r53.DeleteHealthCheck(ctx, &r53.DeleteHealthCheckInput{HealthCheckId: checks.HealthChecks[0].Id})
	if code(err) != "AccessDenied" {
		t.Errorf("DeleteHealthCheck: %v, want AccessDenied", err)
	}
	// Everything else: InvalidAction.
	_, err = f.r53.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("new.test"), CallerReference: aws.String("x")})
	if code(err) != "InvalidAction" {
		t.Errorf("CreateHostedZone: %v, want InvalidAction", err)
	}
	_, err = f.r53.ListTrafficPolicies(ctx, &r53.ListTrafficPoliciesInput{})
	if code(err) != "InvalidAction" {
		t.Errorf("ListTrafficPolicies: %v, want InvalidAction", err)
	}
	// The Cloud Map API on the same port is unchanged.
	if _, err := f.sd.ListNamespaces(ctx, &sd.ListNamespacesInput{}); err != nil {
		t.Errorf("Cloud Map beside Route 53: %v", err)
	}
}

// TestAccounts: with credentials, Route 53 requests are verified with the
// same keys (signing name route53), each account sees its own zones and
// health checks from every region, and other accounts' IDs are not found.
func TestAccounts(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	must(t, os.WriteFile(creds, []byte(`[a]
aws_access_key_id = AKIAAAAAAAAAAAAAAAAA
aws_secret_access_key = a-secret
aws_account_id = 111111111111
[b]
aws_access_key_id = AKIABBBBBBBBBBBBBBBB
aws_secret_access_key = b-secret
aws_account_id = 222222222222
`), 0o600))
	// With --credentials, health checks may not probe cairn's own API, so
	// the checked instances point at a target of their own on loopback.
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(target.Close)
	targetPort := target.URL[strings.LastIndexByte(target.URL, ':')+1:]
	srv := cairntest.NewServer(t, cairntest.WithConfig(func(c *server.Config) {
		c.Credentials = creds
		c.HealthProbeAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}))
	cfg := func(key, secret, region string) aws.Config {
		c := srv.AWSConfig.Copy()
		c.Credentials = credentials.NewStaticCredentialsProvider(key, secret, "")
		c.Region = region
		return c
	}
	a := build(t, cfg("AKIAAAAAAAAAAAAAAAAA", "a-secret", "us-east-1"), targetPort)
	// Account a also has a namespace in another region: Route 53 is
	// global, so it is a's zone too.
	aEU := sd.NewFromConfig(cfg("AKIAAAAAAAAAAAAAAAAA", "a-secret", "eu-west-1"))
	_, err := aEU.CreatePrivateDnsNamespace(t.Context(), &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("eu.test"), Vpc: aws.String("vpc-eu")})
	must(t, err)
	count, err := a.r53.GetHostedZoneCount(t.Context(), &r53.GetHostedZoneCountInput{})
	must(t, err)
	if aws.ToInt64(count.HostedZoneCount) != 3 {
		t.Errorf("account a has %d zones, want 3", aws.ToInt64(count.HostedZoneCount))
	}
	eu, err := a.r53.ListHostedZonesByName(t.Context(), &r53.ListHostedZonesByNameInput{DNSName: aws.String("eu.test")})
	must(t, err)
	if len(eu.HostedZones) == 0 || aws.ToString(eu.HostedZones[0].Name) != "eu.test." {
		t.Fatalf("ListHostedZonesByName eu.test: %+v", eu.HostedZones)
	}
	got, err := a.r53.GetHostedZone(t.Context(), &r53.GetHostedZoneInput{Id: eu.HostedZones[0].Id})
	must(t, err)
	if len(got.VPCs) != 1 || got.VPCs[0].VPCRegion != "eu-west-1" {
		t.Errorf("eu.test's VPCs %+v, want one in eu-west-1", got.VPCs)
	}

	b := r53.NewFromConfig(cfg("AKIABBBBBBBBBBBBBBBB", "b-secret", "us-east-1"))
	bc, err := b.GetHostedZoneCount(t.Context(), &r53.GetHostedZoneCountInput{})
	must(t, err)
	if aws.ToInt64(bc.HostedZoneCount) != 0 {
		t.Errorf("account b sees %d zones", aws.ToInt64(bc.HostedZoneCount))
	}
	_, err = b.GetHostedZone(t.Context(), &r53.GetHostedZoneInput{Id: aws.String(a.privZone)})
	var nsz *r53types.NoSuchHostedZone
	if !errors.As(err, &nsz) {
		t.Errorf("account b reading a's zone: %v, want NoSuchHostedZone", err)
	}
	hcs, err := b.ListHealthChecks(t.Context(), &r53.ListHealthChecksInput{})
	must(t, err)
	if len(hcs.HealthChecks) != 0 {
		t.Errorf("account b sees %d health checks", len(hcs.HealthChecks))
	}
	// A wrong secret is refused, in Route 53's words.
	bad := r53.NewFromConfig(cfg("AKIABBBBBBBBBBBBBBBB", "wrong", "us-east-1"))
	_, err = bad.GetHostedZoneCount(t.Context(), &r53.GetHostedZoneCountInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "SignatureDoesNotMatch" {
		t.Errorf("a wrong secret: %v, want SignatureDoesNotMatch", err)
	}
	// Signed for a Cloud Map scope instead of Route 53's: refused.
	unknown := r53.NewFromConfig(cfg("AKIAXXXXXXXXXXXXXXXX", "x", "us-east-1"))
	_, err = unknown.GetHostedZoneCount(t.Context(), &r53.GetHostedZoneCountInput{})
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidClientTokenId" {
		t.Errorf("an unknown key: %v, want InvalidClientTokenId", err)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestPolicies: an identity with a policy_file reads Route 53 only as its
// policy allows the route53: actions, as IAM decides them: a Cloud Map
// policy alone allows no Route 53 read; route53:Get* on one zone's ARN
// allows reading that zone and no other; lists need Resource "*"; an
// explicit deny wins. Refusals are Route 53's AccessDenied with AWS's
// wording. An identity without a policy still reads everything of its
// account.
func TestPolicies(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	must(t, os.WriteFile(creds, []byte(`[admin]
aws_access_key_id = AKIAAAAAAAAAAAAAAAAA
aws_secret_access_key = a-secret
aws_account_id = 111111111111
[cloudmap]
aws_access_key_id = AKIACCCCCCCCCCCCCCCC
aws_secret_access_key = c-secret
aws_account_id = 111111111111
policy_file = cloudmap.json
[zonereader]
aws_access_key_id = AKIAZZZZZZZZZZZZZZZZ
aws_secret_access_key = z-secret
aws_account_id = 111111111111
policy_file = zone.json
`), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "cloudmap.json"), []byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"servicediscovery:*","Resource":"*"}}`), 0o600))
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(target.Close)
	targetPort := target.URL[strings.LastIndexByte(target.URL, ':')+1:]
	// The zone reader's policy names the private zone, known only once
	// the fixture is built: the file is written before the server starts
	// with a placeholder and the server reloads it (SIGHUP's path) after.
	zonePolicy := func(zone string) []byte {
		return []byte(`{"Version":"2012-10-17","Statement":[
		  {"Sid":"OneZone","Effect":"Allow","Action":["route53:Get*","route53:ListResourceRecordSets"],"Resource":"arn:aws:route53:::hostedzone/` + zone + `"},
		  {"Sid":"Lists","Effect":"Allow","Action":"route53:ListHostedZones","Resource":"*"},
		  {"Sid":"NoChecks","Effect":"Deny","Action":"route53:*HealthCheck*","Resource":"*"}]}`)
	}
	must(t, os.WriteFile(filepath.Join(dir, "zone.json"), zonePolicy("Z0000000000000000000"), 0o600))
	srv := cairntest.NewServer(t, cairntest.WithConfig(func(c *server.Config) {
		c.Credentials = creds
		c.HealthProbeAllow = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}))
	client := func(key, secret string) *r53.Client {
		c := srv.AWSConfig.Copy()
		c.Credentials = credentials.NewStaticCredentialsProvider(key, secret, "")
		return r53.NewFromConfig(c)
	}
	adminCfg := srv.AWSConfig.Copy()
	adminCfg.Credentials = credentials.NewStaticCredentialsProvider("AKIAAAAAAAAAAAAAAAAA", "a-secret", "")
	f := build(t, adminCfg, targetPort)
	must(t, os.WriteFile(filepath.Join(dir, "zone.json"), zonePolicy(f.privZone), 0o600))
	must(t, srv.Server.ReloadCredentials())

	ctx := t.Context()
	denied := func(what string, err error, action, resource string) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
			t.Errorf("%s: %v, want AccessDenied", what, err)
			return
		}
		if !strings.Contains(ae.ErrorMessage(), "is not authorized to perform: "+action) ||
			(resource != "" && !strings.Contains(ae.ErrorMessage(), "on resource: "+resource)) {
			t.Errorf("%s: message %q, want it to name %s on %q", what, ae.ErrorMessage(), action, resource)
		}
	}

	// A Cloud Map policy alone allows no Route 53 read.
	cm := client("AKIACCCCCCCCCCCCCCCC", "c-secret")
	_, err := cm.ListHostedZones(ctx, &r53.ListHostedZonesInput{})
	denied("ListHostedZones under a Cloud Map policy", err, "route53:ListHostedZones", "")
	_, err = cm.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(f.privZone)})
	denied("GetHostedZone under a Cloud Map policy", err, "route53:GetHostedZone", "arn:aws:route53:::hostedzone/"+f.privZone)

	// The zone reader reads its zone, lists zones, and nothing else.
	zr := client("AKIAZZZZZZZZZZZZZZZZ", "z-secret")
	got, err := zr.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(f.privZone)})
	must(t, err)
	if aws.ToString(got.HostedZone.Name) != "corp.test." {
		t.Errorf("the allowed zone is %q, want corp.test.", aws.ToString(got.HostedZone.Name))
	}
	if recs, err := zr.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(f.privZone)}); err != nil || len(recs.ResourceRecordSets) == 0 {
		t.Errorf("ListResourceRecordSets of the allowed zone: %v, %d record sets", err, len(recs.ResourceRecordSets))
	}
	if zones, err := zr.ListHostedZones(ctx, &r53.ListHostedZonesInput{}); err != nil || len(zones.HostedZones) != 2 {
		t.Errorf("ListHostedZones: %v, want the account's 2 zones", err)
	}
	_, err = zr.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(f.pubZone)})
	denied("GetHostedZone of another zone", err, "route53:GetHostedZone", "arn:aws:route53:::hostedzone/"+f.pubZone)
	_, err = zr.ListResourceRecordSets(ctx, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(f.pubZone)})
	denied("ListResourceRecordSets of another zone", err, "route53:ListResourceRecordSets", "arn:aws:route53:::hostedzone/"+f.pubZone)
	_, err = zr.ListHostedZonesByName(ctx, &r53.ListHostedZonesByNameInput{})
	denied("ListHostedZonesByName, not in the policy", err, "route53:ListHostedZonesByName", "")
	_, err = zr.GetHealthCheckCount(ctx, &r53.GetHealthCheckCountInput{})
	denied("GetHealthCheckCount, explicitly denied", err, "route53:GetHealthCheckCount", "")
	if err != nil && !strings.Contains(err.Error(), "with an explicit deny") {
		t.Errorf("an explicit deny says so: %v", err)
	}

	// The identity without a policy reads everything of its account.
	admin := f.r53
	checks, err := admin.ListHealthChecks(ctx, &r53.ListHealthChecksInput{})
	must(t, err)
	if len(checks.HealthChecks) == 0 {
		t.Fatal("the admin sees no health checks")
	}
	_, err = zr.GetHealthCheck(ctx, &r53.GetHealthCheckInput{HealthCheckId: checks.HealthChecks[0].Id})
	denied("GetHealthCheck, explicitly denied", err, "route53:GetHealthCheck", "arn:aws:route53:::healthcheck/"+aws.ToString(checks.HealthChecks[0].Id))
}
