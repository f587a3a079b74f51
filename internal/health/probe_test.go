package health

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/registry"
)

func TestStatusCode(t *testing.T) {
	for _, tc := range []struct {
		line string
		want int // 0: an error
	}{
		{"HTTP/1.1 200 OK\r\n", 200},
		{"HTTP/1.0 301 Moved Permanently\r\n", 301},
		{"HTTP/1.1 204\r\n", 204}, // no reason phrase
		{"HTTP/1.1 399 Odd\n", 399},
		{"HTTP/2 503 Service Unavailable\r\n", 503},
		{"HTTP/1.1 404 Not Found", 404},
		{"HTTP/1.1 999 Whatever\r\n", 999},
		{"HTTP/1.1 20 Short\r\n", 0},
		{"HTTP/1.1 2000 Long\r\n", 0},
		{"HTTP/1.1 abc\r\n", 0},
		{"HTTP/1.1 200OK\r\n", 0},
		{"HTTP/1.1  200 OK\r\n", 0}, // two spaces
		{"HTTP/1.1\r\n", 0},
		{"ICY 200 OK\r\n", 0},
		{"http/1.1 200 OK\r\n", 0},
		{"SSH-2.0-OpenSSH_9.6\r\n", 0},
		{"\r\n", 0},
		{"", 0},
		{"\x16\x03\x01\x00\x02 200 OK\r\n", 0}, // a TLS record
	} {
		got, err := statusCode([]byte(tc.line))
		if tc.want == 0 {
			if err == nil {
				t.Errorf("statusCode(%q) = %d, want an error", tc.line, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("statusCode(%q) = %d, %v; want %d", tc.line, got, err, tc.want)
		}
	}
	// A signed "code" parses, but never as healthy.
	for _, line := range []string{"HTTP/1.1 +99 OK\r\n", "HTTP/1.1 -99 OK\r\n", "HTTP/1.1 +20 OK\r\n"} {
		if code, err := statusCode([]byte(line)); err == nil && code >= 200 && code < 400 {
			t.Errorf("statusCode(%q) = %d: healthy", line, code)
		}
	}
}

func TestRequestPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/health", "/health"},
		{"health", "/health"},
		{"/a/b?c=d&e=f", "/a/b?c=d&e=f"},
		{"?x=1", "/?x=1"},
		{"/with space", "/withspace"},
		{"/a\r\nX-Injected: 1", "/aX-Injected:1"},
		{"/a\r\n\r\nGET /b HTTP/1.1", "/aGET/bHTTP/1.1"},
		{"/tab\there", "/tabhere"},
		{"/nul\x00del\x7f", "/nuldel"},
		{"/a%20b", "/a%20b"},
		{" /lead", "//lead"}, // the space goes after the slash is added
		{"/é", "/é"},
	} {
		got := requestPath(tc.in)
		if got != tc.want {
			t.Errorf("requestPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if strings.ContainsAny(got, " \r\n\t\x00") || !strings.HasPrefix(got, "/") {
			t.Errorf("requestPath(%q) = %q can break the request line", tc.in, got)
		}
	}
}

func TestHostHeaderAndServerName(t *testing.T) {
	v4 := netip.MustParseAddrPort("192.0.2.7:8080")
	v6 := netip.MustParseAddrPort("[2001:db8::1]:443")
	for _, tc := range []struct {
		host       string
		addr       netip.AddrPort
		wantHost   string
		wantServer string
	}{
		{"web.example.com", v4, "web.example.com", "web.example.com"},
		{"", v4, "192.0.2.7:8080", "192.0.2.7"},
		{"", v6, "[2001:db8::1]:443", "2001:db8::1"},
		{"web.example.com\r\nX-Injected: 1", v4, "192.0.2.7:8080", "web.example.com\r\nX-Injected: 1"},
		{"web example", v4, "192.0.2.7:8080", "web example"},
		{"web.example.com\n", v6, "[2001:db8::1]:443", "web.example.com\n"},
	} {
		tg := registry.HealthTarget{Host: tc.host, Addr: tc.addr}
		if got := hostHeader(tg); got != tc.wantHost {
			t.Errorf("hostHeader(%q, %v) = %q, want %q", tc.host, tc.addr, got, tc.wantHost)
		}
		if got := serverName(tg); got != tc.wantServer {
			t.Errorf("serverName(%q, %v) = %q, want %q", tc.host, tc.addr, got, tc.wantServer)
		}
	}
}

// rawServer runs handle on every connection to a loopback listener.
func rawServer(t *testing.T, handle func(net.Conn)) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	return netip.MustParseAddrPort(ln.Addr().String())
}

// readRequest reads a request's header, up to the blank line.
func readRequest(c net.Conn) string {
	br := bufio.NewReader(c)
	var b strings.Builder
	for {
		l, err := br.ReadString('\n')
		b.WriteString(l)
		if err != nil || l == "\r\n" {
			return b.String()
		}
	}
}

func closedPort(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort(ln.Addr().String())
	ln.Close()
	return addr
}

var fastTimeouts = Timeouts{HTTPConnect: time.Second, HTTPResponse: 300 * time.Millisecond, TCPConnect: time.Second}

// TestProbeRequest: the exact bytes of a probe, with a hostile path that
// must not add a header.
func TestProbeRequest(t *testing.T) {
	got := make(chan string, 1)
	addr := rawServer(t, func(c net.Conn) {
		got <- readRequest(c)
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\n\r\n"))
	})
	tg := registry.HealthTarget{Type: "HTTP", Path: "/ready\r\nX-Injected: 1", Host: "web.example.com", Addr: addr}
	if err := probe(context.Background(), tg, fastTimeouts); err != nil {
		t.Fatal(err)
	}
	want := "GET /readyX-Injected:1 HTTP/1.1\r\nHost: web.example.com\r\nUser-Agent: " + userAgent +
		"\r\nAccept: */*\r\nConnection: close\r\n\r\n"
	if r := <-got; r != want {
		t.Errorf("the probe sent\n%q\nwant\n%q", r, want)
	}
}

func TestProbe(t *testing.T) {
	answer := func(resp string) func(net.Conn) {
		return func(c net.Conn) {
			readRequest(c)
			_, _ = c.Write([]byte(resp))
		}
	}
	endless := func(c net.Conn) { // a status line, then a body that never ends
		readRequest(c)
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"))
		chunk := []byte(strings.Repeat("x", 64<<10))
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	}
	silent := func(c net.Conn) { _, _ = c.Read(make([]byte, 1<<16)); _, _ = c.Read(make([]byte, 1)) }
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS.ServerName != "secure.example.com" {
			w.WriteHeader(http.StatusMisdirectedRequest)
		}
	}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	tlsAddr := netip.MustParseAddrPort(tlsSrv.Listener.Addr().String())
	plainSrv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(plainSrv.Close)
	plainAddr := netip.MustParseAddrPort(plainSrv.Listener.Addr().String())

	for _, tc := range []struct {
		name    string
		typ     string
		host    string
		addr    netip.AddrPort
		healthy bool
	}{
		{"200", "HTTP", "", rawServer(t, answer("HTTP/1.1 200 OK\r\n\r\n")), true},
		{"LF only", "HTTP", "", rawServer(t, answer("HTTP/1.0 200 OK\n\n")), true},
		{"302", "HTTP", "", rawServer(t, answer("HTTP/1.1 302 Found\r\nLocation: http://192.0.2.1/\r\n\r\n")), true},
		{"199", "HTTP", "", rawServer(t, answer("HTTP/1.1 199 Odd\r\n\r\n")), false},
		{"400", "HTTP", "", rawServer(t, answer("HTTP/1.1 400 Bad Request\r\n\r\n")), false},
		{"500", "HTTP", "", rawServer(t, answer("HTTP/1.1 500 Oops\r\n\r\n")), false},
		{"endless body", "HTTP", "", rawServer(t, endless), true},
		{"status line too long", "HTTP", "", rawServer(t, answer("HTTP/1.1 200 "+strings.Repeat("O", 2*maxStatusLine)+"\r\n\r\n")), false},
		{"garbage", "HTTP", "", rawServer(t, answer("hello\r\n")), false},
		{"no answer, closed", "HTTP", "", rawServer(t, func(net.Conn) {}), false},
		{"no answer, open", "HTTP", "", rawServer(t, silent), false},
		{"no newline", "HTTP", "", rawServer(t, answer("HTTP/1.1 200 OK")), false},
		{"closed port", "HTTP", "", closedPort(t), false},
		{"HTTPS self-signed", "HTTPS", "secure.example.com", tlsAddr, true},
		{"HTTPS wrong name", "HTTPS", "other.example.com", tlsAddr, false}, // the server checks SNI here
		{"HTTPS to plain HTTP", "HTTPS", "secure.example.com", plainAddr, false},
		{"HTTPS silent handshake", "HTTPS", "secure.example.com", rawServer(t, silent), false},
		{"HTTP to HTTPS", "HTTP", "", tlsAddr, false},
		{"TCP open", "TCP", "", rawServer(t, func(net.Conn) {}), true},
		{"TCP to HTTP 500", "TCP", "", rawServer(t, answer("HTTP/1.1 500 Oops\r\n\r\n")), true},
		{"TCP closed port", "TCP", "", closedPort(t), false},
		{"no address", "HTTP", "", netip.AddrPort{}, false},
		{"TCP no address", "TCP", "", netip.AddrPort{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := registry.HealthTarget{Type: tc.typ, Path: "/", Host: tc.host, Addr: tc.addr}
			start := time.Now()
			err := probe(context.Background(), tg, fastTimeouts)
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("the probe took %v", took)
			}
			if (err == nil) != tc.healthy {
				t.Errorf("probe = %v, want healthy %v", err, tc.healthy)
			}
		})
	}
}

// TestProbeDeadlines: a target that never answers fails after the
// response timeout; a cancelled context fails at once.
func TestProbeDeadlines(t *testing.T) {
	t.Parallel()
	silent := rawServer(t, func(c net.Conn) { _, _ = c.Read(make([]byte, 1<<16)); _, _ = c.Read(make([]byte, 1)) })
	start := time.Now()
	err := probe(context.Background(), registry.HealthTarget{Type: "HTTP", Path: "/", Addr: silent}, fastTimeouts)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("probe of a silent target = %v, want a timeout", err)
	}
	if took := time.Since(start); took < fastTimeouts.HTTPResponse-10*time.Millisecond {
		t.Errorf("the probe gave up after %v, before the response timeout %v", took, fastTimeouts.HTTPResponse)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := probe(ctx, registry.HealthTarget{Type: "TCP", Addr: silent}, fastTimeouts); err == nil {
		t.Error("a probe with a cancelled context succeeded")
	}
}

func TestDefaultTimeouts(t *testing.T) {
	want := Timeouts{HTTPConnect: 4 * time.Second, HTTPResponse: 2 * time.Second, TCPConnect: 10 * time.Second}
	if got := DefaultTimeouts(); got != want {
		t.Errorf("DefaultTimeouts() = %+v, want Route 53's %+v", got, want)
	}
	if c := New(nil, Config{}); c.cfg.Interval != 30*time.Second || c.cfg.Timeouts != want || c.cfg.Concurrency <= 0 {
		t.Errorf("New with a zero Config uses %+v", c.cfg)
	}
}
