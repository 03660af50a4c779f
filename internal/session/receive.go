package session

import (
	"context"
	"encoding/binary"

	"github.com/volley-ws/volley/conn"
)

// Receive returns the next whole message.
func (s *Session) Receive() (conn.Message, error) {
	// The common case stays in this small frame: a goroutine parked in
	// Receive then uses little enough stack for the runtime to shrink it
	// back to the minimum, which is most of an idle session's memory.
	if s.rtype != 0 {
		return conn.Message{}, conn.ErrMessageInProgress
	}
	t, p, err := s.nextRecord(context.Background())
	if err == nil && t != conn.Close {
		return conn.Message{Type: t, Data: p}, nil
	}
	return s.receiveRest(t, p, err)
}

// ReceiveContext is Receive that also returns when ctx is done, consuming
// nothing then.
func (s *Session) ReceiveContext(ctx context.Context) (conn.Message, error) {
	if s.rtype != 0 {
		return conn.Message{}, conn.ErrMessageInProgress
	}
	t, p, err := s.nextRecord(ctx)
	return s.receiveRest(t, p, err)
}

// receiveRest finishes Receive for a close or an error.
func (s *Session) receiveRest(t conn.MessageType, p []byte, err error) (conn.Message, error) {
	switch {
	case err != nil:
		return conn.Message{}, err
	case t == conn.Close:
		code, reason := decodeClose(p)
		s.sawClose()
		return conn.Message{Type: conn.Close, CloseStatus: code, CloseReason: reason}, nil
	}
	return conn.Message{Type: t, Data: p}, nil
}

// ReceiveFrame copies the next received bytes into buf.
func (s *Session) ReceiveFrame(buf []byte) (conn.ReceiveResult, error) {
	return s.receiveFrame(context.Background(), buf)
}

// ReceiveFrameContext is ReceiveFrame that also returns when ctx is done,
// consuming nothing then.
func (s *Session) ReceiveFrameContext(ctx context.Context, buf []byte) (conn.ReceiveResult, error) {
	return s.receiveFrame(ctx, buf)
}

func (s *Session) receiveFrame(ctx context.Context, buf []byte) (conn.ReceiveResult, error) {
	if s.rpart == nil && s.rtype == 0 {
		t, p, err := s.nextRecord(ctx)
		if err != nil {
			return conn.ReceiveResult{}, err
		}
		if t == conn.Close {
			code, reason := decodeClose(p)
			s.sawClose()
			return conn.ReceiveResult{Type: conn.Close, EndOfMessage: true, CloseStatus: code, CloseStatusDescription: reason}, nil
		}
		s.rtype, s.rpart = t, p
	}
	n := copy(buf, s.rpart)
	s.rpart = s.rpart[n:]
	res := conn.ReceiveResult{Count: n, Type: s.rtype}
	if len(s.rpart) == 0 {
		s.rpart = nil
		res.EndOfMessage = true
		s.rtype = 0
	}
	return res, nil
}

// decodeClose splits a close frame's payload into its code and reason.
func decodeClose(p []byte) (conn.StatusCode, string) {
	if len(p) < 2 {
		return conn.StatusNoStatusReceived, ""
	}
	return conn.StatusCode(binary.BigEndian.Uint16(p)), string(p[2:])
}

// nextRecord returns the next queued record, waiting until one arrives,
// the stream ends, or ctx is done. The payload aliases the
// current batch buffer, which is recycled when the receiver takes the next
// batch.
func (s *Session) nextRecord(ctx context.Context) (conn.MessageType, []byte, error) {
	for {
		if s.rbuf != nil && s.roff < len(s.rbuf.B) {
			t, p, next := readRecord(s.rbuf.B, s.roff)
			s.roff = next
			// Replies to this message wait for the rest of the batch.
			s.setCorked(next < len(s.rbuf.B))
			return t, p, nil
		}
		if err := s.takeBatch(ctx); err != nil {
			return 0, nil, err
		}
	}
}

// takeBatch recycles the consumed batch and takes the next one, waiting
// for the event loop to queue it. It returns the stream's end error when
// nothing more will arrive, and ctx's error when ctx is done first.
func (s *Session) takeBatch(ctx context.Context) error {
	if s.batching.And(^uint32(unflushed))&unflushed != 0 {
		s.t.Flush()
	}
	consumed := 0
	s.mu.Lock()
	if old := s.rbuf; old != nil {
		consumed = len(old.B)
		if s.detached {
			consumed = 0 // no longer counted: see Detach
		} else {
			s.unread -= consumed
		}
		s.rbuf, s.roff = nil, 0
		s.pool.Put(old)
	}
	var stop func() bool
	for s.inbox == nil {
		if s.ended {
			err, fail := s.endErr(), s.failing && !s.rfailed
			s.rfailed = s.rfailed || fail
			s.mu.Unlock()
			if stop != nil {
				stop()
			}
			s.consumed(consumed)
			if fail {
				// Every message the peer sent before the failure has been
				// read, and everything sent in reply is queued: now its
				// close frame goes out.
				s.t.Fail(err.(*conn.CloseError))
			}
			if err == nil {
				err = conn.ErrClosed
			}
			return err
		}
		if ctx.Done() != nil {
			if err := ctx.Err(); err != nil {
				s.mu.Unlock()
				if stop != nil {
					stop()
				}
				s.consumed(consumed)
				return err
			}
			if stop == nil {
				stop = context.AfterFunc(ctx, s.interrupt)
			}
		}
		s.waiting = true
		s.mu.Unlock()
		s.wakeup.Lock()
		s.mu.Lock()
	}
	s.rbuf, s.inbox = s.inbox, nil
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	s.consumed(consumed)
	return nil
}

// consumed tells the engine about the bytes of a recycled batch.
func (s *Session) consumed(n int) {
	if n > 0 {
		s.t.Consumed(n)
	}
}

// interrupt wakes a receiver whose context ended.
func (s *Session) interrupt() {
	s.mu.Lock()
	s.wake()
	s.mu.Unlock()
}

// sawClose records that the receiver got the peer's close: from now on
// State reports StateCloseReceived, as .NET's WebSocket does once
// ReceiveAsync returns the close.
func (s *Session) sawClose() {
	s.mu.Lock()
	s.closeSeen = true
	s.mu.Unlock()
}
