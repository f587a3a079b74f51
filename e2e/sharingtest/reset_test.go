package sharingtest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"

	"github.com/cairn-dev/cairn/cairntest"
)

// With credentials, CairnAdmin_20261125.Reset forgets the caller's account
// in every region, shares included, and nothing of any other account; the
// unsigned /moto-api/reset is refused.
func TestReset_ForgetsTheCallersAccountOnly(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	a, b := e.clients[owner], e.clients[consumer]
	west := func(account string) *sd.Client {
		cfg := cairntest.AWSConfig(e.srv.Endpoint, "eu-west-1")
		cfg.Credentials = credentials.NewStaticCredentialsProvider(keys[account][0], keys[account][1], "")
		return sd.NewFromConfig(cfg)
	}
	nsID := func(c *sd.Client, name string) string {
		t.Helper()
		op, err := c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String(name), CreatorRequestId: aws.String("token-" + name)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.GetOperation(ctx, &sd.GetOperationInput{OperationId: op.OperationId})
		if err != nil {
			t.Fatal(err)
		}
		return got.Operation.Targets["NAMESPACE"]
	}
	shared := nsID(a, "shared")
	nsID(west(owner), "far")
	mine := nsID(b, "mine")
	if status, body := e.admin(t, owner, "ShareNamespace", map[string]any{"NamespaceId": shared, "Accounts": []string{consumer}}); status != 200 {
		t.Fatalf("ShareNamespace: %d %s", status, body)
	}
	ns, err := a.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(shared)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("api"), NamespaceId: ns.Namespace.Arn}); err != nil {
		t.Fatal(err)
	}
	ownSvc, err := b.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("own"), NamespaceId: aws.String(mine)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: ownSvc.Service.Id, InstanceId: aws.String("i-1"), Attributes: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}

	if status, body := e.admin(t, owner, "Reset", map[string]any{}); status != 200 {
		t.Fatalf("Reset: %d %s", status, body)
	}

	for _, c := range []*sd.Client{a, west(owner)} {
		out, err := c.ListNamespaces(ctx, &sd.ListNamespacesInput{})
		if err != nil || len(out.Namespaces) != 0 {
			t.Fatalf("after its reset the owner lists %+v, %v", out, err)
		}
		ops, err := c.ListOperations(ctx, &sd.ListOperationsInput{})
		if err != nil || len(ops.Operations) != 0 {
			t.Fatalf("after its reset the owner lists operations %+v, %v", ops, err)
		}
	}
	// The consumer lost the share, and keeps its own.
	out, err := b.ListNamespaces(ctx, &sd.ListNamespacesInput{})
	if err != nil || len(out.Namespaces) != 1 || aws.ToString(out.Namespaces[0].Name) != "mine" {
		t.Fatalf("after the owner's reset the consumer lists %+v, %v", out, err)
	}
	found, err := b.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("mine"), ServiceName: aws.String("own")})
	if err != nil || len(found.Instances) != 1 {
		t.Fatalf("the consumer's instance: %+v, %v", found, err)
	}
	// The owner's idempotency token is forgotten: the same token creates anew.
	again := nsID(a, "shared")
	if again == shared {
		t.Fatalf("the reset kept the idempotency token: the retry returned the old namespace %s", shared)
	}

	// /moto-api/reset carries no signature: refused when credentials are on.
	resp, err := http.Post(e.srv.Endpoint+"/moto-api/reset", "application/json", bytes.NewReader(nil))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "AccessDeniedException") {
		t.Fatalf("/moto-api/reset with credentials: %d %s; want 403 AccessDeniedException", resp.StatusCode, body)
	}
	if out, err := b.ListNamespaces(ctx, &sd.ListNamespacesInput{}); err != nil || len(out.Namespaces) != 1 {
		t.Fatalf("the refused reset changed something: %+v, %v", out, err)
	}
}
