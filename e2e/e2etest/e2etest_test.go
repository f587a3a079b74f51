package e2etest_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"

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

// Post reaches the API as the SDK would, Signer's signature is accepted
// and a bad one refused with the code ErrorCode reads, and Query reaches
// DNS.
func TestRawRequests(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(creds, []byte("[p]\naws_access_key_id = AKIDRAW\naws_secret_access_key = raw-secret\naws_account_id = 111111111111\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := cairntest.NewServer(t, cairntest.WithConfig(func(c *server.Config) { c.Credentials = creds }))
	body := []byte("{}")
	good := aws.Credentials{AccessKeyID: "AKIDRAW", SecretAccessKey: "raw-secret"}
	resp := e2etest.Post(t, srv.Endpoint, "Route53AutoNaming_v20170314.ListNamespaces", body,
		e2etest.Signer(t, good, body, "servicediscovery", "us-east-1", time.Now()))
	if resp.Status != 200 || !strings.Contains(string(resp.Body), `"Namespaces"`) {
		t.Errorf("signed ListNamespaces: %d %s", resp.Status, resp.Body)
	}
	bad := good
	bad.SecretAccessKey = "wrong"
	resp = e2etest.Post(t, srv.Endpoint, "Route53AutoNaming_v20170314.ListNamespaces", body,
		e2etest.Signer(t, bad, body, "servicediscovery", "us-east-1", time.Now()))
	if resp.Status != 400 || !strings.Contains(string(resp.Body), "InvalidSignatureException") {
		t.Errorf("badly signed ListNamespaces: %d %s", resp.Status, resp.Body)
	}

	cfg := cairntest.AWSConfig(srv.Endpoint, "us-east-1")
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIDRAW", "wrong", "")
	cfg.RetryMaxAttempts = 1
	_, err := sd.NewFromConfig(cfg).ListNamespaces(t.Context(), &sd.ListNamespacesInput{})
	if got := e2etest.ErrorCode(err); got != "InvalidSignatureException" {
		t.Errorf("ErrorCode(%v) = %q", err, got)
	}
	if got := e2etest.ErrorCode(errors.New("no API error")); got != "" {
		t.Errorf("ErrorCode of a plain error = %q", got)
	}

	m := e2etest.Query(t, srv.DNSAddr(), "example.org", dns.TypeA)
	if m.Rcode != dns.RcodeRefused || len(e2etest.AddrsA(m)) != 0 {
		t.Errorf("query outside every zone: %s, %v", dns.RcodeToString[m.Rcode], e2etest.AddrsA(m))
	}
}
