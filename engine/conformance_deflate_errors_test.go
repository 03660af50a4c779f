package engine_test

// permessage-deflate failures: reserved bits (RFC 7692 section 6 and RFC
// 6455 section 5.2), data that does not decompress or decompresses to bad
// text (RFC 7692 section 7.2.2, RFC 6455 section 8.1: close 1007), and
// messages whose decompressed size passes MaxMessageSize (close 1009) —
// the last without the server decompressing them whole.

import (
	"bytes"
	"compress/flate"
	"fmt"
	"runtime"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wstest"
	"github.com/volley-ws/volley/upgrade"
)

// TestConformanceDeflateReservedBits: RSV1 is the compressed-message bit
// of the first frame only (RFC 7692 section 6.1): on a continuation frame,
// on a control frame, or on a connection that did not negotiate
// permessage-deflate, it fails the connection with 1002, as do RSV2 and
// RSV3, which no negotiated extension defines (RFC 6455 section 5.2). The
// server sends nothing but its close and ends the TCP connection. Where a
// valid compressed message precedes the violation, its echo comes first.
func TestConformanceDeflateReservedBits(t *testing.T) {
	addr := cfStart(t, pdConfig(upgrade.Compression{Enabled: true, ContextTakeover: true}))
	off := cfStart(t, engine.Config{})
	msg := pdMessage(pdJSONText, 2000, 1)
	type step func(c *pdConn) []byte
	compressed := func(c *pdConn) []byte { return c.z.Compress(msg) }
	cases := []struct {
		name  string
		build step // the bytes to send after a valid compressed message
	}{
		{"rsv1-on-continuation-of-compressed", func(c *pdConn) []byte {
			p := compressed(c)
			b := wstest.AppendFrame(nil, false, wstest.RSV1, wstest.OpText, p[:10], true)
			return wstest.AppendFrame(b, true, wstest.RSV1, wstest.OpContinuation, p[10:], true)
		}},
		{"rsv1-on-continuation-of-plain", func(c *pdConn) []byte {
			b := wstest.AppendFrame(nil, false, 0, wstest.OpText, msg[:10], true)
			return wstest.AppendFrame(b, true, wstest.RSV1, wstest.OpContinuation, compressed(c), true)
		}},
		{"rsv1-on-ping", func(*pdConn) []byte {
			return wstest.AppendFrame(nil, true, wstest.RSV1, wstest.OpPing, []byte("ping"), true)
		}},
		{"rsv1-on-pong", func(*pdConn) []byte {
			return wstest.AppendFrame(nil, true, wstest.RSV1, wstest.OpPong, []byte("pong"), true)
		}},
		{"rsv1-on-close", func(*pdConn) []byte {
			return wstest.AppendFrame(nil, true, wstest.RSV1, wstest.OpClose, wstest.ClosePayload(1000, ""), true)
		}},
		{"rsv1-on-ping-inside-compressed-message", func(c *pdConn) []byte {
			p := compressed(c)
			b := wstest.AppendFrame(nil, false, wstest.RSV1, wstest.OpBinary, p[:10], true)
			b = wstest.AppendFrame(b, true, wstest.RSV1, wstest.OpPing, nil, true)
			return wstest.AppendFrame(b, true, 0, wstest.OpContinuation, p[10:], true)
		}},
		{"rsv2-on-text", func(c *pdConn) []byte {
			return wstest.AppendFrame(nil, true, wstest.RSV2, wstest.OpText, msg, true)
		}},
		{"rsv3-on-binary", func(c *pdConn) []byte {
			return wstest.AppendFrame(nil, true, wstest.RSV3, wstest.OpBinary, msg, true)
		}},
		{"rsv1-rsv2-on-compressed-text", func(c *pdConn) []byte {
			return wstest.AppendFrame(nil, true, wstest.RSV1|wstest.RSV2, wstest.OpText, compressed(c), true)
		}},
		{"rsv3-on-continuation", func(c *pdConn) []byte {
			p := compressed(c)
			b := wstest.AppendFrame(nil, false, wstest.RSV1, wstest.OpText, p[:10], true)
			return wstest.AppendFrame(b, true, wstest.RSV3, wstest.OpContinuation, p[10:], true)
		}},
		{"rsv2-on-ping", func(*pdConn) []byte {
			return wstest.AppendFrame(nil, true, wstest.RSV2, wstest.OpPing, nil, true)
		}},
	}
	for _, path := range cfPaths {
		for _, tc := range cases {
			for _, first := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/after-message=%v", path[1:], tc.name, first), func(t *testing.T) {
					t.Parallel()
					c := pdDial(t, addr, path, pdName)
					if first {
						c.WriteRaw(c.frame(wstest.OpText, msg, true))
						c.expect(wstest.OpText, msg, true)
					}
					c.WriteRaw(tc.build(c))
					cfExpectFail(t, c.Conn, 1002)
				})
			}
		}
		// Not negotiated: the client offered nothing, or the server has
		// compression off. RSV1 means nothing there.
		t.Run(path[1:]+"/rsv1-not-negotiated", func(t *testing.T) {
			c, ext := wstest.DialExtensions(t, addr, path)
			if len(ext) != 0 {
				t.Fatalf("Sec-WebSocket-Extensions %q without an offer", ext)
			}
			z := wstest.NewCompressor(false, 15, 6)
			c.WriteFrame(true, wstest.RSV1, wstest.OpText, z.Compress(msg), true)
			cfExpectFail(t, c, 1002)
		})
		t.Run(path[1:]+"/rsv1-compression-off", func(t *testing.T) {
			c, ext := wstest.DialExtensions(t, off, path, pdName)
			if len(ext) != 0 {
				t.Fatalf("Sec-WebSocket-Extensions %q from a server with compression off", ext)
			}
			c.WriteFrame(true, 0, wstest.OpText, []byte("plain first"), true)
			cfExpectEcho(t, c, wstest.OpText, []byte("plain first"))
			z := wstest.NewCompressor(false, 15, 6)
			c.WriteFrame(true, wstest.RSV1, wstest.OpBinary, z.Compress(msg), true)
			cfExpectFail(t, c, 1002)
		})
	}
}

// pdBadData is a compressed payload that must fail with 1007.
type pdBadData struct {
	name string
	op   byte
	// text: the data decompresses, to text that is not UTF-8.
	text bool
	// payload is made so that it is just as bad after any history (a
	// connection with context takeover, after a first message).
	payload []byte
}

// pdBadDataCases are payloads that are not one valid compressed message,
// or whose text is not UTF-8 once decompressed.
func pdBadDataCases() []pdBadData {
	stream := func(p []byte) []byte { // a whole flate stream, BFINAL set
		var b bytes.Buffer
		w, _ := flate.NewWriter(&b, 6)
		_, _ = w.Write(p)
		_ = w.Close()
		return b.Bytes()
	}
	fresh := func(p []byte) []byte { return wstest.NewCompressor(false, 15, 6).Compress(p) }
	var far wstest.BitWriter
	far.FixedBlock(false, append(wstest.Literals([]byte("abc")), wstest.Token{Length: 3, Distance: 32768}))
	declared, undeclared := wstest.UndeclaredDistance()
	return []pdBadData{
		// A block of the reserved type 3 (RFC 1951 section 3.2.3).
		{"block-type-3", wstest.OpText, false, []byte{0x06, 0x55, 0xaa, 0x00}},
		{"final-block-type-3", wstest.OpBinary, false, []byte{0xff, 0xff, 0xff, 0xff}},
		{"garbage", wstest.OpText, false, []byte("this is not DEFLATE data, just text sent with RSV1")},
		{"stored-length-mismatch", wstest.OpBinary, false, []byte{0x00, 0x05, 0x00, 0xfa, 0xfe, 'H', 'e', 'l', 'l', 'o'}},
		{"stored-longer-than-data", wstest.OpBinary, false, []byte{0x00, 0x10, 0x00, 0xef, 0xff, 'H', 'e', 'l', 'l', 'o'}},
		// A back-reference 32 KiB back, before the start of any history
		// a test connection has.
		{"distance-too-far", wstest.OpText, false, far.SyncFlushMessage()},
		// A block that declares no distance codes (RFC 1951 section 3.2.7)
		// yet writes a back-reference, alone and after a block that
		// declared the code it writes.
		{"no-distance-codes", wstest.OpText, false, undeclared},
		{"distance-code-not-declared", wstest.OpBinary, false, append(append(bytes.Clone(declared), wstest.DeflateTail...), undeclared...)},
		// A dynamic-Huffman block cut inside its code tables.
		{"truncated-dynamic-header", wstest.OpBinary, false, fresh(pdMessage(pdJSONText, 5000, 5))[:12]},
		// Compressed fine, but the text is not UTF-8 (RFC 6455 section 8.1).
		{"invalid-utf8-text", wstest.OpText, true, fresh([]byte("caf\xc3\x28 au lait"))},
		{"truncated-utf8-text", wstest.OpText, true, fresh(append(pdMessage(pdJSONText, 300, 2), 0xe2, 0x82))},
		{"utf16-surrogate-text", wstest.OpText, true, fresh([]byte("a\xed\xa0\x80b"))},
		// Content after the final block: two whole streams in one message,
		// or bytes that are no block at all.
		{"stream-after-final-block", wstest.OpText, false, append(stream([]byte("Hello")), stream([]byte(" World"))...)},
		{"garbage-after-final-block", wstest.OpBinary, false, append(stream([]byte("Hello")), 0x12, 0x34, 0x56)},
	}
}

// TestConformanceDeflateBadData (RFC 7692 section 7.2.2 with RFC 6455
// section 7.1.7): a compressed message that is not valid DEFLATE, that
// refers before its stream, that ends inside a block, that carries more
// after its final block, or whose text is not UTF-8 once decompressed fails
// the connection with 1007 — as the first message, and after a valid
// compressed one (whose echo comes first), sent whole or fragmented.
func TestConformanceDeflateBadData(t *testing.T) {
	addr := cfStart(t, pdConfig(upgrade.Compression{Enabled: true, ContextTakeover: true}))
	valid := pdMessage(pdJSONText, 1500, 4)
	for _, tc := range pdBadDataCases() {
		// The client's own decoder must agree the payload is bad.
		out, err := wstest.NewDecompressor(false, 15).Decompress(tc.payload)
		if tc.text && (err != nil || utf8.Valid(out)) || !tc.text && err == nil {
			t.Fatalf("%s: the test payload is not what it claims: %v, %q", tc.name, err, out)
		}
	}
	for _, path := range cfPaths {
		for _, tc := range pdBadDataCases() {
			for _, variant := range []string{"first", "after-message", "fragmented"} {
				t.Run(fmt.Sprintf("%s/%s/%s", path[1:], tc.name, variant), func(t *testing.T) {
					t.Parallel()
					c := pdDial(t, addr, path, pdName)
					if variant == "after-message" {
						c.WriteRaw(c.frame(wstest.OpText, valid, true))
						c.expect(wstest.OpText, valid, true)
					}
					p := tc.payload
					if variant == "fragmented" {
						h := len(p) / 2
						b := wstest.AppendFrame(nil, false, wstest.RSV1, tc.op, p[:h], true)
						b = wstest.AppendFrame(b, false, 0, wstest.OpContinuation, nil, true)
						b = wstest.AppendFrame(b, true, 0, wstest.OpContinuation, p[h:], true)
						c.WriteRaw(b)
					} else {
						c.WriteFrame(true, wstest.RSV1, tc.op, p, true)
					}
					cfExpectFail(t, c.Conn, 1007)
				})
			}
		}
	}
}

// TestConformanceDeflateNoStaleCodes (RFC 1951 section 3.2.7 under RFC
// 7692 section 7.2.2): a message is decoded with the Huffman codes it
// declares, never with those of an earlier message. A connection sends a
// block that declares a distance code and uses it; then a block that
// declares no distance codes but writes that code fails the connection
// with 1007, on another connection (one event loop: the server's pooled
// decompressor is the same) and on the first one.
func TestConformanceDeflateNoStaleCodes(t *testing.T) {
	cfg := pdConfig(upgrade.Compression{Enabled: true, ContextTakeover: true})
	cfg.EventLoops = 1
	addr := cfStart(t, cfg)
	declared, undeclared := wstest.UndeclaredDistance()
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			a := pdDial(t, addr, path, pdName)
			a.WriteFrame(true, wstest.RSV1, wstest.OpBinary, declared, true)
			a.expect(wstest.OpBinary, []byte("aaaa"), pdCompresses(0, 4))
			b := pdDial(t, addr, path, pdName)
			b.WriteFrame(true, wstest.RSV1, wstest.OpBinary, undeclared, true)
			cfExpectFail(t, b.Conn, 1007)
			a.WriteFrame(true, wstest.RSV1, wstest.OpBinary, undeclared, true)
			cfExpectFail(t, a.Conn, 1007)
		})
	}
}

// pdZeros returns the payload of a compressed message of n zero bytes
// (compress/flate's BestSpeed, about n/800 bytes), made without holding n
// bytes.
func pdZeros(n int) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	zero := make([]byte, 64<<10)
	for n > 0 {
		k := min(n, len(zero))
		_, _ = w.Write(zero[:k])
		n -= k
	}
	_ = w.Flush()
	return b.Bytes()[:b.Len()-4]
}

// TestConformanceDeflateBomb: with MaxMessageSize 1 MiB, a compressed
// message of 16 MiB of zeros (about 16 KiB on the wire) fails the
// connection with 1009 at once, and the server allocates nothing near the
// 16 MiB while refusing it: it stops decompressing past the limit. A
// message that decompresses to exactly 1 MiB still echoes, one byte more
// fails. Whole and fragmented, on both routes.
func TestConformanceDeflateBomb(t *testing.T) {
	const limit = 1 << 20
	addr := cfStart(t, engine.Config{MaxMessageSize: limit, Upgrade: upgrade.Options{Compression: upgrade.Compression{Enabled: true, ContextTakeover: true}}})
	bomb := pdZeros(16 << 20)
	if len(bomb) > 32<<10 {
		t.Fatalf("bomb of %d bytes", len(bomb))
	}
	atLimit, overLimit := pdZeros(limit), pdZeros(limit+1)
	for _, path := range cfPaths {
		for _, fragmented := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/fragmented=%v", path[1:], fragmented), func(t *testing.T) {
				send := func(c *pdConn, op byte, p []byte) {
					if !fragmented {
						c.WriteFrame(true, wstest.RSV1, op, p, true)
						return
					}
					a, b := len(p)/3, 2*len(p)/3
					f := wstest.AppendFrame(nil, false, wstest.RSV1, op, p[:a], true)
					f = wstest.AppendFrame(f, false, 0, wstest.OpContinuation, p[a:b], true)
					c.WriteRaw(wstest.AppendFrame(f, true, 0, wstest.OpContinuation, p[b:], true))
				}
				// Exactly at the limit: echoed (compressed, 1 MiB of zeros).
				c := pdDial(t, addr, path, pdName)
				send(c, wstest.OpBinary, atLimit)
				c.expect(wstest.OpBinary, make([]byte, limit), true)
				send(c, wstest.OpBinary, overLimit)
				cfExpectFail(t, c.Conn, 1009)

				c = pdDial(t, addr, path, pdName)
				var before, after runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&before)
				start := time.Now()
				send(c, wstest.OpText, bomb)
				if before := c.ExpectClose(1009); len(before) != 0 {
					t.Fatalf("frames before the close: %v", before)
				}
				took := time.Since(start)
				runtime.ReadMemStats(&after)
				c.ExpectTCPClosed(cfTCPBound)
				t.Logf("%d-byte bomb refused in %v; %d KiB allocated meanwhile", len(bomb), took, (after.TotalAlloc-before.TotalAlloc)>>10)
				if took > time.Second {
					t.Errorf("close 1009 took %v", took)
				}
				// Everything this process allocated meanwhile, client and
				// server: decompressing the bomb whole would be 16 MiB.
				if grew := after.TotalAlloc - before.TotalAlloc; grew > 6<<20 {
					t.Errorf("allocated %d MiB while refusing a 16 MiB bomb with a 1 MiB limit", grew>>20)
				}
			})
		}
	}
}
