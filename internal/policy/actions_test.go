package policy

import (
	"slices"
	"testing"
)

// TestActions_Reference checks the action table against the Service
// Authorization Reference, "Actions, resources, and condition keys for
// AWS Cloud Map"
// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscloudmap.html):
// every action, the resource type it is authorized against, and the
// condition keys the reference lists for it. Where cairn reads the table
// its own way the row says why (see also the README).
func TestActions_Reference(t *testing.T) {
	tags := []string{"aws:RequestTag/${TagKey}", "aws:TagKeys"}
	svc := []string{"servicediscovery:ServiceArn", "servicediscovery:ServiceCreatedByAccount"}
	created := []string{"servicediscovery:ServiceCreatedByAccount"}
	want := []struct {
		name string
		res  ResourceType
		keys []string
	}{
		{"CreateHttpNamespace", ResourceAll, tags},
		{"CreatePrivateDnsNamespace", ResourceAll, tags},
		{"CreatePublicDnsNamespace", ResourceAll, tags},
		// The reference lists namespace* (and the new service's ARN);
		// cairn authorizes the namespace the service is created in.
		{"CreateService", ResourceNamespace, []string{"servicediscovery:NamespaceArn", "aws:RequestTag/${TagKey}", "aws:TagKeys"}},
		{"DeleteNamespace", ResourceNamespace, nil},
		{"DeleteResourcePolicy", ResourceNamespace, nil}, // permission only: cairn unshare
		{"DeleteService", ResourceService, created},
		{"DeleteServiceAttributes", ResourceService, created},
		// The reference names no resource type for the instance actions;
		// cairn authorizes them on the service they name, as AWS's own
		// refusal messages do ("on resource: …:service/srv-…").
		{"DeregisterInstance", ResourceService, svc},
		// DiscoverInstances names a namespace and a service by name; both
		// must be allowed.
		{"DiscoverInstances", ResourceNamespaceAndService, []string{"servicediscovery:NamespaceName", "servicediscovery:ServiceName"}},
		{"DiscoverInstancesRevision", ResourceNamespaceAndService, []string{"servicediscovery:NamespaceName", "servicediscovery:ServiceName"}},
		{"GetInstance", ResourceService, []string{"servicediscovery:ServiceArn"}},
		{"GetInstancesHealthStatus", ResourceService, []string{"servicediscovery:ServiceArn"}},
		{"GetNamespace", ResourceNamespace, nil},
		{"GetOperation", ResourceAll, nil},
		{"GetResourcePolicy", ResourceNamespace, nil}, // permission only: cairn shares
		{"GetService", ResourceService, nil},
		{"GetServiceAttributes", ResourceService, nil},
		{"ListInstances", ResourceService, []string{"servicediscovery:ServiceArn"}},
		{"ListNamespaces", ResourceAll, nil},
		{"ListOperations", ResourceAll, nil},
		{"ListServices", ResourceAll, nil},
		{"ListTagsForResource", ResourceNamed, nil},
		{"PutResourcePolicy", ResourceNamespace, nil}, // permission only: cairn share
		{"RegisterInstance", ResourceService, svc},
		{"TagResource", ResourceNamed, tags},
		{"UntagResource", ResourceNamed, []string{"aws:TagKeys"}},
		{"UpdateHttpNamespace", ResourceNamespace, nil},
		{"UpdateInstanceCustomHealthStatus", ResourceService, svc},
		{"UpdatePrivateDnsNamespace", ResourceNamespace, nil},
		{"UpdatePublicDnsNamespace", ResourceNamespace, nil},
		{"UpdateService", ResourceService, created},
		{"UpdateServiceAttributes", ResourceService, created},
	}
	all := AllActions()
	if len(all) != len(want) {
		t.Fatalf("%d actions, the reference has %d", len(all), len(want))
	}
	for i, w := range want {
		a, ok := LookupAction("servicediscovery:" + w.name)
		if !ok || a != all[i] {
			t.Fatalf("action %s: lookup %v %v, want the %dth", w.name, a, ok, i)
		}
		info := a.Info()
		if info.Resource != w.res {
			t.Errorf("%s: resource type %v, want %v", w.name, info.Resource, w.res)
		}
		if !slices.Equal(sorted(info.Keys), sorted(w.keys)) {
			t.Errorf("%s: condition keys %v, want %v", w.name, info.Keys, w.keys)
		}
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// TestActions_ResourceScoping evaluates every action against policies
// scoped to each resource type: an action is allowed by a statement whose
// Resource names its resource type, and an action without a resource type
// only by Resource "*".
func TestActions_ResourceScoping(t *testing.T) {
	byNamespace := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"servicediscovery:*","Resource":"arn:aws:servicediscovery:*:*:namespace/*"}}`)
	byService := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"servicediscovery:*","Resource":"arn:aws:servicediscovery:*:*:service/*"}}`)
	everything := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"servicediscovery:*","Resource":"*"}}`)
	for _, a := range AllActions() {
		t.Run(a.Info().Name, func(t *testing.T) {
			var resources []string
			switch a.Info().Resource {
			case ResourceAll:
				resources = []string{"*"}
			case ResourceNamespace:
				resources = []string{nsARN}
			case ResourceService:
				resources = []string{svARN}
			case ResourceNamespaceAndService, ResourceNamed:
				resources = []string{nsARN, svARN}
			}
			for _, res := range resources {
				r := &Request{Action: a, Resource: res}
				if !everything.Evaluate(r).Allowed() {
					t.Errorf("Resource * doesn't allow %v on %s", a, res)
				}
				if got, want := byNamespace.Evaluate(r).Allowed(), res == nsARN; got != want {
					t.Errorf("namespace/* policy on %s: allowed %v, want %v", res, got, want)
				}
				if got, want := byService.Evaluate(r).Allowed(), res == svARN; got != want {
					t.Errorf("service/* policy on %s: allowed %v, want %v", res, got, want)
				}
			}
		})
	}
}

func TestLookupAction(t *testing.T) {
	for _, name := range []string{"servicediscovery:RegisterInstance", "RegisterInstance", "ServiceDiscovery:registerinstance"} {
		if a, ok := LookupAction(name); !ok || a.String() != "servicediscovery:RegisterInstance" {
			t.Errorf("LookupAction(%q) = %v, %v", name, a, ok)
		}
	}
	for _, name := range []string{"route53:RegisterInstance", "Register*", "", "servicediscovery:"} {
		if a, ok := LookupAction(name); ok {
			t.Errorf("LookupAction(%q) = %v, want none", name, a)
		}
	}
}

// TestRoute53Actions checks the Route 53 reads cairn serves against the
// Service Authorization Reference's table for Route 53
// (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonroute53.html):
// the zone and health-check reads are authorized on their resource, the
// lists and counts on "*".
func TestRoute53Actions(t *testing.T) {
	want := []struct {
		name string
		res  ResourceType
	}{
		{"GetHealthCheck", ResourceHealthCheck},
		{"GetHealthCheckCount", ResourceAll},
		{"GetHealthCheckStatus", ResourceHealthCheck},
		{"GetHostedZone", ResourceHostedZone},
		{"GetHostedZoneCount", ResourceAll},
		{"ListHealthChecks", ResourceAll},
		{"ListHostedZones", ResourceAll},
		{"ListHostedZonesByName", ResourceAll},
		{"ListResourceRecordSets", ResourceHostedZone},
	}
	all := Route53Actions()
	if len(all) != len(want) {
		t.Fatalf("%d Route 53 actions, want %d", len(all), len(want))
	}
	for i, w := range want {
		a, ok := LookupAction("Route53:" + w.name)
		if !ok || a != all[i] || a.String() != "route53:"+w.name {
			t.Fatalf("action %s: lookup %v %v, want the %dth", w.name, a, ok, i)
		}
		if got := a.Info().Resource; got != w.res {
			t.Errorf("%s: resource type %v, want %v", w.name, got, w.res)
		}
		if b, ok := LookupAction(w.name); ok {
			t.Errorf("LookupAction(%q) without a prefix = %v: bare names are Cloud Map's", w.name, b)
		}
	}
}

// TestRoute53Policies evaluates Route 53 reads: a Cloud Map policy
// doesn't allow them, route53: actions do, on the zone's ARN, and
// Route 53's writes may be named but never allow anything.
func TestRoute53Policies(t *testing.T) {
	const zone = "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ"
	const other = "arn:aws:route53:::hostedzone/Z9999999999999999999"
	cases := []struct {
		name, doc, action, resource string
		want                        Effect
	}{
		{"servicediscovery:* is not Route 53",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"servicediscovery:*","Resource":"*"}}`,
			"route53:GetHostedZone", zone, ImplicitDeny},
		{"route53:Get* on one zone",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"route53:Get*","Resource":"` + zone + `"}}`,
			"route53:GetHostedZone", zone, Allow},
		{"route53:Get* on one zone, another zone",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"route53:Get*","Resource":"` + zone + `"}}`,
			"route53:GetHostedZone", other, ImplicitDeny},
		{"a list needs Resource *",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"route53:List*","Resource":"arn:aws:route53:::hostedzone/*"}}`,
			"route53:ListHostedZones", "*", ImplicitDeny},
		{"Action * covers Route 53",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`,
			"route53:ListResourceRecordSets", zone, Allow},
		{"NotAction of Cloud Map allows Route 53",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"servicediscovery:*","Resource":"*"}}`,
			"route53:ListHealthChecks", "*", Allow},
		{"an explicit deny of Route 53 reads",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"route53:*","Resource":"*"}]}`,
			"route53:GetHealthCheckStatus", "arn:aws:route53:::healthcheck/1b2c3d4e-0000-4000-8000-000000000000", ExplicitDeny},
		{"a Route 53 write named in a policy allows nothing",
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["route53:ChangeResourceRecordSets","route53:Create*"],"Resource":"*"}}`,
			"route53:GetHostedZone", zone, ImplicitDeny},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustParse(t, c.doc)
			if got := p.Evaluate(&Request{Action: action(t, c.action), Resource: c.resource}).Effect; got != c.want {
				t.Errorf("%s on %s: %v, want %v", c.action, c.resource, got, c.want)
			}
		})
	}
}
