// Package sharingtest drives namespace sharing end to end: an owner
// account shares a namespace with a consumer account, which then works in
// it by ARN through the AWS SDK for Go v2, as AWS RAM sharing allows.
package sharingtest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/e2e/e2etest"
	"github.com/cairn-dev/cairn/internal/api"
	"github.com/cairn-dev/cairn/server"
)

const (
	owner    = "111111111111"
	consumer = "222222222222"
	stranger = "333333333333"
)

var keys = map[string][2]string{
	owner:    {"AKIDOWNER", "owner-secret"},
	consumer: {"AKIDCONSUMER", "consumer-secret"},
	stranger: {"AKIDSTRANGER", "stranger-secret"},
}

type env struct {
	srv     *cairntest.Server
	clients map[string]*sd.Client
}

func start(t *testing.T, opts ...func(*server.Config)) *env {
	t.Helper()
	file := filepath.Join(t.TempDir(), "credentials")
	var b bytes.Buffer
	for account, k := range keys {
		b.WriteString("[acct-" + account + "]\naws_access_key_id = " + k[0] + "\naws_secret_access_key = " + k[1] + "\naws_account_id = " + account + "\n\n")
	}
	if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := cairntest.NewServer(t, cairntest.WithConfig(func(c *server.Config) {
		c.Credentials = file
		for _, o := range opts {
			o(c)
		}
	}))
	e := &env{srv: srv, clients: map[string]*sd.Client{}}
	for account, k := range keys {
		cfg := cairntest.AWSConfig(srv.Endpoint, "us-east-1")
		cfg.Credentials = credentials.NewStaticCredentialsProvider(k[0], k[1], "")
		cfg.RetryMaxAttempts = 1
		e.clients[account] = sd.NewFromConfig(cfg)
	}
	return e
}

// admin calls one of cairn's sharing operations, signed as account.
func (e *env) admin(t *testing.T, account, op string, in any) (int, []byte) {
	t.Helper()
	body, _ := json.Marshal(in)
	k := keys[account]
	creds := aws.Credentials{AccessKeyID: k[0], SecretAccessKey: k[1]}
	resp := e2etest.Post(t, e.srv.Endpoint, api.AdminTargetPrefix+op, body,
		e2etest.Signer(t, creds, body, api.SigningName, "us-east-1", time.Now()))
	return resp.Status, resp.Body
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if e2etest.ErrorCode(err) != code {
		t.Fatalf("got %v, want %s", err, code)
	}
}

func TestSharing_ConsumerWorksInSharedNamespaceByARN(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	a, b, c := e.clients[owner], e.clients[consumer], e.clients[stranger]

	op, err := a.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shared")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := a.GetOperation(ctx, &sd.GetOperationInput{OperationId: op.OperationId})
	if err != nil {
		t.Fatal(err)
	}
	nsID := got.Operation.Targets["NAMESPACE"]
	ns, err := a.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(nsID)})
	if err != nil {
		t.Fatal(err)
	}
	nsARN := aws.ToString(ns.Namespace.Arn)
	if _, err := b.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("mine")}); err != nil {
		t.Fatal(err)
	}

	// Before sharing, the consumer reaches nothing of the owner's.
	_, err = b.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(nsARN)})
	wantCode(t, err, "NamespaceNotFound")

	// Only the owner can share; the consumer can't share what isn't its own.
	if status, body := e.admin(t, consumer, "ShareNamespace", map[string]any{"NamespaceId": nsARN, "Accounts": []string{stranger}}); status != 400 {
		t.Fatalf("the consumer shared the owner's namespace: %d %s", status, body)
	}
	if status, body := e.admin(t, owner, "ShareNamespace", map[string]any{"NamespaceId": nsID, "Accounts": []string{consumer}}); status != 200 {
		t.Fatalf("ShareNamespace: %d %s", status, body)
	}
	if status, body := e.admin(t, owner, "ListNamespaceShares", map[string]any{"NamespaceId": nsID}); status != 200 || !bytes.Contains(body, []byte(consumer)) {
		t.Fatalf("ListNamespaceShares: %d %s", status, body)
	}

	// The consumer sees it by ARN, not by bare ID, and in its lists.
	_, err = b.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(nsID)})
	wantCode(t, err, "NamespaceNotFound")
	seen, err := b.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(nsARN)})
	if err != nil || aws.ToString(seen.Namespace.ResourceOwner) != owner {
		t.Fatalf("GetNamespace by ARN: %+v, %v", seen, err)
	}
	listed := func(filter string) []string {
		in := &sd.ListNamespacesInput{}
		if filter != "" {
			in.Filters = []types.NamespaceFilter{{Name: types.NamespaceFilterNameResourceOwner, Values: []string{filter}}}
		}
		out, err := b.ListNamespaces(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, n := range out.Namespaces {
			names = append(names, aws.ToString(n.Name)+"@"+aws.ToString(n.ResourceOwner))
		}
		return names
	}
	if got := listed(""); len(got) != 2 {
		t.Fatalf("the consumer lists %v, want its own and the shared one", got)
	}
	if got := listed("OTHER_ACCOUNTS"); len(got) != 1 || got[0] != "shared@"+owner {
		t.Fatalf("OTHER_ACCOUNTS lists %v", got)
	}
	if got := listed("SELF"); len(got) != 1 || got[0] != "mine@"+consumer {
		t.Fatalf("SELF lists %v", got)
	}

	// The consumer creates a service and registers an instance in it.
	svc, err := b.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("api"), NamespaceId: aws.String(nsARN)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(svc.Service.ResourceOwner) != owner || aws.ToString(svc.Service.CreatedByAccount) != consumer {
		t.Fatalf("service owner %s creator %s", aws.ToString(svc.Service.ResourceOwner), aws.ToString(svc.Service.CreatedByAccount))
	}
	svcARN := aws.ToString(svc.Service.Arn)
	reg, err := b.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(svcARN), InstanceId: aws.String("i-b"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.7"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.GetOperation(ctx, &sd.GetOperationInput{OperationId: reg.OperationId})
	wantCode(t, err, "OperationNotFound") // without OwnerAccount
	regOp, err := b.GetOperation(ctx, &sd.GetOperationInput{OperationId: reg.OperationId, OwnerAccount: aws.String(owner)})
	if err != nil || regOp.Operation.Status != types.OperationStatusSuccess || aws.ToString(regOp.Operation.OwnerAccount) != owner {
		t.Fatalf("GetOperation with OwnerAccount: %+v, %v", regOp, err)
	}

	// Discovery needs OwnerAccount.
	_, err = b.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shared"), ServiceName: aws.String("api")})
	wantCode(t, err, "NamespaceNotFound")
	found, err := b.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shared"), ServiceName: aws.String("api"), OwnerAccount: aws.String(owner)})
	if err != nil || len(found.Instances) != 1 {
		t.Fatalf("DiscoverInstances with OwnerAccount: %+v, %v", found, err)
	}
	if _, err := b.DiscoverInstancesRevision(ctx, &sd.DiscoverInstancesRevisionInput{NamespaceName: aws.String("shared"), ServiceName: aws.String("api"), OwnerAccount: aws.String(owner)}); err != nil {
		t.Fatal(err)
	}

	// The owner sees the consumer's work.
	inst, err := a.GetInstance(ctx, &sd.GetInstanceInput{ServiceId: svc.Service.Id, InstanceId: aws.String("i-b")})
	if err != nil || aws.ToString(inst.Instance.CreatedByAccount) != consumer || aws.ToString(inst.ResourceOwner) != owner {
		t.Fatalf("the owner's GetInstance: %+v, %v", inst, err)
	}
	ownerServices, err := a.ListServices(ctx, &sd.ListServicesInput{Filters: []types.ServiceFilter{{Name: types.ServiceFilterNameNamespaceId, Values: []string{nsID}}}})
	if err != nil || len(ownerServices.Services) != 1 {
		t.Fatalf("the owner's ListServices: %+v, %v", ownerServices, err)
	}

	// Owner-only actions stay owner-only.
	_, err = b.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(nsARN)})
	wantCode(t, err, "NamespaceNotFound")
	_, err = b.UpdateHttpNamespace(ctx, &sd.UpdateHttpNamespaceInput{Id: aws.String(nsARN), Namespace: &types.HttpNamespaceChange{Description: aws.String("x")}})
	wantCode(t, err, "NamespaceNotFound")
	_, err = b.TagResource(ctx, &sd.TagResourceInput{ResourceARN: aws.String(nsARN), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantCode(t, err, "ResourceNotFoundException")

	// A third account reaches nothing.
	_, err = c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(nsARN)})
	wantCode(t, err, "NamespaceNotFound")
	_, err = c.GetService(ctx, &sd.GetServiceInput{Id: aws.String(svcARN)})
	wantCode(t, err, "ServiceNotFound")
	_, err = c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(svcARN), InstanceId: aws.String("i-c"), Attributes: map[string]string{}})
	wantCode(t, err, "ServiceNotFound")

	// Unsharing removes access at once.
	if status, body := e.admin(t, owner, "UnshareNamespace", map[string]any{"NamespaceId": nsARN, "Accounts": []string{consumer}}); status != 200 {
		t.Fatalf("UnshareNamespace: %d %s", status, body)
	}
	_, err = b.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(nsARN)})
	wantCode(t, err, "NamespaceNotFound")
	_, err = b.GetService(ctx, &sd.GetServiceInput{Id: aws.String(svcARN)})
	wantCode(t, err, "ServiceNotFound")
	_, err = b.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shared"), ServiceName: aws.String("api"), OwnerAccount: aws.String(owner)})
	wantCode(t, err, "NamespaceNotFound")
	if got := listed(""); len(got) != 1 {
		t.Fatalf("after unsharing the consumer lists %v", got)
	}
	// What the consumer made stays, the owner's.
	if _, err := a.GetService(ctx, &sd.GetServiceInput{Id: svc.Service.Id}); err != nil {
		t.Fatalf("the owner lost the consumer's service: %v", err)
	}
}
