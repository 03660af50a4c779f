package conn

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/bytebufferpool"

	"github.com/volley-ws/volley/codec"
)

// WebSocket is an open WebSocket connection with a blocking API.
//
// Send, SendText, SendBinary, SendFrame, Close, SendClose, Abort, State,
// CloseStatus and CloseStatusDescription are safe to call from many
// goroutines at once; frames of concurrent Sends never interleave. Receive
// and ReceiveFrame must be called from one goroutine at a time.
//
// Buffers: data passed to a Send method is copied before it returns. Data
// returned by Receive is valid until the next Receive or ReceiveFrame.
type WebSocket struct {
	t Transport // also the Config, shared with the engine's other WebSockets

	// mu guards everything below it up to sendMu, shared by the event loop
	// (through Peer) and the API goroutines.
	mu     sync.Mutex
	inbox  *bytebufferpool.ByteBuffer // records appended by the loop
	unread int                        // payload bytes queued, not yet returned
	end    *ending                    // why the stream ended, the peer's close reason, Done's channel
	// wakeup is a binary semaphore, locked whenever no wake-up is pending:
	// a receiver that finds nothing sets waiting and blocks on Lock; wake
	// clears waiting and unlocks it. (A sync.Mutex may be unlocked by
	// another goroutine than the one that locked it; it costs 8 bytes where
	// a channel costs 112 per idle session.)
	wakeup      sync.Mutex
	state       State
	peerStatus  StatusCode // the peer's close code, to echo
	closeStatus StatusCode
	waiting     bool // a receiver waits on wakeup
	peerClosed  bool // the peer's close frame arrived (maybe not yet received by the app)
	ended       bool // no more records will arrive

	// Send side, guarded by sendMu.
	sendMu   sync.Mutex
	sendType MessageType // type of the SendFrame message in progress, 0 when none
	sendUTF8 codec.Validator

	// rpartFin, rtype and rdeflated belong to the receive side below; they
	// sit here to pack the struct.
	rpartFin bool
	rtype    MessageType // type of the message being received, 0 between messages
	// rdeflated: the record nextRecord returned belongs to a compressed
	// message.
	rdeflated bool
	// rfailed: the receiving side failed the connection (the error is
	// end.err).
	rfailed bool

	// batching holds corked, set while the receiver holds received
	// messages it has not processed (sends are then batched until it has),
	// and unflushed, set by a send made while corked.
	batching atomic.Uint32

	// Receive side, owned by the receiving goroutine.
	rbuf  *bytebufferpool.ByteBuffer // batch taken from inbox
	roff  int                        // next record in rbuf
	rpart []byte                     // rest of a record partly returned by ReceiveFrame
	asm   *bytebufferpool.ByteBuffer
	// z inflates compressed messages; set by Peer.SetInflater, nil when
	// permessage-deflate was not negotiated.
	z *inflation
}

// The bits of WebSocket.batching.
const (
	corked    = 1 << iota // the receiver is working through a batch
	unflushed             // a send made while corked waits for the batch's end
)

// setCorked records whether the receiver holds received messages it has
// not processed yet. Only a change costs an atomic read-modify-write: the
// receiver calls it for every record. Receiving goroutine only.
func (w *WebSocket) setCorked(on bool) {
	switch v := w.batching.Load(); {
	case on && v&corked == 0:
		w.batching.Or(corked)
	case !on && v&corked != 0:
		w.batching.And(^uint32(corked))
	}
}

// New returns a WebSocket in StateOpen that sends through t, and the Peer
// through which the engine's event loop reports what arrives; t.Config()
// gives its limits and buffers. It is meant for engine implementations.
func New(t Transport) (*WebSocket, Peer) {
	w := &WebSocket{
		t:     t,
		state: StateOpen,
	}
	w.wakeup.Lock()
	return w, Peer{w}
}

// State returns the current state. Safe for concurrent use.
func (w *WebSocket) State() State {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state
}

// CloseStatus returns the status code of the close frame the peer sent,
// once it has been received, or 0. Safe for concurrent use.
func (w *WebSocket) CloseStatus() StatusCode {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closeStatus
}

// CloseStatusDescription returns the reason of the peer's close frame, once
// received. Safe for concurrent use.
func (w *WebSocket) CloseStatusDescription() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.end == nil {
		return ""
	}
	return w.end.reason
}

// Done returns a channel that is closed when the state becomes final
// (StateClosed or StateAborted).
func (w *WebSocket) Done() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.doneLocked()
}

// doneLocked returns the done channel, made on first use so that idle
// sessions nobody waits on do not carry one; mu must be held.
func (w *WebSocket) doneLocked() chan struct{} {
	e := w.ending()
	if e.done == nil {
		e.done = make(chan struct{})
		if w.state.Final() {
			close(e.done)
		}
	}
	return e.done
}

// setFinal moves to a final state; mu must be held.
func (w *WebSocket) setFinal(s State) {
	if w.state.Final() {
		return
	}
	w.state = s
	if w.end != nil && w.end.done != nil {
		close(w.end.done)
	}
}

// wake signals a waiting receiver; mu must be held.
func (w *WebSocket) wake() {
	if w.waiting {
		w.waiting = false
		w.wakeup.Unlock()
	}
}

// Abort closes the connection at once without a close handshake. Unsent
// data is dropped; queued received messages can still be read. The state
// becomes StateAborted unless it was already final. Safe for concurrent use.
func (w *WebSocket) Abort() {
	w.mu.Lock()
	if !w.state.Final() {
		w.setFinal(StateAborted)
		w.setEndErr(ErrAborted)
	}
	w.ended = true
	w.wake()
	w.mu.Unlock()
	w.t.Abort()
}

// canSend reports whether data frames may be sent in the current state.
func (w *WebSocket) canSend() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state == StateOpen || w.state == StateCloseReceived
}

// waitTimer returns a timer for d, or a nil channel when d <= 0.
func waitTimer(d time.Duration) (*time.Timer, <-chan time.Time) {
	if d <= 0 {
		return nil, nil
	}
	t := time.NewTimer(d)
	return t, t.C
}

func decodeClose(p []byte) (StatusCode, string) {
	if len(p) < 2 {
		return StatusNoStatusReceived, ""
	}
	return StatusCode(binary.BigEndian.Uint16(p)), string(p[2:])
}

// flushNow reports whether a send should be written at once, and otherwise
// remembers that the receiver must flush when its batch is done.
func (w *WebSocket) flushNow() bool {
	if w.batching.Load()&corked == 0 {
		return true
	}
	w.batching.Or(unflushed)
	return false
}
