package engine

import "github.com/volley-ws/volley/conn"

// Backpressure. Everything the server queues for a peer counts against
// MaxUnsentBytes: the frames applications send, and what the server
// generates itself (pongs, close frames, HTTP responses). While the peer
// leaves more than that unread, the connection is stalled: the loop parses
// nothing more from it, so it takes no more work (no message reaches the
// application, no ping is answered, no request is served) until the peer
// drains, and it is aborted after WriteTimeout if it never does.
//
// gnet reads a socket whatever the handler does, and v2.9.7 gives no way
// to take a connection out of its poller's read interest (its poller is not
// reachable from a connection), so what arrives meanwhile waits, unparsed,
// in gnet's buffer: past one full read of it (ReadBufferSize; for an HTTP
// connection, the largest request the server accepts), the connection is
// aborted. (gnet's buffer grows by doubling and keeps its size while
// anything is left in it: the bound is kept small.) A stalled connection
// thus holds at most MaxUnsentBytes of output plus the last loop
// iteration's, and ReadBufferSize of input. The server's memory budget
// (budget.go) stalls the connections holding the most in the same way.

// mayParse reports whether the loop may parse the connection's input now,
// and starts or ends a stall. Loop only.
func (c *connection) mayParse(now moment) bool {
	if c.flags.phase() == phaseClosing {
		return true // input is discarded: that costs nothing
	}
	max := c.srv.cfg.MaxUnsentBytes
	full := int(c.out.gnetPending) >= max
	if full || c.signals.has(stalledMark) {
		full = c.refreshPending() >= max
	}
	c.setStalled(now, full)
	return !full && !c.signals.has(budgetMark)
}

// setStalled starts the stall when the unsent bytes are full, and ends it
// when they are not and the memory budget does not hold the connection
// either. Loop only.
func (c *connection) setStalled(now moment, full bool) {
	switch {
	case full:
		c.stall(now)
	case !c.signals.has(budgetMark) && c.signals.mark(stalledMark, false):
		c.unstalled()
	}
}

// stall starts a stall, unless the connection is stalled already: the
// loop watches its output drain, and aborts it after WriteTimeout if it
// never does. Loop only.
func (c *connection) stall(now moment) {
	if c.signals.mark(stalledMark, true) {
		return
	}
	c.logStall()
	if !c.signals.has(endingMark) {
		c.setAux(now.add(c.srv.cfg.WriteTimeout), false)
	}
	c.srv.watchDrain(c)
}

// checkStall starts or ends the stall from what gnet buffers after a
// flush, whether or not input arrived: output over MaxUnsentBytes is
// bounded by WriteTimeout even when the peer sends nothing, and a peer
// that drained it resumes even when it sends nothing (otherwise the
// stall's WriteTimeout would abort a connection that caught up). Loop
// only.
func (c *connection) checkStall(now moment) {
	if c.flags.phase() == phaseClosing {
		return
	}
	c.setStalled(now, int(c.out.gnetPending) >= c.srv.cfg.MaxUnsentBytes)
}

// unstalled restarts the idle checks of a connection whose peer drained
// its output. Loop only.
func (c *connection) unstalled() {
	if c.signals.has(endingMark) {
		return
	}
	c.aux.Store(0)
	if idle := c.srv.cfg.IdleTimeout; idle > 0 && c.flags.phase() == phaseWS && c.State() == conn.StateOpen {
		c.setAux(c.lastRead.add(idle/2), false)
	}
}

// refreshPending reads how much gnet still buffers for the connection,
// records it (and its change in the memory budget) and returns it. Loop
// only.
func (c *connection) refreshPending() int {
	pending := int32(min(c.gc.OutboundBuffered(), 1<<31-1))
	o := &c.out
	o.mu.Lock()
	if d := pending - o.gnetPending; d != 0 {
		o.gnetPending = pending
		c.srv.budget.add(int(d))
	}
	if o.unsent() < c.srv.cfg.MaxUnsentBytes {
		c.signalRoom()
	}
	o.mu.Unlock()
	return int(pending)
}
