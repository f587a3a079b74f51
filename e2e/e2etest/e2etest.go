// Package e2etest holds the steps the end-to-end suites (e2e and its
// authtest, clustertest, observetest and sharingtest) all take with the
// AWS SDK client of a running cairn: waiting for an operation to end and
// creating a namespace to work in (this file); hand-built signed requests,
// AWS error codes and DNS queries (raw.go). Each suite keeps its own
// server setup (cairntest.NewServer with the settings it tests).
package e2etest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/cairn-dev/cairn/cairntest"
)

// OperationTimeout is how long WaitOp waits for an operation to end.
const OperationTimeout = 20 * time.Second

// WaitOp waits until the operation opID ends (SUCCESS or FAIL) and
// returns it; it fails the test if it has not ended within
// OperationTimeout.
func WaitOp(t testing.TB, c *sd.Client, opID *string) *types.Operation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), OperationTimeout)
	defer cancel()
	op, err := cairntest.WaitOperation(ctx, c, aws.ToString(opID))
	if err != nil {
		t.Fatalf("wait for operation %s: %v", aws.ToString(opID), err)
	}
	return op
}

// WaitSuccess is WaitOp that also fails the test unless the operation
// succeeded, naming its error.
func WaitSuccess(t testing.TB, c *sd.Client, opID *string) *types.Operation {
	t.Helper()
	op := WaitOp(t, c, opID)
	if op.Status != types.OperationStatusSuccess {
		t.Fatalf("operation %s (%s) ended %s: %s %s", aws.ToString(op.Id), op.Type, op.Status,
			aws.ToString(op.ErrorCode), aws.ToString(op.ErrorMessage))
	}
	return op
}

// Namespace creates an HTTP namespace name, or with vpc set a private DNS
// namespace in that VPC, waits for it, and returns its ID.
func Namespace(t testing.TB, c *sd.Client, name, vpc string) string {
	t.Helper()
	var opID *string
	if vpc != "" {
		out, err := c.CreatePrivateDnsNamespace(context.Background(), &sd.CreatePrivateDnsNamespaceInput{Name: aws.String(name), Vpc: aws.String(vpc)})
		if err != nil {
			t.Fatalf("CreatePrivateDnsNamespace %s: %v", name, err)
		}
		opID = out.OperationId
	} else {
		out, err := c.CreateHttpNamespace(context.Background(), &sd.CreateHttpNamespaceInput{Name: aws.String(name)})
		if err != nil {
			t.Fatalf("CreateHttpNamespace %s: %v", name, err)
		}
		opID = out.OperationId
	}
	return WaitSuccess(t, c, opID).Targets[string(types.OperationTargetTypeNamespace)]
}
