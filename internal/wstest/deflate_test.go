package wstest

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	kflate "github.com/klauspost/compress/flate"
)

// testInputs are payloads of several kinds: empty, short, repetitive text,
// random bytes and a mix of both.
func testInputs() map[string][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	var text bytes.Buffer
	for i := 0; text.Len() < 100000; i++ {
		fmt.Fprintf(&text, `{"id":%d,"name":"user%d","text":"lorem ipsum dolor"},`, i, i%13)
	}
	mixed := append(append(random(20000), text.Bytes()[:40000]...), random(5000)...)
	mixed = append(mixed, mixed[1000:30000]...)
	return map[string][]byte{
		"empty":  {},
		"one":    {'x'},
		"hello":  []byte("Hello"),
		"zeros":  make([]byte, 70000),
		"text":   text.Bytes(),
		"random": random(70000),
		"mixed":  mixed,
	}
}

// TestDeflateInflateMatchesFlate: Inflate decodes what compress/flate and
// klauspost's flate produce, at every level, with sync flushes and with
// Close, exactly as compress/flate's decoder does.
func TestDeflateInflateMatchesFlate(t *testing.T) {
	for name, in := range testInputs() {
		for level := -2; level <= 9; level++ {
			for _, lib := range []string{"std", "klauspost"} {
				var b bytes.Buffer
				var w interface {
					io.WriteCloser
					Flush() error
				}
				var err error
				if lib == "std" {
					w, err = flate.NewWriter(&b, level)
				} else {
					w, err = kflate.NewWriter(&b, level)
				}
				if err != nil {
					t.Fatal(err)
				}
				half := len(in) / 2
				_, _ = w.Write(in[:half])
				_ = w.Flush()
				_, _ = w.Write(in[half:])
				_ = w.Close()
				res, err := Inflate(nil, b.Bytes())
				if err != nil || !bytes.Equal(res.Out, in) || !res.Final || len(res.Rest) != 0 {
					t.Fatalf("%s level %d %s: err %v, equal %v, final %v, rest %d", name, level, lib, err, bytes.Equal(res.Out, in), res.Final, len(res.Rest))
				}
				ref, err := io.ReadAll(flate.NewReader(bytes.NewReader(b.Bytes())))
				if err != nil || !bytes.Equal(ref, res.Out) {
					t.Fatalf("%s level %d %s: compress/flate disagrees: %v", name, level, lib, err)
				}
			}
		}
	}
}

// TestDeflateInflateDictionary: a stream compressed with a preset dictionary
// decodes with that dictionary as history and refers into it; without the
// history it fails as too far back.
func TestDeflateInflateDictionary(t *testing.T) {
	dict := testInputs()["text"][:30000]
	msg := testInputs()["text"][10000:14000]
	var b bytes.Buffer
	w, _ := flate.NewWriterDict(&b, 6, dict)
	_, _ = w.Write(msg)
	_ = w.Flush()
	res, err := Inflate(dict, b.Bytes())
	if err != nil || !bytes.Equal(res.Out, msg) || res.Final || res.MaxDistance == 0 {
		t.Fatalf("with history: %v equal=%v final=%v dist=%d", err, bytes.Equal(res.Out, msg), res.Final, res.MaxDistance)
	}
	if _, err := Inflate(nil, b.Bytes()); err == nil || !strings.Contains(err.Error(), "too far back") {
		t.Fatalf("without history: %v", err)
	}
}

// TestDeflateInflateRejects: invalid DEFLATE data fails, as it does with
// compress/flate.
func TestDeflateInflateRejects(t *testing.T) {
	fixedThenDist := func(d int) []byte {
		var w BitWriter
		w.FixedBlock(false, append(Literals([]byte("abc")), Token{Length: 3, Distance: d}))
		return w.SyncFlushMessage()
	}
	overSub := func() []byte {
		// A dynamic block whose code-length code gives three symbols one bit.
		var w BitWriter
		w.WriteBits(0, 1)
		w.WriteBits(2, 2)
		w.WriteBits(0, 5)
		w.WriteBits(0, 5)
		w.WriteBits(0, 4) // 4 code-length codes: 16, 17, 18, 0
		for range 3 {
			w.WriteBits(1, 3)
		}
		w.WriteBits(0, 3)
		w.WriteBits(0, 16)
		return w.Bytes()
	}
	valid, bad := UndeclaredDistance()
	undeclared := append(append(append(valid, DeflateTail...), bad...), DeflateTail...)
	cases := []struct {
		name string
		data []byte
		err  string
	}{
		{"block-type-3", []byte{0x06, 0x12, 0x34, 0x00, 0x00, 0xff, 0xff}, "block type 3"},
		{"final-type-3", []byte{0xff, 0xff, 0xff}, "block type 3"},
		{"stored-bad-complement", []byte{0x00, 0x05, 0x00, 0xfa, 0xfe, 'h', 'e', 'l', 'l', 'o'}, "complement"},
		{"stored-truncated", []byte{0x00, 0x05, 0x00, 0xfa, 0xff, 'h', 'e'}, "inside a block"},
		{"distance-too-far", append(fixedThenDist(4), DeflateTail...), "too far back"},
		{"over-subscribed", overSub(), "over-subscribed"},
		{"undeclared-distance", undeclared, "invalid code"},
		{"truncated-fixed", []byte{0xf2, 0x48}, "inside a block"},
		{"garbage-text", []byte("hello world, not deflate"), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Inflate(nil, tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err %v, want one mentioning %q", err, tc.err)
			}
			src := append(bytes.Clone(tc.data), 0x01, 0x00, 0x00, 0xff, 0xff)
			if _, err := io.ReadAll(flate.NewReader(bytes.NewReader(src))); err == nil {
				t.Fatalf("compress/flate accepts it")
			}
		})
	}
}

// TestDeflateBitWriterDynamic: blocks with dynamic codes decode with
// compress/flate and Inflate, long codes and every length symbol included.
func TestDeflateBitWriterDynamic(t *testing.T) {
	// 43 literals, the end of block and the 29 length symbols: 73 codes,
	// 63 of six bits, one each of 7 to 14 bits, two of 15 — complete, as
	// 63/64 + (1/128 + ... + 1/16384) + 2/32768 = 1 — the length symbols
	// among the longest.
	letters := []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq")
	lit := make([]int, 286)
	var syms []int
	for _, b := range letters {
		syms = append(syms, int(b))
	}
	syms = append(syms, 256)
	for s := 257; s < 286; s++ {
		syms = append(syms, s)
	}
	for i, s := range syms {
		lit[s] = 6
		if i >= 63 {
			lit[s] = min(i-63+7, 15)
		}
	}
	// Distance codes: two of 4 bits, 28 of 5 (2/16 + 28/32 = 1).
	dist := make([]int, 30)
	for j := range dist {
		dist[j] = 5
	}
	dist[0], dist[1] = 4, 4
	var toks []Token
	toks = append(toks, Literals(letters)...)
	for i, n := 0, len(letters); i < 29; i++ {
		toks = append(toks, Token{Length: lengthBase[i], Distance: min(distBase[i], n)})
		n += lengthBase[i]
	}
	toks = append(toks, Token{Length: 258, Distance: 1})
	var w BitWriter
	c := w.DynamicHeader(true, lit, dist)
	w.Tokens(c, toks)
	w.EndBlock(c)
	data := w.Bytes()
	want := bytes.Clone(letters)
	for _, tk := range toks[len(letters):] {
		for range tk.Length {
			want = append(want, want[len(want)-tk.Distance])
		}
	}
	got, err := io.ReadAll(flate.NewReader(bytes.NewReader(data)))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("compress/flate: %d bytes, %v; want %d", len(got), err, len(want))
	}
	res, err := Inflate(nil, data)
	if err != nil || !bytes.Equal(res.Out, want) || !res.Final || len(res.Rest) != 0 {
		t.Fatalf("Inflate: %v %v", err, bytes.Equal(res.Out, want))
	}

	valid, _ := UndeclaredDistance()
	src := append(bytes.Clone(valid), 0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff)
	got, err = io.ReadAll(flate.NewReader(bytes.NewReader(src)))
	if err != nil || string(got) != "aaaa" {
		t.Fatalf("UndeclaredDistance valid: %q %v", got, err)
	}
}

// TestDeflateRFC7692Examples: the payloads of RFC 7692 section 7.2.3 decompress
// to "Hello".
func TestDeflateRFC7692Examples(t *testing.T) {
	hello := []byte("Hello")
	cases := []struct {
		name     string
		takeover bool
		payloads [][]byte
	}{
		{"7.2.3.1-one-block", false, [][]byte{{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}}},
		{"7.2.3.2-takeover", true, [][]byte{{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, {0xf2, 0x00, 0x11, 0x00, 0x00}}},
		{"7.2.3.3-no-compression", false, [][]byte{{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}}},
		{"7.2.3.4-bfinal", false, [][]byte{{0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}}},
		{"7.2.3.5-two-blocks", false, [][]byte{{0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}}},
	}
	for _, tc := range cases {
		d := NewDecompressor(tc.takeover, 15)
		for i, p := range tc.payloads {
			got, err := d.Decompress(p)
			if err != nil || !bytes.Equal(got, hello) {
				t.Fatalf("%s message %d: %q %v", tc.name, i, got, err)
			}
		}
	}
	// The second message of 7.2.3.2 refers into the first: without
	// context takeover it must be refused.
	d := NewDecompressor(false, 15)
	_, _ = d.Decompress([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})
	if _, err := d.Decompress([]byte{0xf2, 0x00, 0x11, 0x00, 0x00}); err == nil {
		t.Fatal("a reference into the previous message passed without context takeover")
	}
}

// TestDeflateCompressorRoundTrip: every window size, with and without context
// takeover, round-trips a series of messages through Compressor and
// Decompressor, and small windows keep their back-references within the
// window.
func TestDeflateCompressorRoundTrip(t *testing.T) {
	in := testInputs()
	msgs := [][]byte{in["text"][:3000], in["text"][:3000], in["mixed"][:40000], in["zeros"][:1000], in["hello"], in["random"][:2000], in["empty"], in["text"][5000:70000]}
	for bits := 8; bits <= 15; bits++ {
		for _, takeover := range []bool{false, true} {
			z := NewCompressor(takeover, bits, 6)
			d := NewDecompressor(takeover, bits)
			for i, m := range msgs {
				var p []byte
				switch i {
				case 3:
					p = z.CompressFinal(m, false)
				case 4:
					p = z.CompressFinal(m, true)
				default:
					p = z.Compress(m)
				}
				got, err := d.Decompress(p)
				if err != nil || !bytes.Equal(got, m) {
					t.Fatalf("bits %d takeover %v message %d (%d bytes): %v equal=%v", bits, takeover, i, len(m), err, bytes.Equal(got, m))
				}
			}
			if d.MaxDistance > 1<<bits {
				t.Fatalf("bits %d: distance %d", bits, d.MaxDistance)
			}
			if bits == 15 && takeover && d.MaxDistance < 3000 {
				t.Fatalf("the repeated message did not refer back: max distance %d", d.MaxDistance)
			}
		}
	}
	// compress/flate's 32 KiB window breaks a 9-bit promise.
	z := NewCompressor(false, 15, 6)
	d := NewDecompressor(false, 9)
	if _, err := d.Decompress(z.Compress(in["mixed"])); err == nil || !strings.Contains(err.Error(), "window") {
		t.Fatalf("a 32 KiB window passed a 9-bit check: %v", err)
	}
}

// TestDeflateBitWriter: hand-made blocks decode with compress/flate.
func TestDeflateBitWriter(t *testing.T) {
	var w BitWriter
	w.StoredBlock(false, []byte("stored "))
	w.FixedBlock(false, append(Literals([]byte("abcdef")), Token{Length: 258, Distance: 6}, Token{Length: 3, Distance: 1}))
	w.FixedBlock(true, append(Literals([]byte("\x00\x8f\x90\xff")), Token{Length: 10, Distance: 4}))
	data := w.Bytes()
	got, err := io.ReadAll(flate.NewReader(bytes.NewReader(data)))
	want := []byte("stored abcdef")
	for i := 0; len(want) < 13+258; i++ {
		want = append(want, "abcdef"[i%6])
	}
	want = append(want, want[len(want)-1], want[len(want)-1], want[len(want)-1])
	want = append(want, 0x00, 0x8f, 0x90, 0xff)
	for range 10 {
		want = append(want, want[len(want)-4])
	}
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("compress/flate: %q %v, want %q", got, err, want)
	}
	res, err := Inflate(nil, data)
	if err != nil || !bytes.Equal(res.Out, want) || res.MaxDistance != 6 || !res.Final {
		t.Fatalf("Inflate: %v %v %d", err, bytes.Equal(res.Out, want), res.MaxDistance)
	}
	// Every distance code, at both ends of its range.
	for j := range 30 {
		for _, d := range []int{distBase[j], distBase[j] + 1<<distExtra[j] - 1} {
			hist := bytes.Repeat([]byte{'h'}, 32768)
			hist[len(hist)-d] = 'X'
			var w BitWriter
			w.FixedBlock(false, []Token{{Length: 3, Distance: d}})
			res, err := Inflate(hist, append(w.SyncFlushMessage(), DeflateTail...))
			exp := bytes.Clone(hist)
			for range 3 {
				exp = append(exp, exp[len(exp)-d])
			}
			if err != nil || string(res.Out) != string(exp[len(hist):]) || res.MaxDistance != d {
				t.Fatalf("distance %d: %q %v", d, res.Out, err)
			}
		}
	}
}

func TestDeflateParseResponse(t *testing.T) {
	cases := []struct {
		lines []string
		want  DeflateParams
		err   string
	}{
		{[]string{"permessage-deflate"}, DeflateParams{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}, ""},
		{[]string{"permessage-deflate; server_no_context_takeover; client_no_context_takeover"}, DeflateParams{true, true, 15, 15, false, false}, ""},
		{[]string{"permessage-deflate;server_max_window_bits=9; client_max_window_bits=\"10\""}, DeflateParams{false, false, 9, 10, true, true}, ""},
		{nil, DeflateParams{}, "0 Sec-WebSocket-Extensions"},
		{[]string{"permessage-deflate", "permessage-deflate"}, DeflateParams{}, "2 Sec-WebSocket-Extensions"},
		{[]string{"permessage-deflate, permessage-deflate"}, DeflateParams{}, "more than one"},
		{[]string{"x-deflate"}, DeflateParams{}, "want permessage-deflate"},
		{[]string{"permessage-deflate; foo"}, DeflateParams{}, "unknown"},
		{[]string{"permessage-deflate; server_no_context_takeover=1"}, DeflateParams{}, "has a value"},
		{[]string{"permessage-deflate; server_max_window_bits"}, DeflateParams{}, "bad"},
		{[]string{"permessage-deflate; client_max_window_bits=08"}, DeflateParams{}, "bad"},
		{[]string{"permessage-deflate; client_max_window_bits=16"}, DeflateParams{}, "bad"},
		{[]string{"permessage-deflate; client_no_context_takeover; client_no_context_takeover"}, DeflateParams{}, "repeats"},
	}
	for _, tc := range cases {
		got, err := ParseDeflateResponse(tc.lines)
		if tc.err == "" && (err != nil || got != tc.want) || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: %+v %v, want %+v %q", tc.lines, got, err, tc.want, tc.err)
		}
	}
}

// extServer accepts one connection, records its Sec-WebSocket-Extensions
// request lines, answers 101 with respond as response lines, then writes
// script and closes.
func extServer(t *testing.T, respond []string, script []byte) (string, <-chan []string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	got := make(chan []string, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
		req, err := http.ReadRequest(bufio.NewReader(nc))
		if err != nil {
			got <- nil
			return
		}
		got <- req.Header.Values("Sec-WebSocket-Extensions")
		sum := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + websocketGUID))
		resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			base64.StdEncoding.EncodeToString(sum[:]) + "\r\n"
		for _, r := range respond {
			resp += "Sec-WebSocket-Extensions: " + r + "\r\n"
		}
		_, _ = nc.Write(append([]byte(resp+"\r\n"), script...))
		_ = nc.(*net.TCPConn).CloseWrite()
		_, _ = io.Copy(io.Discard, nc)
	}()
	return ln.Addr().String(), got
}

// TestDeflateDialExtensionsAndRead: the offers go out as separate header lines,
// the response lines come back, and ReadDeflateMessage decompresses a
// fragmented compressed message, passes an uncompressed one and refuses
// RSV1 on a continuation frame.
func TestDeflateDialExtensionsAndRead(t *testing.T) {
	z := NewCompressor(true, 15, 6)
	text := testInputs()["text"][:5000]
	p := z.Compress(text)
	script := AppendFrame(nil, false, RSV1, OpText, p[:10], false)
	script = AppendFrame(script, false, 0, OpContinuation, nil, false)
	script = AppendFrame(script, true, 0, OpContinuation, p[10:], false)
	script = AppendFrame(script, true, 0, OpBinary, []byte("plain"), false)
	script = AppendFrame(script, true, RSV1, OpText, z.Compress(text), false)
	script = AppendFrame(script, false, RSV1, OpText, p[:10], false)
	script = AppendFrame(script, true, RSV1, OpContinuation, p[10:], false)
	addr, got := extServer(t, []string{"permessage-deflate; server_max_window_bits=15"}, script)
	msg := run(t, func(tb testing.TB) {
		c, resp := DialExtensions(tb, addr, "/", "permessage-deflate; client_max_window_bits, permessage-deflate", "x-other")
		if len(resp) != 1 || resp[0] != "permessage-deflate; server_max_window_bits=15" {
			tb.Fatalf("response lines %q", resp)
		}
		d := NewDecompressor(true, 15)
		m := c.ReadDeflateMessage(d)
		if !m.Compressed || m.Opcode != OpText || len(m.Frames) != 3 || !bytes.Equal(m.Payload, text) {
			tb.Fatalf("first message: %v %d %d", m.Compressed, m.Opcode, len(m.Frames))
		}
		m = c.ReadDeflateMessage(d)
		if m.Compressed || m.Opcode != OpBinary || string(m.Payload) != "plain" {
			tb.Fatalf("second message: %+v", m)
		}
		m = c.ReadDeflateMessage(d)
		if !m.Compressed || !bytes.Equal(m.Payload, text) || len(m.Frames[0].Payload) > 100 {
			tb.Fatalf("third message: %v %d", m.Compressed, len(m.Frames[0].Payload))
		}
		c.ReadDeflateMessage(d)
	})
	if !strings.Contains(msg, "RSV1 on continuation") {
		t.Fatalf("failure %q", msg)
	}
	if lines := <-got; len(lines) != 2 || lines[0] != "permessage-deflate; client_max_window_bits, permessage-deflate" || lines[1] != "x-other" {
		t.Fatalf("request lines %q", lines)
	}
}
