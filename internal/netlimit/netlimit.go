// Package netlimit caps how many connections each client address holds
// open on a listener, so that one client can't take every file descriptor
// and every request slot of a server (slow bodies, idle connections) from
// the others.
//
// # Basics
//
// PerClient wraps a net.Listener: a connection beyond the cap of its
// remote address is closed as soon as it is accepted (with a reset, so it
// leaves nothing in TIME_WAIT), and Accept goes on to the next. A
// connection counts until it is closed.
//
// # Caveats
//
// Clients are told apart by IP address only: clients behind one NAT or
// proxy share its cap.
package netlimit

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Listener is a net.Listener with a cap per client address.
type Listener struct {
	net.Listener
	max     int
	mu      sync.Mutex
	open    map[netip.Addr]int
	refused atomic.Int64
}

// PerClient returns ln with at most max connections open per client
// address; max <= 0 returns ln unchanged.
func PerClient(ln net.Listener, max int) net.Listener {
	if max <= 0 {
		return ln
	}
	return &Listener{Listener: ln, max: max, open: map[netip.Addr]int{}}
}

// Accept returns the next connection within its client's cap.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := clientAddr(c.RemoteAddr())
		l.mu.Lock()
		if l.open[ip] >= l.max {
			l.mu.Unlock()
			l.refused.Add(1)
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = c.Close()
			continue
		}
		l.open[ip]++
		l.mu.Unlock()
		return &conn{Conn: c, l: l, ip: ip}, nil
	}
}

// Refused is how many connections were closed for being over their
// client's cap.
func (l *Listener) Refused() int64 { return l.refused.Load() }

// Open is how many connections ip holds open.
func (l *Listener) Open(ip netip.Addr) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open[ip.Unmap()]
}

func (l *Listener) release(ip netip.Addr) {
	l.mu.Lock()
	if n := l.open[ip] - 1; n > 0 {
		l.open[ip] = n
	} else {
		delete(l.open, ip)
	}
	l.mu.Unlock()
}

func clientAddr(a net.Addr) netip.Addr {
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

type conn struct {
	net.Conn
	l    *Listener
	ip   netip.Addr
	once sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
}
