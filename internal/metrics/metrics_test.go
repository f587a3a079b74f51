package metrics_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"github.com/cairn-dev/cairn/internal/metrics"
)

// exposition returns what /metrics serves.
func exposition(t testing.TB, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func TestObservers(t *testing.T) {
	m := metrics.New()
	op := m.API().Operation("DiscoverInstances")
	op.Served("", time.Millisecond)
	op.Served("", time.Millisecond)
	op.Served("ServiceNotFound", time.Millisecond)
	m.API().AuthRefused("signature_expired")
	m.API().Throttled("DiscoverInstances")
	m.API().FaultInjected("RegisterInstance")
	m.DNS().FaultInjected("SERVFAIL")
	d := m.DNS()
	d.Answered(mdns.TypeA, mdns.RcodeSuccess, false, time.Microsecond)
	d.Answered(mdns.TypeSRV, mdns.RcodeSuccess, true, time.Microsecond)
	d.Answered(mdns.TypeMX, mdns.RcodeNameError, false, time.Microsecond) // counted as other
	d.Answered(mdns.TypeA, 11, false, time.Microsecond)                   // an unlisted rcode
	m.Health().Probed("TCP", false, time.Second)
	m.Health().Flipped(false)
	m.Health().Lagged(time.Millisecond)
	m.Store().Committed(8, time.Millisecond, 500*time.Microsecond)
	m.Store().Conflicted(true)
	m.Store().Conflicted(false)
	m.Store().WatchRestarted()
	m.View().ViewApplied(time.Microsecond)
	m.View().ViewReloaded()
	out := exposition(t, m)
	for _, want := range []string{
		`cairn_api_requests_total{operation="DiscoverInstances",outcome="ok"} 2`,
		`cairn_api_requests_total{operation="DiscoverInstances",outcome="ServiceNotFound"} 1`,
		`cairn_api_request_duration_seconds_count{operation="DiscoverInstances"} 3`,
		`cairn_api_auth_refusals_total{reason="signature_expired"} 1`,
		`cairn_api_auth_refusals_total{reason="signature_mismatch"} 0`,
		`cairn_dns_queries_total{qtype="A",rcode="NOERROR"} 1`,
		`cairn_dns_queries_total{qtype="SRV",rcode="NOERROR"} 1`,
		`cairn_dns_queries_total{qtype="other",rcode="NXDOMAIN"} 1`,
		`cairn_dns_queries_total{qtype="A",rcode="other"} 1`,
		`cairn_dns_truncated_total 1`,
		`cairn_dns_query_duration_seconds_count 4`,
		`cairn_health_probes_total{result="unhealthy",type="TCP"} 1`,
		`cairn_health_status_changes_total{to="unhealthy"} 1`,
		`cairn_health_probe_lag_seconds_count 1`,
		`cairn_store_commit_batch_size_sum 8`,
		`cairn_store_sync_duration_seconds_count 1`,
		`cairn_store_conflicts_total 2`,
		`cairn_store_conflict_retries_total 1`,
		`cairn_store_watch_restarts_total 1`,
		`cairn_view_apply_lag_seconds_count 1`,
		`cairn_view_reloads_total 1`,
		`cairn_api_throttled_total{operation="DiscoverInstances"} 1`,
		`cairn_api_injected_faults_total{operation="RegisterInstance"} 1`,
		`cairn_dns_injected_faults_total{action="SERVFAIL"} 1`,
		`# TYPE go_goroutines gauge`,
	} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestRegistriesApart: two servers in one process keep their own counts.
// The gauge of ListOperations requests waiting for their turn reads the
// count it is given at each scrape.
func TestWatchWaiting(t *testing.T) {
	m := metrics.New()
	n := 3
	m.WatchWaiting(func() int { return n })
	if out := exposition(t, m); !strings.Contains(out, "cairn_api_list_operations_waiting 3\n") {
		t.Errorf("/metrics lacks cairn_api_list_operations_waiting 3:\n%s", out)
	}
	n = 0
	if out := exposition(t, m); !strings.Contains(out, "cairn_api_list_operations_waiting 0\n") {
		t.Errorf("/metrics lacks cairn_api_list_operations_waiting 0 once none waits")
	}
}

func TestRegistriesApart(t *testing.T) {
	a, b := metrics.New(), metrics.New()
	a.API().AuthRefused("other")
	if out := exposition(t, b); !strings.Contains(out, `cairn_api_auth_refusals_total{reason="other"} 0`) {
		t.Error("a second Metrics saw the first one's count")
	}
}

// BenchmarkAPIServed is what an API request pays for the metrics: its
// operation's counter and histogram, from every core at once.
func BenchmarkAPIServed(b *testing.B) {
	op := metrics.New().API().Operation("DiscoverInstances")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			op.Served("", 7*time.Microsecond)
		}
	})
}

// BenchmarkDNSAnswered is what a DNS query pays for the metrics.
func BenchmarkDNSAnswered(b *testing.B) {
	d := metrics.New().DNS()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			d.Answered(mdns.TypeA, mdns.RcodeSuccess, false, 3*time.Microsecond)
		}
	})
}

func Example() {
	m := metrics.New()
	m.API().Operation("ListNamespaces").Served("", 2*time.Millisecond)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, "cairn_api_requests_total") {
			fmt.Println(line)
		}
	}
	// Output: cairn_api_requests_total{operation="ListNamespaces",outcome="ok"} 1
}
