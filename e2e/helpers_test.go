package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/e2e/e2etest"
	"github.com/cairn-dev/cairn/internal/store/bolt"
	"github.com/cairn-dev/cairn/server"
)

// The formats AWS uses for IDs (see cloudmap-semantics.md §1.5, §7.1).
var (
	namespaceIDRe = regexp.MustCompile(`^ns-[a-z2-7]{16}$`)
	serviceIDRe   = regexp.MustCompile(`^srv-[a-z2-7]{16}$`)
	operationIDRe = regexp.MustCompile(`^[a-z2-7]{32}-[0-9a-z]{8}$`)
)

// account is the account cairntest's server acts as (server.DefaultConfig).
const account = "000000000000"

// newClient starts a cairn for the test and returns an SDK client for it
// (region us-east-1) and the server.
func newClient(t *testing.T, opts ...cairntest.Option) (*sd.Client, *cairntest.Server) {
	t.Helper()
	srv := cairntest.NewServer(t, opts...)
	return sd.NewFromConfig(srv.AWSConfig), srv
}

// regionClient returns a client of srv that signs its requests for region.
func regionClient(srv *cairntest.Server, region string) *sd.Client {
	cfg := srv.AWSConfig.Copy()
	cfg.Region = region
	return sd.NewFromConfig(cfg)
}

// withDelay makes asynchronous operations take d.
func withDelay(d time.Duration) cairntest.Option {
	return cairntest.WithConfig(func(c *server.Config) { c.OperationDelay = d })
}

// withNoSyncStore runs the server over an embedded store that skips the
// fsync at each commit, for tests that make hundreds of writes. The store
// is closed after the server (cleanups run last-registered first, and the
// server's is registered after this option runs).
func withNoSyncStore(t *testing.T) cairntest.Option {
	t.Helper()
	opts := bolt.DefaultOptions()
	opts.NoSync = true
	st, err := bolt.Open(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("open a store: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close the store: %v", err)
		}
	})
	return cairntest.WithConfig(func(c *server.Config) { c.Store = st })
}

// wantErr fails the test unless err has the modeled error type T in its
// chain, and returns it.
func wantErr[T error](t *testing.T, err error) T {
	t.Helper()
	var target T
	if err == nil {
		t.Fatalf("got no error, want %T", target)
	}
	if !errors.As(err, &target) {
		t.Fatalf("got error %v (%T), want %T", err, err, target)
	}
	return target
}

// checkErr is wantErr for table tests that go on after a mismatch.
func checkErr[T error](t *testing.T, err error) bool {
	t.Helper()
	var target T
	if err == nil {
		t.Errorf("got no error, want %T", target)
		return false
	}
	if !errors.As(err, &target) {
		t.Errorf("got error %v, want %T", err, target)
		return false
	}
	return true
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// waitOp waits until the operation ends (see e2etest.WaitOp).
func waitOp(t *testing.T, c *sd.Client, opID *string) *types.Operation {
	t.Helper()
	return e2etest.WaitOp(t, c, opID)
}

// waitSuccess waits until the operation ends and fails the test unless
// it succeeded (see e2etest.WaitSuccess).
func waitSuccess(t *testing.T, c *sd.Client, opID *string) *types.Operation {
	t.Helper()
	return e2etest.WaitSuccess(t, c, opID)
}

// nsKind names a namespace type for mustNamespace.
type nsKind int

const (
	httpNS nsKind = iota
	privateNS
	publicNS
)

// createNamespace starts creating a namespace of kind and returns the
// operation ID.
func createNamespace(ctx context.Context, c *sd.Client, kind nsKind, name string) (*string, error) {
	switch kind {
	case privateNS:
		out, err := c.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String(name), Vpc: aws.String("vpc-0a1b2c3d")})
		if err != nil {
			return nil, err
		}
		return out.OperationId, nil
	case publicNS:
		out, err := c.CreatePublicDnsNamespace(ctx, &sd.CreatePublicDnsNamespaceInput{Name: aws.String(name)})
		if err != nil {
			return nil, err
		}
		return out.OperationId, nil
	}
	out, err := c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String(name)})
	if err != nil {
		return nil, err
	}
	return out.OperationId, nil
}

// mustNamespace creates a namespace, waits for its operation to succeed
// and returns the namespace ID from the operation's NAMESPACE target.
func mustNamespace(t *testing.T, c *sd.Client, kind nsKind, name string) string {
	t.Helper()
	opID, err := createNamespace(t.Context(), c, kind, name)
	if err != nil {
		t.Fatalf("create namespace %s: %v", name, err)
	}
	op := waitSuccess(t, c, opID)
	id := op.Targets[string(types.OperationTargetTypeNamespace)]
	if !namespaceIDRe.MatchString(id) {
		t.Fatalf("operation %s has NAMESPACE target %q, want ns-<16 base32>", aws.ToString(opID), id)
	}
	return id
}

// mustService creates a service in namespace nsID and returns it.
func mustService(t *testing.T, c *sd.Client, in *sd.CreateServiceInput) *types.Service {
	t.Helper()
	out, err := c.CreateService(t.Context(), in)
	if err != nil {
		t.Fatalf("CreateService %s: %v", aws.ToString(in.Name), err)
	}
	return out.Service
}

// httpService creates a service without DNS records or health check.
func httpService(t *testing.T, c *sd.Client, nsID, name string) *types.Service {
	t.Helper()
	return mustService(t, c, &sd.CreateServiceInput{Name: aws.String(name), NamespaceId: aws.String(nsID)})
}

// aService creates a DNS service with an A record (TTL 60).
func aService(t *testing.T, c *sd.Client, nsID, name string) *types.Service {
	t.Helper()
	return mustService(t, c, &sd.CreateServiceInput{Name: aws.String(name), NamespaceId: aws.String(nsID),
		DnsConfig: &types.DnsConfig{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(60)}}}})
}

// customHealthService creates a service with a custom health check.
func customHealthService(t *testing.T, c *sd.Client, nsID, name string) *types.Service {
	t.Helper()
	return mustService(t, c, &sd.CreateServiceInput{Name: aws.String(name), NamespaceId: aws.String(nsID),
		HealthCheckCustomConfig: &types.HealthCheckCustomConfig{}})
}

// register starts registering an instance and returns the operation ID.
func register(ctx context.Context, c *sd.Client, svcID, instID string, attrs map[string]string) (*string, error) {
	if attrs == nil {
		attrs = map[string]string{}
	}
	out, err := c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(svcID), InstanceId: aws.String(instID), Attributes: attrs})
	if err != nil {
		return nil, err
	}
	return out.OperationId, nil
}

// mustRegister registers an instance and waits for the operation's SUCCESS.
func mustRegister(t *testing.T, c *sd.Client, svcID, instID string, attrs map[string]string) *types.Operation {
	t.Helper()
	opID, err := register(t.Context(), c, svcID, instID, attrs)
	if err != nil {
		t.Fatalf("RegisterInstance %s: %v", instID, err)
	}
	return waitSuccess(t, c, opID)
}

// mustDeregister deregisters an instance and waits for SUCCESS.
func mustDeregister(t *testing.T, c *sd.Client, svcID, instID string) *types.Operation {
	t.Helper()
	out, err := c.DeregisterInstance(t.Context(), &sd.DeregisterInstanceInput{ServiceId: aws.String(svcID), InstanceId: aws.String(instID)})
	if err != nil {
		t.Fatalf("DeregisterInstance %s: %v", instID, err)
	}
	return waitSuccess(t, c, out.OperationId)
}

// ipv4 returns attributes with an IPv4 address derived from n.
func ipv4(n int) map[string]string {
	return map[string]string{"AWS_INSTANCE_IPV4": fmt.Sprintf("10.0.%d.%d", n/250, n%250+1)}
}

// long returns a string of n x's.
func long(n int) string { return strings.Repeat("x", n) }

// revision returns a service's InstancesRevision from
// DiscoverInstancesRevision.
func revision(t *testing.T, c *sd.Client, nsName, svcName string) int64 {
	t.Helper()
	out, err := c.DiscoverInstancesRevision(t.Context(), &sd.DiscoverInstancesRevisionInput{
		NamespaceName: aws.String(nsName), ServiceName: aws.String(svcName)})
	if err != nil {
		t.Fatalf("DiscoverInstancesRevision %s/%s: %v", nsName, svcName, err)
	}
	return aws.ToInt64(out.InstancesRevision)
}

// discoverIDs returns the instance IDs DiscoverInstances returns, as a set.
func discoverIDs(t *testing.T, c *sd.Client, in *sd.DiscoverInstancesInput) map[string]bool {
	t.Helper()
	out, err := c.DiscoverInstances(t.Context(), in)
	if err != nil {
		t.Fatalf("DiscoverInstances %s/%s: %v", aws.ToString(in.NamespaceName), aws.ToString(in.ServiceName), err)
	}
	ids := map[string]bool{}
	for _, i := range out.Instances {
		if ids[aws.ToString(i.InstanceId)] {
			t.Errorf("DiscoverInstances returned %s twice", aws.ToString(i.InstanceId))
		}
		ids[aws.ToString(i.InstanceId)] = true
	}
	return ids
}

// set builds a set of strings.
func set(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// withAndWithoutDelay runs test twice, as parallel subtests on servers of
// their own: one whose operations finish before the call returns
// (delayed=false), one whose operations take d (delayed=true).
func withAndWithoutDelay(t *testing.T, d time.Duration, test func(t *testing.T, c *sd.Client)) {
	t.Helper()
	for _, delay := range []time.Duration{0, d} {
		t.Run(fmt.Sprintf("delayed=%v", delay != 0), func(t *testing.T) {
			t.Parallel()
			c, _ := newClient(t, withDelay(delay))
			test(t, c)
		})
	}
}

// threeNamespaces creates one namespace of each type, the ones most tests
// use: shop (HTTP), corp.internal (private DNS) and example.com (public
// DNS), and returns their IDs in that order.
func threeNamespaces(t *testing.T, c *sd.Client) (httpID, privateID, publicID string) {
	t.Helper()
	return mustNamespace(t, c, httpNS, "shop"), mustNamespace(t, c, privateNS, "corp.internal"), mustNamespace(t, c, publicNS, "example.com")
}

// namespaceSummaries returns the first page of ListNamespaces.
func namespaceSummaries(t *testing.T, c *sd.Client, in *sd.ListNamespacesInput) []types.NamespaceSummary {
	t.Helper()
	out, err := c.ListNamespaces(t.Context(), in)
	if err != nil {
		t.Fatalf("ListNamespaces: %v", err)
	}
	return out.Namespaces
}

// serviceSummaries returns the first page of ListServices.
func serviceSummaries(t *testing.T, c *sd.Client, in *sd.ListServicesInput) []types.ServiceSummary {
	t.Helper()
	out, err := c.ListServices(t.Context(), in)
	if err != nil {
		t.Fatalf("ListServices: %v", err)
	}
	return out.Services
}

// wantListRefusals checks that a List operation refuses, with
// InvalidInput, each set of filters in invalid (a subtest each) and a
// MaxResults of 0 or 101. list calls the operation with either.
func wantListRefusals[F any](t *testing.T, invalid map[string][]F, list func(filters []F, maxResults *int32) error) {
	t.Helper()
	for name, filters := range invalid {
		t.Run("invalid "+name, func(t *testing.T) {
			checkErr[*types.InvalidInput](t, list(filters, nil))
		})
	}
	for _, n := range []int32{0, 101} {
		if !checkErr[*types.InvalidInput](t, list(nil, aws.Int32(n))) {
			t.Errorf("(with MaxResults %d)", n)
		}
	}
}
