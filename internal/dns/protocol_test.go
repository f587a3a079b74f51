package dns_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"
)

// protoEnv is a cairn with one A service, web.example.com.
func protoEnv(t *testing.T) *env {
	e := newEnv(t)
	ns := e.privateNS("example.com", 30)
	svc := e.service(ns, svcSpec{name: "web", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	e.register(svc, "w", v4("192.0.2.1"))
	return e
}

func TestProtocol_EDNS0(t *testing.T) {
	e := protoEnv(t)
	for _, n := range nets {
		r := e.query(n, "web.example.com", dns.TypeA, edns(4096))
		checkAuthoritative(t, r, dns.RcodeSuccess)
		opt := r.IsEdns0()
		if opt == nil {
			t.Fatalf("%s: an EDNS0 query got a reply without OPT", n)
		}
		if opt.Version() != 0 || opt.UDPSize() != 1232 {
			t.Errorf("%s: reply OPT version %d, size %d; want 0 and 1232", n, opt.Version(), opt.UDPSize())
		}
		if len(r.Answer) != 1 {
			t.Errorf("%s: answer %v", n, r.Answer)
		}
		// Without EDNS0, none in the reply.
		if r := e.query(n, "web.example.com", dns.TypeA); r.IsEdns0() != nil {
			t.Errorf("%s: a plain query got an OPT record back", n)
		}
	}
}

func TestProtocol_BADVERS(t *testing.T) {
	e := protoEnv(t)
	for _, n := range nets {
		r := e.query(n, "web.example.com", dns.TypeA, func(m *dns.Msg) {
			m.SetEdns0(1232, false)
			m.IsEdns0().SetVersion(1)
		})
		if r.Rcode != dns.RcodeBadVers {
			t.Fatalf("%s: EDNS version 1: rcode %s, want BADVERS", n, dns.RcodeToString[r.Rcode])
		}
		if opt := r.IsEdns0(); opt == nil || opt.Version() != 0 {
			t.Errorf("%s: BADVERS without an OPT of version 0: %v", n, r)
		}
		if len(r.Answer) != 0 {
			t.Errorf("%s: BADVERS with answers %v", n, r.Answer)
		}
	}
}

func TestProtocol_NOTIMP(t *testing.T) {
	e := protoEnv(t)
	for _, n := range nets {
		for _, op := range []int{dns.OpcodeNotify, dns.OpcodeUpdate, dns.OpcodeStatus, dns.OpcodeIQuery} {
			r := e.query(n, "example.com", dns.TypeSOA, func(m *dns.Msg) { m.Opcode = op })
			if r.Rcode != dns.RcodeNotImplemented {
				t.Errorf("%s opcode %s: rcode %s, want NOTIMP", n, dns.OpcodeToString[op], dns.RcodeToString[r.Rcode])
			}
			if len(r.Answer) != 0 {
				t.Errorf("%s opcode %s: answer %v", n, dns.OpcodeToString[op], r.Answer)
			}
		}
	}
}

func TestProtocol_REFUSEDClassAndTransfers(t *testing.T) {
	e := protoEnv(t)
	for _, n := range nets {
		r := e.query(n, "version.bind", dns.TypeTXT, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS })
		if r.Rcode != dns.RcodeRefused {
			t.Errorf("%s: CHAOS TXT version.bind: rcode %s, want REFUSED", n, dns.RcodeToString[r.Rcode])
		}
		r = e.query(n, "web.example.com", dns.TypeA, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS })
		if r.Rcode != dns.RcodeRefused || len(r.Answer) != 0 {
			t.Errorf("%s: CHAOS A in the zone: rcode %s, answer %v; want REFUSED", n, dns.RcodeToString[r.Rcode], r.Answer)
		}
		// Class ANY is answered as IN.
		r = e.query(n, "web.example.com", dns.TypeA, func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassANY })
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			t.Errorf("%s: class ANY: rcode %s, answer %v", n, dns.RcodeToString[r.Rcode], r.Answer)
		}
		for _, qt := range []uint16{dns.TypeAXFR, dns.TypeIXFR} {
			r := e.query(n, "example.com", qt)
			if r.Rcode != dns.RcodeRefused || len(r.Answer) != 0 {
				t.Errorf("%s: %s: rcode %s, answer %v; want REFUSED", n, dns.TypeToString[qt], dns.RcodeToString[r.Rcode], r.Answer)
			}
		}
	}
}

func TestProtocol_FORMERR(t *testing.T) {
	e := protoEnv(t)
	for _, n := range nets {
		two := question("web.example.com", dns.TypeA)
		two.Question = append(two.Question, dns.Question{Name: "example.com.", Qtype: dns.TypeSOA, Qclass: dns.ClassINET})
		if r := exchange(t, n, e.dns, two); r.Rcode != dns.RcodeFormatError {
			t.Errorf("%s: two questions: rcode %s, want FORMERR", n, dns.RcodeToString[r.Rcode])
		}
		none := question("web.example.com", dns.TypeA)
		none.Question = nil
		if r := exchange(t, n, e.dns, none); r.Rcode != dns.RcodeFormatError {
			t.Errorf("%s: no question: rcode %s, want FORMERR", n, dns.RcodeToString[r.Rcode])
		}
	}
}

// Garbage on either transport is answered FORMERR or dropped, and the
// server goes on answering.
func TestProtocol_MalformedQueries(t *testing.T) {
	e := protoEnv(t)
	good := question("web.example.com", dns.TypeA)
	packed, err := good.Pack()
	if err != nil {
		t.Fatal(err)
	}
	inputs := [][]byte{
		{},
		{0x12},
		packed[:11],                // a short header
		packed[:len(packed)-3],     // a cut question
		append(packed[:2:2], 0x80), // QR set, rest missing
		[]byte(strings.Repeat("\xff", 600)),
		func() []byte { // a compression pointer loop in the question name
			b := append([]byte(nil), packed[:12]...)
			return append(b, 0xc0, 12, 0, 1, 0, 1)
		}(),
		func() []byte { // counts that promise records that are not there
			b := append([]byte(nil), packed...)
			b[7], b[9], b[11] = 5, 5, 5
			return b
		}(),
	}
	for i, in := range inputs {
		conn, err := net.Dial("udp", e.dns)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = conn.Write(in)
		_ = conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		buf := make([]byte, 1500)
		outcome := "dropped"
		if n, err := conn.Read(buf); err == nil {
			r := new(dns.Msg)
			if err := r.Unpack(buf[:n]); err != nil {
				t.Errorf("input %d: unparsable reply %x: %v", i, buf[:n], err)
			} else if r.Rcode != dns.RcodeFormatError && r.Rcode != dns.RcodeNotImplemented {
				t.Errorf("input %d: reply rcode %s, want FORMERR (or none)", i, dns.RcodeToString[r.Rcode])
			}
			outcome = dns.RcodeToString[r.Rcode]
		}
		t.Logf("malformed input %d (%d bytes) over UDP: %s", i, len(in), outcome)
		_ = conn.Close()

		// Over TCP, with the length prefix.
		tc, err := net.Dial("tcp", e.dns)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = tc.Write(append([]byte{byte(len(in) >> 8), byte(len(in))}, in...))
		_ = tc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		_, _ = tc.Read(buf)
		_ = tc.Close()
	}
	for _, n := range nets {
		if r := e.query(n, "web.example.com", dns.TypeA); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
			t.Fatalf("%s: after garbage: %v", n, r)
		}
	}
}

// A query keeps RD as the client set it, and the reply never has RA.
func TestProtocol_NoRecursion(t *testing.T) {
	e := protoEnv(t)
	for _, rd := range []bool{true, false} {
		r := e.udp("web.example.com", dns.TypeA, func(m *dns.Msg) { m.RecursionDesired = rd })
		checkAuthoritative(t, r, dns.RcodeSuccess)
		if r.RecursionDesired != rd {
			t.Errorf("RD %v echoed as %v", rd, r.RecursionDesired)
		}
	}
}

// truncEnv registers 8 instances of an SRV service with long IDs and both
// addresses, so that the answer needs more than 1232 bytes: 8 SRV records
// whose targets are not compressed (RFC 2782) and 16 addresses.
func truncEnv(t *testing.T) (*env, string) {
	e := newEnv(t)
	ns := e.privateNS("trunc.example.com", 30)
	svc := e.service(ns, svcSpec{name: "_big._tcp", records: map[types.RecordType]int64{types.RecordTypeSrv: 60}})
	for i := range 8 {
		id := fmt.Sprintf("instance-%d-%s", i, strings.Repeat("x", 50))
		e.register(svc, id, map[string]string{"AWS_INSTANCE_IPV4": fmt.Sprintf("192.0.2.%d", i+1),
			"AWS_INSTANCE_IPV6": fmt.Sprintf("2001:db8::%d", i+1), "AWS_INSTANCE_PORT": "443"})
	}
	return e, "_big._tcp.trunc.example.com."
}

// rawUDP sends m over UDP and returns the reply and its size on the wire.
func rawUDP(t *testing.T, addr string, m *dns.Msg) (*dns.Msg, int) {
	t.Helper()
	q, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(q); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 65535)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	r := new(dns.Msg)
	if err := r.Unpack(buf[:n]); err != nil {
		t.Fatalf("reply of %d bytes does not parse: %v", n, err)
	}
	return r, n
}

func TestTruncation(t *testing.T) {
	e, name := truncEnv(t)

	// Over TCP the whole answer: 8 SRV records and 16 addresses.
	full := e.query("tcp", name, dns.TypeSRV)
	checkAuthoritative(t, full, dns.RcodeSuccess)
	if full.Truncated || len(full.Answer) != 8 || len(full.Extra) != 16 {
		t.Fatalf("TCP answer: TC %v, %d answers, %d additional; want the whole answer", full.Truncated, len(full.Answer), len(full.Extra))
	}
	full.Compress = true
	whole := full.Len()
	if whole <= 1232 {
		t.Fatalf("the whole answer is only %d bytes; the test needs one larger than 1232", whole)
	}

	// Over UDP without EDNS0: at most 512 bytes, TC set.
	small, smallSize := rawUDP(t, e.dns, question(name, dns.TypeSRV))
	checkAuthoritative(t, small, dns.RcodeSuccess)
	if !small.Truncated {
		t.Errorf("a %d-byte answer went over UDP without TC", whole)
	}
	if smallSize > 512 {
		t.Errorf("UDP answer without EDNS0 is %d bytes, over 512", smallSize)
	}
	if len(small.Answer) >= 8 {
		t.Errorf("truncated answer still has %d SRV records", len(small.Answer))
	}

	// With EDNS0 and a 4096-byte buffer: capped at 1232.
	big, bigSize := rawUDP(t, e.dns, question(name, dns.TypeSRV, edns(4096)))
	checkAuthoritative(t, big, dns.RcodeSuccess)
	if bigSize > 1232 {
		t.Errorf("UDP answer with EDNS0 4096 is %d bytes, over the 1232 cap", bigSize)
	}
	// All 8 SRV records fit and some addresses do not: the answer is
	// complete, so TC stays clear (RFC 2181 §9), and the client looks up
	// the missing addresses itself.
	if len(big.Answer) != 8 || len(big.Extra)-1 >= 16 {
		t.Fatalf("EDNS0 4096: %d SRV and %d addresses; the test expects all SRV records and not all addresses to fit in 1232 bytes",
			len(big.Answer), len(big.Extra)-1)
	}
	if big.Truncated {
		t.Errorf("TC set although only additional records were left out")
	}
	if big.IsEdns0() == nil {
		t.Errorf("truncated EDNS0 answer lost its OPT record")
	}
	// A client that advertises less gets no more than it asked for.
	mid, midSize := rawUDP(t, e.dns, question(name, dns.TypeSRV, edns(800)))
	if midSize > 800 || !mid.Truncated {
		t.Errorf("EDNS0 800: %d bytes, TC %v", midSize, mid.Truncated)
	}
	t.Logf("SRV answer: %d bytes whole over TCP; over UDP %d bytes (%d SRV, TC) without EDNS0, %d bytes (%d SRV, %d additional, no TC) with EDNS0 4096",
		whole, smallSize, len(small.Answer), bigSize, len(big.Answer), len(big.Extra)-1)

	// The smaller answer of one SRV target fits, without TC.
	target := full.Answer[0].(*dns.SRV).Target
	r := e.udp(target, dns.TypeA)
	if r.Truncated || len(r.Answer) != 1 {
		t.Errorf("A at %s: TC %v, answer %v", target, r.Truncated, r.Answer)
	}
}
