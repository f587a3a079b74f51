package health

import (
	"net/netip"
	"strings"
	"testing"
)

func TestPolicy(t *testing.T) {
	own := []netip.AddrPort{netip.MustParseAddrPort("10.0.0.5:9080"), netip.MustParseAddrPort("10.0.0.6:2379")}
	restricted := NewPolicy(PolicyConfig{Restricted: true, Own: own})
	operator := NewPolicy(PolicyConfig{Restricted: true, Own: own,
		Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("10.0.0.0/8")},
		Deny:  []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("10.9.0.0/16")}})
	dev := NewPolicy(PolicyConfig{Deny: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	for _, tc := range []struct {
		name   string
		p      *Policy
		target string
		denied string // a part of the reason; "" when allowed
	}{
		{"loopback", restricted, "127.0.0.1:9080", "127.0.0.0/8 (loopback addresses, denied by default with --credentials; --health-probe-allow"},
		{"loopback v6", restricted, "[::1]:80", "::1/128 (loopback"},
		{"loopback, v4 in v6", restricted, "[::ffff:127.0.0.1]:80", "127.0.0.0/8"},
		{"metadata", restricted, "169.254.169.254:80", "169.254.0.0/16 (link-local, with the metadata address"},
		{"link-local v6", restricted, "[fe80::1]:80", "fe80::/10 (link-local"},
		{"unspecified", restricted, "0.0.0.0:80", "0.0.0.0/32 (unspecified"},
		{"unspecified v6", restricted, "[::]:80", "::/128 (unspecified"},
		{"multicast", restricted, "224.0.0.1:80", "224.0.0.0/4 (multicast"},
		{"multicast v6", restricted, "[ff02::1]:80", "ff00::/8 (multicast"},
		{"cairn's API", restricted, "10.0.0.5:9080", "10.0.0.5:9080 (cairn's own listener or etcd"},
		{"etcd", restricted, "10.0.0.6:2379", "10.0.0.6:2379 (cairn's own"},
		{"another port of cairn's host", restricted, "10.0.0.5:8080", ""},
		{"a private fleet", restricted, "10.1.2.3:8080", ""},
		{"a public address", restricted, "192.0.2.10:443", ""},
		{"allowed loopback address", operator, "127.0.0.1:8080", ""},
		{"other loopback addresses", operator, "127.0.0.2:8080", "127.0.0.0/8 (loopback"},
		{"denied everywhere but allowed", operator, "10.1.2.3:80", ""},
		{"denied inside the allowed", operator, "10.9.1.1:80", "10.9.0.0/16 of --health-probe-deny"},
		{"denied everywhere", operator, "192.0.2.10:80", "0.0.0.0/0 of --health-probe-deny"},
		{"cairn's own, even inside an allowed prefix", operator, "10.0.0.5:9080", "cairn's own"},
		{"development: loopback", dev, "127.0.0.1:9080", ""},
		{"development: metadata", dev, "169.254.169.254:80", ""},
		{"development: the operator's deny", dev, "192.0.2.1:80", "192.0.2.0/24 of --health-probe-deny"},
		{"no policy", nil, "127.0.0.1:1", ""},
	} {
		err := tc.p.Check(netip.MustParseAddrPort(tc.target))
		switch {
		case tc.denied == "" && err != nil:
			t.Errorf("%s: %s denied: %v", tc.name, tc.target, err)
		case tc.denied != "" && (err == nil || !strings.Contains(err.Error(), tc.denied)):
			t.Errorf("%s: %s: %v; want denied by %q", tc.name, tc.target, err, tc.denied)
		}
	}
}

func TestParsePrefixes(t *testing.T) {
	got, err := ParsePrefixes(" 10.0.0.0/8, 192.0.2.7 ,fd00::/8,,::ffff:127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	var s []string
	for _, p := range got {
		s = append(s, p.String())
	}
	if strings.Join(s, ",") != "10.0.0.0/8,192.0.2.7/32,fd00::/8,127.0.0.1/32" {
		t.Errorf("ParsePrefixes = %v", s)
	}
	for _, bad := range []string{"10.0.0.0/33", "ten", "10.0.0.1:80"} {
		if _, err := ParsePrefixes(bad); err == nil {
			t.Errorf("ParsePrefixes(%q) accepted", bad)
		}
	}
}

func FuzzPolicy(f *testing.F) {
	f.Add("10.0.0.0/8,127.0.0.1", "192.0.2.0/24", "127.0.0.1:80")
	f.Add("", "0.0.0.0/0", "[::1]:443")
	f.Fuzz(func(t *testing.T, allow, deny, target string) {
		a, err1 := ParsePrefixes(allow)
		d, err2 := ParsePrefixes(deny)
		ap, err3 := netip.ParseAddrPort(target)
		if err1 != nil || err2 != nil || err3 != nil {
			return
		}
		p := NewPolicy(PolicyConfig{Allow: a, Deny: d, Restricted: true})
		_ = p.Check(ap) // must not panic
		if len(a) == 0 && len(d) == 0 && ap.Addr().Unmap().IsLoopback() && p.Check(ap) == nil {
			t.Errorf("%s allowed with the defaults", ap)
		}
	})
}
