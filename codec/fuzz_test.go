package codec

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/volley-ws/volley/conn"
)

// refHeaderSize computes the header size from the first two bytes of b, as
// RFC 6455 section 5.2 lays the header out, or 0 if b is shorter than 2.
func refHeaderSize(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	n := 2
	switch b[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b[1]&0x80 != 0 {
		n += 4
	}
	return n
}

func FuzzParseHeader(f *testing.F) {
	f.Add([]byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseHeader(b)
		size := refHeaderSize(b)
		if size == 0 || len(b) < size {
			if n != 0 || err != nil || h != (Header{}) {
				t.Fatalf(
					"ParseHeader(% x) = %+v, %d, %v; want need-more",
					b, h, n, err,
				)
			}
			return
		}
		if err != nil {
			if n != 0 || h != (Header{}) {
				t.Fatalf(
					"ParseHeader(% x) = %+v, %d, %v; want zero values with the error",
					b, h, n, err,
				)
			}
			// Decide the error independently.
			var want error
			switch b[1] & 0x7f {
			case 126:
				if binary.BigEndian.Uint16(b[2:]) < 126 {
					want = ErrNonMinimalLength
				}
			case 127:
				l := binary.BigEndian.Uint64(b[2:])
				if l >= 1<<63 {
					want = ErrLengthOverflow
				} else if l < 1<<16 {
					want = ErrNonMinimalLength
				}
			}
			if err != want {
				t.Fatalf(
					"ParseHeader(% x) error %v; want %v",
					b, err, want,
				)
			}
			return
		}
		if n != size || n < 2 || n > MaxHeaderSize || n > len(b) {
			t.Fatalf(
				"ParseHeader(% x) n = %d; want %d",
				b, n, size,
			)
		}
		if h.Length < 0 || h.Rsv > 7 || h.OpCode > 0xf {
			t.Fatalf(
				"ParseHeader(% x) = %+v: field out of range",
				b, h,
			)
		}
		if n != HeaderSize(h.Length, h.Masked) {
			t.Fatalf(
				"ParseHeader(% x) n = %d; HeaderSize says %d",
				b, n, HeaderSize(h.Length, h.Masked),
			)
		}
		var buf [MaxHeaderSize]byte
		if m := PutHeader(buf[:], h); !bytes.Equal(buf[:m], b[:n]) {
			t.Fatalf(
				"PutHeader(ParseHeader(% x)) = % x",
				b[:n], buf[:m],
			)
		}
		// ParseWireHeader gives the same header, and its Check the same
		// verdict as CheckHeader, whatever the extensions and state.
		w, wn, werr := ParseWireHeader(b)
		if wn != n || werr != nil || w.Header() != h || w.Fin() != h.Fin || w.Rsv() != h.Rsv ||
			w.OpCode() != h.OpCode || w.Masked() != h.Masked || w.Key() != h.Mask || w.Length != h.Length {
			t.Fatalf(
				"ParseWireHeader(% x) = %+v, %d, %v; ParseHeader gave %+v, %d",
				b, w, wn, werr, h, n,
			)
		}
		for allowed := byte(0); allowed < 8; allowed++ {
			for _, fragmented := range []bool{false, true} {
				if got, want := w.Check(FromClient, allowed, fragmented), CheckHeader(h, FromClient, allowed, fragmented); got != want {
					t.Fatalf(
						"% x: WireHeader.Check(%#x, %t) = %v; CheckHeader says %v",
						b[:n], allowed, fragmented, got, want,
					)
				}
			}
		}
	})
}

func FuzzValidator(f *testing.F) {
	f.Add([]byte("héllo wörld 😀"), uint64(1))
	f.Fuzz(func(t *testing.T, p []byte, seed uint64) {
		valid := utf8.Valid(p)
		if ValidUTF8(p) != valid {
			t.Fatalf(
				"ValidUTF8(% x) = %t; utf8.Valid says %t",
				p, !valid, valid,
			)
		}
		// Random split points from the seed.
		rng := rand.New(rand.NewPCG(seed, seed>>32))
		var cuts []int
		for at := 0; at < len(p); {
			at += rng.IntN(len(p)-at) + 1
			if at < len(p) {
				cuts = append(cuts, at)
			}
		}
		fail := refFailPos(p)
		checkSplitsFail(t, p, cuts, fail)
		// And a byte at a time, where the fail position is exact.
		var v Validator
		for i := range p {
			if got, want := v.Write(p[i:i+1]), fail < 0 || i < fail; got != want {
				t.Fatalf(
					"% x: Write of byte %d = %t; want %t (reference fails at %d)",
					p, i, got, want, fail,
				)
			}
		}
		if v.Complete() != valid {
			t.Fatalf(
				"% x byte by byte: Complete() = %t; want %t",
				p, v.Complete(), valid,
			)
		}
	})
}

func FuzzClosePayload(f *testing.F) {
	f.Add([]byte("\x03\xe8bye"))
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := ParseClosePayload(p)
		var want error
		switch {
		case len(p) == 1:
			want = ErrClosePayloadLength
		case len(p) > 125:
			want = ErrControlTooLong
		case len(p) >= 2 && !refWireCode(int(p[0])<<8|int(p[1])):
			want = ErrInvalidCloseCode
		case len(p) >= 2 && !utf8.Valid(p[2:]):
			want = ErrInvalidUTF8
		}
		if err != want {
			t.Fatalf(
				"ParseClosePayload(% x) error %v; want %v",
				p, err, want,
			)
		}
		if err != nil {
			if code != 0 || reason != nil {
				t.Fatalf(
					"ParseClosePayload(% x) = %d, %q with an error",
					p, code, reason,
				)
			}
			return
		}
		if len(p) == 0 {
			if code != conn.StatusNoStatusReceived || reason != nil {
				t.Fatalf(
					"ParseClosePayload(empty) = %d, %q",
					code, reason,
				)
			}
		} else if !bytes.Equal(reason, p[2:]) {
			t.Fatalf(
				"ParseClosePayload(% x) reason %q; want %q",
				p, reason, p[2:],
			)
		}
		// A valid payload is rebuilt exactly.
		if got := AppendClosePayload(nil, code, string(reason)); !bytes.Equal(got, p) {
			t.Fatalf(
				"AppendClosePayload(%d, %q) = % x; want % x",
				code, reason, got, p,
			)
		}
		// A longer valid reason is truncated to a payload that parses back
		// to a prefix of it.
		long := string(reason) + strings.Repeat("é"+string(reason)+"😀", 50)
		out := AppendClosePayload(nil, code, long)
		if code == conn.StatusNoStatusReceived {
			if len(out) != 0 {
				t.Fatalf(
					"AppendClosePayload(1005, ...) = % x; want nothing",
					out,
				)
			}
			return
		}
		c2, r2, err := ParseClosePayload(out)
		if err != nil || c2 != code || !strings.HasPrefix(long, string(r2)) || len(long)-len(r2) > 0 && len(out) < 125-3 {
			t.Fatalf(
				"ParseClosePayload(AppendClosePayload(%d, %q)) = %d, %q, %v",
				code, long, c2, r2, err,
			)
		}
	})
}
