package cairntest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/cairn-dev/cairn/cairntest"
)

func TestDiscoverThroughSDK(t *testing.T) {
	srv := cairntest.NewServer(t)
	ctx := context.Background()
	client := sd.NewFromConfig(srv.AWSConfig)
	if _, err := client.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shop")}); err != nil {
		t.Fatal(err)
	}
	ns, err := client.ListNamespaces(ctx, &sd.ListNamespacesInput{})
	if err != nil || len(ns.Namespaces) != 1 {
		t.Fatalf("ListNamespaces = %v, %v", ns, err)
	}
	svc, err := client.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("cart"), NamespaceId: ns.Namespaces[0].Id})
	if err != nil {
		t.Fatal(err)
	}
	_, err = client.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svc.Service.Id, InstanceId: aws.String("i-1"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.1", "stage": "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("cart"),
		QueryParameters: map[string]string{"stage": "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Instances) != 1 || aws.ToString(out.Instances[0].InstanceId) != "i-1" || out.Instances[0].HealthStatus != types.HealthStatusUnknown {
		t.Fatalf("DiscoverInstances = %+v", out.Instances)
	}
}

// Example starts cairn for a test and discovers an instance through the AWS
// SDK for Go.
func Example() {
	t := &testing.T{} // in a real test, the test's own t
	srv := cairntest.NewServer(t)
	ctx := context.Background()
	client := sd.NewFromConfig(srv.AWSConfig)

	created, _ := client.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shop")})
	op, _ := client.GetOperation(ctx, &sd.GetOperationInput{OperationId: created.OperationId})
	nsID := op.Operation.Targets["NAMESPACE"]
	svc, _ := client.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("cart"), NamespaceId: aws.String(nsID)})
	_, _ = client.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svc.Service.Id, InstanceId: aws.String("cart-1"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.10", "AWS_INSTANCE_PORT": "8080"}})
	found, _ := client.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("cart")})
	for _, inst := range found.Instances {
		fmt.Println(*inst.InstanceId, inst.Attributes["AWS_INSTANCE_IPV4"], inst.HealthStatus)
	}
	// Output: cart-1 192.0.2.10 UNKNOWN
}

// The README's Go example: one server for a whole test, reset between
// its subtests, with a fault for the retry path.
func TestSharedServerResetBetweenSubtests(t *testing.T) {
	srv := cairntest.NewServer(t)
	client := sd.NewFromConfig(srv.AWSConfig)
	for _, name := range []string{"first", "second"} {
		t.Run(name, func(t *testing.T) {
			srv.Reset(t) // every subtest starts from nothing
			ctx := context.Background()
			if _, err := client.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shop")}); err != nil {
				t.Fatal(err) // the second would be NamespaceAlreadyExists without the reset
			}
			srv.FailOperation(t, "ListNamespaces", "ServiceUnavailable")
			one := srv.AWSConfig.Copy()
			one.RetryMaxAttempts = 1
			if _, err := sd.NewFromConfig(one).ListNamespaces(ctx, &sd.ListNamespacesInput{}); err == nil {
				t.Fatal("the injected ServiceUnavailable did not reach the client")
			}
		})
	}
}
