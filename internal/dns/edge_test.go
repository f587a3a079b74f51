package dns_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"
)

// Instance IDs may be up to 64 characters of [0-9a-zA-Z_/:.@-], so
// <instance-id>.<service>.<namespace> need not be a DNS name: a label of
// 64, an empty label (".x", "a..b"), more than 255 octets. Instance IDs
// that can't be the host name of an SRV record are refused at
// registration (InvalidInput), so every SRV answer packs.
func TestEdge_SRVTargetsThatAreNotDNSNames(t *testing.T) {
	e := newEnv(t)
	ns := e.privateNS("example.com", 30)
	svc := e.service(ns, svcSpec{name: "_x._tcp", records: map[types.RecordType]int64{types.RecordTypeSrv: 60}})
	good := map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.1", "AWS_INSTANCE_PORT": "80"}
	e.register(svc, "ok", good)
	for _, id := range []string{strings.Repeat("a", 64), ".lead", "trail.", "a..b", "."} {
		_, err := e.sd.RegisterInstance(t.Context(), &sd.RegisterInstanceInput{ServiceId: aws.String(svc), InstanceId: aws.String(id),
			Attributes: map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.2", "AWS_INSTANCE_PORT": "81"}})
		var invalid *types.InvalidInput
		if !errors.As(err, &invalid) {
			t.Errorf("RegisterInstance %q in an SRV service: %v, want InvalidInput", id, err)
		}
	}
	for _, n := range nets {
		for range 5 {
			r := e.query(n, "_x._tcp.example.com", dns.TypeSRV)
			checkAuthoritative(t, r, dns.RcodeSuccess)
			if len(r.Answer) != 1 || r.Answer[0].(*dns.SRV).Target != "ok._x._tcp.example.com." {
				t.Fatalf("%s: SRV answer %v, want only ok's", n, r.Answer)
			}
		}
	}
	// A long zone and service leave no room for a long instance ID.
	zone := strings.Repeat("z", 60) + "." + strings.Repeat("y", 60) + ".test"
	ns2 := e.privateNS(zone, 30)
	svc2 := e.service(ns2, svcSpec{name: strings.Repeat("s", 60) + "._tcp", records: map[types.RecordType]int64{types.RecordTypeSrv: 60}})
	// The service's name is 192 characters: a 60-character ID makes a
	// 253-character target (255 octets on the wire), the most there is;
	// 61 is one too many.
	e.register(svc2, strings.Repeat("i", 60), good)
	if _, err := e.sd.RegisterInstance(t.Context(), &sd.RegisterInstanceInput{ServiceId: aws.String(svc2),
		InstanceId: aws.String(strings.Repeat("j", 61)), Attributes: good}); err == nil {
		t.Errorf("a 61-character ID, whose SRV target would be over 255 octets, was registered")
	}
	r := e.query("tcp", strings.Repeat("s", 60)+"._tcp."+zone, dns.TypeSRV)
	if len(r.Answer) != 1 || !strings.HasPrefix(r.Answer[0].(*dns.SRV).Target, "iii") {
		t.Errorf("SRV answer %v, want only the 60-character ID's (the other target is over 255 octets)", r.Answer)
	}
}

// Instance IDs with characters that DNS presentation escapes ('@') are
// still found at their SRV target name.
func TestEdge_SRVTargetWithSpecialCharacters(t *testing.T) {
	e := newEnv(t)
	ns := e.privateNS("example.com", 30)
	svc := e.service(ns, svcSpec{name: "_x._tcp", records: map[types.RecordType]int64{types.RecordTypeSrv: 60}})
	for i, id := range []string{"user@host", "a/b:c", "x_y-z", "dotted.id"} {
		e.register(svc, id, map[string]string{"AWS_INSTANCE_IPV4": fmt.Sprintf("192.0.2.%d", i+1), "AWS_INSTANCE_PORT": "80"})
	}
	r := e.udp("_x._tcp.example.com", dns.TypeSRV)
	if len(r.Answer) != 4 {
		t.Fatalf("SRV answer %v", r.Answer)
	}
	// "dotted.id" makes dotted.id._x._tcp.example.com, so
	// id._x._tcp.example.com is an empty non-terminal.
	checkNegative(t, e.udp("id._x._tcp.example.com", dns.TypeA), dns.RcodeSuccess, "example.com", 30)
	checkNegative(t, e.udp("other._x._tcp.example.com", dns.TypeA), dns.RcodeNameError, "example.com", 30)
	for _, rr := range r.Answer {
		target := rr.(*dns.SRV).Target
		for _, n := range nets {
			a := e.query(n, target, dns.TypeA)
			checkAuthoritative(t, a, dns.RcodeSuccess)
			if got := addrs(t, a.Answer, target, 60); len(got) != 1 {
				t.Errorf("%s: A at SRV target %s: %v", n, target, got)
			}
		}
	}
}

// Names are matched label by label: an escaped dot is part of a label,
// not a separator, so "foo\.example.com." (labels "foo.example", "com")
// is not in the zone example.com.
func TestEdge_EscapedDotIsNotALabelSeparator(t *testing.T) {
	e := newEnv(t)
	ns := e.privateNS("example.com", 30)
	svc := e.service(ns, svcSpec{name: "web", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	e.register(svc, "w", v4("192.0.2.1"))
	for _, n := range nets {
		if r := e.query(n, `foo\.example.com.`, dns.TypeA); r.Rcode != dns.RcodeRefused {
			t.Errorf(`%s: foo\.example.com.: rcode %s, want REFUSED (not in the zone)`, n, dns.RcodeToString[r.Rcode])
		}
		// "web\.example" under com... and web.example.com spelled with
		// a decimal escape are the names they are.
		if r := e.query(n, `web\.example.com.`, dns.TypeA); r.Rcode != dns.RcodeRefused {
			t.Errorf(`%s: web\.example.com.: rcode %s, want REFUSED`, n, dns.RcodeToString[r.Rcode])
		}
		r := e.query(n, `\119eb.example.com.`, dns.TypeA) // \119 is 'w'
		if got := addrs(t, r.Answer, "web.example.com.", 60); !slices.Equal(got, []string{"192.0.2.1"}) {
			t.Errorf(`%s: \119eb.example.com.: %v`, n, r)
		}
		// In the zone, a label with a dot in it names nothing.
		if r := e.query(n, `w\.web.example.com.`, dns.TypeA); r.Rcode != dns.RcodeNameError {
			t.Errorf(`%s: w\.web.example.com.: rcode %s, want NXDOMAIN`, n, dns.RcodeToString[r.Rcode])
		}
	}
}

// Case-insensitivity is ASCII only (RFC 4343): a non-ASCII byte never
// matches a letter, whatever Unicode case folding says (U+212A KELVIN SIGN
// folds to 'k').
func TestEdge_CaseFoldingIsASCIIOnly(t *testing.T) {
	e := newEnv(t)
	ns := e.privateNS("example.com", 30)
	svc := e.service(ns, svcSpec{name: "kv", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	e.register(svc, "k", v4("192.0.2.1"))
	srv := e.service(ns, svcSpec{name: "_s._tcp", records: map[types.RecordType]int64{types.RecordTypeSrv: 60}})
	e.register(srv, "k", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.2", "AWS_INSTANCE_PORT": "80"})
	kelvin := `\226\132\170` // U+212A in UTF-8
	for _, name := range []string{kelvin + "v.example.com.", kelvin + "._s._tcp.example.com."} {
		if r := e.udp(name, dns.TypeA); r.Rcode != dns.RcodeNameError || len(r.Answer) != 0 {
			t.Errorf("%s: rcode %s, answer %v; want NXDOMAIN", name, dns.RcodeToString[r.Rcode], r.Answer)
		}
	}
}
