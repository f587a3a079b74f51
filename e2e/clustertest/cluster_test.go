package clustertest

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	cmembers "github.com/cairn-dev/cairn/internal/cluster"
	"github.com/cairn-dev/cairn/internal/store/etcd/etcdtest"
	"github.com/cairn-dev/cairn/server"
)

// TestWriteOneReadOthers writes through one server and reads and resolves
// through the two others, measuring how long a write takes to show there.
func TestWriteOneReadOthers(t *testing.T) {
	c := newCluster(t)
	a, b, cc := c.start("a"), c.start("b"), c.start("c")
	ctx := context.Background()

	nsID := namespace(t, a, "corp.example", true)
	svc, err := a.client.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("api"), NamespaceId: aws.String(nsID), DnsConfig: multivalueA()})
	must(t, err)
	svcID := svc.Service.Id
	_, err = a.client.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svcID, InstanceId: aws.String("i-0"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.100"}})
	must(t, err)

	for _, n := range []*node{b, cc} {
		eventually(t, n.name+" discovers i-0", func() bool {
			ids, err := discover(n, "corp.example", "api")
			return err == nil && slices.Equal(ids, []string{"i-0"})
		})
		eventually(t, n.name+" resolves api.corp.example", func() bool {
			ips, err := resolve(n, "api.corp.example")
			return err == nil && slices.Equal(ips, []string{"192.0.2.100"})
		})
		got, err := n.client.GetService(ctx, &sd.GetServiceInput{Id: svcID})
		must(t, err)
		if aws.ToString(got.Service.Name) != "api" {
			t.Errorf("%s: GetService = %s", n.name, aws.ToString(got.Service.Name))
		}
	}

	// The visibility delay: from the acknowledgement by a to the first
	// answer of b (API) and of c (DNS) that includes the write.
	const rounds = 40
	var apiDelays, dnsDelays []time.Duration
	for i := 1; i <= rounds; i++ {
		id, ip := "i-"+strconv.Itoa(i), fmt.Sprintf("192.0.2.%d", i)
		_, err := a.client.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svcID, InstanceId: aws.String(id),
			Attributes: map[string]string{"AWS_INSTANCE_IPV4": ip}})
		must(t, err)
		acked := time.Now()
		var apiSeen, dnsSeen time.Duration
		for apiSeen == 0 || dnsSeen == 0 {
			if time.Since(acked) > 10*time.Second {
				t.Fatalf("%s not visible through b and c within 10s", id)
			}
			if apiSeen == 0 {
				if ids, err := discover(b, "corp.example", "api"); err == nil && slices.Contains(ids, id) {
					apiSeen = time.Since(acked)
				}
			}
			if dnsSeen == 0 {
				if ips, err := resolve(cc, "api.corp.example"); err == nil && slices.Contains(ips, ip) {
					dnsSeen = time.Since(acked)
				}
			}
		}
		apiDelays, dnsDelays = append(apiDelays, apiSeen), append(dnsDelays, dnsSeen)
	}
	p50, p99, mx := quantiles(apiDelays)
	t.Logf("visibility delay, write through a → DiscoverInstances on b: p50 %v, p99 %v, max %v (%d writes)", p50, p99, mx, rounds)
	d50, d99, dmx := quantiles(dnsDelays)
	t.Logf("visibility delay, write through a → DNS answer of c: p50 %v, p99 %v, max %v (%d writes)", d50, d99, dmx, rounds)
	if p50 > time.Second || d50 > time.Second {
		t.Errorf("median visibility delay %v (API) and %v (DNS); want far under a second", p50, d50)
	}

	// All three agree on every answer.
	want := listInstances(t, a, aws.ToString(svcID))
	if len(want) != rounds+1 {
		t.Fatalf("a lists %d instances; want %d", len(want), rounds+1)
	}
	for _, n := range []*node{b, cc} {
		eventually(t, n.name+" agrees with a", func() bool {
			return slices.Equal(listInstances(t, n, aws.ToString(svcID)), want)
		})
		ra, _ := a.client.DiscoverInstancesRevision(ctx, &sd.DiscoverInstancesRevisionInput{NamespaceName: aws.String("corp.example"), ServiceName: aws.String("api")})
		rn, _ := n.client.DiscoverInstancesRevision(ctx, &sd.DiscoverInstancesRevisionInput{NamespaceName: aws.String("corp.example"), ServiceName: aws.String("api")})
		if ra == nil || rn == nil || aws.ToInt64(ra.InstancesRevision) != aws.ToInt64(rn.InstancesRevision) {
			t.Errorf("InstancesRevision differs between a and %s", n.name)
		}
		la, _ := a.client.ListNamespaces(ctx, &sd.ListNamespacesInput{})
		ln, _ := n.client.ListNamespaces(ctx, &sd.ListNamespacesInput{})
		if la == nil || ln == nil || !reflect.DeepEqual(la.Namespaces, ln.Namespaces) {
			t.Errorf("ListNamespaces differs between a and %s", n.name)
		}
	}
}

// TestRacingWrites races writes through two servers.
func TestRacingWrites(t *testing.T) {
	c := newCluster(t)
	a, b := c.start("a"), c.start("b")
	ctx := context.Background()
	nsID := namespace(t, a, "race", false)

	// Same service name through both: exactly one wins.
	for i := range 8 {
		name := "svc-" + strconv.Itoa(i)
		var errs [2]error
		var wg sync.WaitGroup
		for j, n := range []*node{a, b} {
			wg.Go(func() {
				_, errs[j] = n.client.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String(name), NamespaceId: aws.String(nsID)})
			})
		}
		wg.Wait()
		ok, exists := 0, 0
		for _, err := range errs {
			var ae *types.ServiceAlreadyExists
			switch {
			case err == nil:
				ok++
			case errors.As(err, &ae):
				exists++
			default:
				t.Errorf("CreateService %s: %v", name, err)
			}
		}
		if ok != 1 || exists != 1 {
			t.Errorf("CreateService %s through a and b: %d created, %d ServiceAlreadyExists; want 1 and 1 (%v)", name, ok, exists, errs)
		}
	}

	// Same namespace name through both: one namespace.
	var wg sync.WaitGroup
	for _, n := range []*node{a, b} {
		wg.Go(func() {
			out, err := n.client.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("twice")})
			if err == nil {
				_, _ = n.client.GetOperation(ctx, &sd.GetOperationInput{OperationId: out.OperationId})
			}
		})
	}
	wg.Wait()
	for _, n := range []*node{a, b} {
		eventually(t, n.name+" lists one namespace twice", func() bool {
			out, err := n.client.ListNamespaces(ctx, &sd.ListNamespacesInput{})
			count := 0
			for _, ns := range out.Namespaces {
				if aws.ToString(ns.Name) == "twice" {
					count++
				}
			}
			return err == nil && count == 1
		})
	}

	// Concurrent registrations of different instances through both, while
	// pollers check that each server's InstancesRevision only grows.
	svcID := serviceSeen(t, a, b, nsID, "busy")
	stop := make(chan struct{})
	var pollers sync.WaitGroup
	for _, n := range []*node{a, b} {
		pollers.Go(func() {
			var last int64
			for {
				select {
				case <-stop:
					return
				default:
				}
				out, err := n.client.DiscoverInstancesRevision(ctx, &sd.DiscoverInstancesRevisionInput{NamespaceName: aws.String("race"), ServiceName: aws.String("busy")})
				if err != nil {
					t.Errorf("%s: DiscoverInstancesRevision: %v", n.name, err)
					return
				}
				if rev := aws.ToInt64(out.InstancesRevision); rev < last {
					t.Errorf("%s: InstancesRevision went from %d to %d", n.name, last, rev)
				} else {
					last = rev
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	const writers, each = 4, 15
	var writes sync.WaitGroup
	for _, n := range []*node{a, b} {
		for g := range writers {
			writes.Go(func() {
				for i := range each {
					id := fmt.Sprintf("%s-%d-%d", n.name, g, i)
					if _, err := n.client.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(svcID), InstanceId: aws.String(id),
						Attributes: map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.1"}}); err != nil {
						t.Errorf("RegisterInstance %s: %v", id, err)
					}
				}
			})
		}
	}
	writes.Wait()
	close(stop)
	pollers.Wait()
	want := 2 * writers * each
	for _, n := range []*node{a, b} {
		eventually(t, fmt.Sprintf("%s counts %d instances", n.name, want), func() bool {
			out, err := n.client.GetService(ctx, &sd.GetServiceInput{Id: aws.String(svcID)})
			return err == nil && aws.ToInt32(out.Service.InstanceCount) == int32(want) && len(listInstances(t, n, svcID)) == want
		})
	}
}

// TestKillServerDuringLoad kills a server (SIGKILL) while it and another
// take writes: every write either acknowledged is present afterwards.
func TestKillServerDuringLoad(t *testing.T) {
	c := newCluster(t)
	a := c.start("a")
	victim := c.startChild("victim")
	ctx := context.Background()
	svcID := serviceIn(t, a, namespace(t, a, "load", false))

	// The victim's writers stop at its first error; a's retry as SDKs do.
	client := func(n *node) *sd.Client {
		if n == victim {
			return n.once
		}
		return n.client
	}
	load := startLoad(svcID, []*node{a, victim}, 4, client, func(n *node, id string, err error) bool {
		if n != victim {
			t.Errorf("RegisterInstance %s through a: %v", id, err)
		}
		return false // the victim was killed: the outcome of this one is unknown
	})
	eventually(t, "both servers acknowledged writes", func() bool {
		return load.acknowledged("a") >= 30 && load.acknowledged("victim") >= 30
	})
	victim.kill()
	time.Sleep(200 * time.Millisecond) // a goes on writing alone
	load.end()
	if t.Failed() {
		return
	}
	acked := load.acked
	t.Logf("acknowledged writes: %v", load.counts)

	check := func(n *node) {
		have := listInstances(t, n, svcID)
		for _, id := range acked {
			if _, found := slices.BinarySearch(have, id); !found {
				t.Errorf("%s: acknowledged instance %s is missing", n.name, id)
			}
		}
		out, err := n.client.GetService(ctx, &sd.GetServiceInput{Id: aws.String(svcID)})
		must(t, err)
		if got := int(aws.ToInt32(out.Service.InstanceCount)); got != len(have) {
			t.Errorf("%s: InstanceCount %d; %d instances listed", n.name, got, len(have))
		}
	}
	check(a)
	check(c.start("late")) // a server started afterwards, from etcd alone
}

// TestEtcdOutage stops etcd: the servers keep answering reads and DNS
// from their last view, refuse writes quickly with a retryable 503, say so
// in /healthz, and take writes again once etcd is back.
func TestEtcdOutage(t *testing.T) {
	c := newCluster(t)
	fast := func(cfg *server.Config) { cfg.Etcd.RequestTimeout = outageTimeout }
	a, b := c.start("a", fast), c.start("b", fast)
	ctx := context.Background()
	nsID := namespace(t, a, "outage.example", true)
	svc, err := a.client.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("db"), NamespaceId: aws.String(nsID), DnsConfig: multivalueA()})
	must(t, err)
	_, err = a.client.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svc.Service.Id, InstanceId: aws.String("db-1"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.7"}})
	must(t, err)
	eventually(t, "b resolves db", func() bool {
		ips, err := resolve(b, "db.outage.example")
		return err == nil && slices.Equal(ips, []string{"192.0.2.7"})
	})

	c.etcd.Stop()
	for _, n := range []*node{a, b} {
		if ids, err := discover(n, "outage.example", "db"); err != nil || !slices.Equal(ids, []string{"db-1"}) {
			t.Errorf("%s with etcd down: DiscoverInstances = %v, %v; want [db-1]", n.name, ids, err)
		}
		if ips, err := resolve(n, "db.outage.example"); err != nil || !slices.Equal(ips, []string{"192.0.2.7"}) {
			t.Errorf("%s with etcd down: DNS = %v, %v; want [192.0.2.7]", n.name, ips, err)
		}
		start := time.Now()
		_, err := n.once.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svc.Service.Id, InstanceId: aws.String("db-2"),
			Attributes: map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.8"}})
		took := time.Since(start)
		if httpStatus(err) != 503 {
			t.Errorf("%s with etcd down: RegisterInstance = %v; want a 503 ServiceUnavailable", n.name, err)
		}
		t.Logf("%s with etcd down: write refused after %v: %v", n.name, took.Round(time.Millisecond), err)
		if took > 3*outageTimeout {
			t.Errorf("%s with etcd down: the write took %v to fail; want about %v", n.name, took, outageTimeout)
		}
		eventually(t, n.name+" /healthz says degraded", func() bool {
			h := healthz(n)
			return len(h) > 9 && h[:9] == "degraded:"
		})
	}

	c.etcd.Restart()
	eventually(t, "a takes writes again", func() bool {
		_, err := a.once.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svc.Service.Id, InstanceId: aws.String("db-2"),
			Attributes: map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.8"}})
		return err == nil
	})
	eventually(t, "b resolves db-2 after etcd came back", func() bool {
		ips, err := resolve(b, "db.outage.example")
		return err == nil && slices.Equal(ips, []string{"192.0.2.7", "192.0.2.8"})
	})
	for _, n := range []*node{a, b} {
		eventually(t, n.name+" /healthz says ok", func() bool { return healthz(n) == "ok\n" })
	}
}

// TestHealthChecksSplit checks that each health check is run by exactly
// one live server, and that a killed server's checks move to the others.
func TestHealthChecksSplit(t *testing.T) {
	c := newCluster(t)
	a, b := c.start("a"), c.start("b")
	victim := c.startChild("victim")
	ctx := context.Background()
	eventually(t, "a sees three members", func() bool { return len(a.srv.Members().Live()) == 3 })

	// Route 53-style checks belong to public DNS namespaces.
	nsID := publicNamespace(t, a, "health.example")
	svc, err := a.client.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("web"), NamespaceId: aws.String(nsID),
		HealthCheckConfig: &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, FailureThreshold: aws.Int32(1)}})
	must(t, err)
	svcID := aws.ToString(svc.Service.Id)
	const n = 12
	targets := make([]*hitCounter, n)
	for i := range n {
		targets[i] = &hitCounter{}
		ts := httptest.NewServer(targets[i])
		t.Cleanup(ts.Close)
		addr := netip.MustParseAddrPort(ts.Listener.Addr().String())
		_, err := a.client.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(svcID), InstanceId: aws.String("w-" + strconv.Itoa(i)),
			Attributes: map[string]string{"AWS_INSTANCE_IPV4": addr.Addr().String(), "AWS_INSTANCE_PORT": strconv.Itoa(int(addr.Port()))}})
		must(t, err)
	}
	owner := func(members []string, i int) string { return cmembers.Owner(members, svcID+"/w-"+strconv.Itoa(i)) }
	// Every instance is a target of exactly its owner among the live
	// members: a and b hold theirs, the victim the rest.
	split := func(members []string) (int64, int64) {
		var na, nb int64
		for i := range n {
			switch owner(members, i) {
			case "a":
				na++
			case "b":
				nb++
			}
		}
		return na, nb
	}
	three := []string{"a", "b", "victim"}
	wa, wb := split(three)
	eventually(t, fmt.Sprintf("a probes %d and b %d of %d instances", wa, wb, n), func() bool {
		return a.srv.HealthStats().Targets == wa && b.srv.HealthStats().Targets == wb
	})
	probedOnce := func(what string) {
		before := make([]int64, n)
		for i, h := range targets {
			before[i] = h.hits.Load()
		}
		window := 10 * healthInterval
		time.Sleep(window)
		for i, h := range targets {
			got := h.hits.Load() - before[i]
			if got == 0 || got > 15 {
				t.Errorf("%s: w-%d probed %d times in %v; want about %d (one server probing every %v)", what, i, got, window, window/healthInterval, healthInterval)
			}
		}
	}
	probedOnce("three servers")

	// Kill the victim: its instances move to a and b once its lease ends.
	var moved []int
	for i := range n {
		if owner(three, i) == "victim" {
			moved = append(moved, i)
		}
	}
	t.Logf("the victim probes %d of %d instances: %v", len(moved), n, moved)
	killed := time.Now()
	victim.kill()
	eventually(t, "a and b probe every instance", func() bool {
		return a.srv.HealthStats().Targets+b.srv.HealthStats().Targets == n
	})
	t.Logf("the victim's checks moved %v after it was killed (member TTL %v)", time.Since(killed).Round(10*time.Millisecond), memberTTL)
	probedOnce("after the kill")
	// A moved instance is really checked: failing it is noticed.
	if len(moved) > 0 {
		i := moved[0]
		targets[i].status.Store(500)
		eventually(t, "a moved instance turns UNHEALTHY", func() bool {
			out, err := b.client.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: aws.String(svcID), Instances: []string{"w-" + strconv.Itoa(i)}})
			return err == nil && out.Status["w-"+strconv.Itoa(i)] == types.HealthStatusUnhealthy
		})
	}
}

// publicNamespace creates a public DNS namespace through n.
func publicNamespace(t testing.TB, n *node, name string) string {
	t.Helper()
	out, err := n.client.CreatePublicDnsNamespace(context.Background(), &sd.CreatePublicDnsNamespaceInput{Name: aws.String(name)})
	must(t, err)
	op, err := n.client.GetOperation(context.Background(), &sd.GetOperationInput{OperationId: out.OperationId})
	must(t, err)
	return op.Operation.Targets[string(types.OperationTargetTypeNamespace)]
}

// TestEtcdMemberLoss kills etcd's leader (one of three members) while two
// servers take writes: the writes go on once the others elect a leader,
// and every acknowledged write is present.
func TestEtcdMemberLoss(t *testing.T) {
	c := newClusterOf(t, 3)
	a, b := c.start("a"), c.start("b")
	svcID := serviceIn(t, a, namespace(t, a, "quorum", false))

	client := func(n *node) *sd.Client { return n.client }
	load := startLoad(svcID, []*node{a, b}, 3, client, func(*node, string, error) bool {
		return true // refused during the election, after the SDK's retries
	})
	eventually(t, "writes before the kill", func() bool { return load.acknowledged("") >= 50 })

	leader := etcdLeader(t, c)
	t.Logf("killing etcd member %s, the leader, after %d writes", leader.Endpoint(), load.acknowledged(""))
	leader.Kill()
	before := load.acknowledged("")
	eventually(t, "writes after the kill", func() bool { return load.acknowledged("") >= before+50 })
	load.end()
	acked := load.acked
	t.Logf("acknowledged writes: %d; failed after retries: %d", len(acked), load.fails)

	// The server that acknowledged a write shows it at once (read your
	// writes); the other shows it once its watch has caught up after the
	// election, so it gets a deadline, and a write it never shows is lost.
	for _, n := range []*node{a, b} {
		missing := func(own bool) []string {
			have := listInstances(t, n, svcID)
			var out []string
			for _, id := range acked {
				if strings.HasPrefix(id, n.name+"-") != own {
					continue
				}
				if _, found := slices.BinarySearch(have, id); !found {
					out = append(out, id)
				}
			}
			return out
		}
		if m := missing(true); len(m) > 0 {
			t.Errorf("%s: instances it acknowledged are missing from its own view: %v", n.name, m)
		}
		var m []string
		deadline := time.Now().Add(20 * time.Second)
		for m = missing(false); len(m) > 0 && time.Now().Before(deadline); m = missing(false) {
			time.Sleep(50 * time.Millisecond)
		}
		if len(m) > 0 {
			t.Errorf("%s: instances the other server acknowledged are still missing after 20 s: %v", n.name, m)
		}
	}
}

// etcdLeader returns the member of c's etcd that leads it.
func etcdLeader(t *testing.T, c *cluster) *etcdtest.Server {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.endpoints, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	must(t, err)
	defer cli.Close()
	for _, m := range c.members.Members {
		st, err := cli.Status(context.Background(), m.Endpoint())
		must(t, err)
		if st.Header.MemberId == st.Leader {
			return m
		}
	}
	t.Fatal("etcd has no leader")
	return nil
}

// TestQuotaAcrossServers races registrations through two servers into a
// service with a small quota: the quota holds exactly (near a quota,
// registrations are counted in the transaction; see README, "Quotas").
func TestQuotaAcrossServers(t *testing.T) {
	c := newCluster(t)
	const quota = 40
	limit := func(cfg *server.Config) { cfg.Limits.InstancesPerService = quota }
	a, b := c.start("a", limit), c.start("b", limit)
	ctx := context.Background()
	nsID := namespace(t, a, "quota", false)
	svcID := serviceSeen(t, a, b, nsID, "capped")
	const writers, each = 8, 8 // 128 attempts through two servers for 40 places
	var ok, refused atomic.Int64
	var writes sync.WaitGroup
	for _, n := range []*node{a, b} {
		for g := range writers {
			writes.Go(func() {
				for i := range each {
					id := fmt.Sprintf("%s-%d-%d", n.name, g, i)
					_, err := n.client.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(svcID), InstanceId: aws.String(id),
						Attributes: map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.1"}})
					var limitErr *types.ResourceLimitExceeded
					switch {
					case err == nil:
						ok.Add(1)
					case errors.As(err, &limitErr):
						refused.Add(1)
					default:
						t.Errorf("RegisterInstance %s: %v", id, err)
					}
				}
			})
		}
	}
	writes.Wait()
	if ok.Load() != quota || refused.Load() != 2*writers*each-quota {
		t.Errorf("%d registrations accepted and %d refused; want %d and %d", ok.Load(), refused.Load(), quota, 2*writers*each-quota)
	}
	for _, n := range []*node{a, b} {
		eventually(t, fmt.Sprintf("%s counts %d instances", n.name, quota), func() bool {
			return len(listInstances(t, n, svcID)) == quota
		})
	}
}
