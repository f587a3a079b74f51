package batch

import (
	"slices"
	"testing"
)

// sliceStored is a batch.Stored over sorted key/value pairs.
type sliceStored struct {
	kvs [][2]string
	i   int
}

func (s *sliceStored) Next() (string, []byte, bool, error) {
	if s.i >= len(s.kvs) {
		return "", nil, false, nil
	}
	kv := s.kvs[s.i]
	s.i++
	return kv[0], []byte(kv[1]), true, nil
}

func TestWritesScan(t *testing.T) {
	stored := [][2]string{{"a/1", "s1"}, {"a/2", "s2"}, {"a/4", "s4"}, {"b/1", "sb"}}
	tests := []struct {
		name       string
		own, below map[string][]byte
		stopAfter  int // 0: never
		want       []string
		wantPassed []string
	}{
		{name: "stored alone", want: []string{"a/1=s1", "a/2=s2", "a/4=s4"}, wantPassed: []string{"a/1", "a/2", "a/4"}},
		{name: "own wins, deletions hide, new keys merge",
			own:   map[string][]byte{"a/2": []byte("o2"), "a/3": []byte("o3"), "a/4": nil},
			below: map[string][]byte{"a/0": []byte("b0"), "a/2": []byte("b2")},
			want:  []string{"a/0=b0", "a/1=s1", "a/2=o2", "a/3=o3"}, wantPassed: []string{"a/1", "a/2", "a/4"}},
		{name: "the batch's deletion hides a stored key", below: map[string][]byte{"a/1": nil},
			want: []string{"a/2=s2", "a/4=s4"}, wantPassed: []string{"a/1", "a/2", "a/4"}},
		{name: "stopped", stopAfter: 2, want: []string{"a/1=s1", "a/2=s2"}, wantPassed: []string{"a/1", "a/2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var under [][2]string
			for _, kv := range stored {
				if kv[0] < "b" {
					under = append(under, kv)
				}
			}
			w := Writes{Own: tt.own, Below: tt.below}
			var got, passed []string
			stopped, last, err := w.Scan("a/", &sliceStored{kvs: under}, func(k string, v []byte) bool {
				got = append(got, k+"="+string(v))
				return tt.stopAfter == 0 || len(got) < tt.stopAfter
			}, func(k string) { passed = append(passed, k) })
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) || !slices.Equal(passed, tt.wantPassed) {
				t.Errorf("Scan gave %v passing %v; want %v passing %v", got, passed, tt.want, tt.wantPassed)
			}
			if stopped != (tt.stopAfter > 0) || stopped && last != "a/2" {
				t.Errorf("stopped %v at %q", stopped, last)
			}
		})
	}
}

func TestRunGathersWaitingRequests(t *testing.T) {
	reqs, quit := make(chan *Request), make(chan struct{})
	sizes := make(chan int, 8)
	done := make(chan struct{})
	go func() {
		defer close(done)
		Run(reqs, quit, 3, func(b []*Request) []*Request {
			sizes <- len(b)
			for _, r := range b {
				r.Done <- Result{Rev: int64(len(b))}
			}
			return nil
		})
	}()
	r := NewRequest(nil)
	reqs <- r
	if res := <-r.Done; res.Rev != 1 {
		t.Errorf("a lone request committed in a batch of %d", res.Rev)
	}
	if n := <-sizes; n != 1 {
		t.Errorf("batch of %d", n)
	}
	close(quit)
	<-done
}
