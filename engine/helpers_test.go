package engine_test

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/servertest"
	"github.com/volley-ws/volley/internal/wsclient"
)

// Helpers shared by the engine's tests: a server on a free port, waits
// bounded by icTimeout, a client (internal/wsclient), test payloads, echo
// handlers for both APIs, and checks of how the server ends a connection.
// The interop tests against other WebSocket libraries and real clients
// are in the interop module (engine/interop/ at the root of the repository).

// icTimeout bounds every single wait of these tests.
const icTimeout = servertest.Timeout

// icServer is a started server and what it logged.
type icServer struct {
	srv  *engine.Server
	addr string
	log  *servertest.Log
}

// url returns the ws:// URL of path.
func (s *icServer) url(path string) string { return "ws://" + s.addr + path }

// icStart starts a server on a free port: see servertest.Start.
func icStart(t *testing.T, cfg engine.Config, setup func(*engine.Server)) *icServer {
	t.Helper()
	s := servertest.Start(t, cfg, setup)
	return &icServer{srv: s.Server, addr: s.Addr, log: s.Log}
}

// icRecv waits up to d for a value from ch: see servertest.Recv.
func icRecv[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	return servertest.Recv(t, ch, d, what)
}

// icPayload returns n bytes of test data: see servertest.Payload.
var icPayload = servertest.Payload

// icExpectEOF checks that the server closes the TCP connection cleanly:
// see servertest.ExpectEOF.
var icExpectEOF = servertest.ExpectEOF

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
