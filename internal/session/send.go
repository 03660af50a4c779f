package session

import (
	"unsafe"

	"github.com/volley-ws/volley/codec"
	"github.com/volley-ws/volley/conn"
)

// The bits of Session.batching.
const (
	corked    = 1 << iota // the receiver is working through a batch
	unflushed             // a send made while corked waits for the batch's end
)

// setCorked records whether the receiver holds received messages it has
// not processed yet. Only a change costs an atomic read-modify-write: the
// receiver calls it for every record. Receiving goroutine only.
func (s *Session) setCorked(on bool) {
	switch v := s.batching.Load(); {
	case on && v&corked == 0:
		s.batching.Or(corked)
	case !on && v&corked != 0:
		s.batching.And(^uint32(corked))
	}
}

// flushNow reports whether a send should be written at once, and otherwise
// remembers that the receiver must flush when its batch is done.
func (s *Session) flushNow() bool {
	if s.batching.Load()&corked == 0 {
		return true
	}
	s.batching.Or(unflushed)
	return false
}

// Send sends data as one whole message, waiting for room.
func (s *Session) Send(t conn.MessageType, data []byte) error {
	return s.send(t, data, true)
}

// TrySend sends data as one whole message, or returns
// conn.ErrSendQueueFull at once when the peer is behind.
func (s *Session) TrySend(t conn.MessageType, data []byte) error {
	return s.send(t, data, false)
}

// SendText sends str as one Text message.
func (s *Session) SendText(str string) error {
	return s.send(conn.Text, unsafe.Slice(unsafe.StringData(str), len(str)), true) // read only; Send copies
}

// SendBinary sends data as one Binary message.
func (s *Session) SendBinary(data []byte) error { return s.send(conn.Binary, data, true) }

func (s *Session) send(t conn.MessageType, data []byte, wait bool) error {
	if t != conn.Text && t != conn.Binary {
		return conn.ErrInvalidMessageType
	}
	if t == conn.Text && !codec.ValidUTF8(data) {
		return conn.ErrInvalidUTF8
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if s.sendType != 0 {
		return conn.ErrMessageInProgress
	}
	return s.t.Send(t, true, true, data, wait, s.flushNow())
}

// SendFrame sends data as one frame of a message of type t.
func (s *Session) SendFrame(data []byte, t conn.MessageType, endOfMessage bool) error {
	if t != conn.Text && t != conn.Binary {
		return conn.ErrInvalidMessageType
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	first := s.sendType == 0
	if !first && t != s.sendType {
		return conn.ErrInvalidMessageType
	}
	v := s.sendUTF8
	if t == conn.Text {
		if first {
			v.Reset()
		}
		if !v.Write(data) || (endOfMessage && !v.Complete()) {
			return conn.ErrInvalidUTF8
		}
	}
	if err := s.t.Send(t, first, endOfMessage, data, true, s.flushNow()); err != nil {
		return err
	}
	s.sendUTF8 = v
	if endOfMessage {
		s.sendType = 0
	} else {
		s.sendType = t
	}
	return nil
}
