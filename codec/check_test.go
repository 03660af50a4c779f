package codec

import (
	"testing"
)

func TestCheckHeader(t *testing.T) {
	const (
		r1 = 0x4 // RSV1, as Rsv1
		r2 = 0x2
		r3 = 0x1
	)
	// m builds a masked header; the tests then change what they need.
	m := func(fin bool, rsv byte, op OpCode, length int64) Header {
		return Header{Fin: fin, Rsv: rsv, OpCode: op, Masked: true, Mask: testKey, Length: length}
	}
	tests := []struct {
		name       string
		h          Header
		allowedRsv byte
		fragmented bool
		want       error
	}{
		{
			name: "text",
			h:    m(true, 0, OpText, 10),
		},
		{
			name: "binary, huge",
			h:    m(true, 0, OpBinary, 1<<62),
		},
		{
			name: "first fragment",
			h:    m(false, 0, OpText, 10),
		},
		{
			name:       "middle fragment",
			h:          m(false, 0, OpContinuation, 10),
			fragmented: true,
		},
		{
			name:       "last fragment",
			h:          m(true, 0, OpContinuation, 0),
			fragmented: true,
		},
		{
			name: "ping",
			h:    m(true, 0, OpPing, 125),
		},
		{
			name: "pong",
			h:    m(true, 0, OpPong, 0),
		},
		{
			name: "close",
			h:    m(true, 0, OpClose, 2),
		},
		{
			name:       "ping inside a fragmented message",
			h:          m(true, 0, OpPing, 5),
			fragmented: true,
		},
		{
			name:       "close inside a fragmented message",
			h:          m(true, 0, OpClose, 0),
			fragmented: true,
		},
		{
			name: "opcode 0x3",
			h:    m(true, 0, 0x3, 0),
			want: ErrReservedOpcode,
		},
		{
			name: "opcode 0x7",
			h:    m(true, 0, 0x7, 0),
			want: ErrReservedOpcode,
		},
		{
			name: "opcode 0xB",
			h:    m(true, 0, 0xb, 0),
			want: ErrReservedOpcode,
		},
		{
			name: "opcode 0xF",
			h:    m(true, 0, 0xf, 0),
			want: ErrReservedOpcode,
		},
		{
			name: "opcode out of the 4-bit range",
			h:    m(true, 0, 0x11, 0),
			want: ErrReservedOpcode,
		},
		{
			name: "RSV1 without extension",
			h:    m(true, r1, OpText, 1),
			want: ErrReservedBits,
		},
		{
			name: "RSV2 without extension",
			h:    m(true, r2, OpText, 1),
			want: ErrReservedBits,
		},
		{
			name: "RSV3 without extension",
			h:    m(true, r3, OpBinary, 1),
			want: ErrReservedBits,
		},
		{
			name:       "RSV2 with RSV1 negotiated",
			h:          m(true, r2, OpText, 1),
			allowedRsv: r1,
			want:       ErrReservedBits,
		},
		{
			name:       "RSV1 and RSV3 with RSV1 negotiated",
			h:          m(true, r1|r3, OpText, 1),
			allowedRsv: r1,
			want:       ErrReservedBits,
		},
		{
			name:       "RSV1 on a text frame with deflate",
			h:          m(true, r1, OpText, 1),
			allowedRsv: r1,
		},
		{
			name:       "RSV1 on a first fragment with deflate",
			h:          m(false, r1, OpBinary, 1),
			allowedRsv: r1,
		},
		{
			name:       "RSV1 on a continuation with deflate",
			h:          m(true, r1, OpContinuation, 1),
			allowedRsv: r1,
			fragmented: true,
			want:       ErrRsv1NotFirst,
		},
		{
			name:       "RSV1 on a ping with deflate",
			h:          m(true, r1, OpPing, 1),
			allowedRsv: r1,
			want:       ErrRsv1NotFirst,
		},
		{
			name:       "RSV1 on a close with deflate",
			h:          m(true, r1, OpClose, 2),
			allowedRsv: r1,
			want:       ErrRsv1NotFirst,
		},
		{
			name:       "RSV3 on a continuation when negotiated",
			h:          m(true, r3, OpContinuation, 1),
			allowedRsv: r3,
			fragmented: true,
		},
		{
			name:       "RSV2 on a ping when negotiated",
			h:          m(true, r2, OpPing, 1),
			allowedRsv: r1 | r2,
		},
		{
			name: "unmasked text",
			h:    Header{Fin: true, OpCode: OpText, Length: 1},
			want: ErrUnmasked,
		},
		{
			name: "unmasked close",
			h:    Header{Fin: true, OpCode: OpClose},
			want: ErrUnmasked,
		},
		{
			name: "fragmented ping",
			h:    m(false, 0, OpPing, 0),
			want: ErrControlFragmented,
		},
		{
			name:       "fragmented close",
			h:          m(false, 0, OpClose, 0),
			fragmented: true,
			want:       ErrControlFragmented,
		},
		{
			name: "ping of 126 bytes",
			h:    m(true, 0, OpPing, 126),
			want: ErrControlTooLong,
		},
		{
			name: "close of 65536 bytes",
			h:    m(true, 0, OpClose, 65536),
			want: ErrControlTooLong,
		},
		{
			name: "continuation without a message",
			h:    m(true, 0, OpContinuation, 1),
			want: ErrUnexpectedContinuation,
		},
		{
			name:       "text inside a fragmented message",
			h:          m(true, 0, OpText, 1),
			fragmented: true,
			want:       ErrExpectedContinuation,
		},
		{
			name:       "binary fragment inside a fragmented message",
			h:          m(false, 0, OpBinary, 1),
			fragmented: true,
			want:       ErrExpectedContinuation,
		},
		{
			name: "negative length",
			h:    m(true, 0, OpBinary, -1),
			want: ErrLengthOverflow,
		},
		{
			name: "reserved opcode wins over reserved bits",
			h:    Header{OpCode: 0x5, Rsv: r2},
			want: ErrReservedOpcode,
		},
		{
			name: "reserved bits win over unmasked",
			h:    Header{Fin: true, OpCode: OpText, Rsv: r3},
			want: ErrReservedBits,
		},
		{
			name: "unmasked wins over fragmented control",
			h:    Header{OpCode: OpPing},
			want: ErrUnmasked,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckHeader(tt.h, FromClient, tt.allowedRsv, tt.fragmented)
			if err != tt.want {
				t.Fatalf(
					"CheckHeader(%+v, %#x, %t) = %v; want %v",
					tt.h, tt.allowedRsv, tt.fragmented, err, tt.want,
				)
			}
			if tt.h.OpCode > 0xf || tt.h.Rsv > 7 || tt.h.Length < 0 {
				return // not a header the wire can carry
			}
			// The same header from the wire, checked as a WireHeader.
			var buf [MaxHeaderSize]byte
			w, _, perr := ParseWireHeader(buf[:PutHeader(buf[:], tt.h)])
			if perr != nil {
				t.Fatalf("ParseWireHeader(PutHeader(%+v)): %v", tt.h, perr)
			}
			if err := w.Check(FromClient, tt.allowedRsv, tt.fragmented); err != tt.want {
				t.Fatalf(
					"WireHeader(%+v).Check(%#x, %t) = %v; want %v",
					tt.h, tt.allowedRsv, tt.fragmented, err, tt.want,
				)
			}
		})
	}
}

// TestCheckHeaderFromServer checks the masking rule for a client reading a
// server's frames: masked frames fail, unmasked ones pass, whatever the
// rest of the header.
func TestCheckHeaderFromServer(t *testing.T) {
	for _, op := range []OpCode{OpText, OpBinary, OpClose, OpPing, OpPong} {
		h := Header{Fin: true, OpCode: op, Length: 3}
		if err := CheckHeader(h, FromServer, 0, false); err != nil {
			t.Errorf("unmasked %v from a server: %v", op, err)
		}
		h.Masked = true
		if err := CheckHeader(h, FromServer, 0, false); err != ErrMasked {
			t.Errorf("masked %v from a server: %v, want ErrMasked", op, err)
		}
		w := WireHeader{Length: 3, b0: 0x80 | byte(op), b1: 0x80 | 3}
		if err := w.Check(FromServer, 0, false); err != ErrMasked {
			t.Errorf("masked %v WireHeader from a server: %v, want ErrMasked", op, err)
		}
	}
}
