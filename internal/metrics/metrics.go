// Package metrics is cairn's Prometheus instrumentation: one Metrics per
// server, with its own registry (nothing is registered globally), that
// implements the observer interfaces of the API, DNS, health checks, the
// store and the registry's view, and reads the registry's counts when it
// is scraped.
//
// # Basics
//
// New builds every metric; the server hands m.API(), m.DNS(), m.Health(),
// m.Store() and m.View() to the parts it starts, then calls the Watch
// methods for the gauges computed at scrape time. Handler serves the
// registry in Prometheus' text format.
//
// # Caveats
//
// The hot paths (an API request, a DNS query) cost a few atomic additions:
// every counter and histogram they touch is resolved to its labelled child
// when the observer is built, never by a map lookup per request (errors,
// rarer, are looked up by their type). Labels are bounded: operation names,
// error types, DNS types and rcodes, accounts and regions that hold
// resources; never instance or request IDs.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cairn-dev/cairn/internal/api"
	"github.com/cairn-dev/cairn/internal/dns"
	"github.com/cairn-dev/cairn/internal/health"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/store"
)

// Namespace prefixes every cairn metric name.
const Namespace = "cairn"

// OutcomeOK is the outcome label of a request that succeeded; a request
// that failed has its AWS error type as outcome.
const OutcomeOK = "ok"

// Metrics is one server's metrics.
type Metrics struct {
	reg *prometheus.Registry

	api         *apiCollector
	authRefused *prometheus.CounterVec
	throttled   *prometheus.CounterVec
	injected    *prometheus.CounterVec

	dns *dnsMetrics

	probes      *prometheus.CounterVec
	probeTime   *prometheus.HistogramVec
	flips       *prometheus.CounterVec
	probeLag    prometheus.Histogram
	commitTime  prometheus.Histogram
	commitBatch prometheus.Histogram
	syncTime    prometheus.Histogram
	conflicts   prometheus.Counter
	retries     prometheus.Counter
	restarts    prometheus.Counter
	viewLag     prometheus.Histogram
	viewReloads prometheus.Counter
}

// Latency buckets, in seconds.
var (
	apiBuckets    = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
	dnsBuckets    = []float64{.00001, .000025, .00005, .0001, .00025, .0005, .001, .0025, .005, .01, .05}
	probeBuckets  = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2, 4, 6, 10}
	lagBuckets    = []float64{.001, .005, .01, .05, .1, .5, 1, 5, 10, 30}
	commitBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1}
	batchBuckets  = []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}
)

// New returns a server's metrics, with the Go runtime and process
// collectors registered.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{reg: reg}
	f := factory{reg}
	m.api, m.dns = newAPICollector(), newDNSMetrics()
	reg.MustRegister(m.api, m.dns)
	m.authRefused = f.counterVec("api_auth_refusals_total", "Requests refused by SigV4 verification, by reason.", "reason")
	m.throttled = f.counterVec("api_throttled_total", "Requests refused by --throttle (RequestLimitExceeded, ThrottlingException), by operation.", "operation")
	m.injected = f.counterVec("api_injected_faults_total", "Requests answered with an injected error (cairn fault add), by operation.", "operation")
	m.dns.injected = f.counterVec("dns_injected_faults_total", "DNS queries an injected fault applied to (cairn fault add), by action: SERVFAIL, NOANSWER, DELAY.", "action")
	m.probes = f.counterVec("health_probes_total", "Route 53-style health probes that ran to their end, by type (HTTP, HTTPS, TCP) and result (healthy, unhealthy).", "type", "result")
	m.probeTime = f.histogramVec("health_probe_duration_seconds", "Time a health probe took, by type.", probeBuckets, "type")
	m.flips = f.counterVec("health_status_changes_total", "Health check status changes, by the status changed to (healthy, unhealthy).", "to")
	m.probeLag = f.histogram("health_probe_lag_seconds", "How late health probes start after their due time (the scheduler's lag).", lagBuckets)
	m.commitTime = f.histogram("store_commit_duration_seconds", "Time a store commit took, from starting the transaction to durable.", commitBuckets)
	m.commitBatch = f.histogram("store_commit_batch_size", "Writes (Update calls) that shared one store commit.", batchBuckets)
	m.syncTime = f.histogram("store_sync_duration_seconds", "Time the embedded store spent writing and fsyncing a commit to disk (bolt only).", commitBuckets)
	m.conflicts = f.counter("store_conflicts_total", "etcd commits that lost to another writer.")
	m.retries = f.counter("store_conflict_retries_total", "etcd commits tried again after a conflict.")
	m.restarts = f.counter("store_watch_restarts_total", "Times the etcd watch that feeds the view reconnected.")
	m.viewLag = f.histogram("view_apply_lag_seconds", "Time from a write's durable commit to the in-memory view (reads and DNS) holding it.", commitBuckets)
	m.viewReloads = f.counter("view_reloads_total", "Times the in-memory view was rebuilt from the store because it fell too far behind.")
	for _, reason := range api.AuthReasons {
		m.authRefused.WithLabelValues(reason)
	}
	for _, kind := range []string{"HTTP", "HTTPS", "TCP"} {
		m.probes.WithLabelValues(kind, "healthy")
		m.probes.WithLabelValues(kind, "unhealthy")
	}
	m.flips.WithLabelValues("healthy")
	m.flips.WithLabelValues("unhealthy")
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry is the Prometheus registry of these metrics, for adding more
// or gathering in tests.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus' exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// factory makes and registers metrics named cairn_<name>.
type factory struct{ reg *prometheus.Registry }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) histogram(name, help string, buckets []float64) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets})
	f.reg.MustRegister(h)
	return h
}

func (f factory) histogramVec(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Name: name, Help: help, Buckets: buckets}, labels)
	f.reg.MustRegister(h)
	return h
}

func (f factory) gaugeFunc(name, help string, fn func() float64) {
	f.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, fn))
}

func (f factory) counterFunc(name, help string, fn func() float64) {
	f.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, fn))
}

// API returns the observer of the Cloud Map API handler.
func (m *Metrics) API() api.Observer { return apiObserver{m} }

type apiObserver struct{ m *Metrics }

func (o apiObserver) Operation(name string) api.OperationObserver { return o.m.api.op(name) }

func (o apiObserver) AuthRefused(reason string) { o.m.authRefused.WithLabelValues(reason).Inc() }

func (o apiObserver) Throttled(operation string)     { o.m.throttled.WithLabelValues(operation).Inc() }
func (o apiObserver) FaultInjected(operation string) { o.m.injected.WithLabelValues(operation).Inc() }

// Health returns the observer of the health checker.
func (m *Metrics) Health() health.Observer { return healthObserver{m} }

type healthObserver struct{ m *Metrics }

func (o healthObserver) Probed(kind string, healthy bool, took time.Duration) {
	result := "unhealthy"
	if healthy {
		result = "healthy"
	}
	// The duration first: a scrape that sees a probe counted then sees
	// its duration too (the e2e metrics test waits on the count).
	o.m.probeTime.WithLabelValues(kind).Observe(took.Seconds())
	o.m.probes.WithLabelValues(kind, result).Inc()
}

func (o healthObserver) Flipped(healthy bool) {
	to := "unhealthy"
	if healthy {
		to = "healthy"
	}
	o.m.flips.WithLabelValues(to).Inc()
}

func (o healthObserver) Lagged(lag time.Duration) { o.m.probeLag.Observe(lag.Seconds()) }

// Store returns the observer of the store's commits.
func (m *Metrics) Store() store.CommitObserver { return storeObserver{m} }

type storeObserver struct{ m *Metrics }

func (o storeObserver) Committed(batch int, took, sync time.Duration) {
	o.m.commitTime.Observe(took.Seconds())
	o.m.commitBatch.Observe(float64(batch))
	if sync > 0 {
		o.m.syncTime.Observe(sync.Seconds())
	}
}

func (o storeObserver) Conflicted(retried bool) {
	o.m.conflicts.Inc()
	if retried {
		o.m.retries.Inc()
	}
}

func (o storeObserver) WatchRestarted() { o.m.restarts.Inc() }

// View returns the observer of the registry's in-memory view.
func (m *Metrics) View() registry.Observer { return viewObserver{m} }

type viewObserver struct{ m *Metrics }

func (o viewObserver) ViewApplied(lag time.Duration) { o.m.viewLag.Observe(lag.Seconds()) }
func (o viewObserver) ViewReloaded()                 { o.m.viewReloads.Inc() }

// WatchRegistry adds the gauges of namespaces, services and instances per
// account and region, computed from r's view at each scrape.
func (m *Metrics) WatchRegistry(r *registry.Registry) {
	m.reg.MustRegister(&countsCollector{r: r,
		namespaces: prometheus.NewDesc(Namespace+"_namespaces", "Namespaces, by account and region.", []string{"account", "region"}, nil),
		services:   prometheus.NewDesc(Namespace+"_services", "Services, by account and region.", []string{"account", "region"}, nil),
		instances:  prometheus.NewDesc(Namespace+"_instances", "Registered instances, by account and region.", []string{"account", "region"}, nil),
	})
}

type countsCollector struct {
	r                               *registry.Registry
	namespaces, services, instances *prometheus.Desc
}

func (c *countsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.namespaces
	ch <- c.services
	ch <- c.instances
}

func (c *countsCollector) Collect(ch chan<- prometheus.Metric) {
	for _, sc := range c.r.Counts() {
		ch <- prometheus.MustNewConstMetric(c.namespaces, prometheus.GaugeValue, float64(sc.Namespaces), sc.Account, sc.Region)
		ch <- prometheus.MustNewConstMetric(c.services, prometheus.GaugeValue, float64(sc.Services), sc.Account, sc.Region)
		ch <- prometheus.MustNewConstMetric(c.instances, prometheus.GaugeValue, float64(sc.Instances), sc.Account, sc.Region)
	}
}

// WatchHealth adds the gauge of health checks this server runs and the
// counter of probes skipped, read from the checker's stats at each scrape.
func (m *Metrics) WatchHealth(stats func() health.Stats) {
	f := factory{m.reg}
	f.gaugeFunc("health_checks_owned", "Instances whose health checks this server runs (with etcd, its share of them).",
		func() float64 { return float64(stats().Targets) })
	f.counterFunc("health_probes_skipped_total", "Probe rounds skipped because the instance's previous probe was still running.",
		func() float64 { return float64(stats().Skipped) })
}

// WatchWaiting adds the gauge of ListOperations requests waiting for
// their turn (--list-operations-concurrency), read at each scrape.
func (m *Metrics) WatchWaiting(waiting func() int) {
	factory{m.reg}.gaugeFunc("api_list_operations_waiting", "ListOperations requests waiting for their turn (--list-operations-concurrency).",
		func() float64 { return float64(waiting()) })
}

// WatchCluster adds the gauge of live servers sharing the etcd store.
func (m *Metrics) WatchCluster(live func() int) {
	factory{m.reg}.gaugeFunc("cluster_members", "Live cairn servers sharing this server's etcd store (this one included).",
		func() float64 { return float64(live()) })
}

// DNS returns the observer of the DNS server.
func (m *Metrics) DNS() dns.Observer { return m.dns }
