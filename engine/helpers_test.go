package engine_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/wsclient"
)

// Helpers shared by the engine's tests: a server on a free port, waits
// bounded by icTimeout, a client (internal/wsclient), test payloads, echo
// handlers for both APIs, and checks of how the server ends a connection.
// The interop tests against other WebSocket libraries and real clients
// are in the interop module (interop/ at the root of the repository).

// icTimeout bounds every single wait of these tests.
const icTimeout = 5 * time.Second

// icLog collects what the server logs, for tests that expect a log line.
type icLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *icLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *icLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// icServer is a started server and what it logged.
type icServer struct {
	srv  *engine.Server
	addr string
	log  *icLog
}

// url returns the ws:// URL of path.
func (s *icServer) url(path string) string { return "ws://" + s.addr + path }

// icStart starts a server on a free 127.0.0.1 port with cfg (Addr,
// EventLoops and Logger defaulted), after setup registered its routes.
// The server is shut down when the test ends; a failing Shutdown fails the
// test.
func icStart(t *testing.T, cfg engine.Config, setup func(*engine.Server)) *icServer {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.EventLoops == 0 {
		cfg.EventLoops = 2
	}
	lg := &icLog{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(lg, nil))
	}
	srv := engine.New(cfg)
	setup(srv)
	if err := srv.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), icTimeout)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return &icServer{srv: srv, addr: srv.Addr().String(), log: lg}
}

// icRecv waits up to d for a value from ch.
func icRecv[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("timed out after %v waiting for %s", d, what)
		panic("unreachable")
	}
}

// icDial dials url with the project's test client, internal/wsclient, with
// the default options; the connection is closed when the test ends.
func icDial(t *testing.T, url string) *wsclient.Conn {
	t.Helper()
	c, _ := icDialWith(t, url, nil)
	return c
}

// icDialWith dials url with the options o (nil for the defaults) and
// returns the connection, closed when the test ends, and the server's 101.
func icDialWith(t *testing.T, url string, o *wsclient.Options) (*wsclient.Conn, *wsclient.Response) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), icTimeout)
	defer cancel()
	c, resp, err := wsclient.Dial(ctx, url, o)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c, resp
}

// icReceive returns the next message c receives, waiting at most
// 2*icTimeout. After the server's close frame (which c answers), the error
// is a *wsclient.CloseError: see icIsClose.
func icReceive(t *testing.T, c *wsclient.Conn) (wsclient.MessageType, []byte, error) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*icTimeout)
	defer cancel()
	return c.Receive(ctx)
}

// icIsClose reports whether err is the server's close frame with code.
func icIsClose(err error, code int) bool {
	var ce *wsclient.CloseError
	return errors.As(err, &ce) && ce.Code == code
}

// icPayload returns n bytes of test data: random bytes for Binary, valid
// UTF-8 mixing 1- to 4-byte characters for Text.
func icPayload(typ conn.MessageType, n int, seed int64) []byte {
	rng := rand.New(rand.NewSource(seed))
	p := make([]byte, 0, n)
	if typ == conn.Binary {
		p = p[:n]
		rng.Read(p)
		return p
	}
	runes := []string{"a", "Z", "é", "ж", "€", "語", "😀", "\x00", "~"}
	for len(p) < n {
		r := runes[rng.Intn(len(runes))]
		if len(p)+len(r) > n {
			r = "x"
		}
		p = append(p, r...)
	}
	return p
}

// ---------------------------------------------------------------------------
// Echo routes for both APIs, and the end of a connection.

const (
	icEchoPath   = "/echo"
	icEventsPath = "/events"
)

// icCloseInfo is a close code and reason as one side saw it.
type icCloseInfo struct {
	code   conn.StatusCode
	reason string
}

// icEventEcho echoes every message and reports OnClose's *conn.CloseError.
type icEventEcho struct {
	closed chan<- icCloseInfo
}

func (h icEventEcho) OnOpen(c *engine.Conn) {}

func (h icEventEcho) OnMessage(c *engine.Conn, t conn.MessageType, p []byte) {
	_ = c.Send(t, p)
}

func (h icEventEcho) OnClose(c *engine.Conn, err error) {
	var ce *conn.CloseError
	if !errors.As(err, &ce) {
		h.closed <- icCloseInfo{reason: "OnClose error is not a *conn.CloseError: " + err.Error()}
		return
	}
	h.closed <- icCloseInfo{code: ce.Code, reason: ce.Reason}
}

// icExpectEnd checks that the server ends the TCP connection within
// icTimeout, with no more data: an EOF, or a reset (an aborted connection
// is reset, so that a peer that does not read cannot keep it alive).
func icExpectEnd(t *testing.T, c net.Conn, r io.Reader) {
	t.Helper()
	if r == nil {
		r = c
	}
	c.SetReadDeadline(time.Now().Add(icTimeout))
	n, err := io.Copy(io.Discard, r)
	var ne net.Error
	switch {
	case err != nil && errors.As(err, &ne) && ne.Timeout():
		t.Fatalf("the server did not end the TCP connection within %v", icTimeout)
	case err != nil && !errors.Is(err, syscall.ECONNRESET):
		t.Fatalf("the connection ended with %v, want EOF or a reset", err)
	case n != 0:
		t.Fatalf("%d unexpected bytes before the end of the connection", n)
	}
}

// icExpectEOF checks that the server ends the TCP connection cleanly:
// reading returns EOF (not a reset) within icTimeout, with no more data.
func icExpectEOF(t *testing.T, c net.Conn, r io.Reader) {
	t.Helper()
	if r == nil {
		r = c
	}
	c.SetReadDeadline(time.Now().Add(icTimeout))
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the server did not close the TCP connection within %v", icTimeout)
		}
		t.Fatalf("the connection ended with %v, want EOF", err)
	}
	if n != 0 {
		t.Fatalf("%d unexpected bytes before the end of the connection", n)
	}
}
