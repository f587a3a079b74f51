package authtest_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/e2e/e2etest"
	"github.com/cairn-dev/cairn/server"
)

// profile is one identity of a credentials file.
type profile struct {
	name, key, secret, token, account string
}

// The identities of these tests: two accounts; team-b signs with a
// session token.
var (
	teamA = profile{"team-a", "AKIAAAAAAAAAAAAAAAAA", "a-secret/with+slash", "", "111111111111"}
	teamB = profile{"team-b", "ASIABBBBBBBBBBBBBBBB", "b-secret", "FwoGZXIvYXdzEJr//////////wEaDB+token", "222222222222"}
	teamC = profile{"team-c", "AKIACCCCCCCCCCCCCCCC", "c-secret", "", "333333333333"}
)

func credsFile(ps ...profile) string {
	var b strings.Builder
	b.WriteString("# cairn identities\n")
	for _, p := range ps {
		b.WriteString("\n[" + p.name + "]\naws_access_key_id = " + p.key + "\naws_secret_access_key = " + p.secret + "\n")
		if p.token != "" {
			b.WriteString("aws_session_token = " + p.token + "\n")
		}
		b.WriteString("aws_account_id = " + p.account + "\n")
	}
	return b.String()
}

// writeCreds writes a credentials file of ps at path.
func writeCreds(t testing.TB, path string, ps ...profile) {
	t.Helper()
	writeFile(t, path, credsFile(ps...))
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// withCreds starts cairn, without DNS, with a credentials file of ps, and
// returns the server and the file's path.
func withCreds(t *testing.T, ps ...profile) (*cairntest.Server, string) {
	t.Helper()
	return withCredsConfig(t, noDNS, ps...)
}

// withCredsConfig is withCreds with the settings cfg changes, DNS served.
func withCredsConfig(t *testing.T, cfg func(*server.Config), ps ...profile) (*cairntest.Server, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "credentials")
	writeCreds(t, path, ps...)
	return serveCreds(t, path, cfg), path
}

// serveCreds starts cairn verifying signatures with the credentials file
// at path, with the settings cfg changes.
func serveCreds(t *testing.T, path string, cfg func(*server.Config)) *cairntest.Server {
	t.Helper()
	return cairntest.NewServer(t, cairntest.WithConfig(func(c *server.Config) {
		c.Credentials = path
		cfg(c)
	}))
}

// noDNS is the setting of a test that needs no DNS server.
func noDNS(c *server.Config) { c.DNSAddr = "" }

// client is an SDK client of srv signing as p in region.
func client(srv *cairntest.Server, p profile, region string) *sd.Client {
	cfg := cairntest.AWSConfig(srv.Endpoint, region)
	cfg.Credentials = credentials.NewStaticCredentialsProvider(p.key, p.secret, p.token)
	return sd.NewFromConfig(cfg)
}

// anonymous is an SDK client of srv that does not sign.
func anonymous(srv *cairntest.Server) *sd.Client {
	cfg := cairntest.AWSConfig(srv.Endpoint, "us-east-1")
	cfg.Credentials = aws.AnonymousCredentials{}
	return sd.NewFromConfig(cfg)
}

// wantCode fails the test unless err is the AWS error code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := e2etest.ErrorCode(err); got != code {
		t.Errorf("%s: got %v (code %q), want %s", what, err, got, code)
	}
}

// waitOp waits until the operation ends, and fails the test unless it
// succeeded.
func waitOp(t *testing.T, c *sd.Client, opID *string) *types.Operation {
	t.Helper()
	return e2etest.WaitSuccess(t, c, opID)
}

// world is what one caller built: an HTTP namespace, a service and an
// instance.
type world struct {
	nsID, nsARN, svcID, svcARN, opID string
}

// build creates HTTP namespace ns with service "web" and instance "i-1"
// through c, checks every step, and returns the IDs.
func build(t *testing.T, c *sd.Client, ns string) world {
	t.Helper()
	ctx := t.Context()
	out, err := c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String(ns),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String(ns)}}})
	if err != nil {
		t.Fatalf("CreateHttpNamespace %s: %v", ns, err)
	}
	op := waitOp(t, c, out.OperationId)
	w := world{nsID: op.Targets[string(types.OperationTargetTypeNamespace)], opID: aws.ToString(out.OperationId)}
	got, err := c.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(w.nsID)})
	if err != nil {
		t.Fatalf("GetNamespace: %v", err)
	}
	w.nsARN = aws.ToString(got.Namespace.Arn)
	svc, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("web"), NamespaceId: aws.String(w.nsID),
		HealthCheckCustomConfig: &types.HealthCheckCustomConfig{}})
	if err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	w.svcID, w.svcARN = aws.ToString(svc.Service.Id), aws.ToString(svc.Service.Arn)
	reg, err := c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(w.svcID), InstanceId: aws.String("i-1"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.0.0.1", "AWS_INSTANCE_PORT": "8080", "stage": "prod"}})
	if err != nil {
		t.Fatalf("RegisterInstance: %v", err)
	}
	waitOp(t, c, reg.OperationId)
	disc, err := c.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String(ns), ServiceName: aws.String("web")})
	if err != nil {
		t.Fatalf("DiscoverInstances: %v", err)
	}
	if len(disc.Instances) != 1 || aws.ToString(disc.Instances[0].InstanceId) != "i-1" {
		t.Fatalf("DiscoverInstances = %+v, want i-1", disc.Instances)
	}
	return w
}

// recorder is an http.RoundTripper that can rewrite requests before they
// leave and remembers what was sent.
type recorder struct {
	next    http.RoundTripper
	rewrite func(*http.Request)
	mu      sync.Mutex
	hosts   []string // the Host header of each request
	targets []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	if r.rewrite != nil {
		req = req.Clone(req.Context())
		r.rewrite(req)
	}
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	r.mu.Lock()
	r.hosts = append(r.hosts, host)
	r.targets = append(r.targets, req.Header.Get("X-Amz-Target"))
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *recorder) sent() (hosts, targets []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.hosts...), append([]string(nil), r.targets...)
}

// dialAlways is a transport that connects to addr whatever host a request
// names, so that "data-127.0.0.1:port" reaches the server.
func dialAlways(addr string) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}
}

// rawResponse is an HTTP answer of cairn.
type rawResponse struct {
	status int
	header http.Header
	body   map[string]any
}

// post sends one operation to endpoint as a hand-built request; sign, if
// not nil, signs it first.
func post(t *testing.T, endpoint, op, body string, sign func(*http.Request)) rawResponse {
	t.Helper()
	resp := e2etest.Post(t, endpoint, "Route53AutoNaming_v20170314."+op, []byte(body), sign)
	r := rawResponse{status: resp.Status, header: resp.Header}
	if err := json.Unmarshal(resp.Body, &r.body); err != nil {
		t.Fatalf("%s: response %q is not JSON: %v", op, resp.Body, err)
	}
	return r
}

// signer signs a hand-built request over body as p, for service and
// region, at time at.
func signer(t *testing.T, p profile, body, service, region string, at time.Time) func(*http.Request) {
	creds := aws.Credentials{AccessKeyID: p.key, SecretAccessKey: p.secret, SessionToken: p.token}
	return e2etest.Signer(t, creds, []byte(body), service, region, at)
}

func removeFile(path string) error { return os.Remove(path) }
