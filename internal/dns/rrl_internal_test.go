package dns

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestRRLConfigCheck(t *testing.T) {
	for _, tc := range []struct {
		c    RRLConfig
		want bool
	}{
		{RRLConfig{Rate: 0, Slip: 2, Window: 15 * time.Second}, true},
		{RRLConfig{Rate: 20, Slip: 0, Window: time.Second}, true},
		{RRLConfig{Rate: 1_000_000, Slip: 10, Window: time.Hour}, true},
		{RRLConfig{Rate: -1, Slip: 2, Window: 15 * time.Second}, false},
		{RRLConfig{Rate: 1_000_001, Slip: 2, Window: 15 * time.Second}, false},
		{RRLConfig{Rate: 20, Slip: 11, Window: 15 * time.Second}, false},
		{RRLConfig{Rate: 20, Slip: -1, Window: 15 * time.Second}, false},
		{RRLConfig{Rate: 20, Slip: 2, Window: 0}, false},
		{RRLConfig{Rate: 20, Slip: 2, Window: 2 * time.Hour}, false},
	} {
		if err := tc.c.Check(); (err == nil) != tc.want {
			t.Errorf("%+v: %v; want ok %v", tc.c, err, tc.want)
		}
	}
	if _, err := NewRateLimiter(RRLConfig{Slip: 2, Window: time.Second}); err == nil {
		t.Error("a limiter of rate 0 was made")
	}
}

// The table never grows: a set full of busy keys gives way to a new key
// by dropping its least recently used entry, whose next response starts
// a full bucket again.
func TestRRLTableIsBounded(t *testing.T) {
	var s rrlSet
	for k := uint64(1); k <= rrlWays; k++ {
		s.find(k, int64(k), 5)
	}
	s.find(1, 100, 5).last = 100 // 1 is the most recent now; 2 the oldest
	e := s.find(99, 200, 5)
	if e.key != 99 || e.balance != 5 {
		t.Fatalf("new entry %+v", e)
	}
	for _, x := range s.e {
		if x.key == 2 {
			t.Errorf("the least recently used key survived: %+v", s.e)
		}
	}
}

// Case does not make a new response, and sources of one /24 or /56 share
// one entry; other prefixes don't.
func TestRRLKey(t *testing.T) {
	l, err := NewRateLimiter(RRLConfig{Rate: 1, Slip: 2, Window: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	reply := func(name string) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET}, A: net.IPv4(10, 0, 0, 1)}}
		return m
	}
	key := func(ip, name string) uint64 { return l.key(&net.UDPAddr{IP: net.ParseIP(ip)}, reply(name)) }
	same := [][2][2]string{
		{{"192.0.2.1", "web.corp.test."}, {"192.0.2.200", "WEB.Corp.Test."}},
		{{"192.0.2.1", "web.corp.test."}, {"::ffff:192.0.2.9", "web.corp.test."}},
		{{"2001:db8:0:ff::1", "a.test."}, {"2001:db8:0:ff:1::2", "a.test."}},
	}
	for _, p := range same {
		if key(p[0][0], p[0][1]) != key(p[1][0], p[1][1]) {
			t.Errorf("%v and %v: different entries", p[0], p[1])
		}
	}
	differ := [][2][2]string{
		{{"192.0.2.1", "web.corp.test."}, {"192.0.3.1", "web.corp.test."}},
		{{"192.0.2.1", "web.corp.test."}, {"192.0.2.1", "api.corp.test."}},
		{{"2001:db8:0:ff::1", "a.test."}, {"2001:db8:0:100::1", "a.test."}},
	}
	for _, p := range differ {
		if key(p[0][0], p[0][1]) == key(p[1][0], p[1][1]) {
			t.Errorf("%v and %v: one entry", p[0], p[1])
		}
	}
}
