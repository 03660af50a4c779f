package wstest

import (
	"bufio"
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// recTB records the first Fatalf instead of failing the real test, and
// stops the calling goroutine like testing.T.Fatalf.
type recTB struct {
	testing.TB
	msg string
}

func (r *recTB) Helper() {}

func (r *recTB) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls fn with a recTB on its own goroutine and returns the fatal
// message, "" when fn succeeded.
func run(t *testing.T, fn func(tb testing.TB)) string {
	t.Helper()
	r := &recTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(r)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("client call did not return")
	}
	return r.msg
}

// fakeServer accepts one connection, answers the handshake (with a wrong
// accept key when badAccept), writes script, then closes the connection
// when closeAfter, or keeps it open until the test ends. It returns the
// address and a channel that yields what the client sent after the
// handshake (until the client closes).
func fakeServer(t *testing.T, badAccept bool, script []byte, closeAfter bool) (string, <-chan []byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	got := make(chan []byte, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(nc)
		req, err := http.ReadRequest(br)
		if err != nil {
			got <- nil
			return
		}
		sum := sha1.Sum([]byte(req.Header.Get("Sec-WebSocket-Key") + websocketGUID))
		accept := base64.StdEncoding.EncodeToString(sum[:])
		if badAccept {
			// Change the first character, whatever it is.
			first := byte('x')
			if accept[0] == first {
				first = 'y'
			}
			accept = string(first) + accept[1:]
		}
		resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + "\r\n\r\n"
		_, _ = nc.Write(append([]byte(resp), script...))
		if closeAfter {
			_ = nc.(*net.TCPConn).CloseWrite()
		}
		rest, _ := io.ReadAll(br)
		got <- rest
	}()
	return ln.Addr().String(), got
}

func TestDialChecksAccept(t *testing.T) {
	addr, _ := fakeServer(t, false, nil, true)
	if msg := run(t, func(tb testing.TB) { Dial(tb, addr, "/") }); msg != "" {
		t.Fatalf("good handshake failed: %s", msg)
	}
	addr, _ = fakeServer(t, true, nil, true)
	if msg := run(t, func(tb testing.TB) { Dial(tb, addr, "/") }); !strings.Contains(msg, "Sec-WebSocket-Accept") {
		t.Fatalf("bad accept key not reported: %q", msg)
	}
}

func TestReadFrameRejects(t *testing.T) {
	cases := []struct {
		name  string
		bytes []byte
		err   string
	}{
		{"masked", AppendFrame(nil, true, 0, OpText, []byte("hi"), true), "masked"},
		{"rsv", AppendFrame(nil, true, RSV1, OpText, []byte("hi"), false), "RSV"},
		{"opcode", AppendFrame(nil, true, 0, 0x3, nil, false), "opcode"},
		{"non-minimal-16", append(AppendRawHeader(nil, true, 0, OpText, 126, []byte{0, 5}, false), "hello"...), "minimal"},
		{"non-minimal-64", AppendRawHeader(nil, true, 0, OpText, 127, []byte{0, 0, 0, 0, 0, 0, 0, 5}, false), "64 bits"},
		{"control-fragmented", AppendFrame(nil, false, 0, OpPing, nil, false), "control"},
		{"eof", nil, "EOF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, _ := fakeServer(t, false, tc.bytes, true)
			var err error
			if msg := run(t, func(tb testing.TB) { _, err = Dial(tb, addr, "/").ReadFrame() }); msg != "" {
				t.Fatal(msg)
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.err)
			}
		})
	}
}

func TestReadFrameDecodes(t *testing.T) {
	big := bytes.Repeat([]byte("z"), 70000)
	script := AppendFrame(nil, false, 0, OpBinary, []byte{1, 2}, false)
	script = AppendFrame(script, true, 0, OpContinuation, big, false)
	script = AppendFrame(script, true, 0, OpPong, []byte("p"), false)
	addr, _ := fakeServer(t, false, script, true)
	msg := run(t, func(tb testing.TB) {
		c := Dial(tb, addr, "/")
		op, p := c.ReadMessage()
		if op != OpBinary || !bytes.Equal(p, append([]byte{1, 2}, big...)) {
			tb.Fatalf("message op %d len %d", op, len(p))
		}
		f := c.MustReadFrame()
		if f.Opcode != OpPong || string(f.Payload) != "p" || !f.Fin {
			tb.Fatalf("pong %v", f)
		}
		c.ExpectTCPClosed(time.Second)
	})
	if msg != "" {
		t.Fatal(msg)
	}
}

func TestExpectClose(t *testing.T) {
	closeFrame := func(p []byte) []byte { return AppendFrame(nil, true, 0, OpClose, p, false) }
	cases := []struct {
		name   string
		script []byte
		code   int
		fail   string // substring of the failure, "" for success
	}{
		{"match", closeFrame(ClosePayload(1002, "bad")), 1002, ""},
		{"empty-match", closeFrame(nil), NoStatus, ""},
		{"wrong-code", closeFrame(ClosePayload(1000, "")), 1002, "close code 1000"},
		{"empty-but-code-wanted", closeFrame(nil), 1000, "close code 1005"},
		{"code-but-empty-wanted", closeFrame(ClosePayload(1000, "")), NoStatus, "want empty"},
		{"one-byte", closeFrame([]byte{3}), 1002, "one byte"},
		{"bad-reason", closeFrame(ClosePayload(1002, "\xff")), 1002, "UTF-8"},
		{"no-close", AppendFrame(nil, true, 0, OpText, []byte("x"), false), 1002, "EOF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr, _ := fakeServer(t, false, tc.script, true)
			msg := run(t, func(tb testing.TB) { Dial(tb, addr, "/").ExpectClose(tc.code) })
			if tc.fail == "" && msg != "" || !strings.Contains(msg, tc.fail) {
				t.Fatalf("failure %q, want %q", msg, tc.fail)
			}
		})
	}
	t.Run("frames-before", func(t *testing.T) {
		script := AppendFrame(nil, true, 0, OpText, []byte("a"), false)
		script = append(script, closeFrame(ClosePayload(1000, ""))...)
		addr, _ := fakeServer(t, false, script, true)
		var before []Frame
		if msg := run(t, func(tb testing.TB) { before = Dial(tb, addr, "/").ExpectClose(1000) }); msg != "" {
			t.Fatal(msg)
		}
		if len(before) != 1 || string(before[0].Payload) != "a" {
			t.Fatalf("before = %v", before)
		}
	})
}

func TestExpectTCPClosed(t *testing.T) {
	t.Run("closed", func(t *testing.T) {
		addr, _ := fakeServer(t, false, nil, true)
		if msg := run(t, func(tb testing.TB) { Dial(tb, addr, "/").ExpectTCPClosed(time.Second) }); msg != "" {
			t.Fatal(msg)
		}
	})
	t.Run("extra-bytes", func(t *testing.T) {
		addr, _ := fakeServer(t, false, []byte{0x81, 0x00}, true)
		if msg := run(t, func(tb testing.TB) { Dial(tb, addr, "/").ExpectTCPClosed(time.Second) }); !strings.Contains(msg, "unexpected bytes") {
			t.Fatalf("failure %q", msg)
		}
	})
	t.Run("left-open", func(t *testing.T) {
		addr, _ := fakeServer(t, false, nil, false)
		var c *Conn
		msg := run(t, func(tb testing.TB) {
			c = Dial(tb, addr, "/")
			c.ExpectTCPClosed(100 * time.Millisecond)
		})
		if !strings.Contains(msg, "did not end") {
			t.Fatalf("failure %q", msg)
		}
		c.Close()
	})
}

func TestWritesReachServer(t *testing.T) {
	addr, got := fakeServer(t, false, nil, false)
	payload := bytes.Repeat([]byte("0123456789"), 30)
	var want []byte
	msg := run(t, func(tb testing.TB) {
		c := Dial(tb, addr, "/")
		frame := AppendFrame(nil, true, RSV2, OpBinary, payload, true)
		want = append(want, frame...)
		c.WriteChunks(frame, 1, 3, 8, 100)
		small := AppendFrame(nil, true, 0, OpText, []byte("abc"), false)
		want = append(want, small...)
		c.WriteChunks(small)
		c.Close()
	})
	if msg != "" {
		t.Fatal(msg)
	}
	if rest := <-got; !bytes.Equal(rest, want) {
		t.Fatalf("server got %d bytes, want %d", len(rest), len(want))
	}
}

func TestAppendFrameEncoding(t *testing.T) {
	cases := []struct {
		n    int
		head []byte // expected header without the mask key
	}{
		{0, []byte{0x82, 0x80}},
		{125, []byte{0x82, 0x80 | 125}},
		{126, []byte{0x82, 0x80 | 126, 0, 126}},
		{65535, []byte{0x82, 0x80 | 126, 0xff, 0xff}},
		{65536, []byte{0x82, 0x80 | 127, 0, 0, 0, 0, 0, 1, 0, 0}},
	}
	for _, tc := range cases {
		p := bytes.Repeat([]byte{0xa5}, tc.n)
		f := AppendFrame(nil, true, 0, OpBinary, p, true)
		if !bytes.HasPrefix(f, tc.head) || len(f) != len(tc.head)+4+tc.n {
			t.Fatalf("n=%d: header %x", tc.n, f[:min(len(f), 14)])
		}
		key := [4]byte(f[len(tc.head) : len(tc.head)+4])
		body := f[len(tc.head)+4:]
		for i := range body {
			if body[i]^key[i%4] != 0xa5 {
				t.Fatalf("n=%d: byte %d badly masked", tc.n, i)
			}
		}
		if !bytes.Equal(p, bytes.Repeat([]byte{0xa5}, tc.n)) {
			t.Fatalf("n=%d: payload modified", tc.n)
		}
	}
	if f := AppendFrame(nil, false, RSV1|RSV3, 0xB, []byte("x"), false); !bytes.Equal(f, []byte{0x5B, 0x01, 'x'}) {
		t.Fatalf("flags: %x", f)
	}
}

func TestMaskBytesMatchesNaive(t *testing.T) {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	for n := range 40 {
		for off := range 8 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(i * 13)
			}
			want := bytes.Clone(b)
			for i := range want {
				want[i] ^= key[(off+i)%4]
			}
			MaskBytes(b, key, off)
			if !bytes.Equal(b, want) {
				t.Fatalf("n=%d off=%d: %x, want %x", n, off, b, want)
			}
		}
	}
}
