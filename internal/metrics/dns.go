package metrics

import (
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// The DNS query types and rcodes counted by name; others count as "other".
var (
	dnsTypes  = []uint16{mdns.TypeA, mdns.TypeAAAA, mdns.TypeSRV, mdns.TypeCNAME, mdns.TypeSOA, mdns.TypeNS, mdns.TypeANY, mdns.TypeTXT, mdns.TypePTR}
	dnsRcodes = []int{mdns.RcodeSuccess, mdns.RcodeFormatError, mdns.RcodeServerFailure, mdns.RcodeNameError, mdns.RcodeNotImplemented, mdns.RcodeRefused, mdns.RcodeBadVers}
)

// dnsMetrics counts queries in a table of counters resolved when it is
// built, indexed by type and rcode: a query costs two small loops and
// three atomic additions.
type dnsMetrics struct {
	queries   [][]prometheus.Counter // [type index][rcode index]
	latency   prometheus.Histogram
	truncated prometheus.Counter
	injected  *prometheus.CounterVec
}

func newDNSMetrics(f factory) dnsMetrics {
	vec := f.counterVec("dns_queries_total", "DNS queries answered, by query type and response code.", "qtype", "rcode")
	d := dnsMetrics{
		latency:   f.histogram("dns_query_duration_seconds", "Time from a DNS query reaching the handler to its reply written.", dnsBuckets),
		truncated: f.counter("dns_truncated_total", "UDP replies truncated (TC set) because the answer did not fit; the client retries over TCP."),
		injected:  f.counterVec("dns_injected_faults_total", "DNS queries an injected fault applied to (cairn fault add), by action: SERVFAIL, NOANSWER, DELAY.", "action"),
	}
	d.queries = make([][]prometheus.Counter, len(dnsTypes)+1)
	for i := range d.queries {
		qtype := "other"
		if i < len(dnsTypes) {
			qtype = mdns.TypeToString[dnsTypes[i]]
		}
		d.queries[i] = make([]prometheus.Counter, len(dnsRcodes)+1)
		for j := range d.queries[i] {
			rcode := "other"
			if j < len(dnsRcodes) {
				rcode = mdns.RcodeToString[dnsRcodes[j]]
			}
			d.queries[i][j] = vec.WithLabelValues(qtype, rcode)
		}
	}
	return d
}

func (d *dnsMetrics) Answered(qtype uint16, rcode int, truncated bool, took time.Duration) {
	i := 0
	for i < len(dnsTypes) && dnsTypes[i] != qtype {
		i++
	}
	j := 0
	for j < len(dnsRcodes) && dnsRcodes[j] != rcode {
		j++
	}
	d.queries[i][j].Inc()
	d.latency.Observe(took.Seconds())
	if truncated {
		d.truncated.Inc()
	}
}

func (d *dnsMetrics) FaultInjected(action string) { d.injected.WithLabelValues(action).Inc() }
