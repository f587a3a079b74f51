//go:build unix

package dns_test

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	cairndns "github.com/cairn-dev/cairn/internal/dns"
	"github.com/cairn-dev/cairn/internal/metrics"
)

// BenchmarkAnswerMultivalueA is the handler alone answering an A query
// for a MULTIVALUE service with 100 healthy instances: 8 random records.
func BenchmarkAnswerMultivalueA(b *testing.B) {
	fx := newRegistry(b)
	fx.multivalueA(100)
	h := cairndns.NewHandler(fx.r, "")
	req := new(dns.Msg)
	req.SetQuestion("web.example.com.", dns.TypeA)
	if r := h.Answer(req, true); len(r.Answer) != 8 {
		b.Fatalf("answer %v", r)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.Answer(req, true)
	}
}

// BenchmarkServeDNSMultivalueA is the same query through ServeDNS, the
// path the server takes (replies built in pooled buffers), into a writer
// that packs the reply as the server's does.
func BenchmarkServeDNSMultivalueA(b *testing.B) { benchServeDNS(b, nil) }

// BenchmarkServeDNSMultivalueAMetrics is BenchmarkServeDNSMultivalueA
// with the Prometheus metrics on, as `cairn serve` runs by default.
func BenchmarkServeDNSMultivalueAMetrics(b *testing.B) { benchServeDNS(b, metrics.New().DNS()) }

func benchServeDNS(b *testing.B, obs cairndns.Observer) {
	fx := newRegistry(b)
	fx.multivalueA(100)
	h := cairndns.NewHandlerConfig(fx.r, cairndns.HandlerConfig{Observer: obs})
	req := new(dns.Msg)
	req.SetQuestion("web.example.com.", dns.TypeA)
	w := &recorder{udp: true}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		h.ServeDNS(w, req)
	}
	reportCPU(b, cpu)
	if w.err != nil || len(w.reply) == 0 {
		b.Fatalf("reply %x, %v", w.reply, w.err)
	}
}

// BenchmarkServeDNSParallel is ServeDNS from every core at once, as the
// UDP server runs it; BenchmarkServeDNSParallelMetrics the same with the
// metrics on (every core updating the same counters).
func BenchmarkServeDNSParallel(b *testing.B) { benchServeDNSParallel(b, nil) }

func BenchmarkServeDNSParallelMetrics(b *testing.B) { benchServeDNSParallel(b, metrics.New().DNS()) }

func benchServeDNSParallel(b *testing.B, obs cairndns.Observer) {
	fx := newRegistry(b)
	fx.multivalueA(100)
	h := cairndns.NewHandlerConfig(fx.r, cairndns.HandlerConfig{Observer: obs})
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	defer reportCPU(b, cpu)
	b.RunParallel(func(pb *testing.PB) {
		req := new(dns.Msg)
		req.SetQuestion("web.example.com.", dns.TypeA)
		w := &recorder{udp: true}
		for pb.Next() {
			h.ServeDNS(w, req)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "queries/s")
}

// BenchmarkAnswerMultivalueAParallel is the same from every core at once,
// as the UDP server runs it.
func BenchmarkAnswerMultivalueAParallel(b *testing.B) {
	fx := newRegistry(b)
	fx.multivalueA(100)
	h := cairndns.NewHandler(fx.r, "")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		req := new(dns.Msg)
		req.SetQuestion("web.example.com.", dns.TypeA)
		for pb.Next() {
			h.Answer(req, true)
		}
	})
}

// BenchmarkServeUDP is a query and its answer through the real UDP
// listener, from a miekg/dns client on one socket.
func BenchmarkServeUDP(b *testing.B) {
	fx := newRegistry(b)
	fx.multivalueA(100)
	srv, err := cairndns.Listen("127.0.0.1:0", cairndns.NewHandler(fx.r, ""))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	c := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	conn, err := c.Dial(srv.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	req := new(dns.Msg)
	req.SetQuestion("web.example.com.", dns.TypeA)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r, _, err := c.ExchangeWithConn(req, conn)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Answer) != 8 {
			b.Fatalf("answer %v", r)
		}
	}
}

// cpuTime is the CPU time the process has used, user and system: a
// benchmark reports it per operation (cpu-ns/op), which other work on a
// shared machine disturbs far less than the wall-clock ns/op.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per operation since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}
