package health_test

import (
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/cairn-dev/cairn/server"
)

// The end-to-end tests run a whole cairn probing real loopback targets
// every testInterval. They count probes at the targets rather than timing
// them, and poll with deadlines.

func TestChecker_HTTPTargetFailsAndRecovers(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := newHTTPTarget(t, "", false)
	ns := e.publicNamespace("example.com")
	svc := e.service(ns, "web", &sd.CreateServiceInput{DnsConfig: multivalueA(), HealthCheckConfig: check(types.HealthCheckTypeHttp, "/health", 2)})
	e.register(svc, "web-1", h.attrs())
	if s := e.status(svc, "web-1"); s != types.HealthStatusHealthy {
		t.Fatalf("a new check is %s, want HEALTHY", s)
	}
	h.waitHits(2)

	h.set(http.StatusServiceUnavailable)
	e.waitStatus(svc, "web-1", types.HealthStatusUnhealthy)
	if ids, _ := e.discover("example.com", "web", ""); len(ids) != 0 {
		t.Fatalf("DiscoverInstances (HEALTHY) returned %v, want none", ids)
	}
	h.set(http.StatusOK)
	e.waitStatus(svc, "web-1", types.HealthStatusHealthy)
	if ids, _ := e.discover("example.com", "web", ""); !slices.Equal(ids, []string{"web-1"}) {
		t.Fatalf("DiscoverInstances returned %v after recovery, want [web-1]", ids)
	}
}

// TestFailureModes: every way a target can fail makes its instance
// UNHEALTHY, and it recovers when the target does.
func TestFailureModes(t *testing.T) {
	t.Parallel()
	type setup struct {
		attrs         map[string]string
		fail, recover func()
		hits          func() int
	}
	httpSetup := func(t *testing.T, useTLS bool, fail, recover func(*httpTarget)) setup {
		h := newHTTPTarget(t, "", useTLS)
		return setup{h.attrs(), func() { fail(h) }, func() { recover(h) }, func() int { return h.counts().hits }}
	}
	rawSetup := func(t *testing.T, good func(net.Conn), fail func(*rawTarget), recover func(*rawTarget)) setup {
		r := newRawTarget(t, good)
		return setup{r.attrs(), func() { fail(r) }, func() { recover(r) }, func() int { return int(r.accepts.Load()) }}
	}
	status := func(code int) func(*httpTarget) { return func(h *httpTarget) { h.set(code) } }
	slow := func(h *httpTarget) { h.slow(3 * testTimeouts.HTTPResponse) }
	fast := func(h *httpTarget) { h.slow(0) }
	stopHTTP := func(h *httpTarget) { h.stop() }
	startHTTP := func(h *httpTarget) { h.restart() }
	plain := func(h *httpTarget) { h.stop(); h.tls = false; h.restart() }
	secure := func(h *httpTarget) { h.stop(); h.tls = true; h.restart() }
	stopRaw := func(r *rawTarget) { r.stop() }
	startRaw := func(r *rawTarget) { r.restart() }
	speak := func(fn func(net.Conn)) func(*rawTarget) { return func(r *rawTarget) { r.setHandler(fn) } }
	silent := func(c net.Conn) { _, _ = c.Read(make([]byte, 1<<16)); _, _ = c.Read(make([]byte, 1)) } // reads, never answers
	cases := []struct {
		name  string
		typ   types.HealthCheckType
		setup func(t *testing.T) setup
	}{
		{"HTTP 500", types.HealthCheckTypeHttp, func(t *testing.T) setup { return httpSetup(t, false, status(500), status(200)) }},
		{"HTTP 503", types.HealthCheckTypeHttp, func(t *testing.T) setup { return httpSetup(t, false, status(503), status(204)) }},
		{"HTTP 404", types.HealthCheckTypeHttp, func(t *testing.T) setup { return httpSetup(t, false, status(404), status(200)) }},
		{"HTTP 400", types.HealthCheckTypeHttp, func(t *testing.T) setup { return httpSetup(t, false, status(400), status(302)) }},
		{"HTTP slow", types.HealthCheckTypeHttp, func(t *testing.T) setup { return httpSetup(t, false, slow, fast) }},
		{"HTTP closed port", types.HealthCheckTypeHttp, func(t *testing.T) setup { return httpSetup(t, false, stopHTTP, startHTTP) }},
		{"HTTP garbage", types.HealthCheckTypeHttp, func(t *testing.T) setup {
			return rawSetup(t, answerHTTP("HTTP/1.1 200 OK"), speak(garbage), speak(answerHTTP("HTTP/1.0 200 OK")))
		}},
		{"HTTP never answers", types.HealthCheckTypeHttp, func(t *testing.T) setup {
			return rawSetup(t, answerHTTP("HTTP/1.1 200 OK"), speak(silent), speak(answerHTTP("HTTP/1.1 200 OK")))
		}},
		{"HTTP empty reply", types.HealthCheckTypeHttp, func(t *testing.T) setup {
			return rawSetup(t, answerHTTP("HTTP/1.1 200 OK"), speak(acceptOnly), speak(answerHTTP("HTTP/1.1 200 OK")))
		}},
		{"HTTPS 503", types.HealthCheckTypeHttps, func(t *testing.T) setup { return httpSetup(t, true, status(503), status(200)) }},
		{"HTTPS slow", types.HealthCheckTypeHttps, func(t *testing.T) setup { return httpSetup(t, true, slow, fast) }},
		{"HTTPS closed port", types.HealthCheckTypeHttps, func(t *testing.T) setup { return httpSetup(t, true, stopHTTP, startHTTP) }},
		{"HTTPS to a plain HTTP server", types.HealthCheckTypeHttps, func(t *testing.T) setup {
			return httpSetup(t, true, plain, secure)
		}},
		{"TCP closed port", types.HealthCheckTypeTcp, func(t *testing.T) setup { return rawSetup(t, acceptOnly, stopRaw, startRaw) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			s := tc.setup(t)
			ns := e.httpNamespace("modes.test")
			svc := e.service(ns, "web", &sd.CreateServiceInput{HealthCheckConfig: check(tc.typ, "", 2)})
			e.register(svc, "i-1", s.attrs)
			eventually(t, "the target has been probed twice", func() bool { return s.hits() >= 2 })
			if st := e.status(svc, "i-1"); st != types.HealthStatusHealthy {
				t.Fatalf("a target that is up is %s", st)
			}
			s.fail()
			e.waitStatus(svc, "i-1", types.HealthStatusUnhealthy)
			before := s.hits()
			s.recover()
			e.waitStatus(svc, "i-1", types.HealthStatusHealthy)
			if n := s.hits() - before; n < 2 {
				t.Errorf("recovered after %d probes, want at least the threshold, 2", n)
			}
			if st := e.srv.HealthStats(); st.Flips != 2 {
				t.Errorf("the status flipped %d times, want 2 (down and up): %+v", st.Flips, st)
			}
		})
	}
}

// TestTCPCheckIgnoresHTTP: a TCP check only connects, so an HTTP server
// answering 500 is healthy to it.
func TestTCPCheckIgnoresHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := newHTTPTarget(t, "", false)
	h.set(http.StatusInternalServerError)
	ns := e.httpNamespace("tcp.test")
	svc := e.service(ns, "db", &sd.CreateServiceInput{HealthCheckConfig: check(types.HealthCheckTypeTcp, "", 1)})
	r := newRawTarget(t, acceptOnly)
	e.register(svc, "http", h.attrs())
	e.register(svc, "raw", r.attrs())
	eventually(t, "the TCP target has been probed 3 times", func() bool { return r.accepts.Load() >= 3 })
	time.Sleep(3 * testInterval)
	if c := h.counts(); c.hits != 0 {
		t.Errorf("a TCP check sent %d HTTP requests", c.hits)
	}
	if got := e.statuses(svc); got["http"] != types.HealthStatusHealthy || got["raw"] != types.HealthStatusHealthy {
		t.Errorf("statuses %v, want both HEALTHY", got)
	}
	if st := e.srv.HealthStats(); st.Failures != 0 || st.Flips != 0 {
		t.Errorf("stats %+v, want no failures", st)
	}
}

// TestThresholds: FailureThreshold consecutive results flip the status,
// one fewer does not, both ways; an unset threshold is 3.
func TestThresholds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		threshold int32 // 0: unset
		effective int
	}{{"1", 1, 1}, {"3", 3, 3}, {"unset", 0, 3}, {"10", 10, 10}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			h := newHTTPTarget(t, "", false)
			ns := e.httpNamespace("thresholds.test")
			svc := e.service(ns, "web", &sd.CreateServiceInput{HealthCheckConfig: check(types.HealthCheckTypeHttp, "", tc.threshold)})
			e.register(svc, "i-1", h.attrs())
			h.waitHits(1)
			n := tc.effective
			flips := func() uint64 { return e.srv.HealthStats().Flips }

			// threshold-1 failures, then successes: no flip.
			if n > 1 {
				h.set(200, repeat(500, n-1)...)
				settle(h, 2)
				if s, f := e.status(svc, "i-1"), flips(); s != types.HealthStatusHealthy || f != 0 {
					t.Fatalf("after %d failures: %s with %d flips, want HEALTHY and none", n-1, s, f)
				}
			}
			// threshold failures: UNHEALTHY.
			before := h.counts()
			h.set(500)
			e.waitStatus(svc, "i-1", types.HealthStatusUnhealthy)
			if got := h.counts().fails - before.fails; got < n {
				t.Fatalf("UNHEALTHY after %d failures, want at least %d", got, n)
			}
			// threshold-1 successes, then failures: still UNHEALTHY.
			if n > 1 {
				h.set(500, repeat(200, n-1)...)
				settle(h, 2)
				if s, f := e.status(svc, "i-1"), flips(); s != types.HealthStatusUnhealthy || f != 1 {
					t.Fatalf("after %d successes: %s with %d flips, want UNHEALTHY and 1", n-1, s, f)
				}
			}
			// threshold successes: HEALTHY.
			before = h.counts()
			h.set(200)
			e.waitStatus(svc, "i-1", types.HealthStatusHealthy)
			if got := h.counts().oks - before.oks; got < n {
				t.Fatalf("HEALTHY after %d successes, want at least %d", got, n)
			}
			if f := flips(); f != 2 {
				t.Fatalf("%d flips, want 2", f)
			}
		})
	}
}

func repeat(code, n int) []int { return slices.Repeat([]int{code}, n) }

// settle waits until the target has served its plan and then n more
// probes, and a little longer so that the checker has applied the last.
func settle(h *httpTarget, n int) {
	h.t.Helper()
	eventually(h.t, "the target has served its plan", func() bool { return h.planLeft() == 0 })
	h.waitHits(h.counts().hits + n)
}

// TestRequest: the probe is a GET of ResourcePath ("/" by default) with
// the service's DNS name as Host (and as TLS server name), and a
// self-signed certificate is accepted.
func TestRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ns := e.httpNamespace("probe.test")
	for _, tc := range []struct {
		service, path string
		tls           bool
		wantPath      string
		wantQuery     string
	}{
		{"web", "/healthz?from=cairn", false, "/healthz", "from=cairn"},
		{"root", "", false, "/", ""},
		{"deep", "/a/b/c.html", false, "/a/b/c.html", ""},
		{"secure", "/tls", true, "/tls", ""},
	} {
		h := newHTTPTarget(t, "", tc.tls)
		typ := types.HealthCheckTypeHttp
		if tc.tls {
			typ = types.HealthCheckTypeHttps
		}
		svc := e.service(ns, tc.service, &sd.CreateServiceInput{HealthCheckConfig: check(typ, tc.path, 1)})
		e.register(svc, "i-1", h.attrs())
		h.waitHits(3)
		got := h.lastRequest()
		want := seen{method: "GET", path: tc.wantPath, query: tc.wantQuery, host: tc.service + ".probe.test", userAgent: got.userAgent}
		if tc.tls {
			want.serverName = want.host
		}
		if got != want {
			t.Errorf("%s: the target saw %+v, want %+v", tc.service, got, want)
		}
		if !strings.Contains(got.userAgent, "Route 53") {
			t.Errorf("%s: User-Agent %q", tc.service, got.userAgent)
		}
		if c := h.counts(); c.fails != 0 {
			t.Errorf("%s: %d failed probes", tc.service, c.fails)
		}
		if s := e.status(svc, "i-1"); s != types.HealthStatusHealthy {
			t.Errorf("%s: %s, want HEALTHY", tc.service, s)
		}
	}
	if st := e.srv.HealthStats(); st.Failures != 0 || st.Flips != 0 {
		t.Errorf("stats %+v, want no failures", st)
	}
}

// TestRedirects: a 3xx is healthy, and the probe doesn't follow it (the
// redirect target, /moved, answers 500).
func TestRedirects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := newHTTPTarget(t, "", false)
	h.set(301, 302, 303, 307, 308, 399, 300)
	ns := e.httpNamespace("redirect.test")
	svc := e.service(ns, "web", &sd.CreateServiceInput{HealthCheckConfig: check(types.HealthCheckTypeHttp, "/old", 1)})
	e.register(svc, "i-1", h.attrs())
	settle(h, 3)
	c := h.counts()
	if c.moved != 0 {
		t.Errorf("the probe followed %d redirects", c.moved)
	}
	if s := e.status(svc, "i-1"); s != types.HealthStatusHealthy {
		t.Errorf("a redirecting target is %s, want HEALTHY", s)
	}
	if st := e.srv.HealthStats(); st.Flips != 0 || st.Failures != 0 {
		t.Errorf("stats %+v, want no failures", st)
	}
}

// TestDiscoveryAndDNSFollowHealth: DiscoverInstances with every health
// filter, GetInstancesHealthStatus and DNS answers of a MULTIVALUE service
// follow the probes; DNS and HEALTHY_OR_ELSE_ALL fail open when no instance
// is healthy; InstancesRevision doesn't change.
func TestDiscoveryAndDNSFollowHealth(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := newHTTPTarget(t, "127.0.0.2", false)
	b := newHTTPTarget(t, "127.0.0.3", false)
	ns := e.publicNamespace("example.org")
	svc := e.service(ns, "web", &sd.CreateServiceInput{DnsConfig: multivalueA(), HealthCheckConfig: check(types.HealthCheckTypeHttp, "/", 1)})
	e.register(svc, "a", a.attrs())
	e.register(svc, "b", b.attrs())
	a.waitHits(1)
	b.waitHits(1)
	rev := e.revision("example.org", "web")
	both := []string{"a", "b"}
	bothIPs := sorted(a.ip(), b.ip())

	expect := func(state string, healthy, unhealthy, orElseAll, dnsIPs []string) {
		t.Helper()
		for _, f := range []struct {
			filter types.HealthStatusFilter
			want   []string
		}{{"", healthy}, {types.HealthStatusFilterHealthy, healthy}, {types.HealthStatusFilterUnhealthy, unhealthy},
			{types.HealthStatusFilterHealthyOrElseAll, orElseAll}, {types.HealthStatusFilterAll, both}} {
			if got, _ := e.discover("example.org", "web", f.filter); !slices.Equal(got, f.want) {
				t.Errorf("%s: DiscoverInstances %q returned %v, want %v", state, f.filter, got, f.want)
			}
		}
		_, health := e.discover("example.org", "web", types.HealthStatusFilterAll)
		statuses := e.statuses(svc)
		for _, id := range both {
			want := types.HealthStatusHealthy
			if slices.Contains(unhealthy, id) {
				want = types.HealthStatusUnhealthy
			}
			if health[id] != want || statuses[id] != want {
				t.Errorf("%s: %s is %s in DiscoverInstances and %s in GetInstancesHealthStatus, want %s", state, id, health[id], statuses[id], want)
			}
		}
		if got := e.lookupA("web.example.org"); !slices.Equal(got, dnsIPs) {
			t.Errorf("%s: DNS A web.example.org = %v, want %v", state, got, dnsIPs)
		}
		if got := e.revision("example.org", "web"); got != rev {
			t.Errorf("%s: InstancesRevision %d, want %d: health changes must not change it", state, got, rev)
		}
	}

	expect("both healthy", both, []string{}, both, bothIPs)

	a.set(500)
	e.waitStatus(svc, "a", types.HealthStatusUnhealthy)
	expect("a failing", []string{"b"}, []string{"a"}, []string{"b"}, []string{b.ip()})

	b.stop()
	e.waitStatus(svc, "b", types.HealthStatusUnhealthy)
	expect("both failing", []string{}, both, both, bothIPs) // DNS fails open

	a.set(200)
	b.restart()
	e.waitStatus(svc, "a", types.HealthStatusHealthy)
	e.waitStatus(svc, "b", types.HealthStatusHealthy)
	expect("both recovered", both, []string{}, both, bothIPs)
}

// TestProbingStopsOnDeregistration: once DeregisterInstance returns, its
// target sees at most the probe that was already on its way.
func TestProbingStopsOnDeregistration(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	gone := newHTTPTarget(t, "", false)
	stays := newHTTPTarget(t, "", false)
	ns := e.httpNamespace("dereg.test")
	svc := e.service(ns, "web", &sd.CreateServiceInput{HealthCheckConfig: check(types.HealthCheckTypeHttp, "", 1)})
	e.register(svc, "gone", gone.attrs())
	e.register(svc, "stays", stays.attrs())
	gone.waitHits(3)
	e.deregister(svc, "gone")
	after := gone.counts().hits
	stays.waitHits(stays.counts().hits + 5) // five more rounds
	if n := gone.counts().hits - after; n > 1 {
		t.Errorf("a deregistered instance was probed %d more times, want at most the one in flight", n)
	}
	if got := e.statuses(svc); len(got) != 1 {
		t.Errorf("statuses %v, want only stays", got)
	}
	if st := e.srv.HealthStats(); st.Targets != 1 {
		t.Errorf("the checker has %d targets, want 1", st.Targets)
	}
}

// TestUpdateServiceHealthCheck: UpdateService without a HealthCheckConfig
// deletes the check: probes stop and the status is UNKNOWN, and the filter
// no longer applies. Adding one back starts a new check, on its path.
func TestUpdateServiceHealthCheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := newHTTPTarget(t, "127.0.0.4", false)
	ns := e.publicNamespace("update.example")
	svc := e.service(ns, "web", &sd.CreateServiceInput{DnsConfig: multivalueA(), HealthCheckConfig: check(types.HealthCheckTypeHttp, "/a", 1)})
	e.register(svc, "i-1", h.attrs())
	h.set(500)
	e.waitStatus(svc, "i-1", types.HealthStatusUnhealthy)

	update := func(change *types.ServiceChange) {
		t.Helper()
		out, err := e.client.UpdateService(e.ctx, &sd.UpdateServiceInput{Id: aws.String(svc), Service: change})
		e.must(err)
		e.wantOperation(out.OperationId)
	}
	update(&types.ServiceChange{Description: aws.String("no more health check")})
	after := h.counts().hits
	if s := e.status(svc, "i-1"); s != types.HealthStatusUnknown {
		t.Errorf("without a health check the status is %s, want UNKNOWN", s)
	}
	if ids, health := e.discover("update.example", "web", types.HealthStatusFilterHealthy); !slices.Equal(ids, []string{"i-1"}) ||
		health["i-1"] != types.HealthStatusUnknown {
		t.Errorf("DiscoverInstances (HEALTHY, ignored without a check) = %v %v, want i-1 UNKNOWN", ids, health)
	}
	if got := e.lookupA("web.update.example"); !slices.Equal(got, []string{h.ip()}) {
		t.Errorf("DNS A = %v, want %s", got, h.ip())
	}
	eventually(t, "the checker dropped the target", func() bool { return e.srv.HealthStats().Targets == 0 })
	time.Sleep(6 * testInterval) // nothing to count on: wait for rounds that must not happen
	if n := h.counts().hits - after; n > 1 {
		t.Errorf("the target was probed %d times after its check was deleted", n)
	}

	update(&types.ServiceChange{HealthCheckConfig: check(types.HealthCheckTypeHttp, "/b", 1)})
	e.waitStatus(svc, "i-1", types.HealthStatusUnhealthy)
	if p := h.lastRequest().path; p != "/b" {
		t.Errorf("the new check probed %s, want /b", p)
	}
	h.set(200)
	e.waitStatus(svc, "i-1", types.HealthStatusHealthy)
}

// TestReregister: re-registering with a new address probes the new one
// only; re-registering at the same address keeps following the target.
func TestReregister(t *testing.T) {
	t.Parallel()
	t.Run("new address", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		old, cur := newHTTPTarget(t, "", false), newHTTPTarget(t, "", false)
		old.set(500)
		ns := e.httpNamespace("rereg.test")
		svc := e.service(ns, "web", &sd.CreateServiceInput{HealthCheckConfig: check(types.HealthCheckTypeHttp, "", 1)})
		e.register(svc, "i-1", old.attrs())
		e.waitStatus(svc, "i-1", types.HealthStatusUnhealthy)
		e.register(svc, "i-1", cur.attrs())
		after := old.counts().hits
		cur.waitHits(4)
		if n := old.counts().hits - after; n > 1 {
			t.Errorf("the old address was probed %d times after re-registration", n)
		}
		e.waitStatus(svc, "i-1", types.HealthStatusHealthy)
	})
	t.Run("same address, still failing", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		h := newHTTPTarget(t, "", false)
		h.set(500)
		ns := e.httpNamespace("rereg.test")
		svc := e.service(ns, "web", &sd.CreateServiceInput{HealthCheckConfig: check(types.HealthCheckTypeHttp, "", 2)})
		e.register(svc, "i-1", h.attrs())
		e.waitStatus(svc, "i-1", types.HealthStatusUnhealthy)
		attrs := h.attrs()
		attrs["version"] = "2"
		e.register(svc, "i-1", attrs)
		h.waitHits(h.counts().hits + 4)
		e.waitStatus(svc, "i-1", types.HealthStatusUnhealthy)
		h.set(200)
		e.waitStatus(svc, "i-1", types.HealthStatusHealthy)
	})
}

// TestInstanceWithoutAddress: an instance with a port but no IP address
// can't be probed, so its checks fail; one without a port can't be
// registered.
func TestInstanceWithoutAddress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ns := e.httpNamespace("noaddr.test")
	svc := e.service(ns, "web", &sd.CreateServiceInput{HealthCheckConfig: check(types.HealthCheckTypeTcp, "", 1)})
	e.register(svc, "i-1", map[string]string{"AWS_INSTANCE_PORT": "8080"})
	e.waitStatus(svc, "i-1", types.HealthStatusUnhealthy)
	_, err := e.client.RegisterInstance(e.ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(svc), InstanceId: aws.String("i-2"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "127.0.0.1"}})
	var invalid *types.InvalidInput
	if !errors.As(err, &invalid) {
		t.Errorf("registering without a port: %v, want InvalidInput", err)
	}
}

// TestIPv6Target: AWS_INSTANCE_IPV6 is probed when there is no IPv4.
func TestIPv6Target(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ln.Close()
	e := newEnv(t)
	h := newHTTPTarget(t, "::1", false)
	ns := e.httpNamespace("v6.test")
	svc := e.service(ns, "web", &sd.CreateServiceInput{HealthCheckConfig: check(types.HealthCheckTypeHttp, "", 1)})
	_, port, _ := net.SplitHostPort(h.addr)
	e.register(svc, "i-1", map[string]string{"AWS_INSTANCE_IPV6": "::1", "AWS_INSTANCE_PORT": port})
	h.waitHits(2)
	h.set(500)
	e.waitStatus(svc, "i-1", types.HealthStatusUnhealthy)
}

// TestStatusSurvivesRestart: statuses are durable. A restarted cairn
// starts from the status the instance had, and resumes probing.
func TestStatusSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sick, fine := newHTTPTarget(t, "127.0.0.5", false), newHTTPTarget(t, "127.0.0.6", false)
	sick.set(500)

	e := startServer(t, dir)
	ns := e.publicNamespace("restart.example")
	svc := e.service(ns, "web", &sd.CreateServiceInput{DnsConfig: multivalueA(), HealthCheckConfig: check(types.HealthCheckTypeHttp, "", 1)})
	e.register(svc, "sick", sick.attrs())
	e.register(svc, "fine", fine.attrs())
	e.waitStatus(svc, "sick", types.HealthStatusUnhealthy)
	fine.waitHits(2)
	e.close()

	// No probe runs in this one (an hour's interval): what it reports
	// comes from the store.
	e = startServer(t, dir, func(c *server.Config) { c.HealthInterval = time.Hour })
	if got := e.statuses(svc); got["sick"] != types.HealthStatusUnhealthy || got["fine"] != types.HealthStatusHealthy {
		t.Errorf("after a restart the statuses are %v, want sick UNHEALTHY and fine HEALTHY", got)
	}
	if ids, _ := e.discover("restart.example", "web", ""); !slices.Equal(ids, []string{"fine"}) {
		t.Errorf("after a restart DiscoverInstances returned %v, want [fine]", ids)
	}
	if got := e.lookupA("web.restart.example"); !slices.Equal(got, []string{fine.ip()}) {
		t.Errorf("after a restart DNS A = %v, want %s", got, fine.ip())
	}
	e.close()

	// Probing resumes from that status.
	e = startServer(t, dir)
	defer e.close()
	if s := e.status(svc, "sick"); s != types.HealthStatusUnhealthy {
		t.Errorf("after a second restart sick is %s, want UNHEALTHY", s)
	}
	sick.set(200)
	e.waitStatus(svc, "sick", types.HealthStatusHealthy)
}
