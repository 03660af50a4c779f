package engine

import (
	"github.com/volley-ws/volley/codec"
	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/internal/bufpool"
)

// The frame reader, one for both APIs. Frames are parsed, unmasked and
// validated in place in gnet's inbound buffer, on the connection's loop;
// fragments are joined, compressed messages inflated (at most
// MaxMessageSize bytes), text checked for UTF-8, and each whole message is
// handed to the connection's receiver (receiver.go) in the order the peer
// sent it. A frame that has not fully arrived is consumed as far as it goes
// (data frames) or waited for (control frames, at most 125 bytes), so gnet
// never has to buffer more than one partial control frame.
//
// Between messages there is no reader state to keep, and an idle
// connection keeps none: the state of a message in progress lives in
// connection.msg, taken from the server's pool only while a frame or a
// fragmented message spans reads, and its join buffer comes from the
// server's message pool, which does not keep large buffers.

// messageState is the reader's state inside a message: the frame being
// read and the message it belongs to.
type messageState struct {
	remaining int64
	msgLen    int64 // bytes of the message so far, as received (compressed or not)
	mask      [4]byte
	maskOff   uint8 // offset into mask of the next payload byte, 0-3
	inFrame   bool
	fin       bool
	msgType   conn.MessageType // type of the message in progress, 0 between messages
	deflated  bool             // the message in progress is compressed (RSV1 on its first frame)
	utf8      codec.Validator
	// asm joins the parts of a message that does not arrive whole in one
	// read; nil otherwise.
	asm *bufpool.Buffer
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

// dropMessage gives back the message state: st's join buffer to the
// message pool, and the held state, if any, to its pool. st is the current
// state: readFrames' copy, or c.msg itself. Loop only.
func (c *connection) dropMessage(st *messageState) {
	if st.asm != nil {
		c.srv.msgs.Put(st.asm)
		st.asm = nil
	}
	if c.msg != nil {
		*c.msg = messageState{}
		c.srv.messages.Put(c.msg)
		c.msg = nil
	}
}

// Failures the reader reports besides the codec's.
var (
	errTooBig       = codec.ErrMessageTooBig
	errUnreadLimit  = &conn.CloseError{Code: conn.StatusPolicyViolation, Reason: "handler is not reading: unread limit reached"}
	errInternal     = &conn.CloseError{Code: conn.StatusInternalError, Reason: "internal error"}
	errIdle         = &conn.CloseError{Code: conn.StatusGoingAway, Reason: "idle timeout"}
	errPeerNotRead  = &conn.CloseError{Code: conn.StatusPolicyViolation, Reason: "peer is not reading"}
	errOverBudget   = &conn.CloseError{Code: conn.StatusTryAgainLater, Reason: "server over its memory budget"}
	errShuttingDown = &conn.CloseError{Code: conn.StatusGoingAway, Reason: "server shutting down"}
)

// readFrames parses frames from data and returns how many bytes it
// consumed; its caller stores the counts it staged (loopCounts.endRead). Only consumed bytes are unmasked, so bytes left for the next
// call are untouched. Loop only.
func (c *connection) readFrames(data []byte) int {
	var st messageState
	if c.msg != nil {
		st = *c.msg
	}
	defer c.keep(&st)
	r := &st
	rcv := c.receiver()
	var allowed byte
	if c.z != nil {
		allowed = codec.Rsv1
	}
	off := 0
	for !c.flags.has(readDone) {
		if !r.inFrame {
			h, n, err := codec.ParseWireHeader(data[off:])
			if err == nil && n > 0 {
				err = h.Check(codec.FromClient, allowed, r.msgType != 0)
			}
			if err != nil {
				c.fail(err.(*conn.CloseError))
				return len(data)
			}
			if n == 0 {
				break
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
			if op != codec.OpContinuation {
				// A new message: the previous one's length must not count
				// against this one's limit.
				r.msgLen = 0
			}
			if r.msgLen+h.Length > c.srv.cfg.MaxMessageSize {
				c.fail(errTooBig)
				return len(data)
			}
			t := conn.Binary
			if op == codec.OpText {
				t = conn.Text
			}
			if h.Fin() && op != codec.OpContinuation && h.Length <= int64(len(data)-off-n) {
				// The common case: a whole, unfragmented message in the
				// buffer. No state to keep across it.
				end := off + n + int(h.Length)
				p := data[off+n : end]
				codec.Mask(p, h.Key(), 0)
				off = end
				if h.Rsv()&codec.Rsv1 != 0 {
					c.inflate(rcv, t, p)
				} else if t == conn.Text && !codec.ValidUTF8(p) {
					c.fail(codec.ErrInvalidUTF8)
				} else if !c.deliver(rcv, t, p) {
					c.fail(errUnreadLimit)
				}
				if c.signals.state().Final() {
					break // the application aborted or closed in the callback
				}
				continue
			}
			if op != codec.OpContinuation {
				r.msgType = t
				r.utf8.Reset()
				r.deflated = h.Rsv()&codec.Rsv1 != 0
			}
			off += n
			r.inFrame, r.fin, r.mask = true, h.Fin(), h.Key()
			r.remaining, r.maskOff = h.Length, 0
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
		r.msgLen += k
		if !r.deflated && r.msgType == conn.Text && !r.utf8.Write(chunk) {
			c.fail(codec.ErrInvalidUTF8) // at the first bad byte, mid-message
			return len(data)
		}
		if r.asm == nil {
			r.asm = c.srv.msgs.Get()
		}
		r.asm.B = append(r.asm.B, chunk...)
		if r.remaining > 0 {
			continue
		}
		r.inFrame = false
		if !r.fin {
			continue
		}
		t, asm := r.msgType, r.asm
		r.msgType, r.asm = 0, nil
		switch {
		case r.deflated:
			c.inflate(rcv, t, asm.B)
		case t == conn.Text && !r.utf8.Complete():
			c.fail(codec.ErrInvalidUTF8)
		case !c.deliver(rcv, t, asm.B):
			c.fail(errUnreadLimit)
		}
		c.srv.msgs.Put(asm) // a callback's panic leaves it to the garbage collector
		if c.signals.state().Final() {
			break
		}
	}
	if c.flags.has(readDone) {
		return len(data)
	}
	return off
}

// inflate decompresses a whole compressed message (at most MaxMessageSize
// bytes: close 1009 beyond, 1007 for bad data), validates text, and
// delivers it. Loop only: one message inflates at a time per loop, so many
// connections sending compressed messages at once cost the loops' count of
// buffers, not one each.
func (c *connection) inflate(rcv receiver, t conn.MessageType, msg []byte) {
	out := c.srv.msgs.Get()
	var err error
	out.B, err = c.z.infl.Inflate(out.B[:0], msg, c.srv.cfg.MaxMessageSize)
	if err == nil && t == conn.Text && !codec.ValidUTF8(out.B) {
		err = codec.ErrInvalidUTF8
	}
	switch {
	case err != nil:
		c.fail(err.(*conn.CloseError))
	case !c.deliver(rcv, t, out.B):
		c.fail(errUnreadLimit)
	}
	c.srv.msgs.Put(out)
}

// deliver counts a whole, valid message and hands it to rcv (see
// receiver.message). Loop only.
func (c *connection) deliver(rcv receiver, t conn.MessageType, p []byte) bool {
	c.counts().received(t, len(p))
	return rcv.message(c, t, p)
}

// control handles a ping, pong or close frame. Loop only.
func (c *connection) control(op codec.OpCode, p []byte) {
	lc := c.counts()
	switch op {
	case codec.OpPing:
		bump(&lc.recv.ping, 1)
		c.out.appendPong(&c.srv.sends, p)
	case codec.OpPong:
		bump(&lc.recv.pong, 1)
		c.flags.set(pinged, false)
	case codec.OpClose:
		code, reason, err := codec.ParseClosePayload(p)
		if err != nil {
			c.fail(err.(*conn.CloseError))
			return
		}
		bump(&lc.recv.close, 1)
		bump(&lc.closesRecv[closeBucket(code)], 1)
		c.signals.mark(peerCloseMark, true)
		c.peerClose(code, reason)
	}
}
