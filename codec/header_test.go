package codec

import (
	"bytes"
	"math"
	"testing"

	"github.com/volley-ws/volley/conn"
)

var testKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// cat concatenates byte slices into a new one.
func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want Header
		n    int
	}{
		{
			name: "len 0 unmasked",
			in:   []byte{0x81, 0x00},
			want: Header{Fin: true, OpCode: OpText},
			n:    2,
		},
		{
			name: "len 0 masked",
			in:   cat([]byte{0x81, 0x80}, testKey[:]),
			want: Header{Fin: true, OpCode: OpText, Masked: true, Mask: testKey},
			n:    6,
		},
		{
			name: "len 125 unmasked",
			in:   []byte{0x82, 0x7d},
			want: Header{Fin: true, OpCode: OpBinary, Length: 125},
			n:    2,
		},
		{
			name: "len 125 masked",
			in:   cat([]byte{0x82, 0xfd}, testKey[:]),
			want: Header{Fin: true, OpCode: OpBinary, Masked: true, Mask: testKey, Length: 125},
			n:    6,
		},
		{
			name: "len 126 unmasked",
			in:   []byte{0x02, 0x7e, 0x00, 0x7e},
			want: Header{OpCode: OpBinary, Length: 126},
			n:    4,
		},
		{
			name: "len 126 masked",
			in:   cat([]byte{0x02, 0xfe, 0x00, 0x7e}, testKey[:]),
			want: Header{OpCode: OpBinary, Masked: true, Mask: testKey, Length: 126},
			n:    8,
		},
		{
			name: "len 65535 unmasked",
			in:   []byte{0x00, 0x7e, 0xff, 0xff},
			want: Header{OpCode: OpContinuation, Length: 65535},
			n:    4,
		},
		{
			name: "len 65535 masked",
			in:   cat([]byte{0x80, 0xfe, 0xff, 0xff}, testKey[:]),
			want: Header{Fin: true, OpCode: OpContinuation, Masked: true, Mask: testKey, Length: 65535},
			n:    8,
		},
		{
			name: "len 65536 unmasked",
			in:   []byte{0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00},
			want: Header{Fin: true, OpCode: OpBinary, Length: 65536},
			n:    10,
		},
		{
			name: "len 65536 masked",
			in:   cat([]byte{0x82, 0xff, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00}, testKey[:]),
			want: Header{Fin: true, OpCode: OpBinary, Masked: true, Mask: testKey, Length: 65536},
			n:    14,
		},
		{
			name: "len 2^63-1 unmasked",
			in:   []byte{0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
			want: Header{Fin: true, OpCode: OpBinary, Length: math.MaxInt64},
			n:    10,
		},
		{
			name: "len 2^63-1 masked",
			in:   cat([]byte{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, testKey[:]),
			want: Header{Fin: true, OpCode: OpBinary, Masked: true, Mask: testKey, Length: math.MaxInt64},
			n:    14,
		},
		{
			name: "bytes of 16-bit length kept apart",
			in:   []byte{0x82, 0x7e, 0x12, 0x34},
			want: Header{Fin: true, OpCode: OpBinary, Length: 0x1234},
			n:    4,
		},
		{
			name: "bytes of 64-bit length kept apart",
			in:   []byte{0x82, 0x7f, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08},
			want: Header{Fin: true, OpCode: OpBinary, Length: 0x0102030405060708},
			n:    10,
		},
		{
			name: "RSV1",
			in:   []byte{0xc1, 0x01},
			want: Header{Fin: true, Rsv: Rsv1, OpCode: OpText, Length: 1},
			n:    2,
		},
		{
			name: "RSV2",
			in:   []byte{0xa1, 0x01},
			want: Header{Fin: true, Rsv: Rsv2, OpCode: OpText, Length: 1},
			n:    2,
		},
		{
			name: "RSV3",
			in:   []byte{0x91, 0x01},
			want: Header{Fin: true, Rsv: Rsv3, OpCode: OpText, Length: 1},
			n:    2,
		},
		{
			name: "all first-byte bits",
			in:   []byte{0xff, 0x00},
			want: Header{Fin: true, Rsv: 0x7, OpCode: 0xf},
			n:    2,
		},
		{
			name: "close",
			in:   cat([]byte{0x88, 0x82}, testKey[:]),
			want: Header{Fin: true, OpCode: OpClose, Masked: true, Mask: testKey, Length: 2},
			n:    6,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, n, err := ParseHeader(tt.in)
			if err != nil || n != tt.n || h != tt.want {
				t.Fatalf(
					"ParseHeader(% x) = %+v, %d, %v; want %+v, %d, nil",
					tt.in, h, n, err, tt.want, tt.n,
				)
			}
			// Trailing payload bytes do not change the result.
			more := cat(tt.in, []byte{0xde, 0xad, 0xbe, 0xef})
			h, n, err = ParseHeader(more)
			if err != nil || n != tt.n || h != tt.want {
				t.Fatalf(
					"ParseHeader(% x) = %+v, %d, %v; want %+v, %d, nil",
					more, h, n, err, tt.want, tt.n,
				)
			}
			// Every proper prefix asks for more data.
			for k := 0; k < len(tt.in); k++ {
				h, n, err := ParseHeader(tt.in[:k])
				if err != nil || n != 0 || h != (Header{}) {
					t.Fatalf(
						"ParseHeader(% x) = %+v, %d, %v; want zero header, 0, nil",
						tt.in[:k], h, n, err,
					)
				}
			}
			// PutHeader gives back the same bytes.
			var buf [MaxHeaderSize]byte
			if m := PutHeader(buf[:], h); !bytes.Equal(buf[:m], tt.in) {
				t.Fatalf(
					"PutHeader(%+v) = % x; want % x",
					h, buf[:m], tt.in,
				)
			}
		})
	}
}

func TestParseHeaderErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{
			name: "16-bit length 0",
			in:   []byte{0x82, 0x7e, 0x00, 0x00},
			want: ErrNonMinimalLength,
		},
		{
			name: "16-bit length 125",
			in:   []byte{0x82, 0x7e, 0x00, 0x7d},
			want: ErrNonMinimalLength,
		},
		{
			name: "16-bit length 125 masked",
			in:   cat([]byte{0x82, 0xfe, 0x00, 0x7d}, testKey[:]),
			want: ErrNonMinimalLength,
		},
		{
			name: "64-bit length 0",
			in:   []byte{0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0},
			want: ErrNonMinimalLength,
		},
		{
			name: "64-bit length 125",
			in:   []byte{0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0x7d},
			want: ErrNonMinimalLength,
		},
		{
			name: "64-bit length 126",
			in:   []byte{0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0x7e},
			want: ErrNonMinimalLength,
		},
		{
			name: "64-bit length 65535",
			in:   []byte{0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0xff, 0xff},
			want: ErrNonMinimalLength,
		},
		{
			name: "64-bit length 65535 masked",
			in:   cat([]byte{0x82, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, testKey[:]),
			want: ErrNonMinimalLength,
		},
		{
			name: "64-bit length 2^63",
			in:   []byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0},
			want: ErrLengthOverflow,
		},
		{
			name: "64-bit length 2^64-1",
			in:   []byte{0x82, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
			want: ErrLengthOverflow,
		},
		{
			name: "64-bit length MSB masked",
			in:   cat([]byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1}, testKey[:]),
			want: ErrLengthOverflow,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, n, err := ParseHeader(tt.in)
			if err != tt.want || n != 0 || h != (Header{}) {
				t.Fatalf(
					"ParseHeader(% x) = %+v, %d, %v; want zero header, 0, %v",
					tt.in, h, n, err, tt.want,
				)
			}
			if conn.CloseStatus(err) != conn.StatusProtocolError {
				t.Fatalf(
					"error %v is not a *conn.CloseError with code 1002",
					err,
				)
			}
			// The header must be complete before it is judged.
			for k := 0; k < len(tt.in); k++ {
				_, n, err := ParseHeader(tt.in[:k])
				if err != nil || n != 0 {
					t.Fatalf(
						"ParseHeader(% x) = %d, %v; want 0, nil",
						tt.in[:k], n, err,
					)
				}
			}
		})
	}
}

func TestHeaderSize(t *testing.T) {
	tests := []struct {
		length int64
		masked bool
		want   int
	}{
		{length: 0, masked: false, want: 2},
		{length: 0, masked: true, want: 6},
		{length: 125, masked: false, want: 2},
		{length: 125, masked: true, want: 6},
		{length: 126, masked: false, want: 4},
		{length: 126, masked: true, want: 8},
		{length: 65535, masked: false, want: 4},
		{length: 65535, masked: true, want: 8},
		{length: 65536, masked: false, want: 10},
		{length: 65536, masked: true, want: 14},
		{length: math.MaxInt64, masked: false, want: 10},
		{length: math.MaxInt64, masked: true, want: 14},
	}
	for _, tt := range tests {
		if got := HeaderSize(tt.length, tt.masked); got != tt.want {
			t.Errorf(
				"HeaderSize(%d, %t) = %d; want %d",
				tt.length, tt.masked, got, tt.want,
			)
		}
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	lengths := []int64{0, 1, 124, 125, 126, 127, 255, 256, 65534, 65535, 65536, 65537, 1 << 32, math.MaxInt64 - 1, math.MaxInt64}
	for _, length := range lengths {
		for _, masked := range []bool{false, true} {
			for bits := 0; bits < 256; bits++ {
				h := Header{
					Fin:    bits&0x80 != 0,
					Rsv:    byte(bits>>4) & 0x7,
					OpCode: OpCode(bits & 0xf),
					Masked: masked,
					Length: length,
				}
				if masked {
					h.Mask = [4]byte{byte(bits), 0xa5, byte(length), 0x5a}
				}
				var buf [MaxHeaderSize + 1]byte
				buf[MaxHeaderSize] = 0xee
				n := PutHeader(buf[:], h)
				if n != HeaderSize(length, masked) {
					t.Fatalf(
						"PutHeader(%+v) wrote %d bytes; HeaderSize says %d",
						h, n, HeaderSize(length, masked),
					)
				}
				if buf[MaxHeaderSize] != 0xee {
					t.Fatalf(
						"PutHeader(%+v) wrote past MaxHeaderSize",
						h,
					)
				}
				got, m, err := ParseHeader(buf[:n])
				if err != nil || m != n || got != h {
					t.Fatalf(
						"ParseHeader(PutHeader(%+v)) = %+v, %d, %v; want the header, %d, nil",
						h, got, m, err, n,
					)
				}
				app := AppendHeader([]byte("x"), h)
				if !bytes.Equal(app, cat([]byte("x"), buf[:n])) {
					t.Fatalf(
						"AppendHeader(%+v) = % x; want x + % x",
						h, app, buf[:n],
					)
				}
			}
		}
	}
}

func TestAppendFrame(t *testing.T) {
	lengths := []int{0, 1, 125, 126, 127, 65535, 65536, 70000}
	ops := []OpCode{OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong}
	for _, length := range lengths {
		payload := make([]byte, length)
		for i := range payload {
			payload[i] = byte(i * 7)
		}
		for _, op := range ops {
			for rsv := byte(0); rsv < 8; rsv++ {
				for _, fin := range []bool{false, true} {
					h := Header{Fin: fin, Rsv: rsv, OpCode: op, Length: int64(length)}
					want := cat([]byte("x"), AppendHeader(nil, h), payload)
					got := AppendFrame([]byte("x"), fin, rsv, op, payload)
					if !bytes.Equal(got, want) {
						t.Fatalf(
							"AppendFrame(x, %t, %#x, %v, %d bytes) = % x...; want % x...",
							fin, rsv, op, length, got[:min(len(got), 16)], want[:min(len(want), 16)],
						)
					}
				}
			}
		}
	}
}

func TestPutHeaderIgnoresUnusedFields(t *testing.T) {
	h := Header{
		Fin:    true,
		Rsv:    0xff,
		OpCode: 0xf1,
		Mask:   testKey, // not masked: must not be written
		Length: 3,
	}
	var buf [MaxHeaderSize]byte
	n := PutHeader(buf[:], h)
	if want := []byte{0xf1, 0x03}; !bytes.Equal(buf[:n], want) {
		t.Fatalf(
			"PutHeader(%+v) = % x; want % x",
			h, buf[:n], want,
		)
	}
}

func TestHeaderNegativeLengthPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"HeaderSize": func() { HeaderSize(-1, false) },
		"PutHeader": func() {
			var buf [MaxHeaderSize]byte
			PutHeader(buf[:], Header{Length: -1})
		},
	} {
		func() {
			defer func() {
				r := recover()
				s, _ := r.(string)
				if len(s) < 7 || s[:7] != "codec: " {
					t.Errorf(
						"%s with a negative length: recovered %v; want a panic with a codec: message",
						name, r,
					)
				}
			}()
			f()
		}()
	}
}
