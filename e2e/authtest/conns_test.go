package authtest_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/cairn-dev/cairn/internal/netlimit/netlimittest"
	"github.com/cairn-dev/cairn/server"
)

// Issue 12: 1,500 connections trickling their requests made a legitimate
// request wait 30 s. One client address now holds at most
// --api-max-conns-per-client connections to the API and
// --dns-max-conns-per-client to DNS over TCP; the others are served.
func TestConnectionCapsPerClient(t *testing.T) {
	t.Parallel()
	srv, _ := withCredsConfig(t, func(c *server.Config) { c.APIMaxConnsPerClient, c.DNSMaxConnsPerClient = 8, 4 }, teamA)
	for _, tc := range []struct {
		what, addr string
		cap        int
		hold       func(net.Conn) // sends what keeps the connection busy
		legit      func(t *testing.T, c net.Conn)
	}{
		{"API", srv.APIAddr(), 8, func(c net.Conn) {
			_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: cairn\r\nX-Amz-Target: Route53AutoNaming_v20170314.ListNamespaces\r\n") // headers never end
		}, func(t *testing.T, c net.Conn) {
			_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: cairn\r\n\r\n")
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("a request from another client: %v %v", resp, err)
			}
			_ = resp.Body.Close()
		}},
		{"DNS over TCP", srv.DNSAddr(), 4, func(net.Conn) {}, func(t *testing.T, c net.Conn) {
			m := new(dns.Msg)
			m.SetQuestion("nothing.test.", dns.TypeA)
			dc := &dns.Conn{Conn: c}
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			if err := dc.WriteMsg(m); err != nil {
				t.Fatal(err)
			}
			in, err := dc.ReadMsg()
			if err != nil || in.Rcode != dns.RcodeRefused {
				t.Fatalf("a query from another client: %v %v", in, err)
			}
		}},
	} {
		t.Run(tc.what, func(t *testing.T) {
			for i := 0; i < tc.cap; i++ {
				c := netlimittest.DialFrom(t, "127.0.0.1", tc.addr)
				tc.hold(c)
				// Each one is open: the server does not close it at once.
				_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
				if _, err := c.Read(make([]byte, 1)); err == nil || !netlimittest.IsTimeout(err) {
					t.Fatalf("connection %d of %d: %v; want it held open", i+1, tc.cap, err)
				}
			}
			// The next one is closed at once (so fast, at times, that the
			// reset reaches the dialer before its connect returns).
			if !netlimittest.Refused(t, "127.0.0.1", tc.addr) {
				t.Fatalf("connection %d from the same address stayed open", tc.cap+1)
			}
			tc.legit(t, netlimittest.DialFrom(t, "127.0.0.2", tc.addr))
		})
	}
}
