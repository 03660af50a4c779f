package conn

// ending is what a WebSocket learns as its stream ends: why, the peer's
// close reason, and the channel Done returns. It is allocated when first
// needed, so that an open, idle WebSocket does not carry it. Guarded by the
// WebSocket's mu.
type ending struct {
	err    error  // why the stream ended, if not by a close handshake
	reason string // the reason of the peer's close frame
	done   chan struct{}
}

// ending returns w's ending, allocating it; mu must be held.
func (w *WebSocket) ending() *ending {
	if w.end == nil {
		w.end = new(ending)
	}
	return w.end
}

// endErr returns why the stream ended, if not by a close handshake, or
// nil; mu must be held.
func (w *WebSocket) endErr() error {
	if w.end == nil {
		return nil
	}
	return w.end.err
}

// receiveFailure returns the *CloseError with which the receiving side
// failed the connection (rfailed is set). Receiving goroutine only.
func (w *WebSocket) receiveFailure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.end.err
}

// setEndErr records err as why the stream ended unless a reason is already
// recorded; mu must be held.
func (w *WebSocket) setEndErr(err error) {
	if e := w.ending(); e.err == nil {
		e.err = err
	}
}
