package clustertest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/e2e/e2etest"
	"github.com/cairn-dev/cairn/internal/health"
	"github.com/cairn-dev/cairn/internal/store/etcd/etcdtest"
	"github.com/cairn-dev/cairn/server"
)

// Settings shared by the servers of every test: short enough that an
// outage, a crash and a health check move show within seconds.
const (
	// requestTimeout bounds a write while etcd does not answer; generous,
	// as tests share two cores with etcd and with each other, except in
	// TestEtcdOutage, which measures how fast writes fail.
	requestTimeout = 5 * time.Second
	outageTimeout  = time.Second
	memberTTL      = 2 * time.Second
	healthInterval = 200 * time.Millisecond
)

// config is the configuration of one cairn over the etcd at endpoints,
// sharing the state under prefix.
func config(endpoints []string, prefix, id string) server.Config {
	cfg := server.DefaultConfig()
	cfg.APIAddr, cfg.DNSAddr = "127.0.0.1:0", "127.0.0.1:0"
	cfg.DataDir = ""
	cfg.StoreKind = server.StoreEtcd
	cfg.Etcd = server.EtcdConfig{Endpoints: endpoints, Prefix: prefix, RequestTimeout: requestTimeout}
	cfg.MemberID, cfg.MemberTTL = id, memberTTL
	cfg.HealthInterval = healthInterval
	cfg.HealthTimeouts = health.Timeouts{HTTPConnect: time.Second, HTTPResponse: 500 * time.Millisecond, TCPConnect: time.Second}
	return cfg
}

// TestMain doubles as a cairn server process for the tests that kill one:
// with CAIRN_CLUSTERTEST_CHILD set, the test binary starts a server from
// the environment, prints "READY <api> <dns>" and serves until killed.
func TestMain(m *testing.M) {
	if os.Getenv("CAIRN_CLUSTERTEST_CHILD") != "" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

func child() int {
	cfg := config(strings.Split(os.Getenv("CAIRN_CLUSTERTEST_ETCD"), ","), os.Getenv("CAIRN_CLUSTERTEST_PREFIX"), os.Getenv("CAIRN_CLUSTERTEST_ID"))
	srv, err := server.Start(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("READY %s %s\n", srv.APIAddr(), srv.DNSAddr())
	select {}
}

// cluster is one etcd and the cairn servers over it.
type cluster struct {
	t         *testing.T
	etcd      *etcdtest.Server  // a single-member etcd, or
	members   *etcdtest.Cluster // a multi-member one
	endpoints []string
	prefix    string
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	e := etcdtest.Start(t)
	return &cluster{t: t, etcd: e, endpoints: e.Endpoints(), prefix: "/cairn-" + strings.ReplaceAll(t.Name(), "/", "-") + "/"}
}

// newClusterOf runs the servers over an etcd of n members.
func newClusterOf(t *testing.T, n int) *cluster {
	t.Helper()
	e := etcdtest.StartCluster(t, n)
	return &cluster{t: t, members: e, endpoints: e.Endpoints(), prefix: "/cairn/"}
}

// node is one cairn server, in this process or a child process.
type node struct {
	name     string
	srv      *server.Server // in-process
	cmd      *exec.Cmd      // child process
	exited   chan struct{}
	endpoint string
	dnsAddr  string
	client   *sd.Client // retries as the SDK does
	once     *sd.Client // makes one attempt per call
}

// start starts a cairn in this process; the test stops it.
func (c *cluster) start(name string, tune ...func(*server.Config)) *node {
	c.t.Helper()
	cfg := config(c.endpoints, c.prefix, name)
	for _, f := range tune {
		f(&cfg)
	}
	srv, err := server.Start(cfg)
	if err != nil {
		c.t.Fatalf("start %s: %v", name, err)
	}
	n := &node{name: name, srv: srv, endpoint: srv.Endpoint(), dnsAddr: srv.DNSAddr()}
	n.clients()
	c.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
	})
	return n
}

// startChild starts a cairn in a child process, for tests that kill it.
func (c *cluster) startChild(name string) *node {
	c.t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "CAIRN_CLUSTERTEST_CHILD=1",
		"CAIRN_CLUSTERTEST_ETCD="+strings.Join(c.endpoints, ","),
		"CAIRN_CLUSTERTEST_PREFIX="+c.prefix, "CAIRN_CLUSTERTEST_ID="+name)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		c.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	n := &node{name: name, cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(n.exited) }()
	c.t.Cleanup(n.kill)
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line, ok := strings.CutPrefix(sc.Text(), "READY "); ok {
				ready <- line
			}
		}
	}()
	select {
	case line := <-ready:
		api, dnsAddr, _ := strings.Cut(line, " ")
		n.endpoint, n.dnsAddr = "http://"+api, dnsAddr
	case <-n.exited:
		c.t.Fatalf("%s exited during start", name)
	case <-time.After(30 * time.Second):
		c.t.Fatalf("%s not ready within 30s", name)
	}
	n.clients()
	return n
}

func (n *node) clients() {
	cfg := cairntest.AWSConfig(n.endpoint, "us-east-1")
	n.client = sd.NewFromConfig(cfg)
	n.once = sd.NewFromConfig(cfg, func(o *sd.Options) { o.RetryMaxAttempts = 1 })
}

// kill ends a child process with SIGKILL, as a crash would.
func (n *node) kill() {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.exited
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond until it holds or 20 s pass.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// namespace creates an HTTP namespace, or a private DNS one, through n
// and returns its ID.
func namespace(t testing.TB, n *node, name string, private bool) string {
	t.Helper()
	vpc := ""
	if private {
		vpc = "vpc-0a1b2c3d"
	}
	return e2etest.Namespace(t, n.client, name, vpc)
}

// serviceIn creates a service named svc, without DNS records or health
// check, in namespace nsID through n, and returns its ID.
func serviceIn(t testing.TB, n *node, nsID string) string {
	t.Helper()
	out, err := n.client.CreateService(context.Background(), &sd.CreateServiceInput{Name: aws.String("svc"), NamespaceId: aws.String(nsID)})
	must(t, err)
	return aws.ToString(out.Service.Id)
}

// serviceSeen creates the service name in nsID through from, waits until
// to sees it, and returns its ID.
func serviceSeen(t testing.TB, from, to *node, nsID, name string) string {
	t.Helper()
	out, err := from.client.CreateService(context.Background(), &sd.CreateServiceInput{Name: aws.String(name), NamespaceId: aws.String(nsID)})
	must(t, err)
	id := aws.ToString(out.Service.Id)
	eventually(t, to.name+" sees the service", func() bool {
		_, err := to.client.GetService(context.Background(), &sd.GetServiceInput{Id: aws.String(id)})
		return err == nil
	})
	return id
}

// multivalueA is the DnsConfig of a MULTIVALUE service with an A record.
func multivalueA() *types.DnsConfig {
	return &types.DnsConfig{RoutingPolicy: types.RoutingPolicyMultivalue, DnsRecords: []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(5)}}}
}

// discover returns the IDs of the instances n discovers, sorted.
func discover(n *node, ns, svc string) ([]string, error) {
	out, err := n.once.DiscoverInstances(context.Background(), &sd.DiscoverInstancesInput{NamespaceName: aws.String(ns), ServiceName: aws.String(svc),
		HealthStatus: types.HealthStatusFilterAll, MaxResults: aws.Int32(1000)})
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(out.Instances))
	for _, i := range out.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
	}
	sort.Strings(ids)
	return ids, nil
}

// listInstances returns the IDs of every instance of svcID through n.
func listInstances(t testing.TB, n *node, svcID string) []string {
	t.Helper()
	var ids []string
	p := sd.NewListInstancesPaginator(n.client, &sd.ListInstancesInput{ServiceId: aws.String(svcID), MaxResults: aws.Int32(100)})
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		must(t, err)
		for _, i := range out.Instances {
			ids = append(ids, aws.ToString(i.Id))
		}
	}
	sort.Strings(ids)
	return ids
}

// resolve returns the A records n's DNS server answers for name, sorted.
func resolve(n *node, name string) ([]string, error) {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	c := &dns.Client{Timeout: time.Second}
	r, _, err := c.Exchange(m, n.dnsAddr)
	if err != nil {
		return nil, err
	}
	ips := e2etest.AddrsA(r)
	slices.Sort(ips)
	return ips, nil
}

// healthz returns n's /healthz body.
func healthz(n *node) string {
	resp, err := http.Get(n.endpoint + "/healthz")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		k, err := resp.Body.Read(buf)
		b.Write(buf[:k])
		if err != nil {
			break
		}
	}
	return b.String()
}

// httpStatus returns the HTTP status of an SDK error, or 0.
func httpStatus(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// quantiles returns the 50th and 99th percentiles and the maximum of ds.
func quantiles(ds []time.Duration) (p50, p99, mx time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return
	}
	return s[len(s)/2], s[min(len(s)-1, len(s)*99/100)], s[len(s)-1]
}

// hitCounter counts requests to a health check target; its status can be
// switched.
type hitCounter struct {
	hits   atomic.Int64
	status atomic.Int64
}

func (h *hitCounter) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	h.hits.Add(1)
	if s := h.status.Load(); s != 0 {
		w.WriteHeader(int(s))
	}
}

// writeLoad registers instances in one service through several servers at
// once, from a few goroutines each, until end: the load the tests that
// kill a server or an etcd member write through. Instance IDs are
// <node>-<goroutine>-<i>.
type writeLoad struct {
	mu     sync.Mutex
	acked  []string       // acknowledged writes
	counts map[string]int // acknowledged writes by node
	fails  int            // writes refused, after the SDK's retries
	stop   chan struct{}
	wg     sync.WaitGroup
}

// startLoad starts perNode writers through each of nodes. client is the
// SDK client a node's writers use; goOn says, after a refused write,
// whether its writer goes on.
func startLoad(svcID string, nodes []*node, perNode int, client func(*node) *sd.Client, goOn func(n *node, id string, err error) bool) *writeLoad {
	l := &writeLoad{counts: map[string]int{}, stop: make(chan struct{})}
	for _, n := range nodes {
		for g := range perNode {
			l.wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-l.stop:
						return
					default:
					}
					id := fmt.Sprintf("%s-%d-%d", n.name, g, i)
					_, err := client(n).RegisterInstance(context.Background(), &sd.RegisterInstanceInput{ServiceId: aws.String(svcID),
						InstanceId: aws.String(id), Attributes: map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.1"}})
					l.mu.Lock()
					if err == nil {
						l.acked = append(l.acked, id)
						l.counts[n.name]++
					} else {
						l.fails++
					}
					l.mu.Unlock()
					if err != nil && !goOn(n, id, err) {
						return
					}
				}
			})
		}
	}
	return l
}

// acknowledged is how many writes were acknowledged so far: through the
// node named, or through any with "".
func (l *writeLoad) acknowledged(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if name == "" {
		return len(l.acked)
	}
	return l.counts[name]
}

// end stops the writers and waits for them; acked, counts and fails are
// then final.
func (l *writeLoad) end() {
	close(l.stop)
	l.wg.Wait()
}
