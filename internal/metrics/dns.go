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

// dnsMetrics counts queries in a table of sharded counters indexed by
// type and rcode (see fast.go): a query costs two short loops and three
// atomic additions, mostly on cache lines no other core is using.
type dnsMetrics struct {
	queries              [][]counter // [type index][rcode index]
	latency              *histogram
	truncated            counter
	dropped, slipped     counter
	injected             *prometheus.CounterVec // set by New
	queriesDesc, latDesc *prometheus.Desc
	truncDesc, limDesc   *prometheus.Desc
}

func newDNSMetrics() *dnsMetrics {
	d := &dnsMetrics{
		latency: newHistogram(dnsBuckets),
		queriesDesc: prometheus.NewDesc(Namespace+"_dns_queries_total", "DNS queries answered, by query type and response code.",
			[]string{"qtype", "rcode"}, nil),
		latDesc:   prometheus.NewDesc(Namespace+"_dns_query_duration_seconds", "Time from a DNS query reaching the handler to its reply written.", nil, nil),
		truncDesc: prometheus.NewDesc(Namespace+"_dns_truncated_total", "UDP replies truncated (TC set) because the answer did not fit; the client retries over TCP.", nil, nil),
		limDesc: prometheus.NewDesc(Namespace+"_dns_rate_limited_total", "UDP responses held back by --dns-rrl, by action: drop (nothing sent), slip (an empty truncated reply sent instead).",
			[]string{"action"}, nil),
	}
	d.queries = make([][]counter, len(dnsTypes)+1)
	for i := range d.queries {
		d.queries[i] = make([]counter, len(dnsRcodes)+1)
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
	d.queries[i][j].inc()
	d.latency.observe(took)
	if truncated {
		d.truncated.inc()
	}
}

func (d *dnsMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- d.queriesDesc
	ch <- d.latDesc
	ch <- d.truncDesc
	ch <- d.limDesc
}

// Collect exposes every type and rcode pair: zeros too, so that rates
// start from the first scrape.
func (d *dnsMetrics) Collect(ch chan<- prometheus.Metric) {
	for i := range d.queries {
		qtype := "other"
		if i < len(dnsTypes) {
			qtype = mdns.TypeToString[dnsTypes[i]]
		}
		for j := range d.queries[i] {
			rcode := "other"
			if j < len(dnsRcodes) {
				rcode = mdns.RcodeToString[dnsRcodes[j]]
			}
			ch <- prometheus.MustNewConstMetric(d.queriesDesc, prometheus.CounterValue, float64(d.queries[i][j].load()), qtype, rcode)
		}
	}
	ch <- d.latency.metric(d.latDesc)
	ch <- prometheus.MustNewConstMetric(d.truncDesc, prometheus.CounterValue, float64(d.truncated.load()))
	ch <- prometheus.MustNewConstMetric(d.limDesc, prometheus.CounterValue, float64(d.dropped.load()), "drop")
	ch <- prometheus.MustNewConstMetric(d.limDesc, prometheus.CounterValue, float64(d.slipped.load()), "slip")
}

func (d *dnsMetrics) RateLimited(slipped bool) {
	if slipped {
		d.slipped.inc()
	} else {
		d.dropped.inc()
	}
}

func (d *dnsMetrics) FaultInjected(action string) { d.injected.WithLabelValues(action).Inc() }
