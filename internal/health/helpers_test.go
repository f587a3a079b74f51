package health_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/internal/health"
	"github.com/cairn-dev/cairn/server"
)

// testInterval is the health check interval of the end-to-end tests.
const testInterval = 100 * time.Millisecond

// testTimeouts are short probe deadlines, so that a slow target fails
// quickly; they are still far above what a loopback probe takes under the
// race detector.
var testTimeouts = health.Timeouts{HTTPConnect: time.Second, HTTPResponse: 500 * time.Millisecond, TCPConnect: time.Second}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// env is one cairn for one test, with an SDK client.
type env struct {
	t      testing.TB
	ctx    context.Context
	srv    *server.Server
	client *sd.Client
}

// newEnv starts a cairn probing every testInterval with testTimeouts;
// configure changes anything else.
func newEnv(t testing.TB, configure ...func(*server.Config)) *env {
	t.Helper()
	srv := cairntest.NewServer(t, cairntest.WithConfig(func(c *server.Config) {
		c.HealthInterval = testInterval
		c.HealthTimeouts = testTimeouts
		for _, fn := range configure {
			fn(c)
		}
	}))
	return &env{t: t, ctx: context.Background(), srv: srv.Server, client: sd.NewFromConfig(srv.AWSConfig)}
}

// startServer starts a cairn that the test stops itself (for restarts),
// with its store in dir.
func startServer(t testing.TB, dir string, configure ...func(*server.Config)) *env {
	t.Helper()
	cfg := server.DefaultConfig()
	cfg.APIAddr, cfg.DNSAddr, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", dir
	cfg.HealthInterval, cfg.HealthTimeouts = testInterval, testTimeouts
	for _, fn := range configure {
		fn(&cfg)
	}
	srv, err := server.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: context.Background(), srv: srv, client: sd.NewFromConfig(cairntest.AWSConfig(srv.Endpoint(), cfg.Region))}
}

// close stops a server from startServer.
func (e *env) close() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.must(e.srv.Close(ctx))
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

// namespaceID returns the namespace an operation created.
func (e *env) namespaceID(opID *string) string {
	e.t.Helper()
	op, err := e.client.GetOperation(e.ctx, &sd.GetOperationInput{OperationId: opID})
	e.must(err)
	if op.Operation.Status != types.OperationStatusSuccess {
		e.t.Fatalf("operation %s is %s, want SUCCESS", aws.ToString(opID), op.Operation.Status)
	}
	return op.Operation.Targets[string(types.OperationTargetTypeNamespace)]
}

func (e *env) httpNamespace(name string) string {
	e.t.Helper()
	out, err := e.client.CreateHttpNamespace(e.ctx, &sd.CreateHttpNamespaceInput{Name: aws.String(name)})
	e.must(err)
	return e.namespaceID(out.OperationId)
}

func (e *env) publicNamespace(name string) string {
	e.t.Helper()
	out, err := e.client.CreatePublicDnsNamespace(e.ctx, &sd.CreatePublicDnsNamespaceInput{Name: aws.String(name)})
	e.must(err)
	return e.namespaceID(out.OperationId)
}

// service creates a service in namespace nsID; A records for a DNS
// namespace are the caller's to add to in.
func (e *env) service(nsID, name string, in *sd.CreateServiceInput) string {
	e.t.Helper()
	if in == nil {
		in = &sd.CreateServiceInput{}
	}
	in.Name, in.NamespaceId = aws.String(name), aws.String(nsID)
	out, err := e.client.CreateService(e.ctx, in)
	e.must(err)
	return aws.ToString(out.Service.Id)
}

// check is a HealthCheckConfig; threshold 0 leaves FailureThreshold unset
// and path "" leaves ResourcePath unset.
func check(typ types.HealthCheckType, path string, threshold int32) *types.HealthCheckConfig {
	hc := &types.HealthCheckConfig{Type: typ}
	if path != "" {
		hc.ResourcePath = aws.String(path)
	}
	if threshold > 0 {
		hc.FailureThreshold = aws.Int32(threshold)
	}
	return hc
}

// multivalueA is the DnsConfig of a MULTIVALUE service with an A record.
func multivalueA() *types.DnsConfig {
	return &types.DnsConfig{RoutingPolicy: types.RoutingPolicyMultivalue,
		DnsRecords: []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(5)}}}
}

func (e *env) register(svcID, instID string, attrs map[string]string) {
	e.t.Helper()
	out, err := e.client.RegisterInstance(e.ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(svcID),
		InstanceId: aws.String(instID), Attributes: attrs})
	e.must(err)
	e.wantOperation(out.OperationId)
}

func (e *env) deregister(svcID, instID string) {
	e.t.Helper()
	out, err := e.client.DeregisterInstance(e.ctx, &sd.DeregisterInstanceInput{ServiceId: aws.String(svcID), InstanceId: aws.String(instID)})
	e.must(err)
	e.wantOperation(out.OperationId)
}

// wantOperation checks that an operation has succeeded already: the
// default server completes them before the call returns.
func (e *env) wantOperation(opID *string) {
	e.t.Helper()
	op, err := e.client.GetOperation(e.ctx, &sd.GetOperationInput{OperationId: opID})
	e.must(err)
	if op.Operation.Status != types.OperationStatusSuccess {
		e.t.Fatalf("operation %s (%s) is %s, want SUCCESS", aws.ToString(opID), op.Operation.Type, op.Operation.Status)
	}
}

// status is GetInstancesHealthStatus for one instance.
func (e *env) status(svcID, instID string) types.HealthStatus {
	e.t.Helper()
	out, err := e.client.GetInstancesHealthStatus(e.ctx, &sd.GetInstancesHealthStatusInput{ServiceId: aws.String(svcID),
		Instances: []string{instID}})
	e.must(err)
	if len(out.Status) != 1 {
		e.t.Fatalf("GetInstancesHealthStatus for %s returned %v", instID, out.Status)
	}
	return out.Status[instID]
}

// statuses is GetInstancesHealthStatus for all of a service's instances.
func (e *env) statuses(svcID string) map[string]types.HealthStatus {
	e.t.Helper()
	out, err := e.client.GetInstancesHealthStatus(e.ctx, &sd.GetInstancesHealthStatusInput{ServiceId: aws.String(svcID)})
	e.must(err)
	return out.Status
}

// statusesPaged is GetInstancesHealthStatus for all of a service's
// instances, a page of size at a time.
func (e *env) statusesPaged(svcID string, size int32) map[string]types.HealthStatus {
	e.t.Helper()
	all := map[string]types.HealthStatus{}
	var token *string
	for pages := 0; ; pages++ {
		out, err := e.client.GetInstancesHealthStatus(e.ctx, &sd.GetInstancesHealthStatusInput{ServiceId: aws.String(svcID),
			MaxResults: aws.Int32(size), NextToken: token})
		e.must(err)
		if len(out.Status) > int(size) || pages > 1000 {
			e.t.Fatalf("a page of %d statuses, or too many pages", len(out.Status))
		}
		for id, s := range out.Status {
			if _, dup := all[id]; dup {
				e.t.Fatalf("%s is on two pages", id)
			}
			all[id] = s
		}
		if token = out.NextToken; token == nil {
			return all
		}
	}
}

// waitStatus polls GetInstancesHealthStatus until the instance has want.
func (e *env) waitStatus(svcID, instID string, want types.HealthStatus) {
	e.t.Helper()
	eventually(e.t, instID+" is "+string(want), func() bool { return e.status(svcID, instID) == want })
}

// discover returns the IDs of the instances DiscoverInstances returns with
// the filter ("" omits it), sorted, and their health statuses.
func (e *env) discover(ns, svc string, filter types.HealthStatusFilter) ([]string, map[string]types.HealthStatus) {
	e.t.Helper()
	out, err := e.client.DiscoverInstances(e.ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String(ns),
		ServiceName: aws.String(svc), HealthStatus: filter})
	e.must(err)
	ids := []string{}
	health := map[string]types.HealthStatus{}
	for _, i := range out.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
		health[aws.ToString(i.InstanceId)] = i.HealthStatus
	}
	sort.Strings(ids)
	return ids, health
}

func (e *env) revision(ns, svc string) int64 {
	e.t.Helper()
	out, err := e.client.DiscoverInstancesRevision(e.ctx, &sd.DiscoverInstancesRevisionInput{NamespaceName: aws.String(ns),
		ServiceName: aws.String(svc)})
	e.must(err)
	return aws.ToInt64(out.InstancesRevision)
}

// lookupA asks cairn's DNS server for the A records of name and returns
// the addresses, sorted.
func (e *env) lookupA(name string) []string {
	e.t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	c := &dns.Client{Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, e.srv.DNSAddr())
	e.must(err)
	if r.Rcode != dns.RcodeSuccess {
		e.t.Fatalf("DNS A %s: %s", name, dns.RcodeToString[r.Rcode])
	}
	out := []string{}
	for _, rr := range r.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	sort.Strings(out)
	return out
}

// addrAttrs are the attributes of an instance at host:port.
func addrAttrs(hostport string) map[string]string {
	host, port, _ := net.SplitHostPort(hostport)
	return map[string]string{"AWS_INSTANCE_IPV4": host, "AWS_INSTANCE_PORT": port}
}

// listen listens on addr, retrying briefly: a port just closed may not be
// free again at once.
func listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("listen on %s: %v", addr, err)
	return nil
}

// httpTarget is an HTTP or HTTPS server to probe. It answers with the
// statuses queued by set, then with its standing status, and counts what
// it serves. It keeps its address across stop and start.
type httpTarget struct {
	t     testing.TB
	tls   bool
	addr  string
	srv   *httptest.Server
	mu    sync.Mutex
	plan  []int // statuses for the next requests
	code  int   // the status after the plan
	delay time.Duration
	hits  int // requests to any path but /moved
	fails int // of them, answered with a status that isn't 2xx or 3xx, or slowly
	oks   int
	moved int // requests to /moved, where redirects point
	last  seen
}

// seen is what a target saw of a probe.
type seen struct {
	path, query, host, userAgent, serverName, method string
}

// newHTTPTarget starts a target answering 200 on ip (127.0.0.1 if "").
func newHTTPTarget(t testing.TB, ip string, useTLS bool) *httpTarget {
	t.Helper()
	if ip == "" {
		ip = "127.0.0.1"
	}
	h := &httpTarget{t: t, tls: useTLS, code: http.StatusOK}
	h.start(listen(t, net.JoinHostPort(ip, "0")))
	h.addr = h.srv.Listener.Addr().String()
	t.Cleanup(h.stop)
	return h
}

func (h *httpTarget) start(ln net.Listener) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(h.serve))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // probes reset their connections
	if h.tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	h.mu.Lock()
	h.srv = srv
	h.mu.Unlock()
}

// stop closes the target's listener: probes find a closed port.
func (h *httpTarget) stop() {
	h.mu.Lock()
	srv := h.srv
	h.srv = nil
	h.mu.Unlock()
	if srv != nil {
		srv.CloseClientConnections()
		srv.Close()
	}
}

// restart opens the target again on the same address.
func (h *httpTarget) restart() { h.start(listen(h.t, h.addr)) }

func (h *httpTarget) serve(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	if r.URL.Path == "/moved" {
		h.moved++
		h.mu.Unlock()
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	code := h.code
	if len(h.plan) > 0 {
		code, h.plan = h.plan[0], h.plan[1:]
	}
	delay := h.delay
	h.hits++
	h.last = seen{path: r.URL.Path, query: r.URL.RawQuery, host: r.Host, userAgent: r.UserAgent(), method: r.Method}
	if r.TLS != nil {
		h.last.serverName = r.TLS.ServerName
	}
	if code >= 400 || code < 200 || delay > 0 {
		h.fails++
	} else {
		h.oks++
	}
	h.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done(): // the probe gave up
			return
		}
	}
	if code >= 300 && code < 400 {
		w.Header().Set("Location", "/moved")
	}
	w.WriteHeader(code)
	_, _ = w.Write([]byte("body that the probe never reads\n"))
}

// set makes the target answer the plan's statuses, then code.
func (h *httpTarget) set(code int, plan ...int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.code, h.plan = code, plan
}

// slow makes the target wait d before answering.
func (h *httpTarget) slow(d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.delay = d
}

type counts struct{ hits, oks, fails, moved int }

func (h *httpTarget) counts() counts {
	h.mu.Lock()
	defer h.mu.Unlock()
	return counts{h.hits, h.oks, h.fails, h.moved}
}

// planLeft is how many planned statuses are still to be served.
func (h *httpTarget) planLeft() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.plan)
}

// lastRequest is what the target saw of the last request it served.
func (h *httpTarget) lastRequest() seen {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.last
}

func (h *httpTarget) attrs() map[string]string { return addrAttrs(h.addr) }

// ip is the target's address without the port.
func (h *httpTarget) ip() string {
	host, _, _ := net.SplitHostPort(h.addr)
	return host
}

// waitHits waits until the target has served n requests in all.
func (h *httpTarget) waitHits(n int) {
	h.t.Helper()
	eventually(h.t, "the target has served "+strconv.Itoa(n)+" probes", func() bool { return h.counts().hits >= n })
}

// rawTarget is a TCP server that runs a function on every connection: a
// TCP check's target, or a server that speaks something other than HTTP.
type rawTarget struct {
	t       testing.TB
	addr    string
	handle  atomic.Pointer[func(net.Conn)]
	accepts atomic.Int64
	mu      sync.Mutex
	ln      net.Listener
	wg      sync.WaitGroup
}

func newRawTarget(t testing.TB, handle func(net.Conn)) *rawTarget {
	t.Helper()
	r := &rawTarget{t: t}
	r.handle.Store(&handle)
	r.start(listen(t, "127.0.0.1:0"))
	r.addr = r.ln.Addr().String()
	t.Cleanup(r.stop)
	return r
}

func (r *rawTarget) start(ln net.Listener) {
	r.mu.Lock()
	r.ln = ln
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue
			}
			r.accepts.Add(1)
			fn := *r.handle.Load()
			r.wg.Add(1)
			go func() {
				defer r.wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				fn(c)
			}()
		}
	}()
}

func (r *rawTarget) stop() {
	r.mu.Lock()
	ln := r.ln
	r.ln = nil
	r.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	r.wg.Wait()
}

func (r *rawTarget) restart() { r.start(listen(r.t, r.addr)) }

func (r *rawTarget) setHandler(fn func(net.Conn)) { r.handle.Store(&fn) }

func (r *rawTarget) attrs() map[string]string { return addrAttrs(r.addr) }

// acceptOnly is a TCP target's handler: it closes the connection.
func acceptOnly(net.Conn) {}

// answerHTTP reads a request's header and answers with status line line.
func answerHTTP(line string) func(net.Conn) {
	return func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			l, err := br.ReadString('\n')
			if err != nil || l == "\r\n" {
				break
			}
		}
		_, _ = c.Write([]byte(line + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
	}
}

// garbage answers a request with something that isn't HTTP.
func garbage(c net.Conn) {
	_, _ = c.Write([]byte("SSH-2.0-OpenSSH_9.6 not HTTP at all\r\n"))
}

// sorted returns a sorted copy.
func sorted(s ...string) []string {
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}
