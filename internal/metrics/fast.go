package metrics

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// The metrics of the hot paths (an API request, a DNS query) are kept in
// counters and histograms of their own rather than client_golang's: each
// is split in shards picked at random per update, so that the cores
// serving requests at once do not all add to the same cache line, and a
// histogram's sum is an integer of nanoseconds added atomically rather
// than a float updated in a compare-and-swap loop. They are exposed as
// ordinary Prometheus counters and histograms, summed over the shards at
// each scrape.

// shards is the number of shards of each counter (a power of two).
const shards = 8

// padded is one shard of a counter, alone on its cache line.
type padded struct {
	n atomic.Uint64
	_ [56]byte
}

// counter is a sharded counter.
type counter struct{ s [shards]padded }

func (c *counter) inc() { c.s[rand.Uint32()&(shards-1)].n.Add(1) }

func (c *counter) load() uint64 {
	var n uint64
	for i := range c.s {
		n += c.s[i].n.Load()
	}
	return n
}

// histogram is a sharded histogram of durations.
type histogram struct {
	bounds  []time.Duration // upper bounds of the buckets, ascending
	seconds []float64       // the same, in seconds, for the exposition
	s       [shards]*histShard
}

// histShard is one shard: a count per bucket (and one past the last
// bound) and the sum of the durations, in nanoseconds.
type histShard struct {
	counts []atomic.Uint64
	sum    atomic.Int64
	_      [56]byte
}

func newHistogram(buckets []float64) *histogram {
	h := &histogram{seconds: buckets}
	for _, b := range buckets {
		h.bounds = append(h.bounds, time.Duration(b*float64(time.Second)))
	}
	for i := range h.s {
		h.s[i] = &histShard{counts: make([]atomic.Uint64, len(buckets)+1)}
	}
	return h
}

func (h *histogram) observe(d time.Duration) {
	i := 0
	for i < len(h.bounds) && d > h.bounds[i] {
		i++
	}
	s := h.s[rand.Uint32()&(shards-1)]
	s.counts[i].Add(1)
	s.sum.Add(int64(d))
}

// metric returns the histogram as a Prometheus const histogram.
func (h *histogram) metric(desc *prometheus.Desc, labels ...string) prometheus.Metric {
	counts := make([]uint64, len(h.bounds)+1)
	var sum int64
	for _, s := range h.s {
		for i := range counts {
			counts[i] += s.counts[i].Load()
		}
		sum += s.sum.Load()
	}
	buckets := make(map[float64]uint64, len(h.bounds))
	var cum uint64
	for i, b := range h.seconds {
		cum += counts[i]
		buckets[b] = cum
	}
	cum += counts[len(h.bounds)]
	return prometheus.MustNewConstHistogram(desc, cum, time.Duration(sum).Seconds(), buckets, labels...)
}

// apiOp is one operation's request metrics.
type apiOp struct {
	name    string
	ok      counter
	latency *histogram
	mu      sync.Mutex
	errs    map[string]*counter // by error type; rare, so under a mutex
}

func (o *apiOp) Served(errType string, took time.Duration) {
	if errType == "" {
		o.ok.inc()
	} else {
		o.mu.Lock()
		c := o.errs[errType]
		if c == nil {
			c = new(counter)
			o.errs[errType] = c
		}
		o.mu.Unlock()
		c.inc()
	}
	o.latency.observe(took)
}

// apiCollector exposes the API's request counters and latencies.
type apiCollector struct {
	requests, latency *prometheus.Desc
	mu                sync.Mutex
	ops               map[string]*apiOp
	order             []*apiOp
}

func newAPICollector() *apiCollector {
	return &apiCollector{
		requests: prometheus.NewDesc(Namespace+"_api_requests_total",
			"Cloud Map API requests, by operation and outcome (ok, or the AWS error type sent).", []string{"operation", "outcome"}, nil),
		latency: prometheus.NewDesc(Namespace+"_api_request_duration_seconds",
			"Time from a Cloud Map API request's arrival to its response written, by operation.", []string{"operation"}, nil),
		ops: map[string]*apiOp{},
	}
}

// op returns the metrics of an operation, the same for every call with
// its name.
func (c *apiCollector) op(name string) *apiOp {
	c.mu.Lock()
	defer c.mu.Unlock()
	o := c.ops[name]
	if o == nil {
		o = &apiOp{name: name, latency: newHistogram(apiBuckets), errs: map[string]*counter{}}
		c.ops[name] = o
		c.order = append(c.order, o)
	}
	return o
}

func (c *apiCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.requests
	ch <- c.latency
}

func (c *apiCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	ops := append([]*apiOp(nil), c.order...)
	c.mu.Unlock()
	for _, o := range ops {
		ch <- prometheus.MustNewConstMetric(c.requests, prometheus.CounterValue, float64(o.ok.load()), o.name, OutcomeOK)
		o.mu.Lock()
		for errType, n := range o.errs {
			ch <- prometheus.MustNewConstMetric(c.requests, prometheus.CounterValue, float64(n.load()), o.name, errType)
		}
		o.mu.Unlock()
		ch <- o.latency.metric(c.latency, o.name)
	}
}
