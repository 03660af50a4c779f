package interop

import (
	"errors"
	"testing"
	"time"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/servertest"
	"github.com/volley-ws/volley/upgrade"
)

// ---------------------------------------------------------------------------
// The server side of the tests with client libraries (libraries_test.go,
// deflate_test.go): a server on a free port, echo routes for both APIs,
// and checks of how the server ends a connection.

// icTimeout bounds every single wait of these tests.
const icTimeout = servertest.Timeout

// icServer is a started server.
type icServer struct {
	addr string
}

// url returns the ws:// URL of path.
func (s *icServer) url(path string) string { return "ws://" + s.addr + path }

// icStart starts a server on a free port: see servertest.Start.
func icStart(t *testing.T, cfg engine.Config, setup func(*engine.Server)) *icServer {
	t.Helper()
	return &icServer{addr: servertest.Start(t, cfg, setup).Addr}
}

// icRecv waits up to d for a value from ch: see servertest.Recv.
func icRecv[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	return servertest.Recv(t, ch, d, what)
}

// icPayload returns n bytes of test data: see servertest.Payload.
var icPayload = servertest.Payload

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

// icExpectEOF checks that the server closes the TCP connection cleanly:
// see servertest.ExpectEOF.
var icExpectEOF = servertest.ExpectEOF
