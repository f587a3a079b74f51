package api

import (
	"slices"
	"testing"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

// TestAccessOf: every operation's input names its action and the
// resources the policy is evaluated on, from the right fields.
func TestAccessOf(t *testing.T) {
	v := "v"
	tags := []cloudmap.Tag{{Key: "team", Value: &v}, {Key: "env", Value: &v}}
	for _, tt := range []struct {
		in     any
		action string
		want   Access // without Action and the unexported fields
	}{
		{&cloudmap.CreateHttpNamespaceRequest{Name: "n", Tags: tags}, "CreateHttpNamespace",
			Access{CreateName: "n", RequestTags: tags, TagKeys: []string{"team", "env"}}},
		{&cloudmap.CreatePrivateDnsNamespaceRequest{Name: "n.internal"}, "CreatePrivateDnsNamespace", Access{CreateName: "n.internal"}},
		{&cloudmap.CreatePublicDnsNamespaceRequest{Name: "n.com"}, "CreatePublicDnsNamespace", Access{CreateName: "n.com"}},
		{&cloudmap.CreateServiceRequest{NamespaceId: "ns-1", Tags: tags}, "CreateService",
			Access{NamespaceRef: "ns-1", RequestTags: tags, TagKeys: []string{"team", "env"}}},
		{&cloudmap.CreateServiceRequest{DnsConfig: &cloudmap.DnsConfig{NamespaceId: "ns-2"}}, "CreateService", Access{NamespaceRef: "ns-2"}},
		{&cloudmap.CreateServiceRequest{NamespaceId: "ns-1", DnsConfig: &cloudmap.DnsConfig{NamespaceId: "ns-2"}}, "CreateService", Access{NamespaceRef: "ns-1"}},
		{&cloudmap.DeleteNamespaceRequest{Id: "ns-1"}, "DeleteNamespace", Access{NamespaceRef: "ns-1"}},
		{&cloudmap.GetNamespaceRequest{Id: "ns-1"}, "GetNamespace", Access{NamespaceRef: "ns-1"}},
		{&cloudmap.UpdateHttpNamespaceRequest{Id: "ns-1"}, "UpdateHttpNamespace", Access{NamespaceRef: "ns-1"}},
		{&cloudmap.UpdatePrivateDnsNamespaceRequest{Id: "ns-1"}, "UpdatePrivateDnsNamespace", Access{NamespaceRef: "ns-1"}},
		{&cloudmap.UpdatePublicDnsNamespaceRequest{Id: "ns-1"}, "UpdatePublicDnsNamespace", Access{NamespaceRef: "ns-1"}},
		{&cloudmap.DeleteServiceRequest{Id: "srv-1"}, "DeleteService", Access{ServiceRef: "srv-1"}},
		{&cloudmap.GetServiceRequest{Id: "srv-1"}, "GetService", Access{ServiceRef: "srv-1"}},
		{&cloudmap.UpdateServiceRequest{Id: "srv-1"}, "UpdateService", Access{ServiceRef: "srv-1"}},
		{&cloudmap.GetServiceAttributesRequest{ServiceId: "srv-1"}, "GetServiceAttributes", Access{ServiceRef: "srv-1"}},
		{&cloudmap.UpdateServiceAttributesRequest{ServiceId: "srv-1"}, "UpdateServiceAttributes", Access{ServiceRef: "srv-1"}},
		{&cloudmap.DeleteServiceAttributesRequest{ServiceId: "srv-1"}, "DeleteServiceAttributes", Access{ServiceRef: "srv-1"}},
		{&cloudmap.RegisterInstanceRequest{ServiceId: "srv-1"}, "RegisterInstance", Access{ServiceRef: "srv-1"}},
		{&cloudmap.DeregisterInstanceRequest{ServiceId: "srv-1"}, "DeregisterInstance", Access{ServiceRef: "srv-1"}},
		{&cloudmap.GetInstanceRequest{ServiceId: "srv-1"}, "GetInstance", Access{ServiceRef: "srv-1"}},
		{&cloudmap.GetInstancesHealthStatusRequest{ServiceId: "srv-1"}, "GetInstancesHealthStatus", Access{ServiceRef: "srv-1"}},
		{&cloudmap.ListInstancesRequest{ServiceId: "srv-1"}, "ListInstances", Access{ServiceRef: "srv-1"}},
		{&cloudmap.UpdateInstanceCustomHealthStatusRequest{ServiceId: "srv-1"}, "UpdateInstanceCustomHealthStatus", Access{ServiceRef: "srv-1"}},
		{&cloudmap.DiscoverInstancesRequest{NamespaceName: "ns", ServiceName: "web", OwnerAccount: "111111111111"}, "DiscoverInstances",
			Access{DiscoverNamespace: "ns", DiscoverService: "web", DiscoverOwner: "111111111111"}},
		{&cloudmap.DiscoverInstancesRevisionRequest{NamespaceName: "ns", ServiceName: "web"}, "DiscoverInstancesRevision",
			Access{DiscoverNamespace: "ns", DiscoverService: "web"}},
		{&cloudmap.ListTagsForResourceRequest{ResourceARN: "arn:x"}, "ListTagsForResource", Access{ResourceARN: "arn:x"}},
		{&cloudmap.TagResourceRequest{ResourceARN: "arn:x", Tags: tags}, "TagResource",
			Access{ResourceARN: "arn:x", RequestTags: tags, TagKeys: []string{"team", "env"}}},
		{&cloudmap.UntagResourceRequest{ResourceARN: "arn:x", TagKeys: []string{"team"}}, "UntagResource",
			Access{ResourceARN: "arn:x", TagKeys: []string{"team"}}},
		{&cloudmap.GetOperationRequest{OperationId: "op"}, "GetOperation", Access{}},
		{&cloudmap.ListNamespacesRequest{}, "ListNamespaces", Access{}},
		{&cloudmap.ListServicesRequest{}, "ListServices", Access{}},
		{&cloudmap.ListOperationsRequest{}, "ListOperations", Access{}},
		{&ShareRequest{NamespaceId: "ns-1"}, "PutResourcePolicy", Access{NamespaceRef: "ns-1"}},
		{&SharesRequest{NamespaceId: "ns-1"}, "GetResourcePolicy", Access{NamespaceRef: "ns-1"}},
	} {
		t.Run(tt.action, func(t *testing.T) {
			a, ok := accessOf(tt.in)
			if !ok {
				t.Fatalf("accessOf(%T) is of no action", tt.in)
			}
			if got := a.Action.String(); got != "servicediscovery:"+tt.action {
				t.Errorf("action %s; want servicediscovery:%s", got, tt.action)
			}
			w := tt.want
			if a.NamespaceRef != w.NamespaceRef || a.ServiceRef != w.ServiceRef || a.ResourceARN != w.ResourceARN ||
				a.DiscoverNamespace != w.DiscoverNamespace || a.DiscoverService != w.DiscoverService || a.DiscoverOwner != w.DiscoverOwner ||
				a.CreateName != w.CreateName || !slices.Equal(a.RequestTags, w.RequestTags) || !slices.Equal(a.TagKeys, w.TagKeys) {
				t.Errorf("access %+v; want %+v", a, w)
			}
		})
	}
	if _, ok := accessOf(&struct{}{}); ok {
		t.Error("accessOf(an input of no operation) is of an action")
	}
}
