//go:build unix

package metrics

import (
	dto "github.com/prometheus/client_model/go"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// cpuTime is the CPU time the process has used: per operation it is
// disturbed far less by other work on a shared machine than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkHotPathSharded is what a request's metrics cost here: one
// counter and one latency histogram of this package's, from every core.
func BenchmarkHotPathSharded(b *testing.B) {
	var c counter
	h := newHistogram(apiBuckets)
	start := cpuTime()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.inc()
			h.observe(7 * time.Microsecond)
		}
	})
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkHotPathClientGolang is the same with client_golang's counter
// and histogram, for comparison.
func BenchmarkHotPathClientGolang(b *testing.B) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "c"})
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "h", Buckets: apiBuckets})
	start := cpuTime()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Inc()
			h.Observe((7 * time.Microsecond).Seconds())
		}
	})
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

func TestHistogramBuckets(t *testing.T) {
	h := newHistogram([]float64{.001, .01})
	for _, d := range []time.Duration{time.Microsecond, time.Millisecond, 2 * time.Millisecond, time.Second} {
		h.observe(d)
	}
	desc := prometheus.NewDesc("x", "x", nil, nil)
	var m = h.metric(desc)
	var pb = new(dto.Metric)
	if err := m.Write(pb); err != nil {
		t.Fatal(err)
	}
	hist := pb.GetHistogram()
	if hist.GetSampleCount() != 4 || hist.GetBucket()[0].GetCumulativeCount() != 2 || hist.GetBucket()[1].GetCumulativeCount() != 3 {
		t.Errorf("histogram %v", hist)
	}
	if got, want := hist.GetSampleSum(), 1.003001; got < want-1e-9 || got > want+1e-9 {
		t.Errorf("sum %v; want %v", got, want)
	}
}
