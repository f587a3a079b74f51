package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cairn-dev/cairn/internal/api"
	"github.com/cairn-dev/cairn/internal/logging"
	"github.com/cairn-dev/cairn/internal/metrics"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/store/bolt"
)

// benchHandler is an API handler over a real registry and a durable bolt
// store in a temporary folder.
func benchHandler(b *testing.B, limits registry.Limits) http.Handler {
	return benchHandlerWith(b, limits, nil)
}

// benchHandlerWith is benchHandler with the handler's configuration
// changed by with.
func benchHandlerWith(b *testing.B, limits registry.Limits, with func(*api.Config)) http.Handler {
	b.Helper()
	st, err := bolt.Open(b.TempDir(), bolt.DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	reg, err := registry.New(context.Background(), st, registry.Config{Limits: limits})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { reg.Close(); _ = st.Close() })
	cfg := api.Config{Registry: reg, DefaultRegion: "us-east-1", AccountID: "000000000000"}
	if with != nil {
		with(&cfg)
	}
	return api.New(cfg)
}

// discardWriter is the cheapest http.ResponseWriter: the benchmark
// measures the handler, not a recorder.
type discardWriter struct {
	h      http.Header
	status int
	n      int
	body   []byte
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(s int)   { w.status = s }
func (w *discardWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	w.body = append(w.body[:0], p...)
	return len(p), nil
}

// call sends one operation through the handler and decodes the result.
func call(b testing.TB, h http.Handler, op string, in any, out any) {
	b.Helper()
	body, _ := json.Marshal(in)
	req, _ := http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", api.TargetPrefix+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	w := &discardWriter{h: http.Header{}, status: 200}
	h.ServeHTTP(w, req)
	if w.status != 200 {
		b.Fatalf("%s: status %d: %s", op, w.status, w.body)
	}
	if out != nil {
		if err := json.Unmarshal(w.body, out); err != nil {
			b.Fatalf("%s: %v", op, err)
		}
	}
}

// setupService creates an HTTP namespace "bench" and a service "svc" in it,
// and returns the service ID.
func setupService(b testing.TB, h http.Handler) string {
	var op struct{ OperationId string }
	call(b, h, "CreateHttpNamespace", map[string]any{"Name": "bench"}, &op)
	var got struct {
		Operation struct{ Targets map[string]string }
	}
	call(b, h, "GetOperation", map[string]any{"OperationId": op.OperationId}, &got)
	var svc struct{ Service struct{ Id string } }
	call(b, h, "CreateService", map[string]any{"Name": "svc", "NamespaceId": got.Operation.Targets["NAMESPACE"]}, &svc)
	return svc.Service.Id
}

// BenchmarkDiscoverInstances: a service of 100 instances with 5 attributes
// each; the query matches 10 of them.
func BenchmarkDiscoverInstances(b *testing.B) {
	benchDiscover(b, benchHandler(b, registry.DefaultLimits()))
}

// BenchmarkDiscoverInstancesMetrics is BenchmarkDiscoverInstances with
// the Prometheus metrics on, as `cairn serve` runs by default: the pair
// measures what the metrics cost.
func BenchmarkDiscoverInstancesMetrics(b *testing.B) {
	benchDiscover(b, benchHandlerWith(b, registry.DefaultLimits(), func(c *api.Config) { c.Observer = metrics.New().API() }))
}

// BenchmarkDiscoverInstancesAccessLog is BenchmarkDiscoverInstances with
// the metrics and a JSON access log (to io.Discard, so that the
// benchmark measures the logging, not a disk).
func BenchmarkDiscoverInstancesAccessLog(b *testing.B) {
	log, _ := logging.New(io.Discard, logging.FormatJSON, nil)
	benchDiscover(b, benchHandlerWith(b, registry.DefaultLimits(), func(c *api.Config) {
		c.Observer, c.AccessLog = metrics.New().API(), log
	}))
}

// BenchmarkRegisterInstance: durable registrations from 64 concurrent
// writers (b.SetParallelism(32) on 2 cores), each a new instance.
func BenchmarkRegisterInstance(b *testing.B) {
	benchRegister(b, benchHandler(b, registry.Limits{}))
}

// benchDiscover seeds a service of 100 instances with 5 attributes each
// into h and measures DiscoverInstances queries that match 10 of them.
func benchDiscover(b *testing.B, h http.Handler) {
	svcID := setupService(b, h)
	for i := range 100 {
		stage := "prod"
		if i%10 == 0 {
			stage = "canary"
		}
		call(b, h, "RegisterInstance", map[string]any{"ServiceId": svcID, "InstanceId": fmt.Sprintf("i-%03d", i),
			"Attributes": map[string]string{"AWS_INSTANCE_IPV4": fmt.Sprintf("10.0.0.%d", i), "AWS_INSTANCE_PORT": "8080",
				"stage": stage, "zone": "us-east-1a", "version": "1.2.3"}}, nil)
	}
	body := []byte(`{"NamespaceName":"bench","ServiceName":"svc","QueryParameters":{"stage":"canary"}}`)
	var check struct{ Instances []struct{ InstanceId string } }
	call(b, h, "DiscoverInstances", json.RawMessage(body), &check)
	if len(check.Instances) != 10 {
		b.Fatalf("query matched %d instances, want 10", len(check.Instances))
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	defer reportCPU(b, cpu)
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		rd := bytes.NewReader(body)
		req, _ := http.NewRequest(http.MethodPost, "/", rd)
		req.Header.Set("X-Amz-Target", api.TargetPrefix+"DiscoverInstances")
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		for pb.Next() {
			rd.Reset(body)
			clear(w.h)
			w.status = 200
			h.ServeHTTP(w, req)
			if w.status != 200 {
				b.Errorf("status %d: %s", w.status, w.body)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
}

// benchRegister measures durable registrations of new instances into h
// from 64 concurrent writers on 2 cores.
func benchRegister(b *testing.B, h http.Handler) {
	svcID := setupService(b, h)
	var seq atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := &discardWriter{h: http.Header{}}
		for pb.Next() {
			n := seq.Add(1)
			body := fmt.Appendf(nil, `{"ServiceId":%q,"InstanceId":"i-%d","Attributes":{"AWS_INSTANCE_IPV4":"10.1.%d.%d","stage":"prod"}}`,
				svcID, n, n/256%256, n%256)
			req, _ := http.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
			req.Header.Set("X-Amz-Target", api.TargetPrefix+"RegisterInstance")
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			clear(w.h)
			w.status = 200
			h.ServeHTTP(w, req)
			if w.status != 200 {
				b.Errorf("status %d: %s", w.status, w.body)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "registrations/s")
}

// reportCPU reports the CPU time per operation since start.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}
