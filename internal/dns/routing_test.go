package dns_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/miekg/dns"
)

// answers queries name/A n times (alternating UDP and TCP) and returns
// each answer's address set.
func (e *env) answers(name string, n int) [][]string {
	e.t.Helper()
	out := make([][]string, 0, n)
	for i := range n {
		r := e.query(nets[i%2], name, dns.TypeA)
		checkAuthoritative(e.t, r, dns.RcodeSuccess)
		out = append(out, addrs(e.t, r.Answer, name, 60))
	}
	return out
}

// registerN registers n instances i-0 … i-(n-1) at 192.0.2.<i+1> and
// returns their addresses.
func (e *env) registerN(svc string, n int) []string {
	e.t.Helper()
	var all []string
	for i := range n {
		ip := fmt.Sprintf("192.0.2.%d", i+1)
		e.register(svc, fmt.Sprintf("i-%d", i), v4(ip))
		all = append(all, ip)
	}
	return all
}

// checkSubsets checks that every answer has want distinct records drawn
// from pool.
func checkSubsets(t *testing.T, answers [][]string, pool []string, want int) {
	t.Helper()
	for _, a := range answers {
		if len(a) != want {
			t.Fatalf("answer %v has %d records, want %d", a, len(a), want)
		}
		for i, ip := range a {
			if !slices.Contains(pool, ip) {
				t.Fatalf("answer %v has %s, not one of %v", a, ip, pool)
			}
			if i > 0 && a[i-1] == ip {
				t.Fatalf("answer %v repeats %s", a, ip)
			}
		}
	}
}

// seen returns the distinct answers and the distinct addresses in them.
func seen(answers [][]string) (sets, ips map[string]bool) {
	sets, ips = map[string]bool{}, map[string]bool{}
	for _, a := range answers {
		sets[key(a)] = true
		for _, ip := range a {
			ips[ip] = true
		}
	}
	return sets, ips
}

func TestMultivalue_AtMostEightRandomRecords(t *testing.T) {
	e := newEnv(t)
	ns := e.privateNS("example.com", -1)
	svc := e.service(ns, svcSpec{name: "many", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	all := e.registerN(svc, 20)
	answers := e.answers("many.example.com", 200)
	checkSubsets(t, answers, all, 8)
	sets, ips := seen(answers)
	// 200 draws of 8 among 20 (125,970 subsets): a server that answered
	// a fixed or rotating few would show few distinct sets. Loose bounds.
	if len(sets) < 50 {
		t.Errorf("200 queries gave only %d distinct answers; want random subsets", len(sets))
	}
	if len(ips) != len(all) {
		t.Errorf("200 queries showed %d of the %d addresses", len(ips), len(all))
	}
	t.Logf("MULTIVALUE, 20 healthy: %d distinct 8-record answers in 200 queries", len(sets))
}

func TestMultivalue_AllHealthyWhenFewerThanEight(t *testing.T) {
	e := newEnv(t)
	ns := e.privateNS("example.com", -1)
	svc := e.service(ns, svcSpec{name: "few", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	for _, n := range []int{1, 5, 8} {
		all := e.registerN(svc, n)
		for _, a := range e.answers("few.example.com", 10) {
			if !sameSet(a, all) {
				t.Errorf("%d instances: answer %v, want all of %v", n, a, all)
			}
		}
	}
	// A ninth: now 8 of 9.
	all := e.registerN(svc, 9)
	checkSubsets(t, e.answers("few.example.com", 20), all, 8)
}

func TestWeighted_OneRandomRecord(t *testing.T) {
	e := newEnv(t)
	ns := e.privateNS("example.com", -1)
	svc := e.service(ns, svcSpec{name: "one", policy: types.RoutingPolicyWeighted, records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	all := e.registerN(svc, 5)
	answers := e.answers("one.example.com", 200)
	checkSubsets(t, answers, all, 1)
	// Each of 5 equally weighted instances is missed by 200 draws with
	// probability 0.8^200 ≈ 4e-20.
	if _, ips := seen(answers); len(ips) != len(all) {
		t.Errorf("200 WEIGHTED answers chose %d of the %d instances", len(ips), len(all))
	}
}

func TestHealth_UnhealthyExcludedAndFailOpen(t *testing.T) {
	e := newEnv(t)
	ns := e.privateNS("example.com", -1)
	multi := e.service(ns, svcSpec{name: "multi", custom: true, records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	all := e.registerN(multi, 12)
	// Three healthy of twelve: the answer is exactly those three.
	for i := 3; i < 12; i++ {
		e.health(multi, fmt.Sprintf("i-%d", i), types.CustomHealthStatusUnhealthy)
	}
	for _, a := range e.answers("multi.example.com", 20) {
		if !sameSet(a, all[:3]) {
			t.Fatalf("answer %v, want the healthy %v", a, all[:3])
		}
	}
	// None healthy: fail open, up to 8 of the unhealthy ones.
	for i := range 3 {
		e.health(multi, fmt.Sprintf("i-%d", i), types.CustomHealthStatusUnhealthy)
	}
	answers := e.answers("multi.example.com", 50)
	checkSubsets(t, answers, all, 8)
	if sets, _ := seen(answers); len(sets) < 2 {
		t.Errorf("fail-open answers are all the same: %v", answers[0])
	}
	// One back to healthy: it alone answers.
	e.health(multi, "i-7", types.CustomHealthStatusHealthy)
	for _, a := range e.answers("multi.example.com", 10) {
		if !slices.Equal(a, []string{all[7]}) {
			t.Fatalf("answer %v, want only the healthy %s", a, all[7])
		}
	}

	weighted := e.service(ns, svcSpec{name: "weighted", policy: types.RoutingPolicyWeighted, custom: true,
		records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	wall := e.registerN(weighted, 3)
	e.health(weighted, "i-0", types.CustomHealthStatusUnhealthy)
	e.health(weighted, "i-2", types.CustomHealthStatusUnhealthy)
	for _, a := range e.answers("weighted.example.com", 20) {
		if !slices.Equal(a, []string{wall[1]}) {
			t.Fatalf("WEIGHTED answer %v, want the healthy %s", a, wall[1])
		}
	}
	// None healthy: one of all, at random.
	e.health(weighted, "i-1", types.CustomHealthStatusUnhealthy)
	answers = e.answers("weighted.example.com", 60)
	checkSubsets(t, answers, wall, 1)
	if _, ips := seen(answers); len(ips) < 2 {
		t.Errorf("WEIGHTED fail-open answered only %v in 60 queries", ips)
	}

	// AWS_INIT_HEALTH_STATUS=UNHEALTHY keeps a new instance out.
	e.register(weighted, "i-1", map[string]string{"AWS_INSTANCE_IPV4": wall[1]}) // healthy again by re-registration
	e.register(weighted, "late", map[string]string{"AWS_INSTANCE_IPV4": "192.0.2.200", "AWS_INIT_HEALTH_STATUS": "UNHEALTHY"})
	for _, a := range e.answers("weighted.example.com", 20) {
		if !slices.Equal(a, []string{wall[1]}) {
			t.Fatalf("answer %v, want only %s (the new instance starts UNHEALTHY)", a, wall[1])
		}
	}
}

// Services without a health check count as healthy, whatever their
// instances say.
func TestHealth_NoHealthCheckAllHealthy(t *testing.T) {
	e := newEnv(t)
	ns := e.privateNS("example.com", -1)
	svc := e.service(ns, svcSpec{name: "plain", records: map[types.RecordType]int64{types.RecordTypeA: 60}})
	all := e.registerN(svc, 3)
	for _, a := range e.answers("plain.example.com", 5) {
		if !sameSet(a, all) {
			t.Fatalf("answer %v, want %v", a, all)
		}
	}
}
