package netlimit

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/netlimit/netlimittest"
)

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
		netlimittest.DialFrom(t, "127.0.0.1", addr)
		held = append(held, <-accepted)
	}
	// The 4th is reset as soon as it is accepted, at times before the
	// dialer's connect returns.
	if !netlimittest.Refused(t, "127.0.0.1", addr) {
		t.Fatal("a 4th connection from the same address stayed open")
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
	netlimittest.DialFrom(t, "127.0.0.2", addr)
	select {
	case c := <-accepted:
		defer c.Close()
	case <-time.After(5 * time.Second):
		t.Fatal("a connection from another address was not accepted")
	}
	// A closed connection frees its slot, once however often it is closed.
	_ = held[0].Close()
	_ = held[0].Close()
	netlimittest.DialFrom(t, "127.0.0.1", addr)
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
