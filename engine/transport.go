package engine

import (
	"net"
	"time"

	"github.com/volley-ws/volley/conn"
)

// A connection is the session.Transport of its blocking WebSocket: the
// session sends through the one send path (send.go) and closes through the
// one close state machine (closing.go). Every method is safe from any
// goroutine.

// Send implements session.Transport.
func (c *connection) Send(t conn.MessageType, first, fin bool, payload []byte, wait, flush bool) error {
	how := sendNoWait
	if wait {
		how = sendWait
	}
	if err := c.send(t, first, fin, payload, how); err != nil {
		return err
	}
	if flush {
		// Written from this goroutine when it can be (see Flush).
		c.Flush()
	} else {
		// The receiver has messages of its batch to answer: the frame
		// waits for its Flush, or for the ticker (corkedTooLong).
		c.signals.cork()
		c.srv.ticks.wakeIfAsleep()
	}
	return nil
}

// Close implements session.Transport.
func (c *connection) Close(code conn.StatusCode, reason string) error {
	return c.localClose(code, reason, nil)
}

// Fail implements session.Transport: the receiver reached the failure.
func (c *connection) Fail(err *conn.CloseError) {
	if c.signals.has(failMark) {
		c.failNow(err)
	}
}

// Abort implements session.Transport.
func (c *connection) Abort() { c.abort(conn.ErrAborted) }

// Unsent implements session.Transport.
func (c *connection) Unsent() int { return c.unsentBytes() }

// Consumed implements session.Transport: the receiver is done with n bytes
// of queued messages.
func (c *connection) Consumed(n int) { c.srv.budget.add(-n) }

// Subprotocol implements session.Transport.
func (c *connection) Subprotocol() string { return c.subprotocol() }

// RemoteAddr implements session.Transport.
func (c *connection) RemoteAddr() net.Addr { return c.gc.RemoteAddr() }

// CloseTimeout implements session.Transport.
func (c *connection) CloseTimeout() time.Duration { return c.srv.cfg.CloseTimeout }
