package dns_test

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"

	cairndns "github.com/cairn-dev/cairn/internal/dns"
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
func BenchmarkServeDNSMultivalueA(b *testing.B) {
	fx := newRegistry(b)
	fx.multivalueA(100)
	h := cairndns.NewHandler(fx.r, "")
	req := new(dns.Msg)
	req.SetQuestion("web.example.com.", dns.TypeA)
	w := &recorder{udp: true}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		h.ServeDNS(w, req)
	}
	if w.err != nil || len(w.reply) == 0 {
		b.Fatalf("reply %x, %v", w.reply, w.err)
	}
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
