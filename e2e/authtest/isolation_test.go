package authtest_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
)

// probe tries everything an outsider could do to w through c, and
// requires that each is refused as not found and each list is empty.
func probe(t *testing.T, c *sd.Client, w world, ns string) {
	t.Helper()
	ctx := t.Context()
	for _, id := range []string{w.nsID, w.nsARN} {
		_, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(id)})
		wantCode(t, "GetNamespace "+id, err, "NamespaceNotFound")
		_, err = c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(id)})
		wantCode(t, "DeleteNamespace "+id, err, "NamespaceNotFound")
		_, err = c.UpdateHttpNamespace(ctx, &sd.UpdateHttpNamespaceInput{Id: aws.String(id),
			Namespace: &types.HttpNamespaceChange{Description: aws.String("taken over")}})
		wantCode(t, "UpdateHttpNamespace "+id, err, "NamespaceNotFound")
		_, err = c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("intruder"), NamespaceId: aws.String(id)})
		wantCode(t, "CreateService in "+id, err, "NamespaceNotFound")
	}
	for _, id := range []string{w.svcID, w.svcARN} {
		_, err := c.GetService(ctx, &sd.GetServiceInput{Id: aws.String(id)})
		wantCode(t, "GetService "+id, err, "ServiceNotFound")
		_, err = c.DeleteService(ctx, &sd.DeleteServiceInput{Id: aws.String(id)})
		wantCode(t, "DeleteService "+id, err, "ServiceNotFound")
		_, err = c.GetServiceAttributes(ctx, &sd.GetServiceAttributesInput{ServiceId: aws.String(id)})
		wantCode(t, "GetServiceAttributes "+id, err, "ServiceNotFound")
		_, err = c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(id), InstanceId: aws.String("evil"),
			Attributes: map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.66"}})
		wantCode(t, "RegisterInstance in "+id, err, "ServiceNotFound")
		_, err = c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: aws.String(id), InstanceId: aws.String("i-1")})
		wantCode(t, "DeregisterInstance from "+id, err, "ServiceNotFound")
		_, err = c.ListInstances(ctx, &sd.ListInstancesInput{ServiceId: aws.String(id)})
		wantCode(t, "ListInstances "+id, err, "ServiceNotFound")
		_, err = c.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: aws.String(id), InstanceId: aws.String("i-1")})
		wantCode(t, "GetInstance "+id, err, "ServiceNotFound")
		_, err = c.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: aws.String(id)})
		wantCode(t, "GetInstancesHealthStatus "+id, err, "ServiceNotFound")
		_, err = c.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: aws.String(id),
			InstanceId: aws.String("i-1"), Status: types.CustomHealthStatusUnhealthy})
		wantCode(t, "UpdateInstanceCustomHealthStatus "+id, err, "ServiceNotFound")
	}
	_, err := c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String(ns), ServiceName: aws.String("web")})
	wantCode(t, "DiscoverInstances", err, "NamespaceNotFound")
	_, err = c.DiscoverInstancesRevision(ctx, &sd.DiscoverInstancesRevisionInput{NamespaceName: aws.String(ns), ServiceName: aws.String("web")})
	wantCode(t, "DiscoverInstancesRevision", err, "NamespaceNotFound")
	_, err = c.GetOperation(ctx, &sd.GetOperationInput{OperationId: aws.String(w.opID)})
	wantCode(t, "GetOperation", err, "OperationNotFound")
	for _, arn := range []string{w.nsARN, w.svcARN} {
		_, err = c.ListTagsForResource(ctx, &sd.ListTagsForResourceInput{ResourceARN: aws.String(arn)})
		wantCode(t, "ListTagsForResource "+arn, err, "ResourceNotFoundException")
		_, err = c.TagResource(ctx, &sd.TagResourceInput{ResourceARN: aws.String(arn), Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("me")}}})
		wantCode(t, "TagResource "+arn, err, "ResourceNotFoundException")
		_, err = c.UntagResource(ctx, &sd.UntagResourceInput{ResourceARN: aws.String(arn), TagKeys: []string{"team"}})
		wantCode(t, "UntagResource "+arn, err, "ResourceNotFoundException")
	}
	nss, err := c.ListNamespaces(ctx, &sd.ListNamespacesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nss.Namespaces {
		if aws.ToString(n.Id) == w.nsID {
			t.Errorf("ListNamespaces shows %s", w.nsID)
		}
	}
	svcs, err := c.ListServices(ctx, &sd.ListServicesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range svcs.Services {
		if aws.ToString(s.Id) == w.svcID {
			t.Errorf("ListServices shows %s", w.svcID)
		}
	}
	ops, err := c.ListOperations(ctx, &sd.ListOperationsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range ops.Operations {
		if aws.ToString(o.Id) == w.opID {
			t.Errorf("ListOperations shows %s", w.opID)
		}
	}
}

// empty fails unless c lists nothing at all.
func empty(t *testing.T, c *sd.Client) {
	t.Helper()
	ctx := t.Context()
	nss, err := c.ListNamespaces(ctx, &sd.ListNamespacesInput{})
	if err != nil || len(nss.Namespaces) != 0 {
		t.Errorf("ListNamespaces = %+v, %v; want none", nss, err)
	}
	svcs, err := c.ListServices(ctx, &sd.ListServicesInput{})
	if err != nil || len(svcs.Services) != 0 {
		t.Errorf("ListServices = %+v, %v; want none", svcs, err)
	}
	ops, err := c.ListOperations(ctx, &sd.ListOperationsInput{})
	if err != nil || len(ops.Operations) != 0 {
		t.Errorf("ListOperations = %+v, %v; want none", ops, err)
	}
}

// intact fails unless w, built by c, is as build left it.
func intact(t *testing.T, c *sd.Client, w world, ns string) {
	t.Helper()
	ctx := t.Context()
	got, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(w.nsID)})
	if err != nil {
		t.Fatalf("owner's GetNamespace: %v", err)
	}
	if d := aws.ToString(got.Namespace.Description); d != "" {
		t.Errorf("namespace description changed to %q", d)
	}
	tags, err := c.ListTagsForResource(ctx, &sd.ListTagsForResourceInput{ResourceARN: aws.String(w.nsARN)})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "team" {
		t.Errorf("owner's tags = %+v, %v", tags, err)
	}
	disc, err := c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String(ns), ServiceName: aws.String("web")})
	if err != nil || len(disc.Instances) != 1 || aws.ToString(disc.Instances[0].InstanceId) != "i-1" {
		t.Errorf("owner's DiscoverInstances = %+v, %v; want i-1 alone", disc, err)
	}
	health, err := c.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: aws.String(w.svcID)})
	if err != nil || health.Status["i-1"] != types.HealthStatusHealthy {
		t.Errorf("owner's GetInstancesHealthStatus = %+v, %v; want i-1 HEALTHY", health, err)
	}
	svcs, err := c.ListServices(ctx, &sd.ListServicesInput{})
	if err != nil || len(svcs.Services) != 1 {
		t.Errorf("owner's ListServices = %+v, %v; want web alone", svcs, err)
	}
}

// Nothing of one account is visible or changeable from another.
func TestAccountsIsolated(t *testing.T) {
	t.Parallel()
	srv, _ := withCreds(t, teamA, teamB)
	a, b := client(srv, teamA, "us-east-1"), client(srv, teamB, "us-east-1")
	wa := build(t, a, "shop")
	probe(t, b, wa, "shop")
	empty(t, b)
	intact(t, a, wa, "shop")

	// B can have a namespace of the same name, and each sees its own.
	wb := build(t, b, "shop")
	if wb.nsID == wa.nsID || wb.svcID == wa.svcID {
		t.Fatalf("same IDs in two accounts: %+v %+v", wa, wb)
	}
	if _, err := b.RegisterInstance(t.Context(), &sd.RegisterInstanceInput{ServiceId: aws.String(wb.svcID), InstanceId: aws.String("i-b"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.9.9.9"}}); err != nil {
		t.Fatal(err)
	}
	intact(t, a, wa, "shop")
	disc, err := b.DiscoverInstances(t.Context(), &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("web")})
	if err != nil || len(disc.Instances) != 2 {
		t.Errorf("b's DiscoverInstances = %+v, %v; want i-1 and i-b of b", disc, err)
	}
	for _, c := range []*sd.Client{a, b} {
		nss, err := c.ListNamespaces(t.Context(), &sd.ListNamespacesInput{})
		if err != nil || len(nss.Namespaces) != 1 {
			t.Errorf("ListNamespaces = %+v, %v; want one each", nss, err)
		}
	}
	// And the other way round: A can't touch B's.
	probe(t, a, wb, "no-such-namespace")
}

// Nothing of one region is visible or changeable from another, for the
// same key.
func TestRegionsIsolated(t *testing.T) {
	t.Parallel()
	srv, _ := withCreds(t, teamA, teamB)
	east, west := client(srv, teamA, "us-east-1"), client(srv, teamA, "eu-west-1")
	we := build(t, east, "shop")
	probe(t, west, we, "shop")
	empty(t, west)
	intact(t, east, we, "shop")
	probe(t, client(srv, teamB, "us-east-1"), we, "shop")
	ww := build(t, west, "shop")
	if want := "arn:aws:servicediscovery:eu-west-1:" + teamA.account + ":namespace/" + ww.nsID; ww.nsARN != want {
		t.Errorf("ARN %s, want %s", ww.nsARN, want)
	}
	probe(t, east, ww, "no-such-namespace")
	intact(t, east, we, "shop")
	intact(t, west, ww, "shop")
	// Another partition's region is just another region.
	cn := client(srv, teamA, "cn-north-1")
	wc := build(t, cn, "shop")
	if want := "arn:aws-cn:servicediscovery:cn-north-1:" + teamA.account + ":namespace/" + wc.nsID; wc.nsARN != want {
		t.Errorf("ARN %s, want %s", wc.nsARN, want)
	}
	intact(t, east, we, "shop")
}
