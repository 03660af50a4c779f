package wsclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMain fails the run when goroutines started by the tests outlive them.
func TestMain(m *testing.M) {
	before := runtime.NumGoroutine()
	code := m.Run()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); code == 0 && n > before {
		buf := make([]byte, 1<<20)
		fmt.Fprintf(os.Stderr, "FAIL: %d goroutines before the tests, %d after:\n%s\n", before, n, buf[:runtime.Stack(buf, true)])
		code = 1
	}
	os.Exit(code)
}

// testCtx returns a context that ends with the test, or after 10 seconds.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// dial connects to url with o, failing the test on error; the connection
// is closed at the end of the test.
func dial(t *testing.T, url string, o *Options) (*Conn, *Response) {
	t.Helper()
	c, resp, err := Dial(testCtx(t), url, o)
	if err != nil {
		t.Fatalf("Dial %s: %v", url, err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c, resp
}

func receive(t *testing.T, c *Conn) (MessageType, []byte) {
	t.Helper()
	typ, p, err := c.Receive(testCtx(t))
	if err != nil {
		t.Fatalf("Receive: %v", err)
	}
	return typ, p
}

func payload(typ MessageType, n int, seed uint64) []byte {
	p := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{byte(seed), byte(n), byte(n >> 8), byte(n >> 16)}).Read(p)
	if typ == Text {
		for i, b := range p {
			p[i] = 'a' + b%26
		}
	}
	return p
}

// next returns the next message the server received, or fails the test.
func next(t *testing.T, ts *testServer) smsg {
	t.Helper()
	select {
	case m := <-ts.received:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("the server received nothing")
		return smsg{}
	}
}

func closeCode(p []byte) int {
	if len(p) < 2 {
		return NoStatus
	}
	return int(binary.BigEndian.Uint16(p))
}

func TestHandshake(t *testing.T) {
	ts := startServer(t, serverConfig{subprotocols: []string{"chat", "v2.json"}})
	c, resp := dial(t, ts.url+"/some/path?x=1&y=%20", &Options{
		Header: http.Header{
			"Origin":        {"http://example.com"},
			"Authorization": {"Bearer token"},
			"X-Two":         {"a", "b"},
		},
		Subprotocols: []string{"superchat", "chat"},
	})
	if c.Subprotocol() != "chat" || c.Compression() {
		t.Errorf("Subprotocol %q, Compression %v", c.Subprotocol(), c.Compression())
	}
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Protocol") != "chat" || resp.Body != nil {
		t.Errorf("response %+v", resp)
	}
	r := <-ts.reqs
	if k, err := base64.StdEncoding.DecodeString(r.Header.Get("Sec-WebSocket-Key")); err != nil || len(k) != 16 {
		t.Errorf("Sec-WebSocket-Key %q", r.Header.Get("Sec-WebSocket-Key"))
	}
	for field, want := range map[string]string{
		"Origin":                   "http://example.com",
		"Authorization":            "Bearer token",
		"Sec-WebSocket-Version":    "13",
		"Sec-WebSocket-Protocol":   "superchat, chat",
		"Sec-WebSocket-Extensions": "",
		"Upgrade":                  "websocket",
	} {
		if got := r.Header.Get(field); got != want {
			t.Errorf("request %s %q, want %q", field, got, want)
		}
	}
	if got := r.Header.Values("X-Two"); len(got) != 2 {
		t.Errorf("X-Two %q", got)
	}
	if r.RequestURI != "/some/path?x=1&y=%20" || r.Host != ts.hs.Listener.Addr().String() {
		t.Errorf("request URI %q host %q", r.RequestURI, r.Host)
	}

	// The default path is "/"; Host can be replaced.
	c2, _ := dial(t, ts.url, &Options{Header: http.Header{"host": {"example.com"}}})
	if r := <-ts.reqs; r.RequestURI != "/" || r.Host != "example.com" || c2.Subprotocol() != "" {
		t.Errorf("request URI %q host %q, subprotocol %q", r.RequestURI, r.Host, c2.Subprotocol())
	}

	// Offered, accepted, negotiated.
	ts2 := startServer(t, serverConfig{deflate: true})
	c3, resp := dial(t, ts2.url, &Options{Compression: true})
	if !c3.Compression() {
		t.Error("compression not negotiated")
	}
	if got := (<-ts2.reqs).Header.Get("Sec-WebSocket-Extensions"); got != "permessage-deflate; client_no_context_takeover; server_no_context_takeover" {
		t.Errorf("offer %q", got)
	}
	if got := resp.Header.Get("Sec-WebSocket-Extensions"); got != "permessage-deflate; client_no_context_takeover; server_no_context_takeover" {
		t.Errorf("response %q", got)
	}
	// Offered, declined.
	c4, _ := dial(t, ts.url, &Options{Compression: true})
	if c4.Compression() {
		t.Error("compression negotiated with a server without it")
	}
}

func TestHandshakeResponses(t *testing.T) {
	set := func(field, value string) func(*http.Request, http.Header) {
		return func(_ *http.Request, h http.Header) {
			if value == "" {
				h.Del(field)
			} else {
				h.Set(field, value)
			}
		}
	}
	const ext = "Sec-WebSocket-Extensions"
	for _, tc := range []struct {
		name       string
		cfg        serverConfig
		o          Options
		ok         bool
		compressed bool
	}{
		{name: "bad accept", cfg: serverConfig{header: set("Sec-WebSocket-Accept", "dGhlIHNhbXBsZSBub25jZQ==")}},
		{name: "no accept", cfg: serverConfig{header: set("Sec-WebSocket-Accept", "")}},
		{name: "two accepts", cfg: serverConfig{header: func(r *http.Request, h http.Header) {
			h.Add("Sec-WebSocket-Accept", h.Get("Sec-WebSocket-Accept"))
		}}},
		{name: "no upgrade", cfg: serverConfig{header: set("Upgrade", "")}},
		{name: "upgrade h2c", cfg: serverConfig{header: set("Upgrade", "h2c")}},
		{name: "no connection", cfg: serverConfig{header: set("Connection", "")}},
		{name: "connection keep-alive", cfg: serverConfig{header: set("Connection", "keep-alive")}},
		{name: "connection list", cfg: serverConfig{header: set("Connection", "keep-alive, UPGRADE")}, ok: true},
		{name: "upgrade case", cfg: serverConfig{header: set("Upgrade", "WebSocket")}, ok: true},
		{name: "subprotocol not offered", cfg: serverConfig{header: set("Sec-WebSocket-Protocol", "chat")}},
		{name: "other subprotocol", cfg: serverConfig{header: set("Sec-WebSocket-Protocol", "mqtt")}, o: Options{Subprotocols: []string{"chat"}}},
		{name: "subprotocol case", cfg: serverConfig{header: set("Sec-WebSocket-Protocol", "Chat")}, o: Options{Subprotocols: []string{"chat"}}},
		{name: "extension not offered", cfg: serverConfig{header: set(ext, "permessage-deflate")}},
		{name: "unknown extension", cfg: serverConfig{header: set(ext, "x-webkit-deflate-frame")}, o: Options{Compression: true}},
		{name: "deflate and unknown", cfg: serverConfig{header: set(ext, "permessage-deflate; server_no_context_takeover, x-foo")}, o: Options{Compression: true}},
		{name: "deflate twice", cfg: serverConfig{header: set(ext, "permessage-deflate; server_no_context_takeover, permessage-deflate; server_no_context_takeover")}, o: Options{Compression: true}},
		{name: "server_no_context_takeover declined", cfg: serverConfig{header: set(ext, "permessage-deflate; client_no_context_takeover")}, o: Options{Compression: true}},
		{name: "client_max_window_bits not offered", cfg: serverConfig{header: set(ext, "permessage-deflate; server_no_context_takeover; client_max_window_bits=10")}, o: Options{Compression: true}},
		{name: "unknown parameter", cfg: serverConfig{header: set(ext, "permessage-deflate; server_no_context_takeover; x=1")}, o: Options{Compression: true}},
		{name: "parameter twice", cfg: serverConfig{header: set(ext, "permessage-deflate; server_no_context_takeover; server_no_context_takeover")}, o: Options{Compression: true}},
		{name: "value on a flag", cfg: serverConfig{header: set(ext, "permessage-deflate; server_no_context_takeover=1")}, o: Options{Compression: true}},
		{name: "window 16", cfg: serverConfig{header: set(ext, "permessage-deflate; server_no_context_takeover; server_max_window_bits=16")}, o: Options{Compression: true}},
		{name: "window 7", cfg: serverConfig{header: set(ext, "permessage-deflate; server_no_context_takeover; server_max_window_bits=7")}, o: Options{Compression: true}},
		{name: "window 08", cfg: serverConfig{header: set(ext, "permessage-deflate; server_no_context_takeover; server_max_window_bits=08")}, o: Options{Compression: true}},
		{name: "window without value", cfg: serverConfig{header: set(ext, "permessage-deflate; server_no_context_takeover; server_max_window_bits")}, o: Options{Compression: true}},
		{name: "syntax", cfg: serverConfig{header: set(ext, "permessage-deflate; ; server_no_context_takeover")}, o: Options{Compression: true}},
		{name: "unterminated quote", cfg: serverConfig{header: set(ext, `permessage-deflate; server_no_context_takeover; server_max_window_bits="10`)}, o: Options{Compression: true}},
		{name: "window 10", cfg: serverConfig{deflate: true, header: set(ext, "permessage-deflate; server_no_context_takeover; server_max_window_bits=10")},
			o: Options{Compression: true}, ok: true, compressed: true},
		{name: "quoted window", cfg: serverConfig{deflate: true, header: set(ext, `permessage-deflate;server_no_context_takeover;server_max_window_bits="9"`)},
			o: Options{Compression: true}, ok: true, compressed: true},
		{name: "case and space", cfg: serverConfig{deflate: true, header: set(ext, " , Permessage-Deflate ;\tSERVER_NO_CONTEXT_TAKEOVER ; client_no_context_takeover , ")},
			o: Options{Compression: true}, ok: true, compressed: true},
		{name: "server_no_context_takeover unasked", cfg: serverConfig{deflate: true, header: set(ext, "permessage-deflate; server_no_context_takeover")},
			o: Options{Compression: true, ServerContextTakeover: true}, ok: true, compressed: true},
		{name: "context takeover", cfg: serverConfig{deflate: true, takeover: true},
			o: Options{Compression: true, ServerContextTakeover: true}, ok: true, compressed: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, tc.cfg)
			c, resp, err := Dial(testCtx(t), ts.url, &tc.o)
			if resp == nil || resp.StatusCode != 101 {
				t.Fatalf("response %+v", resp)
			}
			if !tc.ok {
				if err == nil || !errors.Is(err, ErrHandshake) || c != nil {
					t.Fatalf("Dial: %v, %v; want ErrHandshake", c, err)
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			defer c.CloseNow()
			if c.Compression() != tc.compressed {
				t.Fatalf("Compression %v", c.Compression())
			}
			for i := range 3 {
				want := bytes.Repeat([]byte(fmt.Sprintf("message %d ", i)), 100)
				if err := c.Send(Text, want); err != nil {
					t.Fatal(err)
				}
				if _, got := receive(t, c); !bytes.Equal(got, want) {
					t.Fatalf("echo %d: %q", i, got)
				}
			}
			if err := c.Close(1000, ""); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRefused(t *testing.T) {
	ts := startServer(t, serverConfig{refuse: func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case r.URL.Path == "/busy":
			w.Header().Set("Retry-After", "7")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		case r.Header.Get("Authorization") != "Bearer good":
			w.Header().Set("WWW-Authenticate", `Bearer realm="volley"`)
			http.Error(w, "who are you?", http.StatusUnauthorized)
		default:
			return false
		}
		return true
	}})
	c, resp, err := Dial(testCtx(t), ts.url+"/ws", nil)
	if c != nil || !errors.Is(err, ErrRefused) || resp == nil {
		t.Fatalf("Dial: %v, %+v, %v", c, resp, err)
	}
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Bearer realm="volley"` || string(resp.Body) != "who are you?\n" {
		t.Errorf("response %d %q %q", resp.StatusCode, resp.Header, resp.Body)
	}
	if !strings.Contains(err.Error(), "401 Unauthorized") {
		t.Errorf("error %q", err)
	}

	_, resp, err = Dial(testCtx(t), ts.url+"/busy", nil)
	if !errors.Is(err, ErrRefused) || resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" || string(resp.Body) != "slow down\n" {
		t.Errorf("busy: %v %+v", err, resp)
	}

	// A plain HTTP server: the body is cut at MaxResponseBody.
	hs := startServer(t, serverConfig{refuse: func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Content-Type", "text/html")
		w.Write(bytes.Repeat([]byte("x"), 2*MaxResponseBody))
		return true
	}})
	_, resp, err = Dial(testCtx(t), hs.url, nil)
	if !errors.Is(err, ErrRefused) || resp.StatusCode != 200 || len(resp.Body) != MaxResponseBody {
		t.Errorf("200: %v %d, body %d bytes", err, resp.StatusCode, len(resp.Body))
	}

	c, _ = dial(t, ts.url+"/ws", &Options{Header: http.Header{"Authorization": {"Bearer good"}}})
	if err := c.Close(1000, ""); err != nil {
		t.Fatal(err)
	}
}

func TestDialErrors(t *testing.T) {
	for _, tc := range []struct {
		url string
		o   Options
	}{
		{url: "http://127.0.0.1:1/"},
		{url: "wss://127.0.0.1:1/"},
		{url: "ws://127.0.0.1:1/#frag"},
		{url: "ws:///path"},
		{url: "ws://127.0.0.1:1/", o: Options{Header: http.Header{"Sec-Websocket-Protocol": {"x"}}}},
		{url: "ws://127.0.0.1:1/", o: Options{Header: http.Header{"Connection": {"close"}}}},
		{url: "ws://127.0.0.1:1/", o: Options{Header: http.Header{"sec-websocket-key": {"x"}}}},
		{url: "ws://127.0.0.1:1/", o: Options{Subprotocols: []string{"a b"}}},
		{url: "ws://127.0.0.1:1/", o: Options{Subprotocols: []string{""}}},
	} {
		if c, _, err := Dial(testCtx(t), tc.url, &tc.o); c != nil || err == nil {
			t.Errorf("Dial %s %+v: %v", tc.url, tc.o, err)
		}
	}

	// A server that accepts TCP but never answers: Timeout, then the
	// context, bound the handshake.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var conns []net.Conn
		for {
			nc, err := ln.Accept()
			if err != nil {
				break
			}
			conns = append(conns, nc)
		}
		for _, nc := range conns {
			nc.Close()
		}
	}()
	defer wg.Wait()
	defer ln.Close()
	url := "ws://" + ln.Addr().String()
	start := time.Now()
	_, _, err = Dial(context.Background(), url, &Options{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Errorf("silent server: %v after %v", err, time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	_, _, err = Dial(ctx, url, nil)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Errorf("cancelled: %v after %v", err, time.Since(start))
	}
}

var sizes = []int{0, 1, 125, 126, 127, 65535, 65536, 1 << 20}

func TestEcho(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compression=%v", compress), func(t *testing.T) {
			ts := startServer(t, serverConfig{deflate: true})
			c, _ := dial(t, ts.url, &Options{Compression: compress})
			for _, typ := range []MessageType{Text, Binary} {
				for _, n := range sizes {
					want := payload(typ, n, 1)
					if err := c.Send(typ, want); err != nil {
						t.Fatal(err)
					}
					if m := next(t, ts); m.compressed != compress || m.frames != 1 || !bytes.Equal(m.payload, want) {
						t.Fatalf("%v %d: the server received compressed=%v frames=%d equal=%v", typ, n, m.compressed, m.frames, bytes.Equal(m.payload, want))
					}
					gotType, got := receive(t, c)
					if gotType != typ || !bytes.Equal(got, want) || got == nil {
						t.Fatalf("%v %d: echo %v of %d bytes", typ, n, gotType, len(got))
					}
				}
			}
			if err := c.Close(1000, ""); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestFragmentation(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compression=%v", compress), func(t *testing.T) {
			ts := startServer(t, serverConfig{deflate: true, fragment: 1000})
			pings := 0
			c, _ := dial(t, ts.url, &Options{Compression: compress, OnPing: func([]byte) { pings++ }})

			// Client to server, with a ping between fragments.
			parts := []string{"héllo", "", " wor", strings.Repeat("l", 3000), "d"}
			for i, p := range parts {
				if err := c.SendFrame(Text, []byte(p), i == len(parts)-1); err != nil {
					t.Fatal(err)
				}
				if i == 1 {
					if err := c.SendPing([]byte("between")); err != nil {
						t.Fatal(err)
					}
					if err := c.Send(Text, []byte("x")); err == nil {
						t.Fatal("Send inside a fragmented message succeeded")
					}
				}
			}
			want := strings.Join(parts, "")
			if m := next(t, ts); m.frames != len(parts) || m.compressed != compress || string(m.payload) != want {
				t.Fatalf("the server received %d frames, compressed=%v, %q", m.frames, m.compressed, m.payload)
			}
			// Server to client: the echo comes in frames of 1000 bytes.
			if typ, got := receive(t, c); typ != Text || string(got) != want {
				t.Fatalf("echo %v %q", typ, got)
			}

			// A binary message of 5000 bytes comes back in several frames,
			// with a ping of the server between two of them.
			big := payload(Binary, 5000, 2)
			if err := c.Send(Binary, big); err != nil {
				t.Fatal(err)
			}
			if typ, got := receive(t, c); typ != Binary || !bytes.Equal(got, big) {
				t.Fatalf("echo %v of %d bytes", typ, len(got))
			}
			if err := c.SendFrame(Binary, nil, true); err != nil { // a one-frame message
				t.Fatal(err)
			}
			if typ, got := receive(t, c); typ != Binary || len(got) != 0 {
				t.Fatalf("echo %v %q", typ, got)
			}
			if pings != 0 {
				t.Fatalf("%d pings", pings)
			}
			if err := c.Close(1000, ""); err != nil {
				t.Fatal(err)
			}
		})
	}

	// The server interleaves a ping with the fragments of its message.
	pongs := make(chan string, 1)
	ts := startServer(t, serverConfig{handle: func(s *sconn) {
		b := appendServerFrame(nil, false, 0, 0x1, []byte("frag"))
		b = appendServerFrame(b, true, 0, 0x9, []byte("are you there"))
		b = appendServerFrame(b, false, 0, 0x0, []byte("men"))
		b = appendServerFrame(b, true, 0, 0x0, []byte("ted"))
		s.writeRaw(b)
		f, err := s.readFrame()
		if err != nil || f.op != 0xA {
			pongs <- fmt.Sprintf("%+v %v", f, err)
			return
		}
		pongs <- string(f.payload)
		s.echo(0)
	}})
	var gotPing []byte
	c, _ := dial(t, ts.url, &Options{OnPing: func(p []byte) { gotPing = bytes.Clone(p) }})
	if typ, got := receive(t, c); typ != Text || string(got) != "fragmented" || string(gotPing) != "are you there" {
		t.Fatalf("got %v %q, ping %q", typ, got, gotPing)
	}
	if p := <-pongs; p != "are you there" {
		t.Fatalf("pong %s", p)
	}
}

func TestPing(t *testing.T) {
	ts := startServer(t, serverConfig{})
	var pongs [][]byte
	c, _ := dial(t, ts.url, &Options{OnPong: func(p []byte) { pongs = append(pongs, bytes.Clone(p)) }})
	for _, p := range []string{"", "ping", strings.Repeat("p", 125)} {
		if err := c.SendPing([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SendPing(make([]byte, 126)); err == nil {
		t.Fatal("a ping of 126 bytes was sent")
	}
	if err := c.SendPong([]byte("unsolicited")); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(Text, []byte("after")); err != nil {
		t.Fatal(err)
	}
	if _, got := receive(t, c); string(got) != "after" {
		t.Fatalf("got %q", got)
	}
	if len(pongs) != 3 || len(pongs[0]) != 0 || string(pongs[1]) != "ping" || len(pongs[2]) != 125 {
		t.Fatalf("pongs %q", pongs)
	}
	select {
	case p := <-ts.pongs:
		if string(p) != "unsolicited" {
			t.Fatalf("the server got pong %q", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the server got no pong")
	}

	// Server pings are answered while Receive waits.
	answered := make(chan []byte, 2)
	ts2 := startServer(t, serverConfig{handle: func(s *sconn) {
		for _, p := range []string{"one", ""} {
			s.writeFrame(true, 0, 0x9, []byte(p))
			f, err := s.readFrame()
			if err != nil || f.op != 0xA {
				answered <- nil
				return
			}
			answered <- f.payload
		}
		s.writeFrame(true, 0, 0x1, []byte("done"))
		s.echo(0)
	}})
	var pings []string
	c2, _ := dial(t, ts2.url, &Options{OnPing: func(p []byte) { pings = append(pings, string(p)) }})
	if _, got := receive(t, c2); string(got) != "done" {
		t.Fatalf("got %q", got)
	}
	if a, b := <-answered, <-answered; string(a) != "one" || b == nil || len(b) != 0 {
		t.Fatalf("pongs %q %q", a, b)
	}
	if len(pings) != 2 || pings[0] != "one" || pings[1] != "" {
		t.Fatalf("OnPing saw %q", pings)
	}
}

func TestCloseByClient(t *testing.T) {
	ts := startServer(t, serverConfig{})
	c, _ := dial(t, ts.url, nil)
	if err := c.Close(4000, "bye"); err != nil {
		t.Fatal(err)
	}
	if m := next(t, ts); m.op != 0x8 || closeCode(m.payload) != 4000 || string(m.payload[2:]) != "bye" {
		t.Fatalf("the server got %+v", m)
	}
	if err := c.Send(Text, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	var ce *CloseError
	if _, _, err := c.Receive(testCtx(t)); !errors.As(err, &ce) || ce.Code != 4000 {
		t.Errorf("Receive after Close: %v", err)
	}
	if err := c.Close(1000, ""); !errors.Is(err, ErrClosed) {
		t.Errorf("Close after Close: %v", err)
	}
	if err := c.CloseNow(); err != nil {
		t.Errorf("CloseNow after Close: %v", err)
	}

	// SendClose, then Receive shows the server's answer, then Close waits
	// for the end of the TCP connection.
	c, _ = dial(t, ts.url, nil)
	if err := c.SendClose(NoStatus, ""); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(Text, nil); !errors.Is(err, ErrCloseSent) {
		t.Errorf("Send after SendClose: %v", err)
	}
	if err := c.SendPing(nil); !errors.Is(err, ErrCloseSent) {
		t.Errorf("SendPing after SendClose: %v", err)
	}
	if _, _, err := c.Receive(testCtx(t)); !errors.As(err, &ce) || ce.Code != NoStatus || ce.Reason != "" {
		t.Fatalf("Receive: %v", err)
	}
	if m := next(t, ts); m.op != 0x8 || len(m.payload) != 0 {
		t.Fatalf("the server got %+v", m)
	}
	if err := c.Close(1000, "ignored"); err != nil {
		t.Fatal(err)
	}

	// Messages in flight before the server's close are discarded by Close.
	c, _ = dial(t, ts.url, nil)
	for range 3 {
		c.Send(Binary, make([]byte, 100_000))
	}
	if err := c.Close(1001, "going"); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		code   int
		reason string
	}{{NoStatus, "x"}, {-1, ""}, {65536, ""}, {1000, strings.Repeat("r", 124)}} {
		if err := c.SendClose(tc.code, tc.reason); err == nil {
			t.Errorf("SendClose(%d, %d bytes) succeeded", tc.code, len(tc.reason))
		}
	}
}

func TestCloseByServer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload []byte
		want    CloseError
	}{
		{"code and reason", append([]byte{0x0f, 0xa1}, "done ✓"...), CloseError{4001, "done ✓"}},
		{"empty", nil, CloseError{NoStatus, ""}},
		{"1000", []byte{0x03, 0xe8}, CloseError{1000, ""}},
		{"1012", []byte{0x03, 0xf4}, CloseError{1012, ""}},
		{"1014", []byte{0x03, 0xf6}, CloseError{1014, ""}},
		{"3000", []byte{0x0b, 0xb8}, CloseError{3000, ""}},
		{"4999", []byte{0x13, 0x87}, CloseError{4999, ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			replies := make(chan []byte, 1)
			ts := startServer(t, serverConfig{handle: func(s *sconn) {
				s.writeFrame(true, 0, 0x1, []byte("last words"))
				s.writeFrame(true, 0, 0x8, tc.payload)
				f, err := s.readFrame()
				if err != nil || f.op != 0x8 {
					replies <- nil
					return
				}
				replies <- f.payload
				// Returning closes the TCP connection, as RFC 6455 has
				// the server do first.
			}})
			c, _ := dial(t, ts.url, nil)
			if _, got := receive(t, c); string(got) != "last words" {
				t.Fatalf("got %q", got)
			}
			for range 2 {
				var ce *CloseError
				if _, _, err := c.Receive(testCtx(t)); !errors.As(err, &ce) || *ce != tc.want {
					t.Fatalf("Receive: %v, want %+v", err, tc.want)
				}
			}
			want := tc.payload
			if len(want) > 2 {
				want = want[:2] // the code, without the reason
			}
			if reply := <-replies; reply == nil || !bytes.Equal(reply, want) {
				t.Fatalf("reply %x, want %x", reply, want)
			}
			if err := c.Send(Text, nil); !errors.Is(err, ErrCloseSent) {
				t.Errorf("Send after the close handshake: %v", err)
			}
			if err := c.Close(1000, ""); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestCloseConcurrentReceive(t *testing.T) {
	ts := startServer(t, serverConfig{})
	c, _ := dial(t, ts.url, nil)
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Receive(context.Background())
		done <- err
	}()
	time.Sleep(20 * time.Millisecond) // let Receive block
	if err := c.Close(4002, "from another goroutine"); err != nil {
		t.Fatal(err)
	}
	var ce *CloseError
	if err := <-done; !errors.As(err, &ce) || ce.Code != 4002 {
		t.Fatalf("Receive: %v", err)
	}
}

func TestCloseTimeouts(t *testing.T) {
	// A server that never answers the close: Close gives up after Timeout,
	// and a Receive blocked meanwhile ends too.
	ts := startServer(t, serverConfig{handle: func(s *sconn) { s.expectEOF() }})
	c, _ := dial(t, ts.url, &Options{Timeout: 100 * time.Millisecond})
	done := make(chan error, 1)
	go func() {
		_, _, err := c.Receive(context.Background())
		done <- err
	}()
	start := time.Now()
	if err := c.Close(1000, ""); err == nil || time.Since(start) > 2*time.Second {
		t.Fatalf("Close: %v after %v", err, time.Since(start))
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("Receive: %v", err)
	}

	// The same without a concurrent Receive.
	c, _ = dial(t, ts.url, &Options{Timeout: 100 * time.Millisecond})
	if err := c.Close(1000, ""); err == nil || !strings.Contains(err.Error(), "no close frame") {
		t.Fatalf("Close: %v", err)
	}

	// A server that answers the close but keeps the TCP connection.
	ts2 := startServer(t, serverConfig{handle: func(s *sconn) {
		if f, err := s.readFrame(); err == nil {
			s.writeFrame(true, 0, 0x8, f.payload)
		}
		s.expectEOF()
	}})
	c, _ = dial(t, ts2.url, &Options{Timeout: 100 * time.Millisecond})
	if err := c.Close(1000, ""); err == nil || !strings.Contains(err.Error(), "TCP") {
		t.Fatalf("Close: %v", err)
	}

	// A server that sends data after its close frame.
	ts3 := startServer(t, serverConfig{handle: func(s *sconn) {
		if f, err := s.readFrame(); err == nil {
			s.writeFrame(true, 0, 0x8, f.payload)
			s.writeFrame(true, 0, 0x1, []byte("more"))
		}
	}})
	c, _ = dial(t, ts3.url, nil)
	if err := c.Close(1000, ""); !errors.Is(err, ErrProtocol) {
		t.Fatalf("Close: %v", err)
	}
}

func TestReceiveContext(t *testing.T) {
	ts := startServer(t, serverConfig{handle: func(s *sconn) {
		// Each message received asks for a reply in two fragments, the
		// second one after a pause.
		for {
			m, err := s.readMessage()
			if err != nil || m.op == 0x8 {
				return
			}
			s.writeFrame(false, 0, 0x1, []byte("first half, "))
			time.Sleep(200 * time.Millisecond)
			s.writeFrame(true, 0, 0x0, []byte("second half"))
		}
	}})
	c, _ := dial(t, ts.url, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, _, err := c.Receive(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive with nothing to receive: %v", err)
	}
	if _, _, err := c.Receive(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive with an expired context: %v", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	if _, _, err := c.Receive(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Receive cancelled: %v", err)
	}

	// A timeout between two fragments keeps the first one.
	if err := c.Send(Text, []byte("go")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, _, err := c.Receive(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Receive between fragments: %v", err)
	}
	if _, got := receive(t, c); string(got) != "first half, second half" {
		t.Fatalf("got %q", got)
	}
}

func TestConnectionEnds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script []byte
		want   error
	}{
		{"between messages", appendServerFrame(nil, true, 0, 0x1, []byte("hi")), io.EOF},
		{"inside a header", []byte{0x81}, io.ErrUnexpectedEOF},
		{"inside a payload", []byte{0x81, 5, 'a'}, io.ErrUnexpectedEOF},
		{"inside a message", appendServerFrame(nil, false, 0, 0x1, []byte("hi")), io.ErrUnexpectedEOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t, serverConfig{handle: func(s *sconn) { s.writeRaw(tc.script) }})
			c, _ := dial(t, ts.url, nil)
			_, p, err := c.Receive(testCtx(t))
			if tc.want == io.EOF && err == nil {
				_, p, err = c.Receive(testCtx(t))
			}
			if !errors.Is(err, tc.want) || p != nil {
				t.Fatalf("Receive: %q %v, want %v", p, err, tc.want)
			}
			if _, _, err2 := c.Receive(testCtx(t)); err2 != err {
				t.Fatalf("second Receive: %v", err2)
			}
			if err := c.Close(1000, ""); err == nil {
				t.Fatal("Close after the end of the connection succeeded")
			}
		})
	}
}

// scriptServer returns a server that writes script, then reads frames
// until the client's close frame, reports its code (or the read error),
// answers it and ends the connection.
func scriptServer(t *testing.T, cfg serverConfig, script []byte) (*testServer, <-chan any) {
	ends := make(chan any, 1)
	cfg.handle = func(s *sconn) {
		if err := s.writeRaw(script); err != nil {
			ends <- err
			return
		}
		for {
			f, err := s.readFrame()
			if err != nil {
				ends <- err
				return
			}
			if f.op == 0x8 {
				ends <- closeCode(f.payload)
				s.writeFrame(true, 0, 0x8, f.payload)
				return
			}
		}
	}
	return startServer(t, cfg), ends
}

func TestProtocolErrors(t *testing.T) {
	frame := appendServerFrame
	long := func(b0 byte, ext ...byte) []byte {
		n := 0
		for _, e := range ext[1:] {
			n = n<<8 | int(e)
		}
		return append(append([]byte{b0}, ext...), make([]byte, n)...)
	}
	bad := []byte{0xff, 0xff, 0xff} // reserved block type
	for _, tc := range []struct {
		name    string
		script  []byte
		code    int
		deflate bool
		tooBig  bool
	}{
		{name: "masked", script: []byte{0x81, 0x82, 1, 2, 3, 4, 'h' ^ 1, 'i' ^ 2}, code: 1002},
		{name: "opcode 3", script: frame(nil, true, 0, 0x3, nil), code: 1002},
		{name: "opcode 7", script: frame(nil, true, 0, 0x7, nil), code: 1002},
		{name: "opcode 0xB", script: frame(nil, true, 0, 0xB, nil), code: 1002},
		{name: "opcode 0xF", script: frame(nil, true, 0, 0xF, nil), code: 1002},
		{name: "RSV1 without deflate", script: frame(nil, true, 4, 0x1, []byte("x")), code: 1002},
		{name: "RSV2", script: frame(nil, true, 2, 0x1, []byte("x")), code: 1002, deflate: true},
		{name: "RSV3", script: frame(nil, true, 1, 0x2, []byte("x")), code: 1002, deflate: true},
		{name: "RSV1 on a continuation", script: frame(frame(nil, false, 4, 0x1, []byte{0x4a, 0x04, 0x00}), true, 4, 0x0, []byte{0x00}), code: 1002, deflate: true},
		{name: "RSV1 on a ping", script: frame(nil, true, 4, 0x9, nil), code: 1002, deflate: true},
		{name: "fragmented ping", script: frame(nil, false, 0, 0x9, nil), code: 1002},
		{name: "fragmented close", script: frame(nil, false, 0, 0x8, nil), code: 1002},
		{name: "ping of 126 bytes", script: frame(nil, true, 0, 0x9, make([]byte, 126)), code: 1002},
		{name: "continuation first", script: frame(nil, true, 0, 0x0, []byte("x")), code: 1002},
		{name: "message inside a message", script: frame(frame(nil, false, 0, 0x1, []byte("a")), true, 0, 0x2, []byte("b")), code: 1002},
		{name: "length 5 in 16 bits", script: long(0x82, 126, 0, 5), code: 1002},
		{name: "length 125 in 16 bits", script: long(0x82, 126, 0, 125), code: 1002},
		{name: "length 200 in 64 bits", script: long(0x82, 127, 0, 0, 0, 0, 0, 0, 0, 200), code: 1002},
		{name: "length 0xffff in 64 bits", script: long(0x82, 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff), code: 1002},
		{name: "length with bit 63", script: []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, code: 1002},
		{name: "invalid UTF-8", script: frame(nil, true, 0, 0x1, []byte{'a', 0xff}), code: 1007},
		{name: "surrogate", script: frame(nil, true, 0, 0x1, []byte{0xed, 0xa0, 0x80}), code: 1007},
		{name: "overlong", script: frame(nil, true, 0, 0x1, []byte{0xc0, 0xaf}), code: 1007},
		{name: "truncated rune", script: frame(frame(nil, false, 0, 0x1, []byte("ok \xe2\x82")), true, 0, 0x0, nil), code: 1007},
		{name: "compressed invalid UTF-8", script: frame(nil, true, 4, 0x1, (&sconn{}).compress([]byte("ok \xff"))), code: 1007, deflate: true},
		{name: "bad compressed data", script: frame(nil, true, 4, 0x2, bad), code: 1007, deflate: true},
		{name: "close of one byte", script: frame(nil, true, 0, 0x8, []byte{3}), code: 1002},
		{name: "close 999", script: frame(nil, true, 0, 0x8, []byte{0x03, 0xe7}), code: 1002},
		{name: "close 1004", script: frame(nil, true, 0, 0x8, []byte{0x03, 0xec}), code: 1002},
		{name: "close 1005", script: frame(nil, true, 0, 0x8, []byte{0x03, 0xed}), code: 1002},
		{name: "close 1006", script: frame(nil, true, 0, 0x8, []byte{0x03, 0xee}), code: 1002},
		{name: "close 1015", script: frame(nil, true, 0, 0x8, []byte{0x03, 0xf7}), code: 1002},
		{name: "close 2999", script: frame(nil, true, 0, 0x8, []byte{0x0b, 0xb7}), code: 1002},
		{name: "close 5000", script: frame(nil, true, 0, 0x8, []byte{0x13, 0x88}), code: 1002},
		{name: "close reason not UTF-8", script: frame(nil, true, 0, 0x8, []byte{0x03, 0xe8, 0xff}), code: 1007},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, ends := scriptServer(t, serverConfig{deflate: tc.deflate}, tc.script)
			c, _ := dial(t, ts.url, &Options{Compression: tc.deflate})
			_, _, err := c.Receive(testCtx(t))
			if !errors.Is(err, ErrProtocol) {
				t.Fatalf("Receive: %v, want ErrProtocol", err)
			}
			t.Log(err)
			if end := <-ends; end != tc.code {
				t.Fatalf("the client closed with %v, want %d", end, tc.code)
			}
			if _, _, err2 := c.Receive(testCtx(t)); err2 != err {
				t.Fatalf("second Receive: %v", err2)
			}
			if err := c.Send(Text, nil); !errors.Is(err, ErrClosed) {
				t.Fatalf("Send after the failure: %v", err)
			}
		})
	}
}

func TestMessageLimit(t *testing.T) {
	const limit = 1000
	for _, tc := range []struct {
		name   string
		script []byte
		ok     bool
	}{
		{"at the limit", appendServerFrame(nil, true, 0, 0x2, make([]byte, limit)), true},
		{"over", appendServerFrame(nil, true, 0, 0x2, make([]byte, limit+1)), false},
		{"over in fragments", appendServerFrame(appendServerFrame(nil, false, 0, 0x2, make([]byte, 600)), true, 0, 0x0, make([]byte, 401)), false},
		{"huge length", []byte{0x82, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts, ends := scriptServer(t, serverConfig{}, tc.script)
			c, _ := dial(t, ts.url, &Options{MaxMessage: limit})
			_, p, err := c.Receive(testCtx(t))
			if tc.ok {
				if err != nil || len(p) != limit {
					t.Fatalf("Receive: %d bytes, %v", len(p), err)
				}
				return
			}
			if !errors.Is(err, ErrMessageTooBig) {
				t.Fatalf("Receive: %v, want ErrMessageTooBig", err)
			}
			if end := <-ends; end != 1009 {
				t.Fatalf("the client closed with %v, want 1009", end)
			}
		})
	}
}

func TestInflateLimit(t *testing.T) {
	const limit = 1 << 20
	compress := func(n int) []byte {
		s := &sconn{}
		return s.compress(make([]byte, n))
	}
	// The bomb: 256 MiB of zeros from 256 copies of the sync-flushed
	// compression of 1 MiB of zeros (a literal 0, then matches at distance
	// 1, valid after any output that ends with a 0).
	mib := append(compress(1<<20), 0, 0, 0xff, 0xff)
	bomb := bytes.TrimSuffix(bytes.Repeat(mib, 256), []byte{0, 0, 0xff, 0xff})
	for _, tc := range []struct {
		name string
		msg  []byte
		n    int // the inflated size
		ok   bool
	}{
		{"at the limit", compress(limit), limit, true},
		{"one byte over", compress(limit + 1), limit + 1, false},
		{"bomb", bomb, 256 << 20, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := tc.msg
			ts, ends := scriptServer(t, serverConfig{deflate: true}, appendServerFrame(nil, true, 4, 0x2, msg))
			c, _ := dial(t, ts.url, &Options{Compression: true, MaxMessage: limit})
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, p, err := c.Receive(testCtx(t))
			runtime.ReadMemStats(&after)
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
				t.Errorf("Receive of %d compressed bytes allocated %d bytes", len(msg), alloc)
			}
			if tc.ok {
				if err != nil || len(p) != tc.n {
					t.Fatalf("Receive: %d bytes, %v", len(p), err)
				}
				return
			}
			if !errors.Is(err, ErrMessageTooBig) {
				t.Fatalf("Receive: %v, want ErrMessageTooBig", err)
			}
			if end := <-ends; end != 1009 {
				t.Fatalf("the client closed with %v, want 1009", end)
			}
		})
	}

	// The compressed bytes count against the limit too.
	ts, ends := scriptServer(t, serverConfig{deflate: true}, appendServerFrame(nil, true, 4, 0x2, make([]byte, 2000)))
	c, _ := dial(t, ts.url, &Options{Compression: true, MaxMessage: 1000})
	if _, _, err := c.Receive(testCtx(t)); !errors.Is(err, ErrMessageTooBig) {
		t.Fatalf("Receive: %v, want ErrMessageTooBig", err)
	}
	<-ends
}

func TestServerContextTakeover(t *testing.T) {
	for _, takeover := range []bool{false, true} {
		t.Run(fmt.Sprintf("server takeover=%v", takeover), func(t *testing.T) {
			sizes := make(chan int, 100)
			ts := startServer(t, serverConfig{deflate: true, takeover: true, handle: func(s *sconn) {
				for {
					m, err := s.readMessage()
					if err != nil {
						return
					}
					if m.op == 0x8 {
						s.writeFrame(true, 0, 0x8, m.payload)
						return
					}
					z := s.compress(m.payload)
					sizes <- len(z)
					s.writeFrame(true, 4, m.op, z)
				}
			}})
			c, resp := dial(t, ts.url, &Options{Compression: true, ServerContextTakeover: takeover})
			if got := strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "server_no_context_takeover"); got == takeover {
				t.Fatalf("response %q", resp.Header.Get("Sec-WebSocket-Extensions"))
			}
			var first int
			for i := range 20 {
				// Messages longer than the window, then short ones that
				// repeat what is in it.
				n := 100
				if i < 2 {
					n = 40_000
				}
				want := payload(Text, n, 7)
				if err := c.Send(Text, want); err != nil {
					t.Fatal(err)
				}
				if _, got := receive(t, c); !bytes.Equal(got, want) {
					t.Fatalf("message %d: %d bytes, not equal", i, len(got))
				}
				if z := <-sizes; i == 2 {
					first = z
				} else if i > 2 && (z < first) != takeover {
					t.Fatalf("message %d: compressed to %d bytes, the first short one to %d", i, z, first)
				}
			}
			if err := c.Close(1000, ""); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestConcurrentSend(t *testing.T) {
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compression=%v", compress), func(t *testing.T) {
			ts := startServer(t, serverConfig{deflate: true})
			c, _ := dial(t, ts.url, &Options{Compression: compress})
			const senders, each = 8, 50
			var wg sync.WaitGroup
			for g := range senders {
				wg.Go(func() {
					for i := range each {
						msg := fmt.Appendf(nil, "%d/%d %s", g, i, strings.Repeat("x", (g*each+i)%3000))
						if err := c.Send(Text, msg); err != nil {
							t.Error(err)
							return
						}
						if i%10 == 0 {
							c.SendPing([]byte("p"))
						}
					}
				})
			}
			seen := map[string]bool{}
			for range senders * each {
				_, p := receive(t, c)
				key, _, _ := strings.Cut(string(p), " ")
				if seen[key] {
					t.Fatalf("%s twice", key)
				}
				seen[key] = true
			}
			wg.Wait()
			if err := c.Close(1000, ""); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestNoGoroutines checks that a Conn starts no goroutine: none is running
// with a creator in the package's non-test code while a connection is busy.
func TestNoGoroutines(t *testing.T) {
	ts := startServer(t, serverConfig{deflate: true})
	c, _ := dial(t, ts.url, &Options{Compression: true})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.Receive(ctx); err != nil {
				done <- err
				return
			}
		}
	}()
	for range 10 {
		c.Send(Binary, make([]byte, 10_000))
		c.SendPing(nil)
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	for _, g := range strings.Split(stacks, "\n\n") {
		_, creator, ok := strings.Cut(g, "\ncreated by ")
		if ok && strings.Contains(creator, "/internal/wsclient.") && !strings.Contains(creator, "_test.go:") {
			t.Errorf("a goroutine started by the client:\n%s", g)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Receive: %v", err)
	}
	if err := c.Close(1000, ""); err != nil {
		t.Fatal(err)
	}
}
