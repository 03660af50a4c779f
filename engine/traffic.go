package engine

import (
	"log/slog"

	"github.com/panjf2000/gnet/v2"

	"github.com/volley-ws/volley/conn"
)

// traffic is OnTraffic: it runs when bytes arrive or the connection is
// woken. It applies hand-offs from handler goroutines, parses what is
// buffered (unless the connection is stalled), checks deadlines, writes
// everything queued at once, and only then lets gnet discard the input:
// payloads sent with SendNoCopy are written from it.
func (c *connection) traffic() gnet.Action {
	s := c.srv
	o := &c.out

	now := s.now()
	switch c.signals.takeHandoff() {
	case handoffResponse:
		c.flags.setPhase(phaseHTTP)
		o.mu.Lock()
		closing := o.flags.has(closeAfter)
		o.mu.Unlock()
		if closing {
			c.flags.setPhase(phaseClosing) // Connection: close; nothing more is parsed
			c.flags.set(readDone, true)
		} else {
			c.setDue(now.add(s.cfg.HandshakeTimeout))
		}
	case handoffUpgraded:
		c.startWS(now)
		c.logUpgraded()
	}
	if s.shutdown.Load() {
		if c.shutdownStep() {
			return gnet.Close
		}
	}
	if c.signals.mark(offenderMark, false) {
		c.overBudget(now)
		if c.out.isDead() {
			return gnet.Close
		}
	}

	in := c.inbound()
	if in > int(c.leftover.Load()) {
		c.lastRead = now
		c.flags.set(pinged, false)
	}
	o.mu.Lock()
	o.flags |= scheduled // sends from callbacks are flushed below, not woken
	o.mu.Unlock()
	off := 0
	if in > 0 && c.mayParse(now) {
		data := c.input()
		if c.isEvent() {
			o.mu.Lock()
			if !o.flags.has(dead) {
				o.buffer(&s.sends).setInput(data)
			}
			o.mu.Unlock()
		}
		off = c.parse(data)
	} else if in > c.maxUnparsed() {
		// Stalled, and the peer keeps sending: neither reading nor
		// waiting. (A stalled connection's input is not even looked at:
		// gnet would copy it to hand it over whole.)
		c.abort(errPeerNotRead)
		return gnet.Close
	} else if c.signals.has(budgetMark) && in > int(c.leftover.Load())+s.cfg.ReadBufferSize {
		// The server is over its memory budget and this connection holds
		// more than its share: it may not grow by more than a read.
		c.abort(errOverBudget)
		return gnet.Close
	}
	c.setLeftover(in - off)

	if c.checkTimers(now) {
		return gnet.Close
	}
	if s.topicsUsed.Load() {
		if q := s.queueOf(c); q != nil {
			q.appendPending() // what the callbacks published leaves in this iteration's writes
		}
	}
	closeNow, gone := c.flush()
	if gone {
		return gnet.None // gnet closed the connection in the write
	}
	c.checkStall(now)
	if off > 0 {
		c.consume(off)
	}
	if closeNow {
		c.beginClosing()
		if s.shutdown.Load() {
			return gnet.Close // no lingering for the peer's FIN while shutting down
		}
	}
	return gnet.None
}

// maxUnparsed is the most input a stalled connection may leave unparsed:
// one full read (ReadBufferSize) for a WebSocket, the largest request the
// server accepts for an HTTP connection. gnet's buffer holding it grows by
// doubling and keeps its size while anything is left in it, so what a
// stalled peer may send is kept small. Loop only.
func (c *connection) maxUnparsed() int {
	if c.flags.phase() == phaseWS {
		return c.srv.cfg.ReadBufferSize
	}
	return c.srv.cfg.MaxHandshakeBytes + c.srv.cfg.MaxRequestBody
}

// parse runs the phase's parser over data until it consumes nothing more,
// and returns how much it consumed. Loop only.
func (c *connection) parse(data []byte) int {
	s := c.srv
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
				c.abort(errPeerNotRead) // pipelining past any request we would accept
				return len(data)
			}
		}
		if off == before || c.out.gnetPending >= int32(min(s.cfg.MaxUnsentBytes, 1<<31-1)) {
			break
		}
	}
	c.counts().endRead()
	return off
}

// setLeftover records the bytes gnet keeps for the next OnTraffic, and
// their change in the server's memory budget. Loop only.
func (c *connection) setLeftover(n int) {
	if old := int(c.leftover.Load()); old != n {
		c.leftover.Store(int32(n))
		c.srv.budget.add(n - old)
	}
}

// startWS switches to WebSocket framing and starts the idle checks. Loop
// only.
func (c *connection) startWS(now moment) {
	c.flags.setPhase(phaseWS)
	c.countUpgraded()
	c.signals.open()
	c.due.Store(0)
	c.lastRead = now
	if idle := c.srv.cfg.IdleTimeout; idle > 0 {
		c.setAux(now.add(idle/2), false)
	}
}

// shutdownStep applies a server shutdown to the connection: idle HTTP
// connections close, WebSockets are sent close 1001. It returns true when
// the connection must close now. Loop only.
func (c *connection) shutdownStep() bool {
	switch c.flags.phase() {
	case phaseHTTP:
		return c.leftover.Load() == 0
	case phaseClosing:
		return c.flags.has(halfClosed) && c.out.idle()
	case phaseWS:
		if !c.signals.mark(shutdownMark, true) {
			c.closeNow(errShuttingDown.Code, errShuttingDown.Reason)
		}
	}
	return false
}

// checkTimers acts on a passed deadline: handshake timeout, close
// timeouts, the hard end, the write deadline of a stalled connection, idle
// ping and idle timeout. It returns true when the connection must close
// now. Loop only.
func (c *connection) checkTimers(now moment) bool {
	if d := c.due.Load(); d != 0 && now.reached(d) && c.due.CompareAndSwap(d, 0) {
		switch c.flags.phase() {
		case phaseHTTP:
			if c.leftover.Load() == 0 {
				return true
			}
			c.countRefused(408)
			c.respond(408, "request timeout", false)
			c.logRequestTimeout()
		case phaseWS:
			c.expire()
		case phaseClosing:
			// The peer did not end its side within CloseTimeout of ours:
			// reset, so that what it left unread goes too.
			_ = c.gc.SetLinger(0)
			return true
		}
	}
	if a := c.aux.Load(); a != 0 && now.reached(a) {
		switch {
		case c.signals.has(endingMark):
			// The hard end: the close frame and the peer had their time.
			c.aux.Store(0)
			c.abort(conn.ErrCloseTimeout)
			return true
		case c.signals.has(stalledMark):
			// The peer read nothing for WriteTimeout while its output was
			// over MaxUnsentBytes.
			c.aux.Store(0)
			c.abort(conn.ErrWriteTimeout)
			return true
		case c.flags.phase() == phaseWS && c.State() == conn.StateOpen:
			c.checkIdle(now)
		}
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
		c.setAux(c.lastRead.add(half), false)
	case !c.flags.has(pinged):
		c.flags.set(pinged, true)
		c.out.appendPing(&c.srv.sends)
		c.setAux(c.lastRead.add(2*half).later(now.add(half)), false)
	default:
		// Silent for the whole timeout: the peer is gone, or as good as.
		// Its close frame goes out, and the TCP connection ends after it,
		// without waiting for an answer.
		c.aux.Store(0)
		c.logClose(slog.LevelDebug, errIdle)
		c.failNow(errIdle)
	}
}

// closed is OnClose: the TCP connection is gone. Loop only.
func (c *connection) closed() {
	c.leaveLoop()
	c.end(errAbnormal)
}

// leaveLoop takes the connection out of the loop's and the ticker's hands:
// the registry, the drain set, the memory budget, the reader's state. Loop
// only, as gnet closes the connection.
func (c *connection) leaveLoop() {
	s := c.srv
	s.mu.Lock()
	linked := c.prev != nil || s.conns == c
	s.unlink(c)
	delete(s.drainSet, c)
	s.mu.Unlock()
	o := &c.out
	o.mu.Lock()
	s.budget.add(-int(o.gnetPending))
	o.gnetPending = 0
	o.mu.Unlock()
	c.setLeftover(0)
	if linked {
		c.countLeft()
	}
	c.dropPrefix()
	c.signals.mark(stalledMark|budgetMark|drainWatched, false)
	if c.msg != nil {
		c.dropMessage(c.msg)
	}
}

// end ends the connection for good: nothing more is queued, the WebSocket
// is closed (StateAborted unless it was closed already, reported with
// err), and the compression state goes back to its pools. After gnet
// closed it (closed) or after its afterlife. Any goroutine.
func (c *connection) end(err error) {
	s := c.srv
	s.mu.Lock()
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
	o.flags |= dead
	if o.buf != nil {
		s.sends.put(o.buf)
		o.buf = nil
		o.pong = 0
	}
	c.signalRoom()
	o.mu.Unlock()
	if c.signals.mark(failMark, false) {
		s.failures.take(c)
	}
	c.signals.setState(conn.StateAborted)
	if c.signals.has(carriedMark) {
		// Dead: the session's goroutines write no more.
		s.mu.Lock()
		s.foldCarried(c)
		s.mu.Unlock()
	}
	s.unsubscribeAll(c)
	c.dropDeferred()
	if c.isEvent() || c.session() != nil {
		c.finish(err)
	}
	if z != nil {
		z.close(s)
	}
}
