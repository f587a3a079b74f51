package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/cairn-dev/cairn/internal/api"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/bolt"
	"github.com/cairn-dev/cairn/internal/store/etcd"
	"github.com/cairn-dev/cairn/internal/store/etcd/etcdtest"
)

// storeKinds open a fresh store of each kind cairn runs on: the embedded
// store (durable, in a temporary folder) and etcd (a local single-member
// etcd started once per benchmark, a new key prefix per run). The etcd
// kind is skipped without an etcd binary.
func storeKinds(parent *testing.B) []struct {
	name string
	open func(b *testing.B) store.Store
} {
	var srv *etcdtest.Server
	var runs atomic.Int64
	return []struct {
		name string
		open func(b *testing.B) store.Store
	}{
		{"bolt", func(b *testing.B) store.Store {
			st, err := bolt.Open(b.TempDir(), bolt.DefaultOptions())
			if err != nil {
				b.Fatal(err)
			}
			return st
		}},
		{"etcd", func(b *testing.B) store.Store {
			if etcdtest.Binary() == "" {
				b.Skip(etcdtest.SkipMessage)
			}
			if srv == nil {
				srv = etcdtest.Start(parent) // stopped when the parent ends, not after each run
			}
			st, err := etcd.Open(context.Background(), etcd.Options{Endpoints: srv.Endpoints(), Prefix: fmt.Sprintf("/bench/%d/", runs.Add(1))})
			if err != nil {
				b.Fatal(err)
			}
			return st
		}},
	}
}

// handlerOver is an API handler over a registry over st, which it closes
// when the benchmark ends.
func handlerOver(b *testing.B, st store.Store, limits registry.Limits) http.Handler {
	b.Helper()
	reg, err := registry.New(context.Background(), st, registry.Config{Limits: limits})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { reg.Close(); _ = st.Close() })
	return api.New(api.Config{Registry: reg, DefaultRegion: "us-east-1", AccountID: "000000000000"})
}

// BenchmarkStoreRegisterInstance is BenchmarkRegisterInstance on each
// store: durable registrations of new instances from 64 concurrent writers.
//
//	go test -run '^$' -bench 'BenchmarkStore' -benchtime 3s ./internal/api/
func BenchmarkStoreRegisterInstance(b *testing.B) {
	for _, kind := range storeKinds(b) {
		b.Run(kind.name, func(b *testing.B) {
			h := handlerOver(b, kind.open(b), registry.Limits{})
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
		})
	}
}

// BenchmarkStoreDiscoverInstances is BenchmarkDiscoverInstances on each
// store: reads are served from the in-memory view, whatever the store.
func BenchmarkStoreDiscoverInstances(b *testing.B) {
	for _, kind := range storeKinds(b) {
		b.Run(kind.name, func(b *testing.B) {
			h := handlerOver(b, kind.open(b), registry.DefaultLimits())
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
		})
	}
}
