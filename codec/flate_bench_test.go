package codec

import (
	"bytes"
	stdflate "compress/flate"
	"fmt"
	"io"
	"runtime"
	"testing"

	kflate "github.com/klauspost/compress/flate"
)

// The flate implementation was chosen on these benchmarks: the standard
// library's compress/flate against github.com/klauspost/compress/flate,
// each used the way a permessage-deflate endpoint without context takeover
// uses it (one pooled compressor reset per message, sync flush, one pooled
// decompressor reset per message), on chat-like JSON.

// fbImpl is one flate implementation under comparison.
type fbImpl struct {
	name      string
	newWriter func(w io.Writer, level int) flateWriter
	newReader func(r io.Reader) io.ReadCloser
}

type flateWriter interface {
	io.Writer
	Flush() error
	Reset(io.Writer)
}

var fbImpls = []fbImpl{
	{"stdlib",
		func(w io.Writer, level int) flateWriter { fw, _ := stdflate.NewWriter(w, level); return fw },
		stdflate.NewReader},
	{"klauspost",
		func(w io.Writer, level int) flateWriter { fw, _ := kflate.NewWriter(w, level); return fw },
		kflate.NewReader},
}

// BenchmarkFlateCompress: one message per op, the compressor reset first.
// The ratio metric is compressed/original bytes.
func BenchmarkFlateCompress(b *testing.B) {
	for _, impl := range fbImpls {
		for _, level := range []int{1, 6} {
			for _, n := range []int{128, 1024, 16 << 10, 128 << 10} {
				b.Run(fmt.Sprintf("%s/level=%d/%dB", impl.name, level, n), func(b *testing.B) {
					msg := jsonish(n, 3)
					var out bytes.Buffer
					w := impl.newWriter(&out, level)
					b.SetBytes(int64(n))
					b.ReportAllocs()
					for b.Loop() {
						out.Reset()
						w.Reset(&out)
						w.Write(msg)
						w.Flush()
					}
					b.ReportMetric(float64(out.Len()-4)/float64(n), "ratio")
				})
			}
		}
	}
}

// BenchmarkFlateDecompress: one message per op, the decompressor reset
// first.
func BenchmarkFlateDecompress(b *testing.B) {
	for _, impl := range fbImpls {
		for _, n := range []int{128, 1024, 16 << 10, 128 << 10} {
			b.Run(fmt.Sprintf("%s/%dB", impl.name, n), func(b *testing.B) {
				msg := jsonish(n, 3)
				var z bytes.Buffer
				w := impl.newWriter(&z, 1)
				w.Write(msg)
				w.Flush()
				data := append(z.Bytes(), 0x01, 0x00, 0x00, 0xff, 0xff)
				src := bytes.NewReader(data)
				r := impl.newReader(src)
				out := make([]byte, n+64)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				for b.Loop() {
					src.Reset(data)
					r.(interface {
						Reset(io.Reader, []byte) error
					}).Reset(src, nil)
					got, err := io.ReadFull(r, out[:n])
					if err != nil || got != n {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkFlateMemory reports the heap one compressor and one
// decompressor hold after use: what a connection with context takeover
// keeps while active, and what each pooled compressor costs.
func BenchmarkFlateMemory(b *testing.B) {
	const n = 200
	msg := jsonish(16<<10, 5)
	for _, impl := range fbImpls {
		for _, level := range []int{1, 6} {
			b.Run(fmt.Sprintf("%s/level=%d", impl.name, level), func(b *testing.B) {
				for b.Loop() {
					before := fbHeap()
					ws := make([]flateWriter, n)
					rs := make([]io.ReadCloser, n)
					var z bytes.Buffer
					for i := range ws {
						z.Reset()
						ws[i] = impl.newWriter(&z, level)
						ws[i].Write(msg)
						ws[i].Flush()
					}
					mid := fbHeap()
					data := append(z.Bytes(), 0x01, 0x00, 0x00, 0xff, 0xff)
					for i := range rs {
						rs[i] = impl.newReader(bytes.NewReader(data))
						io.Copy(io.Discard, rs[i])
					}
					after := fbHeap()
					b.ReportMetric(float64(mid-before)/n, "B/compressor")
					b.ReportMetric(float64(after-mid)/n, "B/decompressor")
					runtime.KeepAlive(ws)
					runtime.KeepAlive(rs)
				}
			})
		}
	}
}

func fbHeap() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
