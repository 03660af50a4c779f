package conn

import (
	"errors"

	"github.com/valyala/bytebufferpool"

	"github.com/volley-ws/volley/codec"
)

// Inflater decompresses whole permessage-deflate messages; *codec.Inflater
// implements it. Inflate appends the decompressed msg to dst, stopping with
// an error once more than limit bytes came out.
type Inflater interface {
	Inflate(dst, msg []byte, limit int64) ([]byte, error)
}

// SetInflater makes the WebSocket inflate the messages the engine queues
// with FrameDeflated, on the receiving goroutine, up to maxMessage bytes
// each. in then belongs to the receiving goroutine. Call it before the
// first frame is queued.
func (p Peer) SetInflater(in Inflater, maxMessage int64) {
	p.w.z = &inflation{in: in, max: maxMessage}
}

// inflation is a WebSocket's permessage-deflate receive state, kept apart
// so that WebSockets without compression do not carry it. Receiving
// goroutine only.
type inflation struct {
	in  Inflater
	max int64
	out *bytebufferpool.ByteBuffer // the last inflated message
}

// FrameDeflated is Frame for the bytes of a compressed message (RSV1 on its
// first frame): they are queued as received and inflated by Receive or
// ReceiveFrame once the whole message is there.
func (p Peer) FrameDeflated(t MessageType, fin bool, payload []byte) bool {
	return p.frame(t|recDeflated, fin, payload)
}

// inflate decompresses the compressed message in w.asm into w.z.out and
// returns it, or fails the connection: bad data or invalid UTF-8 in text
// close it with 1007, a message inflating past the limit with 1009.
// Receiving goroutine only.
func (w *WebSocket) inflate(t MessageType) ([]byte, error) {
	z := w.z
	if z.out == nil {
		z.out = w.t.Config().Pool.Get()
	}
	var err error
	z.out.B, err = z.in.Inflate(z.out.B[:0], w.asm.B, z.max)
	w.t.Config().Pool.Put(w.asm)
	w.asm = nil
	if err == nil && t == Text && !codec.ValidUTF8(z.out.B) {
		err = codec.ErrInvalidUTF8
	}
	if err != nil {
		return nil, w.failReceive(err)
	}
	return z.out.B, nil
}

// failReceive fails the connection for a violation found by the receiving
// goroutine: the close frame with the violation's code goes out, the TCP
// connection closes after it, the state becomes StateAborted, and this and
// every later Receive return the *CloseError.
func (w *WebSocket) failReceive(err error) error {
	code, reason := StatusProtocolError, err.Error()
	var ce *codec.Error
	if errors.As(err, &ce) {
		code, reason = StatusCode(ce.Code), ce.Reason
	}
	cerr := &CloseError{Code: code, Reason: reason}
	w.mu.Lock()
	w.ended = true
	w.ending().err = cerr
	w.setFinal(StateAborted)
	w.mu.Unlock()
	w.rfailed = true
	_ = w.t.WriteClose(code, reason, true)
	return cerr
}
