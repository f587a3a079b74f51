package registry

import (
	"context"
	"fmt"
	"testing"

	"github.com/cairn-dev/cairn/internal/cloudmap"
	"github.com/cairn-dev/cairn/internal/store"
)

// BenchmarkDiscoverSpread: DiscoverInstances with a query matching one
// instance in ten, MaxResults 10, each call on the next of many services
// of 1,000 instances (as cairn-bench's scale curve asks at 1M): the view
// is far larger than the CPU's caches, so what a call costs is mostly the
// cache misses of the instances it looks at; the attribute index keeps
// those to the instances that match (before it, every call read all
// 1,000: 12 µs a call on one service, 55–75 µs spread over 300, on the
// 2-core machine of BENCHMARKS.md).
//
//	go test -run '^$' -bench DiscoverSpread ./internal/registry/
func BenchmarkDiscoverSpread(b *testing.B) {
	for _, services := range []int{1, 300} {
		v, names := spreadView(b, services, 1000)
		r := &Registry{cfg: Config{}}
		r.view.Store(v)
		c := Caller{Account: "000000000000", Region: "us-east-1"}
		max := int32(10)
		b.Run(fmt.Sprintf("services=%d", services), func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				in := &cloudmap.DiscoverInstancesRequest{NamespaceName: "n", ServiceName: names[i%len(names)],
					QueryParameters: map[string]string{"stage": "canary"}, MaxResults: &max}
				out, err := r.DiscoverInstances(context.Background(), c, in)
				if err != nil || len(out.Instances) != 10 {
					b.Fatalf("%v, %d instances", err, len(out.Instances))
				}
			}
		})
	}
}

func spreadView(b *testing.B, services, perService int) (*view, []string) {
	s := scope{Account: "000000000000", Region: "us-east-1"}
	v := newView()
	changes := []store.Change{{Key: nsKey("ns-1"), Value: encode(&nsRecord{scope: s, ID: "ns-1", Name: "n", HTTPName: "n", Type: "HTTP"})}}
	var names []string
	for i := range services {
		id := fmt.Sprintf("srv-%016d", i)
		names = append(names, id)
		changes = append(changes, store.Change{Key: svcKey(id), Value: encode(&svcRecord{scope: s, ID: id, NamespaceID: "ns-1", Name: id, Type: "HTTP"})})
		for k := range perService {
			stage := "prod"
			if k%10 == 0 {
				stage = "canary"
			}
			attrs := map[string]string{"AWS_INSTANCE_IPV4": fmt.Sprintf("10.%d.%d.%d", i%256, k/256, k%256), "AWS_INSTANCE_PORT": "8080",
				"stage": stage, "zone": fmt.Sprintf("us-east-1%c", 'a'+k%3), "version": "1.4.2"}
			iid := fmt.Sprintf("i-%06d", k)
			changes = append(changes, store.Change{Key: instKey(id, iid), Value: encode(&instRecord{ServiceID: id, ID: iid, CreatedBy: s.Account, Attributes: attrs})})
		}
	}
	if err := v.apply(1, changes); err != nil {
		b.Fatal(err)
	}
	return v, names
}
