package dns_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"
)

// Queries answered at once, over UDP and TCP, each get their own answer:
// the handler builds replies in pooled buffers, and no reply may carry
// another's records, flags or sections.
func TestServe_ConcurrentQueriesGetTheirOwnAnswers(t *testing.T) {
	e := newEnv(t)
	ns := e.privateNS("example.com", 30)
	a3 := e.service(ns, svcSpec{name: "a3", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	for i := range 3 {
		e.register(a3, fmt.Sprint("a-", i), v4(fmt.Sprintf("192.0.2.%d", i+1)))
	}
	v6 := e.service(ns, svcSpec{name: "v6", records: map[types.RecordType]int64{types.RecordTypeAaaa: 61}})
	e.register(v6, "v", map[string]string{"AWS_INSTANCE_IPV6": "2001:db8::6"})
	srv := e.service(ns, svcSpec{name: "_s._tcp", records: map[types.RecordType]int64{types.RecordTypeSrv: 62}})
	for i := range 2 {
		e.register(srv, fmt.Sprint("s-", i), map[string]string{"AWS_INSTANCE_IPV4": fmt.Sprintf("198.51.100.%d", i+1),
			"AWS_INSTANCE_IPV6": fmt.Sprintf("2001:db8::%d", i+1), "AWS_INSTANCE_PORT": "443"})
	}
	many := e.service(ns, svcSpec{name: "many", records: map[types.RecordType]int64{types.RecordTypeA: 63}})
	for i := range 12 {
		e.register(many, fmt.Sprint("m-", i), v4(fmt.Sprintf("203.0.113.%d", i+1)))
	}

	type probe struct {
		name  string
		qtype uint16
		check func(*dns.Msg) error
	}
	answers := func(rcode, n, extra int, ttl uint32) func(*dns.Msg) error {
		return func(r *dns.Msg) error {
			extras := len(r.Extra)
			if r.IsEdns0() != nil {
				extras--
			}
			if r.Rcode != rcode || len(r.Answer) != n || extras != extra || r.Truncated || !r.Authoritative {
				return fmt.Errorf("rcode %s, %d answers, %d additional, TC %v, AA %v; want %s, %d, %d",
					dns.RcodeToString[r.Rcode], len(r.Answer), extras, r.Truncated, r.Authoritative, dns.RcodeToString[rcode], n, extra)
			}
			for _, rr := range r.Answer {
				if rr.Header().Ttl != ttl || rr.Header().Name != r.Question[0].Name {
					return fmt.Errorf("record %v: want TTL %d at %s", rr, ttl, r.Question[0].Name)
				}
			}
			if n == 0 && (len(r.Ns) != 1 || r.Ns[0].Header().Rrtype != dns.TypeSOA) {
				return fmt.Errorf("negative answer without SOA: %v", r.Ns)
			}
			if n > 0 && len(r.Ns) != 0 {
				return fmt.Errorf("positive answer with authority %v", r.Ns)
			}
			return nil
		}
	}
	probes := []probe{
		{"a3.example.com.", dns.TypeA, answers(dns.RcodeSuccess, 3, 0, 60)},
		{"v6.example.com.", dns.TypeAAAA, answers(dns.RcodeSuccess, 1, 0, 61)},
		{"_s._tcp.example.com.", dns.TypeSRV, answers(dns.RcodeSuccess, 2, 4, 62)},
		{"many.example.com.", dns.TypeA, answers(dns.RcodeSuccess, 8, 0, 63)},
		{"A3.Example.com.", dns.TypeA, answers(dns.RcodeSuccess, 3, 0, 60)},
		{"nope.example.com.", dns.TypeA, answers(dns.RcodeNameError, 0, 0, 0)},
		{"a3.example.com.", dns.TypeAAAA, answers(dns.RcodeSuccess, 0, 0, 0)},
		{"example.com.", dns.TypeSOA, answers(dns.RcodeSuccess, 1, 0, 30)},
		{"example.org.", dns.TypeA, func(r *dns.Msg) error {
			if r.Rcode != dns.RcodeRefused || len(r.Answer)+len(r.Ns) != 0 || r.Authoritative {
				return fmt.Errorf("want a bare REFUSED: %v", r)
			}
			return nil
		}},
	}
	const workers, each = 8, 150
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			clients := map[string]*dns.Client{"udp": {Net: "udp"}, "tcp": {Net: "tcp"}}
			for i := range each {
				p := probes[(w+i)%len(probes)]
				network := nets[(w+i/len(probes))%2]
				m := question(p.name, p.qtype)
				if i%3 == 0 {
					m.SetEdns0(1232, false)
				}
				r, _, err := clients[network].Exchange(m, e.dns)
				if err == nil && (r.Id != m.Id || len(r.Question) != 1 || r.Question[0] != m.Question[0]) {
					err = fmt.Errorf("reply to another question: %v", r.Question)
				}
				if err == nil {
					err = p.check(r)
				}
				if err == nil && (m.IsEdns0() != nil) != (r.IsEdns0() != nil) {
					err = fmt.Errorf("EDNS0 in the query %v, in the reply %v", m.IsEdns0() != nil, r.IsEdns0() != nil)
				}
				if err != nil {
					errs <- fmt.Errorf("%s %s %s: %w", network, p.name, dns.TypeToString[p.qtype], err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The SRV answer's additional records are its own targets'.
	r := e.udp("_s._tcp.example.com.", dns.TypeSRV)
	var targets, owners []string
	for _, rr := range r.Answer {
		targets = append(targets, rr.(*dns.SRV).Target)
	}
	for _, rr := range r.Extra {
		if !slices.Contains(owners, rr.Header().Name) {
			owners = append(owners, rr.Header().Name)
		}
	}
	if !sameSet(targets, owners) {
		t.Errorf("SRV targets %v, additional owners %v", targets, owners)
	}
}
