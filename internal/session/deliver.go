package session

import (
	"encoding/binary"

	"github.com/volley-ws/volley/conn"
)

// The methods of this file are the engine's: its event loop reports through
// them what the peer sent and how the connection ended, in the order it
// happened. They are safe for concurrent use with the application's calls;
// payloads are copied before they return.

// The inbox carries messages from the event loop to the goroutine that
// calls Receive. The loop appends records to a pooled buffer; the receiver
// takes the whole buffer at once when it has consumed its own, so one lock
// hand-off moves a batch of messages, and a receiver that is still busy is
// never woken.
//
// Record layout: 1 byte message type, 4 bytes little-endian payload
// length, payload. A Close record's payload is the close frame's payload.
const recordHeader = 5

// appendRecord appends one record to b.
func appendRecord(b []byte, t conn.MessageType, payload []byte) []byte {
	var h [recordHeader]byte
	h[0] = byte(t)
	binary.LittleEndian.PutUint32(h[1:], uint32(len(payload)))
	b = append(b, h[:]...)
	return append(b, payload...)
}

// readRecord decodes the record at b[off:]: its type, its payload
// (aliasing b) and the offset of the next record.
func readRecord(b []byte, off int) (t conn.MessageType, payload []byte, next int) {
	n := int(binary.LittleEndian.Uint32(b[off+1:]))
	start := off + recordHeader
	return conn.MessageType(b[off]), b[start : start+n], start + n
}

// Deliver queues a whole message for Receive and returns how many bytes it
// added to the unread ones. It queues nothing and returns false when the
// unread bytes would pass max (an empty inbox takes a message of any
// size), or true with 0 bytes after the stream ended or the handler
// returned (the message is dropped).
func (s *Session) Deliver(t conn.MessageType, payload []byte, max int) (added int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || s.detached {
		return 0, true
	}
	n := recordHeader + len(payload)
	if max > 0 && s.unread > 0 && s.unread+n > max {
		return 0, false
	}
	s.queue(t, payload)
	return n, true
}

// queue appends a record and wakes a waiting receiver; mu must be held.
func (s *Session) queue(t conn.MessageType, payload []byte) {
	if s.inbox == nil {
		s.inbox = s.pool.Get()
	}
	s.inbox.B = appendRecord(s.inbox.B, t, payload)
	s.unread += recordHeader + len(payload)
	s.wake()
}

// PeerClose queues the peer's close frame (code and reason, validated by
// the engine) after the messages that preceded it, and returns how many
// bytes it added to the unread ones. No more messages follow.
func (s *Session) PeerClose(code conn.StatusCode, reason []byte) (added int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return 0
	}
	s.ended = true
	s.peerStatus = code
	s.ending().reason = string(reason)
	if s.detached {
		return 0
	}
	var p [2 + 123]byte
	payload := p[:0]
	if code != conn.StatusNoStatusReceived {
		payload = binary.BigEndian.AppendUint16(payload, uint16(code))
		payload = append(payload, reason...)
	}
	s.queue(conn.Close, payload)
	return recordHeader + len(payload)
}

// Failed reports that the engine failed the connection with err (a
// protocol violation by the peer, a message over the size limit, the unread
// limit): once the messages queued before it are read, Receive sends err's
// close frame (Transport.Fail) and returns err. Nothing is sent before, so
// what the handler sends in reply to those messages goes out first.
func (s *Session) Failed(err *conn.CloseError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	s.ended = true
	s.failing = true
	s.ending().err = err
	s.wake()
}

// Closed reports that the WebSocket is closed (the state is final): err
// says why when it did not end with a closing handshake (a failure, a
// timeout, Abort, the TCP connection ending early), and Receive returns it
// after the queued messages; nil means the handshake completed. Done's
// channel closes.
func (s *Session) Closed(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.final {
		return
	}
	s.final = true
	if !s.ended {
		s.ended = true
		s.ending().err = err
	}
	if s.end != nil && s.end.done != nil {
		close(s.end.done)
	}
	s.wake()
}

// Unread returns the bytes of queued messages not yet consumed.
func (s *Session) Unread() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.unread
}

// Detached reports whether the handler returned (Detach).
func (s *Session) Detached() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.detached
}

// Detach reports that the handler returned: nothing more is queued. The
// messages queued so far stay readable by whoever still holds the
// WebSocket, and no longer count as the engine's: it returns their bytes.
func (s *Session) Detach() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.detached = true
	n := s.unread
	s.unread = 0
	return n
}
