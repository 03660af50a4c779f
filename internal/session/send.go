package conn

import "github.com/volley-ws/volley/codec"

// Send sends data as one whole message of type t (Text or Binary). Text
// data must be valid UTF-8. It blocks while the connection's unsent bytes
// are over the engine's limit, up to the write timeout. data is copied
// before Send returns.
//
// Safe for concurrent use; it returns ErrMessageInProgress while a message
// started with SendFrame is unfinished, and ErrClosed once this side has
// sent its close frame or the connection ended.
func (w *WebSocket) Send(t MessageType, data []byte) error {
	if t != Text && t != Binary {
		return ErrInvalidMessageType
	}
	if t == Text && !codec.ValidUTF8(data) {
		return ErrInvalidUTF8
	}
	w.sendMu.Lock()
	defer w.sendMu.Unlock()
	if w.sendType != 0 {
		return ErrMessageInProgress
	}
	if !w.canSend() {
		return ErrClosed
	}
	return w.t.WriteData(t, true, true, data, w.flushNow())
}

// SendText sends s as one Text message. See Send.
func (w *WebSocket) SendText(s string) error {
	return w.Send(Text, unsafeBytes(s))
}

// SendBinary sends data as one Binary message. See Send.
func (w *WebSocket) SendBinary(data []byte) error {
	return w.Send(Binary, data)
}

// SendFrame sends data as one frame of a message of type t. The first call
// starts a message; endOfMessage finishes it. Every fragment of a message
// must have the same type, and Text fragments taken together must be valid
// UTF-8 (a fragment may end inside a character). Until the message ends,
// Send returns ErrMessageInProgress: send a fragmented message from one
// goroutine. data is copied before SendFrame returns. Safe for concurrent
// use with the other send methods.
//
// On a connection with permessage-deflate, the fragments of a message are
// compressed as one stream (each frame carries what its fragment
// compressed to, flushed; RSV1 is set on the first frame only), whatever
// the fragment sizes.
func (w *WebSocket) SendFrame(data []byte, t MessageType, endOfMessage bool) error {
	if t != Text && t != Binary {
		return ErrInvalidMessageType
	}
	w.sendMu.Lock()
	defer w.sendMu.Unlock()
	first := w.sendType == 0
	if !first && t != w.sendType {
		return ErrInvalidMessageType
	}
	if t == Text {
		if first {
			w.sendUTF8.Reset()
		}
		v := w.sendUTF8
		if !v.Write(data) || (endOfMessage && !v.Complete()) {
			return ErrInvalidUTF8
		}
		w.sendUTF8 = v
	}
	if !w.canSend() {
		return ErrClosed
	}
	if err := w.t.WriteData(t, first, endOfMessage, data, w.flushNow()); err != nil {
		return err
	}
	if endOfMessage {
		w.sendType = 0
	} else {
		w.sendType = t
	}
	return nil
}
