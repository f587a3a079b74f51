package registry

import "testing"

func TestOverlaps(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"corp.test", "corp.test", true},
		{"db.corp.test", "corp.test", true},
		{"corp.test", "db.corp.test", true},
		{"xcorp.test", "corp.test", false},
		{"corp.test", "corp.testx", false},
		{"a.test", "b.test", false},
	} {
		if got := overlaps(tc.a, tc.b); got != tc.want {
			t.Errorf("overlaps(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func TestParseDNSNameKey(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want dnsNameKey
		ok   bool
	}{
		{"dnsname/111111111111/us-east-1/corp.test/ns-abc", dnsNameKey{"111111111111", "us-east-1", "corp.test", "ns-abc"}, true},
		{"dnsname/111111111111/us-east-1/ns-abc", dnsNameKey{}, false},
		{"nsname/111111111111/us-east-1/corp.test/ns-abc", dnsNameKey{}, false},
	} {
		got, ok := parseDNSNameKey(tc.key)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseDNSNameKey(%q) = %+v, %v", tc.key, got, ok)
		}
	}
}

func TestSameListener(t *testing.T) {
	r := &Registry{cfg: Config{DNSListenerVPCs: []string{"vpc-a", "vpc-b"}}}
	const priv, pub = "DNS_PRIVATE", "DNS_PUBLIC"
	for _, tc := range []struct {
		at, av, bt, bv string
		want           bool
	}{
		{pub, "", priv, "vpc-a", true},
		{priv, "vpc-a", priv, "vpc-a", true},
		{priv, "vpc-a", priv, "vpc-b", false},
		{priv, "vpc-a", priv, "vpc-c", false},
		{priv, "vpc-c", priv, "vpc-d", true},
	} {
		if got := r.sameListener(tc.at, tc.av, tc.bt, tc.bv); got != tc.want {
			t.Errorf("sameListener(%s %s, %s %s) = %v", tc.at, tc.av, tc.bt, tc.bv, got)
		}
	}
}
