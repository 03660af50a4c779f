package session

import (
	"time"
	"unicode/utf8"

	"github.com/volley-ws/volley/conn"
)

// maxReason is the longest close reason that fits a control frame.
const maxReason = 123

func checkClose(code conn.StatusCode, reason string) error {
	if code == conn.StatusNoStatusReceived {
		if reason != "" {
			return conn.ErrInvalidStatusCode
		}
		return nil
	}
	if !code.Sendable() {
		return conn.ErrInvalidStatusCode
	}
	if len(reason) > maxReason || !utf8.ValidString(reason) {
		return conn.ErrInvalidCloseReason
	}
	return nil
}

// Close starts (or answers) the closing handshake and waits, at most the
// close timeout, for the WebSocket to be closed.
func (s *Session) Close(code conn.StatusCode, reason string) error {
	if err := checkClose(code, reason); err != nil {
		return err
	}
	if err := s.t.Close(code, reason); err != nil {
		return err
	}
	done := s.Done()
	if d := s.t.CloseTimeout(); d > 0 {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-done:
		case <-timer.C:
			s.t.Abort()
			return conn.ErrCloseTimeout
		}
	} else {
		<-done
	}
	if s.t.State() == conn.StateAborted {
		s.mu.Lock()
		err := s.endErr()
		s.mu.Unlock()
		if err == nil {
			err = conn.ErrAborted
		}
		return err
	}
	return nil
}

// SendClose sends a close frame without waiting for the peer.
func (s *Session) SendClose(code conn.StatusCode, reason string) error {
	if err := checkClose(code, reason); err != nil {
		return err
	}
	return s.t.Close(code, reason)
}
