package cairntest_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/server"
)

// TestWaitOperation waits out an operation that the server delays, and
// gives up with its context on one that can't end in time.
func TestWaitOperation(t *testing.T) {
	srv := cairntest.NewServer(t, cairntest.WithConfig(func(c *server.Config) { c.OperationDelay = 300 * time.Millisecond }))
	client := sd.NewFromConfig(srv.AWSConfig)
	created, err := client.CreateHttpNamespace(t.Context(), &sd.CreateHttpNamespaceInput{Name: aws.String("shop")})
	if err != nil {
		t.Fatal(err)
	}
	opID := aws.ToString(created.OperationId)

	short, cancel := context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	if op, err := cairntest.WaitOperation(short, client, opID); err == nil {
		t.Errorf("WaitOperation with 1 ms to wait for a 300 ms operation = %s, nil; want an error", op.Status)
	}

	wait, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	op, err := cairntest.WaitOperation(wait, client, opID)
	if err != nil {
		t.Fatalf("WaitOperation: %v", err)
	}
	if op.Status != types.OperationStatusSuccess || op.Targets[string(types.OperationTargetTypeNamespace)] == "" {
		t.Errorf("WaitOperation = %s with targets %v; want SUCCESS naming the namespace", op.Status, op.Targets)
	}

	if _, err := cairntest.WaitOperation(wait, client, "nosuchoperation"); err == nil {
		t.Error("WaitOperation of an unknown operation: no error")
	}
}
