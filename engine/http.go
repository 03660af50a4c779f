package engine

import (
	"errors"
	"net/http"
	"runtime/debug"
	"slices"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/upgrade"
)

// readHTTP parses one request from data and dispatches it. It returns the
// bytes consumed: 0 when the request is incomplete. Loop only.
func (c *connection) readHTTP(data []byte) int {
	s := c.srv
	req, _ := s.reqs.Get().(*upgrade.Request)
	if req == nil {
		req = new(upgrade.Request)
	}
	n := c.dispatch(req, data)
	req.Reset()
	s.reqs.Put(req)
	return n
}

// dispatch is readHTTP with req to parse into. req refers to data, which
// is valid until the loop discards it after OnTraffic: what is kept beyond
// this call is cloned. Loop only.
func (c *connection) dispatch(req *upgrade.Request, data []byte) int {
	s := c.srv
	n, err := upgrade.ParseRequestNoCopy(req, data, s.cfg.MaxHandshakeBytes)
	if err != nil {
		c.respondErr(err)
		return len(data)
	}
	if n == 0 {
		return 0
	}
	var body []byte
	if cl := req.ContentLength; cl > 0 {
		if cl > int64(s.cfg.MaxRequestBody) {
			c.respondErr(upgrade.ErrBodyTooLarge)
			return len(data)
		}
		if int64(len(data)-n) < cl {
			return 0 // wait for the whole body
		}
		body = data[n : n+int(cl)] // copied by the Context
		n += int(cl)
	}
	c.due.Store(0)
	keepAlive := req.KeepAlive && !s.shutdown.Load()
	rt, ok := s.routes[req.Path]
	switch {
	case !ok:
		c.respond(http.StatusNotFound, "not found", keepAlive)
	case rt.events > 0:
		c.acceptEvents(req, rt.events)
	default:
		c.flags.setPhase(phaseHandler)
		ctx := c.newContext(req, body)
		s.handlers.Add(1)
		go s.runHandler(c, rt.fn, ctx, keepAlive)
	}
	return n
}

// respondErr answers a bad request with its status and closes the
// connection. Loop only.
func (c *connection) respondErr(err error) {
	var se *upgrade.StatusError
	if !errors.As(err, &se) {
		se = upgrade.ErrMalformedRequest
	}
	c.queueLocal(upgrade.AppendResponse(nil, se.Status, se.Header, []byte(se.Reason), false, false), true)
	c.flags.setPhase(phaseClosing)
	c.flags.set(readDone, true)
}

// respond queues a plain text response; without keepAlive the connection
// closes after it. Loop only.
func (c *connection) respond(status int, body string, keepAlive bool) {
	hdr := []upgrade.HeaderField{{Name: "Content-Type", Value: "text/plain; charset=utf-8"}}
	c.queueLocal(upgrade.AppendResponse(nil, status, hdr, []byte(body), keepAlive, false), !keepAlive)
	if keepAlive {
		c.due.Store(c.srv.coarseNow().add(c.srv.cfg.HandshakeTimeout))
	} else {
		c.flags.setPhase(phaseClosing)
	}
}

// acceptEvents completes a handshake for an event route on the loop. req
// refers to the loop's input buffer: the origin check and OnOpen see it
// there, and Conn.Request clones it only if OnOpen asks for it. handler is
// 1 + the index of the route's EventHandler in srv.eventHandlers.
func (c *connection) acceptEvents(req *upgrade.Request, handler int) {
	if !upgrade.IsUpgradeRequest(req) {
		hdr := []upgrade.HeaderField{{Name: "Upgrade", Value: "websocket"}, {Name: "Sec-WebSocket-Version", Value: "13"}}
		c.queueLocal(upgrade.AppendResponse(nil, http.StatusUpgradeRequired, hdr, []byte("websocket endpoint"), false, false), true)
		c.flags.setPhase(phaseClosing)
		return
	}
	a, err := upgrade.Negotiate(req, &c.srv.cfg.Upgrade)
	if err != nil {
		c.respondErr(err)
		return
	}
	c.queueResponse(&a)
	c.setCompression(&a)
	c.handler = uint16(handler)
	if a.Protocol != "" {
		c.protocol = uint8(1 + slices.Index(c.srv.cfg.Upgrade.Subprotocols, a.Protocol))
	}
	c.startWS(c.srv.coarseNow())
	e := c.events()
	c.srv.opening.add(c, req)
	e.call(func() { e.h().OnOpen(e) })
	c.srv.opening.remove(c)
}

// runHandler runs a blocking handler on its own goroutine and hands the
// connection back to the loop when it returns: with its HTTP response, or,
// after an upgrade, with the closing handshake finished or started.
//
// The handler runs directly under this small frame, and the panic
// recovery and the hand-back are in the deferred endHandler: every byte of
// stack below a handler parked in Receive counts, because Go keeps a
// goroutine at its 2 KiB start size only while its call chains stay under
// about 1.1 KiB.
func (s *Server) runHandler(c *connection, fn upgrade.HandlerFunc, ctx *upgrade.Context, keepAlive bool) {
	defer s.endHandler(c, ctx, keepAlive)
	fn(ctx)
}

// endHandler, deferred by runHandler, recovers and logs a handler's panic
// and hands the connection back to the loop.
func (s *Server) endHandler(c *connection, ctx *upgrade.Context, keepAlive bool) {
	defer s.handlers.Done()
	panicked := false
	if v := recover(); v != nil {
		panicked = true
		s.cfg.Logger.Error("volley: handler panic recovered", "panic", v, "path", ctx.Path(), "remote", ctx.RemoteAddr().String(), "stack", string(debug.Stack()))
	}
	if ctx.Upgraded() {
		code := conn.StatusNormalClosure
		if panicked {
			code = conn.StatusInternalError
		}
		// A close the handler already sent keeps waiting for the peer's
		// answer until its deadline (set by WriteClose); expiring it now
		// would abort the connection and drop the unsent close frame.
		if c.peer().WebSocket().State() != conn.StateCloseSent {
			c.peer().Expire(code)
		}
		return
	}
	keepAlive = keepAlive && !panicked && !s.shutdown.Load()
	var resp []byte
	if panicked {
		resp = upgrade.AppendResponse(nil, http.StatusInternalServerError, nil, []byte("internal server error"), false, false)
	} else {
		resp = ctx.AppendResponse(nil, keepAlive)
	}
	c.queueLocal(resp, !keepAlive)
	c.signals.handOff(handoffResponse)
	_ = c.gc.Wake(nil)
}
