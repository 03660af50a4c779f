package engine

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/volley-ws/volley/internal/handshake"
	"github.com/volley-ws/volley/internal/httpwire"
	"github.com/volley-ws/volley/internal/logattr"
	"github.com/volley-ws/volley/internal/session"
	"github.com/volley-ws/volley/upgrade"
)

// bridgeState is the server's side of the net/http bridge.
type bridgeState struct {
	loops bridgeLoops
	// prefixes holds, per bridged connection, what net/http read past its
	// handshake, until the loop has parsed it (bridge_input.go).
	prefixes sideTable[[]byte]
	// enrolling counts the connections being handed to a loop, which
	// Shutdown waits for as for open ones; guarded by Server.mu.
	enrolling int
}

// bridged is a connection ServeHTTP hands to an event loop: the state
// prepared on ServeHTTP's goroutine, which the loop's OnOpen completes. It
// is the gnet connection's context until then.
type bridged struct {
	c      *connection
	acc    *handshake.Accepted
	prefix []byte // what net/http read past the request head
	// An event route's: 1 + the index of its EventHandler, the 101's
	// extra fields, the request for Conn.Request during OnOpen.
	handler int
	extra   []upgrade.HeaderField
	req     *upgrade.Request
	start   time.Time // when the handshake was read, for the access log
	// A blocking route's session.
	ws *session.Session
}

// open is OnOpen for a bridged connection: it registers the connection,
// queues the 101 response, enters WebSocket mode (calling the event
// route's OnOpen) and runs a first loop iteration, which writes the
// response and parses the prefix. Loop only.
func (b *bridged) open(gc gnet.Conn) gnet.Action {
	c, s := b.c, b.c.srv
	c.gc = gc
	gc.SetContext(c)
	s.mu.Lock()
	s.link(c)
	s.mu.Unlock()
	c.setPrefix(b.prefix)
	if b.ws != nil {
		c.queueUpgrade(b.acc, b.ws)
		c.startWS(s.now())
		c.logUpgraded()
	} else {
		c.openEvents(b.acc, b.extra, b.handler, b.req, b.start)
	}
	return c.traffic()
}

// handOver hijacks r's connection and hands it with b to an event loop. It
// returns once the loop has opened the connection, or with why it could
// not: a *upgrade.StatusError, possibly wrapping the cause. hijacked
// reports whether net/http let go of the connection; if it did, the
// refusal was written on the connection, when it could still be, and the
// connection closed. ServeHTTP's goroutine.
func (s *Server) handOver(w http.ResponseWriter, r *http.Request, b *bridged) (hijacked bool, err error) {
	if _, ok := r.Context().Value(http.LocalAddrContextKey).(*net.TCPAddr); !ok || r.ProtoMajor != 1 {
		return false, ErrBridgeConn
	}
	if !s.admitEnroll() {
		return false, upgrade.ErrServiceUnavailable
	}
	defer s.enrolled()
	nc, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false, ErrBridgeConn
	}
	if _, ok := nc.(*net.TCPConn); !ok {
		refuseRaw(nc, ErrBridgeConn)
		return true, ErrBridgeConn
	}
	if n := rw.Reader.Buffered(); n > 0 {
		p, _ := rw.Reader.Peek(n)
		b.prefix = bytes.Clone(p)
	}
	if err := rw.Writer.Flush(); err != nil { // nothing is written before a hijack, normally
		nc.Close()
		return true, fmt.Errorf("%w: %w", upgrade.ErrServiceUnavailable, err)
	}
	el, err := s.bridgeLoop()
	var ch <-chan gnet.RegisteredResult
	if err == nil {
		ch, err = el.Enroll(gnet.NewContext(context.Background(), b), nc)
	}
	if err != nil {
		s.log(slog.LevelWarn, "volley: bridge: handing a connection to an event loop", logattr.Remote(nc.RemoteAddr()), logattr.Err(err))
		refuseRaw(nc, upgrade.ErrServiceUnavailable)
		return true, fmt.Errorf("%w: %w", upgrade.ErrServiceUnavailable, err)
	}
	// From here on gnet owns nc: it closes it, once it has its duplicate
	// or failed.
	select {
	case res := <-ch:
		if res.Err != nil {
			s.log(slog.LevelWarn, "volley: bridge: an event loop did not take a connection", logattr.Remote(nc.RemoteAddr()), logattr.Err(res.Err))
			return true, fmt.Errorf("%w: %w", upgrade.ErrServiceUnavailable, res.Err)
		}
		return true, nil
	case <-s.stopped:
		return true, upgrade.ErrServiceUnavailable
	}
}

// refuseRaw answers a hijacked connection with se and closes it.
func refuseRaw(nc net.Conn, se *upgrade.StatusError) {
	hdr := append([]upgrade.HeaderField{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}}, se.Header...)
	_ = nc.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = nc.Write(httpwire.AppendResponse(nil, se.Status, hdr, []byte(se.Reason), false, false))
	_ = nc.Close()
}

// admitEnroll counts a connection in as being handed to a loop, unless
// the server is not running or is shutting down. Any goroutine.
func (s *Server) admitEnroll() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Shutdown sets s.shutdown and then takes s.mu before it counts the
	// connections: it sees this one, or this sees it.
	if !s.running() {
		return false
	}
	s.bridge.enrolling++
	return true
}

// enrolled counts out a connection admitEnroll counted in.
func (s *Server) enrolled() {
	s.mu.Lock()
	s.bridge.enrolling--
	s.mu.Unlock()
}

// admitHandler counts a handler in for Shutdown to wait for, unless the
// server is not running or is shutting down. Any goroutine.
func (s *Server) admitHandler() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running() {
		return false
	}
	s.handlers.Add(1)
	return true
}
