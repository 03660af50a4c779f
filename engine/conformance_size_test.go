package engine_test

import (
	"bytes"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wstest"
)

// cfSendMessage writes payload as one message of type op: a single frame
// when frag is 0, otherwise frames of frag bytes (the last may be
// shorter). The frames are encoded into one buffer and written at once.
func cfSendMessage(c *wstest.Conn, op byte, payload []byte, frag int) {
	if frag == 0 {
		c.WriteFrame(true, 0, op, payload, true)
		return
	}
	buf := make([]byte, 0, len(payload)+(len(payload)/frag+1)*14)
	for off := 0; off < len(payload); off += frag {
		end := min(off+frag, len(payload))
		fop := wstest.OpContinuation
		if off == 0 {
			fop = op
		}
		buf = wstest.AppendFrame(buf, end == len(payload), 0, fop, payload[off:end], true)
	}
	c.WriteRaw(buf)
}

// cfExpectBigEcho reads one data message (joined if fragmented) and
// compares it byte for byte with want.
func cfExpectBigEcho(t *testing.T, c *wstest.Conn, op byte, want []byte) {
	t.Helper()
	gotOp, got := c.ReadMessage()
	if gotOp != op || len(got) != len(want) {
		t.Fatalf("echo: op %#x len %d, want op %#x len %d", gotOp, len(got), op, len(want))
	}
	if bytes.Equal(got, want) {
		return
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("echo differs at byte %d of %d: %#x, want %#x", i, len(want), got[i], want[i])
		}
	}
}

// TestConformanceLargeMessages (Autobahn 9.1, 9.2): text and binary
// messages of 64 KiB to 16 MiB, in one frame or in 64 KiB frames, are
// echoed byte for byte. 16 MiB is exactly the default MaxMessageSize, which
// must accept it; the biggest cases run once per type to bound the time.
func TestConformanceLargeMessages(t *testing.T) {
	addr := cfStart(t, engine.Config{})
	type sizeCase struct {
		op   byte
		size int
		frag int // 0: one frame
	}
	var cases []sizeCase
	for _, size := range []int{64 << 10, 256 << 10, 1 << 20, 4 << 20} {
		for _, op := range []byte{wstest.OpText, wstest.OpBinary} {
			for _, frag := range []int{0, 64 << 10} {
				cases = append(cases, sizeCase{op, size, frag})
			}
		}
	}
	cases = append(cases,
		sizeCase{wstest.OpBinary, engine.DefaultMaxMessageSize, 0},
		sizeCase{wstest.OpText, engine.DefaultMaxMessageSize, 64 << 10},
	)
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			c := wstest.Dial(t, addr, path)
			c.Timeout = 30 * time.Second
			for _, tc := range cases {
				name := fmt.Sprintf("op%d/%dKiB/frag%d", tc.op, tc.size>>10, tc.frag)
				if !t.Run(name, func(t *testing.T) {
					p := cfPattern(tc.size)
					cfSendMessage(c, tc.op, p, tc.frag)
					cfExpectBigEcho(t, c, tc.op, p)
				}) {
					return // the shared connection is in an unknown state
				}
			}
			cfCloseCleanly(t, c)
		})
	}
}

// TestConformanceMessageLimit (Autobahn 10.x, with Config.MaxMessageSize
// small): a frame header announcing more than the limit fails the
// connection with 1009 at once, before any payload is sent; so does the
// header of a fragment that takes the message's total over the limit.
// Messages of exactly the limit pass, and control frames between fragments
// do not count.
func TestConformanceMessageLimit(t *testing.T) {
	const limit = 1000
	addr := cfStart(t, engine.Config{MaxMessageSize: limit})
	defAddr := cfStart(t, engine.Config{})
	hdr := func(fin bool, op byte, n uint64) []byte {
		return wstest.AppendHeader(nil, fin, 0, op, n, true)
	}
	frame := func(fin bool, op byte, p []byte) []byte {
		return wstest.AppendFrame(nil, fin, 0, op, p, true)
	}
	type limitCase struct {
		name  string
		addr  string
		parts [][]byte  // written in order, pausing between them
		want  []cfReply // the replies expected; none: close 1009
	}
	cases := []limitCase{
		{"text-limit", addr, [][]byte{frame(true, wstest.OpText, cfPattern(limit))}, []cfReply{{wstest.OpText, string(cfPattern(limit))}}},
		{"text-limit+1-header-only", addr, [][]byte{hdr(true, wstest.OpText, limit+1)}, nil},
		{"binary-limit+1-header-only", addr, [][]byte{hdr(true, wstest.OpBinary, limit+1)}, nil},
		{"binary-nofin-limit+1-header-only", addr, [][]byte{hdr(false, wstest.OpBinary, limit+1)}, nil},
		{"len64-huge-header-only", addr, [][]byte{hdr(true, wstest.OpBinary, 1<<40)}, nil},
		{"fragments-limit", addr, [][]byte{
			frame(false, wstest.OpText, cfPattern(600)),
			frame(true, wstest.OpPing, cfPattern(100)), // not counted
			frame(true, wstest.OpContinuation, cfPattern(400)),
		}, []cfReply{{wstest.OpPong, string(cfPattern(100))}, {wstest.OpText, string(cfPattern(600)) + string(cfPattern(400))}}},
		// Each message counts alone: earlier messages on the connection
		// must not count against the limit of the next one.
		{"consecutive-messages-under-limit", addr, [][]byte{
			frame(true, wstest.OpText, cfPattern(600)),
			frame(false, wstest.OpText, cfPattern(500)),
			frame(true, wstest.OpContinuation, cfPattern(500)),
			frame(true, wstest.OpText, cfPattern(limit)),
		}, []cfReply{
			{wstest.OpText, string(cfPattern(600))},
			{wstest.OpText, string(cfPattern(500)) + string(cfPattern(500))},
			{wstest.OpText, string(cfPattern(limit))},
		}},
		{"fragments-over-limit-header-only", addr, [][]byte{
			frame(false, wstest.OpText, cfPattern(600)),
			hdr(true, wstest.OpContinuation, 401),
		}, nil},
		{"many-fragments-over-limit", addr, [][]byte{
			frame(false, wstest.OpBinary, cfPattern(250)),
			frame(false, wstest.OpContinuation, cfPattern(250)),
			frame(false, wstest.OpContinuation, cfPattern(250)),
			frame(false, wstest.OpContinuation, cfPattern(250)),
			hdr(false, wstest.OpContinuation, 1),
		}, nil},
		{"default-16MiB+1-header-only", defAddr, [][]byte{hdr(true, wstest.OpBinary, engine.DefaultMaxMessageSize+1)}, nil},
		{"default-fragments-over-16MiB-header-only", defAddr, [][]byte{
			frame(false, wstest.OpBinary, cfPattern(10)),
			hdr(true, wstest.OpContinuation, engine.DefaultMaxMessageSize-9),
		}, nil},
	}
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					c := wstest.Dial(t, tc.addr, path)
					for i, p := range tc.parts {
						if i > 0 {
							time.Sleep(wstest.ChunkPause)
						}
						c.WriteRaw(p)
					}
					if len(tc.want) == 0 {
						cfExpectFail(t, c, 1009)
						return
					}
					for _, w := range tc.want {
						cfExpectEcho(t, c, w.op, []byte(w.payload))
					}
					cfCloseCleanly(t, c)
				})
			}
		})
	}
}

// TestConformanceHugeLengthUnderHugeLimit: with MaxMessageSize at its
// largest, a frame announcing 2^63-1 bytes passes the limit; the server must
// then read the payload as it comes (offsets near the top of the integer
// range must not wrap), and other connections keep being served.
func TestConformanceHugeLengthUnderHugeLimit(t *testing.T) {
	addr := cfStart(t, engine.Config{MaxMessageSize: math.MaxInt64})
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			huge := wstest.Dial(t, addr, path)
			defer huge.Close()
			huge.WriteRaw(append(wstest.AppendHeader(nil, true, 0, wstest.OpBinary, math.MaxInt64, true), "abc"...))
			time.Sleep(wstest.ChunkPause)
			c := wstest.Dial(t, addr, path)
			c.WriteFrame(true, 0, wstest.OpBinary, cfPattern(100), true)
			cfExpectEcho(t, c, wstest.OpBinary, cfPattern(100))
			cfCloseCleanly(t, c)
		})
	}
}
