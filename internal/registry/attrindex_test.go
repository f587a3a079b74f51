package registry

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cairn-dev/cairn/internal/cloudmap"
)

// withAttr finds exactly the instances a scan finds, through
// registrations, re-registrations and removals between queries, on
// several keys.
func TestServiceAttributeIndex(t *testing.T) {
	s := &svcView{instances: map[string]*instView{}}
	rng := rand.New(rand.NewPCG(1, 2))
	queries := []cloudmap.Attribute{{Key: "stage", Value: "canary"}, {Key: "stage", Value: "prod"}, {Key: "n", Value: "7"},
		{Key: "zone", Value: "z1"}, {Key: "stage", Value: "none"}, {Key: "absent", Value: "x"}}
	for step := range 5000 {
		id := fmt.Sprintf("i-%d", rng.IntN(300))
		switch rng.IntN(4) {
		case 0:
			s.remove(id)
		case 1:
			attrs := map[string]string{"stage": []string{"prod", "canary", "beta"}[rng.IntN(3)], "n": fmt.Sprint(rng.IntN(20))}
			if rng.IntN(2) == 0 {
				attrs["zone"] = "z" + fmt.Sprint(rng.IntN(4))
			}
			s.put(newInstView(&instRecord{ID: id, Attributes: attrs}), 0)
		default:
			q := queries[rng.IntN(len(queries))]
			got := ids(s.withAttr(q))
			var want []string
			for _, inst := range s.list {
				if matches(inst, []cloudmap.Attribute{q}) {
					want = append(want, inst.id)
				}
			}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("step %d, query %v: index %v, scan %v", step, q, got, want)
			}
		}
	}
}

func ids(l []*instView) []string {
	var out []string
	for _, i := range l {
		out = append(out, i.id)
	}
	slices.Sort(out)
	return out
}

// Readers build and use the index concurrently, under the view's read
// lock, while a writer changes the service under its write lock (run
// with -race).
func TestServiceAttributeIndexConcurrent(t *testing.T) {
	v := newView()
	s := &svcView{instances: map[string]*instView{}}
	for k := range 100 {
		s.put(newInstView(&instRecord{ID: fmt.Sprint("i-", k), Attributes: map[string]string{"stage": []string{"prod", "canary"}[k%2], "k": fmt.Sprint(k % 7)}}), 0)
	}
	done := make(chan struct{})
	for r := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 2000 {
				v.mu.RLock()
				q := cloudmap.Attribute{Key: []string{"stage", "k"}[(i+r)%2], Value: "canary"}
				if q.Key == "k" {
					q.Value = fmt.Sprint(i % 7)
				}
				for _, inst := range s.withAttr(q) {
					if got, _ := inst.attr(q.Key); got != q.Value {
						t.Errorf("%s has %s=%s, not %s", inst.id, q.Key, got, q.Value)
					}
				}
				v.mu.RUnlock()
			}
		}()
	}
	for i := range 500 {
		v.mu.Lock()
		s.put(newInstView(&instRecord{ID: fmt.Sprint("i-", i%120), Attributes: map[string]string{"stage": []string{"prod", "canary"}[i%2], "k": fmt.Sprint(i % 7)}}), 0)
		if i%3 == 0 {
			s.remove(fmt.Sprint("i-", (i*7)%120))
		}
		v.mu.Unlock()
	}
	for range 4 {
		<-done
	}
}
