package codec

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func BenchmarkParseHeader(b *testing.B) {
	cases := []struct {
		name string
		in   []byte
	}{
		{
			name: "len7",
			in:   cat([]byte{0x81, 0x85}, testKey[:]),
		},
		{
			name: "len16",
			in:   cat([]byte{0x82, 0xfe, 0x10, 0x00}, testKey[:]),
		},
		{
			name: "len64",
			in:   cat([]byte{0x82, 0xff, 0, 0, 0, 0, 0, 0x10, 0, 0}, testKey[:]),
		},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.in)))
			var h Header
			var err error
			for b.Loop() {
				h, _, err = ParseHeader(c.in)
			}
			if err != nil || h.Length == 0 {
				b.Fatal(h, err)
			}
		})
		b.Run("wire/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.in)))
			var h WireHeader
			var err error
			for b.Loop() {
				h, _, err = ParseWireHeader(c.in)
			}
			if err != nil || h.Length == 0 {
				b.Fatal(h, err)
			}
		})
	}
}

func BenchmarkPutHeader(b *testing.B) {
	for _, length := range []int64{5, 4096, 1 << 20} {
		h := Header{Fin: true, OpCode: OpBinary, Length: length}
		b.Run("len"+strconv.FormatInt(length, 10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(HeaderSize(length, false)))
			var buf [MaxHeaderSize]byte
			for b.Loop() {
				PutHeader(buf[:], h)
			}
		})
	}
}

func BenchmarkMask(b *testing.B) {
	for _, size := range []int{16, 128, 511, 512, 1 << 10, 16 << 10, 1 << 20} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			p := make([]byte, size)
			for b.Loop() {
				Mask(p, testKey, 1)
			}
		})
	}
}

// benchTexts returns ASCII and mixed-script text of the given size, cut at
// a code point boundary.
func benchTexts(size int) map[string][]byte {
	texts := map[string]string{
		"ascii": "The quick brown fox jumps over the lazy dog. {\"id\":12345,\"ok\":true} ",
		"mixed": "Hello, мир! 你好，世界。 Grüße 😀 ¿Qué tal? ",
	}
	out := map[string][]byte{}
	for name, s := range texts {
		p := []byte(strings.Repeat(s, size/len(s)+1))[:size]
		for !utf8.Valid(p) {
			p = p[:len(p)-1]
		}
		out[name] = p
	}
	return out
}

func BenchmarkValidator(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		texts := benchTexts(size)
		for _, name := range []string{"ascii", "mixed"} {
			p := texts[name]
			b.Run(name+"/"+strconv.Itoa(size), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(p)))
				for b.Loop() {
					var v Validator
					if !v.Write(p) || !v.Complete() {
						b.Fatal("invalid")
					}
				}
			})
		}
	}
}

// BenchmarkUTF8ValidStdlib is the baseline for BenchmarkValidator:
// unicode/utf8.Valid on the same inputs (not incremental, not fail-fast).
func BenchmarkUTF8ValidStdlib(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		texts := benchTexts(size)
		for _, name := range []string{"ascii", "mixed"} {
			p := texts[name]
			b.Run(name+"/"+strconv.Itoa(size), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(p)))
				for b.Loop() {
					if !utf8.Valid(p) {
						b.Fatal("invalid")
					}
				}
			})
		}
	}
}

func BenchmarkParseClosePayload(b *testing.B) {
	p := []byte("\x03\xe9server going down for maintenance — back soon")
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if _, _, err := ParseClosePayload(p); err != nil {
			b.Fatal(err)
		}
	}
}
