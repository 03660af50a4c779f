package hist

import (
	"math/rand/v2"
	"sort"
	"testing"
)

func TestQuantiles(t *testing.T) {
	var h Histogram
	vals := make([]int64, 100000)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range vals {
		vals[i] = int64(r.ExpFloat64() * 200000)
		h.Record(vals[i])
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		exact := vals[int(q*float64(len(vals)))-1]
		got := h.Quantile(q)
		if got < exact || float64(got) > float64(exact)*1.032+1 {
			t.Errorf("q%v: got %d, exact %d", q, got, exact)
		}
	}
	for v := uint64(0); v < 1<<20; v += 7 {
		i := index(v)
		if high(i) < v || (i > 0 && high(i-1) >= v) {
			t.Fatalf("value %d in bucket %d [.., %d], previous ends at %d", v, i, high(i), high(i-1))
		}
	}
	if index(^uint64(0)) != buckets-1 {
		t.Fatalf("largest value in bucket %d of %d", index(^uint64(0)), buckets)
	}
}

func TestMergeAndLatencies(t *testing.T) {
	var a, b Histogram
	a.Record(1000)
	b.Record(3000)
	b.Record(-5)
	a.Merge(&b)
	if a.Count() != 3 || a.Max() != 3000 {
		t.Fatalf("count %d max %d", a.Count(), a.Max())
	}
	l := a.Latencies()
	if l.P50 < 1 || l.P50 > 1.032 || l.Max != 3 { // bucket of 1000 ns: within 3.2%
		t.Fatalf("latencies %+v", l)
	}
	var empty Histogram
	if empty.Quantile(0.5) != 0 {
		t.Fatal("empty histogram has a median")
	}
}

func BenchmarkRecord(b *testing.B) {
	var h Histogram
	b.ReportAllocs()
	for i := range b.N {
		h.Record(int64(i))
	}
}
