package conn

// Receive returns the next whole message, joining fragments. It blocks until
// a message arrives or the connection ends. Queued messages are returned
// even after the connection ended; then the peer's close arrives as a
// Message of type Close (the state becomes StateCloseReceived, or
// StateClosed when this side had already sent its close), and later calls
// return ErrClosed. A connection the server failed (a protocol violation, a
// message over the size limit, invalid UTF-8) ends with a *CloseError
// carrying the code the server sent; one that ended without a close
// handshake ends with a *CloseError of StatusAbnormalClosure.
//
// Message.Data is valid until the next Receive or ReceiveFrame. Receive and
// ReceiveFrame belong to one goroutine at a time; Receive returns
// ErrMessageInProgress while a message is half read with ReceiveFrame.
//
// On a connection with permessage-deflate, a compressed message is
// inflated by Receive itself, on the calling goroutine (not on the event
// loop). A message that does not inflate fails the connection there: close
// 1007 for bad data or invalid UTF-8 in text, 1009 for one that inflates
// past the engine's message size limit; Receive then returns the
// *CloseError, and so does every later call.
func (w *WebSocket) Receive() (Message, error) {
	if w.rtype != 0 {
		return Message{}, ErrMessageInProgress
	}
	if w.rfailed {
		return Message{}, w.receiveFailure()
	}
	if w.asm != nil {
		w.dropAssembly()
	}
	// The common case stays in this small frame: a goroutine parked in
	// Receive then uses little enough stack for the runtime to shrink it
	// back to the minimum, which is most of an idle session's memory.
	t, fin, p, err := w.nextRecord()
	if err == nil && fin && t != Close && !w.rdeflated {
		return Message{Type: t, Data: p}, nil
	}
	return w.receiveRest(t, fin, p, err)
}

// receiveRest finishes Receive for a close, an error or a fragmented
// message.
func (w *WebSocket) receiveRest(t MessageType, fin bool, p []byte, err error) (Message, error) {
	for {
		if err != nil {
			w.dropAssembly()
			return Message{}, err
		}
		if t == Close {
			w.dropAssembly()
			return w.closeMessage(p), nil
		}
		if w.asm == nil {
			w.asm = w.t.Config().Pool.Get()
			w.rtype = t
		}
		w.asm.B = append(w.asm.B, p...)
		if fin {
			t, w.rtype = w.rtype, 0
			if w.rdeflated {
				data, err := w.inflate(t)
				if err != nil {
					return Message{}, err
				}
				return Message{Type: t, Data: data}, nil
			}
			return Message{Type: t, Data: w.asm.B}, nil
		}
		t, fin, p, err = w.nextRecord()
	}
}

func (w *WebSocket) dropAssembly() {
	w.rtype = 0
	if w.asm != nil {
		w.t.Config().Pool.Put(w.asm)
		w.asm = nil
	}
}

// ReceiveFrame copies the next received bytes into buf and describes them.
// A frame larger than buf is returned over several calls; EndOfMessage is
// set on the call that returns a message's last bytes. Control frames are
// never returned, except the peer's close (Type Close, Count 0). Errors are
// those of Receive. ReceiveFrame belongs to one goroutine at a time.
//
// On a connection with permessage-deflate, a compressed message is
// inflated whole when ReceiveFrame reaches it, with the failures Receive
// describes: ReceiveFrame then returns its inflated bytes in pieces of at
// most len(buf), and the sender's fragment boundaries are not kept.
func (w *WebSocket) ReceiveFrame(buf []byte) (ReceiveResult, error) {
	if w.asm != nil {
		w.t.Config().Pool.Put(w.asm)
		w.asm = nil
	}
	if w.rfailed {
		return ReceiveResult{}, w.receiveFailure()
	}
	if w.rpart == nil {
		t, fin, p, err := w.nextRecord()
		var m Message
		switch {
		case err == nil && t == Close:
			m = w.closeMessage(p)
		case err == nil && w.rdeflated:
			// A compressed message is joined and inflated whole, as
			// Receive does, then handed out in pieces of len(buf).
			m, err = w.receiveRest(t, fin, p, nil)
			t, p, fin = m.Type, m.Data, true
		}
		if err != nil {
			w.rtype = 0
			return ReceiveResult{}, err
		}
		if t == Close {
			w.rtype = 0
			return ReceiveResult{Type: Close, EndOfMessage: true, CloseStatus: m.CloseStatus, CloseStatusDescription: m.CloseReason}, nil
		}
		if w.rtype == 0 {
			w.rtype = t
		}
		w.rpart, w.rpartFin = p, fin
	}
	n := copy(buf, w.rpart)
	w.rpart = w.rpart[n:]
	res := ReceiveResult{Count: n, Type: w.rtype}
	if len(w.rpart) == 0 {
		w.rpart = nil
		if w.rpartFin {
			res.EndOfMessage = true
			w.rtype = 0
		}
	}
	return res, nil
}

// closeMessage records the peer's close payload p and moves the state.
func (w *WebSocket) closeMessage(p []byte) Message {
	code, reason := decodeClose(p)
	w.mu.Lock()
	w.closeStatus, w.ending().reason = code, reason
	if s, ok := w.state.afterReceiveClose(); ok && s == StateCloseReceived {
		w.state = s
	}
	w.mu.Unlock()
	return Message{Type: Close, CloseStatus: code, CloseReason: reason}
}

// nextRecord returns the next queued record, blocking until one arrives or
// the stream ends. The payload aliases the current batch buffer, which is
// recycled when the receiver takes the next batch.
func (w *WebSocket) nextRecord() (MessageType, bool, []byte, error) {
	for {
		if w.rbuf != nil && w.roff < len(w.rbuf.B) {
			t, fin, p, next := readRecord(w.rbuf.B, w.roff)
			w.rdeflated = t&recDeflated != 0
			t &^= recDeflated
			w.roff = next
			// Replies to this message wait for the rest of the batch.
			w.setCorked(next < len(w.rbuf.B))
			return t, fin, p, nil
		}
		if err := w.takeBatch(); err != nil {
			return 0, false, nil, err
		}
	}
}

// takeBatch recycles the consumed batch and takes the next one, waiting
// for the event loop to queue it. It returns the stream's end error when
// nothing more will arrive.
func (w *WebSocket) takeBatch() error {
	if w.batching.And(^uint32(unflushed))&unflushed != 0 {
		w.t.Flush()
	}
	w.mu.Lock()
	if old := w.rbuf; old != nil {
		w.unread -= len(old.B)
		w.rbuf, w.roff = nil, 0
		w.t.Config().Pool.Put(old)
	}
	for w.inbox == nil {
		if w.ended {
			err := w.endErr()
			w.mu.Unlock()
			if err == nil {
				err = ErrClosed
			}
			return err
		}
		w.waiting = true
		w.mu.Unlock()
		w.wakeup.Lock()
		w.mu.Lock()
	}
	w.rbuf, w.inbox = w.inbox, nil
	w.mu.Unlock()
	return nil
}
