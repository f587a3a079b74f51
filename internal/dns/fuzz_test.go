package dns_test

import (
	"bytes"
	"net"
	"testing"

	"github.com/miekg/dns"

	cairndns "github.com/cairn-dev/cairn/internal/dns"
)

// fuzzSeeds are queries FuzzHandler starts from.
func fuzzSeeds() []*dns.Msg {
	var out []*dns.Msg
	for _, name := range []string{"web.example.com.", "WEB.example.com.", "_http._tcp.example.com.", "i-1._http._tcp.example.com.",
		"node.a._http._tcp.example.com.", `user\@host._http._tcp.example.com.`, "alias.example.com.", "example.com.", "nope.example.com.",
		"_tcp.example.com.", "dev.example.com.", "example.org.", ".", `foo\.example.com.`, `\000.example.com.`} {
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeSRV, dns.TypeCNAME, dns.TypeANY, dns.TypeSOA, dns.TypeNS, dns.TypeTXT, dns.TypeAXFR} {
			m := new(dns.Msg)
			m.SetQuestion(name, qt)
			out = append(out, m)
		}
	}
	m := new(dns.Msg)
	m.SetQuestion("_http._tcp.example.com.", dns.TypeSRV)
	m.SetEdns0(4096, true)
	out = append(out, m)
	m = m.Copy()
	m.IsEdns0().SetVersion(1)
	out = append(out, m)
	m = new(dns.Msg)
	m.SetQuestion("example.com.", dns.TypeSOA)
	m.Opcode = dns.OpcodeNotify
	out = append(out, m)
	m = new(dns.Msg)
	m.SetQuestion("version.bind.", dns.TypeTXT)
	m.Question[0].Qclass = dns.ClassCHAOS
	out = append(out, m)
	m = new(dns.Msg)
	m.SetQuestion("web.example.com.", dns.TypeA)
	m.Question = append(m.Question, m.Question[0])
	out = append(out, m)
	return out
}

// recorder is a ResponseWriter that packs the reply, as the server does,
// and keeps the bytes.
type recorder struct {
	udp   bool
	reply []byte
	err   error
}

func (r *recorder) LocalAddr() net.Addr {
	if r.udp {
		return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
	}
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
}
func (r *recorder) RemoteAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 5353} }
func (r *recorder) WriteMsg(m *dns.Msg) error {
	r.reply, r.err = m.Pack()
	return r.err
}
func (r *recorder) Write(b []byte) (int, error) {
	r.reply = append([]byte(nil), b...)
	return len(b), nil
}
func (r *recorder) Close() error        { return nil }
func (r *recorder) TsigStatus() error   { return nil }
func (r *recorder) TsigTimersOnly(bool) {}
func (r *recorder) Hijack()             {}

// serve runs req through ServeDNS (the pooled path) and returns the
// reply's bytes.
func serve(t *testing.T, h *cairndns.Handler, req *dns.Msg, udp bool) []byte {
	t.Helper()
	w := &recorder{udp: udp}
	h.ServeDNS(w, req)
	if w.err != nil {
		t.Fatalf("reply to %v does not pack: %v", req, w.err)
	}
	if w.reply == nil {
		t.Fatalf("no reply to %v", req)
	}
	return w.reply
}

// checkReply checks a packed reply to req.
func checkReply(t *testing.T, req *dns.Msg, b []byte, udp bool) *dns.Msg {
	t.Helper()
	reply := new(dns.Msg)
	if err := reply.Unpack(b); err != nil {
		t.Fatalf("reply does not unpack: %v", err)
	}
	if !reply.Response || reply.Id != req.Id {
		t.Fatalf("reply QR %v, ID %d; query ID %d", reply.Response, reply.Id, req.Id)
	}
	if reply.RecursionAvailable {
		t.Fatalf("RA set")
	}
	if udp {
		limit := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil && opt.Version() == 0 {
			limit = max(limit, min(int(opt.UDPSize()), 1232))
		}
		if len(b) > limit {
			t.Fatalf("UDP reply of %d bytes, over the client's %d", len(b), limit)
		}
	}
	if reply.Rcode == dns.RcodeSuccess && reply.Opcode == dns.OpcodeQuery && len(req.Question) == 1 &&
		len(reply.Answer) == 0 && !reply.Truncated && (len(reply.Ns) != 1 || reply.Ns[0].Header().Rrtype != dns.TypeSOA) {
		t.Fatalf("NODATA without the zone's SOA: %v", reply)
	}
	if reply.Rcode == dns.RcodeNameError && (len(reply.Ns) != 1 || reply.Ns[0].Header().Rrtype != dns.TypeSOA) && !reply.Truncated {
		t.Fatalf("NXDOMAIN without the zone's SOA: %v", reply)
	}
	return reply
}

// FuzzHandler feeds random messages to the handler: whatever parses as a
// DNS message must get a reply, without panicking, that packs, matches
// the query's ID, and over UDP fits the size the client can take; through
// Answer and through ServeDNS, whose pooled buffers must carry nothing
// over to the next reply.
func FuzzHandler(f *testing.F) {
	fx := newRegistry(f)
	fx.everything()
	h := cairndns.NewHandler(fx.r, "")
	for _, m := range fuzzSeeds() {
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// probe has one answer, always the same: what ServeDNS answers it
	// after any other query must be exactly that.
	probe := new(dns.Msg)
	probe.SetQuestion("dual.example.com.", dns.TypeAAAA)
	want := map[bool][]byte{}
	for _, udp := range []bool{true, false} {
		b, err := h.Answer(probe, udp).Pack()
		if err != nil {
			f.Fatal(err)
		}
		want[udp] = b
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		req := new(dns.Msg)
		if err := req.Unpack(data); err != nil {
			return
		}
		for _, udp := range []bool{true, false} {
			b, err := h.Answer(req, udp).Pack()
			if err != nil {
				t.Fatalf("reply to %v does not pack: %v", req, err)
			}
			checkReply(t, req, b, udp)
			checkReply(t, req, serve(t, h, req, udp), udp)
			if got := serve(t, h, probe, udp); !bytes.Equal(got, want[udp]) {
				t.Fatalf("after %v, ServeDNS answered the probe\n%x\nnot\n%x", req, got, want[udp])
			}
		}
	})
}
