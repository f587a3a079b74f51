package registry

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

// fuzzServices are the service configurations FuzzCheckInstanceAttributes
// draws from, with their namespaces.
var fuzzServices = []struct {
	svc *svcRecord
	ns  *nsRecord
}{
	{svcA, nsPrivate}, {svcAAAA, nsPrivate}, {svcBoth, nsPublic}, {svcSRV, nsPrivate}, {svcCNAME, nsPublic},
	{svcWeighted, nsPublic}, {svcHTTP, nsHTTP}, {svcChecked, nsPublic}, {svcCustom, nsHTTP},
	{svcASRV, nsPrivate}, {svcAAAASRV, nsPrivate}, {svcAllSRV, nsPublic},
}

// parseAttrs reads "key=value" lines into a map.
func parseAttrs(data string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(data, "\n") {
		if line == "" {
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		m[k] = v
	}
	return m
}

// FuzzCheckInstanceAttributes checks random attribute maps against each
// kind of service: the check must not panic, must refuse only with
// InvalidInput, and what it accepts must satisfy the documented rules.
func FuzzCheckInstanceAttributes(f *testing.F) {
	for i := range fuzzServices {
		pick := byte(i)
		// RegisterInstance's example attributes.
		f.Add(pick, "AWS_INSTANCE_IPV4=172.2.1.3\nAWS_INSTANCE_PORT=808")
		f.Add(pick, "AWS_INSTANCE_IPV4=192.0.2.44\nAWS_INSTANCE_PORT=80")
		f.Add(pick, "AWS_INSTANCE_IPV6=2001:0db8:85a3::8a2e:0370:7334")
		f.Add(pick, "AWS_INSTANCE_IPV4=192.0.2.44\nAWS_INSTANCE_IPV6=::1\nAWS_INSTANCE_PORT=65535")
		f.Add(pick, "AWS_INSTANCE_CNAME=www.example.com")
		f.Add(pick, "AWS_ALIAS_DNS_NAME=my-lb-1234567890.us-west-2.elb.amazonaws.com")
		f.Add(pick, "AWS_EC2_INSTANCE_ID=i-0abcdef1234567890\nAWS_INIT_HEALTH_STATUS=UNHEALTHY")
		f.Add(pick, "AWS_INIT_HEALTH_STATUS=HEALTHY\ncolor=blue")
		f.Add(pick, "")
	}
	f.Fuzz(func(t *testing.T, pick byte, data string) {
		s := fuzzServices[int(pick)%len(fuzzServices)]
		attrs := parseAttrs(data)
		err := checkInstanceAttributes(attrs, s.svc, s.ns)
		if err != nil {
			e, ok := AsError(err)
			if !ok || e.Kind != KindInvalid || e.Message == "" {
				t.Fatalf("refused with %#v, want InvalidInput", err)
			}
			return
		}
		// Accepted: every documented rule holds.
		if len(attrs) > maxInstanceAttributes {
			t.Fatalf("accepted %d attributes", len(attrs))
		}
		total := 0
		for k, v := range attrs {
			total += len(k) + len(v)
		}
		if total > maxAttributeChars {
			t.Fatalf("accepted %d characters", total)
		}
		v4, hasV4 := attrs[AttrIPv4]
		v6, hasV6 := attrs[AttrIPv6]
		port, hasPort := attrs[AttrPort]
		cname, hasCNAME := attrs[AttrCNAME]
		alias, hasAlias := attrs[AttrAlias]
		_, hasEC2 := attrs[AttrEC2]
		init, hasInit := attrs[AttrInitHealth]
		if hasV4 {
			if a, err := netip.ParseAddr(v4); err != nil || !a.Is4() {
				t.Fatalf("accepted IPv4 %q", v4)
			}
		}
		if hasV6 {
			if a, err := netip.ParseAddr(v6); err != nil || !a.Is6() || a.Is4In6() {
				t.Fatalf("accepted IPv6 %q", v6)
			}
		}
		if hasPort {
			if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 || strconv.Itoa(p) != port {
				t.Fatalf("accepted port %q", port)
			}
		}
		if hasCNAME && !validDomain(cname) {
			t.Fatalf("accepted CNAME %q", cname)
		}
		if hasInit && (s.svc.HealthCheckCustomConfig == nil || (init != "HEALTHY" && init != "UNHEALTHY")) {
			t.Fatalf("accepted %s=%q on %s", AttrInitHealth, init, s.svc.ID)
		}
		if hasEC2 {
			if s.ns.Type != cloudmap.NamespaceTypeHttp {
				t.Fatalf("accepted %s in a %s namespace", AttrEC2, s.ns.Type)
			}
			for k := range attrs {
				if k != AttrEC2 && k != AttrInitHealth {
					t.Fatalf("accepted %s beside %s", k, AttrEC2)
				}
			}
		}
		set := ""
		if s.svc.DNSConfig != nil {
			set, _ = recordSet(s.svc.DNSConfig.DnsRecords)
		}
		if hasAlias {
			if set != "A" && set != "AAAA" && set != "A+AAAA" || s.svc.DNSConfig.RoutingPolicy != cloudmap.RoutingPolicyWeighted || !validDomain(alias) {
				t.Fatalf("accepted alias %q on %s", alias, s.svc.ID)
			}
			for k := range attrs {
				if strings.HasPrefix(k, "AWS_INSTANCE_") {
					t.Fatalf("accepted %s beside an alias", k)
				}
			}
			return
		}
		types := strings.Split(set, "+")
		has := func(t string) bool { return slices.Contains(types, t) }
		switch {
		case has("A") && has("AAAA"):
			if !hasV4 && !hasV6 {
				t.Fatalf("A+AAAA records without an address accepted")
			}
		case has("A"):
			if !hasV4 {
				t.Fatalf("A record without IPv4 accepted")
			}
		case has("AAAA"):
			if !hasV6 {
				t.Fatalf("AAAA record without IPv6 accepted")
			}
		}
		if has("SRV") && (!hasPort || (!hasV4 && !hasV6)) {
			t.Fatalf("SRV record without port and address accepted")
		}
		if has("CNAME") && !hasCNAME {
			t.Fatalf("CNAME record without CNAME accepted")
		}
		if s.svc.HealthCheckConfig != nil && !hasPort && !hasEC2 {
			t.Fatalf("health-checked service without port accepted")
		}
	})
}

// FuzzDecodeToken feeds arbitrary page tokens to decodeToken: it must not
// panic, and must return either InvalidInput or the position of a token
// this server signed for the same request.
func FuzzDecodeToken(f *testing.F) {
	r := tokenRegistry(testTokenKey)
	const op, query = "ListServices", "q"
	signed := map[string]bool{"": true}
	for _, after := range []string{"000001587055860121/srv-p5zdwlg5uvvzjita", "i-abcd1234", "x", ""} {
		signed[after] = true
		f.Add(r.encodeToken(pageToken{Op: op, Query: query, After: after}))
		f.Add(r.encodeToken(pageToken{Op: "ListNamespaces", Query: query, After: after}))
		f.Add(r.encodeToken(pageToken{Op: op, Query: "other", After: after}))
	}
	f.Add("")
	f.Add("srv-p5zdwlg5uvvzjita")
	f.Add("gv4g5meo7ndmeh4fqskygvk23d2fijwa-k9302yzd")
	f.Add(strings.Repeat("A", 64))
	f.Fuzz(func(t *testing.T, tok string) {
		after, err := r.decodeToken(tok, op, query)
		if err == nil {
			if !signed[after] {
				t.Fatalf("token %q gave position %q, which this server never signed", tok, after)
			}
			if tok == "" && after != "" {
				t.Fatalf("empty token gave position %q", after)
			}
			return
		}
		e, ok := AsError(err)
		if !ok || e.Kind != KindInvalid {
			t.Fatalf("refused with %#v, want InvalidInput", err)
		}
		if after != "" {
			t.Fatalf("refused token gave position %q", after)
		}
		if len(e.Message) > 300 || !utf8.ValidString(e.Message) {
			t.Fatalf("message of %d bytes: %q", len(e.Message), e.Message)
		}
	})
}
