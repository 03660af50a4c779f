package engine

import (
	"errors"
	"net"
	"unsafe"

	"github.com/gobwas/ws"

	"github.com/volley-ws/volley/codec"
	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/upgrade"
)

// EventHandler receives a WebSocket's events on the connection's event loop.
// Callbacks must not block: every connection of the loop waits while one
// runs. A panic in a callback is recovered, logged, and fails the connection
// with close 1011.
type EventHandler interface {
	// OnOpen is called once the 101 response is queued.
	OnOpen(c *Conn)
	// OnMessage is called with each whole message. payload is valid only
	// during the call: it usually aliases gnet's read buffer. Copy it to
	// keep it.
	OnMessage(c *Conn, t conn.MessageType, payload []byte)
	// OnClose is called once when the connection is gone. err is a
	// *conn.CloseError with the close code that ended it: the peer's code
	// after a close handshake, the server's after a failure, or
	// StatusAbnormalClosure when the TCP connection ended without one.
	OnClose(c *Conn, err error)
}

// ErrSendQueueFull is returned by Conn.Send when the connection's unsent
// bytes are over Config.MaxUnsentBytes: the peer is not reading fast
// enough. Nothing was queued.
var ErrSendQueueFull = errors.New("engine: send queue full")

// Conn is a WebSocket served through an EventHandler.
//
// Send, SendText, Close, Abort and Unsent are safe from any goroutine and
// never wait for the peer (with permessage-deflate, Send compresses before
// it returns); called from a callback, what they queue is written with one
// syscall when the loop iteration ends. The other methods belong to the
// event loop (call them from callbacks).
//
// A Conn is the engine's connection state itself, not a separate object:
// an idle event connection costs one 128-byte allocation besides gnet's.
type Conn connection

// c returns the connection e is.
func (e *Conn) c() *connection { return (*connection)(e) }

// h returns the connection's EventHandler.
func (e *Conn) h() EventHandler { return e.srv.eventHandlers[e.handler-1] }

// Request returns the handshake request during OnOpen, and nil afterwards:
// the request is not kept for the connection's lifetime, so an idle
// connection holds only its state. The handshake is parsed in place in the
// loop's input buffer; the first call during OnOpen makes a copy that owns
// its memory, so the request and its strings may be kept (for example in
// SetUserData), and an OnOpen that never asks costs no copy. Loop only.
func (e *Conn) Request() *upgrade.Request { return e.srv.opening.request(e.c()) }

// Subprotocol returns the negotiated subprotocol, or "".
func (e *Conn) Subprotocol() string {
	if e.protocol == 0 {
		return ""
	}
	return e.srv.cfg.Upgrade.Subprotocols[e.protocol-1]
}

// RemoteAddr returns the peer's address.
func (e *Conn) RemoteAddr() net.Addr { return e.gc.RemoteAddr() }

// SetUserData attaches a value of the application's to the connection.
// Loop only.
func (e *Conn) SetUserData(v any) { e.user = v }

// UserData returns the value set with SetUserData. Loop only.
func (e *Conn) UserData() any { return e.user }

// Send queues data as one message of type t (Text or Binary; Text must be
// valid UTF-8). data is copied before Send returns. It returns
// ErrSendQueueFull when the peer is not keeping up, conn.ErrClosed after a
// close frame was queued. Safe from any goroutine; never waits for the
// peer. With permessage-deflate, a message of at least MinSize bytes is
// compressed before Send returns, and concurrent Sends on one connection
// take turns for that.
func (e *Conn) Send(t conn.MessageType, data []byte) error {
	return e.send(t, data, queueCopy)
}

// SendNoCopy is Send for a payload the connection received: when data is
// (part of) a message OnMessage was handed in this callback, and at least
// 1 KiB, it is not copied. The frame's header is queued, and the payload is
// written from gnet's input buffer, together with everything else queued
// in this loop iteration, with one writev when the callback returns (the
// part the socket does not take is copied then). So data must not change
// until the callback returns. Any other data is copied before SendNoCopy
// returns, as Send does; so is everything on a permessage-deflate
// connection, whose messages are compressed. Errors as Send's. Safe from
// any goroutine; it saves the copy only when called from the callback.
func (e *Conn) SendNoCopy(t conn.MessageType, data []byte) error {
	return e.send(t, data, queueNoCopy)
}

// send is Send and SendNoCopy.
func (e *Conn) send(t conn.MessageType, data []byte, how queueHow) error {
	if t != conn.Text && t != conn.Binary {
		return conn.ErrInvalidMessageType
	}
	if t == conn.Text && !codec.ValidUTF8(data) {
		return conn.ErrInvalidUTF8
	}
	if z := e.z; z != nil {
		return e.sendCompressed(z, t, data)
	}
	return e.queue(opcode(t, true), 0, data, how)
}

// sendCompressed is Send on a permessage-deflate connection.
func (e *Conn) sendCompressed(z *compression, t conn.MessageType, data []byte) error {
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.closed {
		return conn.ErrClosed
	}
	if e.out.full(e.srv.cfg.MaxUnsentBytes) {
		return ErrSendQueueFull // before compressing, so nothing is half sent
	}
	p, rsv, scratch := z.compress(e.srv, true, true, data)
	// No second room check: with context takeover, a compressed message
	// that is not sent would corrupt the context for the next ones.
	err := e.queue(opcode(t, true), rsv, p, queueCompressed)
	if scratch != nil {
		e.srv.pool.Put(scratch)
	}
	return err
}

// queueHow is how queue takes a payload.
type queueHow uint8

const (
	queueCopy       queueHow = iota // copied; refused over MaxUnsentBytes
	queueNoCopy                     // referenced when it can be (appendFrameRef); refused over MaxUnsentBytes
	queueCompressed                 // copied; the room was checked before compressing
)

// queue appends one whole-message frame unless the connection is closed or
// (but for queueCompressed) its unsent bytes are over the limit.
func (e *Conn) queue(op ws.OpCode, rsv byte, payload []byte, how queueHow) error {
	c := e.c()
	o := &c.out
	o.mu.Lock()
	if o.closeQueued || o.dead {
		o.mu.Unlock()
		return conn.ErrClosed
	}
	if how != queueCompressed && o.unsent() >= c.srv.cfg.MaxUnsentBytes {
		o.mu.Unlock()
		return ErrSendQueueFull
	}
	if how == queueNoCopy {
		o.appendFrameRef(&c.srv.sends, op, payload)
	} else {
		o.appendFrame(&c.srv.sends, op, rsv, true, payload)
	}
	c.unlockAndWake()
	return nil
}

// SendText queues s as one Text message. See Send.
func (e *Conn) SendText(s string) error {
	return e.Send(conn.Text, unsafe.Slice(unsafe.StringData(s), len(s))) // read only; Send copies
}

// Unsent returns the bytes queued for the connection and not yet written
// to its socket. Safe from any goroutine.
func (e *Conn) Unsent() int {
	o := &e.out
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.unsent()
}

// Close starts the closing handshake with code and reason; the connection
// ends when the peer answers, or is aborted after Config.CloseTimeout.
// OnClose follows. Safe from any goroutine; never blocks.
func (e *Conn) Close(code conn.StatusCode, reason string) error {
	if !code.Sendable() && code != conn.StatusNoStatusReceived {
		return conn.ErrInvalidStatusCode
	}
	return e.c().WriteClose(code, reason, false)
}

// Abort closes the TCP connection at once. OnClose follows. Safe from any
// goroutine.
func (e *Conn) Abort() { e.c().Abort() }

// deliver joins fragments, in r.asm, and calls OnMessage. A panic in
// OnMessage is recovered once per batch of frames by readEventFrames, not
// per message. Loop only.
func (e *Conn) deliver(r *messageState, t conn.MessageType, fin bool, chunk []byte, whole bool) {
	if whole {
		e.h().OnMessage(e, t, chunk)
		return
	}
	if r.asm == nil {
		r.asm = e.srv.pool.Get()
	}
	r.asm.B = append(r.asm.B, chunk...)
	if !fin {
		return
	}
	asm := r.asm
	r.asm = nil
	e.h().OnMessage(e, t, asm.B) // a panic leaves asm to the garbage collector
	e.srv.pool.Put(asm)
}

// readEventFrames is readFrames for the event API, with the recovery of a
// panicking OnMessage: the connection fails with close 1011 and the rest of
// the batch is dropped. Loop only.
func (c *connection) readEventFrames(data []byte) (n int) {
	defer func() {
		if v := recover(); v != nil {
			c.srv.logPanic(v, c.gc.RemoteAddr())
			c.fail(errInternal)
			n = len(data)
		}
	}()
	return c.readFrames(data)
}

var errInternal = &codec.Error{Code: ws.StatusInternalServerError, Reason: "internal error"}

// call runs a callback, turning a panic into a 1011 failure. Loop only.
func (e *Conn) call(fn func()) {
	defer func() {
		if v := recover(); v != nil {
			e.srv.logPanic(v, e.gc.RemoteAddr())
			e.c().fail(errInternal)
		}
	}()
	fn()
}

// peerClose handles the peer's close frame: answer it (echoing the code)
// unless we closed first, then close the TCP connection. Loop only.
func (e *Conn) peerClose(code conn.StatusCode, reason []byte) {
	e.flags.set(peerClosed, true)
	e.srv.endings.setFirst(e.c(), &conn.CloseError{Code: code, Reason: string(reason)})
	_ = e.c().WriteClose(code, "", true)
}

// failed records the server's failure of the connection. Loop only.
func (e *Conn) failed(err *conn.CloseError) { e.srv.endings.setFirst(e.c(), err) }

// expire handles a passed close deadline: the peer did not answer our
// close. Loop only.
func (e *Conn) expire() {
	if !e.flags.has(peerClosed) {
		e.c().Abort()
	}
}

// gone calls OnClose. Loop only.
func (e *Conn) gone() {
	err, ok := e.srv.endings.take(e.c())
	if !ok {
		err = &conn.CloseError{Code: conn.StatusAbnormalClosure, Reason: "connection closed without a close handshake"}
	}
	e.call(func() { e.h().OnClose(e, err) })
}
