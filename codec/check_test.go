package codec

import (
	"testing"

	"github.com/gobwas/ws"
)

func TestCheckHeader(t *testing.T) {
	const (
		r1 = 0x4 // RSV1, as ws.Rsv(true, false, false)
		r2 = 0x2
		r3 = 0x1
	)
	// m builds a masked header; the tests then change what they need.
	m := func(fin bool, rsv byte, op ws.OpCode, length int64) ws.Header {
		return ws.Header{Fin: fin, Rsv: rsv, OpCode: op, Masked: true, Mask: testKey, Length: length}
	}
	tests := []struct {
		name       string
		h          ws.Header
		allowedRsv byte
		fragmented bool
		want       error
	}{
		{
			name: "text",
			h:    m(true, 0, ws.OpText, 10),
		},
		{
			name: "binary, huge",
			h:    m(true, 0, ws.OpBinary, 1<<62),
		},
		{
			name: "first fragment",
			h:    m(false, 0, ws.OpText, 10),
		},
		{
			name:       "middle fragment",
			h:          m(false, 0, ws.OpContinuation, 10),
			fragmented: true,
		},
		{
			name:       "last fragment",
			h:          m(true, 0, ws.OpContinuation, 0),
			fragmented: true,
		},
		{
			name: "ping",
			h:    m(true, 0, ws.OpPing, 125),
		},
		{
			name: "pong",
			h:    m(true, 0, ws.OpPong, 0),
		},
		{
			name: "close",
			h:    m(true, 0, ws.OpClose, 2),
		},
		{
			name:       "ping inside a fragmented message",
			h:          m(true, 0, ws.OpPing, 5),
			fragmented: true,
		},
		{
			name:       "close inside a fragmented message",
			h:          m(true, 0, ws.OpClose, 0),
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
			h:    m(true, r1, ws.OpText, 1),
			want: ErrReservedBits,
		},
		{
			name: "RSV2 without extension",
			h:    m(true, r2, ws.OpText, 1),
			want: ErrReservedBits,
		},
		{
			name: "RSV3 without extension",
			h:    m(true, r3, ws.OpBinary, 1),
			want: ErrReservedBits,
		},
		{
			name:       "RSV2 with RSV1 negotiated",
			h:          m(true, r2, ws.OpText, 1),
			allowedRsv: r1,
			want:       ErrReservedBits,
		},
		{
			name:       "RSV1 and RSV3 with RSV1 negotiated",
			h:          m(true, r1|r3, ws.OpText, 1),
			allowedRsv: r1,
			want:       ErrReservedBits,
		},
		{
			name:       "RSV1 on a text frame with deflate",
			h:          m(true, r1, ws.OpText, 1),
			allowedRsv: r1,
		},
		{
			name:       "RSV1 on a first fragment with deflate",
			h:          m(false, r1, ws.OpBinary, 1),
			allowedRsv: r1,
		},
		{
			name:       "RSV1 on a continuation with deflate",
			h:          m(true, r1, ws.OpContinuation, 1),
			allowedRsv: r1,
			fragmented: true,
			want:       ErrRsv1NotFirst,
		},
		{
			name:       "RSV1 on a ping with deflate",
			h:          m(true, r1, ws.OpPing, 1),
			allowedRsv: r1,
			want:       ErrRsv1NotFirst,
		},
		{
			name:       "RSV1 on a close with deflate",
			h:          m(true, r1, ws.OpClose, 2),
			allowedRsv: r1,
			want:       ErrRsv1NotFirst,
		},
		{
			name:       "RSV3 on a continuation when negotiated",
			h:          m(true, r3, ws.OpContinuation, 1),
			allowedRsv: r3,
			fragmented: true,
		},
		{
			name:       "RSV2 on a ping when negotiated",
			h:          m(true, r2, ws.OpPing, 1),
			allowedRsv: r1 | r2,
		},
		{
			name: "unmasked text",
			h:    ws.Header{Fin: true, OpCode: ws.OpText, Length: 1},
			want: ErrUnmasked,
		},
		{
			name: "unmasked close",
			h:    ws.Header{Fin: true, OpCode: ws.OpClose},
			want: ErrUnmasked,
		},
		{
			name: "fragmented ping",
			h:    m(false, 0, ws.OpPing, 0),
			want: ErrControlFragmented,
		},
		{
			name:       "fragmented close",
			h:          m(false, 0, ws.OpClose, 0),
			fragmented: true,
			want:       ErrControlFragmented,
		},
		{
			name: "ping of 126 bytes",
			h:    m(true, 0, ws.OpPing, 126),
			want: ErrControlTooLong,
		},
		{
			name: "close of 65536 bytes",
			h:    m(true, 0, ws.OpClose, 65536),
			want: ErrControlTooLong,
		},
		{
			name: "continuation without a message",
			h:    m(true, 0, ws.OpContinuation, 1),
			want: ErrUnexpectedContinuation,
		},
		{
			name:       "text inside a fragmented message",
			h:          m(true, 0, ws.OpText, 1),
			fragmented: true,
			want:       ErrExpectedContinuation,
		},
		{
			name:       "binary fragment inside a fragmented message",
			h:          m(false, 0, ws.OpBinary, 1),
			fragmented: true,
			want:       ErrExpectedContinuation,
		},
		{
			name: "negative length",
			h:    m(true, 0, ws.OpBinary, -1),
			want: ErrLengthOverflow,
		},
		{
			name: "reserved opcode wins over reserved bits",
			h:    ws.Header{OpCode: 0x5, Rsv: r2},
			want: ErrReservedOpcode,
		},
		{
			name: "reserved bits win over unmasked",
			h:    ws.Header{Fin: true, OpCode: ws.OpText, Rsv: r3},
			want: ErrReservedBits,
		},
		{
			name: "unmasked wins over fragmented control",
			h:    ws.Header{OpCode: ws.OpPing},
			want: ErrUnmasked,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckHeader(tt.h, tt.allowedRsv, tt.fragmented)
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
			if err := w.Check(tt.allowedRsv, tt.fragmented); err != tt.want {
				t.Fatalf(
					"WireHeader(%+v).Check(%#x, %t) = %v; want %v",
					tt.h, tt.allowedRsv, tt.fragmented, err, tt.want,
				)
			}
		})
	}
}
