package engine

import (
	"sync"

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
	flags       outFlags
	// slot is the index of the connection's loop in srv.counts, where the
	// loop adds what it writes; set once, at open (claimSlot).
	slot uint8
	// pong is the offset in buf of the pong frame queued since the last
	// flush, plus one; 0 for none. A later ping's pong replaces it (RFC
	// 6455 section 5.5.3 allows answering only the most recent ping).
	pong uint16
}

// outFlags are an outbox's state, under its mu.
type outFlags uint8

const (
	scheduled   outFlags = 1 << iota // a flush is coming: the loop is running or was woken
	closeQueued                      // a close frame is queued: no more frames
	closeAfter                       // close the TCP connection once everything is written
	dead                             // the connection is gone or aborted
	hasSession                       // connection.user is a blocking session (set with it, under mu)
	adopted                          // gnet closed the connection; its afterlife writes (afterlife.go)
	timedOut                         // aborted: the peer left its output unread for WriteTimeout
	midMessage                       // a fragmented message is being sent: no other data frame may come between
)

func (f outFlags) has(x outFlags) bool { return f&x != 0 }

// unsent is what counts against MaxUnsentBytes; mu must be held.
func (o *outbox) unsent() int {
	n := int(o.gnetPending)
	if o.buf != nil {
		n += o.buf.size()
	}
	return n
}

// closed reports whether nothing more may be queued: a close frame is, or
// the connection is gone. mu must be held.
func (o *outbox) closed() bool { return o.flags&(closeQueued|dead) != 0 }

// pending reports whether frames are queued and not yet handed to gnet.
func (o *outbox) pending() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf != nil && o.buf.size() > 0 && !o.flags.has(dead)
}

// isDead reports whether the connection is gone or aborted.
func (o *outbox) isDead() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.flags.has(dead)
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
func (o *outbox) appendFrame(pool *sendPool, op codec.OpCode, rsv byte, fin bool, payload []byte) {
	b := o.buffer(pool)
	b.B = codec.AppendFrame(b.B, fin, rsv, op, payload)
}

// appendFrameRef appends one unmasked, unfragmented, uncompressed frame
// whose payload, when the buffer allows it (see sendBuf.canReference), is
// written from where it is instead of copied; mu must be held.
func (o *outbox) appendFrameRef(pool *sendPool, op codec.OpCode, payload []byte) {
	b := o.buffer(pool)
	if !b.canReference(payload) {
		b.B = codec.AppendFrame(b.B, true, 0, op, payload)
		return
	}
	b.B = codec.AppendHeader(b.B, codec.Header{Fin: true, OpCode: op, Length: int64(len(payload))})
	b.reference(payload)
}

// appendPong queues the answer to a ping. While the peer leaves earlier
// output unread, it replaces the pong queued since the last flush, if any,
// when it has the same length (the usual case: keep-alive pings carry
// fixed-size payloads): RFC 6455 section 5.5.3 allows answering only the
// most recent ping, and a peer that pings without reading gets one pong per
// loop iteration, not one per ping. Nothing is queued after a close frame.
// Loop only.
func (o *outbox) appendPong(pool *sendPool, payload []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed() {
		return
	}
	b := o.buffer(pool)
	if at := int(o.pong) - 1; o.gnetPending > 0 && at >= 0 && at+2 <= len(b.B) && int(b.B[at+1]) == len(payload) && len(b.B)-at >= 2+len(payload) {
		copy(b.B[at+2:], payload)
		return
	}
	at := len(b.B)
	b.B = codec.AppendFrame(b.B, true, 0, codec.OpPong, payload)
	b.tally.pong++
	if at < 1<<16-1 && len(b.ext) == 0 {
		o.pong = uint16(at + 1)
	}
}

// appendPing queues a keep-alive ping unless a close frame is queued. Loop
// only.
func (o *outbox) appendPing(pool *sendPool) {
	o.mu.Lock()
	if !o.closed() {
		o.appendFrame(pool, codec.OpPing, 0, true, nil)
		o.buf.tally.ping++
	}
	o.mu.Unlock()
}

// appendClose appends a close frame and marks the outbox closed: later
// sends fail with conn.ErrClosed, and senders waiting for room are woken
// (their frames can no longer be sent). With thenClose, the TCP connection
// ends once everything is written. out.mu must be held; the caller arms
// the deadlines (closing.go).
func (c *connection) appendClose(code conn.StatusCode, reason string, thenClose bool) {
	o := &c.out
	var p [2 + 123]byte
	payload := codec.AppendClosePayload(p[:0], code, reason)
	o.appendFrame(&c.srv.sends, codec.OpClose, 0, true, payload)
	o.buf.tally.close = uint8(1 + closeBucket(code))
	o.flags |= closeQueued
	if thenClose {
		o.flags |= closeAfter
	}
	c.signalRoom()
}

// signalRoom wakes every sender waiting for room; out.mu must be held.
func (c *connection) signalRoom() {
	if c.signals.mark(roomAwaited, false) {
		if room, ok := c.srv.rooms.take(c); ok {
			close(room)
		}
	}
}

// roomWait returns a channel closed when room may have appeared; out.mu
// must be held.
func (c *connection) roomWait() <-chan struct{} {
	if c.signals.mark(roomAwaited, true) {
		if room, ok := c.srv.rooms.get(c); ok {
			return room
		}
	}
	room := make(chan struct{})
	c.srv.rooms.set(c, room)
	return room
}

// opcode maps a message type (Text or Binary) to its frame's opcode: its
// own for the first frame (conn.Text and conn.Binary are the opcodes' own
// values), a continuation for the others.
func opcode(t conn.MessageType, first bool) codec.OpCode {
	if !first {
		return codec.OpContinuation
	}
	return codec.OpCode(t)
}

// idle reports whether nothing is left to write.
func (o *outbox) idle() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.unsent() == 0
}

// The opcode of a message's first frame is its type's value.
var _ = [1]int{}[int(conn.Text)-int(codec.OpText)+int(conn.Binary)-int(codec.OpBinary)]
