package conn

import (
	"unicode/utf8"
)

// maxReason is the longest close reason that fits a control frame.
const maxReason = 123

func checkClose(code StatusCode, reason string) error {
	if code == StatusNoStatusReceived {
		if reason != "" {
			return ErrInvalidStatusCode
		}
		return nil
	}
	if !code.Sendable() {
		return ErrInvalidStatusCode
	}
	if len(reason) > maxReason || !utf8.ValidString(reason) {
		return ErrInvalidCloseReason
	}
	return nil
}

// Close starts the closing handshake: it sends a close frame with code and
// reason (at most 123 bytes of UTF-8; StatusNoStatusReceived sends a close
// frame without a code) and waits for the peer's close frame, at most the
// engine's close timeout. The server then closes the TCP connection.
// Received messages still queued stay readable with Receive.
//
// In StateCloseReceived it answers the peer like SendClose and returns.
// It returns ErrCloseTimeout (and aborts) when the peer does not answer in
// time, and ErrClosed when a close frame was already sent. Safe for
// concurrent use.
func (w *WebSocket) Close(code StatusCode, reason string) error {
	if err := w.sendClose(code, reason); err != nil {
		return err
	}
	done := w.Done()
	timer, expired := waitTimer(w.t.Config().CloseTimeout)
	if timer != nil {
		defer timer.Stop()
	}
	select {
	case <-done:
	case <-expired:
		w.Abort()
		return ErrCloseTimeout
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.state == StateAborted {
		if err := w.endErr(); err != nil {
			return err
		}
		return ErrAborted
	}
	return nil
}

// SendClose sends a close frame without waiting for the peer. It is how a
// received close (StateCloseReceived) is answered: the state becomes
// StateClosed and the server closes the TCP connection once the frame is
// written. In StateOpen it sends the first close frame (StateCloseSent) and
// returns at once; the engine aborts the connection if the peer does not
// answer within the close timeout. Safe for concurrent use.
func (w *WebSocket) SendClose(code StatusCode, reason string) error {
	return w.sendClose(code, reason)
}

func (w *WebSocket) sendClose(code StatusCode, reason string) error {
	if err := checkClose(code, reason); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	next, ok := w.state.afterSendClose()
	if !ok {
		return ErrClosed
	}
	thenClose := next == StateClosed || w.peerClosed
	if thenClose {
		w.setFinal(StateClosed)
	} else {
		w.state = next
	}
	return w.t.WriteClose(code, reason, thenClose)
}
