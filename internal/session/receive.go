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
	if s.rbuf == nil || s.roff >= len(s.rbuf.B) {
		if err := s.takeBatch(); err != nil {
			return conn.Message{}, err
		}
	}
	t, p := s.record()
	if t != conn.Close {
		return conn.Message{Type: t, Data: p}, nil
	}
	return s.receiveRest(t, p, nil)
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
// the stream ends, or ctx is done. The payload aliases the current batch
// buffer, which is recycled when the receiver takes the next batch.
func (s *Session) nextRecord(ctx context.Context) (conn.MessageType, []byte, error) {
	if s.rbuf == nil || s.roff >= len(s.rbuf.B) {
		var err error
		if ctx.Done() == nil {
			err = s.takeBatch()
		} else {
			err = s.takeBatchContext(ctx)
		}
		if err != nil {
			return 0, nil, err
		}
	}
	t, p := s.record()
	return t, p, nil
}

// record returns the next record of the current batch, which has one.
func (s *Session) record() (conn.MessageType, []byte) {
	t, p, next := readRecord(s.rbuf.B, s.roff)
	s.roff = next
	// Replies to this message wait for the rest of the batch.
	s.setCorked(next < len(s.rbuf.B))
	return t, p
}

// takeBatch recycles the consumed batch and takes the next one, waiting
// for the event loop to queue it. It returns the stream's end error when
// nothing more will arrive. A receiver parked here holds the least stack
// the runtime gives a goroutine: this frame and Receive's stay small.
func (s *Session) takeBatch() error {
	s.flushCorked()
	s.mu.Lock()
	consumed := s.recycle()
	for s.inbox == nil {
		if s.ended {
			return s.endOfStream(consumed) // unlocks mu
		}
		s.waiting = true
		s.mu.Unlock()
		s.wakeup.Lock()
		s.mu.Lock()
	}
	s.rbuf, s.inbox = s.inbox, nil
	s.mu.Unlock()
	s.consumed(consumed)
	return nil
}

// takeBatchContext is takeBatch that also returns, with ctx's error, when
// ctx is done first.
func (s *Session) takeBatchContext(ctx context.Context) error {
	s.flushCorked()
	s.mu.Lock()
	consumed := s.recycle()
	var stop func() bool
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	for s.inbox == nil {
		if s.ended {
			return s.endOfStream(consumed) // unlocks mu
		}
		if err := ctx.Err(); err != nil {
			s.mu.Unlock()
			s.consumed(consumed)
			return err
		}
		if stop == nil {
			stop = context.AfterFunc(ctx, s.interrupt)
		}
		s.waiting = true
		s.mu.Unlock()
		s.wakeup.Lock()
		s.mu.Lock()
	}
	s.rbuf, s.inbox = s.inbox, nil
	s.mu.Unlock()
	s.consumed(consumed)
	return nil
}

// flushCorked writes what was sent while the receiver worked through the
// batch it is done with.
func (s *Session) flushCorked() {
	if s.batching.And(^uint32(unflushed))&unflushed != 0 {
		s.t.Flush()
	}
}

// recycle gives the consumed batch back to the pool and returns its bytes;
// mu must be held.
func (s *Session) recycle() int {
	old := s.rbuf
	if old == nil {
		return 0
	}
	consumed := len(old.B)
	if s.detached {
		consumed = 0 // no longer counted: see Detach
	} else {
		s.unread -= consumed
	}
	s.rbuf, s.roff = nil, 0
	s.pool.Put(old)
	return consumed
}

// endOfStream returns the stream's end: the failure, sending its close
// frame first if the receiver is the first to reach it, or why the
// connection ended, or conn.ErrClosed. mu must be held; it is released.
func (s *Session) endOfStream(consumed int) error {
	err, fail := s.endErr(), s.failing && !s.rfailed
	s.rfailed = s.rfailed || fail
	s.mu.Unlock()
	s.consumed(consumed)
	if fail {
		// Every message the peer sent before the failure has been read,
		// and everything sent in reply is queued: now its close frame
		// goes out.
		s.t.Fail(err.(*conn.CloseError))
	}
	if err == nil {
		err = conn.ErrClosed
	}
	return err
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
