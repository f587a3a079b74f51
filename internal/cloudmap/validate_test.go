package cloudmap

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// The constraint texts of the model, as the messages quote them.
const (
	patHTTP          = `^(?!arn:)[!-~]{1,1024}$`
	patPrivate       = `^(?!arn:)[!-~]{1,253}$`
	patPublic        = `^([a-zA-Z0-9]([a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z0-9]([a-zA-Z0-9\-]{0,61}[a-zA-Z0-9])?$`
	patService       = `((?=^.{1,127}$)^([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9])(\.([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9]))*$)|(^\.$)`
	patInstanceID    = `^[0-9a-zA-Z_/:.@-]+$`
	patAttrKey       = `^[a-zA-Z0-9!-~]+$`
	patAttrValue     = `^([a-zA-Z0-9!-~][ \ta-zA-Z0-9!-~]*){0,1}[a-zA-Z0-9!-~]{0,1}$`
	patNamespaceName = `^[!-~]{1,1024}$`
)

func nullAt(path string) string {
	return "Value null at '" + path + "' failed to satisfy constraint: Member must not be null"
}

// bad is the problem for a shown value (already quoted, or "of length N").
func bad(shown, path, constraint string) string {
	return "Value " + shown + " at '" + path + "' failed to satisfy constraint: " + constraint
}

// q quotes a string value as messages show it: at most 64 runes.
func q(s string) string {
	if utf8.RuneCountInString(s) > 64 {
		s = string([]rune(s)[:64]) + "…"
	}
	return "'" + s + "'"
}

func ofLen(n int) string      { return fmt.Sprintf("of length %d", n) }
func qi(n int64) string       { return fmt.Sprintf("'%d'", n) }
func pattern(p string) string { return "Member must satisfy regular expression pattern: " + p }
func maxLen(n int) string     { return fmt.Sprintf("Member must have length less than or equal to %d", n) }
func minLen(n int) string {
	return fmt.Sprintf("Member must have length greater than or equal to %d", n)
}
func maxVal(n int64) string { return fmt.Sprintf("Member must have value less than or equal to %d", n) }
func minVal(n int64) string {
	return fmt.Sprintf("Member must have value greater than or equal to %d", n)
}
func enum(values ...string) string {
	return "Member must satisfy enum value set: [" + strings.Join(values, ", ") + "]"
}

func i32(n int32) *int32         { return &n }
func i64(n int64) *int64         { return &n }
func sp(s string) *string        { return &s }
func rep(s string, n int) string { return strings.Repeat(s, n) }

func tags(n int) []Tag {
	out := make([]Tag, n)
	for i := range out {
		out[i] = Tag{Key: fmt.Sprintf("k%d", i), Value: sp("v")}
	}
	return out
}

func keys(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("k%d", i)
	}
	return out
}

func attrMap(n int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprintf("k%d", i)] = "v"
	}
	return m
}

// problems returns what Validate reports about in, nil when it is valid.
func problems(t *testing.T, in Validatable) []string {
	t.Helper()
	err := Validate(in)
	if err == nil {
		return nil
	}
	ve, ok := err.(*ValidationError)
	if !ok {
		t.Fatalf("Validate returned %T, want *ValidationError", err)
	}
	if len(ve.Problems) == 0 {
		t.Fatalf("ValidationError with no problems: %q", err)
	}
	return ve.Problems
}

type vcase struct {
	name string
	in   Validatable
	want []string // the problems, in order; nil means valid
}

func runCases(t *testing.T, cases []vcase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := problems(t, tc.in)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("problems:\n got  %q\n want %q", got, tc.want)
			}
		})
	}
}

func httpNS(name string) *CreateHttpNamespaceRequest { return &CreateHttpNamespaceRequest{Name: name} }
func privateNS(name string) *CreatePrivateDnsNamespaceRequest {
	return &CreatePrivateDnsNamespaceRequest{Name: name, Vpc: "vpc-1c56417b"}
}
func publicNS(name string) *CreatePublicDnsNamespaceRequest {
	return &CreatePublicDnsNamespaceRequest{Name: name}
}
func service(name string) *CreateServiceRequest {
	return &CreateServiceRequest{Name: name, NamespaceId: "ns-ylexjili4cdxy3xm"}
}
func register(id string, attrs map[string]string) *RegisterInstanceRequest {
	return &RegisterInstanceRequest{ServiceId: "srv-p5zdwlg5uvvzjita", InstanceId: id, Attributes: attrs}
}
func discover(mod func(*DiscoverInstancesRequest)) *DiscoverInstancesRequest {
	in := &DiscoverInstancesRequest{NamespaceName: "example.com", ServiceName: "myservice"}
	mod(in)
	return in
}

func TestValidateRequired(t *testing.T) {
	runCases(t, []vcase{
		{"http namespace without name", &CreateHttpNamespaceRequest{}, []string{nullAt("Name")}},
		{"private namespace without name and vpc", &CreatePrivateDnsNamespaceRequest{}, []string{nullAt("Name"), nullAt("Vpc")}},
		{"get namespace without id", &GetNamespaceRequest{}, []string{nullAt("Id")}},
		{"get operation without id", &GetOperationRequest{}, []string{nullAt("OperationId")}},
		{"register without anything", &RegisterInstanceRequest{}, []string{nullAt("Attributes"), nullAt("InstanceId"), nullAt("ServiceId")}},
		{"register with empty attributes", register("i-1", map[string]string{}), nil},
		{"tag resource without tags", &TagResourceRequest{ResourceARN: "arn:x"}, []string{nullAt("Tags")}},
		{"tag resource with an empty tag list", &TagResourceRequest{ResourceARN: "arn:x", Tags: []Tag{}}, nil},
		{"tag without value", &TagResourceRequest{ResourceARN: "arn:x", Tags: []Tag{{Key: "a", Value: sp("")}, {Key: "b"}}},
			[]string{nullAt("Tags.2.member.Value")}},
		{"tag without key", &TagResourceRequest{ResourceARN: "arn:x", Tags: []Tag{{Value: sp("v")}}},
			[]string{nullAt("Tags.1.member.Key")}},
		{"untag without keys", &UntagResourceRequest{ResourceARN: "arn:x"}, []string{nullAt("TagKeys")}},
		{"update service without change", &UpdateServiceRequest{Id: "srv-1"}, []string{nullAt("Service")}},
		{"update http namespace without description", &UpdateHttpNamespaceRequest{Id: "ns-1", Namespace: &HttpNamespaceChange{}},
			[]string{nullAt("Namespace.Description")}},
		{"dns config without records", &CreateServiceRequest{Name: "s", DnsConfig: &DnsConfig{}},
			[]string{nullAt("DnsConfig.DnsRecords")}},
		{"dns record without ttl", &CreateServiceRequest{Name: "s", DnsConfig: &DnsConfig{DnsRecords: []DnsRecord{{Type: "A"}}}},
			[]string{nullAt("DnsConfig.DnsRecords.1.member.TTL")}},
		{"dns record without type, second", &CreateServiceRequest{Name: "s", DnsConfig: &DnsConfig{DnsRecords: []DnsRecord{{Type: "A", TTL: i64(60)}, {TTL: i64(60)}}}},
			[]string{nullAt("DnsConfig.DnsRecords.2.member.Type")}},
		{"health check without type", &CreateServiceRequest{Name: "s", HealthCheckConfig: &HealthCheckConfig{}},
			[]string{nullAt("HealthCheckConfig.Type")}},
		{"private properties without dns properties", &CreatePrivateDnsNamespaceRequest{Name: "a.b", Vpc: "v", Properties: &PrivateDnsNamespaceProperties{}},
			[]string{nullAt("Properties.DnsProperties")}},
		{"private properties without soa", &CreatePrivateDnsNamespaceRequest{Name: "a.b", Vpc: "v",
			Properties: &PrivateDnsNamespaceProperties{DnsProperties: &PrivateDnsPropertiesMutable{}}},
			[]string{nullAt("Properties.DnsProperties.SOA")}},
		{"soa without ttl", &CreatePublicDnsNamespaceRequest{Name: "a.b",
			Properties: &PublicDnsNamespaceProperties{DnsProperties: &PublicDnsPropertiesMutable{SOA: &SOA{}}}},
			[]string{nullAt("Properties.DnsProperties.SOA.TTL")}},
		{"namespace filter without name and values", &ListNamespacesRequest{Filters: []NamespaceFilter{{}}},
			[]string{nullAt("Filters.1.member.Name"), nullAt("Filters.1.member.Values")}},
		{"delete service attributes without keys", &DeleteServiceAttributesRequest{ServiceId: "srv-1"}, []string{nullAt("Attributes")}},
		{"update custom health without status", &UpdateInstanceCustomHealthStatusRequest{ServiceId: "srv-1", InstanceId: "i"},
			[]string{nullAt("Status")}},
		{"list namespaces with nothing", &ListNamespacesRequest{}, nil},
	})
}

func TestValidateLengths(t *testing.T) {
	runCases(t, []vcase{
		{"creator request id 64", &CreateHttpNamespaceRequest{Name: "n", CreatorRequestId: rep("a", 64)}, nil},
		{"creator request id 65", &CreateHttpNamespaceRequest{Name: "n", CreatorRequestId: rep("a", 65)},
			[]string{bad(q(rep("a", 65)), "CreatorRequestId", maxLen(64))}},
		// Lengths count characters, not bytes.
		{"creator request id 64 three-byte runes", &CreateHttpNamespaceRequest{Name: "n", CreatorRequestId: rep("日", 64)}, nil},
		{"creator request id 65 three-byte runes", &CreateHttpNamespaceRequest{Name: "n", CreatorRequestId: rep("日", 65)},
			[]string{bad(q(rep("日", 65)), "CreatorRequestId", maxLen(64))}},
		{"description 1024 two-byte runes", &CreateHttpNamespaceRequest{Name: "n", Description: rep("é", 1024)}, nil},
		{"description 1025 two-byte runes", &CreateHttpNamespaceRequest{Name: "n", Description: rep("é", 1025)},
			[]string{bad(q(rep("é", 1025)), "Description", maxLen(1024))}},
		{"tag key 128 four-byte runes", &TagResourceRequest{ResourceARN: "a", Tags: []Tag{{Key: rep("😀", 128), Value: sp("")}}}, nil},
		{"tag key 129", &TagResourceRequest{ResourceARN: "a", Tags: []Tag{{Key: rep("k", 129), Value: sp("")}}},
			[]string{bad(q(rep("k", 129)), "Tags.1.member.Key", maxLen(128))}},
		{"tag value 256", &TagResourceRequest{ResourceARN: "a", Tags: []Tag{{Key: "k", Value: sp(rep("€", 256))}}}, nil},
		{"tag value 257", &TagResourceRequest{ResourceARN: "a", Tags: []Tag{{Key: "k", Value: sp(rep("v", 257))}}},
			[]string{bad(q(rep("v", 257)), "Tags.1.member.Value", maxLen(256))}},
		{"arn 255", &GetServiceRequest{Id: rep("s", 255)}, nil},
		{"arn 256", &GetServiceRequest{Id: rep("s", 256)}, []string{bad(q(rep("s", 256)), "Id", maxLen(255))}},
		{"resource arn 1011", &ListTagsForResourceRequest{ResourceARN: rep("a", 1011)}, nil},
		{"resource arn 1012", &ListTagsForResourceRequest{ResourceARN: rep("a", 1012)},
			[]string{bad(q(rep("a", 1012)), "ResourceARN", maxLen(1011))}},
		{"owner account 12", &GetOperationRequest{OperationId: "o", OwnerAccount: "123456789012"}, nil},
		{"owner account 11", &GetOperationRequest{OperationId: "o", OwnerAccount: "12345678901"},
			[]string{bad(q("12345678901"), "OwnerAccount", minLen(12))}},
		{"owner account 13", &GetOperationRequest{OperationId: "o", OwnerAccount: "1234567890123"},
			[]string{bad(q("1234567890123"), "OwnerAccount", maxLen(12))}},
		{"next token 4096", &ListServicesRequest{NextToken: rep("t", 4096)}, nil},
		{"next token 4097", &ListServicesRequest{NextToken: rep("t", 4097)},
			[]string{bad(q(rep("t", 4097)), "NextToken", maxLen(4096))}},
		{"instance id 64", register(rep("i", 64), map[string]string{}), nil},
		{"instance id 65", register(rep("i", 65), map[string]string{}),
			[]string{bad(q(rep("i", 65)), "InstanceId", maxLen(64))}},
		{"vpc 65", &CreatePrivateDnsNamespaceRequest{Name: "a.b", Vpc: rep("v", 65)},
			[]string{bad(q(rep("v", 65)), "Vpc", maxLen(64))}},
		{"filter value empty", &ListServicesRequest{Filters: []ServiceFilter{{Name: "NAMESPACE_ID", Values: []string{"ns-1", ""}}}},
			[]string{bad(q(""), "Filters.1.member.Values.2.member", minLen(1))}},
		{"filter value 256", &ListOperationsRequest{Filters: []OperationFilter{{Name: "STATUS", Values: []string{rep("x", 256)}}}},
			[]string{bad(q(rep("x", 256)), "Filters.1.member.Values.1.member", maxLen(255))}},
		{"attribute key 255", register("i", map[string]string{rep("k", 255): "v"}), nil},
		{"attribute key 256", register("i", map[string]string{rep("k", 256): "v"}),
			[]string{bad(q(rep("k", 256)), "Attributes.key", maxLen(255))}},
		{"attribute value 1024", register("i", map[string]string{"k": rep("v", 1024)}), nil},
		{"attribute value 1025", register("i", map[string]string{"k": rep("v", 1025)}),
			[]string{bad(q(rep("v", 1025)), "Attributes.value", maxLen(1024))}},
		{"service attribute value 1025", &UpdateServiceAttributesRequest{ServiceId: "s", Attributes: map[string]string{"k": rep("v", 1025)}},
			[]string{bad(q(rep("v", 1025)), "Attributes.value", maxLen(1024))}},
		{"service attribute key to delete 256", &DeleteServiceAttributesRequest{ServiceId: "s", Attributes: []string{rep("k", 256)}},
			[]string{bad(q(rep("k", 256)), "Attributes.1.member", maxLen(255))}},
		{"resource path 256", &CreateServiceRequest{Name: "s", HealthCheckConfig: &HealthCheckConfig{Type: "HTTP", ResourcePath: "/" + rep("p", 255)}},
			[]string{bad(q("/"+rep("p", 255)), "HealthCheckConfig.ResourcePath", maxLen(255))}},
	})
}

func TestValidatePatterns(t *testing.T) {
	label63 := rep("a", 63)
	runCases(t, []vcase{
		// NamespaceNameHttp: ^(?!arn:)[!-~]{1,1024}$
		{"http name", httpNS("example-http.com"), nil},
		{"http name arn prefix", httpNS("arn:aws:servicediscovery"), []string{bad(q("arn:aws:servicediscovery"), "Name", pattern(patHTTP))}},
		{"http name bare arn:", httpNS("arn:"), []string{bad(q("arn:"), "Name", pattern(patHTTP))}},
		{"http name arn without colon", httpNS("arnold"), nil},
		{"http name arn inside", httpNS("x-arn:y"), nil},
		{"http name ARN upper case", httpNS("ARN:x"), nil},
		{"http name space", httpNS("my name"), []string{bad(q("my name"), "Name", pattern(patHTTP))}},
		{"http name non-ascii", httpNS("exämple"), []string{bad(q("exämple"), "Name", pattern(patHTTP))}},
		{"http name 1024", httpNS(rep("n", 1024)), nil},
		{"http name 1025", httpNS(rep("n", 1025)), []string{bad(q(rep("n", 1025)), "Name", maxLen(1024))}},
		// NamespaceNamePrivate: ^(?!arn:)[!-~]{1,253}$
		{"private name", privateNS("example.com"), nil},
		{"private name without dot", privateNS("local"), nil},
		{"private name arn prefix", privateNS("arn:x.com"), []string{bad(q("arn:x.com"), "Name", pattern(patPrivate))}},
		{"private name tab", privateNS("a\tb"), []string{bad(q("a\tb"), "Name", pattern(patPrivate))}},
		{"private name 253", privateNS(rep("p", 253)), nil},
		{"private name 254", privateNS(rep("p", 254)),
			[]string{bad(q(rep("p", 254)), "Name", maxLen(253)), bad(q(rep("p", 254)), "Name", pattern(patPrivate))}},
		// NamespaceNamePublic: labels of letters, digits and hyphens, and a dot.
		{"public name", publicNS("example-public-dns.com"), nil},
		{"public name without dot", publicNS("example"), []string{bad(q("example"), "Name", pattern(patPublic))}},
		{"public name leading hyphen", publicNS("-example.com"), []string{bad(q("-example.com"), "Name", pattern(patPublic))}},
		{"public name trailing hyphen label", publicNS("example-.com"), []string{bad(q("example-.com"), "Name", pattern(patPublic))}},
		{"public name underscore", publicNS("ex_ample.com"), []string{bad(q("ex_ample.com"), "Name", pattern(patPublic))}},
		{"public name trailing dot", publicNS("example.com."), []string{bad(q("example.com."), "Name", pattern(patPublic))}},
		{"public name empty label", publicNS("example..com"), []string{bad(q("example..com"), "Name", pattern(patPublic))}},
		{"public name label 63", publicNS(label63 + ".com"), nil},
		{"public name label 64", publicNS(label63 + "a.com"), []string{bad(q(label63+"a.com"), "Name", pattern(patPublic))}},
		{"public name one-letter labels", publicNS("a.b"), nil},
		// ServiceName: labels ≤63, 127 in all, or ".".
		{"service name", service("myservice"), nil},
		{"service name srv style", service("_exampleservice._tcp"), nil},
		{"service name dot", service("."), nil},
		{"service name dotted", service("a.b.c"), nil},
		{"service name underscore end", service("svc_"), nil},
		{"service name one char", service("a"), nil},
		{"service name leading hyphen", service("-svc"), []string{bad(q("-svc"), "Name", pattern(patService))}},
		{"service name trailing hyphen", service("svc-"), []string{bad(q("svc-"), "Name", pattern(patService))}},
		{"service name space", service("my service"), []string{bad(q("my service"), "Name", pattern(patService))}},
		{"service name two dots", service(".."), []string{bad(q(".."), "Name", pattern(patService))}},
		{"service name empty label", service("a..b"), []string{bad(q("a..b"), "Name", pattern(patService))}},
		{"service name trailing dot", service("svc."), []string{bad(q("svc."), "Name", pattern(patService))}},
		{"service name label 63", service(label63), nil},
		{"service name label 64", service(label63 + "a"), []string{bad(q(label63+"a"), "Name", pattern(patService))}},
		{"service name 127", service(label63 + "." + label63), nil},
		{"service name 128", service(label63 + "." + label63[:62] + ".b"),
			[]string{bad(q(label63+"."+label63[:62]+".b"), "Name", pattern(patService))}},
		{"service name 127 many labels", service(rep("ab.", 42) + "c"), nil},
		{"service name non-ascii", service("sérvice"), []string{bad(q("sérvice"), "Name", pattern(patService))}},
		{"discover service name 128", discover(func(d *DiscoverInstancesRequest) { d.ServiceName = rep("a.", 63) + "bc" }),
			[]string{bad(q(rep("a.", 63)+"bc"), "ServiceName", pattern(patService))}},
		// NamespaceName (DiscoverInstances): ^[!-~]{1,1024}$
		{"discover namespace name with space", discover(func(d *DiscoverInstancesRequest) { d.NamespaceName = "example com" }),
			[]string{bad(q("example com"), "NamespaceName", pattern(patNamespaceName))}},
		{"discover namespace name arn", discover(func(d *DiscoverInstancesRequest) { d.NamespaceName = "arn:ok" }), nil},
		// InstanceId: ^[0-9a-zA-Z_/:.@-]+$
		{"instance id", register("i-abcd1234", map[string]string{}), nil},
		{"instance id punctuation", register("a/b:c.d@e_f-9", map[string]string{}), nil},
		{"instance id space", register("my instance", map[string]string{}),
			[]string{bad(q("my instance"), "InstanceId", pattern(patInstanceID))}},
		{"instance id non-ascii", register("ü", map[string]string{}),
			[]string{bad(q("ü"), "InstanceId", pattern(patInstanceID))}},
		// AttrKey: ^[a-zA-Z0-9!-~]+$
		{"attr key reserved", register("i", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.44"}), nil},
		{"attr key punctuation", register("i", map[string]string{"a.b/c:d~": "v"}), nil},
		{"attr key space", register("i", map[string]string{"my key": "v"}),
			[]string{bad(q("my key"), "Attributes.key", pattern(patAttrKey))}},
		{"attr key non-ascii", register("i", map[string]string{"clé": "v"}),
			[]string{bad(q("clé"), "Attributes.key", pattern(patAttrKey))}},
		// AttrValue: no leading space or tab; spaces and tabs inside; a trailing space.
		{"attr value empty", register("i", map[string]string{"k": ""}), nil},
		{"attr value plain", register("i", map[string]string{"k": "v1"}), nil},
		{"attr value inner space", register("i", map[string]string{"k": "a b  c"}), nil},
		{"attr value inner tab", register("i", map[string]string{"k": "a\tb"}), nil},
		{"attr value trailing space", register("i", map[string]string{"k": "value "}), nil},
		{"attr value trailing tab", register("i", map[string]string{"k": "value\t"}), nil},
		{"attr value only space", register("i", map[string]string{"k": " "}),
			[]string{bad(q(" "), "Attributes.value", pattern(patAttrValue))}},
		{"attr value leading space", register("i", map[string]string{"k": " value"}),
			[]string{bad(q(" value"), "Attributes.value", pattern(patAttrValue))}},
		{"attr value leading tab", register("i", map[string]string{"k": "\tvalue"}),
			[]string{bad(q("\tvalue"), "Attributes.value", pattern(patAttrValue))}},
		{"attr value newline", register("i", map[string]string{"k": "a\nb"}),
			[]string{bad(q("a\nb"), "Attributes.value", pattern(patAttrValue))}},
		{"attr value non-ascii", register("i", map[string]string{"k": "café"}),
			[]string{bad(q("café"), "Attributes.value", pattern(patAttrValue))}},
		{"query parameter leading space", discover(func(d *DiscoverInstancesRequest) { d.QueryParameters = map[string]string{"k": " v"} }),
			[]string{bad(q(" v"), "QueryParameters.value", pattern(patAttrValue))}},
		{"optional parameter key space", discover(func(d *DiscoverInstancesRequest) { d.OptionalParameters = map[string]string{"a b": "v"} }),
			[]string{bad(q("a b"), "OptionalParameters.key", pattern(patAttrKey))}},
		// Service attributes have no pattern.
		{"service attribute value with leading space", &UpdateServiceAttributesRequest{ServiceId: "s", Attributes: map[string]string{"k k": " v"}}, nil},
	})
}

func TestValidateEnums(t *testing.T) {
	hc := func(typ string) *CreateServiceRequest {
		return &CreateServiceRequest{Name: "s", HealthCheckConfig: &HealthCheckConfig{Type: typ}}
	}
	record := func(typ, policy string) *CreateServiceRequest {
		return &CreateServiceRequest{Name: "s", DnsConfig: &DnsConfig{RoutingPolicy: policy, DnsRecords: []DnsRecord{{Type: typ, TTL: i64(60)}}}}
	}
	runCases(t, []vcase{
		{"record types", record("AAAA", "WEIGHTED"), nil},
		{"record type MX", record("MX", ""), []string{bad(q("MX"), "DnsConfig.DnsRecords.1.member.Type", enum("SRV", "A", "AAAA", "CNAME"))}},
		{"record type lower case", record("a", ""), []string{bad(q("a"), "DnsConfig.DnsRecords.1.member.Type", enum("SRV", "A", "AAAA", "CNAME"))}},
		{"routing policy", record("A", "ROUND_ROBIN"), []string{bad(q("ROUND_ROBIN"), "DnsConfig.RoutingPolicy", enum("MULTIVALUE", "WEIGHTED"))}},
		{"health check TCP", hc("TCP"), nil},
		{"health check UDP", hc("UDP"), []string{bad(q("UDP"), "HealthCheckConfig.Type", enum("HTTP", "HTTPS", "TCP"))}},
		{"service type HTTP", &CreateServiceRequest{Name: "s", Type: "HTTP"}, nil},
		{"service type DNS_HTTP", &CreateServiceRequest{Name: "s", Type: "DNS_HTTP"}, []string{bad(q("DNS_HTTP"), "Type", enum("HTTP"))}},
		{"health status filter", discover(func(d *DiscoverInstancesRequest) { d.HealthStatus = "HEALTHY_OR_ELSE_ALL" }), nil},
		{"health status filter bad", discover(func(d *DiscoverInstancesRequest) { d.HealthStatus = "SICK" }),
			[]string{bad(q("SICK"), "HealthStatus", enum("HEALTHY", "UNHEALTHY", "ALL", "HEALTHY_OR_ELSE_ALL"))}},
		{"custom health UNKNOWN", &UpdateInstanceCustomHealthStatusRequest{ServiceId: "s", InstanceId: "i", Status: "UNKNOWN"},
			[]string{bad(q("UNKNOWN"), "Status", enum("HEALTHY", "UNHEALTHY"))}},
		{"filter condition", &ListNamespacesRequest{Filters: []NamespaceFilter{{Name: "TYPE", Condition: "LIKE", Values: []string{"HTTP"}}}},
			[]string{bad(q("LIKE"), "Filters.1.member.Condition", enum("EQ", "IN", "BETWEEN", "BEGINS_WITH"))}},
		{"namespace filter name", &ListNamespacesRequest{Filters: []NamespaceFilter{{Name: "ID", Values: []string{"x"}}}},
			[]string{bad(q("ID"), "Filters.1.member.Name", enum("TYPE", "NAME", "HTTP_NAME", "RESOURCE_OWNER"))}},
		{"service filter name", &ListServicesRequest{Filters: []ServiceFilter{{Name: "TYPE", Values: []string{"x"}}}},
			[]string{bad(q("TYPE"), "Filters.1.member.Name", enum("NAMESPACE_ID", "RESOURCE_OWNER"))}},
		{"operation filter name", &ListOperationsRequest{Filters: []OperationFilter{{Name: "STATUS", Values: []string{"x"}}, {Name: "OWNER", Values: []string{"x"}}}},
			[]string{bad(q("OWNER"), "Filters.2.member.Name", enum("NAMESPACE_ID", "SERVICE_ID", "STATUS", "TYPE", "UPDATE_DATE"))}},
	})
}

func TestValidateRanges(t *testing.T) {
	list := func(n int32) *ListNamespacesRequest { return &ListNamespacesRequest{MaxResults: i32(n)} }
	disc := func(n int32) *DiscoverInstancesRequest {
		return discover(func(d *DiscoverInstancesRequest) { d.MaxResults = i32(n) })
	}
	ttl := func(n int64) *CreateServiceRequest {
		return &CreateServiceRequest{Name: "s", DnsConfig: &DnsConfig{DnsRecords: []DnsRecord{{Type: "A", TTL: i64(n)}}}}
	}
	soa := func(n int64) *UpdatePrivateDnsNamespaceRequest {
		return &UpdatePrivateDnsNamespaceRequest{Id: "ns-1", Namespace: &PrivateDnsNamespaceChange{Properties: &PrivateDnsNamespacePropertiesChange{
			DnsProperties: &PrivateDnsPropertiesMutableChange{SOA: &SOAChange{TTL: i64(n)}}}}}
	}
	threshold := func(n int32) *CreateServiceRequest {
		return &CreateServiceRequest{Name: "s", HealthCheckConfig: &HealthCheckConfig{Type: "HTTP", FailureThreshold: i32(n)}}
	}
	custom := func(n int32) *CreateServiceRequest {
		return &CreateServiceRequest{Name: "s", HealthCheckCustomConfig: &HealthCheckCustomConfig{FailureThreshold: i32(n)}}
	}
	const ttlPath = "DnsConfig.DnsRecords.1.member.TTL"
	const soaPath = "Namespace.Properties.DnsProperties.SOA.TTL"
	runCases(t, []vcase{
		{"max results 0", list(0), []string{bad(qi(0), "MaxResults", minVal(1))}},
		{"max results -5", list(-5), []string{bad(qi(-5), "MaxResults", minVal(1))}},
		{"max results 1", list(1), nil},
		{"max results 100", list(100), nil},
		{"max results 101", list(101), []string{bad(qi(101), "MaxResults", maxVal(100))}},
		{"list instances max results 101", &ListInstancesRequest{ServiceId: "s", MaxResults: i32(101)}, []string{bad(qi(101), "MaxResults", maxVal(100))}},
		{"health status max results 0", &GetInstancesHealthStatusRequest{ServiceId: "s", MaxResults: i32(0)}, []string{bad(qi(0), "MaxResults", minVal(1))}},
		{"discover max results 0", disc(0), []string{bad(qi(0), "MaxResults", minVal(1))}},
		{"discover max results 1000", disc(1000), nil},
		{"discover max results 1001", disc(1001), []string{bad(qi(1001), "MaxResults", maxVal(1000))}},
		{"ttl -1", ttl(-1), []string{bad(qi(-1), ttlPath, minVal(0))}},
		{"ttl 0", ttl(0), nil},
		{"ttl 2147483647", ttl(2147483647), nil},
		{"ttl 2147483648", ttl(2147483648), []string{bad(qi(2147483648), ttlPath, maxVal(2147483647))}},
		{"soa ttl -1", soa(-1), []string{bad(qi(-1), soaPath, minVal(0))}},
		{"soa ttl 2147483647", soa(2147483647), nil},
		{"soa ttl 2147483648", soa(2147483648), []string{bad(qi(2147483648), soaPath, maxVal(2147483647))}},
		{"failure threshold 0", threshold(0), []string{bad(qi(0), "HealthCheckConfig.FailureThreshold", minVal(1))}},
		{"failure threshold 1", threshold(1), nil},
		{"failure threshold 10", threshold(10), nil},
		{"failure threshold 11", threshold(11), []string{bad(qi(11), "HealthCheckConfig.FailureThreshold", maxVal(10))}},
		{"custom failure threshold 0", custom(0), []string{bad(qi(0), "HealthCheckCustomConfig.FailureThreshold", minVal(1))}},
		{"custom failure threshold 11", custom(11), []string{bad(qi(11), "HealthCheckCustomConfig.FailureThreshold", maxVal(10))}},
		{"update service ttl nested", &UpdateServiceRequest{Id: "srv-1", Service: &ServiceChange{DnsConfig: &DnsConfigChange{
			DnsRecords: []DnsRecord{{Type: "A", TTL: i64(60)}, {Type: "AAAA", TTL: i64(-1)}}}}},
			[]string{bad(qi(-1), "Service.DnsConfig.DnsRecords.2.member.TTL", minVal(0))}},
	})
}

func TestValidateSizes(t *testing.T) {
	runCases(t, []vcase{
		{"tags 200", &CreateHttpNamespaceRequest{Name: "n", Tags: tags(200)}, nil},
		{"tags 201", &CreateHttpNamespaceRequest{Name: "n", Tags: tags(201)}, []string{bad(ofLen(201), "Tags", maxLen(200))}},
		{"tag resource tags 201", &TagResourceRequest{ResourceARN: "a", Tags: tags(201)}, []string{bad(ofLen(201), "Tags", maxLen(200))}},
		{"tag keys 0", &UntagResourceRequest{ResourceARN: "a", TagKeys: []string{}}, nil},
		{"tag keys 201", &UntagResourceRequest{ResourceARN: "a", TagKeys: keys(201)}, []string{bad(ofLen(201), "TagKeys", maxLen(200))}},
		{"service attribute keys 0", &DeleteServiceAttributesRequest{ServiceId: "s", Attributes: []string{}},
			[]string{bad(ofLen(0), "Attributes", minLen(1))}},
		{"service attribute keys 1", &DeleteServiceAttributesRequest{ServiceId: "s", Attributes: keys(1)}, nil},
		{"service attribute keys 30", &DeleteServiceAttributesRequest{ServiceId: "s", Attributes: keys(30)}, nil},
		{"service attribute keys 31", &DeleteServiceAttributesRequest{ServiceId: "s", Attributes: keys(31)},
			[]string{bad(ofLen(31), "Attributes", maxLen(30))}},
		{"instance ids absent", &GetInstancesHealthStatusRequest{ServiceId: "s"}, nil},
		{"instance ids empty", &GetInstancesHealthStatusRequest{ServiceId: "s", Instances: []string{}},
			[]string{bad(ofLen(0), "Instances", minLen(1))}},
		{"instance ids one", &GetInstancesHealthStatusRequest{ServiceId: "s", Instances: []string{"i-1"}}, nil},
		{"instance id 65 in list", &GetInstancesHealthStatusRequest{ServiceId: "s", Instances: []string{"i-1", rep("i", 65)}},
			[]string{bad(q(rep("i", 65)), "Instances.2.member", maxLen(64))}},
		{"service attributes map 0", &UpdateServiceAttributesRequest{ServiceId: "s", Attributes: map[string]string{}},
			[]string{bad(ofLen(0), "Attributes", minLen(1))}},
		{"service attributes map 30", &UpdateServiceAttributesRequest{ServiceId: "s", Attributes: attrMap(30)}, nil},
		{"service attributes map 31", &UpdateServiceAttributesRequest{ServiceId: "s", Attributes: attrMap(31)},
			[]string{bad(ofLen(31), "Attributes", maxLen(30))}},
		// The instance attributes map has no size in the model (the
		// registry enforces the 30-attribute quota).
		{"instance attributes 31", register("i", attrMap(31)), nil},
	})
}

func TestValidationErrorMessage(t *testing.T) {
	err := Validate(&CreateHttpNamespaceRequest{})
	want := "1 validation error detected: Value null at 'Name' failed to satisfy constraint: Member must not be null"
	if err == nil || err.Error() != want {
		t.Errorf("one problem:\n got  %v\n want %s", err, want)
	}

	err = Validate(&ListNamespacesRequest{MaxResults: i32(101), NextToken: rep("t", 4097)})
	want = "2 validation errors detected: " +
		"Value '101' at 'MaxResults' failed to satisfy constraint: Member must have value less than or equal to 100; " +
		"Value '" + rep("t", 64) + "…' at 'NextToken' failed to satisfy constraint: Member must have length less than or equal to 4096"
	if err == nil || err.Error() != want {
		t.Errorf("two problems:\n got  %v\n want %s", err, want)
	}

	err = Validate(&CreateServiceRequest{Name: "my service", DnsConfig: &DnsConfig{DnsRecords: []DnsRecord{{Type: "A"}}}})
	want = "2 validation errors detected: " +
		"Value null at 'DnsConfig.DnsRecords.1.member.TTL' failed to satisfy constraint: Member must not be null; " +
		"Value 'my service' at 'Name' failed to satisfy constraint: Member must satisfy regular expression pattern: " + patService
	if err == nil || err.Error() != want {
		t.Errorf("nested:\n got  %v\n want %s", err, want)
	}

	if err := Validate(&ListNamespacesRequest{}); err != nil {
		t.Errorf("valid input: %v", err)
	}
}

// A long value is shown cut to 64 characters, between runes.
func TestValidationErrorClipsValuesByRune(t *testing.T) {
	for _, r := range []string{"a", "é", "日", "😀"} {
		long := rep(r, 1100)
		err := Validate(&CreateHttpNamespaceRequest{Name: "n", Description: long + "x"})
		if err == nil {
			t.Fatalf("%s: no error", r)
		}
		msg := err.Error()
		if !utf8.ValidString(msg) {
			t.Errorf("%s: message is not valid UTF-8: %q", r, msg)
		}
		if want := "Value '" + rep(r, 64) + "…' at 'Description'"; !strings.Contains(msg, want) {
			t.Errorf("%s: message %q does not show %q", r, msg, want)
		}
	}
	// A value of 64 runes or fewer is shown whole.
	err := Validate(&GetOperationRequest{OperationId: "o", OwnerAccount: rep("日", 13)})
	if want := "Value '" + rep("日", 13) + "' at 'OwnerAccount'"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("short value: %v, want it to contain %q", err, want)
	}
}

// However many problems an input has, the message lists at most 10.
func TestValidationErrorBounded(t *testing.T) {
	in := &ListNamespacesRequest{Filters: make([]NamespaceFilter, 500)}
	err := Validate(in)
	ve, ok := err.(*ValidationError)
	if !ok {
		t.Fatalf("Validate = %v, want *ValidationError", err)
	}
	if len(ve.Problems) != 10 {
		t.Errorf("%d problems listed, want 10", len(ve.Problems))
	}
	if len(err.Error()) > 2000 {
		t.Errorf("message of %d bytes", len(err.Error()))
	}
	if ve.Problems[9] != nullAt("Filters.5.member.Values") {
		t.Errorf("10th problem = %q", ve.Problems[9])
	}
}

// Validating is read-only and can be repeated.
func TestValidateIsRepeatable(t *testing.T) {
	in := &CreateServiceRequest{Name: "-", DnsConfig: &DnsConfig{DnsRecords: []DnsRecord{{Type: "X"}}}}
	a, b := Validate(in), Validate(in)
	if a == nil || b == nil || a.Error() != b.Error() {
		t.Errorf("two runs differ: %v / %v", a, b)
	}
}

func TestTimeJSON(t *testing.T) {
	// The example of GetOperation: CreateDate 1587055860.121.
	ex := time.UnixMilli(1587055860121).UTC()
	b, err := json.Marshal(NewTime(ex))
	if err != nil || string(b) != "1587055860.121" {
		t.Fatalf("Marshal = %s, %v; want 1587055860.121", b, err)
	}
	var got Time
	if err := json.Unmarshal([]byte("1587055860.121"), &got); err != nil || !got.Equal(ex) {
		t.Fatalf("Unmarshal = %v, %v; want %v", got, err, ex)
	}
	if got.Location() != time.UTC {
		t.Errorf("location %v, want UTC", got.Location())
	}

	for _, tc := range []struct {
		in   string
		want int64 // epoch ms
	}{
		{"1587055900.469", 1587055900469},
		{"1587055860", 1587055860000},
		{"0", 0},
		{"0.001", 1},
		{"1.005", 1005},
		{"1083267246.850", 1083267246850}, // 1083267246.84999… as a float64
		{"2190571733.956", 2190571733956},
		{"1.5e9", 1500000000000},
	} {
		var tm Time
		if err := json.Unmarshal([]byte(tc.in), &tm); err != nil {
			t.Errorf("Unmarshal(%s): %v", tc.in, err)
			continue
		}
		if tm.UnixMilli() != tc.want {
			t.Errorf("Unmarshal(%s) = %d ms, want %d", tc.in, tm.UnixMilli(), tc.want)
		}
	}

	// Every millisecond of a span round-trips exactly.
	for ms := int64(1083267246000); ms < 1083267250000; ms++ {
		b, _ := json.Marshal(Time{time.UnixMilli(ms)})
		var back Time
		if err := json.Unmarshal(b, &back); err != nil || back.UnixMilli() != ms {
			t.Fatalf("round trip of %d ms: %s → %d, %v", ms, b, back.UnixMilli(), err)
		}
	}

	// Sub-millisecond precision is dropped by NewTime.
	if got := NewTime(time.Unix(10, 999999)).UnixNano(); got != 10_000_000_000 {
		t.Errorf("NewTime kept %d ns", got)
	}

	// As a member: a JSON number, omitted when nil; null leaves it zero.
	type holder struct {
		T *Time `json:"T,omitempty"`
	}
	b, _ = json.Marshal(holder{T: NewTime(ex)})
	if string(b) != `{"T":1587055860.121}` {
		t.Errorf("member: %s", b)
	}
	b, _ = json.Marshal(holder{})
	if string(b) != `{}` {
		t.Errorf("nil member: %s", b)
	}
	var h holder
	if err := json.Unmarshal([]byte(`{"T":null}`), &h); err != nil || h.T != nil {
		t.Errorf("null member: %v, %v", h.T, err)
	}
	for _, bad := range []string{`"2020-04-16T16:51:00Z"`, `true`, `{}`} {
		var tm Time
		if err := json.Unmarshal([]byte(bad), &tm); err == nil {
			t.Errorf("Unmarshal(%s) accepted: %v", bad, tm)
		}
	}
}
