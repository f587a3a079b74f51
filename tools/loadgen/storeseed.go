package loadgen

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/registry"
	"github.com/cairn-dev/cairn/internal/store"
	"github.com/cairn-dev/cairn/internal/store/bolt"
)

// Shape is how a number of instances is spread: namespaces × services
// per namespace × instances per service.
type Shape struct {
	Namespaces, Services, Instances int
}

// Total is the number of instances.
func (s Shape) Total() int { return s.Namespaces * s.Services * s.Instances }

func (s Shape) String() string {
	return fmt.Sprintf("%d namespaces × %d services × %d instances", s.Namespaces, s.Services, s.Instances)
}

// ShapeFor spreads n instances the way a large deployment does: up to
// 1,000 instances per service (AWS's quota), up to 10 services per
// namespace, and as many namespaces as that takes (1M = 100 × 10 ×
// 1,000).
func ShapeFor(n int) Shape {
	per := min(n, 1000)
	svcs := max(min(n/per, 10), 1)
	ns := max(n/(per*svcs), 1)
	return Shape{Namespaces: ns, Services: svcs, Instances: per}
}

// StoreSeedResult is what SeedStore did.
type StoreSeedResult struct {
	Instances int           `json:"instances"`
	Took      time.Duration `json:"-"`
	Seconds   float64       `json:"seconds"`
	// AttrBytes is the mean of the instances' attribute bytes (keys and
	// values).
	AttrBytes float64 `json:"attr_bytes_per_instance"`
	// ViewBytes is the Go heap the registry's view keeps per instance
	// once loaded from the store (measured in this process after GC);
	// ViewLoad is how long loading it took here.
	ViewBytes   float64 `json:"view_heap_bytes_per_instance"`
	ViewLoadSec float64 `json:"view_load_seconds"`
	// StoreBytes is the size of the store file.
	StoreBytes int64 `json:"store_bytes"`
}

// SeedStore registers the plan's namespaces, services and instances
// straight into a cairn data directory: it opens the bolt store there
// (without fsync, for seeding only) with the registry over it, in this
// process, and calls the registry's own operations, so the data is
// exactly what the API would have written. With dropOps the operation
// records the seeding made are expired before it closes, as a
// deployment whose instances were registered more than the retention
// period ago has none. It then measures the view a fresh registry
// builds from the store. Every instance runs in account/region, to be
// served by a cairn started with the same.
func SeedStore(ctx context.Context, dir string, p Plan, c registry.Caller, dropOps bool, conc int, log io.Writer) (*StoreSeedResult, error) {
	began := time.Now()
	st, err := bolt.Open(dir, bolt.Options{NoSync: true})
	if err != nil {
		return nil, err
	}
	reg, err := registry.New(ctx, st, registry.Config{Limits: registry.Limits{}})
	if err != nil {
		st.Close()
		return nil, err
	}
	closeAll := func() {
		reg.Close()
		st.Close()
	}
	svcIDs := make([][]string, p.Namespaces)
	for i := range p.Namespaces {
		out, err := reg.CreateHttpNamespace(ctx, c, &cloudmap.CreateHttpNamespaceRequest{Name: p.nsName(i)})
		if err != nil {
			closeAll()
			return nil, err
		}
		op, err := reg.GetOperation(ctx, c, &cloudmap.GetOperationRequest{OperationId: out.OperationId})
		if err != nil {
			closeAll()
			return nil, err
		}
		nsID := op.Operation.Targets[cloudmap.OperationTargetTypeNamespace]
		for j := range p.Services {
			svc, err := reg.CreateService(ctx, c, &cloudmap.CreateServiceRequest{Name: p.svcName(j), NamespaceId: nsID})
			if err != nil {
				closeAll()
				return nil, err
			}
			svcIDs[i] = append(svcIDs[i], svc.Service.Id)
		}
	}
	total := p.TotalInstances()
	var attrBytes atomic.Int64
	err = parallel(total, conc, 5*time.Second, func(done, total int) {
		fmt.Fprintf(log, "seeding the store: %d/%d instances\n", done, total)
	}, func() func(n int) error {
		return func(n int) error {
			k := n % p.Instances
			j := n / p.Instances % p.Services
			i := n / (p.Instances * p.Services)
			attrs := InstanceAttributes(i, j, k)
			attrBytes.Add(int64(AttributeBytes(attrs)))
			_, err := reg.RegisterInstance(ctx, c, &cloudmap.RegisterInstanceRequest{ServiceId: svcIDs[i][j], InstanceId: instanceID(k), Attributes: attrs})
			return err
		}
	})
	if err != nil {
		closeAll()
		return nil, err
	}
	reg.Close()
	if dropOps {
		// A registry whose retention is a nanosecond expires every
		// finished operation when it starts (its janitor's first pass).
		r2, err := registry.New(ctx, st, registry.Config{Limits: registry.Limits{}, OperationRetention: time.Nanosecond})
		if err != nil {
			st.Close()
			return nil, err
		}
		// Done when the store holds no operation record any more (a
		// read through the committer: cheap, unlike listing 1M
		// operations, which sorts them all).
		deadline := time.Now().Add(30 * time.Minute)
		for {
			left := false
			if _, err := st.Update(ctx, func(tx store.Tx) error {
				return tx.Scan("op/", func(string, []byte) bool { left = true; return false })
			}); err != nil {
				r2.Close()
				st.Close()
				return nil, err
			}
			if !left {
				break
			}
			if time.Now().After(deadline) {
				r2.Close()
				st.Close()
				return nil, fmt.Errorf("the seeding's operations were not expired within 30 minutes")
			}
			time.Sleep(500 * time.Millisecond)
		}
		r2.Close()
	}
	res := &StoreSeedResult{Instances: total, Took: time.Since(began)}
	res.Seconds = res.Took.Seconds()
	res.AttrBytes = float64(attrBytes.Load()) / float64(max(total, 1))
	fmt.Fprintf(log, "seeding the store: %d instances in %.1fs\n", total, res.Seconds)

	// The view a server builds from this store, measured here.
	runtime.GC()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	loadBegan := time.Now()
	r3, err := registry.New(ctx, st, registry.Config{Limits: registry.Limits{}})
	if err != nil {
		st.Close()
		return nil, err
	}
	res.ViewLoadSec = time.Since(loadBegan).Seconds()
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&after)
	res.ViewBytes = (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(max(total, 1))
	runtime.KeepAlive(r3)
	r3.Close()
	if err := st.Close(); err != nil {
		return nil, err
	}
	if size, err := fileSize(dir + "/" + bolt.FileName); err == nil {
		res.StoreBytes = size
	}
	return res, nil
}
