package engine

import (
	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"

	"github.com/volley-ws/volley/codec"
	"github.com/volley-ws/volley/conn"
)

// traffic is OnTraffic: it runs when bytes arrive or the connection is
// woken. It applies hand-offs from handler goroutines, parses what is
// buffered, checks deadlines, writes everything queued at once, and only
// then lets gnet discard the input: payloads sent with SendNoCopy are
// written from it.
func (c *connection) traffic() gnet.Action {
	s := c.srv
	o := &c.out

	now := s.coarseNow()
	switch c.signals.takeHandoff() {
	case handoffResponse:
		c.flags.setPhase(phaseHTTP)
		o.mu.Lock()
		closing := o.closeAfter
		o.mu.Unlock()
		if closing {
			c.flags.setPhase(phaseClosing) // Connection: close; nothing more is parsed
		} else {
			c.due.Store(now.add(s.cfg.HandshakeTimeout))
		}
	case handoffUpgraded:
		c.startWS(now)
	}
	if s.shutdown.Load() {
		if c.shutdownStep() {
			return gnet.Close
		}
	}

	data, _ := c.gc.Peek(-1)
	o.mu.Lock()
	o.scheduled = true // sends from callbacks are flushed below, not woken
	if c.isEvent() && len(data) > 0 && !o.dead {
		o.buffer(&s.sends).setInput(data)
	}
	o.mu.Unlock()
	if len(data) > int(c.leftover) {
		c.lastRead = now
		c.flags.set(pinged, false)
	}
	off := 0
	for off < len(data) {
		before := off
		switch c.flags.phase() {
		case phaseHTTP:
			off += c.readHTTP(data[off:])
		case phaseWS:
			if c.isEvent() {
				off += c.readEventFrames(data[off:])
			} else {
				off += c.readFrames(data[off:])
			}
		case phaseClosing:
			off = len(data)
		case phaseHandler:
			if len(data)-off > s.cfg.MaxHandshakeBytes+s.cfg.MaxRequestBody {
				return gnet.Close // pipelining past any request we would accept
			}
		}
		if off == before {
			break
		}
	}
	c.leftover = int32(len(data) - off)

	if c.checkTimers(now) {
		return gnet.Close
	}
	closeNow, gone := c.flush()
	if gone {
		return gnet.None // gnet closed the connection in the write
	}
	if off > 0 {
		_, _ = c.gc.Discard(off)
	}
	if closeNow {
		c.beginClosing()
		if s.shutdown.Load() {
			return gnet.Close // no lingering for the peer's FIN while shutting down
		}
	}
	return gnet.None
}

// startWS switches to WebSocket framing and starts the idle checks. Loop
// only.
func (c *connection) startWS(now moment) {
	c.flags.setPhase(phaseWS)
	c.due.Store(0)
	c.lastRead = now
	if idle := c.srv.cfg.IdleTimeout; idle > 0 {
		c.idleCheck.Store(now.add(idle / 2))
	}
}

// shutdownStep applies a server shutdown to the connection: idle HTTP
// connections close, WebSockets are sent close 1001. It returns true when
// the connection must close now. Loop only.
func (c *connection) shutdownStep() bool {
	switch c.flags.phase() {
	case phaseHTTP:
		return c.leftover == 0
	case phaseClosing:
		return c.flags.has(halfClosed) && c.out.idle()
	case phaseWS:
		if c.flags.has(shutdownSent) {
			return false
		}
		c.flags.set(shutdownSent, true)
		if c.isEvent() {
			_ = c.WriteClose(conn.StatusGoingAway, "server shutting down", false)
		} else if c.peer().WebSocket().State() != conn.StateCloseSent {
			// A handshake already under way finishes or times out.
			c.peer().Expire(conn.StatusGoingAway)
		}
	}
	return false
}

// checkTimers acts on a passed deadline: handshake timeout, close timeout,
// idle ping and idle timeout. It returns true when the connection must
// close now. Loop only.
func (c *connection) checkTimers(now moment) bool {
	if d := c.due.Load(); d != 0 && now.reached(d) && c.due.CompareAndSwap(d, 0) {
		switch c.flags.phase() {
		case phaseHTTP:
			if c.leftover == 0 {
				return true
			}
			c.respond(408, "request timeout", false)
		case phaseWS:
			if c.isEvent() {
				c.events().expire()
			} else {
				c.peer().Expire(conn.StatusNormalClosure)
			}
		case phaseClosing:
			return true
		}
	}
	if i := c.idleCheck.Load(); i != 0 && now.reached(i) && c.flags.phase() == phaseWS {
		c.checkIdle(now)
	}
	return false
}

// checkIdle pings a connection silent for half the idle timeout and closes
// it with 1001 when it stays silent for the whole timeout. The close always
// comes at least half the timeout after a ping, even when a busy loop runs
// the check late: the ping sets the next check to the later of the two.
// Any bytes received clear the ping (and move lastRead), so a check that
// finds it still outstanding is the close. Loop only.
func (c *connection) checkIdle(now moment) {
	half := c.srv.cfg.IdleTimeout / 2
	switch silent := now.sub(c.lastRead); {
	case !c.flags.has(pinged) && silent < half:
		c.idleCheck.Store(c.lastRead.add(half))
	case !c.flags.has(pinged):
		c.flags.set(pinged, true)
		c.out.appendControl(&c.srv.sends, ws.OpPing, nil)
		c.idleCheck.Store(c.lastRead.add(2 * half).later(now.add(half)))
	default:
		c.idleCheck.Store(0)
		c.fail(&codec.Error{Code: ws.StatusGoingAway, Reason: "idle timeout"})
	}
}

// closed is OnClose: the TCP connection is gone. Loop only.
func (c *connection) closed() {
	s := c.srv
	s.mu.Lock()
	s.unlink(c)
	delete(s.drainSet, c)
	z := c.z // set under s.mu by a handler's Upgrade, which may race with the close
	s.mu.Unlock()
	o := &c.out
	if !c.flags.has(inFlush) {
		// Wait for a direct write in progress: gnet closes the fd when
		// OnClose returns, and the number may be reused at once.
		o.wmu.Lock()
		defer o.wmu.Unlock()
	}
	o.mu.Lock()
	o.dead = true
	if o.buf != nil {
		s.sends.put(o.buf)
		o.buf = nil
	}
	c.signalRoom()
	ws := c.peer().WebSocket()
	o.mu.Unlock()
	if c.msg != nil {
		c.dropMessage(c.msg)
	}
	switch {
	case c.isEvent():
		c.events().gone()
	case ws != nil:
		c.peer().Gone()
	}
	if z != nil {
		z.close(s, c.isEvent())
	}
}
