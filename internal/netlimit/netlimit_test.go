package netlimit

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// dialFrom connects to addr from the loopback address src.
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// closedByPeer reports whether the server closed c (a read ends at once).
func closedByPeer(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.Read(make([]byte, 1))
	return err == io.EOF || err != nil && !isTimeout(err)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestPerClient(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := PerClient(raw, 3).(*Listener)
	defer ln.Close()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	addr := raw.Addr().String()
	var held []net.Conn
	for range 3 {
		dialFrom(t, "127.0.0.1", addr)
		held = append(held, <-accepted)
	}
	// The 4th is reset as soon as it is accepted, at times before the
	// dialer's connect returns.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.1")}, Timeout: 5 * time.Second}
	over, err := d.Dial("tcp", addr)
	switch {
	case err == nil:
		defer over.Close()
		if !closedByPeer(over) {
			t.Fatal("a 4th connection from the same address stayed open")
		}
	case !errors.Is(err, syscall.ECONNRESET):
		t.Fatalf("a 4th connection: %v", err)
	}
	// The refusal is counted once Accept has seen it.
	deadline := time.Now().Add(5 * time.Second)
	for ln.Refused() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if ln.Refused() != 1 || ln.Open(netip.MustParseAddr("127.0.0.1")) != 3 {
		t.Errorf("refused %d, open %d; want 1 and 3", ln.Refused(), ln.Open(netip.MustParseAddr("127.0.0.1")))
	}
	// Another client address has its own cap.
	dialFrom(t, "127.0.0.2", addr)
	select {
	case c := <-accepted:
		defer c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("a connection from another address was not accepted")
	}
	// A closed connection frees its slot, once however often it is closed.
	_ = held[0].Close()
	_ = held[0].Close()
	dialFrom(t, "127.0.0.1", addr)
	select {
	case c := <-accepted:
		defer c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("no slot after a close")
	}
	if n := ln.Open(netip.MustParseAddr("127.0.0.1")); n != 3 {
		t.Errorf("open %d after a close and a new connection; want 3", n)
	}
}

func TestPerClientOff(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if PerClient(raw, 0) != raw {
		t.Error("a cap of 0 wrapped the listener")
	}
}
