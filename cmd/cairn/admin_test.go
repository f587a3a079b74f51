package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"

	"github.com/cairn-dev/cairn/cairntest"
)

// awsEnv is the environment of a cairn admin command signing with test
// credentials against srv. The SDK reads its credentials from the
// process's environment, so they are set there too (and the EC2 metadata
// service, never reachable from a test, is turned off).
func awsEnv(t *testing.T, srv *cairntest.Server) map[string]string {
	vars := map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_REGION": "us-east-1",
		"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_EC2_METADATA_DISABLED": "true"}
	for k, v := range vars {
		t.Setenv(k, v)
	}
	vars["CAIRN_ENDPOINT"] = srv.Endpoint
	return vars
}

func TestResetCommand(t *testing.T) {
	srv := cairntest.NewServer(t)
	c := sd.NewFromConfig(srv.AWSConfig)
	ctx := context.Background()
	if _, err := c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shop")}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCairn(t, awsEnv(t, srv), "reset")
	if code != 0 || !strings.Contains(stdout, "reset "+srv.Endpoint) {
		t.Fatalf("cairn reset = %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	out, err := c.ListNamespaces(ctx, &sd.ListNamespacesInput{})
	if err != nil || len(out.Namespaces) != 0 {
		t.Fatalf("after cairn reset: %+v, %v", out, err)
	}
	// --endpoint wins over the environment; a server that isn't there is
	// an error that names it.
	code, _, stderr = runCairn(t, awsEnv(t, srv), "reset", "--endpoint", "http://127.0.0.1:1")
	if code != 1 || !strings.Contains(stderr, "127.0.0.1:1") {
		t.Fatalf("cairn reset to nowhere = %d, stderr %q", code, stderr)
	}
	if code, _, _ := runCairn(t, awsEnv(t, srv), "reset", "extra"); code != 2 {
		t.Fatalf("cairn reset extra = %d; want 2", code)
	}
}
