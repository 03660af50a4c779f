package engine

import (
	"github.com/volley-ws/volley/conn"
)

// The close state machine, one for both APIs. The state (conn.State) lives
// in connection.signals so that State reads it without a lock; transitions
// that queue a close frame happen under out.mu, so the frame and the state
// agree. Whoever moves the state to StateClosed or StateAborted tells the
// receiver (finish), once: the event API's OnClose, the blocking session's
// Closed. The WebSocket is closed then; the TCP connection ends afterwards,
// when the close frame is written and the peer's FIN arrives, bounded by
// the close and write timeouts (the hard end, see armEnding).

// errAbnormal is how a WebSocket that ended without a closing handshake
// is reported.
var errAbnormal = &conn.CloseError{Code: conn.StatusAbnormalClosure, Reason: "connection closed without a close handshake"}

// localClose sends this side's close frame (the connection's topic
// subscriptions end: nothing more can be sent): StateOpen becomes
// StateCloseSent (the peer has CloseTimeout to answer), StateCloseReceived
// becomes StateClosed (the TCP connection ends once the frame is written),
// which finish reports with report. It returns conn.ErrClosed in any other
// state. Any goroutine.
func (c *connection) localClose(code conn.StatusCode, reason string, report error) error {
	o := &c.out
	o.mu.Lock()
	if o.closed() {
		o.mu.Unlock()
		return conn.ErrClosed
	}
	switch c.signals.state() {
	case conn.StateOpen:
		c.signals.setState(conn.StateCloseSent)
		c.appendClose(code, reason, false)
		c.armEnding()
		c.setDue(c.srv.coarseNow().add(c.srv.cfg.CloseTimeout))
		c.unlockAndWake()
		c.srv.unsubscribeAll(c) // nothing more can be sent to it
		return nil
	case conn.StateCloseReceived:
		c.signals.setState(conn.StateClosed)
		c.appendClose(code, reason, true)
		c.armEnding()
		c.unlockAndWake()
		c.finish(report)
		return nil
	}
	o.mu.Unlock()
	return conn.ErrClosed
}

// peerClose handles the peer's close frame (validated). Loop only.
func (c *connection) peerClose(code conn.StatusCode, reason []byte) {
	c.flags.set(readDone, true)
	o := &c.out
	o.mu.Lock()
	switch c.signals.state() {
	case conn.StateOpen:
		c.signals.setState(conn.StateCloseReceived)
		o.mu.Unlock()
		// The event API answers at once; a blocking handler answers when
		// it has read the messages before the close, within CloseTimeout.
		c.receiver().peerClosed(c, code, reason)
	case conn.StateCloseSent:
		c.signals.setState(conn.StateClosed)
		o.flags |= closeAfter
		o.mu.Unlock()
		if s := c.session(); s != nil {
			// The close follows the messages before it, for Receive.
			c.srv.budget.add(s.PeerClose(code, reason))
		}
		c.finish(&conn.CloseError{Code: code, Reason: string(reason)})
	default:
		o.mu.Unlock()
	}
}

// fail fails the WebSocket connection (RFC 6455 section 7.1.7) because of
// what the peer sent: reading stops, and the close frame with err's code
// goes out after everything the application sent in answer to the
// messages that came before the violation. For the event API that is now:
// those messages' callbacks have run. A blocking session reads them first
// (session.Failed); its receiver sends the close frame when it gets to the
// failure (failNow, through session.Transport.Fail), or the loop does
// after CloseTimeout. Loop only.
func (c *connection) fail(err *conn.CloseError) {
	c.flags.set(readDone, true)
	c.logFailure(err)
	if c.signals.state() != conn.StateOpen {
		c.failNow(err)
		return
	}
	c.receiver().failed(c, err)
}

// failNow sends the close frame of a failure (unless a close frame went
// out already) and ends the TCP connection once it is written: the
// WebSocket becomes StateAborted. Any goroutine.
func (c *connection) failNow(err *conn.CloseError) {
	if c.signals.mark(failMark, false) {
		c.srv.failures.take(c)
	}
	o := &c.out
	o.mu.Lock()
	if !o.closed() && err.Code != conn.StatusAbnormalClosure {
		c.appendClose(err.Code, err.Reason, true)
		c.armEnding()
	} else {
		// A close frame went out already, or the peer's side ended
		// without one (1006 never travels): what is queued is written,
		// then the connection ends.
		o.flags |= closeAfter
	}
	prev := c.signals.setState(conn.StateAborted)
	c.unlockAndWake()
	c.srv.unsubscribeAll(c)
	if !prev.Final() {
		c.finish(err)
	}
}

// pendingFailure returns the failure a blocking receiver has yet to reach,
// or nil.
func (c *connection) pendingFailure() *conn.CloseError {
	if !c.signals.has(failMark) {
		return nil
	}
	err, _ := c.srv.failures.get(c)
	return err
}

// closeNow ends the WebSocket from this side, whatever its state: in
// StateOpen it sends a close frame with code (or a pending failure's),
// in StateCloseReceived it answers the peer with the peer's code; a close
// already sent keeps waiting for its answer. For the handler's return,
// the server's shutdown, the idle timeout and the memory budget. Any
// goroutine.
func (c *connection) closeNow(code conn.StatusCode, reason string) {
	if err := c.pendingFailure(); err != nil {
		c.failNow(err)
		return
	}
	switch c.signals.state() {
	case conn.StateOpen:
		_ = c.localClose(code, reason, nil)
	case conn.StateCloseReceived:
		_ = c.localClose(c.peerCode(), "", nil)
	}
}

// peerCode returns the code to echo in answer to the peer's close.
func (c *connection) peerCode() conn.StatusCode {
	if s := c.session(); s != nil {
		if code := s.CloseStatus(); code != 0 {
			return code
		}
	}
	return conn.StatusNormalClosure
}

// expire acts on a passed close deadline in WebSocket mode: a failure the
// receiver did not reach in time is sent, a close the peer did not answer
// aborts the connection, a peer's close the handler did not answer is
// answered. Loop only.
func (c *connection) expire() {
	if err := c.pendingFailure(); err != nil {
		c.failNow(err)
		return
	}
	switch c.signals.state() {
	case conn.StateCloseSent:
		c.abort(conn.ErrCloseTimeout)
	case conn.StateCloseReceived:
		_ = c.localClose(c.peerCode(), "", nil)
	}
}

// abort ends the TCP connection at once, dropping what is unsent (the
// kernel's too: the connection is reset, so a peer that does not read
// cannot keep it, or its buffers, alive): the WebSocket becomes
// StateAborted, and the receiver learns of it with err (a blocking session
// at once, the event API's OnClose on the loop, as the connection closes).
// Any goroutine.
func (c *connection) abort(err error) {
	o := &c.out
	o.mu.Lock()
	wasDead := o.flags.has(dead)
	o.flags |= dead
	if err == conn.ErrWriteTimeout && !wasDead {
		o.flags |= timedOut
	}
	if o.buf != nil {
		c.srv.sends.put(o.buf)
		o.buf = nil
		o.pong = 0
	}
	c.signalRoom()
	o.mu.Unlock()
	if !wasDead {
		c.logAbort(err)
	}
	prev := c.signals.setState(conn.StateAborted)
	if !prev.Final() && prev != conn.StateConnecting && !c.isEvent() {
		c.finish(err)
	}
	if !wasDead {
		_ = c.gc.SetLinger(0)
		_ = c.gc.Close()
	}
}

// finish tells the receiver, once, that the WebSocket is closed: err is nil
// after a completed closing handshake for the blocking API, and otherwise
// why it ended (for the event API always a *conn.CloseError: the peer's
// close, the server's failure, or StatusAbnormalClosure). For the event API
// it must run on the loop.
func (c *connection) finish(err error) {
	if c.signals.mark(notifiedMark, true) {
		return
	}
	c.srv.unsubscribeAll(c) // nothing more is sent to a closed WebSocket
	c.receiver().closed(c, err)
}

// armEnding starts the hard end of a connection whose close frame is
// queued: whatever the peer does (not reading, not answering, not ending
// the TCP connection), the connection is gone within CloseTimeout plus
// WriteTimeout. out.mu may be held.
func (c *connection) armEnding() {
	if c.signals.mark(endingMark, true) {
		return
	}
	cfg := &c.srv.cfg
	c.setAux(c.srv.coarseNow().add(cfg.CloseTimeout+cfg.WriteTimeout), false)
}
