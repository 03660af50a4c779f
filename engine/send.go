package engine

import (
	"time"

	"github.com/volley-ws/volley/codec"
	"github.com/volley-ws/volley/conn"
)

// The send path, one for both APIs: the event API's Conn.Send and
// SendNoCopy, and the blocking API's Send, TrySend and SendFrame (through
// session.Transport) all come here.

// sendHow is how send takes a payload and what it does when the peer is
// behind.
type sendHow uint8

const (
	sendWait   sendHow = iota // copied; waits for room, at most WriteTimeout (blocking Send)
	sendNoWait                // copied; conn.ErrSendQueueFull when over MaxUnsentBytes
	sendNoCopy                // as sendNoWait, but referenced when it can be (appendFrameRef)
	sendRetry                 // as sendNoWait, for a waiting sender's second look (not counted: its wait is)
)

// send queues one data frame of a message of type t: opcode t when first,
// otherwise a continuation, with FIN when fin. With permessage-deflate the
// payload is compressed first (a message of at least MinSize, or any
// fragmented one). The event API's frames are written when the loop
// flushes: at the end of the loop iteration for a callback's send (queue
// wakes the loop for another goroutine's); a blocking session's, by the
// session's Flush or cork (Transport.Send). Any goroutine.
func (c *connection) send(t conn.MessageType, first, fin bool, payload []byte, how sendHow) error {
	if z := c.z; z != nil {
		return c.sendCompressed(z, t, first, fin, payload, how)
	}
	return c.queue(t, first, 0, fin, payload, len(payload), how, false)
}

// sendCompressed is send on a permessage-deflate connection. Senders take
// turns under z.mu, so compressed bytes reach the outbox in the order they
// were compressed; a sender that waits for room does so before it takes
// its turn, so that one that must not wait (TrySend, the event API) is not
// held up behind it.
func (c *connection) sendCompressed(z *compression, t conn.MessageType, first, fin bool, payload []byte, how sendHow) error {
	for {
		if how == sendWait {
			if err := c.room(sendWait); err != nil {
				return err
			}
		}
		z.mu.Lock()
		if z.closed {
			z.mu.Unlock()
			return conn.ErrClosed
		}
		// The room again, now that it is this sender's turn: before
		// compressing, so nothing is half sent. With context takeover, a
		// compressed message that is not queued would corrupt the context
		// for the next ones.
		again := sendNoWait
		if how == sendWait {
			again = sendRetry
		}
		if err := c.room(again); err != nil {
			z.mu.Unlock()
			if how == sendWait && err == conn.ErrSendQueueFull {
				continue // others filled it meanwhile: wait again
			}
			return err
		}
		p, rsv, scratch := z.compress(c.srv, first, fin, payload)
		err := c.queue(t, first, rsv, fin, p, len(payload), how, true)
		if scratch != nil {
			c.srv.msgs.Put(scratch)
		}
		z.mu.Unlock()
		return err
	}
}

// room returns nil when a frame may be queued: the unsent bytes are under
// MaxUnsentBytes, after waiting for that with sendWait. It returns
// conn.ErrSendQueueFull (or, after waiting, conn.ErrWriteTimeout).
func (c *connection) room(how sendHow) error {
	o := &c.out
	o.mu.Lock()
	if !o.closed() && o.unsent() >= c.srv.cfg.MaxUnsentBytes {
		if how != sendWait {
			if how != sendRetry {
				c.countFull()
			}
			o.mu.Unlock()
			return conn.ErrSendQueueFull
		}
		if err := c.waitRoom(); err != nil {
			return err
		}
	}
	o.mu.Unlock()
	return nil
}

// queue appends one data frame of a message of type t (the first, or a
// continuation) unless a close frame is queued or the connection is gone;
// plain is its payload's length before compression. Over MaxUnsentBytes,
// sendWait waits for room and the others refuse, unless roomChecked (the
// compressed path checked it before compressing).
func (c *connection) queue(t conn.MessageType, first bool, rsv byte, fin bool, payload []byte, plain int, how sendHow, roomChecked bool) error {
	op := opcode(t, first)
	o := &c.out
	o.mu.Lock()
	if o.closed() {
		o.mu.Unlock()
		return conn.ErrClosed
	}
	if !roomChecked && o.unsent() >= c.srv.cfg.MaxUnsentBytes {
		if how != sendWait {
			c.countFull()
			o.mu.Unlock()
			return conn.ErrSendQueueFull
		}
		if err := c.waitRoom(); err != nil {
			return err
		}
		if o.closed() {
			o.mu.Unlock()
			return conn.ErrClosed
		}
	}
	o.buffer(&c.srv.sends).tally.data(t, fin, plain) // first: t and plain need not outlive it
	if how == sendNoCopy && rsv == 0 && fin && op != codec.OpContinuation {
		o.appendFrameRef(&c.srv.sends, op, payload)
	} else {
		o.appendFrame(&c.srv.sends, op, rsv, fin, payload)
	}
	if !fin {
		o.flags |= midMessage
	} else if o.flags.has(midMessage) {
		o.flags &^= midMessage
		if c.signals.has(deferredMark) {
			c.appendDeferred() // the publishes that waited for this message's end
		}
	}
	if c.isEvent() {
		c.unlockAndWake()
	} else {
		o.mu.Unlock()
	}
	return nil
}

// waitRoom waits, with out.mu held and released meanwhile, until the unsent
// bytes are under MaxUnsentBytes or nothing more can be sent. After
// WriteTimeout it aborts the connection and returns conn.ErrWriteTimeout,
// with out.mu released, as it does when the loop aborted the stalled
// connection first; otherwise it returns nil with out.mu held.
func (c *connection) waitRoom() error {
	o := &c.out
	var timer *time.Timer
	for !o.closed() && o.unsent() >= c.srv.cfg.MaxUnsentBytes {
		if timer == nil {
			c.countFull()
			timer = time.NewTimer(c.srv.cfg.WriteTimeout)
			defer timer.Stop()
		}
		room := c.roomWait()
		o.mu.Unlock()
		c.srv.watchDrain(c)
		select {
		case <-room:
		case <-timer.C:
			c.abort(conn.ErrWriteTimeout)
			return conn.ErrWriteTimeout
		}
		o.mu.Lock()
		if o.flags.has(timedOut) {
			// The loop's stall ran out first: the same timeout.
			o.mu.Unlock()
			return conn.ErrWriteTimeout
		}
	}
	return nil
}

// unsentBytes returns the bytes queued and not yet written. Any goroutine.
func (c *connection) unsentBytes() int {
	o := &c.out
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.unsent()
}
