package dns_test

import (
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"

	"github.com/cairn-dev/cairn/cairntest"
	"github.com/cairn-dev/cairn/server"
)

// Changes take effect at once: the registry returns from a write only once
// the view that DNS reads has applied it, so the first query after an API
// call returns must already see the change. The tests assert that (a
// correctness property, not a timing), and log how long it took from the
// call's return to the first answer that reflects it.

// delays collects the time from an API call's return to the first DNS
// answer that reflects it.
type delays struct {
	what string
	d    []time.Duration
}

// observe queries until ok(reply) holds (at most 2 s) and records the
// delay since start. It fails the test unless the first answer already
// reflected the change.
func (ds *delays) observe(t *testing.T, start time.Time, ask func() *dns.Msg, ok func(*dns.Msg) bool) {
	t.Helper()
	for tries := 1; ; tries++ {
		r := ask()
		if ok(r) {
			ds.d = append(ds.d, time.Since(start))
			if tries > 1 {
				t.Errorf("%s: the change showed only at query %d after the call returned", ds.what, tries)
			}
			return
		}
		if time.Since(start) > 2*time.Second {
			t.Fatalf("%s: not visible 2s after the call returned: %v", ds.what, r)
		}
	}
}

func (ds *delays) log(t *testing.T) {
	t.Helper()
	if len(ds.d) == 0 {
		return
	}
	s := slices.Clone(ds.d)
	sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
	t.Logf("%-36s n=%3d  median %8v  p90 %8v  max %8v", ds.what, len(s), s[len(s)/2].Round(time.Microsecond),
		s[len(s)*9/10].Round(time.Microsecond), s[len(s)-1].Round(time.Microsecond))
}

func hasAddr(ip string) func(*dns.Msg) bool {
	return func(r *dns.Msg) bool {
		for _, rr := range r.Answer {
			if a, ok := rr.(*dns.A); ok && a.A.String() == ip {
				return true
			}
		}
		return false
	}
}

func rcodeIs(rcode int) func(*dns.Msg) bool { return func(r *dns.Msg) bool { return r.Rcode == rcode } }

// trials is how many times each change is measured.
func trials() int {
	if testing.Short() {
		return 20
	}
	return 200
}

func TestChanges_RegisterAndDeregisterShowAtOnce(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	ns := e.privateNS("example.com", 5)
	svc := e.service(ns, svcSpec{name: "live", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	e.register(svc, "anchor", v4("192.0.2.254")) // keeps the name in existence
	reg := &delays{what: "RegisterInstance → A record"}
	dereg := &delays{what: "DeregisterInstance → record gone"}
	ask := func() *dns.Msg { return e.udp("live.example.com", dns.TypeA) }
	for i := range trials() {
		ip := fmt.Sprintf("192.0.2.%d", i%200+1)
		out, err := e.sd.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(svc), InstanceId: aws.String("moving"),
			Attributes: v4(ip)})
		e.must(err)
		reg.observe(t, time.Now(), ask, hasAddr(ip))
		// OperationDelay is 0: the call returned with the operation done.
		if op, err := e.sd.GetOperation(ctx, &sd.GetOperationInput{OperationId: out.OperationId}); err != nil || op.Operation.Status != types.OperationStatusSuccess {
			t.Fatalf("RegisterInstance returned with the operation not SUCCESS (%v)", err)
		}

		_, err = e.sd.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: aws.String(svc), InstanceId: aws.String("moving")})
		e.must(err)
		dereg.observe(t, time.Now(), ask, func(r *dns.Msg) bool { return !hasAddr(ip)(r) && len(r.Answer) == 1 })
	}
	reg.log(t)
	dereg.log(t)
}

func TestChanges_TTLAndSOAUpdatesShowAtOnce(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	ns := e.privateNS("example.com", 5)
	pub := e.publicNS("public.example", 5)
	svc := e.service(ns, svcSpec{name: "ttl", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	e.register(svc, "one", v4("192.0.2.1"))
	ttl := &delays{what: "UpdateService TTL → answer TTL"}
	soa := &delays{what: "UpdatePrivateDnsNamespace SOA TTL"}
	psoa := &delays{what: "UpdatePublicDnsNamespace SOA TTL"}
	n := trials() / 2
	for i := range n {
		want := uint32(100 + i)
		_, err := e.sd.UpdateService(ctx, &sd.UpdateServiceInput{Id: aws.String(svc), Service: &types.ServiceChange{
			DnsConfig: &types.DnsConfigChange{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(int64(want))}}}}})
		e.must(err)
		ttl.observe(t, time.Now(), func() *dns.Msg { return e.udp("ttl.example.com", dns.TypeA) },
			func(r *dns.Msg) bool { return len(r.Answer) == 1 && r.Answer[0].Header().Ttl == want })

		_, err = e.sd.UpdatePrivateDnsNamespace(ctx, &sd.UpdatePrivateDnsNamespaceInput{Id: aws.String(ns), Namespace: &types.PrivateDnsNamespaceChange{
			Properties: &types.PrivateDnsNamespacePropertiesChange{DnsProperties: &types.PrivateDnsPropertiesMutableChange{SOA: &types.SOAChange{TTL: aws.Int64(int64(want))}}}}})
		e.must(err)
		soa.observe(t, time.Now(), func() *dns.Msg { return e.udp("nope.example.com", dns.TypeA) }, soaMinimum(want))

		_, err = e.sd.UpdatePublicDnsNamespace(ctx, &sd.UpdatePublicDnsNamespaceInput{Id: aws.String(pub), Namespace: &types.PublicDnsNamespaceChange{
			Properties: &types.PublicDnsNamespacePropertiesChange{DnsProperties: &types.PublicDnsPropertiesMutableChange{SOA: &types.SOAChange{TTL: aws.Int64(int64(want))}}}}})
		e.must(err)
		psoa.observe(t, time.Now(), func() *dns.Msg { return e.udp("public.example", dns.TypeSOA) }, func(r *dns.Msg) bool {
			return len(r.Answer) == 1 && r.Answer[0].(*dns.SOA).Minttl == want && r.Answer[0].Header().Ttl == want
		})
	}
	ttl.log(t)
	soa.log(t)
	psoa.log(t)
}

// soaMinimum matches a negative answer whose SOA has minimum and TTL want.
func soaMinimum(want uint32) func(*dns.Msg) bool {
	return func(r *dns.Msg) bool {
		if len(r.Ns) != 1 {
			return false
		}
		s, ok := r.Ns[0].(*dns.SOA)
		return ok && s.Minttl == want && s.Hdr.Ttl == want
	}
}

func TestChanges_DeleteNamespaceRemovesTheZone(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	del := &delays{what: "DeleteNamespace → REFUSED"}
	delSvc := &delays{what: "DeleteService → NXDOMAIN"}
	n := trials() / 4
	for i := range n {
		zone := fmt.Sprintf("gone%d.test", i)
		ns := e.privateNS(zone, 5)
		svc := e.service(ns, svcSpec{name: "web", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
		e.register(svc, "w", v4("192.0.2.1"))
		if got := e.udp("web."+zone, dns.TypeA); len(got.Answer) != 1 {
			t.Fatalf("before deletion: %v", got)
		}
		e.deregister(svc, "w")
		_, err := e.sd.DeleteService(ctx, &sd.DeleteServiceInput{Id: aws.String(svc)})
		e.must(err)
		delSvc.observe(t, time.Now(), func() *dns.Msg { return e.udp("web."+zone, dns.TypeA) }, rcodeIs(dns.RcodeNameError))
		_, err = e.sd.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(ns)})
		e.must(err)
		del.observe(t, time.Now(), func() *dns.Msg { return e.udp(zone, dns.TypeSOA) }, rcodeIs(dns.RcodeRefused))
	}
	delSvc.log(t)
	del.log(t)
}

// With an OperationDelay the operation goes SUBMITTED → PENDING → SUCCESS
// over the delay, and the record appears exactly when it is SUCCESS:
// never before, and on the first query after.
func TestChanges_WithOperationDelayRecordFollowsSuccess(t *testing.T) {
	e := newEnv(t, cairntest.WithConfig(func(c *server.Config) { c.OperationDelay = 300 * time.Millisecond }))
	ctx := t.Context()
	ns := e.privateNS("example.com", 5)
	svc := e.service(ns, svcSpec{name: "slow", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	e.register(svc, "anchor", v4("192.0.2.254"))
	status := func(id *string) types.OperationStatus {
		out, err := e.sd.GetOperation(ctx, &sd.GetOperationInput{OperationId: id})
		e.must(err)
		return out.Operation.Status
	}
	ask := func() *dns.Msg { return e.udp("slow.example.com", dns.TypeA) }
	check := func(what string, opID *string, visible func(*dns.Msg) bool) {
		t.Helper()
		start := time.Now()
		sawBefore := false
		for {
			before := visible(ask())
			st := status(opID)
			after := visible(ask())
			if before && st != types.OperationStatusSuccess {
				t.Fatalf("%s: DNS showed the change while the operation was still %s", what, st)
			}
			if st == types.OperationStatusSuccess {
				if !after {
					t.Fatalf("%s: the operation is SUCCESS and DNS does not show it", what)
				}
				break
			}
			sawBefore = sawBefore || !before
			if time.Since(start) > 5*time.Second {
				t.Fatalf("%s: operation still %s after 5s", what, st)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if !sawBefore {
			t.Errorf("%s: never saw the old state although the operation takes 300ms", what)
		}
		t.Logf("%s: SUCCESS and visible %v after the call", what, time.Since(start).Round(time.Millisecond))
	}
	out, err := e.sd.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(svc), InstanceId: aws.String("new"), Attributes: v4("192.0.2.77")})
	e.must(err)
	check("RegisterInstance", out.OperationId, hasAddr("192.0.2.77"))
	dout, err := e.sd.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: aws.String(svc), InstanceId: aws.String("new")})
	e.must(err)
	check("DeregisterInstance", dout.OperationId, func(r *dns.Msg) bool { return !hasAddr("192.0.2.77")(r) })
	uout, err := e.sd.UpdateService(ctx, &sd.UpdateServiceInput{Id: aws.String(svc), Service: &types.ServiceChange{
		DnsConfig: &types.DnsConfigChange{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeA, TTL: aws.Int64(7)}}}}})
	e.must(err)
	check("UpdateService", uout.OperationId, func(r *dns.Msg) bool { return len(r.Answer) > 0 && r.Answer[0].Header().Ttl == 7 })
}
