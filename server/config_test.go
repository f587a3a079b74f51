package server

import "testing"

func TestClearOnNetwork(t *testing.T) {
	for _, tc := range []struct {
		creds, cert, addr string
		want              bool
	}{
		{"creds", "", "0.0.0.0:9080", true},
		{"creds", "", "10.0.0.5:9080", true},
		{"creds", "", "[::]:9080", true},
		{"creds", "cert.pem", "0.0.0.0:9080", false},
		{"creds", "", "127.0.0.1:9080", false},
		{"creds", "", "localhost:9080", false},
		{"", "", "0.0.0.0:9080", false}, // development mode refuses to start there
	} {
		c := Config{Credentials: tc.creds, TLSCert: tc.cert, APIAddr: tc.addr}
		if got := c.clearOnNetwork(); got != tc.want {
			t.Errorf("credentials %q, cert %q, %s: %v", tc.creds, tc.cert, tc.addr, got)
		}
	}
}
