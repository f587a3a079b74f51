//go:build load

// The load comparison: dnsperf against cairn's DNS listener and against a
// bare miekg/dns server, in the same run. Not part of the ordinary test
// run (it takes tens of seconds and wants a quiet machine):
//
//	go test -tags load -run TestLoad -v -count=1 ./internal/dns/
//
// Settings, from the environment: LOAD_SECONDS (dnsperf -l per round,
// default 10), LOAD_ROUNDS (rounds of bare then cairn, default 3),
// LOAD_CLIENTS (dnsperf -c, default 4), LOAD_OUTSTANDING (dnsperf -q,
// default 100), LOAD_CPUPROFILE (a path prefix: CPU profiles of the
// last round of each server go to $LOAD_CPUPROFILE.bare and .cairn). dnsperf is Debian's package dnsperf.

package dns_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// bareServer is a miekg/dns UDP server that answers every query with one
// fixed A record: the ceiling a handler on miekg/dns can reach.
func bareServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rr, err := dns.NewRR("web.example.com. 60 IN A 10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		m.Answer = []dns.RR{rr}
		_ = w.WriteMsg(m)
	})
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: handler, NotifyStartedFunc: func() { close(started) }}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

var (
	qpsRe       = regexp.MustCompile(`Queries per second:\s+([0-9.]+)`)
	completedRe = regexp.MustCompile(`Queries completed:\s+(\d+)`)
	lostRe      = regexp.MustCompile(`Queries lost:\s+(\d+)`)
)

// perf is one dnsperf run: queries per second, and the CPU time this
// process (the server under test; the other one idles) spent per query.
type perf struct {
	qps       float64
	cpuPerQry time.Duration
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// dnsperf runs dnsperf against addr for the given seconds.
func dnsperf(t *testing.T, bin, addr, queries string, seconds, clients, outstanding int) perf {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	args := []string{"-s", host, "-p", port, "-d", queries, "-l", strconv.Itoa(seconds), "-c", strconv.Itoa(clients),
		"-T", "1", "-q", strconv.Itoa(outstanding), "-t", "2"}
	before := cpuTime()
	out, err := exec.Command(bin, args...).CombinedOutput()
	cpu := cpuTime() - before
	if err != nil {
		t.Fatalf("dnsperf %v: %v\n%s", args, err, out)
	}
	m := qpsRe.FindSubmatch(out)
	c := completedRe.FindSubmatch(out)
	if m == nil || c == nil {
		t.Fatalf("no queries per second in dnsperf's output:\n%s", out)
	}
	qps, _ := strconv.ParseFloat(string(m[1]), 64)
	completed, _ := strconv.Atoi(string(c[1]))
	if l := lostRe.FindSubmatch(out); l != nil && string(l[1]) != "0" {
		t.Logf("dnsperf lost %s queries against %s", l[1], addr)
	}
	return perf{qps: qps, cpuPerQry: cpu / time.Duration(max(completed, 1))}
}

// profiled runs fn under the CPU profiler when LOAD_CPUPROFILE is set,
// writing $LOAD_CPUPROFILE.bare and .cairn (read them with go tool pprof).
func profiled(t *testing.T, which string, fn func() perf) perf {
	path := os.Getenv("LOAD_CPUPROFILE")
	if path == "" {
		return fn()
	}
	path += "." + which
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	defer pprof.StopCPUProfile()
	return fn()
}

func TestLoad(t *testing.T) {
	bin, err := exec.LookPath("dnsperf")
	if err != nil {
		t.Skip("dnsperf is not installed (Debian: apt-get install -y dnsperf)")
	}
	seconds, rounds := envInt("LOAD_SECONDS", 10), envInt("LOAD_ROUNDS", 3)
	clients, outstanding := envInt("LOAD_CLIENTS", 4), envInt("LOAD_OUTSTANDING", 100)

	// cairn, with a MULTIVALUE A service of 100 instances registered
	// through the API.
	e := newEnv(t)
	ns := e.privateNS("example.com", 30)
	svc := e.service(ns, svcSpec{name: "web", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	for i := range 100 {
		e.register(svc, fmt.Sprintf("web-%d", i), v4(fmt.Sprintf("10.0.0.%d", i+1)))
	}
	if r := e.udp("web.example.com", dns.TypeA); len(r.Answer) != 8 {
		t.Fatalf("cairn answers %v", r)
	}
	bare := bareServer(t)
	if r := exchange(t, "udp", bare, question("web.example.com", dns.TypeA)); len(r.Answer) != 1 {
		t.Fatalf("the bare server answers %v", r)
	}

	queries := filepath.Join(t.TempDir(), "queries")
	if err := os.WriteFile(queries, []byte("web.example.com A\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var bares, cairns []perf
	var ratios []float64
	for round := range rounds {
		b := profiled(t, "bare", func() perf { return dnsperf(t, bin, bare, queries, seconds, clients, outstanding) })
		time.Sleep(500 * time.Millisecond)
		c := profiled(t, "cairn", func() perf { return dnsperf(t, bin, e.dns, queries, seconds, clients, outstanding) })
		time.Sleep(500 * time.Millisecond)
		t.Logf("round %d: bare miekg/dns %.0f q/s (%v CPU/query), cairn %.0f q/s (%v CPU/query), ratio %.2f",
			round+1, b.qps, b.cpuPerQry, c.qps, c.cpuPerQry, c.qps/b.qps)
		bares, cairns = append(bares, b), append(cairns, c)
		ratios = append(ratios, c.qps/b.qps)
	}
	mean := func(ps []perf) (qps float64, cpu time.Duration) {
		for _, p := range ps {
			qps += p.qps
			cpu += p.cpuPerQry
		}
		return qps / float64(len(ps)), cpu / time.Duration(len(ps))
	}
	bq, bc := mean(bares)
	cq, cc := mean(cairns)
	sort.Float64s(ratios)
	fmt.Printf("dnsperf -l %d -c %d -T 1 -q %d, UDP, %d round(s) of bare then cairn:\n", seconds, clients, outstanding, rounds)
	fmt.Printf("  bare miekg/dns (one fixed A record):           %8.0f queries/s  %6.1fµs server CPU/query\n", bq, us(bc))
	fmt.Printf("  cairn (MULTIVALUE A, 100 instances, 8 random): %8.0f queries/s  %6.1fµs server CPU/query\n", cq, us(cc))
	fmt.Printf("  ratio cairn / bare: %.2f (mean q/s), %.2f (median of rounds), %.2f (inverse CPU per query)\n",
		cq/bq, ratios[len(ratios)/2], float64(bc)/float64(cc))
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
