// Package session is volley's blocking WebSocket: the implementation of
// conn.WebSocket that a handler gets from upgrade.Upgrader.Upgrade.
//
// The engine's event loop parses, validates, joins and inflates what the
// peer sends and delivers whole messages here (Deliver, PeerClose, Failed,
// Closed), in order; the handler's goroutine takes them with Receive. What
// the handler sends, and the closing handshake, go to the engine through a
// Transport, which owns the connection's one close state machine. The
// package knows nothing of sockets: its tests drive a Session with an
// in-memory Transport.
package session

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/volley-ws/volley/codec"
	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/internal/bufpool"
)

// Transport is the engine's side of a Session: it frames and queues what the
// Session sends and runs the connection's close state machine. Every method
// is safe for concurrent use.
type Transport interface {
	// Send queues one data frame: opcode t when first, otherwise a
	// continuation, with FIN when fin. payload is copied before Send
	// returns. When the bytes queued for the peer are over the engine's
	// limit, Send waits for room if wait is set (at most the write timeout:
	// then it aborts the connection and returns conn.ErrWriteTimeout) and
	// otherwise returns conn.ErrSendQueueFull, queuing nothing. Once this
	// side's close frame is queued it returns conn.ErrClosed. With flush,
	// what is queued is written at once; without it (the receiver still has
	// messages of its batch to answer), at the next Flush or after a short
	// delay the engine bounds.
	Send(t conn.MessageType, first, fin bool, payload []byte, wait, flush bool) error
	// Flush writes everything queued.
	Flush()
	// Close queues this side's close frame (code StatusNoStatusReceived
	// sends an empty payload): StateOpen becomes StateCloseSent,
	// StateCloseReceived becomes StateClosed. Otherwise it returns
	// conn.ErrClosed.
	Close(code conn.StatusCode, reason string) error
	// Fail sends the close frame of a failure the receiver has reached
	// (err, as given to Session.Failed): the connection becomes
	// StateAborted and ends once the frame is written.
	Fail(err *conn.CloseError)
	// Abort ends the connection at once, dropping what is unsent.
	Abort()
	// State returns the connection's state.
	State() conn.State
	// Unsent returns the bytes queued for the peer and not yet written.
	Unsent() int
	// Consumed reports that the receiver is done with n bytes of the
	// messages Deliver queued.
	Consumed(n int)
	// Subprotocol returns the negotiated subprotocol, or "".
	Subprotocol() string
	// RemoteAddr returns the peer's address.
	RemoteAddr() net.Addr
	// CloseTimeout bounds how long Close waits for the peer's close.
	CloseTimeout() time.Duration
	// Subscribe, Unsubscribe, Publish and Topics are the WebSocket's
	// topic methods (see conn.WebSocket).
	Subscribe(topic string) error
	Unsubscribe(topic string) error
	Publish(topic string, t conn.MessageType, data []byte) error
	Topics() []string
}

// Session is a blocking WebSocket. It implements conn.WebSocket; see there
// for what each method does.
type Session struct {
	t    Transport
	pool *bufpool.Pool

	// mu guards everything up to sendMu, shared by the event loop (the
	// delivery methods) and the application's goroutines.
	mu     sync.Mutex
	inbox  *bufpool.Buffer // records appended by the loop
	unread int             // bytes of records queued and not yet consumed
	end    *ending         // why the stream ended, the peer's close, Done's channel
	// wakeup is a binary semaphore, locked whenever no wake-up is pending:
	// a receiver that finds nothing sets waiting and blocks on Lock; wake
	// clears waiting and unlocks it. (A sync.Mutex may be unlocked by a
	// goroutine other than the one that locked it; it costs 8 bytes where
	// a channel costs 112 per idle session.)
	wakeup     sync.Mutex
	peerStatus conn.StatusCode // the code of the peer's close frame, once it arrived
	waiting    bool            // a receiver waits on wakeup
	ended      bool            // no more records will be queued
	failing    bool            // end.err is a failure whose close frame the receiver sends
	final      bool            // the WebSocket is closed
	detached   bool            // the handler returned: nothing more is queued
	closeSeen  bool            // the receiver got the peer's close

	// Send side of SendFrame, guarded by sendMu, which SendFrame holds for
	// the whole call. Whole messages take no lock: see sendWhole.
	sendMu   sync.Mutex
	sendType conn.MessageType // type of the SendFrame message in progress, 0 when none
	sendUTF8 codec.Validator

	// rtype and rfailed belong to the receive side below; they sit here to
	// pack the struct.
	rtype   conn.MessageType // type of the message being received by ReceiveFrame, 0 between messages
	rfailed bool             // the receiver reached the failure and sent its close frame

	// batching holds corked, set while the receiver holds received
	// messages it has not processed (sends are then batched until it has),
	// and unflushed, set by a send made while corked; and, for the send
	// side, framing and the count of whole messages being sent (send.go).
	batching atomic.Uint32

	// Receive side, owned by the receiving goroutine.
	rbuf  *bufpool.Buffer // batch taken from inbox
	roff  int             // next record in rbuf
	rpart []byte          // rest of a record partly returned by ReceiveFrame

	// written is the engine's (see Written).
	written Written
}

// Written counts what the engine wrote of a session's messages from the
// session's own goroutines, without its event loop, until the engine adds
// it to its totals: the Session is the one object only blocking
// connections have, so the count costs an event connection nothing. The
// engine guards it with its own lock; the Session never touches it.
type Written struct {
	Text, Binary uint32 // whole messages, counted at their last frame
	Bytes        uint64 // payload bytes, before compression
}

// Written returns the session's Written, for the engine.
func (s *Session) Written() *Written { return &s.written }

// ending is what a Session learns as its stream ends: why, the peer's close
// reason, and the channel Done returns. It is allocated when first needed,
// so that an open, idle Session does not carry it. Guarded by mu.
type ending struct {
	err    error  // why the stream ended, if not by a close handshake
	reason string // the reason of the peer's close frame
	done   chan struct{}
}

// New returns an open Session that sends through t and keeps its received
// messages in buffers from pool.
func New(t Transport, pool *bufpool.Pool) *Session {
	s := &Session{t: t, pool: pool}
	s.wakeup.Lock()
	return s
}

// ending returns s's ending, allocating it; mu must be held.
func (s *Session) ending() *ending {
	if s.end == nil {
		s.end = new(ending)
	}
	return s.end
}

// endErr returns why the stream ended, if not by a close handshake, or
// nil; mu must be held.
func (s *Session) endErr() error {
	if s.end == nil {
		return nil
	}
	return s.end.err
}

// wake signals a waiting receiver; mu must be held.
func (s *Session) wake() {
	if s.waiting {
		s.waiting = false
		s.wakeup.Unlock()
	}
}

// State returns the connection's state. The peer's close counts once the
// receiver got it: until then a connection whose peer's close waits in the
// inbox, behind messages not yet read, is StateOpen.
func (s *Session) State() conn.State {
	st := s.t.State()
	if st == conn.StateCloseReceived {
		s.mu.Lock()
		seen := s.closeSeen
		s.mu.Unlock()
		if !seen {
			return conn.StateOpen
		}
	}
	return st
}

// CloseStatus returns the code of the peer's close frame, once it arrived.
func (s *Session) CloseStatus() conn.StatusCode {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peerStatus
}

// CloseStatusDescription returns the reason of the peer's close frame.
func (s *Session) CloseStatusDescription() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.end == nil {
		return ""
	}
	return s.end.reason
}

// Done returns a channel closed once the WebSocket is closed.
func (s *Session) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.ending()
	if e.done == nil {
		e.done = make(chan struct{})
		if s.final {
			close(e.done)
		}
	}
	return e.done
}

// Subprotocol returns the negotiated subprotocol, or "".
func (s *Session) Subprotocol() string { return s.t.Subprotocol() }

// RemoteAddr returns the peer's address.
func (s *Session) RemoteAddr() net.Addr { return s.t.RemoteAddr() }

// Unsent returns the bytes queued for the peer and not yet written.
func (s *Session) Unsent() int { return s.t.Unsent() }

// Subscribe adds the WebSocket to topic's subscribers.
func (s *Session) Subscribe(topic string) error { return s.t.Subscribe(topic) }

// Unsubscribe removes the WebSocket from topic's subscribers.
func (s *Session) Unsubscribe(topic string) error { return s.t.Unsubscribe(topic) }

// Publish sends a message to every subscriber of topic but this one.
func (s *Session) Publish(topic string, t conn.MessageType, data []byte) error {
	return s.t.Publish(topic, t, data)
}

// Topics returns the topics the WebSocket is subscribed to.
func (s *Session) Topics() []string { return s.t.Topics() }

// Abort ends the connection at once.
func (s *Session) Abort() { s.t.Abort() }

var _ conn.WebSocket = (*Session)(nil)
