package session

import (
	"runtime"
	"time"
	"unsafe"

	"github.com/volley-ws/volley/codec"
	"github.com/volley-ws/volley/conn"
)

// The bits of Session.batching.
const (
	corked    = 1 << iota // the receiver is working through a batch
	unflushed             // a send made while corked waits for the batch's end
	framing               // a SendFrame message is unfinished: whole messages are refused
	// sending counts, in the bits from here up, the whole messages being
	// sent (see sendWhole).
	sending = 1 << 8
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
	if !s.startWhole() {
		return conn.ErrMessageInProgress
	}
	err := s.t.Send(t, true, true, data, wait, s.flushNow())
	s.batching.Add(^uint32(sending - 1)) // the message is queued (or not)
	return err
}

// startWhole counts a message of one frame as being sent, unless a
// SendFrame message is unfinished. Whole messages hold no lock while the
// transport waits for room, so that a TrySend (a broadcaster's) is never
// held up behind a Send to a slow peer: they count themselves instead,
// and a SendFrame message starts only once those being sent are queued
// (startFraming).
func (s *Session) startWhole() bool {
	for {
		v := s.batching.Load()
		if v&framing != 0 {
			return false
		}
		if s.batching.CompareAndSwap(v, v+sending) {
			return true
		}
	}
}

// startFraming refuses whole messages until the SendFrame message that
// starts ends, and waits until those being sent are queued: its first
// frame goes after them. They are quick unless the transport waits for
// room (then at most the write timeout, or until the connection ends), so
// a few yields and then short sleeps will do. sendMu must be held.
func (s *Session) startFraming() {
	s.batching.Or(framing)
	for i := 0; s.batching.Load() >= sending; i++ {
		if i < 64 {
			runtime.Gosched()
		} else {
			time.Sleep(time.Millisecond)
		}
	}
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
	if first && endOfMessage {
		// A message of one frame is a whole message.
		if !s.startWhole() {
			return conn.ErrMessageInProgress // not reached: sendType is 0
		}
		err := s.t.Send(t, true, true, data, true, s.flushNow())
		s.batching.Add(^uint32(sending - 1))
		return err
	}
	if first {
		s.startFraming()
	}
	if err := s.t.Send(t, first, endOfMessage, data, true, s.flushNow()); err != nil {
		if first {
			s.batching.And(^uint32(framing)) // the message did not start
		}
		return err
	}
	s.sendUTF8 = v
	if endOfMessage {
		s.sendType = 0
		s.batching.And(^uint32(framing))
	} else {
		s.sendType = t
	}
	return nil
}
