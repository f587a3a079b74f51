package dns_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"
)

// One listener serves every account and region, and DNS has one name
// space: when namespaces of several regions (or accounts, or VPCs) share
// a name, the oldest one answers for it, whole — its records, its SOA —
// and the others are not merged in. Deleting it hands the name to the
// next oldest. (Route 53 would keep them apart by VPC or by delegation;
// one loopback listener cannot.)
func TestRegions_OldestNamespaceOfANameAnswers(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	east, west := e.client("us-east-1"), e.client("eu-west-1")

	nsEast := e.privateNSWith(east, "shared.test", 11)
	time.Sleep(5 * time.Millisecond) // creation times are in milliseconds
	nsWest := e.privateNSWith(west, "shared.test", 22)
	spec := svcSpec{name: "api", records: map[types.RecordType]int64{types.RecordTypeA: 60}}
	svcEast := e.serviceWith(east, nsEast, spec)
	svcWest := e.serviceWith(west, nsWest, spec)
	e.registerWith(east, svcEast, "e", v4("192.0.2.1"))
	e.registerWith(west, svcWest, "w", v4("198.51.100.1"))
	onlyWest := e.serviceWith(west, nsWest, svcSpec{name: "west-only", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	e.registerWith(west, onlyWest, "w2", v4("198.51.100.2"))

	for _, n := range nets {
		r := e.query(n, "api.shared.test", dns.TypeA)
		if got := addrs(t, r.Answer, "api.shared.test", 60); !slices.Equal(got, []string{"192.0.2.1"}) {
			t.Errorf("%s: api.shared.test = %v, want the older (us-east-1) namespace's 192.0.2.1", n, got)
		}
		// The younger namespace's names are not merged in.
		checkNegative(t, e.query(n, "west-only.shared.test", dns.TypeA), dns.RcodeNameError, "shared.test", 11)
	}

	// Empty and delete the older namespace: the other one answers.
	e.deregisterWith(east, svcEast, "e")
	_, err := east.DeleteService(ctx, &sd.DeleteServiceInput{Id: aws.String(svcEast)})
	e.must(err)
	out, err := east.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(nsEast)})
	e.must(err)
	e.wait(east, out.OperationId)
	for _, n := range nets {
		r := e.query(n, "api.shared.test", dns.TypeA)
		if got := addrs(t, r.Answer, "api.shared.test", 60); !slices.Equal(got, []string{"198.51.100.1"}) {
			t.Errorf("%s: after deleting the older namespace, api.shared.test = %v, want eu-west-1's 198.51.100.1", n, got)
		}
		r = e.query(n, "west-only.shared.test", dns.TypeA)
		if got := addrs(t, r.Answer, "west-only.shared.test", 60); !slices.Equal(got, []string{"198.51.100.2"}) {
			t.Errorf("%s: west-only.shared.test = %v", n, got)
		}
		checkNegative(t, e.query(n, "nope.shared.test", dns.TypeA), dns.RcodeNameError, "shared.test", 22)
	}

	// A newer namespace of the name, even in the first region, does not
	// take the name back.
	nsEast2 := e.privateNSWith(east, "shared.test", 33)
	svcEast2 := e.serviceWith(east, nsEast2, spec)
	e.registerWith(east, svcEast2, "e2", v4("192.0.2.2"))
	r := e.udp("api.shared.test", dns.TypeA)
	if got := addrs(t, r.Answer, "api.shared.test", 60); !slices.Equal(got, []string{"198.51.100.1"}) {
		t.Errorf("a newer namespace took the name: api.shared.test = %v", got)
	}
}

// A namespace whose name is inside another's zone gets the names under
// it: the longest matching zone answers.
func TestRegions_NestedZonesLongestMatch(t *testing.T) {
	e := newEnv(t)
	outer := e.privateNS("example.com", 10)
	inner := e.privateNS("dev.example.com", 20)
	so := e.service(outer, svcSpec{name: "web", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	si := e.service(inner, svcSpec{name: "web", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	e.register(so, "o", v4("192.0.2.1"))
	e.register(si, "i", v4("192.0.2.2"))
	if got := addrs(t, e.udp("web.example.com", dns.TypeA).Answer, "web.example.com", 60); !slices.Equal(got, []string{"192.0.2.1"}) {
		t.Errorf("web.example.com = %v", got)
	}
	if got := addrs(t, e.udp("web.dev.example.com", dns.TypeA).Answer, "web.dev.example.com", 60); !slices.Equal(got, []string{"192.0.2.2"}) {
		t.Errorf("web.dev.example.com = %v", got)
	}
	checkNegative(t, e.udp("x.dev.example.com", dns.TypeA), dns.RcodeNameError, "dev.example.com", 20)
}
