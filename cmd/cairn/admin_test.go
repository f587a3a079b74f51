package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/internal/api"
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

func TestExportImportCommands(t *testing.T) {
	a, b := cairntest.NewServer(t), cairntest.NewServer(t)
	ctx := context.Background()
	ca := sd.NewFromConfig(a.AWSConfig)
	op, err := ca.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shop")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := ca.GetOperation(ctx, &sd.GetOperationInput{OperationId: op.OperationId})
	svc, err := ca.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("cart"), NamespaceId: aws.String(got.Operation.Targets["NAMESPACE"])})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ca.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svc.Service.Id, InstanceId: aws.String("i-1"), Attributes: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	code, exported, stderr := runCairn(t, awsEnv(t, a), "export")
	if code != 0 || !strings.Contains(exported, `"i-1"`) {
		t.Fatalf("cairn export = %d, stdout %q, stderr %q", code, exported, stderr)
	}
	file := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(file, []byte(exported), 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCairn(t, awsEnv(t, b), "import", file)
	if code != 0 {
		t.Fatalf("cairn import = %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, again, _ := runCairn(t, awsEnv(t, b), "export"); again != exported {
		t.Fatalf("exported from the import:\n%s\nwant:\n%s", again, exported)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("Namespaces:\n  - Name: x\n    Type: HTTP\n    Services: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := runCairn(t, awsEnv(t, b), "import", bad); code != 1 || !strings.Contains(stderr, bad+":4:15: Services must be a list") {
		t.Fatalf("cairn import of a bad file = %d, stderr %q", code, stderr)
	}
	// A file that parses but that the server refuses: the error names the
	// line and column of the element at fault, as serve --init does.
	refused := filepath.Join(t.TempDir(), "refused.yaml")
	if err := os.WriteFile(refused, []byte("Namespaces:\n  - Name: ok\n    Type: HTTP\n    Services:\n      - Name: web\n        Instances:\n          - Id: good\n          - Id: \"bad id\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCairn(t, awsEnv(t, b), "import", refused)
	if code != 1 || !strings.Contains(stderr, refused+":8:13: ") || !strings.Contains(stderr, `instance "bad id" of service "web"`) || strings.Contains(stderr, "[Namespaces") {
		t.Fatalf("cairn import of a refused instance = %d, stderr %q", code, stderr)
	}
}

func TestFaultCommands(t *testing.T) {
	srv := cairntest.NewServer(t)
	vars := awsEnv(t, srv)
	code, stdout, stderr := runCairn(t, vars, "fault", "add", "--operation", "ListNamespaces", "--error", "InternalFailure")
	if code != 0 || strings.TrimSpace(stdout) == "" {
		t.Fatalf("cairn fault add = %d, %q, %q", code, stdout, stderr)
	}
	if _, err := sd.NewFromConfig(srv.AWSConfig).ListNamespaces(context.Background(), &sd.ListNamespacesInput{}); err == nil {
		t.Fatal("the fault added by cairn fault add did not fire")
	}
	if code, stdout, _ := runCairn(t, vars, "fault", "list"); code != 0 || !strings.Contains(stdout, `"InternalFailure"`) {
		t.Fatalf("cairn fault list = %d, %q", code, stdout)
	}
	if code, _, stderr := runCairn(t, vars, "fault", "add", "--operation", "ListNamespaces", "--error", "NamespaceNotFound"); code != 1 || !strings.Contains(stderr, "can't answer") {
		t.Fatalf("an error the operation does not model = %d, %q", code, stderr)
	}
	if code, stdout, _ := runCairn(t, vars, "fault", "clear"); code != 0 || !strings.Contains(stdout, "cleared 1") {
		t.Fatalf("cairn fault clear = %d, %q", code, stdout)
	}
	if code, _, stderr := runCairn(t, vars, "fault", "add", "--health", "UNHEALTHY", "--service", "srv-x", "--instance", "i", "--duration", "1s"); code != 1 || !strings.Contains(stderr, "ServiceNotFound") {
		t.Fatalf("forcing the health of a missing service = %d, %q", code, stderr)
	}
	if code, _, _ := runCairn(t, vars, "fault", "frob"); code != 2 {
		t.Fatalf("cairn fault frob = %d", code)
	}
}

func TestHealthcheckCommand(t *testing.T) {
	srv := cairntest.NewServer(t)
	if code, stdout, stderr := runCairn(t, map[string]string{"CAIRN_ENDPOINT": srv.Endpoint}, "healthcheck"); code != 0 || stdout != "ok\n" {
		t.Fatalf("cairn healthcheck = %d, %q, %q", code, stdout, stderr)
	}
	if code, _, stderr := runCairn(t, nil, "healthcheck", "--endpoint", "http://127.0.0.1:1", "--timeout", "1s"); code != 1 || !strings.Contains(stderr, "127.0.0.1:1") {
		t.Fatalf("cairn healthcheck of nothing = %d, %q", code, stderr)
	}
}

// TestFaultRequestOperation: each cairn fault subcommand calls its admin
// operation with the body its flags make (--service goes to ForceHealth
// when --health is given, else to the fault).
func TestFaultRequestOperation(t *testing.T) {
	for _, tt := range []struct {
		sub      string
		req      faultRequest
		op, body string
	}{
		{"add", faultRequest{add: faultSpec{Operation: "ListNamespaces", Error: "InternalFailure", ServiceId: "srv-1", Count: 2}},
			"AddFault", `{"Operation":"ListNamespaces","Error":"InternalFailure","Latency":"","ServiceId":"srv-1","NamespaceId":"","DNSName":"","DNS":"","Probability":0,"Count":2}`},
		{"add", faultRequest{add: faultSpec{ServiceId: "srv-1"}, health: api.ForceHealthRequest{Status: "UNHEALTHY", InstanceId: "i-1", Duration: "30s"}},
			"ForceHealth", `"ServiceId":"srv-1"`},
		{"list", faultRequest{}, "ListFaults", `{}`},
		{"clear", faultRequest{id: "f-1"}, "ClearFaults", `{"Id":"f-1"}`},
		{"clear", faultRequest{}, "ClearFaults", `{"Id":""}`},
	} {
		op, body := tt.req.operation(tt.sub)
		if op != tt.op || !strings.Contains(string(body), tt.body) {
			t.Errorf("%s %+v: %s %s; want %s with %s", tt.sub, tt.req, op, body, tt.op, tt.body)
		}
	}
}
