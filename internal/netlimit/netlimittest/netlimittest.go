// Package netlimittest holds what the tests of per-client connection caps
// share (internal/netlimit's own and the server's end to end): connecting
// as another client from another loopback address, and telling a refused
// connection from one held open.
package netlimittest

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"
)

// DialFrom opens a TCP connection to addr from the loopback address src
// (127.0.0.2 is another client on the same host); it is closed when the
// test ends.
func DialFrom(t testing.TB, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Refused reports whether a new connection from src to addr is refused,
// as a listener past its cap for that address refuses it: reset so fast,
// at times, that the reset reaches the dialer before its connect returns,
// or else closed by the server within 5 s. Any other dial error fails the
// test.
func Refused(t testing.TB, src, addr string) bool {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("connect from %s to %s: %v", src, addr, err)
		}
		return true
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = c.Read(make([]byte, 1))
	return err != nil && !IsTimeout(err)
}

// IsTimeout reports whether err is a network timeout.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
