package engine_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wstest"
)

// cfFrag is one frame of a scripted client sequence.
type cfFrag struct {
	fin     bool
	op      byte
	payload string
}

// cfFrames encodes a sequence of masked frames.
func cfFrames(frags ...cfFrag) []byte {
	var buf []byte
	for _, f := range frags {
		buf = wstest.AppendFrame(buf, f.fin, 0, f.op, []byte(f.payload), true)
	}
	return buf
}

// cfWriteFrames writes each frame separately, pausing between them when
// paced, or all in one write.
func cfWriteFrames(c *wstest.Conn, paced bool, frags ...cfFrag) {
	if !paced {
		c.WriteRaw(cfFrames(frags...))
		return
	}
	var offs []int
	n := 0
	for _, f := range frags[:len(frags)-1] {
		n += len(cfFrames(f))
		offs = append(offs, n)
	}
	if len(offs) == 0 {
		c.WriteRaw(cfFrames(frags...))
		return
	}
	c.WriteChunks(cfFrames(frags...), offs...)
}

// cfReply is an expected server frame: a whole message or a pong.
type cfReply struct {
	op      byte
	payload string
}

// TestConformanceFragmentation (Autobahn 5.x): fragmented text and binary
// messages are echoed as one message, control frames between fragments are
// answered at once, and broken fragment sequences fail the connection with
// 1002. Every sequence is sent both in one write and one frame per write.
func TestConformanceFragmentation(t *testing.T) {
	addr := cfStart(t, engine.Config{})
	const (
		text = wstest.OpText
		bin  = wstest.OpBinary
		cont = wstest.OpContinuation
		ping = wstest.OpPing
		pong = wstest.OpPong
	)
	type fragCase struct {
		name   string
		frames []cfFrag
		want   []cfReply // echoes and pongs, in order
		fail   bool      // the connection fails with 1002 (want is empty)
	}
	cases := []fragCase{
		{"text-2", []cfFrag{{false, text, "fragment1"}, {true, cont, "fragment2"}},
			[]cfReply{{text, "fragment1fragment2"}}, false},
		{"binary-3", []cfFrag{{false, bin, "\x00\x01"}, {false, cont, "\xff"}, {true, cont, "\xfe\x00"}},
			[]cfReply{{bin, "\x00\x01\xff\xfe\x00"}}, false},
		{"empty-fragments", []cfFrag{{false, text, ""}, {false, cont, ""}, {true, cont, ""}},
			[]cfReply{{text, ""}}, false},
		{"ping-between", []cfFrag{{false, text, "fragment1"}, {true, ping, "pongme!"}, {true, cont, "fragment2"}},
			[]cfReply{{pong, "pongme!"}, {text, "fragment1fragment2"}}, false},
		{"pings-between-5", []cfFrag{
			{false, bin, "f1"}, {true, ping, "p1"}, {false, cont, "f2"}, {true, ping, "p2"},
			{false, cont, "f3"}, {true, ping, "p3"}, {false, cont, "f4"}, {true, ping, "p4"}, {true, cont, "f5"},
		}, []cfReply{{pong, "p1"}, {pong, "p2"}, {pong, "p3"}, {pong, "p4"}, {bin, "f1f2f3f4f5"}}, false},
		{"pong-between", []cfFrag{{false, text, "fragment1"}, {true, pong, "unsolicited"}, {true, cont, "fragment2"}},
			[]cfReply{{text, "fragment1fragment2"}}, false},
		{"two-messages", []cfFrag{{false, text, "a"}, {true, cont, "b"}, {false, bin, "c"}, {true, cont, "d"}},
			[]cfReply{{text, "ab"}, {bin, "cd"}}, false},
		{"pong-fragmented", []cfFrag{{false, pong, "frag"}, {true, cont, "ment"}}, nil, true},
		{"continuation-fin-without-start", []cfFrag{{true, cont, "non-continuation payload"}, {true, text, "Hello"}}, nil, true},
		{"continuation-nofin-without-start", []cfFrag{{false, cont, "non-continuation payload"}, {true, text, "Hello"}}, nil, true},
		{"text-then-text-fin", []cfFrag{{false, text, "fragment1"}, {true, text, "fragment2"}}, nil, true},
		{"text-then-text-nofin", []cfFrag{{false, text, "fragment1"}, {false, text, "fragment2"}, {true, cont, "x"}}, nil, true},
		{"text-then-binary", []cfFrag{{false, text, "fragment1"}, {true, bin, "fragment2"}}, nil, true},
	}
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			for _, tc := range cases {
				for _, paced := range []bool{false, true} {
					t.Run(fmt.Sprintf("%s/paced-%v", tc.name, paced), func(t *testing.T) {
						c := wstest.Dial(t, addr, path)
						cfWriteFrames(c, paced, tc.frames...)
						for _, w := range tc.want {
							cfExpectEcho(t, c, w.op, []byte(w.payload))
						}
						if tc.fail {
							cfExpectFail(t, c, 1002)
							return
						}
						cfCloseCleanly(t, c)
					})
				}
			}
			t.Run("continuation-after-message", func(t *testing.T) {
				// Autobahn 5.15, with the echo awaited before the bad
				// frames (see TestConformanceReservedBitsSameWrite for why).
				c := wstest.Dial(t, addr, path)
				cfWriteFrames(c, true, cfFrag{false, text, "fragment1"}, cfFrag{true, cont, "fragment2"})
				cfExpectEcho(t, c, text, []byte("fragment1fragment2"))
				cfWriteFrames(c, false, cfFrag{false, cont, "fragment3"}, cfFrag{true, text, "fragment4"})
				cfExpectFail(t, c, 1002)
			})
			t.Run("many-one-byte-fragments", func(t *testing.T) {
				c := wstest.Dial(t, addr, path)
				msg := cfPattern(1000)
				var buf []byte
				for i, b := range msg {
					op := wstest.OpContinuation
					if i == 0 {
						op = wstest.OpText
					}
					buf = wstest.AppendFrame(buf, i == len(msg)-1, 0, op, []byte{b}, true)
				}
				c.WriteRaw(buf)
				cfExpectEcho(t, c, wstest.OpText, msg)
				cfCloseCleanly(t, c)
			})
			t.Run("fragments-chunked-across-frames", func(t *testing.T) {
				// Chunk boundaries that never line up with frame boundaries.
				c := wstest.Dial(t, addr, path)
				msg := cfPattern(300)
				var buf []byte
				for i := 0; i < len(msg); i += 30 {
					op := wstest.OpContinuation
					if i == 0 {
						op = wstest.OpBinary
					}
					buf = wstest.AppendFrame(buf, i+30 >= len(msg), 0, op, msg[i:i+30], true)
				}
				var offs []int
				for off := 7; off < len(buf); off += 13 {
					offs = append(offs, off)
				}
				c.WriteChunks(buf, offs...)
				cfExpectEcho(t, c, wstest.OpBinary, msg)
				cfCloseCleanly(t, c)
			})
		})
	}
}

// cfValidUTF8 are valid texts of Autobahn 6.1-6.2 and 6.5-6.8: multi-byte
// and 4-byte characters and the boundaries of every sequence length.
var cfValidUTF8 = []struct{ name, s string }{
	{"empty", ""},
	{"ascii-mixed", "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!"},
	{"kosme", "\u03ba\u1f79\u03c3\u03bc\u03b5"},
	{"g-clef", "\U0001d11e"},
	{"first-of-each-length", "\x00\u0080\u0800\U00010000"},
	{"last-of-each-length", "\x7f\u07ff\uffff\U0010ffff"},
	{"around-surrogates", "\ud7ff\ue000\ufffd"},
	{"noncharacters", "\ufdd0\ufffe\U0001fffe\U0010fffe"},
	{"bom", "\ufeffbom"},
}

// cfInvalidUTF8 are invalid sequences of Autobahn 6.3 and 6.6-6.21.
// prefixOK marks the ones that only fail because the text ends in the
// middle of a character: no byte is invalid until the end of the message.
var cfInvalidUTF8 = []struct {
	name     string
	s        string
	prefixOK bool
}{
	{"kosme-surrogate", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64", false},
	{"overlong-slash-2", "\xc0\xaf", false},
	{"overlong-slash-3", "\xe0\x80\xaf", false},
	{"overlong-slash-4", "\xf0\x80\x80\xaf", false},
	{"overlong-max-2", "\xc1\xbf", false},
	{"overlong-max-3", "\xe0\x9f\xbf", false},
	{"overlong-max-4", "\xf0\x8f\xbf\xbf", false},
	{"overlong-nul", "\xc0\x80", false},
	{"surrogate-high", "\xed\xa0\x80", false},
	{"surrogate-low", "\xed\xbf\xbf", false},
	{"surrogate-pair", "\xed\xa0\x80\xed\xb0\x80", false},
	{"above-10ffff", "\xf4\x90\x80\x80", false},
	{"f5", "\xf5\x80\x80\x80", false},
	{"5-byte", "\xf8\x88\x80\x80\x80", false},
	{"6-byte", "\xfc\x84\x80\x80\x80\x80", false},
	{"fe", "ab\xfe", false},
	{"ff", "\xff", false},
	{"lone-continuation", "a\x80b", false},
	{"lone-continuation-bf", "\xbf", false},
	{"start-then-space", "\xc2 ", false},
	{"truncated-2", "\u03ba\u03cc\u03c3\u03bc\xce", true},
	{"truncated-3", "abc\xe2\x82", true},
	{"truncated-4", "\xf0\x9f\x98", true},
}

// TestConformanceUTF8 (Autobahn 6.x): valid texts are echoed, whole and
// split into 1-byte fragments (so fragments end inside characters);
// invalid ones fail the connection with 1007, whole and fragmented.
func TestConformanceUTF8(t *testing.T) {
	addr := cfStart(t, engine.Config{})
	// byteFrames splits s into 1-byte text fragments (one empty text
	// frame when s is empty).
	byteFrames := func(s string) []byte {
		if s == "" {
			return wstest.AppendFrame(nil, true, 0, wstest.OpText, nil, true)
		}
		var buf []byte
		for i := range len(s) {
			op := wstest.OpContinuation
			if i == 0 {
				op = wstest.OpText
			}
			buf = wstest.AppendFrame(buf, i == len(s)-1, 0, op, []byte{s[i]}, true)
		}
		return buf
	}
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			for _, v := range cfValidUTF8 {
				t.Run("valid-"+v.name, func(t *testing.T) {
					c := wstest.Dial(t, addr, path)
					c.WriteFrame(true, 0, wstest.OpText, []byte(v.s), true)
					cfExpectEcho(t, c, wstest.OpText, []byte(v.s))
					c.WriteRaw(byteFrames(v.s))
					cfExpectEcho(t, c, wstest.OpText, []byte(v.s))
					cfCloseCleanly(t, c)
				})
			}
			for _, v := range cfInvalidUTF8 {
				t.Run("invalid-"+v.name, func(t *testing.T) {
					c := wstest.Dial(t, addr, path)
					c.WriteFrame(true, 0, wstest.OpText, []byte(v.s), true)
					cfExpectFail(t, c, 1007)
				})
				t.Run("invalid-fragmented-"+v.name, func(t *testing.T) {
					c := wstest.Dial(t, addr, path)
					c.WriteRaw(byteFrames(v.s))
					cfExpectFail(t, c, 1007)
				})
			}
			t.Run("binary-not-checked", func(t *testing.T) {
				c := wstest.Dial(t, addr, path)
				p := []byte("\xed\xa0\x80\xff\xc0\xaf")
				c.WriteFrame(true, 0, wstest.OpBinary, p, true)
				cfExpectEcho(t, c, wstest.OpBinary, p)
				c.WriteFrame(true, 0, wstest.OpPing, p, true)
				cfExpectEcho(t, c, wstest.OpPong, p)
				cfCloseCleanly(t, c)
			})
			t.Run("split-inside-code-point", func(t *testing.T) {
				// U+1D11E (F0 9D 84 9E) cut 1+2+1 and 3+1 across
				// fragments, around ASCII and a 2-byte character.
				c := wstest.Dial(t, addr, path)
				buf := cfFrames(
					cfFrag{false, wstest.OpText, "a\xf0"},
					cfFrag{false, wstest.OpContinuation, "\x9d\x84"},
					cfFrag{false, wstest.OpContinuation, "\x9e\xce"},
					cfFrag{false, wstest.OpContinuation, "\xba\xf0\x9d\x84"},
					cfFrag{true, wstest.OpContinuation, "\x9e"},
				)
				c.WriteChunks(buf, 3, 9, 17)
				cfExpectEcho(t, c, wstest.OpText, []byte("a\U0001d11e\u03ba\U0001d11e"))
				cfCloseCleanly(t, c)
			})
		})
	}
}

// TestConformanceUTF8FailFast (Autobahn 6.4): invalid UTF-8 is reported as
// soon as the offending byte arrives, not when the message or the frame is
// complete: the client sends the bad part only, never the rest, and the
// server's close 1007 must come anyway.
func TestConformanceUTF8FailFast(t *testing.T) {
	addr := cfStart(t, engine.Config{})
	good := "\u03ba\u1f79\u03c3\u03bc\u03b5" // κόσμε
	type ffCase struct {
		name string
		send func(c *wstest.Conn)
	}
	cases := []ffCase{
		{"first-fragment", func(c *wstest.Conn) {
			// The first fragment of a message, FIN=0, ends with a
			// surrogate; the continuation is never sent.
			c.WriteFrame(false, 0, wstest.OpText, []byte(good+"\xed\xa0\x80edited"), true)
		}},
		{"second-fragment", func(c *wstest.Conn) {
			c.WriteFrame(false, 0, wstest.OpText, []byte(good), true)
			c.WriteFrame(false, 0, wstest.OpContinuation, []byte("\xf4\x90\x80\x80"), true)
		}},
		{"inside-incomplete-frame", func(c *wstest.Conn) {
			// One frame announcing 64 bytes, of which only 10 are sent;
			// the third byte is invalid.
			payload := append([]byte("ab\xffdefghi"), bytes.Repeat([]byte("x"), 54)...)
			frame := wstest.AppendFrame(nil, true, 0, wstest.OpText, payload, true)
			c.WriteRaw(frame[:6+10])
		}},
		{"inside-incomplete-fragment-chunked", func(c *wstest.Conn) {
			frame := wstest.AppendFrame(nil, false, 0, wstest.OpText, []byte(strings.Repeat("a", 40)+"\xc0\xaf"+strings.Repeat("b", 40)), true)
			c.WriteChunks(frame[:6+45], 6, 30, 47)
		}},
	}
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					c := wstest.Dial(t, addr, path)
					tc.send(c)
					cfExpectFail(t, c, 1007)
				})
			}
		})
	}
}
