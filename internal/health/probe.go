package health

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-dev/cairn/internal/registry"
)

// Timeouts are Route 53's: an HTTP or HTTPS check must connect within 4 s
// and get a status within 2 s more; a TCP check must connect within 10 s.
type Timeouts struct {
	HTTPConnect  time.Duration
	HTTPResponse time.Duration
	TCPConnect   time.Duration
}

// DefaultTimeouts returns Route 53's timeouts.
func DefaultTimeouts() Timeouts {
	return Timeouts{HTTPConnect: 4 * time.Second, HTTPResponse: 2 * time.Second, TCPConnect: 10 * time.Second}
}

// maxStatusLine bounds what a probe reads of a response: the status line
// must fit in it; headers and body are never read.
const maxStatusLine = 4096

// userAgent is what Route 53's checkers send.
const userAgent = "Amazon Route 53 Health Check Service; ref:cairn"

// probe checks one target once and returns nil when it is healthy.
//
// The HTTP client is written here rather than taken from net/http because
// a health check wants what net/http's client hides: a new connection per
// check, closed with a reset (no TIME_WAIT left behind by thousands of
// checks a second), separate connect and response deadlines, no redirects,
// and nothing read beyond the status line.
func probe(ctx context.Context, t registry.HealthTarget, to Timeouts) error {
	if !t.Addr.IsValid() {
		return errors.New("the instance has no AWS_INSTANCE_IPV4 or AWS_INSTANCE_IPV6 with an AWS_INSTANCE_PORT")
	}
	connect := to.HTTPConnect
	if t.Type == "TCP" {
		connect = to.TCPConnect
	}
	d := net.Dialer{Timeout: connect}
	conn, err := d.DialContext(ctx, "tcp", t.Addr.String())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	defer conn.Close()
	if t.Type == "TCP" {
		return nil
	}
	if err := conn.SetDeadline(time.Now().Add(to.HTTPResponse)); err != nil {
		return err
	}
	if t.Type == "HTTPS" {
		tlsConn := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: serverName(t)}) // Route 53 does not validate certificates
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("tls handshake: %w", err)
		}
		conn = tlsConn
	}
	req := "GET " + requestPath(t.Path) + " HTTP/1.1\r\nHost: " + hostHeader(t) + "\r\nUser-Agent: " + userAgent +
		"\r\nAccept: */*\r\nConnection: close\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		return fmt.Errorf("send request: %w", err)
	}
	line, err := bufio.NewReaderSize(conn, maxStatusLine).ReadSlice('\n')
	if err != nil {
		return fmt.Errorf("read status: %w", err)
	}
	code, err := statusCode(line)
	if err != nil {
		return err
	}
	if code < 200 || code >= 400 {
		return fmt.Errorf("status %d", code)
	}
	return nil
}

// statusCode parses "HTTP/1.x NNN reason".
func statusCode(line []byte) (int, error) {
	s := strings.TrimRight(string(line), "\r\n")
	proto, rest, ok := strings.Cut(s, " ")
	if !ok || !strings.HasPrefix(proto, "HTTP/") {
		return 0, fmt.Errorf("not an HTTP status line: %.40q", s)
	}
	code, _, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(code)
	if err != nil || len(code) != 3 {
		return 0, fmt.Errorf("not an HTTP status code: %.10q", code)
	}
	return n, nil
}

func requestPath(p string) string {
	if p == "" {
		return "/"
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return strings.Map(func(r rune) rune { // never let a path break the request line
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return r
	}, p)
}

func hostHeader(t registry.HealthTarget) string {
	if t.Host != "" && !strings.ContainsAny(t.Host, " \r\n") {
		return t.Host
	}
	return addrHost(t.Addr)
}

func serverName(t registry.HealthTarget) string {
	if t.Host != "" {
		return t.Host
	}
	return t.Addr.Addr().String()
}

func addrHost(a netip.AddrPort) string { return a.String() }
