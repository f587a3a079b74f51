package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/miekg/dns"

	"github.com/cairn-dev/cairn/internal/netlimit"
)

// Server serves a Handler over UDP and TCP at one address.
type Server struct {
	udp, tcp *dns.Server
	addr     string
	errs     chan error
}

// Options tune a Server.
type Options struct {
	// MaxTCPConnsPerClient caps the TCP connections each client address
	// holds open; 0 means no cap.
	MaxTCPConnsPerClient int
}

// Listen binds UDP and TCP at addr (host:port; port 0 picks a port free
// for both) and starts serving h.
func Listen(addr string, h dns.Handler) (*Server, error) {
	return ListenWith(addr, h, Options{})
}

// ListenWith is Listen with options.
func ListenWith(addr string, h dns.Handler, o Options) (*Server, error) {
	pc, ln, err := bind(addr)
	if err != nil {
		return nil, err
	}
	ln = netlimit.PerClient(ln, o.MaxTCPConnsPerClient)
	s := &Server{
		udp:  &dns.Server{PacketConn: pc, Handler: h, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second},
		tcp:  &dns.Server{Listener: ln, Handler: h, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: func() time.Duration { return 10 * time.Second }},
		addr: pc.LocalAddr().String(),
		errs: make(chan error, 2),
	}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { s.errs <- srv.ActivateAndServe() }()
		select {
		case <-started:
		case err := <-s.errs:
			_ = pc.Close()
			_ = ln.Close()
			return nil, fmt.Errorf("dns: serve on %s: %w", addr, err)
		}
	}
	return s, nil
}

// bind opens UDP and TCP on the same port; with port 0 it retries until
// the port UDP got is free for TCP too.
func bind(addr string) (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("dns: listen on udp %s: %w", addr, err)
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		_ = pc.Close()
		lastErr = err
		if _, port, _ := net.SplitHostPort(addr); port != "0" {
			break
		}
	}
	return nil, nil, fmt.Errorf("dns: listen on tcp %s: %w", addr, lastErr)
}

// Addr is the address the server listens on, for UDP and TCP.
func (s *Server) Addr() string { return s.addr }

// Shutdown stops both listeners, waiting for queries in flight until ctx
// ends.
func (s *Server) Shutdown(ctx context.Context) error {
	return errors.Join(s.udp.ShutdownContext(ctx), s.tcp.ShutdownContext(ctx))
}
