package health

import (
	"fmt"
	"net/netip"
	"strings"
)

// Policy decides which addresses health checks may probe, so that an
// account registering instances can't make cairn scan the host it runs on
// or reach the cloud's metadata address. The most specific matching rule
// decides: the longest prefix; at equal length an operator's rule (the
// allow and deny lists) beats a default, and a deny beats an allow.
//
// A nil *Policy allows everything.
type Policy struct {
	rules []rule
}

// PolicyConfig builds a Policy.
type PolicyConfig struct {
	// Allow and Deny are the operator's rules (--health-probe-allow and
	// --health-probe-deny).
	Allow, Deny []netip.Prefix
	// Restricted turns on the default denies: loopback, link-local
	// (169.254.0.0/16 holds the metadata address; fe80::/10), unspecified
	// and multicast addresses, and Own. cairn restricts when it verifies
	// signatures (--credentials); development mode probes anything.
	Restricted bool
	// Own are cairn's own listeners and its etcd's addresses, denied at
	// their port when Restricted.
	Own []netip.AddrPort
}

type rule struct {
	prefix   netip.Prefix
	port     uint16 // 0: any port
	allow    bool
	operator bool
	why      string
}

// The flags the rules come from, for the messages.
const (
	AllowFlag = "--health-probe-allow"
	DenyFlag  = "--health-probe-deny"
)

// NewPolicy returns the policy of cfg.
func NewPolicy(cfg PolicyConfig) *Policy {
	p := &Policy{}
	for _, pre := range cfg.Allow {
		p.rules = append(p.rules, rule{prefix: pre.Masked(), allow: true, operator: true, why: "of " + AllowFlag})
	}
	for _, pre := range cfg.Deny {
		p.rules = append(p.rules, rule{prefix: pre.Masked(), operator: true, why: "of " + DenyFlag})
	}
	if cfg.Restricted {
		for _, d := range []struct{ prefix, what string }{
			{"127.0.0.0/8", "loopback"}, {"::1/128", "loopback"},
			{"169.254.0.0/16", "link-local, with the metadata address"}, {"fe80::/10", "link-local"},
			{"0.0.0.0/32", "unspecified"}, {"::/128", "unspecified"},
			{"224.0.0.0/4", "multicast"}, {"ff00::/8", "multicast"},
			{"255.255.255.255/32", "broadcast"},
		} {
			p.rules = append(p.rules, rule{prefix: netip.MustParsePrefix(d.prefix),
				why: "(" + d.what + " addresses, denied by default with --credentials; " + AllowFlag + " lets them through)"})
		}
		for _, a := range cfg.Own {
			ip := a.Addr().Unmap()
			p.rules = append(p.rules, rule{prefix: netip.PrefixFrom(ip, ip.BitLen()), port: a.Port(),
				why: "(cairn's own listener or etcd: with --credentials it is never probed, whatever " + AllowFlag + " says)"})
		}
	}
	return p
}

// Check returns nil when target may be probed, or an error naming the
// rule that denies it and the flag that changes it.
func (p *Policy) Check(target netip.AddrPort) error {
	if p == nil {
		return nil
	}
	ip := target.Addr().Unmap()
	var best *rule
	for i := range p.rules {
		r := &p.rules[i]
		if !r.prefix.Contains(ip) || r.port != 0 && r.port != target.Port() {
			continue
		}
		if best == nil || better(r, best) {
			best = r
		}
	}
	if best == nil || best.allow {
		return nil
	}
	rule := best.prefix.String()
	if best.port != 0 {
		rule = netip.AddrPortFrom(best.prefix.Addr(), best.port).String()
	}
	return fmt.Errorf("the health check target %s is denied by the rule %s %s", target, rule, best.why)
}

// better reports whether rule a decides over rule b.
func better(a, b *rule) bool {
	if a.prefix.Bits() != b.prefix.Bits() {
		return a.prefix.Bits() > b.prefix.Bits()
	}
	if (a.port != 0) != (b.port != 0) {
		return a.port != 0
	}
	if a.operator != b.operator {
		return a.operator
	}
	return !a.allow && b.allow
}

// ParsePrefixes parses a comma-separated list of CIDR prefixes or single
// addresses ("10.0.0.0/8,192.0.2.7,fd00::/8").
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR prefix such as 10.0.0.0/8: %w", f, err)
			}
			out = append(out, p)
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or a CIDR prefix such as 10.0.0.0/8", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
