package authtest_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/aws/smithy-go"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/e2e/e2etest"
	"github.com/cairn-dev/cairn/internal/api"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/server"
)

// The identities of the policy tests, all in account 111111111111 but
// the consumer: admin has no policy_file (full access).
var (
	admin    = profile{"admin", "AKIAADMINADMINADMIN0", "admin-secret", "", "111111111111"}
	app      = profile{"app", "AKIAAPPAPPAPPAPPAPP0", "app-secret", "", "111111111111"}
	deployer = profile{"deployer", "AKIADEPLOYDEPLOYDEP0", "deploy-secret", "", "111111111111"}
	tagged   = profile{"tagged", "AKIATAGGEDTAGGEDTAG0", "tagged-secret", "", "111111111111"}
	operator = profile{"operator", "AKIAOPERATOROPERATO0", "operator-secret", "", "111111111111"}
	consumer = profile{"consumer", "AKIACONSUMERCONSUME0", "consumer-secret", "", "222222222222"}
)

const (
	discoverOnly = `{"Version":"2012-10-17","Statement":[{"Sid":"DiscoverOnly","Effect":"Allow",
  "Action":["servicediscovery:DiscoverInstances","servicediscovery:DiscoverInstancesRevision"],"Resource":"*"}]}`
	teamDeployer = `{"Version":"2012-10-17","Statement":[
  {"Sid":"TeamA","Effect":"Allow",
   "Action":["servicediscovery:RegisterInstance","servicediscovery:DeregisterInstance","servicediscovery:DiscoverInstances",
             "servicediscovery:CreateService","servicediscovery:Get*","servicediscovery:ListInstances"],
   "Resource":"*","Condition":{"StringEquals":{"servicediscovery:NamespaceName":"team-a"}}},
  {"Sid":"Operations","Effect":"Allow","Action":["servicediscovery:GetOperation","servicediscovery:List*"],"Resource":"*"}]}`
	byTag = `{"Version":"2012-10-17","Statement":[
  {"Sid":"OwnTeam","Effect":"Allow","Action":"servicediscovery:*","Resource":"*",
   "Condition":{"StringEquals":{"aws:ResourceTag/team":"a"}}},
  {"Sid":"CreateTagged","Effect":"Allow","Action":["servicediscovery:CreateService","servicediscovery:TagResource"],"Resource":"*",
   "Condition":{"StringEquals":{"aws:RequestTag/team":"a"},"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}}]}`
	operatorPolicy = `[{"Version":"2012-10-17","Statement":{"Sid":"Everything","Effect":"Allow","Action":"servicediscovery:*","Resource":"*"}},
 {"Version":"2012-10-17","Statement":{"Sid":"NeverDeleteNamespaces","Effect":"Deny","Action":"servicediscovery:DeleteNamespace",
  "Resource":"arn:aws:servicediscovery:*:${aws:PrincipalAccount}:namespace/*"}}]`
)

// policyCreds writes a credentials file in a new folder, with the
// policy file of each profile (by profile name) beside it, and returns
// the file's path.
func policyCreds(t *testing.T, policies map[string]string, ps ...profile) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString(credsFile(ps...))
	text := b.String()
	for name, doc := range policies {
		file := "policies/" + name + ".json"
		if err := os.MkdirAll(filepath.Join(dir, "policies"), 0o700); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, file), doc)
		text = strings.Replace(text, "["+name+"]\n", "["+name+"]\npolicy_file = "+file+"\n", 1)
	}
	path := filepath.Join(dir, "credentials")
	writeFile(t, path, text)
	return path
}

func withPolicies(t *testing.T, policies map[string]string, ps ...profile) (*cairntest.Server, string) {
	t.Helper()
	path := policyCreds(t, policies, ps...)
	return serveCreds(t, path, noDNS), path
}

// wantDenied fails unless err is AccessDeniedException with exactly msg.
func wantDenied(t *testing.T, what string, err error, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("%s: got %v, want AccessDeniedException", what, err)
	}
	if msg != "" && ae.ErrorMessage() != msg {
		t.Errorf("%s: message\n%q\nwant\n%q", what, ae.ErrorMessage(), msg)
	}
}

func notAllowed(user, action, resource string) string {
	return "User: arn:aws:iam::111111111111:user/" + user + " is not authorized to perform: servicediscovery:" + action +
		" on resource: " + resource + " because no identity-based policy allows the servicediscovery:" + action + " action"
}

func TestPolicy_DiscoveryOnlyKey(t *testing.T) {
	srv, _ := withPolicies(t, map[string]string{"app": discoverOnly}, admin, app)
	w := build(t, client(srv, admin, "us-east-1"), "shop")
	c := client(srv, app, "us-east-1")
	ctx := t.Context()

	out, err := c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("web")})
	if err != nil || len(out.Instances) != 1 {
		t.Fatalf("DiscoverInstances with a discovery-only key: %v, %+v", err, out)
	}
	if _, err := c.DiscoverInstancesRevision(ctx, &sd.DiscoverInstancesRevisionInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("web")}); err != nil {
		t.Fatalf("DiscoverInstancesRevision: %v", err)
	}
	_, err = c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: aws.String(w.svcID), InstanceId: aws.String("i-1")})
	wantDenied(t, "DeregisterInstance", err, notAllowed("app", "DeregisterInstance", w.svcARN))
	_, err = c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(w.nsID)})
	wantDenied(t, "GetNamespace", err, notAllowed("app", "GetNamespace", w.nsARN))
	// A List call is refused as a whole, never filtered.
	_, err = c.ListNamespaces(ctx, &sd.ListNamespacesInput{})
	wantDenied(t, "ListNamespaces", err, notAllowed("app", "ListNamespaces", "*"))
	_, err = c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("mine")})
	wantDenied(t, "CreateHttpNamespace", err, notAllowed("app", "CreateHttpNamespace", "*"))
	// Nothing of the refused calls happened.
	if out, err := client(srv, admin, "us-east-1").ListInstances(ctx, &sd.ListInstancesInput{ServiceId: aws.String(w.svcID)}); err != nil || len(out.Instances) != 1 {
		t.Fatalf("the refused deregistration took effect: %v %+v", err, out)
	}
}

func TestPolicy_NamespaceScopedDeployer(t *testing.T) {
	srv, _ := withPolicies(t, map[string]string{"deployer": teamDeployer}, admin, deployer)
	adm := client(srv, admin, "us-east-1")
	a := build(t, adm, "team-a")
	b := build(t, adm, "team-b")
	c := client(srv, deployer, "us-east-1")
	ctx := t.Context()

	reg, err := c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(a.svcID), InstanceId: aws.String("i-2"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.2"}})
	if err != nil {
		t.Fatalf("RegisterInstance in team-a: %v", err)
	}
	waitOp(t, c, reg.OperationId)
	if _, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("api"), NamespaceId: aws.String(a.nsID)}); err != nil {
		t.Fatalf("CreateService in team-a: %v", err)
	}
	if _, err := c.ListServices(ctx, &sd.ListServicesInput{}); err != nil {
		t.Fatalf("ListServices: %v", err)
	}
	if _, err := c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("team-a"), ServiceName: aws.String("web")}); err != nil {
		t.Fatalf("DiscoverInstances in team-a: %v", err)
	}

	_, err = c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(b.svcID), InstanceId: aws.String("i-2"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.2"}})
	wantDenied(t, "RegisterInstance in team-b", err, notAllowed("deployer", "RegisterInstance", b.svcARN))
	_, err = c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: aws.String(b.svcID), InstanceId: aws.String("i-1")})
	wantDenied(t, "DeregisterInstance in team-b", err, notAllowed("deployer", "DeregisterInstance", b.svcARN))
	_, err = c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("team-b"), ServiceName: aws.String("web")})
	wantDenied(t, "DiscoverInstances in team-b", err, notAllowed("deployer", "DiscoverInstances", b.nsARN))
	_, err = c.DeleteService(ctx, &sd.DeleteServiceInput{Id: aws.String(a.svcID)})
	wantDenied(t, "DeleteService in team-a", err, notAllowed("deployer", "DeleteService", a.svcARN))
	// A service that doesn't exist is judged on the ARN its ID names: the
	// deployer learns nothing of other namespaces.
	_, err = c.GetService(ctx, &sd.GetServiceInput{Id: aws.String("srv-doesnotexist0000")})
	wantDenied(t, "GetService of no service", err,
		notAllowed("deployer", "GetService", "arn:aws:servicediscovery:us-east-1:111111111111:service/srv-doesnotexist0000"))
}

func TestPolicy_TagBasedAccess(t *testing.T) {
	srv, _ := withPolicies(t, map[string]string{"tagged": byTag}, admin, tagged)
	adm := client(srv, admin, "us-east-1")
	ctx := t.Context()
	w := build(t, adm, "shop") // the namespace is tagged team=shop
	mkSvc := func(name, team string) *types.Service {
		out, err := adm.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String(name), NamespaceId: aws.String(w.nsID),
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String(team)}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Service
	}
	ours, theirs := mkSvc("ours", "a"), mkSvc("theirs", "b")
	c := client(srv, tagged, "us-east-1")

	if _, err := c.GetService(ctx, &sd.GetServiceInput{Id: ours.Id}); err != nil {
		t.Fatalf("GetService of a service tagged team=a: %v", err)
	}
	if _, err := c.UpdateServiceAttributes(ctx, &sd.UpdateServiceAttributesInput{ServiceId: ours.Id, Attributes: map[string]string{"k": "v"}}); err != nil {
		t.Fatalf("UpdateServiceAttributes of a service tagged team=a: %v", err)
	}
	_, err := c.GetService(ctx, &sd.GetServiceInput{Id: theirs.Id})
	wantDenied(t, "GetService of team=b", err, notAllowed("tagged", "GetService", aws.ToString(theirs.Arn)))
	_, err = c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(w.nsID)})
	wantDenied(t, "GetNamespace tagged team=shop", err, notAllowed("tagged", "GetNamespace", w.nsARN))

	// Creating: allowed with the request tag team=a and only allowed keys.
	if _, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("new"), NamespaceId: aws.String(w.nsID),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}, {Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatalf("CreateService with team=a: %v", err)
	}
	_, err = c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("untagged"), NamespaceId: aws.String(w.nsID)})
	wantDenied(t, "CreateService without tags", err, notAllowed("tagged", "CreateService", w.nsARN))
	_, err = c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("extra"), NamespaceId: aws.String(w.nsID),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}, {Key: aws.String("cost"), Value: aws.String("x")}}})
	wantDenied(t, "CreateService with a tag key not allowed", err, notAllowed("tagged", "CreateService", w.nsARN))
	// Retagging someone else's service to team=a: the resource tag is
	// team=b, and TagResource's own statement needs only the request
	// tag, so it is allowed; a policy that must stop it says so with a
	// Deny on aws:ResourceTag, as in AWS.
	if _, err := c.TagResource(ctx, &sd.TagResourceInput{ResourceARN: theirs.Arn,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}); err != nil {
		t.Fatalf("TagResource with team=a: %v", err)
	}
	_, err = c.UntagResource(ctx, &sd.UntagResourceInput{ResourceARN: aws.String(w.nsARN), TagKeys: []string{"team"}})
	wantDenied(t, "UntagResource of the namespace", err, notAllowed("tagged", "UntagResource", w.nsARN))
}

func TestPolicy_ExplicitDeny(t *testing.T) {
	srv, _ := withPolicies(t, map[string]string{"operator": operatorPolicy}, admin, operator)
	w := build(t, client(srv, admin, "us-east-1"), "shop")
	c := client(srv, operator, "us-east-1")
	ctx := t.Context()
	if _, err := c.ListNamespaces(ctx, &sd.ListNamespacesInput{}); err != nil {
		t.Fatalf("ListNamespaces: %v", err)
	}
	if _, err := c.DeleteService(ctx, &sd.DeleteServiceInput{Id: aws.String(w.svcID)}); err == nil || e2etest.ErrorCode(err) != "ResourceInUse" {
		t.Fatalf("DeleteService of a service with an instance: %v, want ResourceInUse (allowed, then refused by Cloud Map)", err)
	}
	_, err := c.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(w.nsID)})
	wantDenied(t, "DeleteNamespace", err, "User: arn:aws:iam::111111111111:user/operator is not authorized to perform: servicediscovery:DeleteNamespace on resource: "+
		w.nsARN+" with an explicit deny in an identity-based policy")
}

// TestPolicy_SharedNamespace: a consumer account's own policy applies to
// what it does in a namespace shared with it.
func TestPolicy_SharedNamespace(t *testing.T) {
	srv, _ := withPolicies(t, map[string]string{"consumer": discoverOnly}, admin, consumer)
	w := build(t, client(srv, admin, "us-east-1"), "shared")
	if err := srv.Registry().ShareNamespace(t.Context(), registry.Caller{Account: admin.account, Region: "us-east-1"}, w.nsID, []string{consumer.account}); err != nil {
		t.Fatal(err)
	}
	c := client(srv, consumer, "us-east-1")
	ctx := t.Context()
	out, err := c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("shared"), ServiceName: aws.String("web"),
		OwnerAccount: aws.String(admin.account)})
	if err != nil || len(out.Instances) != 1 {
		t.Fatalf("DiscoverInstances in the shared namespace: %v %+v", err, out)
	}
	_, err = c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(w.svcARN), InstanceId: aws.String("i-9"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.9"}})
	wantDenied(t, "RegisterInstance in the shared namespace", err,
		"User: arn:aws:iam::222222222222:user/consumer is not authorized to perform: servicediscovery:RegisterInstance on resource: "+
			w.svcARN+" because no identity-based policy allows the servicediscovery:RegisterInstance action")
}

// TestPolicy_BadFile: a bad policy file stops the start with the file,
// the line and what is wrong; on reload it keeps the policies in use.
func TestPolicy_BadFile(t *testing.T) {
	bad := "{\"Version\":\"2012-10-17\",\"Statement\":[\n {\"Effect\":\"Allow\",\n  \"Action\":\"servicediscovery:DiscoverInstance\",\n  \"Resource\":\"*\"}]}"
	path := policyCreds(t, map[string]string{"app": bad}, admin, app)
	cfg := server.DefaultConfig()
	cfg.APIAddr, cfg.DNSAddr, cfg.DataDir, cfg.Credentials = "127.0.0.1:0", "", t.TempDir(), path
	if s, err := server.Start(cfg); err == nil {
		_ = s.Close(t.Context())
		t.Fatal("cairn started with a bad policy file")
	} else if want := `profile "app": policy: ` + filepath.Join(filepath.Dir(path), "policies/app.json") +
		` line 3: unknown action "servicediscovery:DiscoverInstance"`; !strings.Contains(err.Error(), want) {
		t.Fatalf("start error %q does not contain %q", err, want)
	}

	srv, path := withPolicies(t, map[string]string{"app": discoverOnly}, admin, app)
	build(t, client(srv, admin, "us-east-1"), "shop")
	c := client(srv, app, "us-east-1")
	policyFile := filepath.Join(filepath.Dir(path), "policies/app.json")
	writeFile(t, policyFile, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:servicediscovery:*"}}`)
	err := srv.ReloadCredentials()
	if err == nil || !strings.Contains(err.Error(), "line 1: resource \"arn:aws:servicediscovery:*\" is not \"*\" or an ARN") {
		t.Fatalf("reload with a malformed ARN pattern: %v", err)
	}
	if _, err := c.DiscoverInstances(t.Context(), &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("web")}); err != nil {
		t.Fatalf("after a failed reload the previous policy must stay: %v", err)
	}
	writeFile(t, policyFile, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"servicediscovery:List*","Resource":"*"}}`)
	if err := srv.ReloadCredentials(); err != nil {
		t.Fatal(err)
	}
	_, err = c.DiscoverInstances(t.Context(), &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("web")})
	wantCode(t, "DiscoverInstances after the reload", err, "AccessDeniedException")
	if _, err := c.ListNamespaces(t.Context(), &sd.ListNamespacesInput{}); err != nil {
		t.Fatalf("ListNamespaces after the reload: %v", err)
	}
}

// TestPolicy_SharingActions: cairn's sharing operations are checked as
// AWS RAM checks Cloud Map's permission-only actions.
func TestPolicy_SharingActions(t *testing.T) {
	shareOnly := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"servicediscovery:PutResourcePolicy","Resource":"*"}}`
	srv, _ := withPolicies(t, map[string]string{"app": discoverOnly, "operator": shareOnly}, admin, app, operator)
	w := build(t, client(srv, admin, "us-east-1"), "shop")
	call := func(p profile, op, body string) (int, map[string]any) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.Endpoint+"/", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", api.AdminTargetPrefix+op)
		signer(t, p, body, "servicediscovery", "us-east-1", time.Now())(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	share := `{"NamespaceId":"` + w.nsID + `","Accounts":["222222222222"]}`
	status, out := call(app, "ShareNamespace", share)
	if status != 400 || out["__type"] != "AccessDeniedException" ||
		out["Message"] != notAllowed("app", "PutResourcePolicy", w.nsARN) {
		t.Fatalf("ShareNamespace by a discovery-only key: %d %v", status, out)
	}
	if status, out := call(operator, "ShareNamespace", share); status != 200 {
		t.Fatalf("ShareNamespace allowed by PutResourcePolicy: %d %v", status, out)
	}
	status, out = call(operator, "UnshareNamespace", share)
	if status != 400 || out["Message"] != notAllowed("operator", "DeleteResourcePolicy", w.nsARN) {
		t.Fatalf("UnshareNamespace without DeleteResourcePolicy: %d %v", status, out)
	}
	// cairn's other operations are no Cloud Map action: refused to any
	// identity with a policy, and the account's state stays.
	status, out = call(operator, "Reset", `{}`)
	if status != 400 || out["__type"] != "AccessDeniedException" {
		t.Fatalf("Reset by an identity with a policy: %d %v", status, out)
	}
	if _, err := client(srv, admin, "us-east-1").GetNamespace(t.Context(), &sd.GetNamespaceInput{Id: aws.String(w.nsID)}); err != nil {
		t.Fatalf("the refused Reset took effect: %v", err)
	}
}
