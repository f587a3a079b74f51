package api_test

import (
	"context"
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
		b.Run(kind.name, func(b *testing.B) { benchRegister(b, handlerOver(b, kind.open(b), registry.Limits{})) })
	}
}

// BenchmarkStoreDiscoverInstances is BenchmarkDiscoverInstances on each
// store: reads are served from the in-memory view, whatever the store.
func BenchmarkStoreDiscoverInstances(b *testing.B) {
	for _, kind := range storeKinds(b) {
		b.Run(kind.name, func(b *testing.B) { benchDiscover(b, handlerOver(b, kind.open(b), registry.DefaultLimits())) })
	}
}
