package server

import (
	"net/netip"
	"slices"
	"testing"
)

// TestExpandAddr: a listener's address is itself, or on an unspecified
// address its port on each of the host's addresses; an unbound or
// malformed one is none.
func TestExpandAddr(t *testing.T) {
	hosts := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("::1")}
	for _, tt := range []struct {
		hostport string
		want     []string
	}{
		{"127.0.0.1:9080", []string{"127.0.0.1:9080"}},
		{"[2001:db8::1]:53", []string{"[2001:db8::1]:53"}},
		{"0.0.0.0:53", []string{"127.0.0.1:53", "10.0.0.5:53", "[::1]:53"}},
		{"[::]:9090", []string{"127.0.0.1:9090", "10.0.0.5:9090", "[::1]:9090"}},
		{"127.0.0.1:0", nil},
		{"localhost:9090", nil},
		{"nonsense", nil},
	} {
		var got []string
		for _, ap := range expandAddr(tt.hostport, hosts) {
			got = append(got, ap.String())
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("expandAddr(%s) = %v; want %v", tt.hostport, got, tt.want)
		}
	}
}
