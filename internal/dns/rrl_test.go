package dns_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/server"
)

// rrlEnv starts cairn with the admin listener (for the metrics) and
// --dns-rrl rate, --dns-rrl-slip slip (rate 0: off), with a private
// namespace corp.test whose service web has one A record.
func rrlEnv(t *testing.T, rate, slip int) *env {
	t.Helper()
	e := newEnv(t, cairntest.WithConfig(func(c *server.Config) {
		c.AdminAddr = "127.0.0.1:0"
		c.DNSRateLimit.Rate, c.DNSRateLimit.Slip = rate, slip
	}))
	ns := e.privateNS("corp.test", -1)
	svc := e.service(ns, svcSpec{name: "web", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	e.register(svc, "i-1", v4("10.0.0.1"))
	return e
}

// dnsCount is how many queries the server has finished with: answered,
// or held back by the rate limit (from its metrics).
func (e *env) dnsCount() (answered, dropped, slipped int) {
	e.t.Helper()
	mfs, err := e.srv.Metrics().Registry().Gather()
	e.must(err)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			v := int(m.GetCounter().GetValue())
			switch mf.GetName() {
			case "cairn_dns_queries_total":
				answered += v
			case "cairn_dns_rate_limited_total":
				if m.GetLabel()[0].GetValue() == "slip" {
					slipped += v
				} else {
					dropped += v
				}
			}
		}
	}
	return answered, dropped, slipped
}

// floodResult is what came back for a flood of queries.
type floodResult struct {
	answered, slipped, silent int
	bytesIn, bytesOut         int
	took                      time.Duration // from the first query sent to the server done with the last
}

// flood sends n copies of q (IDs 1 to n) over UDP from the loopback
// address src, in batches of 50 (so that no socket buffer overflows), and
// sorts the replies: full answers, slipped ones (TC set, nothing in them)
// and queries that got nothing. It waits for the server's metrics to
// account for every query, so that every reply sent has arrived before it
// counts.
func (e *env) flood(src string, n int, q *dns.Msg) floodResult {
	e.t.Helper()
	const batch = 50
	a0, d0, s0 := e.dnsCount()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)})
	e.must(err)
	defer conn.Close()
	to, err := net.ResolveUDPAddr("udp", e.dns)
	e.must(err)
	var r floodResult
	replies := make(chan *dns.Msg, n)
	sizes := make(chan int, n)
	done := make(chan struct{})
	go func() { // until done, then until the socket is empty
		defer close(replies)
		buf := make([]byte, 65535)
		for {
			_ = conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			k, _, err := conn.ReadFromUDP(buf)
			if err != nil {
				select {
				case <-done:
					return
				default:
					continue
				}
			}
			m := new(dns.Msg)
			if m.Unpack(buf[:k]) != nil {
				m = nil
			}
			sizes <- k
			replies <- m
		}
	}()
	start := time.Now()
	deadline := start.Add(60 * time.Second)
	for i := 1; i <= n; i++ {
		q.Id = uint16(i)
		b, err := q.Pack()
		e.must(err)
		_, err = conn.WriteToUDP(b, to)
		e.must(err)
		r.bytesIn += len(b)
		for i%batch == 0 || i == n {
			a, d, s := e.dnsCount()
			if a-a0+d-d0+s-s0 >= i {
				break
			}
			if time.Now().After(deadline) {
				close(done)
				e.t.Fatalf("after 60s the server accounted for %d of %d queries", a-a0+d-d0+s-s0, i)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	r.took = time.Since(start)
	close(done)
	seen := map[uint16]bool{}
	for m := range replies {
		r.bytesOut += <-sizes
		if m == nil {
			e.t.Fatal("a reply that does not parse")
		}
		if m.Id < 1 || int(m.Id) > n || seen[m.Id] {
			e.t.Fatalf("a reply with ID %d: unknown or twice", m.Id)
		}
		seen[m.Id] = true
		switch {
		case m.Truncated && len(m.Answer) == 0 && len(m.Ns) == 0:
			if len(m.Question) != 1 || m.Question[0] != q.Question[0] {
				e.t.Fatalf("a slipped reply for %v; want the question %v", m.Question, q.Question[0])
			}
			r.slipped++
		case !m.Truncated || len(m.Answer) > 0:
			r.answered++
		default:
			e.t.Fatalf("a truncated reply with nothing in it but authority records: %v", m)
		}
	}
	r.silent = n - r.answered - r.slipped
	return r
}

// floods is flood of k queries for each of m names (the format name with
// 0 to m-1), with the replies added up; took runs from the first query
// to the last reply, gaps between the floods included, as the limit's
// buckets refill in them.
func (e *env) floods(src string, m, k int, name string) floodResult {
	e.t.Helper()
	var r floodResult
	start := time.Now()
	for i := range m {
		ri := e.flood(src, k, question(fmt.Sprintf(name, i), dns.TypeA))
		r.answered, r.slipped, r.silent = r.answered+ri.answered, r.slipped+ri.slipped, r.silent+ri.silent
	}
	r.took = time.Since(start)
	return r
}

// checkLimited checks a flood of n queries from one prefix that drew a
// burst of rate full answers (and at most the rate's worth for the
// flood's duration, as the bucket refills), with every slip-th of the
// others slipped and the rest dropped.
func checkLimited(t *testing.T, r floodResult, n, rate, slip int) {
	t.Helper()
	most := rate + int(float64(rate)*r.took.Seconds()) + 1
	if r.answered < rate || r.answered > most {
		t.Errorf("%d of %d queries answered in %v; want the burst of %d and at most %d", r.answered, n, r.took, rate, most)
	}
	limited := n - r.answered
	want := 0
	if slip > 0 {
		want = limited / slip
	}
	if r.slipped != want || r.silent != limited-want {
		t.Errorf("of %d responses held back, %d slipped and %d dropped; want %d slipped (slip %d)", limited, r.slipped, r.silent, want, slip)
	}
}

// Issue 12: DNS over UDP amplifies a spoofed flood. With --dns-rrl, one
// source prefix flooding one name gets a burst of --dns-rrl answers, then
// every other response slipped (an empty truncated reply) and the rest
// dropped; another prefix, another name and TCP are answered as before,
// and the metrics count what was held back.
func TestRRL_FloodFromOnePrefix(t *testing.T) {
	t.Parallel()
	const rate, slip, n = 10, 2, 200
	e := rrlEnv(t, rate, slip)
	_, d0, s0 := e.dnsCount()
	r := e.flood("127.0.0.1", n, question("web.corp.test", dns.TypeA))
	checkLimited(t, r, n, rate, slip)
	if _, d, s := e.dnsCount(); d-d0 != r.silent || s-s0 != r.slipped {
		t.Errorf("cairn_dns_rate_limited_total: drop %d, slip %d; want %d and %d", d-d0, s-s0, r.silent, r.slipped)
	}

	// The same /24 shares the limit: 127.0.0.2 gets no answer now.
	if r2 := e.flood("127.0.0.2", 4, question("web.corp.test", dns.TypeA)); r2.answered != 0 || r2.slipped != 2 {
		t.Errorf("127.0.0.2, in the flooding /24: %+v; want 2 of 4 slipped, none answered", r2)
	}
	// Another /24 is not limited.
	if r3 := e.flood("127.0.1.1", rate, question("web.corp.test", dns.TypeA)); r3.answered != rate {
		t.Errorf("127.0.1.1, another /24: %+v; want all %d answered", r3, rate)
	}
	// Another response to the flooding prefix is not limited either.
	if r4 := e.flood("127.0.0.1", rate, question("nothing.corp.test", dns.TypeA)); r4.answered != rate {
		t.Errorf("an NXDOMAIN to the flooding prefix: %+v; want all %d answered", r4, rate)
	}
	// Nor is TCP, from the flooding address.
	for range 3 {
		if m := exchange(t, "tcp", e.dns, question("web.corp.test", dns.TypeA)); len(m.Answer) != 1 || m.Truncated {
			t.Fatalf("over TCP from the flooding address: %v; want the answer", m)
		}
	}
}

// Slip 0 drops every limited response, slip 1 slips each, slip 3 one in
// three; NXDOMAINs of a zone share one limit whatever the name, as do
// errors.
func TestRRL_Slip(t *testing.T) {
	t.Parallel()
	for _, slip := range []int{0, 1, 3} {
		t.Run(fmt.Sprint("slip ", slip), func(t *testing.T) {
			t.Parallel()
			const rate, n = 5, 60
			e := rrlEnv(t, rate, slip)
			checkLimited(t, e.flood("127.0.0.1", n, question("web.corp.test", dns.TypeA)), n, rate, slip)
			// Random names of a zone: one NXDOMAIN limit; names outside
			// every zone: REFUSED, one error limit.
			for _, name := range []string{"r%d.corp.test", "x%d.elsewhere.test"} {
				checkLimited(t, e.floods("127.0.0.1", n/10, 10, name), n, rate, slip)
			}
		})
	}
}

// Without --dns-rrl (the default), a flood is answered in full.
func TestRRL_OffAnswersEverything(t *testing.T) {
	t.Parallel()
	const n = 200
	e := rrlEnv(t, 0, 2)
	if r := e.flood("127.0.0.1", n, question("web.corp.test", dns.TypeA)); r.answered != n {
		t.Errorf("without --dns-rrl: %+v; want all %d answered", r, n)
	}
}

// The amplification factor (bytes out over bytes in) of a flood of the
// largest answer cairn gives for the smallest query: SRV of a MULTIVALUE
// service of 20 instances with 34-character IDs, asked with EDNS0 (4096)
// and without. README's Security model quotes these figures; run with -v
// to see them.
func TestRRL_Amplification(t *testing.T) {
	t.Parallel()
	const n = 2000
	for _, rate := range []int{0, 10} {
		t.Run(fmt.Sprint("rrl ", rate), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, cairntest.WithConfig(func(c *server.Config) {
				c.AdminAddr = "127.0.0.1:0"
				c.DNSRateLimit.Rate = rate
			}))
			ns := e.privateNS("c.test", -1)
			svc := e.service(ns, svcSpec{name: "s", records: map[types.RecordType]int64{types.RecordTypeSrv: 60}})
			for i := range 20 {
				e.register(svc, fmt.Sprintf("i-%032d", i), map[string]string{
					"AWS_INSTANCE_IPV4": fmt.Sprintf("10.0.0.%d", i+1), "AWS_INSTANCE_PORT": "8080"})
			}
			for _, withEDNS := range []bool{true, false} {
				q := question("s.c.test", dns.TypeSRV)
				if withEDNS {
					q.SetEdns0(4096, false)
				}
				r := e.flood(fmt.Sprintf("127.0.%d.1", map[bool]int{true: 2, false: 3}[withEDNS]), n, q)
				factor := float64(r.bytesOut) / float64(r.bytesIn)
				t.Logf("--dns-rrl %d, EDNS0 %v: %d queries of %d bytes in %v: %d answered, %d slipped; %d bytes in, %d out: %.2f×",
					rate, withEDNS, n, r.bytesIn/n, r.took.Round(time.Millisecond), r.answered, r.slipped, r.bytesIn, r.bytesOut, factor)
				switch {
				case rate == 0 && factor < 10:
					t.Errorf("without --dns-rrl the factor is %.2f; the flood was not answered (%+v)", factor, r)
				case rate > 0 && factor >= 1:
					t.Errorf("with --dns-rrl %d the factor is %.2f; want under 1 (%+v)", rate, factor, r)
				}
			}
		})
	}
}
