package loadgen

import (
	"os"
	"sort"
	"time"
)

// SyncLatency is what fdatasync of a 4 KiB write took in a folder: what
// a durable commit waits for (bbolt syncs twice per commit).
type SyncLatency struct {
	MeanMs float64 `json:"mean_ms"`
	P50Ms  float64 `json:"p50_ms"`
	P99Ms  float64 `json:"p99_ms"`
}

// ProbeSync measures n fdatasync calls of a 4 KiB write in dir.
func ProbeSync(dir string, n int) (SyncLatency, error) {
	var s SyncLatency
	f, err := os.CreateTemp(dir, "cairn-bench-sync-*")
	if err != nil {
		return s, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 4096)
	d := make([]time.Duration, 0, n)
	for i := range n {
		if _, err := f.WriteAt(buf, int64(i%64)*4096); err != nil {
			return s, err
		}
		t := time.Now()
		if err := fdatasync(f); err != nil {
			return s, err
		}
		d = append(d, time.Since(t))
	}
	sort.Slice(d, func(a, b int) bool { return d[a] < d[b] })
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	ms := func(x time.Duration) float64 { return float64(x) / 1e6 }
	s.MeanMs, s.P50Ms, s.P99Ms = ms(sum/time.Duration(n)), ms(d[n/2]), ms(d[min(n-1, n*99/100)])
	return s, nil
}
