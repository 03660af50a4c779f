package engine_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wstest"
)

// cfBinaryBytes returns n bytes cycling through every byte value.
func cfBinaryBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 37)
	}
	return b
}

// TestConformancePingPong (Autobahn 2.1-2.11): pings are answered with a
// pong carrying the same payload, in order; unsolicited pongs are ignored;
// a ping over 125 bytes or a fragmented ping fails the connection with
// 1002.
func TestConformancePingPong(t *testing.T) {
	addr := cfStart(t, engine.Config{})
	type pingCase struct {
		name    string
		payload []byte
		chunked bool
	}
	ok := []pingCase{
		{"empty", nil, false},
		{"text-125", cfPattern(125), false},
		{"binary-16", cfBinaryBytes(16), false},
		{"binary-125", cfBinaryBytes(125), false},
		{"125-byte-by-byte", cfBinaryBytes(125), true},
	}
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			for _, tc := range ok {
				t.Run(tc.name, func(t *testing.T) {
					c := wstest.Dial(t, addr, path)
					frame := wstest.AppendFrame(nil, true, 0, wstest.OpPing, tc.payload, true)
					if tc.chunked {
						c.WriteChunks(frame)
					} else {
						c.WriteRaw(frame)
					}
					cfExpectEcho(t, c, wstest.OpPong, tc.payload)
					cfCloseCleanly(t, c)
				})
			}
			t.Run("ping-126", func(t *testing.T) {
				c := wstest.Dial(t, addr, path)
				c.WriteFrame(true, 0, wstest.OpPing, cfPattern(126), true)
				cfExpectFail(t, c, 1002)
			})
			t.Run("ping-126-header-only", func(t *testing.T) {
				// The length alone is the violation: no payload is needed.
				c := wstest.Dial(t, addr, path)
				c.WriteRaw(wstest.AppendHeader(nil, true, 0, wstest.OpPing, 126, true))
				cfExpectFail(t, c, 1002)
			})
			t.Run("ping-fragmented", func(t *testing.T) {
				c := wstest.Dial(t, addr, path)
				c.WriteFrame(false, 0, wstest.OpPing, []byte("frag"), true)
				c.WriteFrame(true, 0, wstest.OpContinuation, []byte("ment"), true)
				cfExpectFail(t, c, 1002)
			})
			t.Run("unsolicited-pongs-ignored", func(t *testing.T) {
				// Autobahn 2.7-2.9: a pong without and with payload get no
				// answer; a ping after them gets exactly its own pong.
				c := wstest.Dial(t, addr, path)
				c.WriteFrame(true, 0, wstest.OpPong, nil, true)
				c.WriteFrame(true, 0, wstest.OpPong, []byte("unsolicited"), true)
				c.WriteFrame(true, 0, wstest.OpPing, []byte("solicited"), true)
				c.WriteFrame(true, 0, wstest.OpText, []byte("after"), true)
				cfExpectEcho(t, c, wstest.OpPong, []byte("solicited"))
				cfExpectEcho(t, c, wstest.OpText, []byte("after"))
				cfCloseCleanly(t, c)
			})
			for _, chunked := range []bool{false, true} {
				t.Run(fmt.Sprintf("ten-pings-chunked-%v", chunked), func(t *testing.T) {
					// Autobahn 2.10, 2.11: ten pings in a row, answered in
					// order.
					c := wstest.Dial(t, addr, path)
					var buf []byte
					for i := range 10 {
						buf = wstest.AppendFrame(buf, true, 0, wstest.OpPing, fmt.Appendf(nil, "ping %d", i), true)
					}
					if chunked {
						// Cut every frame in two.
						var offs []int
						for off := 5; off < len(buf); off += 6 {
							offs = append(offs, off)
						}
						c.WriteChunks(buf, offs...)
					} else {
						c.WriteRaw(buf)
					}
					for i := range 10 {
						cfExpectEcho(t, c, wstest.OpPong, fmt.Appendf(nil, "ping %d", i))
					}
					cfCloseCleanly(t, c)
				})
			}
		})
	}
}

// TestConformanceClose (Autobahn 7.1, 7.3, 7.5): the peer's close is
// answered with a close carrying its code (an empty close with an empty
// one, as the echo handlers send no reason) and the server then ends the
// TCP connection; nothing sent after the close frame is processed; bad
// close payloads fail the connection.
func TestConformanceClose(t *testing.T) {
	addr := cfStart(t, engine.Config{})
	type closeCase struct {
		name    string
		payload []byte // client close payload
		reply   []byte // exact server close payload; nil: failure with code
		code    int
	}
	cases := []closeCase{
		// RFC 6455 section 5.5.1: a close without a status is answered
		// without one (the echo handlers answer the code they received,
		// which is 1005 "no status", sent as an empty payload).
		{"empty", []byte{}, []byte{}, 0},
		{"1000", wstest.ClosePayload(1000, ""), []byte{0x03, 0xe8}, 0},
		{"1000-reason", wstest.ClosePayload(1000, "Hello World!"), []byte{0x03, 0xe8}, 0},
		{"1000-reason-123", wstest.ClosePayload(1000, strings.Repeat("*", 123)), []byte{0x03, 0xe8}, 0},
		{"1000-reason-utf8", wstest.ClosePayload(1000, "κόσμε 𝄞"), []byte{0x03, 0xe8}, 0},
		{"one-byte", []byte{0x03}, nil, 1002},
		{"reason-124", wstest.ClosePayload(1000, strings.Repeat("*", 124)), nil, 1002},
		{"reason-invalid-utf8", wstest.ClosePayload(1000, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"), nil, 1007},
		{"reason-truncated-utf8", wstest.ClosePayload(1000, "abc\xe2\x82"), nil, 1007},
	}
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					c := wstest.Dial(t, addr, path)
					c.WriteFrame(true, 0, wstest.OpClose, tc.payload, true)
					if tc.reply == nil {
						cfExpectFail(t, c, tc.code)
						return
					}
					cfExpectCloseBytes(t, c, tc.reply)
				})
			}
			t.Run("close-fragmented", func(t *testing.T) {
				c := wstest.Dial(t, addr, path)
				c.WriteFrame(false, 0, wstest.OpClose, []byte{0x03}, true)
				c.WriteFrame(true, 0, wstest.OpContinuation, []byte{0xe8}, true)
				cfExpectFail(t, c, 1002)
			})
			t.Run("message-then-close", func(t *testing.T) {
				// Autobahn 7.1.1: the echo precedes the close reply.
				c := wstest.Dial(t, addr, path)
				buf := wstest.AppendFrame(nil, true, 0, wstest.OpText, []byte("Hello World"), true)
				buf = wstest.AppendFrame(buf, true, 0, wstest.OpClose, wstest.ClosePayload(1000, ""), true)
				c.WriteRaw(buf)
				cfExpectEcho(t, c, wstest.OpText, []byte("Hello World"))
				cfExpectCloseBytes(t, c, []byte{0x03, 0xe8})
			})
			// Autobahn 7.1.2-7.1.5: after the close frame, a second close,
			// a ping, a text message or the end of a fragmented message
			// get no answer.
			after := []struct {
				name  string
				frame []byte
			}{
				{"second-close", wstest.AppendFrame(nil, true, 0, wstest.OpClose, wstest.ClosePayload(1001, ""), true)},
				{"ping", wstest.AppendFrame(nil, true, 0, wstest.OpPing, []byte("ping"), true)},
				{"text", wstest.AppendFrame(nil, true, 0, wstest.OpText, []byte("Hello"), true)},
				{"invalid-frame", wstest.AppendFrame(nil, true, wstest.RSV1, 0xB, []byte("bad"), false)},
			}
			for _, a := range after {
				t.Run("close-then-"+a.name, func(t *testing.T) {
					c := wstest.Dial(t, addr, path)
					buf := wstest.AppendFrame(nil, true, 0, wstest.OpClose, wstest.ClosePayload(1000, ""), true)
					c.WriteRaw(append(buf, a.frame...))
					cfExpectCloseBytes(t, c, []byte{0x03, 0xe8})
				})
			}
			t.Run("fragment-close-continuation", func(t *testing.T) {
				c := wstest.Dial(t, addr, path)
				buf := wstest.AppendFrame(nil, false, 0, wstest.OpText, []byte("fragment1"), true)
				buf = wstest.AppendFrame(buf, true, 0, wstest.OpClose, wstest.ClosePayload(1000, ""), true)
				buf = wstest.AppendFrame(buf, true, 0, wstest.OpContinuation, []byte("fragment2"), true)
				c.WriteRaw(buf)
				cfExpectCloseBytes(t, c, []byte{0x03, 0xe8})
			})
		})
	}
}

// TestConformanceCloseCodes (Autobahn 7.7, 7.9): a close with a code that
// may appear on the wire is answered with the same code; any other code
// fails the connection with 1002.
func TestConformanceCloseCodes(t *testing.T) {
	addr := cfStart(t, engine.Config{})
	valid := []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999}
	invalid := []int{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			for _, code := range valid {
				t.Run(fmt.Sprintf("valid-%d", code), func(t *testing.T) {
					c := wstest.Dial(t, addr, path)
					c.WriteClose(code, "reason")
					want := wstest.ClosePayload(code, "")
					f := c.MustReadFrame()
					if f.Opcode != wstest.OpClose || !bytes.Equal(f.Payload, want) {
						t.Fatalf("got %v, want close %x", f, want)
					}
					c.ExpectTCPClosed(cfTCPBound)
				})
			}
			for _, code := range invalid {
				t.Run(fmt.Sprintf("invalid-%d", code), func(t *testing.T) {
					c := wstest.Dial(t, addr, path)
					// Written by hand: ClosePayload turns 1005 into an
					// empty payload.
					c.WriteFrame(true, 0, wstest.OpClose, []byte{byte(code >> 8), byte(code)}, true)
					cfExpectFail(t, c, 1002)
				})
			}
		})
	}
}

// TestConformanceCloseAfterReplies (Autobahn 7.1.1 with pings): a text
// message, pings and a close in one write get, before the TCP close, the
// echo, every pong in order and the close reply. The blocking handler
// queues the echo and its close reply from its own goroutine while the
// loop writes the pongs; a close that overtook frames still queued would
// drop them (the server half-closed the socket with the echo and the close
// reply unsent), so the exchange is repeated to catch that race. The event
// API replies in the order of the input.
func TestConformanceCloseAfterReplies(t *testing.T) {
	addr := cfStart(t, engine.Config{})
	const (
		rounds = 50
		pings  = 8
	)
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			for round := range rounds {
				c := wstest.Dial(t, addr, path)
				buf := wstest.AppendFrame(nil, true, 0, wstest.OpText, []byte("Hello World"), true)
				for i := range pings {
					buf = wstest.AppendFrame(buf, true, 0, wstest.OpPing, fmt.Appendf(nil, "ping %d", i), true)
				}
				buf = wstest.AppendFrame(buf, true, 0, wstest.OpClose, wstest.ClosePayload(1000, ""), true)
				c.WriteRaw(buf)
				before := c.ExpectClose(1000)
				echoAt, pong := -1, 0
				for i, f := range before {
					switch {
					case f.Opcode == wstest.OpText && string(f.Payload) == "Hello World" && echoAt < 0:
						echoAt = i
					case f.Opcode == wstest.OpPong && string(f.Payload) == fmt.Sprintf("ping %d", pong):
						pong++
					default:
						t.Fatalf("round %d: unexpected frame %d %v in %v", round, i, f, before)
					}
				}
				if echoAt < 0 || pong != pings {
					t.Fatalf("round %d: echo at %d, %d pongs, want the echo and %d pongs: %v", round, echoAt, pong, pings, before)
				}
				if path != cfBlockingPath && echoAt != 0 {
					t.Fatalf("round %d: event API echo at %d, want first: %v", round, echoAt, before)
				}
				c.ExpectTCPClosed(cfTCPBound)
				c.Close()
			}
		})
	}
}
