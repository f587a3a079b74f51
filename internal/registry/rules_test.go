package registry

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

func i64(n int64) *int64  { return &n }
func sp(s string) *string { return &s }

func records(types ...string) []cloudmap.DnsRecord {
	out := make([]cloudmap.DnsRecord, len(types))
	for i, t := range types {
		out[i] = cloudmap.DnsRecord{Type: t, TTL: i64(60)}
	}
	return out
}

var (
	nsHTTP    = &nsRecord{ID: "ns-http", Type: cloudmap.NamespaceTypeHttp}
	nsPrivate = &nsRecord{ID: "ns-private", Type: cloudmap.NamespaceTypeDnsPrivate}
	nsPublic  = &nsRecord{ID: "ns-public", Type: cloudmap.NamespaceTypeDnsPublic}
)

// dnsService is a service with the given records and routing policy.
func dnsService(policy string, types ...string) *svcRecord {
	return &svcRecord{ID: "srv-" + strings.ToLower(strings.Join(types, "")), Type: cloudmap.ServiceTypeDnsHttp,
		DNSConfig: &cloudmap.DnsConfig{RoutingPolicy: policy, DnsRecords: records(types...)}}
}

// The service configurations the attribute rules depend on.
var (
	svcA        = dnsService(cloudmap.RoutingPolicyMultivalue, "A")
	svcAAAA     = dnsService(cloudmap.RoutingPolicyMultivalue, "AAAA")
	svcBoth     = dnsService(cloudmap.RoutingPolicyMultivalue, "A", "AAAA")
	svcSRV      = dnsService(cloudmap.RoutingPolicyMultivalue, "SRV")
	svcASRV     = dnsService(cloudmap.RoutingPolicyMultivalue, "A", "SRV")
	svcAAAASRV  = dnsService(cloudmap.RoutingPolicyMultivalue, "AAAA", "SRV")
	svcAllSRV   = dnsService(cloudmap.RoutingPolicyMultivalue, "A", "AAAA", "SRV")
	svcCNAME    = dnsService(cloudmap.RoutingPolicyWeighted, "CNAME")
	svcWeighted = dnsService(cloudmap.RoutingPolicyWeighted, "A")
	svcHTTP     = &svcRecord{ID: "srv-http", Type: cloudmap.ServiceTypeHttp}
	svcChecked  = func() *svcRecord {
		s := dnsService(cloudmap.RoutingPolicyMultivalue, "A")
		s.HealthCheckConfig = &cloudmap.HealthCheckConfig{Type: cloudmap.HealthCheckTypeHttp}
		return s
	}()
	svcCustom = &svcRecord{ID: "srv-custom", Type: cloudmap.ServiceTypeHttp, HealthCheckCustomConfig: &cloudmap.HealthCheckCustomConfig{}}
)

func attrs(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func manyAttrs(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprintf("key%d", i)] = "v"
	}
	return m
}

// wantInvalid checks that err is an InvalidInput error whose message
// contains want, or nil when want is "".
func wantInvalid(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Errorf("unexpected error: %v", err)
		}
		return
	}
	e, ok := AsError(err)
	if !ok {
		t.Errorf("error %v, want InvalidInput containing %q", err, want)
		return
	}
	if e.Kind != KindInvalid {
		t.Errorf("kind %d (%v), want KindInvalid", e.Kind, e)
	}
	if !strings.Contains(e.Message, want) {
		t.Errorf("message %q, want it to contain %q", e.Message, want)
	}
}

func TestCheckInstanceAttributes(t *testing.T) {
	const (
		v4    = AttrIPv4
		v6    = AttrIPv6
		port  = AttrPort
		cname = AttrCNAME
		alias = AttrAlias
		ec2   = AttrEC2
		init  = AttrInitHealth
		elb   = "my-lb-1234567890.us-west-2.elb.amazonaws.com"
	)
	over := manyAttrs(4)
	over["big"] = strings.Repeat("v", 5000-len("big")-4*len("key0v")+1)
	exact := manyAttrs(4)
	exact["big"] = strings.Repeat("v", 5000-len("big")-4*len("key0v"))
	cases := []struct {
		name  string
		svc   *svcRecord
		ns    *nsRecord
		attrs map[string]string
		want  string // "" = accepted, else part of the InvalidInput message
	}{
		{"A with IPv4", svcA, nsPrivate, attrs(v4, "192.0.2.44"), ""},
		{"A example", svcA, nsPrivate, attrs(v4, "172.2.1.3", port, "808"), ""},
		{"A without IPv4", svcA, nsPrivate, attrs(v6, "2001:db8::1"), "has an A record, so AWS_INSTANCE_IPV4 is required"},
		{"A with no attributes", svcA, nsPrivate, attrs(), "has an A record"},
		{"IPv4 short", svcA, nsPrivate, attrs(v4, "192.0.2"), "must be an IPv4 address"},
		{"IPv4 leading zero", svcA, nsPrivate, attrs(v4, "192.0.2.044"), "must be an IPv4 address"},
		{"IPv4 given IPv6", svcA, nsPrivate, attrs(v4, "::1"), "must be an IPv4 address"},
		{"IPv4 with space", svcA, nsPrivate, attrs(v4, "192.0.2.44 "), "must be an IPv4 address"},
		{"AAAA with IPv6", svcAAAA, nsPrivate, attrs(v6, "2001:0db8:85a3::8a2e:0370:7334"), ""},
		{"AAAA without IPv6", svcAAAA, nsPrivate, attrs(v4, "192.0.2.44"), "has an AAAA record"},
		{"IPv6 mapped IPv4", svcAAAA, nsPrivate, attrs(v6, "::ffff:192.0.2.44"), "must be an IPv6 address"},
		{"IPv6 with zone", svcAAAA, nsPrivate, attrs(v6, "fe80::1%eth0"), "must be an IPv6 address"},
		{"IPv6 given IPv4", svcAAAA, nsPrivate, attrs(v6, "192.0.2.44"), "must be an IPv6 address"},
		{"A+AAAA with IPv4", svcBoth, nsPrivate, attrs(v4, "192.0.2.44"), ""},
		{"A+AAAA with IPv6", svcBoth, nsPrivate, attrs(v6, "2001:db8::1"), ""},
		{"A+AAAA with both", svcBoth, nsPrivate, attrs(v4, "192.0.2.44", v6, "2001:db8::1"), ""},
		{"A+AAAA with neither", svcBoth, nsPrivate, attrs(port, "80"), "has A and AAAA records"},
		{"SRV with port and IPv4", svcSRV, nsPrivate, attrs(port, "443", v4, "192.0.2.44"), ""},
		{"SRV with port and IPv6", svcSRV, nsPrivate, attrs(port, "443", v6, "2001:db8::1"), ""},
		{"SRV without port", svcSRV, nsPrivate, attrs(v4, "192.0.2.44"), "has an SRV record, so AWS_INSTANCE_PORT is required"},
		{"SRV without address", svcSRV, nsPrivate, attrs(port, "443"), "has an SRV record, so AWS_INSTANCE_IPV4 or AWS_INSTANCE_IPV6"},
		{"A+SRV with IPv4 and port", svcASRV, nsPrivate, attrs(v4, "192.0.2.44", port, "80"), ""},
		{"A+SRV with IPv6 only", svcASRV, nsPrivate, attrs(v6, "2001:db8::1", port, "80"), "has an A record, so AWS_INSTANCE_IPV4 is required"},
		{"A+SRV without port", svcASRV, nsPrivate, attrs(v4, "192.0.2.44"), "has an SRV record, so AWS_INSTANCE_PORT is required"},
		{"AAAA+SRV with IPv6 and port", svcAAAASRV, nsPrivate, attrs(v6, "2001:db8::1", port, "80"), ""},
		{"AAAA+SRV with IPv4 only", svcAAAASRV, nsPrivate, attrs(v4, "192.0.2.44", port, "80"), "has an AAAA record, so AWS_INSTANCE_IPV6 is required"},
		{"AAAA+SRV without port", svcAAAASRV, nsPrivate, attrs(v6, "2001:db8::1"), "has an SRV record, so AWS_INSTANCE_PORT is required"},
		{"A+AAAA+SRV with IPv4", svcAllSRV, nsPrivate, attrs(v4, "192.0.2.44", port, "80"), ""},
		{"A+AAAA+SRV with IPv6", svcAllSRV, nsPrivate, attrs(v6, "2001:db8::1", port, "80"), ""},
		{"A+AAAA+SRV with neither", svcAllSRV, nsPrivate, attrs(port, "80"), "has A and AAAA records"},
		{"A+AAAA+SRV without port", svcAllSRV, nsPrivate, attrs(v4, "192.0.2.44", v6, "2001:db8::1"), "has an SRV record, so AWS_INSTANCE_PORT is required"},
		{"alias on A+SRV", dnsService(cloudmap.RoutingPolicyWeighted, "A", "SRV"), nsPublic, attrs(alias, elb), "requires a service whose records are A, AAAA or both"},
		{"port 0", svcSRV, nsPrivate, attrs(port, "0", v4, "192.0.2.44"), ""},
		{"port 65535", svcSRV, nsPrivate, attrs(port, "65535", v4, "192.0.2.44"), ""},
		{"port 65536", svcSRV, nsPrivate, attrs(port, "65536", v4, "192.0.2.44"), "must be a port number"},
		{"port -1", svcSRV, nsPrivate, attrs(port, "-1", v4, "192.0.2.44"), "must be a port number"},
		{"port leading zero", svcSRV, nsPrivate, attrs(port, "080", v4, "192.0.2.44"), "must be a port number"},
		{"port plus sign", svcSRV, nsPrivate, attrs(port, "+80", v4, "192.0.2.44"), "must be a port number"},
		{"port name", svcSRV, nsPrivate, attrs(port, "http", v4, "192.0.2.44"), "must be a port number"},
		{"port empty", svcHTTP, nsHTTP, attrs(port, ""), "must be a port number"},
		{"CNAME", svcCNAME, nsPublic, attrs(cname, "www.example.com"), ""},
		{"CNAME with final dot", svcCNAME, nsPublic, attrs(cname, "www.example.com."), ""},
		{"CNAME without attribute", svcCNAME, nsPublic, attrs(v4, "192.0.2.44"), "has a CNAME record"},
		{"CNAME not a domain", svcCNAME, nsPublic, attrs(cname, "not a domain"), "must be a domain name"},
		{"alias", svcWeighted, nsPublic, attrs(alias, elb), ""},
		{"alias on A+AAAA", dnsService(cloudmap.RoutingPolicyWeighted, "A", "AAAA"), nsPublic, attrs(alias, elb), ""},
		{"alias multivalue", svcA, nsPublic, attrs(alias, elb), "requires a service with the WEIGHTED routing policy"},
		{"alias on SRV", svcSRV, nsPublic, attrs(alias, elb), "requires a service whose records are A, AAAA or both"},
		{"alias on CNAME", svcCNAME, nsPublic, attrs(alias, elb), "requires a service whose records are A, AAAA or both"},
		{"alias on HTTP service", svcHTTP, nsHTTP, attrs(alias, elb), "requires a service whose records are A, AAAA or both"},
		{"alias with IPv4", svcWeighted, nsPublic, attrs(alias, elb, v4, "192.0.2.44"), "no AWS_INSTANCE_ attribute"},
		{"alias with port", svcWeighted, nsPublic, attrs(alias, elb, port, "80"), "no AWS_INSTANCE_ attribute"},
		{"alias not a domain", svcWeighted, nsPublic, attrs(alias, "my lb"), "must be a load balancer's DNS name"},
		{"EC2 in HTTP namespace", svcHTTP, nsHTTP, attrs(ec2, "i-0abcdef1234567890"), ""},
		{"EC2 with init health", svcCustom, nsHTTP, attrs(ec2, "i-0abc", init, "UNHEALTHY"), ""},
		{"EC2 with another attribute", svcHTTP, nsHTTP, attrs(ec2, "i-0abc", "color", "blue"), "the only other attribute allowed is AWS_INIT_HEALTH_STATUS, not color"},
		{"EC2 in DNS namespace", svcA, nsPrivate, attrs(ec2, "i-0abc"), "can be used only in HTTP namespaces"},
		{"init health on custom", svcCustom, nsHTTP, attrs(init, "HEALTHY"), ""},
		{"init health unknown", svcCustom, nsHTTP, attrs(init, "UNKNOWN"), "must be HEALTHY or UNHEALTHY"},
		{"init health lower case", svcCustom, nsHTTP, attrs(init, "healthy"), "must be HEALTHY or UNHEALTHY"},
		{"init health without custom check", svcHTTP, nsHTTP, attrs(init, "HEALTHY"), "only for a service with a HealthCheckCustomConfig"},
		{"health check with port", svcChecked, nsPublic, attrs(v4, "192.0.2.44", port, "80"), ""},
		{"health check without port", svcChecked, nsPublic, attrs(v4, "192.0.2.44"), "has a health check, so AWS_INSTANCE_PORT is required"},
		{"HTTP service, custom attributes", svcHTTP, nsHTTP, attrs("color", "blue", "stage", "prod"), ""},
		{"HTTP service, no attributes", svcHTTP, nsHTTP, attrs(), ""},
		{"HTTP service, nil attributes", svcHTTP, nsHTTP, nil, ""},
		{"30 attributes", svcHTTP, nsHTTP, manyAttrs(30), ""},
		{"31 attributes", svcHTTP, nsHTTP, manyAttrs(31), "at most 30 attributes; the request has 31"},
		{"5000 characters", svcHTTP, nsHTTP, exact, ""},
		{"5001 characters", svcHTTP, nsHTTP, over, "at most 5000 characters; the request has 5001"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantInvalid(t, checkInstanceAttributes(tc.attrs, tc.svc, tc.ns), tc.want)
		})
	}
}

func TestValidDomain(t *testing.T) {
	label63 := strings.Repeat("a", 63)
	long := strings.TrimSuffix(strings.Repeat(strings.Repeat("b", 49)+".", 5), ".") // 249
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"example.com", true},
		{"www.example.com.", true},
		{"localhost", true},
		{"_sip._tcp.example.com", true},
		{"my-lb-123.us-west-2.elb.amazonaws.com", true},
		{"xn--bcher-kva.example", true},
		{"a", true},
		{label63 + ".com", true},
		{label63 + "a.com", false},
		{long, true},
		{long + ".cc", true},    // 252
		{long + ".ccc", true},   // 253
		{long + ".cccc", false}, // 254
		{long + ".ccc.", true},  // 253 and the root
		{"", false},
		{".", false},
		{"..", false},
		{"example..com", false},
		{".example.com", false},
		{"exa mple.com", false},
		{"exämple.com", false},
		{"example.com/path", false},
		{"192.0.2.44", true}, // digits are letters of a DNS name
	} {
		if got := validDomain(tc.in); got != tc.want {
			t.Errorf("validDomain(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestRecordSet(t *testing.T) {
	for _, tc := range []struct {
		types []string
		want  string
		err   string
	}{
		{[]string{"A"}, "A", ""},
		{[]string{"AAAA"}, "AAAA", ""},
		{[]string{"A", "AAAA"}, "A+AAAA", ""},
		{[]string{"AAAA", "A"}, "A+AAAA", ""},
		{[]string{"SRV"}, "SRV", ""},
		{[]string{"CNAME"}, "CNAME", ""},
		{[]string{"A", "A"}, "", "lists the record type A more than once"},
		{[]string{"SRV", "A"}, "A+SRV", ""},
		{[]string{"AAAA", "SRV"}, "AAAA+SRV", ""},
		{[]string{"SRV", "AAAA", "A"}, "A+AAAA+SRV", ""},
		{[]string{"CNAME", "A"}, "", `"A+CNAME" is not allowed`},
		{[]string{"CNAME", "SRV"}, "", `"CNAME+SRV" is not allowed`},
		{[]string{"A", "AAAA", "CNAME", "SRV"}, "", `"A+AAAA+CNAME+SRV" is not allowed`},
		{[]string{}, "", `"" is not allowed`},
		{nil, "", "is not allowed"},
	} {
		got, err := recordSet(records(tc.types...))
		wantInvalid(t, err, tc.err)
		if got != tc.want {
			t.Errorf("recordSet(%v) = %q, want %q", tc.types, got, tc.want)
		}
	}
}

func TestCheckHealthCheck(t *testing.T) {
	hc := func(typ, path string) *cloudmap.HealthCheckConfig {
		return &cloudmap.HealthCheckConfig{Type: typ, ResourcePath: path}
	}
	for _, tc := range []struct {
		name    string
		hc      *cloudmap.HealthCheckConfig
		ns      *nsRecord
		records string
		want    string
	}{
		{"none", nil, nsPrivate, "CNAME", ""},
		{"HTTP in public namespace", hc("HTTP", "/health"), nsPublic, "A", ""},
		{"HTTPS in HTTP namespace", hc("HTTPS", ""), nsHTTP, "", ""},
		{"TCP without path", hc("TCP", ""), nsPublic, "SRV", ""},
		{"private namespace", hc("HTTP", "/"), nsPrivate, "A", "not supported for services in private DNS namespaces"},
		{"TCP with path", hc("TCP", "/"), nsPublic, "A", "ResourcePath can't be set when HealthCheckConfig.Type is TCP"},
		{"CNAME", hc("HTTP", "/"), nsPublic, "CNAME", "with a CNAME record can't have a HealthCheckConfig"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantInvalid(t, checkHealthCheck(tc.hc, tc.ns, tc.records), tc.want)
		})
	}
}

func TestCheckTags(t *testing.T) {
	tags := func(n, distinct int) []cloudmap.Tag {
		out := make([]cloudmap.Tag, n)
		for i := range out {
			out[i] = cloudmap.Tag{Key: fmt.Sprintf("k%d", i%distinct), Value: sp("v")}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		tags []cloudmap.Tag
		want string
	}{
		{"none", nil, ""},
		{"one", []cloudmap.Tag{{Key: "Department", Value: sp("Engineering")}}, ""},
		{"aws prefix", []cloudmap.Tag{{Key: "aws:cloudformation:stack", Value: sp("x")}}, "reserved prefix aws:"},
		{"AWS prefix", []cloudmap.Tag{{Key: "ok", Value: sp("")}, {Key: "AWS:x", Value: sp("")}}, "reserved prefix aws:"},
		{"aws without colon", []cloudmap.Tag{{Key: "aws", Value: sp("")}, {Key: "awsome", Value: sp("")}}, ""},
		{"50", tags(50, 50), ""},
		{"60 with 50 keys", tags(60, 50), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantInvalid(t, checkTags(tc.tags, "arn:x"), tc.want)
		})
	}
	err := checkTags(tags(51, 51), "arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-1")
	e, ok := AsError(err)
	if !ok || e.Kind != KindTooManyTags || e.ResourceName != "arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-1" {
		t.Errorf("51 tags: %#v", err)
	}
}

func TestDedupTags(t *testing.T) {
	tag := func(k, v string) cloudmap.Tag { return cloudmap.Tag{Key: k, Value: sp(v)} }
	got := dedupTags([]cloudmap.Tag{tag("a", "1"), tag("b", "2"), tag("a", "3"), tag("c", ""), tag("b", "4")})
	want := []cloudmap.Tag{tag("a", "3"), tag("b", "4"), tag("c", "")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dedupTags = %v, want %v", got, want)
	}
	if got := dedupTags(nil); got != nil {
		t.Errorf("dedupTags(nil) = %v", got)
	}
	if got := dedupTags([]cloudmap.Tag{}); got != nil {
		t.Errorf("dedupTags(empty) = %v", got)
	}
	// Keys are case-sensitive.
	if got := dedupTags([]cloudmap.Tag{tag("Env", "a"), tag("env", "b")}); len(got) != 2 {
		t.Errorf("case-sensitive keys merged: %v", got)
	}
}

func TestRegisterInstance_SRVHostMustBeADNSName(t *testing.T) {
	r := newTestRegistry(t, Config{Limits: DefaultLimits()})
	ctx := context.Background()
	c := Caller{Account: "000000000000", Region: "us-east-1"}
	op, err := r.CreatePrivateDnsNamespace(ctx, c, &cloudmap.CreatePrivateDnsNamespaceRequest{Name: "corp.test", Vpc: "vpc-1"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.GetOperation(ctx, c, &cloudmap.GetOperationRequest{OperationId: op.OperationId})
	if err != nil {
		t.Fatal(err)
	}
	ttl := int64(10)
	svc, err := r.CreateService(ctx, c, &cloudmap.CreateServiceRequest{Name: "_api._tcp", NamespaceId: got.Operation.Targets["NAMESPACE"],
		DnsConfig: &cloudmap.DnsConfig{DnsRecords: []cloudmap.DnsRecord{{Type: "SRV", TTL: &ttl}}}})
	if err != nil {
		t.Fatal(err)
	}
	attrs := map[string]string{AttrIPv4: "192.0.2.1", AttrPort: "80"}
	for id, ok := range map[string]bool{"web-1": true, "a.b": true, "a..b": false, ".a": false, strings.Repeat("x", 64): false} {
		_, err := r.RegisterInstance(ctx, c, &cloudmap.RegisterInstanceRequest{ServiceId: svc.Service.Id, InstanceId: id, Attributes: attrs})
		if e, isErr := AsError(err); ok && err != nil || !ok && (!isErr || e.Kind != KindInvalid) {
			t.Errorf("RegisterInstance %q: %v (want ok=%v)", id, err, ok)
		}
	}
}
