package engine_test

import (
	"fmt"
	"testing"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wstest"
)

// TestConformanceFraming (Autobahn 1.1, 1.2): text and binary messages of
// every length-encoding boundary, sent as one frame, are echoed exactly,
// and the connection closes cleanly afterwards.
func TestConformanceFraming(t *testing.T) {
	addr := cfStart(t, engine.Config{})
	lengths := []int{0, 1, 125, 126, 127, 128, 65535, 65536}
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			for _, op := range []byte{wstest.OpText, wstest.OpBinary} {
				for _, n := range lengths {
					t.Run(fmt.Sprintf("op%d/len%d", op, n), func(t *testing.T) {
						c := wstest.Dial(t, addr, path)
						p := cfPattern(n)
						c.WriteFrame(true, 0, op, p, true)
						cfExpectEcho(t, c, op, p)
						cfCloseCleanly(t, c)
					})
				}
			}
		})
	}
}

// TestConformanceFramingChunked (Autobahn 1.x with partial reads): frames
// written in pieces cut at awkward places — inside the first two bytes,
// inside the extended length, inside the masking key, inside a control
// frame's payload, one byte at a time — are reassembled and echoed exactly.
func TestConformanceFramingChunked(t *testing.T) {
	addr := cfStart(t, engine.Config{})
	type chunkCase struct {
		name    string
		op      byte
		n       int   // payload length
		offsets []int // split points in the encoded frame; none: byte by byte
	}
	// Header sizes (masked): 6 bytes for n <= 125, 8 up to 65535, 14 above.
	cases := []chunkCase{
		{"small-byte-by-byte", wstest.OpText, 20, nil},
		{"empty-byte-by-byte", wstest.OpBinary, 0, nil},
		{"len7-inside-header", wstest.OpBinary, 100, []int{1, 2, 4, 6, 7, 50}},
		{"len16-inside-ext-length", wstest.OpText, 300, []int{1, 3, 4}},
		{"len16-inside-mask", wstest.OpBinary, 300, []int{5, 7, 8, 9, 299}},
		{"len64-inside-ext-length", wstest.OpBinary, 70000, []int{2, 3, 6, 9}},
		{"len64-inside-mask", wstest.OpText, 70000, []int{10, 11, 13, 14, 15, 40000}},
		{"ping-inside-payload", wstest.OpPing, 125, []int{1, 6, 7, 60, 130}},
	}
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					c := wstest.Dial(t, addr, path)
					p := cfPattern(tc.n)
					c.WriteChunks(wstest.AppendFrame(nil, true, 0, tc.op, p, true), tc.offsets...)
					want := tc.op
					if tc.op == wstest.OpPing {
						want = wstest.OpPong
					}
					cfExpectEcho(t, c, want, p)
					cfCloseCleanly(t, c)
				})
			}
			t.Run("two-frames-split-in-second-header", func(t *testing.T) {
				c := wstest.Dial(t, addr, path)
				a, b := cfPattern(10), cfPattern(200)
				buf := wstest.AppendFrame(nil, true, 0, wstest.OpText, a, true)
				cut := len(buf)
				buf = wstest.AppendFrame(buf, true, 0, wstest.OpBinary, b, true)
				c.WriteChunks(buf, cut-1, cut+1, cut+3, cut+5)
				cfExpectEcho(t, c, wstest.OpText, a)
				cfExpectEcho(t, c, wstest.OpBinary, b)
				cfCloseCleanly(t, c)
			})
		})
	}
}

// TestConformanceReservedBits (Autobahn 3.1-3.7): a frame with any RSV bit
// set, when no extension was negotiated, fails the connection with 1002;
// nothing is echoed and the server ends TCP.
func TestConformanceReservedBits(t *testing.T) {
	addr := cfStart(t, engine.Config{})
	type rsvCase struct {
		op  byte
		rsv byte
	}
	var cases []rsvCase
	for rsv := byte(1); rsv <= 7; rsv++ {
		cases = append(cases, rsvCase{wstest.OpText, rsv})
	}
	cases = append(cases,
		rsvCase{wstest.OpBinary, wstest.RSV1},
		rsvCase{wstest.OpBinary, wstest.RSV3},
		rsvCase{wstest.OpPing, wstest.RSV2},
		rsvCase{wstest.OpPong, wstest.RSV1},
		rsvCase{wstest.OpClose, wstest.RSV1 | wstest.RSV2 | wstest.RSV3},
	)
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			for _, tc := range cases {
				t.Run(fmt.Sprintf("op%d/rsv%d", tc.op, tc.rsv), func(t *testing.T) {
					c := wstest.Dial(t, addr, path)
					p := []byte("Hello")
					if tc.op == wstest.OpClose {
						p = wstest.ClosePayload(1000, "")
					}
					c.WriteFrame(true, tc.rsv, tc.op, p, true)
					cfExpectFail(t, c, 1002)
				})
			}
			t.Run("continuation-rsv1", func(t *testing.T) {
				c := wstest.Dial(t, addr, path)
				c.WriteFrame(false, 0, wstest.OpText, []byte("Hel"), true)
				c.WriteFrame(true, wstest.RSV1, wstest.OpContinuation, []byte("lo"), true)
				cfExpectFail(t, c, 1002)
			})
			// Autobahn 3.2: a valid message, then the bad frame, then a
			// ping. The echo of the first message, already received, comes
			// before the close; the ping after the bad frame is ignored.
			t.Run("valid-message-then-bad-frame", func(t *testing.T) {
				c := wstest.Dial(t, addr, path)
				c.WriteFrame(true, 0, wstest.OpText, []byte("Hello"), true)
				cfExpectEcho(t, c, wstest.OpText, []byte("Hello"))
				buf := wstest.AppendFrame(nil, true, wstest.RSV2, wstest.OpText, []byte("Hello"), true)
				buf = wstest.AppendFrame(buf, true, 0, wstest.OpPing, []byte("ping"), true)
				c.WriteRaw(buf)
				cfExpectFail(t, c, 1002)
			})
		})
	}
}

// TestConformanceReservedBitsSameWrite is Autobahn 3.2 with the valid
// message and the bad frame in one TCP write. The event API calls
// OnMessage before it reads the next frame, so the echo must precede the
// close (Autobahn's strict result). The blocking API may fail the
// connection before the handler has echoed (Autobahn's "non-strict"
// result, allowed by RFC 6455 section 7.1.7): the echo is optional there,
// but if present it must be exact and come before the close.
func TestConformanceReservedBitsSameWrite(t *testing.T) {
	addr := cfStart(t, engine.Config{})
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			c := wstest.Dial(t, addr, path)
			buf := wstest.AppendFrame(nil, true, 0, wstest.OpText, []byte("Hello"), true)
			buf = wstest.AppendFrame(buf, true, wstest.RSV2, wstest.OpText, []byte("Hello"), true)
			buf = wstest.AppendFrame(buf, true, 0, wstest.OpPing, []byte("ping"), true)
			c.WriteRaw(buf)
			before := c.ExpectClose(1002)
			switch {
			case len(before) == 0 && path == cfBlockingPath:
				t.Log("blocking API: echo dropped by the failure (non-strict)")
			case len(before) != 1 || before[0].Opcode != wstest.OpText || string(before[0].Payload) != "Hello":
				t.Fatalf("frames before the close: %v, want the echo of Hello", before)
			}
			c.ExpectTCPClosed(cfTCPBound)
		})
	}
}

// TestConformanceReservedOpcodes (Autobahn 4.1, 4.2): reserved non-control
// opcodes 3-7 and control opcodes 0xB-0xF fail the connection with 1002,
// with or without payload and after a valid message.
func TestConformanceReservedOpcodes(t *testing.T) {
	addr := cfStart(t, engine.Config{})
	ops := []byte{3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF}
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			for i, op := range ops {
				t.Run(fmt.Sprintf("op%#x", op), func(t *testing.T) {
					c := wstest.Dial(t, addr, path)
					if i%2 == 1 {
						// Autobahn 4.x.2-4.x.5: a valid message first.
						c.WriteFrame(true, 0, wstest.OpText, []byte("ok"), true)
						cfExpectEcho(t, c, wstest.OpText, []byte("ok"))
					}
					c.WriteFrame(true, 0, op, []byte("reserved"), true)
					cfExpectFail(t, c, 1002)
				})
			}
			t.Run("empty-control-0xB", func(t *testing.T) {
				c := wstest.Dial(t, addr, path)
				c.WriteFrame(true, 0, 0xB, nil, true)
				cfExpectFail(t, c, 1002)
			})
		})
	}
}

// TestConformanceBadHeaders (RFC 6455 sections 5.1, 5.2): an unmasked client
// frame, a 64-bit length with its most significant bit set and a length not
// encoded in the minimal number of bytes fail the connection with 1002.
func TestConformanceBadHeaders(t *testing.T) {
	addr := cfStart(t, engine.Config{})
	type headerCase struct {
		name  string
		frame []byte
	}
	cases := []headerCase{
		{"unmasked-text", wstest.AppendFrame(nil, true, 0, wstest.OpText, []byte("Hello"), false)},
		{"unmasked-binary-empty", wstest.AppendFrame(nil, true, 0, wstest.OpBinary, nil, false)},
		{"unmasked-ping", wstest.AppendFrame(nil, true, 0, wstest.OpPing, []byte("p"), false)},
		{"unmasked-close", wstest.AppendFrame(nil, true, 0, wstest.OpClose, wstest.ClosePayload(1000, ""), false)},
		{"len64-msb-set", wstest.AppendRawHeader(nil, true, 0, wstest.OpBinary, 127, []byte{0x80, 0, 0, 0, 0, 0, 0, 1}, true)},
		{"len64-all-ones", wstest.AppendRawHeader(nil, true, 0, wstest.OpText, 127, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, true)},
		{"len16-value-5", append(wstest.AppendRawHeader(nil, true, 0, wstest.OpText, 126, []byte{0, 5}, true), "Hello"...)},
		{"len16-value-125", append(wstest.AppendRawHeader(nil, true, 0, wstest.OpBinary, 126, []byte{0, 125}, true), cfPattern(125)...)},
		{"len64-value-5", append(wstest.AppendRawHeader(nil, true, 0, wstest.OpText, 127, []byte{0, 0, 0, 0, 0, 0, 0, 5}, true), "Hello"...)},
		{"len64-value-65535", wstest.AppendRawHeader(nil, true, 0, wstest.OpBinary, 127, []byte{0, 0, 0, 0, 0, 0, 0xff, 0xff}, true)},
	}
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					c := wstest.Dial(t, addr, path)
					c.WriteRaw(tc.frame)
					cfExpectFail(t, c, 1002)
				})
			}
		})
	}
}
