package engine

import (
	"errors"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/internal/session"
)

// receiver is where the one frame reader delivers what the peer sent, in
// order, and where the close state machine reports the end: the seam
// between the reader and the two APIs. Its methods run on the loop, but
// closed, which runs where the WebSocket became closed (on the loop for
// the event API).
type receiver interface {
	// message delivers a whole message: fragments joined, inflated, UTF-8
	// checked. p is valid during the call only. It returns false when the
	// receiver cannot take it (the blocking API's unread limit); the
	// connection then fails with 1008.
	message(c *connection, t conn.MessageType, p []byte) bool
	// peerClosed reports the peer's close frame; the WebSocket is in
	// StateCloseReceived.
	peerClosed(c *connection, code conn.StatusCode, reason []byte)
	// failed reports that the connection failed because of what the peer
	// sent after the messages already delivered; reading has stopped.
	failed(c *connection, err *conn.CloseError)
	// closed reports that the WebSocket is closed (see finish).
	closed(c *connection, err error)
}

// eventReceiver delivers to the connection's EventHandler. It has no
// state: a nil *eventReceiver is one (the pointer makes the interface call
// direct, without the wrapper a value receiver would need).
type eventReceiver struct{}

func (*eventReceiver) message(c *connection, t conn.MessageType, p []byte) bool {
	e := c.events()
	e.h().OnMessage(e, t, p)
	return true
}

// peerClosed answers the peer's close at once, echoing its code; OnClose
// reports the peer's code and reason.
func (*eventReceiver) peerClosed(c *connection, code conn.StatusCode, reason []byte) {
	_ = c.localClose(code, "", &conn.CloseError{Code: code, Reason: string(reason)})
}

// failed sends the close frame now: the callbacks of the messages before
// the violation have run, and what they sent is queued before it.
func (*eventReceiver) failed(c *connection, err *conn.CloseError) { c.failNow(err) }

// closed calls OnClose.
func (*eventReceiver) closed(c *connection, err error) {
	var ce *conn.CloseError
	if !errors.As(err, &ce) {
		ce = errAbnormal
	}
	e := c.events()
	e.call(func() { e.h().OnClose(e, ce) })
}

// blockingReceiver delivers to a blocking session's inbox, for Receive.
type blockingReceiver struct{ s *session.Session }

func (b blockingReceiver) message(c *connection, t conn.MessageType, p []byte) bool {
	n, ok := b.s.Deliver(t, p, c.srv.cfg.MaxUnreadBytes)
	c.srv.budget.add(n)
	return ok
}

// peerClosed queues the close after the messages before it; the handler
// answers it, or the loop does after CloseTimeout (expire).
func (b blockingReceiver) peerClosed(c *connection, code conn.StatusCode, reason []byte) {
	c.srv.budget.add(b.s.PeerClose(code, reason))
	c.setDue(c.srv.coarseNow().add(c.srv.cfg.CloseTimeout))
}

// failed queues the failure after the messages before it: the receiver
// sends its close frame when it gets there, or the loop does after
// CloseTimeout (expire).
func (b blockingReceiver) failed(c *connection, err *conn.CloseError) {
	c.srv.failures.set(c, err)
	c.signals.mark(failMark, true)
	b.s.Failed(err)
	c.setDue(c.srv.coarseNow().add(c.srv.cfg.CloseTimeout))
	// The connection has failed: it is gone within CloseTimeout plus
	// WriteTimeout from now, however long the receiver and the peer take.
	c.armEnding()
}

func (b blockingReceiver) closed(c *connection, err error) { b.s.Closed(err) }
