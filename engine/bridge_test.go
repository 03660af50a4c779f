package engine_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wsclient"
	"github.com/volley-ws/volley/internal/wstest"
	"github.com/volley-ws/volley/upgrade"
)

// Tests of the net/http bridge: a volley server mounted on a net/http
// server on a loopback port, behind middleware.

// bridgeToken is what bridgeAuth wants in the Authorization field.
const bridgeToken = "Bearer t0ken"

// bridgeAuth is an application's middleware: it refuses requests without
// the token, before volley sees them.
func bridgeAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != bridgeToken {
			w.Header().Set("WWW-Authenticate", `Bearer realm="volley"`)
			http.Error(w, "missing token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bridgeServe serves h with a net/http server on a free loopback port
// until the test ends, and returns its address.
func bridgeServe(t testing.TB, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: icTimeout}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = hs.Serve(ln)
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), icTimeout)
		defer cancel()
		if err := hs.Shutdown(ctx); err != nil {
			t.Errorf("net/http Shutdown: %v", err)
		}
		<-done
	})
	return ln.Addr().String()
}

// Routes of bridgeStart's server, under the application's /ws/.
const (
	brEchoPath   = "/ws/echo"   // cfEcho, blocking
	brEventsPath = "/ws/events" // an event echo that counts OnOpen
)

// brCounting is cfEventEcho counting its OnOpen calls.
type brCounting struct {
	cfEventEcho
	opened *atomic.Int32
}

func (h brCounting) OnOpen(*engine.Conn) { h.opened.Add(1) }

// brApp is a bridged server: the volley server and the net/http
// application's address.
type brApp struct {
	*icServer
	http   string
	opened atomic.Int32 // OnOpen calls on brEventsPath
	echoes atomic.Int32 // calls of the blocking handler
}

// url returns the ws:// URL of path on the application.
func (a *brApp) url(path string) string { return "ws://" + a.http + path }

// bridgeStart starts a server with cfg serving brEchoPath and
// brEventsPath, and an application mounting it on /ws/ behind mw (none
// when nil).
func bridgeStart(t *testing.T, cfg engine.Config, mw func(http.Handler) http.Handler) *brApp {
	t.Helper()
	a := &brApp{}
	a.icServer = icStart(t, cfg, func(s *engine.Server) {
		s.HandleFunc(brEchoPath, func(ctx *upgrade.Context) {
			a.echoes.Add(1)
			cfEcho(ctx)
		})
		s.HandleEvents(brEventsPath, brCounting{opened: &a.opened})
	})
	var h http.Handler = a.srv
	if mw != nil {
		h = mw(h)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws/", h)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "the application") })
	a.http = bridgeServe(t, mux)
	return a
}

// TestBridgeMiddleware: the application's middleware decides first: a
// request without the token gets its 401 and reaches no route; with the
// token, both APIs echo, with and without permessage-deflate, and with the
// subprotocol negotiated.
func TestBridgeMiddleware(t *testing.T) {
	cfg := engine.Config{BridgeOnly: true}
	cfg.Upgrade.Subprotocols = []string{"chat"}
	cfg.Upgrade.Compression.Enabled = true
	cfg.Upgrade.Compression.MinSize = -1
	a := bridgeStart(t, cfg, bridgeAuth)
	if a.srv.Addr() != nil {
		t.Errorf("Addr() = %v for a server with BridgeOnly, want nil", a.srv.Addr())
	}
	for _, path := range []string{brEchoPath, brEventsPath} {
		t.Run(path[len("/ws/"):], func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), icTimeout)
			defer cancel()
			_, resp, err := wsclient.Dial(ctx, a.url(path), nil)
			if !errors.Is(err, wsclient.ErrRefused) || resp == nil || resp.StatusCode != http.StatusUnauthorized ||
				!strings.Contains(string(resp.Body), "missing token") || resp.Header.Get("WWW-Authenticate") == "" {
				t.Fatalf("without the token: %v, %+v", err, resp)
			}
			for _, compress := range []bool{false, true} {
				o := &wsclient.Options{Header: http.Header{"Authorization": {bridgeToken}},
					Subprotocols: []string{"chat"}, Compression: compress}
				c, _ := icDialWith(t, a.url(path), o)
				if c.Subprotocol() != "chat" || c.Compression() != compress {
					t.Fatalf("subprotocol %q, compression %v", c.Subprotocol(), c.Compression())
				}
				for i, typ := range []wsclient.MessageType{wsclient.Text, wsclient.Binary} {
					p := icPayload(conn.MessageType(typ), 100<<10, int64(i))
					if err := c.Send(typ, p); err != nil {
						t.Fatal(err)
					}
					got, data, err := icReceive(t, c)
					if err != nil || got != typ || !bytes.Equal(data, p) {
						t.Fatalf("echo: %v %v (%d bytes), want %v (%d bytes)", got, err, len(data), typ, len(p))
					}
				}
				if err := c.Close(1000, ""); err != nil {
					t.Fatalf("close: %v", err)
				}
			}
		})
	}
	if n, m := a.opened.Load(), a.echoes.Load(); n != 2 || m != 2 {
		t.Errorf("%d OnOpen and %d handler calls, want 2 each: the refused requests reached volley", n, m)
	}
}

// TestBridgeFrames: fragmented messages, ping and pong and the closing
// handshake through the bridge, on both APIs, frame by frame.
func TestBridgeFrames(t *testing.T) {
	a := bridgeStart(t, engine.Config{BridgeOnly: true}, nil)
	for _, path := range []string{brEchoPath, brEventsPath} {
		t.Run(path[len("/ws/"):], func(t *testing.T) {
			c := wstest.Dial(t, a.http, path)
			c.WriteFrame(false, 0, wstest.OpText, []byte("frag"), true)
			c.WriteFrame(false, 0, wstest.OpContinuation, []byte("men"), true)
			c.WriteFrame(true, 0, wstest.OpPing, []byte("in between"), true)
			c.WriteFrame(true, 0, wstest.OpContinuation, []byte("ted"), true)
			if f := c.MustReadFrame(); f.Opcode != wstest.OpPong || string(f.Payload) != "in between" {
				t.Fatalf("got %v, want the pong", f)
			}
			cfExpectEcho(t, c, wstest.OpText, []byte("fragmented"))
			cfCloseCleanly(t, c)
		})
	}
}

// TestBridgePipelined: frames a client sends in the same write as its
// handshake, which net/http reads with the request, reach the route
// before those read later from the socket; a frame cut between that
// buffer and the socket too.
func TestBridgePipelined(t *testing.T) {
	a := bridgeStart(t, engine.Config{BridgeOnly: true}, nil)
	frame := func(p string) []byte { return wstest.AppendFrame(nil, true, 0, wstest.OpText, []byte(p), true) }
	for _, path := range []string{brEchoPath, brEventsPath} {
		t.Run(path[len("/ws/"):], func(t *testing.T) {
			nc, err := net.DialTimeout("tcp", a.http, icTimeout)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			req := "GET " + path + " HTTP/1.1\r\nHost: " + a.http + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
				"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
			third := frame("third")
			first := append(append(append([]byte(req), frame("first")...), frame("second")...), third[:3]...)
			if _, err := nc.Write(first); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(nc)
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != http.StatusSwitchingProtocols ||
				resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
				t.Fatalf("handshake: %v %+v", err, resp)
			}
			for _, want := range []string{"first", "second"} {
				brExpectText(t, nc, br, want)
			}
			if _, err := nc.Write(third[3:]); err != nil {
				t.Fatal(err)
			}
			brExpectText(t, nc, br, "third")

			// More than net/http reads with the request: frames cut
			// between its buffer and the socket, one large frame
			// across both.
			var burst []byte
			var want []string
			for i := range 40 {
				p := strings.Repeat(string(rune('a'+i%26)), 150+i)
				want = append(want, p)
				burst = append(burst, frame(p)...)
			}
			big := strings.Repeat("0123456789", 1000)
			want = append(want, big)
			burst = append(burst, frame(big)...)
			nc2, br2 := brPipeline(t, a.http, path, burst)
			for _, p := range want {
				brExpectText(t, nc2, br2, p)
			}
		})
	}
}

// brPipeline sends a handshake for path and then frames in one write, and
// returns the connection once the 101 is read.
func brPipeline(t *testing.T, addr, path string, frames []byte) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, icTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	req := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := nc.Write(append([]byte(req), frames...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %+v", err, resp)
	}
	return nc, br
}

// brExpectText reads an unmasked text frame of at most 64 KiB from br and
// checks its payload.
func brExpectText(t *testing.T, nc net.Conn, br *bufio.Reader, want string) {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(icTimeout))
	h := make([]byte, 2, 4)
	_, err := io.ReadFull(br, h)
	n := int(h[1] & 0x7f)
	if err == nil && n == 126 {
		h = h[:4]
		_, err = io.ReadFull(br, h[2:])
		n = int(binary.BigEndian.Uint16(h[2:]))
	}
	if err != nil {
		t.Fatalf("reading %.10q: %v", want, err)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil || h[0] != 0x81 || string(p) != want {
		t.Fatalf("got frame %x %.10q (%d bytes, %v), want text %.10q (%d bytes)", h, p, len(p), err, want, len(want))
	}
}
