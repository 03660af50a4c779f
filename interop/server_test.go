package interop

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/upgrade"
)

// ---------------------------------------------------------------------------
// The server side of the tests with client libraries (libraries_test.go,
// deflate_test.go): a server on a free port, echo routes for both APIs,
// and checks of how the server ends a connection.

// icTimeout bounds every single wait of these tests.
const icTimeout = 5 * time.Second

// icLog collects what the server logs, shown when a test fails.
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

// icServer is a started server.
type icServer struct {
	addr string
}

// url returns the ws:// URL of path.
func (s *icServer) url(path string) string { return "ws://" + s.addr + path }

// icStart starts a server on a free 127.0.0.1 port with cfg (Addr,
// EventLoops and Logger defaulted), after setup registered its routes.
// The server is shut down when the test ends; a failing Shutdown fails the
// test, and the log of a failed test's server is shown.
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
		if t.Failed() {
			t.Logf("the server's log:\n%s", lg)
		}
	})
	return &icServer{addr: srv.Addr().String()}
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
// Echo and "bye" routes for both APIs.

const (
	icEchoPath      = "/echo"
	icEventsPath    = "/events"
	icByePath       = "/bye"
	icEventsByePath = "/events-bye"
)

// icCloseInfo is a close code and reason as one side saw it.
type icCloseInfo struct {
	code   conn.StatusCode
	reason string
}

// icInteropServer records what the server side saw: the client's close
// (code and reason) per route, and the result of the server's own Close.
type icInteropServer struct {
	*icServer
	echoClosed   chan icCloseInfo // blocking echo: the client's close
	eventsClosed chan icCloseInfo // event echo: OnClose's error
	byeResult    chan error       // blocking bye: the result of ws.Close
	eventsBye    chan icCloseInfo // event bye: OnClose's error
}

// icRecordingEcho returns a blocking echo handler that reports the
// client's close (code and reason) on closed and answers it.
func icRecordingEcho(closed chan<- icCloseInfo) upgrade.HandlerFunc {
	return func(ctx *upgrade.Context) {
		ws, err := ctx.Upgrader().Upgrade()
		if err != nil {
			return
		}
		for {
			msg, err := ws.Receive()
			if err != nil {
				return
			}
			if msg.Type == conn.Close {
				closed <- icCloseInfo{msg.CloseStatus, msg.CloseReason}
				ws.SendClose(msg.CloseStatus, "")
				return
			}
			if err := ws.Send(msg.Type, msg.Data); err != nil {
				return
			}
		}
	}
}

// icEventEcho echoes every message and reports OnClose's *conn.CloseError.
type icEventEcho struct {
	closed chan<- icCloseInfo
	bye    bool // close with 1001 "bye" in OnOpen instead of echoing
}

func (h icEventEcho) OnOpen(c *engine.Conn) {
	if h.bye {
		if err := c.Close(conn.StatusGoingAway, "bye"); err != nil {
			h.closed <- icCloseInfo{code: 0, reason: "Close failed: " + err.Error()}
		}
	}
}

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

func icStartInterop(t *testing.T) *icInteropServer {
	t.Helper()
	s := &icInteropServer{
		echoClosed:   make(chan icCloseInfo, 16),
		eventsClosed: make(chan icCloseInfo, 16),
		byeResult:    make(chan error, 16),
		eventsBye:    make(chan icCloseInfo, 16),
	}
	s.icServer = icStart(t, engine.Config{}, func(srv *engine.Server) {
		srv.HandleFunc(icEchoPath, icRecordingEcho(s.echoClosed))
		srv.HandleFunc(icByePath, func(ctx *upgrade.Context) {
			ws, err := ctx.Upgrader().Upgrade()
			if err != nil {
				s.byeResult <- err
				return
			}
			s.byeResult <- ws.Close(conn.StatusGoingAway, "bye")
		})
		srv.HandleEvents(icEventsPath, icEventEcho{closed: s.eventsClosed})
		srv.HandleEvents(icEventsByePath, icEventEcho{closed: s.eventsBye, bye: true})
	})
	return s
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
