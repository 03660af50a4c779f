package engine

import (
	"errors"

	"github.com/gobwas/ws"
	"github.com/valyala/bytebufferpool"

	"github.com/volley-ws/volley/codec"
	"github.com/volley-ws/volley/conn"
)

// Frames are parsed, unmasked and validated in place in gnet's inbound
// buffer, on the connection's loop; a frame that has not fully arrived is
// consumed as far as it goes (data frames) or waited for (control frames,
// at most 125 bytes), so gnet never has to buffer more than one partial
// control frame.
//
// Between messages there is no parser state to keep, and an idle
// connection keeps none: the state of a message in progress lives in
// connection.msg, taken from the server's pool only while a frame or a
// fragmented message spans reads.

// messageState is the parser's state inside a message: the frame being
// read and the message it belongs to.
type messageState struct {
	remaining int64
	msgLen    int64
	mask      [4]byte
	maskOff   uint8 // offset into mask of the next payload byte, 0-3
	inFrame   bool
	fin       bool
	whole     bool             // the current frame is a whole compressed message present in the buffer
	msgType   conn.MessageType // type of the message in progress, 0 between messages
	deflated  bool             // the message in progress is compressed (RSV1 on its first frame)
	utf8      codec.Validator
	// asm joins the fragments of a message for the event API; nil
	// otherwise.
	asm *bytebufferpool.ByteBuffer
}

// idle reports whether st is between messages: nothing to keep.
func (st *messageState) idle() bool { return !st.inFrame && st.msgType == 0 }

// keep stores st, the state readFrames worked on, for the next read: in
// a pooled messageState when a message is in progress, nowhere (giving
// back the one held) between messages or once input is over. Loop only.
func (c *connection) keep(st *messageState) {
	switch {
	case !st.idle() && !c.flags.has(readDone):
		if c.msg == nil {
			c.msg, _ = c.srv.messages.Get().(*messageState)
			if c.msg == nil {
				c.msg = new(messageState)
			}
		}
		*c.msg = *st
	default:
		c.dropMessage(st)
	}
}

// dropMessage gives back the message state: st's joining buffer (the
// event API's) to the buffer pool, and the held state, if any, to its
// pool. st is the current state: readFrames' copy, or c.msg itself. Loop
// only.
func (c *connection) dropMessage(st *messageState) {
	if st.asm != nil {
		c.srv.pool.Put(st.asm)
		st.asm = nil
	}
	if c.msg != nil {
		*c.msg = messageState{}
		c.srv.messages.Put(c.msg)
		c.msg = nil
	}
}

// errTooBig is the failure for a message over MaxMessageSize.
var errTooBig = &codec.Error{Code: ws.StatusMessageTooBig, Reason: "message too big"}

// readFrames parses frames from data and returns how many bytes it
// consumed. Only consumed bytes are unmasked, so bytes left for the next
// call are untouched. Loop only.
func (c *connection) readFrames(data []byte) int {
	var st messageState
	if c.msg != nil {
		st = *c.msg
	}
	defer c.keep(&st)
	r := &st
	off := 0
	for !c.flags.has(readDone) {
		if !r.inFrame {
			h, n, err := codec.ParseWireHeader(data[off:])
			if err != nil {
				c.fail(err)
				return len(data)
			}
			if n == 0 {
				break
			}
			var allowed byte
			if c.z != nil {
				allowed = rsv1
			}
			if err := h.Check(allowed, r.msgType != 0); err != nil {
				c.fail(err)
				return len(data)
			}
			op := h.OpCode()
			if op.IsControl() {
				end := off + n + int(h.Length)
				if end > len(data) {
					break // wait for the whole control frame
				}
				p := data[off+n : end]
				codec.Mask(p, h.Key(), 0)
				off = end
				c.control(op, p)
				continue
			}
			if op != ws.OpContinuation {
				// A new message: the previous one's length must not count
				// against this one's limit.
				r.msgLen = 0
			}
			if r.msgLen+h.Length > c.srv.cfg.MaxMessageSize {
				c.fail(errTooBig)
				return len(data)
			}
			t := conn.Binary
			if op == ws.OpText {
				t = conn.Text
			}
			if h.Fin() && op != ws.OpContinuation && h.Rsv()&rsv1 == 0 && h.Length <= int64(len(data)-off-n) {
				// The common case: a whole, uncompressed, unfragmented
				// message in the buffer. No state to keep across it.
				end := off + n + int(h.Length)
				p := data[off+n : end]
				codec.Mask(p, h.Key(), 0)
				if t == conn.Text && !codec.ValidUTF8(p) {
					c.fail(codec.ErrInvalidUTF8)
					return len(data)
				}
				off = end
				c.deliver(r, t, true, p, true)
				continue
			}
			if op != ws.OpContinuation {
				r.msgType = t
				r.utf8.Reset()
				r.deflated = h.Rsv()&rsv1 != 0
			}
			off += n
			r.inFrame, r.fin, r.mask = true, h.Fin(), h.Key()
			r.remaining, r.maskOff = h.Length, 0
			// Only a compressed message gets here whole (the fast path
			// above takes the others).
			r.whole = h.Fin() && op != ws.OpContinuation && int64(len(data)-off) >= h.Length
		}
		k := r.remaining
		if avail := int64(len(data) - off); k > avail {
			k = avail
		}
		if k == 0 && r.remaining > 0 {
			break
		}
		chunk := data[off : off+int(k)]
		codec.Mask(chunk, r.mask, int(r.maskOff))
		r.maskOff = uint8((int(r.maskOff) + int(k)) & 3)
		r.remaining -= k
		off += int(k)
		frameDone := r.remaining == 0
		msgDone := frameDone && r.fin
		if r.deflated {
			r.msgLen += k
			t := r.msgType
			if frameDone {
				r.inFrame = false
				if msgDone {
					r.msgType = 0
				}
			}
			if c.isEvent() {
				c.inflate(r, t, msgDone, chunk, r.whole && msgDone)
			} else if !c.peer().FrameDeflated(t, msgDone, chunk) {
				c.fail(errUnreadLimit)
			}
			continue
		}
		if r.msgType == conn.Text && (!r.utf8.Write(chunk) || (msgDone && !r.utf8.Complete())) {
			c.fail(codec.ErrInvalidUTF8)
			return len(data)
		}
		r.msgLen += k
		t := r.msgType
		if frameDone {
			r.inFrame = false
			if msgDone {
				r.msgType = 0
			}
		}
		c.deliver(r, t, msgDone, chunk, false)
	}
	if c.flags.has(readDone) {
		return len(data)
	}
	return off
}

// deliver hands message bytes to the WebSocket or the event handler. whole
// means chunk is an entire message still in gnet's buffer. Loop only.
func (c *connection) deliver(r *messageState, t conn.MessageType, fin bool, chunk []byte, whole bool) {
	if c.isEvent() {
		c.events().deliver(r, t, fin, chunk, whole)
		return
	}
	if !c.peer().Frame(t, fin, chunk) {
		c.fail(errUnreadLimit)
	}
}

// inflate joins the parts of a compressed message for the event API and,
// at its end, decompresses it (at most MaxMessageSize bytes: close 1009
// beyond, 1007 for bad data), validates text, and calls OnMessage with it.
// whole means chunk is the entire message, still in gnet's buffer. (A
// blocking WebSocket gets the compressed bytes and inflates them on its own
// goroutine.) Loop only.
func (c *connection) inflate(r *messageState, t conn.MessageType, fin bool, chunk []byte, whole bool) {
	z := c.z
	if !whole {
		if z.zbuf == nil {
			z.zbuf = c.srv.pool.Get()
		}
		z.zbuf.B = append(z.zbuf.B, chunk...)
		if !fin {
			return
		}
		chunk = z.zbuf.B
	}
	out := c.srv.pool.Get()
	var err error
	out.B, err = z.infl.Inflate(out.B[:0], chunk, c.srv.cfg.MaxMessageSize)
	if z.zbuf != nil {
		c.srv.pool.Put(z.zbuf)
		z.zbuf = nil
	}
	if err == nil && t == conn.Text && !codec.ValidUTF8(out.B) {
		err = codec.ErrInvalidUTF8
	}
	if err != nil {
		c.srv.pool.Put(out)
		c.fail(err)
		return
	}
	c.deliver(r, t, true, out.B, true)
	c.srv.pool.Put(out)
}

var errUnreadLimit = &codec.Error{Code: ws.StatusPolicyViolation, Reason: "handler is not reading: unread limit reached"}

// control handles a ping, pong or close frame. Loop only.
func (c *connection) control(op ws.OpCode, p []byte) {
	switch op {
	case ws.OpPing:
		c.out.appendControl(&c.srv.sends, ws.OpPong, p)
	case ws.OpPong:
		c.flags.set(pinged, false)
	case ws.OpClose:
		code, reason, err := codec.ParseClosePayload(p)
		if err != nil {
			c.fail(err)
			return
		}
		c.flags.set(readDone, true)
		if c.isEvent() {
			c.events().peerClose(conn.StatusCode(code), reason)
			return
		}
		if c.peer().Close(p) {
			c.closeAfterFlush()
			return
		}
		c.setDue(c.srv.coarseNow().add(c.srv.cfg.CloseTimeout))
	}
}

// closeAfterFlush asks for the TCP close once everything queued is written.
func (c *connection) closeAfterFlush() {
	o := &c.out
	o.mu.Lock()
	o.closeAfter = true
	o.mu.Unlock()
}

// fail fails the WebSocket connection (RFC 6455 section 7.1.7): it sends a
// close frame with the violation's code unless one was sent already, stops
// reading and closes the TCP connection once the frame is written. Loop
// only.
func (c *connection) fail(err error) {
	c.flags.set(readDone, true)
	code, reason := conn.StatusProtocolError, err.Error()
	var ce *codec.Error
	if errors.As(err, &ce) {
		code, reason = conn.StatusCode(ce.Code), ce.Reason
	}
	o := &c.out
	o.mu.Lock()
	if !o.closeQueued && !o.dead {
		c.appendClose(code, reason, true)
	}
	o.closeAfter = true
	o.mu.Unlock()
	cerr := &conn.CloseError{Code: code, Reason: reason}
	if c.isEvent() {
		c.events().failed(cerr)
		return
	}
	c.peer().Fail(cerr)
}
