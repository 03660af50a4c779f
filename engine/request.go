package engine

import (
	"math"
	"net"
	"net/http"
	"unsafe"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/internal/handshake"
	"github.com/volley-ws/volley/internal/hctx"
	"github.com/volley-ws/volley/internal/httpwire"
	"github.com/volley-ws/volley/internal/session"
	"github.com/volley-ws/volley/upgrade"
)

// request is a request handed to a blocking handler: the engine's side of
// its upgrade.Context (hctx.Source), which it embeds, so that a handler's
// request costs one allocation besides its copy of the head and body.
//
// The head is validated and, for a WebSocket handshake, negotiated on the
// loop when the request is made (the loop's stack is large already); the
// handler's goroutine only parses the copy again if it asks for the
// Request, and only hands the response over in Upgrade, so a session
// parked in Receive keeps the smallest stack Go gives a goroutine.
type request struct {
	ctx hctx.Context[upgrade.Request, upgrade.HeaderField]
	c   *connection
	// raw and rawLen are the copy of the request head and then the body,
	// kept as a pointer and a length (8 bytes less than a slice).
	raw     *byte
	rawLen  int32
	headLen int32
	parsed  *upgrade.Request    // parsed from the copy on first use
	acc     *handshake.Accepted // the negotiated handshake, nil when not a valid one or once upgraded
	flags   requestFlags
	// hsErr is why the handshake is refused: 1 + its index in
	// handshakeErrs, 0 for none.
	hsErr uint8
}

type requestFlags uint8

const (
	reqUpgrade requestFlags = 1 << iota // the request asks for a WebSocket
	reqHead                             // the request method is HEAD
)

// handshakeErrs are the errors a request may keep for its handshake.
var handshakeErrs = [...]*upgrade.StatusError{
	upgrade.ErrMalformedRequest, upgrade.ErrMethodNotGet, upgrade.ErrNotHTTP11, upgrade.ErrMissingUpgrade,
	upgrade.ErrMissingConnectionUpgrade, upgrade.ErrBadVersion, upgrade.ErrMissingKey, upgrade.ErrBadKey,
	upgrade.ErrOriginRejected,
}

// newRequest makes the request for req, parsed in place in the loop's
// input from head, with its body, copying both, and negotiates a WebSocket
// handshake. Loop only.
func (c *connection) newRequest(req *upgrade.Request, head, body []byte) *request {
	if len(head)+len(body) > math.MaxInt32 {
		panic("engine: a request over 2 GiB") // Config bounds both far below
	}
	raw := make([]byte, len(head)+len(body))
	copy(raw[copy(raw, head):], body)
	r := &request{c: c, raw: unsafe.SliceData(raw), rawLen: int32(len(raw)), headLen: int32(len(head))}
	r.ctx.Init(r)
	if req.Method == http.MethodHead {
		r.flags |= reqHead
	}
	if handshake.IsUpgradeRequest(req) {
		r.flags |= reqUpgrade
		a, err := handshake.Negotiate(req, &c.srv.cfg.Upgrade)
		if err != nil {
			r.hsErr = 1
			for i, e := range handshakeErrs {
				if e == err {
					r.hsErr = uint8(1 + i)
				}
			}
		} else {
			r.acc = &a
		}
	}
	return r
}

// rawBytes returns the copy of the head and body.
func (r *request) rawBytes() []byte { return unsafe.Slice(r.raw, r.rawLen) }

// Request implements hctx.Source: it parses the copy of the head on first
// use.
func (r *request) Request() *upgrade.Request {
	if r.parsed == nil {
		p := new(upgrade.Request)
		// The head parsed before it was copied, so the copy parses. The
		// strings refer to the copy, which nothing writes to.
		if _, err := httpwire.Parse(p, r.rawBytes()[:r.headLen], int(r.headLen)); err != nil {
			panic("engine: the copy of a parsed request head does not parse: " + err.Error())
		}
		r.parsed = p
	}
	return r.parsed
}

// Body implements hctx.Source.
func (r *request) Body() []byte {
	if r.headLen == r.rawLen {
		return nil
	}
	return r.rawBytes()[r.headLen:r.rawLen:r.rawLen]
}

// RemoteAddr implements hctx.Source.
func (r *request) RemoteAddr() net.Addr { return r.c.gc.RemoteAddr() }

// IsUpgrade implements hctx.Source.
func (r *request) IsUpgrade() bool { return r.flags&reqUpgrade != 0 }

// IsHead implements hctx.Source.
func (r *request) IsHead() bool { return r.flags&reqHead != 0 }

// Upgrade implements hctx.Source: it queues the 101 response, creates the
// session and hands the connection to the loop in WebSocket mode. Handler
// goroutine.
//
// Its frame is kept small, with the negotiation's and the response's work
// in helpers that return before it allocates the session and wakes the
// loop (the deepest calls of a session goroutine before it parks): a
// goroutine whose call chain passes about 1.1 KiB grows its stack to 4 KiB
// for good, and an allocation's slow path, now and then, adds to the chain.
func (r *request) Upgrade() (conn.WebSocket, error) {
	a, err := r.accept()
	if err != nil {
		return nil, err
	}
	c := r.c
	ws := session.New(c, &c.srv.msgs)
	if !c.queueUpgrade(a, ws) {
		return nil, conn.ErrAborted
	}
	c.signals.open()
	c.signals.handOff(handoffUpgraded)
	_ = c.gc.Wake(nil)
	return ws, nil
}

// accept checks that the handshake may be accepted and takes the
// negotiated parameters, setting up compression and the subprotocol.
// Handler goroutine.
//
//go:noinline
func (r *request) accept() (*handshake.Accepted, error) {
	if r.hsErr != 0 {
		return nil, handshakeErrs[r.hsErr-1]
	}
	if r.acc == nil {
		return nil, upgrade.ErrMissingUpgrade
	}
	c, s := r.c, r.c.srv
	if s.busy() {
		return nil, upgrade.ErrServiceUnavailable
	}
	a := r.acc
	r.acc = nil // an idle session does not hold it
	c.setCompression(a)
	if a.Protocol != "" {
		for i, p := range s.cfg.Upgrade.Subprotocols {
			if p == a.Protocol {
				c.protocol = uint8(1 + i)
			}
		}
	}
	return a, nil
}

// queueUpgrade queues the 101 response and attaches ws, unless the
// connection is gone. Handler goroutine.
//
//go:noinline
func (c *connection) queueUpgrade(a *handshake.Accepted, ws *session.Session) bool {
	o := &c.out
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.flags.has(dead) {
		return false
	}
	b := o.buffer(&c.srv.sends)
	b.B = a.AppendResponse(b.B, nil)
	c.user = ws
	o.flags |= scheduled | hasSession
	return true
}

// endSession closes c's WebSocket as its handler returned: 1000, or 1011
// after a panic. Handler goroutine.
func (c *connection) endSession(panicked bool) {
	code := conn.StatusNormalClosure
	if panicked {
		code = conn.StatusInternalError
	}
	// Nobody reads the session any more: what it holds is dropped, and
	// what arrives from now on too.
	c.srv.budget.add(-c.session().Detach())
	c.closeNow(code, "")
	c.endAfterlife(errAbnormal) // a half-closed connection's, if any: nothing more to write
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
func (s *Server) runHandler(c *connection, fn upgrade.HandlerFunc, r *request, keepAlive bool) {
	defer s.endHandler(c, r, keepAlive)
	fn((*upgrade.Context)(&r.ctx))
}

// endHandler, deferred by runHandler, recovers and logs a handler's panic
// and hands the connection back to the loop.
func (s *Server) endHandler(c *connection, r *request, keepAlive bool) {
	defer s.handlers.Done()
	panicked := false
	if v := recover(); v != nil {
		panicked = true
		s.logRequestPanic(v, r.RemoteAddr(), r.Request().Path, false)
	}
	if r.ctx.Flags()&hctx.Upgraded != 0 {
		c.logUpgraded() // unless the loop did
		c.endSession(panicked)
		return
	}
	// A refused handshake closes the connection, as the event API does.
	keepAlive = keepAlive && !panicked && !s.shutdown.Load() && r.ctx.Flags()&hctx.Refused == 0
	var resp []byte
	status := http.StatusInternalServerError
	if panicked {
		resp = httpwire.AppendResponse(nil, status, nil, []byte("internal server error"), false, false)
	} else {
		var out hctx.Response[upgrade.HeaderField]
		if p := r.ctx.Response(); p != nil {
			out = *p
		}
		status = out.Status
		if status == 0 {
			status = http.StatusOK
		}
		resp = httpwire.AppendResponse(nil, status, out.Header, out.Body, keepAlive, r.IsHead())
	}
	if r.IsUpgrade() && status >= 400 {
		s.countRefusedOffLoop(status) // a handshake the handler (or Upgrade) refused
	}
	c.queueLocal(resp, !keepAlive)
	c.logHandlerAnswer(r, r.RemoteAddr(), status, panicked)
	c.signals.handOff(handoffResponse)
	_ = c.gc.Wake(nil)
}
