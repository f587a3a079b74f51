package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// subBits is the histogram's precision: each power of two is split into
// 2^subBits/2 buckets, so a recorded value is off by at most 1/128 (0.8%).
const subBits = 8

const histBuckets = (64-subBits)<<(subBits-1) + 1<<subBits

// Histogram records durations in log-linear buckets (an HDR histogram in
// miniature): exact below 256 ns, within 0.8% above. Recording is a few
// instructions and never allocates. It is not safe for concurrent use:
// give each client its own and Merge them.
type Histogram struct {
	counts [histBuckets]uint64
	n      uint64
	sum    float64 // ns
	min    int64
	max    int64
}

func bucketOf(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	e := bits.Len64(v) - subBits // ≥ 1
	m := v >> uint(e)            // in [2^(subBits-1), 2^subBits)
	return e<<(subBits-1) + int(m)
}

// bucketValue is the middle of bucket i's range.
func bucketValue(i int) float64 {
	if i < 1<<subBits {
		return float64(i)
	}
	e := i>>(subBits-1) - 1
	m := uint64(i - e<<(subBits-1)) // in [2^(subBits-1), 2^subBits)
	lo := float64(m << uint(e))
	return lo + float64(uint64(1)<<uint(e))/2
}

// Record adds one duration.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	if v < 0 {
		v = 0
	}
	h.counts[bucketOf(uint64(v))]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

// Merge adds o's records to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
	h.sum += o.sum
}

// Count is the number of records.
func (h *Histogram) Count() uint64 { return h.n }

// Mean is the mean duration.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// Max is the largest duration recorded.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Quantile is the duration at quantile q (0.5, 0.99, 0.999): the
// smallest recorded value that at least q of the records do not exceed.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := bucketValue(i)
			v = math.Min(math.Max(v, float64(h.min)), float64(h.max))
			return time.Duration(v)
		}
	}
	return time.Duration(h.max)
}
