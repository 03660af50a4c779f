package conn

// Peer is the engine's handle on a WebSocket: the event loop reports through
// it what the peer sent and how the connection ended. It is meant for engine
// implementations; application code does not use it.
//
// Every method is safe for concurrent use with the WebSocket's methods;
// payloads are copied before a method returns.
type Peer struct{ w *WebSocket }

// WebSocket returns the WebSocket p reports to, or nil for the zero Peer.
func (p Peer) WebSocket() *WebSocket { return p.w }

// Frame queues a received data frame, or a part of one: t is the message's
// type, fin marks the message's last bytes. It returns false, queuing
// nothing, when the unread bytes would pass the MaxUnread limit.
func (p Peer) Frame(t MessageType, fin bool, payload []byte) bool {
	return p.frame(t, fin, payload)
}

func (p Peer) frame(t MessageType, fin bool, payload []byte) bool {
	w := p.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return true
	}
	n := recordHeader + len(payload)
	if max := w.t.Config().MaxUnread; max > 0 && w.unread > 0 && w.unread+n > max {
		return false
	}
	w.queue(t, fin, payload)
	return true
}

// queue appends a record and wakes a waiting receiver; mu must be held.
func (w *WebSocket) queue(t MessageType, fin bool, payload []byte) {
	if w.inbox == nil {
		w.inbox = w.t.Config().Pool.Get()
	}
	appendRecord(w.inbox, t, fin, payload)
	w.unread += recordHeader + len(payload)
	w.wake()
}

// Close reports the peer's close frame, whose payload (code and reason) the
// engine has validated. It returns true when this side had already sent its
// close frame: the handshake is complete, the state is StateClosed and the
// TCP connection can be closed once flushed. Otherwise the close is queued
// for Receive and the application is expected to answer with SendClose.
func (p Peer) Close(payload []byte) (complete bool) {
	w := p.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ended {
		return w.state == StateClosed
	}
	w.peerClosed = true
	w.peerStatus, _ = decodeClose(payload)
	w.ended = true
	if w.state == StateCloseSent {
		w.closeStatus, w.ending().reason = decodeClose(payload)
		w.setFinal(StateClosed)
		w.wake()
		return true
	}
	w.queue(Close, true, payload)
	return false
}

// Expire is called by the engine when a close handshake ran out of time or
// the handler returned without finishing it. After a peer's close that was
// not answered, it answers with the peer's code and returns (StateClosed);
// after this side's close that the peer did not answer, it aborts, and the
// stream ends with ErrCloseTimeout (so a waiting Close reports it even when
// the engine's deadline passes before Close's own timer); in StateOpen it
// sends a close frame with code, and the engine must call Expire again after
// the close timeout.
func (p Peer) Expire(code StatusCode) {
	w := p.w
	w.mu.Lock()
	switch {
	case w.state.Final():
		w.mu.Unlock()
	case w.peerClosed:
		echo := w.peerStatus
		w.setFinal(StateClosed)
		w.mu.Unlock()
		_ = w.t.WriteClose(echo, "", true)
	case w.state == StateCloseSent:
		w.setEndErr(ErrCloseTimeout)
		w.mu.Unlock()
		w.Abort()
	default:
		w.state = StateCloseSent
		w.mu.Unlock()
		_ = w.t.WriteClose(code, "", false)
	}
}

// Fail ends the stream because the connection failed: once the queued
// messages are read, Receive returns err. The state becomes StateAborted
// unless it is already final.
func (p Peer) Fail(err error) {
	w := p.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.ended {
		w.ended = true
		w.ending().err = err
	}
	if !w.state.Final() {
		w.setFinal(StateAborted)
	}
	w.wake()
}

// Gone reports that the TCP connection is closed. A connection that ended
// without a completed close handshake becomes StateAborted, and Receive
// returns a *CloseError of StatusAbnormalClosure after the queued messages.
func (p Peer) Gone() {
	p.Fail(&CloseError{Code: StatusAbnormalClosure, Reason: "connection closed without a close handshake"})
}
