package engine_test

// permessage-deflate messages beyond one compressed frame: uncompressed
// messages on a compressed connection, compressed messages fragmented at
// arbitrary byte positions, messages closed with a BFINAL block, hand-made
// back-references at the edge of the negotiated client window, and the
// frame-level APIs of the blocking WebSocket (SendFrame, ReceiveFrame).

import (
	"bytes"
	"fmt"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wstest"
	"github.com/volley-ws/volley/upgrade"
)

// TestConformanceDeflateBFinal (RFC 7692 section 7.2.3.3): a sender may end
// a message's data with a block that has BFINAL set. Three encodings of it
// echo fine, on connections with and without context takeover, and a
// message compressed the usual way still decompresses afterwards:
//   - a whole flate stream (compress/flate's Close), sent as is;
//   - the same with its final 0x00 0x00 0xff 0xff removed, as the
//     compression steps of section 7.2.1 say (the stream ends with an empty
//     stored block, which the receiver's appended bytes complete);
//   - the payload of the section's own example, "Hello" as a final fixed
//     block followed by one 0x00 byte.
func TestConformanceDeflateBFinal(t *testing.T) {
	rfcExample := []byte{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}
	cases := []struct {
		name  string
		build func(c *pdConn, msg []byte) []byte
		msg   []byte
	}{
		{"close-as-is", func(c *pdConn, msg []byte) []byte { return c.z.CompressFinal(msg, false) }, pdMessage(pdJSONText, 2000, 1)},
		{"close-as-is-short", func(c *pdConn, msg []byte) []byte { return c.z.CompressFinal(msg, false) }, []byte("Hello")},
		{"close-tail-removed", func(c *pdConn, msg []byte) []byte { return c.z.CompressFinal(msg, true) }, pdMessage(pdJSONText, 2000, 2)},
		{"close-tail-removed-short", func(c *pdConn, msg []byte) []byte { return c.z.CompressFinal(msg, true) }, []byte("Hello")},
		{"rfc7692-7.2.3.3-example", func(c *pdConn, msg []byte) []byte {
			c.z.CompressFinal(msg, false) // keep the client's window in step
			return rfcExample
		}, []byte("Hello")},
	}
	for _, takeover := range []bool{false, true} {
		addr := cfStart(t, pdConfig(upgrade.Compression{Enabled: true, ContextTakeover: takeover}))
		for _, path := range cfPaths {
			for _, tc := range cases {
				t.Run(fmt.Sprintf("takeover=%v%s/%s", takeover, path, tc.name), func(t *testing.T) {
					t.Parallel()
					c := pdDial(t, addr, path, pdName)
					before := pdMessage(pdJSONText, 700, 3)
					c.WriteRaw(c.frame(wstest.OpText, before, true))
					c.expect(wstest.OpText, before, true)
					p := tc.build(c, tc.msg)
					t.Logf("message %q sent as the compressed payload %x", cfShort(tc.msg), cfShort(p))
					c.WriteFrame(true, wstest.RSV1, wstest.OpText, p, true)
					c.expect(wstest.OpText, tc.msg, pdCompresses(0, len(tc.msg)))
					// The context goes on: a repeat of the first message.
					c.WriteRaw(c.frame(wstest.OpText, before, true))
					c.expect(wstest.OpText, before, true)
					c.closeCleanly()
				})
			}
		}
	}
}

// TestConformanceDeflateMixed (Autobahn 12.x with RSV1 clear): on a
// compressed connection with context takeover both ways, messages the
// client sends uncompressed echo fine, in any mix with compressed ones; an
// uncompressed message does not enter the window (the client's next
// compressed message refers only to compressed ones, and the server must
// follow). The server's echoes are compressed by size, whatever the
// client did.
func TestConformanceDeflateMixed(t *testing.T) {
	addr := cfStart(t, pdConfig(upgrade.Compression{Enabled: true, ContextTakeover: true}))
	pattern := []bool{true, false, true, true, false, false, true, false, true, true, true, false}
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			c := pdDial(t, addr, path, pdName)
			if c.params.ClientNoContextTakeover || c.params.ServerNoContextTakeover {
				t.Fatalf("no context takeover agreed: %+v", c.params)
			}
			var base []byte // ASCII, so that any slice is UTF-8
			for i := 0; len(base) < 3000; i++ {
				base = fmt.Appendf(base, `{"id":%d,"user":"user%d","text":"mixed messages"},`, i*7919%1000, i%7)
			}
			for round := range 3 {
				var batch []byte
				var sent [][]byte
				for i, compress := range pattern {
					// Overlapping slices of one text, so compressed messages
					// refer to earlier ones, across the uncompressed ones.
					msg := base[(i*97+round*31)%1000:][:1000+i*50]
					op := wstest.OpText
					if i%4 == 3 {
						op = wstest.OpBinary
					}
					batch = append(batch, c.frame(op, msg, compress)...)
					sent = append(sent, msg)
				}
				if round == 1 {
					c.WriteRaw(batch)
				} else {
					c.WriteChunks(batch, len(batch)/3, len(batch)/2)
				}
				for i, msg := range sent {
					op := wstest.OpText
					if i%4 == 3 {
						op = wstest.OpBinary
					}
					c.expect(op, msg, true)
				}
				// Short ones, either way: echoed uncompressed (MinSize).
				c.WriteRaw(append(c.frame(wstest.OpText, []byte("tiny"), true), c.frame(wstest.OpBinary, []byte{1, 2, 3}, false)...))
				c.expect(wstest.OpText, []byte("tiny"), false)
				c.expect(wstest.OpBinary, []byte{1, 2, 3}, false)
			}
			if c.d.HistoryRefs == 0 {
				t.Fatal("the server's echoes never referred to an earlier message")
			}
			c.closeCleanly()
		})
	}
}

// pdSplit cuts p at the given offsets (clamped, in order) into frames: the
// first carries op and RSV1, the rest are continuations; cuts at the same
// place make empty frames.
func pdSplit(op byte, p []byte, cuts []int) (frames [][]byte) {
	prev := 0
	for i, at := range append(cuts, len(p)) {
		at = max(prev, min(at, len(p)))
		if i == len(cuts) {
			at = len(p)
		}
		rsv, fop := byte(0), wstest.OpContinuation
		if i == 0 {
			rsv, fop = wstest.RSV1, op
		}
		frames = append(frames, wstest.AppendFrame(nil, i == len(cuts), rsv, fop, p[prev:at], true))
		prev = at
	}
	return frames
}

// TestConformanceDeflateFragmented (Autobahn 12.x/13.x with fragmentation,
// RFC 7692 section 6.1): a compressed message split by the client into
// frames at arbitrary byte positions of the compressed data — RSV1 on the
// first frame only, empty frames first, in the middle and last — echoes
// as the whole message; pings between its frames are answered at once;
// written at once or frame by frame; and the context carries on to the
// next message. A text whose compressed data is split anywhere (also
// inside a character's bytes) is checked as UTF-8 only once whole.
func TestConformanceDeflateFragmented(t *testing.T) {
	addr := cfStart(t, pdConfig(upgrade.Compression{Enabled: true, ContextTakeover: true}))
	cuts := []struct {
		name string
		at   func(n int) []int
	}{
		{"two", func(n int) []int { return []int{n / 2} }},
		{"empty-first", func(n int) []int { return []int{0, 1, n / 3} }},
		{"empty-middle-and-last", func(n int) []int { return []int{1, 7, 7, n / 2, n - 1, n} }},
		{"byte-pieces", func(n int) []int { return []int{1, 2, 3, 4, 5, 6, 100, n - 3, n - 2, n - 1} }},
	}
	for _, path := range cfPaths {
		for _, cut := range cuts {
			for _, paced := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/paced=%v", path[1:], cut.name, paced), func(t *testing.T) {
					t.Parallel()
					c := pdDial(t, addr, path, pdName)
					for i, msg := range [][]byte{pdMessage(pdJSONText, 20000, 1), pdMessage(pdJSONText, 20000, 1), pdMessage(pdRandomText, 3000, 2), []byte("é€😀 short")} {
						op := wstest.OpText
						if i == 2 {
							op = wstest.OpBinary
						}
						p := c.z.Compress(msg)
						frames := pdSplit(op, p, cut.at(len(p)))
						// A ping after the first frame and before the last.
						ping := []byte(fmt.Sprintf("ping %d", i))
						frames = append(frames[:1], append([][]byte{wstest.AppendFrame(nil, true, 0, wstest.OpPing, ping, true)}, frames[1:]...)...)
						if paced {
							var offs []int
							n := 0
							for _, f := range frames[:len(frames)-1] {
								n += len(f)
								offs = append(offs, n)
							}
							c.WriteChunks(bytes.Join(frames, nil), offs...)
						} else {
							c.WriteRaw(bytes.Join(frames, nil))
						}
						f, err := c.ReadFrameRSV(0)
						if err != nil || f.Opcode != wstest.OpPong || !bytes.Equal(f.Payload, ping) {
							t.Fatalf("message %d: got %v %v, want the pong first", i, f, err)
						}
						c.expect(op, msg, pdCompresses(0, len(msg)))
					}
					c.closeCleanly()
				})
			}
		}
	}
}

// TestConformanceDeflateChunked: one-frame compressed messages that reach
// the server in pieces — cut inside the header, inside the payload, one
// larger than a read — are joined before they are decompressed; a close
// in the middle of a fragmented compressed message is answered normally.
func TestConformanceDeflateChunked(t *testing.T) {
	addr := cfStart(t, pdConfig(upgrade.Compression{Enabled: true, ContextTakeover: true}))
	for _, path := range cfPaths {
		t.Run(path[1:]+"/pieces", func(t *testing.T) {
			t.Parallel()
			c := pdDial(t, addr, path, pdName)
			for _, msg := range [][]byte{pdMessage(pdJSONText, 20000, 1), pdMessage(pdBinary, 300000, 2), pdMessage(pdJSONText, 20000, 1)} {
				op := wstest.OpText
				if !utf8.Valid(msg) {
					op = wstest.OpBinary
				}
				f := c.frame(op, msg, true)
				c.WriteChunks(f, 1, 3, 7, 9, 100, len(f)/2, len(f)-1)
				c.expect(op, msg, true)
			}
			c.closeCleanly()
		})
		t.Run(path[1:]+"/close-inside-message", func(t *testing.T) {
			t.Parallel()
			c := pdDial(t, addr, path, pdName)
			p := c.z.Compress(pdMessage(pdJSONText, 5000, 3))
			c.WriteFrame(false, wstest.RSV1, wstest.OpText, p[:len(p)/2], true)
			c.WriteFrame(false, 0, wstest.OpContinuation, p[len(p)/2:], true)
			c.closeCleanly()
		})
	}
}

// TestConformanceDeflateClientWindow: the server keeps exactly the client
// window it agreed to with context takeover. A hand-made message whose
// back-reference reaches the far end of that window — 1<<bits bytes back,
// across several earlier messages — decompresses to the right bytes, for
// 9- to 15-bit windows (8 stands for 9 as with zlib, RFC 7692 section
// 7.1.2.2 lets a server answer 8 but the deflate format of zlib and the
// server use 9; an 8-bit reference, 256 bytes back, is checked too).
func TestConformanceDeflateClientWindow(t *testing.T) {
	addr := cfStart(t, pdConfig(upgrade.Compression{Enabled: true, ContextTakeover: true}))
	for _, path := range cfPaths {
		for bits := 8; bits <= 15; bits++ {
			t.Run(fmt.Sprintf("%s/bits=%d", path[1:], bits), func(t *testing.T) {
				t.Parallel()
				offer := fmt.Sprintf("permessage-deflate; client_max_window_bits=%d", bits)
				c := pdDial(t, addr, path, offer)
				if c.params.ClientMaxWindowBits != bits || c.params.ClientNoContextTakeover {
					t.Fatalf("agreed %+v", c.params)
				}
				w := 1 << bits
				// History: three uncompressible messages that fill the
				// window (in stored blocks, so the client's compressor
				// cannot refer anywhere), the first byte of the window in
				// the first message.
				hist := pdMessage(pdBinary, w, uint64(bits))
				parts := [][]byte{hist[:w/4], hist[w/4 : w/2+1], hist[w/2+1:]}
				for _, p := range parts {
					var sw wstest.BitWriter
					sw.StoredBlock(false, p)
					c.WriteFrame(true, wstest.RSV1, wstest.OpBinary, sw.SyncFlushMessage(), true)
					c.expect(wstest.OpBinary, p, pdCompresses(0, len(p)))
				}
				// Back-references to the oldest bytes of the window.
				toks := []wstest.Token{{Length: 258, Distance: w}, {Length: 10, Distance: w}}
				var fw wstest.BitWriter
				fw.FixedBlock(false, toks)
				out := bytes.Clone(hist)
				for _, tk := range toks {
					for range tk.Length {
						out = append(out, out[len(out)-tk.Distance])
					}
				}
				want := out[len(hist):]
				c.WriteFrame(true, wstest.RSV1, wstest.OpBinary, fw.SyncFlushMessage(), true)
				c.expect(wstest.OpBinary, want, true)
				c.closeCleanly()
			})
		}
	}
}

// TestConformanceDeflateSendFrame: on a compressed connection, a message
// the blocking API sends in fragments with SendFrame is one compressed
// message: RSV1 on its first frame only, continuations without, and the
// joined data decompresses to the message, even when the fragments are
// shorter than MinSize (the size of a fragmented message is not known in
// advance). With context takeover the next message, fragmented or whole,
// goes on in the same context, also when the sender pauses longer than
// IdleRelease in the middle of a message; a whole message under MinSize
// goes uncompressed.
func TestConformanceDeflateSendFrame(t *testing.T) {
	big := pdMessage(pdJSONText, 30000, 1)
	parts := [][]byte{big[:10000], big[10000:10001], big[10001:]}
	tiny := [][]byte{[]byte("a"), []byte("b"), []byte("c")}
	errs := make(chan error, 16)
	s := icStart(t, pdConfig(upgrade.Compression{Enabled: true, ContextTakeover: true, IdleRelease: 50 * time.Millisecond}), func(srv *engine.Server) {
		srv.HandleFunc("/frames", func(ctx *upgrade.Context) {
			w, err := ctx.Upgrader().Upgrade()
			if err != nil {
				errs <- err
				return
			}
			for i, msg := range [][][]byte{parts, tiny, parts} {
				for k, p := range msg {
					if i == 2 && k == 1 {
						// Idle for longer than IdleRelease in the middle
						// of a message: the compressor must stay.
						time.Sleep(250 * time.Millisecond)
					}
					if err := w.SendFrame(p, conn.Text, k == len(msg)-1); err != nil {
						errs <- fmt.Errorf("SendFrame %d: %w", k, err)
						return
					}
				}
			}
			if err := w.Send(conn.Binary, []byte("short")); err != nil {
				errs <- err
			}
			if err := w.Close(conn.StatusNormalClosure, ""); err != nil {
				errs <- err
			}
		})
	})
	c := pdDial(t, s.addr, "/frames", pdName)
	sizes := make([]int, 3)
	for i, want := range [][]byte{big, []byte("abc"), big} {
		m := c.ReadDeflateMessage(c.d)
		if !m.Compressed || m.Opcode != wstest.OpText || !bytes.Equal(m.Payload, want) || len(m.Frames) != 3 {
			t.Fatalf("message %d: compressed=%v op=%#x frames=%d len=%d, want a compressed text of 3 frames, %d bytes",
				i, m.Compressed, m.Opcode, len(m.Frames), len(m.Payload), len(want))
		}
		for k, f := range m.Frames {
			if (f.Rsv == wstest.RSV1) != (k == 0) || f.Rsv&^wstest.RSV1 != 0 || f.Fin != (k == 2) {
				t.Fatalf("message %d frame %d: %v", i, k, f)
			}
			sizes[i] += len(f.Payload)
		}
	}
	if sizes[2] > sizes[0]/4 {
		t.Fatalf("compressed sizes %v: the repeat of the 30000-byte message does not refer to the first", sizes)
	}
	c.expect(wstest.OpBinary, []byte("short"), false)
	f := c.Conn.ExpectClose(1000)
	if len(f) != 0 {
		t.Fatalf("frames before the close: %v", f)
	}
	c.WriteClose(1000, "")
	c.ExpectTCPClosed(cfTCPBound)
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
}

// TestConformanceDeflateReceiveFrame: ReceiveFrame with a 100-byte buffer
// reads a large compressed message — sent whole, and sent in fragments —
// as its decompressed bytes in 100-byte pieces, EndOfMessage on the last
// piece only.
func TestConformanceDeflateReceiveFrame(t *testing.T) {
	msg := pdMessage(pdJSONText, 54321, 1)
	type result struct {
		data   []byte
		pieces int
		err    string
	}
	results := make(chan result, 4)
	s := icStart(t, pdConfig(upgrade.Compression{Enabled: true, ContextTakeover: true}), func(srv *engine.Server) {
		srv.HandleFunc("/recv", func(ctx *upgrade.Context) {
			w, err := ctx.Upgrader().Upgrade()
			if err != nil {
				results <- result{err: err.Error()}
				return
			}
			buf := make([]byte, 100)
			for range 2 {
				var r result
				for {
					res, err := w.ReceiveFrame(buf)
					if err != nil {
						r.err = err.Error()
						break
					}
					r.pieces++
					r.data = append(r.data, buf[:res.Count]...)
					if res.Type != conn.Text {
						r.err = fmt.Sprintf("type %v", res.Type)
					}
					if res.Count != 100 && !res.EndOfMessage {
						r.err = fmt.Sprintf("piece %d of %d bytes before the end", r.pieces, res.Count)
					}
					if res.EndOfMessage {
						break
					}
				}
				results <- r
			}
			_ = w.SendText("done")
			_, _ = w.Receive()
		})
	})
	c := pdDial(t, s.addr, "/recv", pdName)
	c.WriteRaw(c.frame(wstest.OpText, msg, true))
	second := c.z.Compress(msg) // in context: mostly back-references
	c.WriteRaw(bytes.Join(pdSplit(wstest.OpText, second, []int{1, len(second) / 2}), nil))
	for i := range 2 {
		r := icRecv(t, results, icTimeout, "ReceiveFrame's result")
		if r.err != "" || !bytes.Equal(r.data, msg) || r.pieces != (len(msg)+99)/100 {
			t.Fatalf("message %d: %d bytes in %d pieces, error %q; want %d bytes in %d pieces", i, len(r.data), r.pieces, r.err, len(msg), (len(msg)+99)/100)
		}
	}
	c.expect(wstest.OpText, []byte("done"), false)
	c.closeCleanly()
}
