// Package hist is the latency histogram of the benchmark load generators
// (wsload, fanload).
package hist

import (
	"math"
	"math/bits"
)

// Histogram is an HDR-style latency histogram in nanoseconds: 64 linear
// buckets below 64 ns, then 32 buckets per power of two (relative error
// under 3.2%). Recording is an index computation and an increment: no
// allocation, no lock (one Histogram per goroutine; Merge at the end).
// The zero value is an empty histogram.
type Histogram struct {
	counts [buckets]uint64
	n      uint64
	max    int64
}

const (
	subBits = 6
	half    = 1 << (subBits - 1)
	buckets = (64-subBits)*half + 2*half
)

func index(v uint64) int {
	if v < 2*half {
		return int(v)
	}
	shift := bits.Len64(v) - subBits
	return shift*half + int(v>>uint(shift))
}

// high is the largest value that falls in bucket i.
func high(i int) uint64 {
	if i < 2*half {
		return uint64(i)
	}
	shift := i/half - 1
	m := uint64(i - shift*half)
	return (m+1)<<uint(shift) - 1
}

// Record adds one value (negative values count as 0).
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	h.counts[index(uint64(v))]++
	h.n++
	if v > h.max {
		h.max = v
	}
}

// Merge adds every value of o.
func (h *Histogram) Merge(o *Histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// Count is the number of values recorded.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest value recorded.
func (h *Histogram) Max() int64 { return h.max }

// Quantile returns the highest value equivalent to the q-quantile (0 < q
// <= 1), never more than the maximum recorded; 0 when empty.
func (h *Histogram) Quantile(q float64) int64 {
	if h.n == 0 {
		return 0
	}
	target := uint64(q * float64(h.n))
	if float64(target) < q*float64(h.n) {
		target++
	}
	target = max(target, 1)
	var cum uint64
	for i, c := range h.counts {
		cum += c
		if cum >= target {
			return min(int64(high(i)), h.max)
		}
	}
	return h.max
}

// Latencies are the quantiles the tools report, in microseconds rounded
// to 0.01.
type Latencies struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// Latencies returns h's quantiles in microseconds.
func (h *Histogram) Latencies() Latencies {
	us := func(ns int64) float64 { return math.Round(float64(ns)/10) / 100 }
	return Latencies{
		P50: us(h.Quantile(0.50)), P90: us(h.Quantile(0.90)), P99: us(h.Quantile(0.99)),
		P999: us(h.Quantile(0.999)), Max: us(h.max),
	}
}
