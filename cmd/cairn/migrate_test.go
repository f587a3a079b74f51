package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/internal/store/etcd/etcdtest"
	"github.com/cairn-dev/cairn/server"
)

// startOver starts a cairn over the store cfg names, for one phase of a
// migration test; stop stops it.
func startOver(t *testing.T, tune func(*server.Config)) (*sd.Client, func()) {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.APIAddr, cfg.DNSAddr = "127.0.0.1:0", ""
	tune(&cfg)
	srv, err := server.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sd.NewFromConfig(cairntest.AWSConfig(srv.Endpoint(), cfg.Region)), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Close(ctx); err != nil {
			t.Error(err)
		}
	}
}

// instances returns the instance IDs a cairn discovers in shop/cart.
func instances(t *testing.T, c *sd.Client) []string {
	t.Helper()
	out, err := c.DiscoverInstances(context.Background(), &sd.DiscoverInstancesInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("cart"), MaxResults: aws.Int32(1000)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, i := range out.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	slices.Sort(ids)
	return ids
}

// revision returns shop/cart's InstancesRevision.
func revision(t *testing.T, c *sd.Client) int64 {
	t.Helper()
	out, err := c.DiscoverInstancesRevision(context.Background(), &sd.DiscoverInstancesRevisionInput{NamespaceName: aws.String("shop"), ServiceName: aws.String("cart")})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToInt64(out.InstancesRevision)
}

// grown checks that shop/cart's InstancesRevision is now more than last
// (or at least last, when nothing was registered since) and returns it.
func grown(t *testing.T, c *sd.Client, what string, last int64, strictly bool) int64 {
	t.Helper()
	rev := revision(t, c)
	if rev < last || strictly && rev == last {
		t.Errorf("%s: InstancesRevision %d; it was %d", what, rev, last)
	}
	return rev
}

// TestMigrate moves a cairn's state from the embedded store to etcd and
// back, through `cairn migrate`, and checks it by serving it.
func TestMigrate(t *testing.T) {
	etcdSrv := etcdtest.Start(t)
	ctx := context.Background()
	boltDir, backDir := t.TempDir(), t.TempDir()
	onBolt := func(dir string) func(*server.Config) { return func(c *server.Config) { c.DataDir = dir } }
	onEtcd := func(c *server.Config) {
		c.StoreKind, c.Etcd.Endpoints, c.Etcd.Prefix = server.StoreEtcd, etcdSrv.Endpoints(), "/migrated/"
	}

	// State in the embedded store: a namespace, a service, 150 instances
	// (more keys than one etcd transaction holds).
	c, stop := startOver(t, onBolt(boltDir))
	created, err := c.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("shop")})
	if err != nil {
		t.Fatal(err)
	}
	op, _ := c.GetOperation(ctx, &sd.GetOperationInput{OperationId: created.OperationId})
	svc, err := c.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("cart"), NamespaceId: aws.String(op.Operation.Targets["NAMESPACE"])})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 150 {
		if _, err := c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svc.Service.Id, InstanceId: aws.String(fmt.Sprintf("i-%03d", i)),
			Attributes: map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.1"}}); err != nil {
			t.Fatal(err)
		}
	}
	want := instances(t, c)
	rev := grown(t, c, "on bolt", 0, true)
	stop()
	if len(want) != 150 {
		t.Fatalf("discovered %d instances before the migration", len(want))
	}

	etcdName := "etcd:" + strings.Join(etcdSrv.Endpoints(), ",")
	env := map[string]string{"CAIRN_ETCD_PREFIX": "/migrated/"}
	code, stdout, stderr := runCairn(t, env, "migrate", "--from", "bolt:"+boltDir, "--to", etcdName)
	if code != 0 || !strings.Contains(stdout, "copied ") {
		t.Fatalf("migrate bolt → etcd = %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	t.Log(strings.TrimSpace(stdout))

	// Served from etcd: the same answers; then a change there.
	c, stop = startOver(t, onEtcd)
	if got := instances(t, c); !slices.Equal(got, want) {
		t.Fatalf("over etcd: %d instances; want the %d migrated", len(got), len(want))
	}
	rev = grown(t, c, "migrated to etcd", rev, false)
	if _, err := c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: svc.Service.Id, InstanceId: aws.String("i-000")}); err != nil {
		t.Fatal(err)
	}
	rev = grown(t, c, "a deregistration over etcd", rev, true)
	want = want[1:]
	stop()

	// A second copy into the same etcd is refused without --force.
	code, _, stderr = runCairn(t, env, "migrate", "--from", "bolt:"+boltDir, "--to", etcdName)
	if code != 1 || !strings.Contains(stderr, "--force") {
		t.Fatalf("migrate into a non-empty etcd = %d, stderr %s; want 1 and a hint at --force", code, stderr)
	}

	// And back to a new embedded store.
	code, stdout, stderr = runCairn(t, env, "migrate", "--from", etcdName, "--to", "bolt:"+backDir)
	if code != 0 {
		t.Fatalf("migrate etcd → bolt = %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	c, stop = startOver(t, onBolt(backDir))
	if got := instances(t, c); !slices.Equal(got, want) {
		t.Fatalf("back on bolt: %d instances; want %d", len(got), len(want))
	}
	rev = grown(t, c, "migrated back to bolt", rev, false)
	if _, err := c.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svc.Service.Id, InstanceId: aws.String("i-000"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.1"}}); err != nil {
		t.Fatal(err)
	}
	grown(t, c, "a registration back on bolt", rev, true)
	stop()

	// --force replaces a non-empty target: the original embedded store
	// gets etcd's state (without i-000).
	code, stdout, stderr = runCairn(t, env, "migrate", "--from", etcdName, "--to", "bolt:"+boltDir, "--force")
	if code != 0 || !strings.Contains(stdout, "deleted") {
		t.Fatalf("migrate --force = %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	c, stop = startOver(t, onBolt(boltDir))
	if got := instances(t, c); !slices.Equal(got, want) {
		t.Fatalf("after --force: %d instances; want %d", len(got), len(want))
	}
	rev = grown(t, c, "after --force", rev, false)
	if _, err := c.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: svc.Service.Id, InstanceId: aws.String("i-001")}); err != nil {
		t.Fatal(err)
	}
	grown(t, c, "a deregistration after --force", rev, true)
	stop()
}

func TestMigrateUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"migrate"}, 2, "give --from and --to"},
		{[]string{"migrate", "--from", "bolt:x", "--to", "bolt:x"}, 2, "same store"},
		{[]string{"migrate", "--from", "redis:x", "--to", "bolt:" + t.TempDir()}, 1, "neither bolt nor etcd"},
		{[]string{"migrate", "--from", "bolt", "--to", "bolt:" + t.TempDir()}, 1, "is not bolt:DIR or etcd:ENDPOINTS"},
	} {
		code, _, stderr := runCairn(t, nil, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.want) {
			t.Errorf("cairn %v = %d, stderr %q; want %d and %q", tc.args, code, stderr, tc.code, tc.want)
		}
	}
}
