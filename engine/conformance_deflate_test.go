package engine_test

// permessage-deflate (RFC 7692) conformance, modeled on sections 12 and 13
// of the Autobahn testsuite: the handshake negotiation as it appears on the
// wire, then message exchanges under every negotiated parameter set, with a
// raw client (internal/wstest) that compresses its messages as the response
// allows and decompresses the server's with a DEFLATE decoder of its own,
// which also checks the server's promises: no back-reference beyond
// server_max_window_bits, none into an earlier message under
// server_no_context_takeover. Every case runs against the blocking echo and
// the event echo of cfStart.
//
// This file has the negotiation matrix, the size sweeps, MinSize, context
// takeover and its idle release, and sends from the APIs (the event API's
// Send, concurrent senders). conformance_deflate_errors_test.go has the
// failures (reserved bits, bad data, decompression bombs);
// conformance_deflate_frames_test.go the fragmented, chunked, uncompressed
// and BFINAL messages, the client window's edge and the frame-level APIs.

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wstest"
	"github.com/volley-ws/volley/upgrade"
)

// pdConn is a raw client on a connection that negotiated permessage-deflate:
// z compresses its messages under the negotiated client parameters, d
// decompresses and checks the server's.
type pdConn struct {
	*wstest.Conn
	t      *testing.T
	params wstest.DeflateParams
	z      *wstest.Compressor
	d      *wstest.Decompressor
}

// pdClientLevel is the compress/flate level the client compresses at:
// the fastest, so that the server, not the client, takes the tests' time
// under the race detector.
const pdClientLevel = 1

// pdDial connects with the given Sec-WebSocket-Extensions lines and
// requires a valid permessage-deflate response.
func pdDial(t *testing.T, addr, path string, offers ...string) *pdConn {
	t.Helper()
	c, ext := wstest.DialExtensions(t, addr, path, offers...)
	p, err := wstest.ParseDeflateResponse(ext)
	if err != nil {
		t.Fatalf("offer %q: %v", offers, err)
	}
	return &pdConn{Conn: c, t: t, params: p, z: wstest.NewClientCompressor(p, pdClientLevel), d: wstest.NewServerDecompressor(p)}
}

// pdConfig is a server configuration with compression z.
func pdConfig(z upgrade.Compression) engine.Config {
	var cfg engine.Config
	cfg.Upgrade.Compression = z
	return cfg
}

// pdCompresses reports whether a server with MinSize minSize compresses a
// message of n bytes.
func pdCompresses(minSize, n int) bool {
	if minSize == 0 {
		minSize = engine.DefaultCompressionMinSize
	}
	return n >= minSize
}

// frame encodes msg as one masked frame, compressed (RSV1) when compress.
func (c *pdConn) frame(op byte, msg []byte, compress bool) []byte {
	if compress {
		return wstest.AppendFrame(nil, true, wstest.RSV1, op, c.z.Compress(msg), true)
	}
	return wstest.AppendFrame(nil, true, 0, op, msg, true)
}

// expect reads one message and checks its type, its (decompressed) payload
// and whether it came compressed.
func (c *pdConn) expect(op byte, want []byte, compressed bool) wstest.DeflateMessage {
	c.t.Helper()
	m := c.ReadDeflateMessage(c.d)
	if m.Opcode != op || m.Compressed != compressed || !bytes.Equal(m.Payload, want) {
		c.t.Fatalf("got op=%#x compressed=%v len=%d %q, want op=%#x compressed=%v len=%d %q",
			m.Opcode, m.Compressed, len(m.Payload), cfShort(m.Payload), op, compressed, len(want), cfShort(want))
	}
	return m
}

// closeCleanly completes the closing handshake from the client.
func (c *pdConn) closeCleanly() {
	c.t.Helper()
	cfCloseCleanly(c.t, c.Conn)
}

// pdKind is a kind of test message.
type pdKind int

const (
	pdJSONText   pdKind = iota // compressible chat-like JSON text
	pdRandomText               // text that compresses little (random letters)
	pdBinary                   // random bytes, incompressible
	pdKinds
)

func (k pdKind) op() byte {
	if k == pdBinary {
		return wstest.OpBinary
	}
	return wstest.OpText
}

// pdMessage returns n bytes of kind k; seed varies the content.
func pdMessage(k pdKind, n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	b := make([]byte, 0, n+128)
	switch k {
	case pdJSONText:
		for i := 0; len(b) < n; i++ {
			b = fmt.Appendf(b, `{"id":%d,"user":"user%d","text":"hello, how are you today? é€😀","seq":%d},`, rng.IntN(100000), rng.IntN(50), i)
		}
		b = b[:n]
		if !utf8.Valid(b) { // cut inside the last character
			i := len(b) - 1
			for i > 0 && b[i]&0xc0 == 0x80 {
				i--
			}
			for ; i < len(b); i++ {
				b[i] = '.'
			}
		}
	case pdRandomText:
		const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ,.-"
		for range n {
			b = append(b, letters[rng.IntN(len(letters))])
		}
	default:
		b = b[:n]
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
	}
	return b
}

// pdMsg is one message of an exchange plan.
type pdMsg struct {
	op      byte
	payload []byte
}

// pdExchange sends plan, every message compressed, in batches of up to
// 64 KiB of frames, and checks each echo: same type and content, compressed
// exactly when the server's MinSize says so, decompressed under the
// negotiated server parameters.
func pdExchange(t *testing.T, c *pdConn, plan []pdMsg, minSize int) {
	t.Helper()
	for i := 0; i < len(plan); {
		var batch []byte
		j := i
		for ; j < len(plan) && (j == i || len(batch)+len(plan[j].payload) < 64<<10); j++ {
			batch = append(batch, c.frame(plan[j].op, plan[j].payload, true)...)
		}
		c.WriteRaw(batch)
		for ; i < j; i++ {
			c.expect(plan[i].op, plan[i].payload, pdCompresses(minSize, len(plan[i].payload)))
		}
	}
}

// pdShortPlan is the exchange of the negotiation matrix: a few sizes, the
// shorter messages sent twice in a row, so that a server with context
// takeover refers to the previous message and one without must not, and
// one larger than every window but the 15-bit one.
func pdShortPlan(seed uint64) []pdMsg {
	var plan []pdMsg
	for i, n := range []int{16, 300, 3000, 20000} {
		k := pdKind(i) % pdKinds
		p := pdMessage(k, n, seed+uint64(i))
		plan = append(plan, pdMsg{k.op(), p})
		if n < 20000 {
			plan = append(plan, pdMsg{k.op(), p})
		}
	}
	return plan
}

// pdSweepSizes and pdSweepCount are the sizes of the full exchange
// (Autobahn 12.x/13.x) and how many messages of each are sent in a row.
var pdSweepSizes = []int{16, 64, 128, 256, 1024, 4096, 8192, 16384, 32768, 65536, 131072}

func pdSweepCount(n int) int {
	switch {
	case n <= 1024:
		return 50
	case n <= 4096:
		return 10
	case n <= 16384:
		return 5
	case n <= 32768:
		return 3
	}
	return 1
}

// pdSweepPlan is the full exchange: every size, many messages in a row of
// the three kinds in turn, some repeated so that context takeover has
// something to refer to.
func pdSweepPlan(seed uint64) []pdMsg {
	var plan []pdMsg
	for _, n := range pdSweepSizes {
		for i := range pdSweepCount(n) {
			k := pdKind(i) % pdKinds
			if i%5 == 4 {
				plan = append(plan, plan[len(plan)-3]) // the same kind, three back
				continue
			}
			plan = append(plan, pdMsg{k.op(), pdMessage(k, n, seed+uint64(i))})
		}
	}
	return plan
}

// pdNegotiation is one offer of the matrix and the exact responses to it.
type pdNegotiation struct {
	offers []string // request header lines
	// want is the response with ContextTakeover false (wantNoCT) and true
	// (wantCT); "" means no Sec-WebSocket-Extensions header.
	wantNoCT, wantCT string
}

const (
	pdName = "permessage-deflate"
	pdNoCT = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
)

// pdNegotiations is the offer matrix (Autobahn 13.x parameter sets and
// RFC 7692 section 7.1). A server without context takeover answers every
// accepted offer with both *_no_context_takeover parameters (section
// 7.1.1: a server may always add them); one with it answers with what the
// offer asked. A server window below 15 bits comes with
// server_no_context_takeover (section 7.1.1.1 allows it unasked).
func pdNegotiations() []pdNegotiation {
	n := []pdNegotiation{
		{[]string{pdName}, pdNoCT, pdName},
		{[]string{"permessage-deflate; client_no_context_takeover"}, pdNoCT, "permessage-deflate; client_no_context_takeover"},
		{[]string{"permessage-deflate; server_no_context_takeover"}, pdNoCT, "permessage-deflate; server_no_context_takeover"},
		{[]string{"permessage-deflate; client_no_context_takeover; server_no_context_takeover"}, pdNoCT, pdNoCT},
		// client_max_window_bits without a value: the server may leave it
		// out (section 7.1.2.2), and does when it does not limit clients.
		{[]string{"permessage-deflate; client_max_window_bits"}, pdNoCT, pdName},
		{[]string{"permessage-deflate ;  client_max_window_bits = \"10\""}, pdNoCT + "; client_max_window_bits=10", "permessage-deflate; client_max_window_bits=10"},
		{[]string{"permessage-deflate; server_max_window_bits=10; client_max_window_bits=12"},
			pdNoCT + "; server_max_window_bits=10; client_max_window_bits=12",
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=10; client_max_window_bits=12"},
		{[]string{"permessage-deflate; client_max_window_bits; server_max_window_bits=9; client_no_context_takeover"},
			pdNoCT + "; server_max_window_bits=9", pdNoCT + "; server_max_window_bits=9"},
		{[]string{"permessage-deflate; server_no_context_takeover; client_max_window_bits=8; server_max_window_bits=8"},
			pdNoCT + "; server_max_window_bits=8; client_max_window_bits=8",
			"permessage-deflate; server_no_context_takeover; server_max_window_bits=8; client_max_window_bits=8"},
		// Several offers: the first acceptable one wins (RFC 6455 section
		// 9.1, RFC 7692 section 5.1).
		{[]string{"permessage-deflate; unknown_param, permessage-deflate; client_no_context_takeover"}, pdNoCT, "permessage-deflate; client_no_context_takeover"},
		{[]string{"permessage-deflate; server_max_window_bits=7, permessage-deflate; server_max_window_bits=10, permessage-deflate"},
			pdNoCT + "; server_max_window_bits=10", "permessage-deflate; server_no_context_takeover; server_max_window_bits=10"},
		{[]string{"x-webkit-deflate-frame, permessage-deflate; client_max_window_bits=11"}, pdNoCT + "; client_max_window_bits=11", "permessage-deflate; client_max_window_bits=11"},
		{[]string{"permessage-deflate; server_no_context_takeover; server_no_context_takeover, permessage-deflate"}, pdNoCT, pdName},
		{[]string{"permessage-deflate; foo=bar", "permessage-deflate; server_no_context_takeover"}, pdNoCT, "permessage-deflate; server_no_context_takeover"},
		// Offers that must be declined (RFC 7692 section 5.1: an unknown
		// parameter, a bad value, a repeated parameter), and other
		// extensions: no Sec-WebSocket-Extensions at all.
		{[]string{"permessage-deflate; unknown_param"}, "", ""},
		{[]string{"permessage-deflate; server_max_window_bits"}, "", ""},
		{[]string{"permessage-deflate; server_max_window_bits=7"}, "", ""},
		{[]string{"permessage-deflate; server_max_window_bits=16"}, "", ""},
		{[]string{"permessage-deflate; server_max_window_bits=08"}, "", ""},
		{[]string{"permessage-deflate; server_max_window_bits=abc"}, "", ""},
		{[]string{"permessage-deflate; client_max_window_bits=7"}, "", ""},
		{[]string{"permessage-deflate; client_max_window_bits=16"}, "", ""},
		{[]string{"permessage-deflate; server_no_context_takeover=1"}, "", ""},
		{[]string{"permessage-deflate; client_no_context_takeover; client_no_context_takeover"}, "", ""},
		{[]string{"permessage-deflate; client_max_window_bits=10; client_max_window_bits=11"}, "", ""},
		{[]string{"permessage-deflate;"}, "", ""},
		{[]string{"x-webkit-deflate-frame"}, "", ""},
		{[]string{"permessage-deflate; unknown_param", "x-other; server_max_window_bits=10"}, "", ""},
	}
	for bits := 8; bits <= 15; bits++ {
		offer := fmt.Sprintf("permessage-deflate; client_max_window_bits=%d", bits)
		noCT, ct := pdNoCT, pdName
		if bits < 15 {
			noCT += fmt.Sprintf("; client_max_window_bits=%d", bits)
			ct += fmt.Sprintf("; client_max_window_bits=%d", bits)
		}
		n = append(n, pdNegotiation{[]string{offer}, noCT, ct})

		// A server accepts server_max_window_bits "by including the
		// server_max_window_bits extension parameter in the extension
		// negotiation response ... with the same or smaller value"
		// (section 7.1.2.1): 15 included.
		offer = fmt.Sprintf("permessage-deflate; server_max_window_bits=%d", bits)
		noCT = pdNoCT + fmt.Sprintf("; server_max_window_bits=%d", bits)
		ct = fmt.Sprintf("permessage-deflate; server_max_window_bits=%d", bits)
		if bits < 15 {
			ct = fmt.Sprintf("permessage-deflate; server_no_context_takeover; server_max_window_bits=%d", bits)
		}
		n = append(n, pdNegotiation{[]string{offer}, noCT, ct})
	}
	return n
}

// TestConformanceDeflateNegotiation (Autobahn 13.x handshakes): every offer
// of the matrix gets the exact Sec-WebSocket-Extensions response, or none,
// from servers with and without context takeover, on both routes; then
// messages of several sizes go both ways under the agreed parameters (or
// uncompressed when the offer was declined).
func TestConformanceDeflateNegotiation(t *testing.T) {
	for _, takeover := range []bool{false, true} {
		addr := cfStart(t, pdConfig(upgrade.Compression{Enabled: true, ContextTakeover: takeover}))
		for _, path := range cfPaths {
			t.Run(fmt.Sprintf("takeover=%v%s", takeover, path), func(t *testing.T) {
				for i, tc := range pdNegotiations() {
					want := tc.wantNoCT
					if takeover {
						want = tc.wantCT
					}
					t.Run(fmt.Sprintf("%d:%s", i, strings.Join(tc.offers, "|")), func(t *testing.T) {
						t.Parallel()
						pdCheckNegotiation(t, addr, path, tc.offers, want, 0, uint64(i))
					})
				}
			})
		}
	}
}

// pdCheckNegotiation dials with offers, checks the response is exactly want
// ("" for none), and exchanges pdShortPlan under it.
func pdCheckNegotiation(t *testing.T, addr, path string, offers []string, want string, minSize int, seed uint64) {
	t.Helper()
	c, ext := wstest.DialExtensions(t, addr, path, offers...)
	if want == "" {
		if len(ext) != 0 {
			t.Fatalf("offer %q: Sec-WebSocket-Extensions %q, want none", offers, ext)
		}
		// Not negotiated: plain messages, echoed as they are.
		for _, m := range pdShortPlan(seed)[:5] {
			c.WriteFrame(true, 0, m.op, m.payload, true)
			cfExpectEcho(t, c, m.op, m.payload)
		}
		cfCloseCleanly(t, c)
		return
	}
	if len(ext) != 1 || ext[0] != want {
		t.Fatalf("offer %q: Sec-WebSocket-Extensions %q, want [%q]", offers, ext, want)
	}
	p, err := wstest.ParseDeflateResponse(ext)
	if err != nil {
		t.Fatal(err)
	}
	pc := &pdConn{Conn: c, t: t, params: p, z: wstest.NewClientCompressor(p, pdClientLevel), d: wstest.NewServerDecompressor(p)}
	pdExchange(t, pc, pdShortPlan(seed), minSize)
	pc.closeCleanly()
}

// TestConformanceDeflateNegotiationClientWindow: a server configured with
// ClientMaxWindowBits 10 asks it of clients that offer
// client_max_window_bits (the smaller of the two), and of no other client
// (RFC 7692 section 7.1.2.2: a response MUST NOT name it unoffered); the
// client then compresses with that window, and the server keeps that much
// context.
func TestConformanceDeflateNegotiationClientWindow(t *testing.T) {
	addr := cfStart(t, pdConfig(upgrade.Compression{Enabled: true, ContextTakeover: true, ClientMaxWindowBits: 10}))
	cases := []struct{ offer, want string }{
		{"permessage-deflate", pdName},
		{"permessage-deflate; client_max_window_bits", "permessage-deflate; client_max_window_bits=10"},
		{"permessage-deflate; client_max_window_bits=12", "permessage-deflate; client_max_window_bits=10"},
		{"permessage-deflate; client_max_window_bits=9", "permessage-deflate; client_max_window_bits=9"},
		{"permessage-deflate; client_max_window_bits; client_no_context_takeover", "permessage-deflate; client_no_context_takeover; client_max_window_bits=10"},
	}
	for _, path := range cfPaths {
		for i, tc := range cases {
			t.Run(fmt.Sprintf("%s/%s", path[1:], tc.offer), func(t *testing.T) {
				t.Parallel()
				pdCheckNegotiation(t, addr, path, []string{tc.offer}, tc.want, 0, uint64(i))
			})
		}
	}
}

// TestConformanceDeflateDisabled: a server with compression off answers a
// permessage-deflate offer without Sec-WebSocket-Extensions, and echoes
// plain messages.
func TestConformanceDeflateDisabled(t *testing.T) {
	addr := cfStart(t, engine.Config{})
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			pdCheckNegotiation(t, addr, path, []string{"permessage-deflate; client_max_window_bits", pdName}, "", 0, 1)
		})
	}
}

// TestConformanceDeflateExchange (Autobahn 12.x and 13.x): the full size
// sweep, 16 B to 128 KiB, dozens of messages in a row per size, text that
// compresses well, text that compresses little and binary, under several
// parameter sets: context takeover in both directions, in one, in none,
// small windows both ways. The server compresses exactly the messages of
// at least MinSize bytes (the default 128, and every one with MinSize -1),
// sets RSV1 on the first frame only, and keeps its window and context
// promises (checked by the client's decoder).
func TestConformanceDeflateExchange(t *testing.T) {
	cases := []struct {
		name    string
		z       upgrade.Compression
		offer   string
		checkCT bool // the server must actually refer to earlier messages
	}{
		{"takeover-both", upgrade.Compression{Enabled: true, ContextTakeover: true}, pdName, true},
		{"client-no-takeover", upgrade.Compression{Enabled: true, ContextTakeover: true}, "permessage-deflate; client_no_context_takeover", true},
		{"server-no-takeover", upgrade.Compression{Enabled: true, ContextTakeover: true}, "permessage-deflate; server_no_context_takeover", false},
		{"windows-9", upgrade.Compression{Enabled: true, ContextTakeover: true}, "permessage-deflate; server_max_window_bits=9; client_max_window_bits=9", false},
		{"no-takeover-server", upgrade.Compression{Enabled: true}, pdName, false},
		{"minsize-all-level9", upgrade.Compression{Enabled: true, ContextTakeover: true, MinSize: -1, Level: 9}, "permessage-deflate; client_max_window_bits", true},
	}
	for _, tc := range cases {
		addr := cfStart(t, pdConfig(tc.z))
		for _, path := range cfPaths {
			t.Run(tc.name+path, func(t *testing.T) {
				t.Parallel()
				c := pdDial(t, addr, path, tc.offer)
				pdExchange(t, c, pdSweepPlan(7), tc.z.MinSize)
				// The plan repeats messages: a server with context
				// takeover refers back to earlier ones (without it, the
				// client's decoder has no history to refer to and any such
				// reference already failed).
				if tc.checkCT && c.d.HistoryRefs == 0 {
					t.Fatalf("context takeover agreed, but no compressed echo refers to an earlier message")
				}
				c.closeCleanly()
			})
		}
	}
}

// TestConformanceDeflateServerContextTakeover: the server's context
// takeover seen on the wire. With ContextTakeover and an offer that leaves
// the server its context, the same 1 KiB message sent twice comes back the
// second time as a handful of bytes (a back-reference to the first); with
// server_no_context_takeover (server config, or the client's offer) both
// compressed echoes are the same size.
func TestConformanceDeflateServerContextTakeover(t *testing.T) {
	msg := pdMessage(pdRandomText, 1024, 3)
	cases := []struct {
		name     string
		takeover bool
		offer    string
		kept     bool
	}{
		{"server-takeover", true, pdName, true},
		{"server-config-no-takeover", false, pdName, false},
		{"client-asks-no-takeover", true, "permessage-deflate; server_no_context_takeover", false},
	}
	for _, tc := range cases {
		addr := cfStart(t, pdConfig(upgrade.Compression{Enabled: true, ContextTakeover: tc.takeover}))
		for _, path := range cfPaths {
			t.Run(tc.name+path, func(t *testing.T) {
				t.Parallel()
				c := pdDial(t, addr, path, tc.offer)
				var sizes []int
				for range 3 {
					c.WriteRaw(c.frame(wstest.OpText, msg, true))
					m := c.expect(wstest.OpText, msg, true)
					sizes = append(sizes, len(m.Frames[0].Payload))
				}
				if tc.kept && (sizes[1] > sizes[0]/8 || sizes[2] > sizes[0]/8) {
					t.Fatalf("compressed sizes %v: the repeats do not refer to the first message", sizes)
				}
				if !tc.kept && (sizes[1] != sizes[0] || sizes[2] != sizes[0]) {
					t.Fatalf("compressed sizes %v: without context takeover every copy compresses alike", sizes)
				}
				if sizes[0] < 600 {
					t.Fatalf("the first copy compressed to %d bytes: the test message is too compressible", sizes[0])
				}
				c.closeCleanly()
			})
		}
	}
}

// TestConformanceDeflateIdleRelease: with context takeover and an
// IdleRelease of 50ms, the server gives its compressor back between bursts
// of messages but keeps the window: after 300ms of silence a repeated
// message still comes back as a back-reference into the earlier ones, and
// every message decompresses with the client's continuous context.
func TestConformanceDeflateIdleRelease(t *testing.T) {
	addr := cfStart(t, pdConfig(upgrade.Compression{Enabled: true, ContextTakeover: true, IdleRelease: 50 * time.Millisecond}))
	first := pdMessage(pdRandomText, 1024, 11)
	for _, path := range cfPaths {
		t.Run(path[1:], func(t *testing.T) {
			t.Parallel()
			c := pdDial(t, addr, path, pdName)
			c.WriteRaw(c.frame(wstest.OpText, first, true))
			full := len(c.expect(wstest.OpText, first, true).Frames[0].Payload)
			for round := range 2 {
				for i := range 4 {
					k := pdKind(i % 2) // JSON or random text
					m := pdMessage(k, 500+300*i, uint64(round*10+i))
					c.WriteRaw(c.frame(k.op(), m, true))
					c.expect(k.op(), m, true)
				}
				time.Sleep(300 * time.Millisecond)
				c.WriteRaw(c.frame(wstest.OpText, first, true))
				m := c.expect(wstest.OpText, first, true)
				if n := len(m.Frames[0].Payload); n > full/8 {
					t.Fatalf("round %d: after an idle release the repeat took %d bytes (first copy %d): the window was not kept", round, n, full)
				}
			}
			c.closeCleanly()
		})
	}
}

// pdEventSender sends, on open, a 1000-byte text, a 50-byte binary and a
// 300-byte text (through SendText) with the event API.
type pdEventSender struct{ msgs [][]byte }

func (h pdEventSender) OnOpen(c *engine.Conn) {
	_ = c.Send(conn.Text, h.msgs[0])
	_ = c.Send(conn.Binary, h.msgs[1])
	_ = c.SendText(string(h.msgs[2]))
}

func (pdEventSender) OnMessage(*engine.Conn, conn.MessageType, []byte) {}
func (pdEventSender) OnClose(*engine.Conn, error)                      {}

// TestConformanceDeflateEventSend: Conn.Send and SendText of the event API
// compress messages of at least MinSize bytes (RSV1, decompressing to the
// message) and send shorter ones as they are.
func TestConformanceDeflateEventSend(t *testing.T) {
	h := pdEventSender{msgs: [][]byte{pdMessage(pdJSONText, 1000, 1), pdMessage(pdBinary, 50, 2), pdMessage(pdRandomText, 300, 3)}}
	s := icStart(t, pdConfig(upgrade.Compression{Enabled: true, ContextTakeover: true}), func(srv *engine.Server) {
		srv.HandleEvents("/send", h)
	})
	c := pdDial(t, s.addr, "/send", pdName)
	m := c.expect(wstest.OpText, h.msgs[0], true)
	if len(m.Frames[0].Payload) >= 1000/2 {
		t.Fatalf("1000 bytes of JSON compressed to %d bytes", len(m.Frames[0].Payload))
	}
	c.expect(wstest.OpBinary, h.msgs[1], false)
	c.expect(wstest.OpText, h.msgs[2], true)
	c.closeCleanly()
}

// TestConformanceDeflateMinSize: the server compresses exactly the
// messages of at least MinSize bytes — 128 by default, 200 when set, all of
// them (the empty one too) with a negative MinSize — whatever the client
// did with them, on both routes.
func TestConformanceDeflateMinSize(t *testing.T) {
	sizes := []int{0, 1, 127, 128, 129, 199, 200, 201, 5000}
	for _, minSize := range []int{0, 200, -1} {
		addr := cfStart(t, pdConfig(upgrade.Compression{Enabled: true, ContextTakeover: true, MinSize: minSize}))
		for _, path := range cfPaths {
			t.Run(fmt.Sprintf("min=%d%s", minSize, path), func(t *testing.T) {
				t.Parallel()
				c := pdDial(t, addr, path, pdName)
				for i, n := range sizes {
					for _, compress := range []bool{true, false} {
						msg := pdMessage(pdJSONText, n, uint64(i))
						c.WriteRaw(c.frame(wstest.OpText, msg, compress))
						c.expect(wstest.OpText, msg, pdCompresses(minSize, n))
					}
				}
				c.closeCleanly()
			})
		}
	}
}

// pdConcurrentMessage is sender g's message k in
// TestConformanceDeflateConcurrentSend (100 to 2000 bytes).
func pdConcurrentMessage(g, k int) []byte {
	return append(fmt.Appendf(nil, "%d:%d:", g, k), pdMessage(pdJSONText, 100+(g*50+k)*37%1900, uint64(g*1000+k))...)
}

const pdSenders, pdPerSender = 4, 50

// pdSendConcurrently sends every sender's messages from its own goroutine
// with send, then "end" once all are sent.
func pdSendConcurrently(send func([]byte) error) error {
	errs := make(chan error, pdSenders)
	for g := range pdSenders {
		go func() {
			for k := range pdPerSender {
				if err := send(pdConcurrentMessage(g, k)); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for range pdSenders {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return first
	}
	return send([]byte("end"))
}

// pdConcurrentEvents starts the concurrent senders when a message arrives.
type pdConcurrentEvents struct{ errs chan error }

func (pdConcurrentEvents) OnOpen(*engine.Conn) {}

func (h pdConcurrentEvents) OnMessage(c *engine.Conn, _ conn.MessageType, _ []byte) {
	go func() { h.errs <- pdSendConcurrently(func(p []byte) error { return c.Send(conn.Text, p) }) }()
}

func (pdConcurrentEvents) OnClose(*engine.Conn, error) {}

// TestConformanceDeflateConcurrentSend: several goroutines sending on one
// compressed connection with context takeover (blocking Send, and the
// event API's Send from other goroutines) put the compressed messages on
// the wire in the order they were compressed: the client decompresses all
// of them, in one context, and each sender's arrive in order.
func TestConformanceDeflateConcurrentSend(t *testing.T) {
	errs := make(chan error, 4)
	s := icStart(t, pdConfig(upgrade.Compression{Enabled: true, ContextTakeover: true}), func(srv *engine.Server) {
		srv.HandleFunc("/blocking", func(ctx *upgrade.Context) {
			w, err := ctx.Upgrader().Upgrade()
			if err != nil {
				errs <- err
				return
			}
			if _, err := w.Receive(); err != nil {
				errs <- err
				return
			}
			errs <- pdSendConcurrently(func(p []byte) error { return w.Send(conn.Text, p) })
			_, _ = w.Receive() // the client's close
			_ = w.SendClose(1000, "")
		})
		srv.HandleEvents("/events", pdConcurrentEvents{errs})
	})
	for _, path := range []string{"/blocking", "/events"} {
		t.Run(path[1:], func(t *testing.T) {
			c := pdDial(t, s.addr, path, pdName)
			c.WriteRaw(c.frame(wstest.OpText, []byte("go"), false))
			next := make([]int, pdSenders)
			for range pdSenders * pdPerSender {
				m := c.ReadDeflateMessage(c.d)
				var g, k int
				if _, err := fmt.Sscanf(string(m.Payload), "%d:%d:", &g, &k); err != nil || g < 0 || g >= pdSenders {
					t.Fatalf("message %q: %v", cfShort(m.Payload), err)
				}
				if k != next[g] || !bytes.Equal(m.Payload, pdConcurrentMessage(g, k)) || m.Compressed != pdCompresses(0, len(m.Payload)) {
					t.Fatalf("sender %d: message %d (compressed %v), want %d intact", g, k, m.Compressed, next[g])
				}
				next[g]++
			}
			c.expect(wstest.OpText, []byte("end"), false)
			if err := icRecv(t, errs, icTimeout, "the senders"); err != nil {
				t.Fatal(err)
			}
			if c.d.HistoryRefs == 0 {
				t.Fatal("no message referred to an earlier one: context takeover unused")
			}
			c.closeCleanly()
		})
	}
}
