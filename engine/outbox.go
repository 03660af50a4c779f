package engine

import (
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/volley-ws/volley/codec"
	"github.com/volley-ws/volley/conn"
)

// outbox queues what a connection sends until its event loop writes it.
// Any goroutine appends whole frames under mu; the loop takes the whole
// buffer at once and writes it with one system call (write, or writev when
// it references payloads in gnet's input: see sendBuf), so everything
// queued in one loop iteration leaves together. The buffer comes from a
// pool and goes back after each write: an idle connection holds none.
//
// Writes to the socket happen under wmu: the loop's flush through gnet, and
// a blocking WebSocket's direct writes from its own goroutine (Flush), which
// are allowed only while gnet buffers nothing for the connection, so bytes
// never reorder.
type outbox struct {
	wmu         sync.Mutex
	mu          sync.Mutex
	buf         *sendBuf
	gnetPending int32 // bytes gnet still buffers, as of the last flush (at most MaxInt32)
	scheduled   bool  // a flush is coming: the loop is running or was woken
	closeQueued bool  // a close frame is queued: no more frames
	closeAfter  bool  // close the TCP connection once everything is written
	dead        bool  // the connection is gone or aborted
}

// unsent is what counts against MaxUnsentBytes; mu must be held.
func (o *outbox) unsent() int {
	n := int(o.gnetPending)
	if o.buf != nil {
		n += o.buf.size()
	}
	return n
}

// full reports whether the unsent bytes are at or over max.
func (o *outbox) full(max int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.unsent() >= max
}

// buffer returns the queue's buffer, taking one from pool when there is
// none; mu must be held.
func (o *outbox) buffer(pool *sendPool) *sendBuf {
	if o.buf == nil {
		o.buf = pool.get()
	}
	return o.buf
}

// appendFrame appends one unmasked frame with the RSV bits rsv; mu must
// be held.
func (o *outbox) appendFrame(pool *sendPool, op ws.OpCode, rsv byte, fin bool, payload []byte) {
	b := o.buffer(pool)
	b.B = codec.AppendFrame(b.B, fin, rsv, op, payload)
}

// appendFrameRef appends one unmasked, unfragmented, uncompressed frame
// whose payload, when the buffer allows it (see sendBuf.canReference), is
// written from where it is instead of copied; mu must be held.
func (o *outbox) appendFrameRef(pool *sendPool, op ws.OpCode, payload []byte) {
	b := o.buffer(pool)
	if !b.canReference(payload) {
		b.B = codec.AppendFrame(b.B, true, 0, op, payload)
		return
	}
	b.B = codec.AppendHeader(b.B, ws.Header{Fin: true, OpCode: op, Length: int64(len(payload))})
	b.reference(payload)
}

// appendControl appends a ping or pong unless a close frame was queued or
// the connection is gone. The loop flushes it at the end of the iteration.
func (o *outbox) appendControl(pool *sendPool, op ws.OpCode, payload []byte) {
	o.mu.Lock()
	if !o.closeQueued && !o.dead {
		o.appendFrame(pool, op, 0, true, payload)
	}
	o.mu.Unlock()
}

// appendClose appends a close frame, marks the outbox closed and wakes
// the senders waiting for room (their frames can no longer be sent);
// out.mu must be held.
func (c *connection) appendClose(code conn.StatusCode, reason string, thenClose bool) {
	o := &c.out
	var p [2 + 123]byte
	payload := codec.AppendClosePayload(p[:0], ws.StatusCode(code), reason)
	o.appendFrame(&c.srv.sends, ws.OpClose, 0, true, payload)
	o.closeQueued = true
	if thenClose {
		o.closeAfter = true
	}
	c.signalRoom()
}

// signalRoom wakes every sender waiting for room; out.mu must be held.
func (c *connection) signalRoom() {
	if c.signals.setRoomWanted(false) {
		if room, ok := c.srv.rooms.take(c); ok {
			close(room)
		}
	}
}

// roomWait returns a channel closed when room may have appeared; out.mu
// must be held.
func (c *connection) roomWait() <-chan struct{} {
	if c.signals.setRoomWanted(true) {
		if room, ok := c.srv.rooms.get(c); ok {
			return room
		}
	}
	room := make(chan struct{})
	c.srv.rooms.set(c, room)
	return room
}

// opcode maps a message type to its frame opcode.
func opcode(t conn.MessageType, first bool) ws.OpCode {
	switch {
	case !first:
		return ws.OpContinuation
	case t == conn.Text:
		return ws.OpText
	default:
		return ws.OpBinary
	}
}

// deadline returns a timer channel for d from now.
func deadline(d time.Duration) (*time.Timer, <-chan time.Time) {
	t := time.NewTimer(d)
	return t, t.C
}

// idle reports whether nothing is left to write.
func (o *outbox) idle() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.unsent() == 0
}
