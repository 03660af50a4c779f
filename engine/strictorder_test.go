package engine_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wstest"
)

// Strict order: every message the peer sent before a frame that fails the
// connection reaches the handler, what the handler sends in reply goes out
// before the close frame, and then come the close code and the end of the
// TCP connection. The same for both APIs, whatever the violation, whether
// the bytes arrive in one read or in pieces.

// soMaxMessage is the size limit of the strict-order server, small enough
// for a short frame to break it.
const soMaxMessage = 64

// soValid is the valid message that precedes every violation.
var soValid = []byte("hello, before the violation")

// soCases are the violations, as the bytes a client sends after soValid.
var soCases = []struct {
	name string
	bad  []byte
	code int
}{
	{"rsv-bits", wstest.AppendFrame(nil, true, 0x2, wstest.OpText, []byte("x"), true), 1002},
	{"reserved-data-opcode", wstest.AppendFrame(nil, true, 0, 0x3, []byte("x"), true), 1002},
	{"reserved-control-opcode", wstest.AppendFrame(nil, true, 0, 0xb, nil, true), 1002},
	{"continuation-without-message", wstest.AppendFrame(nil, true, 0, wstest.OpContinuation, []byte("x"), true), 1002},
	{"new-message-inside-fragmented", append(
		wstest.AppendFrame(nil, false, 0, wstest.OpText, []byte("frag"), true),
		wstest.AppendFrame(nil, true, 0, wstest.OpText, []byte("new"), true)...), 1002},
	{"fragmented-control", wstest.AppendFrame(nil, false, 0, wstest.OpPing, []byte("p"), true), 1002},
	{"control-over-125", wstest.AppendFrame(nil, true, 0, wstest.OpPing, bytes.Repeat([]byte("p"), 126), true), 1002},
	{"invalid-utf8-later-message", wstest.AppendFrame(nil, true, 0, wstest.OpText, []byte("ok \xff"), true), 1007},
	{"invalid-utf8-in-fragment", append(
		wstest.AppendFrame(nil, false, 0, wstest.OpText, []byte("ok"), true),
		wstest.AppendFrame(nil, false, 0, wstest.OpContinuation, []byte("\xc0\xaf"), true)...), 1007},
	{"message-over-limit", wstest.AppendFrame(nil, true, 0, wstest.OpBinary, bytes.Repeat([]byte("b"), soMaxMessage+1), true), 1009},
	{"bad-close-payload", wstest.AppendFrame(nil, true, 0, wstest.OpClose, []byte{0x03}, true), 1002},
	{"bad-close-code", wstest.AppendFrame(nil, true, 0, wstest.OpClose, []byte{0x03, 0xed}, true), 1002},
}

// TestStrictOrder sends the valid message then each violation, in one
// write, one byte at a time, and split in two at every byte, to each echo
// endpoint, and checks the echo, then the close code, then the TCP close.
func TestStrictOrder(t *testing.T) {
	addr := cfStart(t, engine.Config{MaxMessageSize: soMaxMessage})
	valid := wstest.AppendFrame(nil, true, 0, wstest.OpText, soValid, true)
	for _, path := range cfPaths {
		for _, tc := range soCases {
			stream := append(append([]byte(nil), valid...), tc.bad...)
			t.Run(path[1:]+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				check := func(t *testing.T, write func(c *wstest.Conn)) {
					t.Helper()
					c := wstest.Dial(t, addr, path)
					write(c)
					soExpect(t, c, tc.code)
				}
				t.Run("one-write", func(t *testing.T) {
					check(t, func(c *wstest.Conn) { c.WriteRaw(stream) })
				})
				t.Run("byte-by-byte", func(t *testing.T) {
					check(t, func(c *wstest.Conn) { c.WriteChunks(stream) })
				})
				t.Run("split-everywhere", func(t *testing.T) {
					for i := 1; i < len(stream); i++ {
						t.Run(fmt.Sprint(i), func(t *testing.T) {
							check(t, func(c *wstest.Conn) { c.WriteChunks(stream, i) })
						})
						if t.Failed() {
							return
						}
					}
				})
			})
		}
	}
}

// soExpect reads the echo of soValid, then the close with code and the end
// of the TCP connection, with nothing else in between.
func soExpect(t *testing.T, c *wstest.Conn, code int) {
	t.Helper()
	f := c.MustReadFrame()
	if f.Opcode != wstest.OpText || !f.Fin || !bytes.Equal(f.Payload, soValid) {
		t.Fatalf("first frame %v, want the echo of the valid message", f)
	}
	if before := c.ExpectClose(code); len(before) != 0 {
		t.Fatalf("frames between the echo and close %d: %v", code, before)
	}
	c.ExpectTCPClosed(cfTCPBound)
}
