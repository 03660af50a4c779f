package main

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"github.com/volley-ws/volley/codec"
	"io"
	"strings"
	"testing"
	"time"
)

// unframe parses one masked client frame with codec: first byte,
// unmasked payload, the frame's length.
func unframe(t *testing.T, b []byte) (byte, []byte, int) {
	t.Helper()
	h, n, err := codec.ParseHeader(b)
	if err != nil || !h.Masked {
		t.Fatalf("client frame (% x): masked %v, %v", b[:min(len(b), 14)], h.Masked, err)
	}
	p := append([]byte(nil), b[n:n+int(h.Length)]...)
	codec.Mask(p, h.Mask, 0)
	return b[0], p, n + len(p)
}

func TestAppendFrame(t *testing.T) {
	mask := [4]byte{0x11, 0x22, 0x33, 0x44}
	for _, tc := range []struct{ n, hdr int }{{0, 6}, {1, 6}, {125, 6}, {126, 8}, {65535, 8}, {65536, 14}, {1 << 20, 14}} {
		p := fillPayload(tc.n)
		f := appendFrame([]byte("x"), finBit|opBinary, p, mask)[1:]
		if len(f) != tc.hdr+tc.n {
			t.Fatalf("%d bytes: frame of %d, want header %d", tc.n, len(f), tc.hdr)
		}
		b0, got, n := unframe(t, f)
		if b0 != finBit|opBinary || !bytes.Equal(got, p) || n != len(f) {
			t.Fatalf("%d bytes: round trip failed (b0 %#x)", tc.n, b0)
		}
	}
	// a ping fills exactly the 125 bytes a control frame may carry
	ping := appendFrame(nil, finBit|opPing, fillPayload(125), mask)
	if len(ping) != 131 || ping[1] != maskBit|125 {
		t.Fatalf("ping frame: %d bytes, second byte %#x", len(ping), ping[1])
	}
	// repeated frames stay whole
	buf := repeatFrames(ping, 64<<10)
	if len(buf)%len(ping) != 0 || len(buf) < 64<<10 {
		t.Fatalf("repeatFrames: %d bytes", len(buf))
	}
	cf := appendFrame(nil, finBit|opClose, closePayload(1000, "bye"), mask)
	if _, p, _ := unframe(t, cf); binary.BigEndian.Uint16(p) != 1000 || string(p[2:]) != "bye" {
		t.Fatalf("close payload % x", p)
	}
}

// inflate undoes deflateBomb as a permessage-deflate receiver does:
// append 00 00 ff ff and inflate. It returns the size and whether every
// byte was zero.
func inflate(t *testing.T, p []byte) (int64, bool) {
	t.Helper()
	r := flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader(deflateTail)))
	buf := make([]byte, 64<<10)
	var n int64
	zero := true
	for {
		k, err := r.Read(buf)
		for _, c := range buf[:k] {
			if c != 0 {
				zero = false
			}
		}
		n += int64(k)
		if err != nil {
			// no final block: the stream ends after the sync marker
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatal(err)
			}
			return n, zero
		}
	}
}

func TestDeflateBomb(t *testing.T) {
	sizes := []int64{1, 4096, 16<<20 - 4096, 32 << 20}
	if testing.Short() {
		sizes = sizes[:2]
	}
	for _, n := range sizes {
		p, err := deflateBomb(n, 9)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasSuffix(p, deflateTail) {
			t.Fatalf("%d: trailing 00 00 ff ff not removed", n)
		}
		got, zero := inflate(t, p)
		if got != n || !zero {
			t.Fatalf("bomb of %d bytes inflates to %d (all zeros %v)", n, got, zero)
		}
		if n >= 1<<20 && int64(len(p)) > n/900 {
			t.Fatalf("bomb of %d bytes is %d bytes compressed: ratio below 900", n, len(p))
		}
		t.Logf("%d bytes of zeros: %d bytes compressed", n, len(p))
	}
}

// serverFrame is an unmasked server frame.
func serverFrame(b0 byte, p []byte) []byte {
	f := appendFrame(nil, b0, p, [4]byte{})
	// drop the mask bit and the (zero) key
	h := 2
	switch f[1] & 0x7F {
	case 126:
		h = 4
	case 127:
		h = 10
	}
	f[1] &^= maskBit
	return append(f[:h:h], f[h+4:]...)
}

func TestFrameScanner(t *testing.T) {
	var stream []byte
	stream = append(stream, serverFrame(opText, []byte("frag"))...)
	stream = append(stream, serverFrame(opPing, []byte("p"))...)
	stream = append(stream, serverFrame(finBit|opContinuation, []byte("ment"))...)
	stream = append(stream, serverFrame(finBit|rsv1Bit|opBinary, make([]byte, 70000))...)
	stream = append(stream, serverFrame(finBit|opClose, closePayload(1009, "too big"))...)
	stream = append(stream, "trailing bytes are not read"...)
	for _, chunk := range []int{1, 3, 7, 4096, len(stream)} {
		var s frameScanner
		used := 0
		for b := stream; len(b) > 0 && !s.closed; {
			k := min(chunk, len(b))
			used += s.feed(b[:k])
			b = b[k:]
		}
		if !s.closed || s.code != 1009 || s.msgs != 2 || s.pings != 1 || s.dataBytes != 8+70000 || s.bad != "" {
			t.Fatalf("chunks of %d: closed %v code %d msgs %d pings %d data %d bad %q",
				chunk, s.closed, s.code, s.msgs, s.pings, s.dataBytes, s.bad)
		}
		if want := len(stream) - len("trailing bytes are not read"); used != want {
			t.Fatalf("chunks of %d: used %d bytes, want %d", chunk, used, want)
		}
	}
	var s frameScanner
	s.feed(serverFrame(finBit|opClose, nil))
	if !s.closed || s.code != 1005 {
		t.Fatalf("empty close: closed %v code %d", s.closed, s.code)
	}
}

func TestHTTPScanner(t *testing.T) {
	resp := "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot found"
	last := "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
	stream := []byte(strings.Repeat(resp, 50) + last)
	for _, chunk := range []int{1, 2, 5, 64, len(stream)} {
		var s httpScanner
		for b := stream; len(b) > 0; {
			k := min(chunk, len(b))
			s.feed(b[:k])
			b = b[k:]
		}
		if s.responses != 51 || s.statuses[404] != 50 || s.statuses[400] != 1 || s.stopped != "" {
			t.Fatalf("chunks of %d: %d responses %v (%s)", chunk, s.responses, s.statuses, s.stopped)
		}
	}
}

func TestParseAnswer(t *testing.T) {
	key := "dGhlIHNhbXBsZSBub25jZQ=="
	head := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
		"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover"
	a, err := parseAnswer(head, key)
	if err != nil || a.status != 101 || !deflateAccepted(a.ext) {
		t.Fatalf("101: %+v %v", a, err)
	}
	if _, err := parseAnswer(strings.Replace(head, "s3pP", "AAAA", 1), key); err == nil {
		t.Fatal("wrong accept key taken")
	}
	a, err = parseAnswer("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0", key)
	if err != nil || a.status != 503 {
		t.Fatalf("503: %+v %v", a, err)
	}
	if deflateAccepted("x-webkit-deflate-frame") || deflateAccepted("") {
		t.Fatal("deflateAccepted accepts another extension")
	}
}

func TestParseTCPLine(t *testing.T) {
	line := "  12: 0100007F:5209 0100007F:D431 01 00000010:00020000 00:00000000 00000000     0        0 123456 1 0000000000000000 20 4 30 10 -1"
	e, ok := parseTCPLine(line)
	if !ok || e.local != 0x5209 || e.remote != 0xD431 || e.state != 1 || e.inode != 123456 || e.txQueue != 16 || e.rxQueue != 128<<10 {
		t.Fatalf("%+v %v", e, ok)
	}
	line6 := "   0: 00000000000000000000000001000000:5209 00000000000000000000000001000000:D431 04 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 20 4 30 10 -1"
	if e, ok := parseTCPLine(line6); !ok || e.local != 0x5209 || e.remote != 0xD431 || e.state != 4 || e.inode != 0 {
		t.Fatalf("tcp6: %+v %v", e, ok)
	}
	if _, ok := parseTCPLine("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"); ok {
		t.Fatal("header line parsed")
	}
}

func TestQuantiles(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	q := quantilesOf(ds)
	if q.N != 100 || q.P50 != 50 || q.P99 != 99 || q.Max != 100 {
		t.Fatalf("%+v", q)
	}
	if quantilesOf(nil) != nil {
		t.Fatal("quantiles of nothing")
	}
}

func TestParseFlags(t *testing.T) {
	c, err := parseFlags([]string{"pipeline", "-addr", "127.0.0.1:9"})
	if err != nil || c.path != "/nope" || c.conns != 1 {
		t.Fatalf("pipeline: %+v %v", c, err)
	}
	c, err = parseFlags([]string{"-scenario", "bomb", "-under", "-addr", "[::1]:9"})
	if err != nil || c.inflate != 16<<20-4096 || c.conns != 200 || c.wait != 20*time.Second {
		t.Fatalf("bomb -under: %+v %v", c, err)
	}
	c, err = parseFlags([]string{"noread", "-conns", "7", "-path", "/x"})
	if err != nil || c.conns != 7 || c.path != "/x" || c.size != 4096 {
		t.Fatalf("noread: %+v %v", c, err)
	}
	for _, bad := range [][]string{
		{"noread", "-addr", "10.0.0.1:80"},
		{"noread", "-addr", "localhost:80"},
		{"nosuch"},
		{"many", "-conns", "100000"},
	} {
		if _, err := parseFlags(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}
