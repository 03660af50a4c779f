package engine_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wsclient"
	"github.com/volley-ws/volley/upgrade"
)

// apiHTTPServer serves the interop echo routes (blocking and event API),
// /hello (answers "hello <n>" from the query) and /body (echoes the body).
func apiHTTPServer(t *testing.T, cfg engine.Config) *icServer {
	t.Helper()
	return icStart(t, cfg, func(srv *engine.Server) {
		srv.HandleFunc(icEchoPath, func(ctx *upgrade.Context) {
			up := ctx.Upgrader()
			if up == nil {
				ctx.SetStatusCode(http.StatusBadRequest)
				ctx.WriteString("websocket endpoint")
				return
			}
			w, err := up.Upgrade()
			if err != nil {
				return
			}
			for {
				msg, err := w.Receive()
				if err != nil {
					return
				}
				w.Send(msg.Type, msg.Data)
			}
		})
		srv.HandleEvents(icEventsPath, icEventEcho{closed: make(chan icCloseInfo, 64)})
		srv.HandleFunc("/hello", func(ctx *upgrade.Context) {
			ctx.SetHeader("Content-Type", "text/plain")
			ctx.WriteString("hello " + ctx.Query().Get("n"))
		})
		srv.HandleFunc("/body", func(ctx *upgrade.Context) {
			ctx.SetHeader("X-Method", ctx.Method())
			ctx.Write(ctx.Body())
		})
	})
}

// apiHTTPConn is a raw HTTP/1.1 client connection.
type apiHTTPConn struct {
	c  net.Conn
	br *bufio.Reader
}

func apiDialHTTP(t *testing.T, addr string) *apiHTTPConn {
	t.Helper()
	c := apiDialTCP(t, addr, 0)
	return &apiHTTPConn{c: c, br: bufio.NewReader(c)}
}

func (h *apiHTTPConn) send(t *testing.T, raw string) {
	t.Helper()
	if _, err := io.WriteString(h.c, raw); err != nil {
		t.Fatalf("write request: %v", err)
	}
}

// read reads one response and its body.
func (h *apiHTTPConn) read(t *testing.T) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(h.br, nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, string(body)
}

// expectClosed checks that the server closes the connection with no more
// bytes.
func (h *apiHTTPConn) expectClosed(t *testing.T) {
	t.Helper()
	icExpectEOF(t, h.c, h.br)
}

// apiGet is a minimal GET request.
func apiGet(addr, path string, extra ...string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\n" + strings.Join(extra, "") + "\r\n"
}

// TestAPIHTTPHeaderTooLarge: a request head over MaxHandshakeBytes gets
// 431 and the connection is closed; one under it is served.
func TestAPIHTTPHeaderTooLarge(t *testing.T) {
	s := apiHTTPServer(t, engine.Config{MaxHandshakeBytes: 1024})
	h := apiDialHTTP(t, s.addr)
	h.send(t, apiGet(s.addr, "/hello?n=1", "X-Pad: "+strings.Repeat("p", 800)+"\r\n"))
	if resp, body := h.read(t); resp.StatusCode != 200 || body != "hello 1" {
		t.Fatalf("request under the limit: %s %q", resp.Status, body)
	}
	h.send(t, apiGet(s.addr, "/hello", "X-Pad: "+strings.Repeat("p", 2000)+"\r\n"))
	if resp, _ := h.read(t); resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("request over the limit: %s, want 431", resp.Status)
	}
	h.expectClosed(t)
}

// TestAPIHTTPBadHandshakes: invalid handshakes get the status RFC 6455
// asks for, through a handler's Upgrade and through an event route alike.
func TestAPIHTTPBadHandshakes(t *testing.T) {
	s := apiHTTPServer(t, engine.Config{})
	const (
		upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n"
		key     = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		v13     = "Sec-WebSocket-Version: 13\r\n"
	)
	cases := []struct {
		name    string
		method  string
		headers string
		status  int
		header  string // name: value the response must carry
	}{
		{"valid", "GET", upgrade + key + v13, 101, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
		{"missing key", "GET", upgrade + v13, 400, ""},
		{"bad key", "GET", upgrade + "Sec-WebSocket-Key: abc\r\n" + v13, 400, ""},
		{"key of 15 bytes", "GET", upgrade + "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA\r\n" + v13, 400, ""},
		{"version 8", "GET", upgrade + key + "Sec-WebSocket-Version: 8\r\n", 426, "Sec-WebSocket-Version: 13"},
		{"no version", "GET", upgrade + key, 426, "Sec-WebSocket-Version: 13"},
		{"no Connection: Upgrade", "GET", "Upgrade: websocket\r\n" + key + v13, 400, ""},
		{"POST", "POST", upgrade + key + v13 + "Content-Length: 0\r\n", 405, "Allow: GET"},
		{"cross-origin", "GET", upgrade + key + v13 + "Origin: http://evil.example\r\n", 403, ""},
		{"same origin", "GET", upgrade + key + v13 + "Origin: http://{host}\r\n", 101, ""},
	}
	for _, path := range []string{icEchoPath, icEventsPath} {
		for _, tc := range cases {
			t.Run(path[1:]+"/"+tc.name, func(t *testing.T) {
				h := apiDialHTTP(t, s.addr)
				headers := strings.ReplaceAll(tc.headers, "{host}", s.addr)
				h.send(t, tc.method+" "+path+" HTTP/1.1\r\nHost: "+s.addr+"\r\n"+headers+"\r\n")
				resp, err := http.ReadResponse(h.br, nil)
				if err != nil {
					t.Fatalf("read response: %v", err)
				}
				resp.Body.Close()
				if resp.StatusCode != tc.status {
					t.Fatalf("status %s, want %d", resp.Status, tc.status)
				}
				if tc.header != "" {
					name, value, _ := strings.Cut(tc.header, ": ")
					if got := resp.Header.Get(name); got != value {
						t.Fatalf("%s: %q, want %q", name, got, value)
					}
				}
			})
		}
	}
}

// TestAPIHTTPNotFound: an unknown path is answered 404 and the connection
// stays usable.
func TestAPIHTTPNotFound(t *testing.T) {
	s := apiHTTPServer(t, engine.Config{})
	h := apiDialHTTP(t, s.addr)
	h.send(t, apiGet(s.addr, "/nope"))
	if resp, _ := h.read(t); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status %s, want 404", resp.Status)
	}
	h.send(t, apiGet(s.addr, "/echo/"))
	if resp, _ := h.read(t); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("/echo/: status %s, want 404 (exact-path routing)", resp.Status)
	}
	h.send(t, apiGet(s.addr, "/hello?n=2"))
	if resp, body := h.read(t); resp.StatusCode != 200 || body != "hello 2" {
		t.Fatalf("after the 404s: %s %q", resp.Status, body)
	}
}

// TestAPIHTTPKeepAlive: requests on one connection, one after the other,
// are all answered.
func TestAPIHTTPKeepAlive(t *testing.T) {
	s := apiHTTPServer(t, engine.Config{})
	h := apiDialHTTP(t, s.addr)
	for i := range 3 {
		n := strconv.Itoa(i)
		h.send(t, apiGet(s.addr, "/hello?n="+n))
		resp, body := h.read(t)
		if resp.StatusCode != 200 || body != "hello "+n || resp.Close {
			t.Fatalf("request %d: %s %q close=%v", i, resp.Status, body, resp.Close)
		}
		if resp.Header.Get("Content-Type") != "text/plain" {
			t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
		}
	}
}

// TestAPIHTTPPipelined: requests sent at once are answered in order, the
// loop's own answers (404) included.
func TestAPIHTTPPipelined(t *testing.T) {
	s := apiHTTPServer(t, engine.Config{})
	h := apiDialHTTP(t, s.addr)
	h.send(t, apiGet(s.addr, "/hello?n=1")+apiGet(s.addr, "/nope")+apiGet(s.addr, "/hello?n=3")+
		"POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nfour"+apiGet(s.addr, "/hello?n=5"))
	want := []struct {
		status int
		body   string
	}{{200, "hello 1"}, {404, ""}, {200, "hello 3"}, {200, "four"}, {200, "hello 5"}}
	for i, w := range want {
		resp, body := h.read(t)
		if resp.StatusCode != w.status || (w.body != "" && body != w.body) {
			t.Fatalf("response %d: %s %q, want %d %q", i, resp.Status, body, w.status, w.body)
		}
	}
}

// TestAPIHTTPConnectionClose: "Connection: close" (and HTTP/1.0 without
// keep-alive) ends the connection after the response.
func TestAPIHTTPConnectionClose(t *testing.T) {
	s := apiHTTPServer(t, engine.Config{})
	for _, req := range []string{
		apiGet(s.addr, "/hello?n=1", "Connection: close\r\n"),
		"GET /hello?n=1 HTTP/1.0\r\n\r\n",
		apiGet(s.addr, "/nope", "Connection: close\r\n"),
	} {
		h := apiDialHTTP(t, s.addr)
		h.send(t, req)
		resp, _ := h.read(t)
		if resp.StatusCode != 200 && resp.StatusCode != 404 {
			t.Fatalf("%q: %s", req, resp.Status)
		}
		h.expectClosed(t)
	}
}

// TestAPIHTTPBody: a Content-Length body reaches the handler whole, also
// when it arrives in pieces.
func TestAPIHTTPBody(t *testing.T) {
	s := apiHTTPServer(t, engine.Config{})
	h := apiDialHTTP(t, s.addr)
	body := strings.Repeat("0123456789", 1000)
	h.send(t, "PUT /body HTTP/1.1\r\nHost: x\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body[:10])
	time.Sleep(30 * time.Millisecond)
	h.send(t, body[10:5000])
	time.Sleep(30 * time.Millisecond)
	h.send(t, body[5000:])
	resp, got := h.read(t)
	if resp.StatusCode != 200 || got != body || resp.Header.Get("X-Method") != "PUT" {
		t.Fatalf("%s, %d bytes echoed (equal %v), method %q", resp.Status, len(got), got == body, resp.Header.Get("X-Method"))
	}
	h.send(t, "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
	if resp, got := h.read(t); resp.StatusCode != 200 || got != "" {
		t.Fatalf("empty body: %s %q", resp.Status, got)
	}
}

// TestAPIHTTPRejectedBodies: a body over MaxRequestBody gets 413, a chunked
// one 501; the connection is closed after either.
func TestAPIHTTPRejectedBodies(t *testing.T) {
	s := apiHTTPServer(t, engine.Config{MaxRequestBody: 1024})
	cases := []struct {
		name, req string
		status    int
	}{
		{"too large", "POST /body HTTP/1.1\r\nHost: x\r\nContent-Length: 2048\r\n\r\n" + strings.Repeat("b", 2048), 413},
		{"chunked", "POST /body HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", 501},
		{"at the limit", "POST /body HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 1024\r\n\r\n" + strings.Repeat("b", 1024), 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := apiDialHTTP(t, s.addr)
			h.send(t, tc.req)
			if resp, _ := h.read(t); resp.StatusCode != tc.status {
				t.Fatalf("status %s, want %d", resp.Status, tc.status)
			}
			h.expectClosed(t)
		})
	}
}

// TestAPIHTTPSubprotocols: the first of Config.Upgrade.Subprotocols (in the
// server's order of preference) that the client offers is selected; with
// none in common the handshake succeeds without the header.
func TestAPIHTTPSubprotocols(t *testing.T) {
	s := apiHTTPServer(t, engine.Config{Upgrade: upgrade.Options{Subprotocols: []string{"v2.chat", "v1.chat"}}})
	cases := []struct {
		offered []string
		want    string
	}{
		{nil, ""},
		{[]string{"v1.chat"}, "v1.chat"},
		{[]string{"v1.chat", "v2.chat"}, "v2.chat"},
		{[]string{"other", "v2.chat"}, "v2.chat"},
		{[]string{"other"}, ""},
	}
	for _, path := range []string{icEchoPath, icEventsPath} {
		for _, tc := range cases {
			t.Run(path[1:]+"/"+strings.Join(tc.offered, ","), func(t *testing.T) {
				c, resp := icDialWith(t, s.url(path), &wsclient.Options{Subprotocols: tc.offered})
				if got := c.Subprotocol(); got != tc.want {
					t.Fatalf("subprotocol %q, want %q", got, tc.want)
				}
				if _, present := resp.Header[http.CanonicalHeaderKey("Sec-WebSocket-Protocol")]; present != (tc.want != "") {
					t.Fatalf("Sec-WebSocket-Protocol present=%v (%q), want present=%v", present, resp.Header.Get("Sec-WebSocket-Protocol"), tc.want != "")
				}
				ctx, cancel := context.WithTimeout(t.Context(), icTimeout)
				defer cancel()
				c.Send(wsclient.Text, []byte("hi"))
				if _, p, err := c.Receive(ctx); err != nil || string(p) != "hi" {
					t.Fatalf("echo: %q %v", p, err)
				}
				c.SendClose(1000, "")
				c.Receive(ctx)
			})
		}
	}
}
