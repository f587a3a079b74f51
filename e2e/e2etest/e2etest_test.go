package e2etest_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/e2e/e2etest"
	"github.com/cairn-dev/cairn/server"
)

// Both kinds of namespace are created and found by the ID returned, with
// the kind and VPC asked for.
func TestNamespace(t *testing.T) {
	srv := cairntest.NewServer(t)
	c := sd.NewFromConfig(srv.AWSConfig)
	for _, tc := range []struct{ name, vpc, kind string }{
		{"shop", "", "HTTP"},
		{"corp.internal", "vpc-0a1b2c3d", "DNS_PRIVATE"},
	} {
		id := e2etest.Namespace(t, c, tc.name, tc.vpc)
		out, err := c.GetNamespace(t.Context(), &sd.GetNamespaceInput{Id: aws.String(id)})
		if err != nil {
			t.Fatalf("GetNamespace %s: %v", id, err)
		}
		if aws.ToString(out.Namespace.Name) != tc.name || string(out.Namespace.Type) != tc.kind {
			t.Errorf("%s: got %s of type %s", id, aws.ToString(out.Namespace.Name), out.Namespace.Type)
		}
	}
}

// With operations that take time, as on AWS, WaitOp returns only once
// the operation has ended, and Namespace's ID names a namespace that
// exists by then.
func TestWaitOpDelayed(t *testing.T) {
	srv := cairntest.NewServer(t, cairntest.WithConfig(func(c *server.Config) { c.OperationDelay = 300 * time.Millisecond }))
	c := sd.NewFromConfig(srv.AWSConfig)
	out, err := c.CreateHttpNamespace(t.Context(), &sd.CreateHttpNamespaceInput{Name: aws.String("slow")})
	if err != nil {
		t.Fatal(err)
	}
	op := e2etest.WaitOp(t, c, out.OperationId)
	if op.Status != types.OperationStatusSuccess {
		t.Errorf("WaitOp returned the operation %s", op.Status)
	}
	id := e2etest.Namespace(t, c, "slow2", "")
	if _, err := c.GetNamespace(t.Context(), &sd.GetNamespaceInput{Id: aws.String(id)}); err != nil {
		t.Errorf("GetNamespace %s after Namespace: %v", id, err)
	}
}
