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
