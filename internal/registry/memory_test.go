package registry

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/cairn-dev/cairn/internal/store"
)

// BenchmarkViewMemoryPerInstance measures what one registered instance
// with 5 short attributes costs in the in-memory view, and how much of that
// is beyond the attribute bytes themselves (the target: 1 KiB).
func BenchmarkViewMemoryPerInstance(b *testing.B) {
	const services, perService = 100, 1000
	s := scope{Account: "000000000000", Region: "us-east-1"}
	v := newView()
	changes := []store.Change{{Key: nsKey("ns-1"), Value: encode(&nsRecord{scope: s, ID: "ns-1", Name: "n", HTTPName: "n", Type: "HTTP"})}}
	for i := range services {
		id := fmt.Sprintf("srv-%016d", i)
		changes = append(changes, store.Change{Key: svcKey(id), Value: encode(&svcRecord{scope: s, ID: id, NamespaceID: "ns-1", Name: id, Type: "HTTP"})})
	}
	if err := v.apply(1, changes); err != nil {
		b.Fatal(err)
	}
	attrBytes := 0
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range services {
		// Each batch is built, applied and dropped, so only what the view
		// keeps remains after the final GC.
		svc := fmt.Sprintf("srv-%016d", i)
		batch := make([]store.Change, 0, perService)
		for j := range perService {
			id := fmt.Sprintf("i-%06d", j)
			attrs := map[string]string{"AWS_INSTANCE_IPV4": fmt.Sprintf("10.%d.%d.%d", i, j/256, j%256), "AWS_INSTANCE_PORT": "8080",
				"stage": "prod", "zone": "us-east-1a", "version": "1.2.3"}
			for k, val := range attrs {
				attrBytes += len(k) + len(val)
			}
			batch = append(batch, store.Change{Key: instKey(svc, id), Value: encode(&instRecord{ServiceID: svc, ID: id, CreatedBy: s.Account, Attributes: attrs})})
		}
		if err := v.apply(int64(i+2), batch); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	n := float64(services * perService)
	perInst := float64(after.HeapAlloc-before.HeapAlloc) / n
	runtime.KeepAlive(v)
	for b.Loop() {
	}
	b.ReportMetric(perInst, "bytes/instance")
	b.ReportMetric(perInst-float64(attrBytes)/n, "overhead-bytes/instance")
}
