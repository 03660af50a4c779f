package engine

import (
	"net"
	"unsafe"

	"github.com/volley-ws/volley/codec"
	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/upgrade"
)

// EventHandler receives a WebSocket's events on the connection's event loop.
// Callbacks must not block: every connection of the loop waits while one
// runs. A panic in a callback is recovered, logged, and fails the connection
// with close 1011.
//
// To decide the handshake itself (authentication, the subprotocol, headers
// of the 101 response, per-connection data), an EventHandler also
// implements HandshakeHandler.
type EventHandler interface {
	// OnOpen is called once the 101 response is queued.
	OnOpen(c *Conn)
	// OnMessage is called with each whole message, in the order the peer
	// sent them: fragments joined, compressed messages inflated, text
	// checked for UTF-8. payload is valid only during the call: it usually
	// aliases gnet's read buffer. Copy it to keep it.
	OnMessage(c *Conn, t conn.MessageType, payload []byte)
	// OnClose is called once, when the WebSocket is closed: the closing
	// handshake completed, the connection failed, or it ended without one.
	// err is a *conn.CloseError with the close code that ended it: the
	// peer's code after a closing handshake, the server's after a failure
	// (1002, 1007, 1009, 1011, ...), or StatusAbnormalClosure when the
	// connection ended without a close frame. The TCP connection may still
	// be ending (the server writes its close frame and waits, at most
	// CloseTimeout, for the peer's FIN): OnClose does not wait for it.
	OnClose(c *Conn, err error)
}

// Conn is a WebSocket served through an EventHandler.
//
// Send, SendText, SendNoCopy, Close, Abort, State and Unsent are safe from
// any goroutine and never wait for the peer (with permessage-deflate, Send
// compresses before it returns); called from a callback, what they queue is
// written with one system call when the loop iteration ends. The other
// methods belong to the event loop (call them from callbacks).
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

// Subprotocol returns the negotiated subprotocol, or "". Any goroutine.
func (e *Conn) Subprotocol() string { return e.c().subprotocol() }

// RemoteAddr returns the peer's address. Any goroutine.
func (e *Conn) RemoteAddr() net.Addr { return e.gc.RemoteAddr() }

// SetUserData attaches a value of the application's to the connection
// (HandshakeHandler's Handshake.SetUserData does it before OnOpen). Loop
// only.
func (e *Conn) SetUserData(v any) { e.user = v }

// UserData returns the value set with SetUserData. Loop only.
func (e *Conn) UserData() any { return e.user }

// State returns the WebSocket's state: StateOpen until a close frame is
// sent or received, StateClosed or StateAborted from OnClose on. Any
// goroutine.
func (e *Conn) State() conn.State { return e.c().State() }

// Send queues data as one message of type t (Text or Binary; Text must be
// valid UTF-8). data is copied before Send returns. It returns
// conn.ErrSendQueueFull when the bytes queued for the peer are over
// Config.MaxUnsentBytes (nothing is queued: the peer is not reading fast
// enough), conn.ErrClosed after a close frame was queued. Any goroutine;
// never waits for the peer. With permessage-deflate, a message of at least
// MinSize bytes is compressed before Send returns, and concurrent Sends on
// one connection take turns for that.
func (e *Conn) Send(t conn.MessageType, data []byte) error {
	return e.send(t, data, sendNoWait)
}

// SendNoCopy is Send for a payload the connection received: when data is
// (part of) a message OnMessage was handed in this callback, and at least
// 1 KiB, it is not copied. The frame's header is queued, and the payload is
// written from gnet's input buffer, together with everything else queued
// in this loop iteration, with one writev when the callback returns (the
// part the socket does not take is copied then). So data must not change
// until the callback returns. Any other data is copied before SendNoCopy
// returns, as Send does; so is everything on a permessage-deflate
// connection, whose messages are compressed. Errors as Send's. Any
// goroutine; it saves the copy only when called from the callback.
func (e *Conn) SendNoCopy(t conn.MessageType, data []byte) error {
	return e.send(t, data, sendNoCopy)
}

// send is Send and SendNoCopy.
func (e *Conn) send(t conn.MessageType, data []byte, how sendHow) error {
	if t != conn.Text && t != conn.Binary {
		return conn.ErrInvalidMessageType
	}
	if t == conn.Text && !codec.ValidUTF8(data) {
		return conn.ErrInvalidUTF8
	}
	return e.c().send(t, true, true, data, how)
}

// SendText queues s as one Text message. See Send.
func (e *Conn) SendText(s string) error {
	return e.Send(conn.Text, unsafe.Slice(unsafe.StringData(s), len(s))) // read only; Send copies
}

// Unsent returns the bytes queued for the connection and not yet written
// to its socket. Any goroutine.
func (e *Conn) Unsent() int { return e.c().unsentBytes() }

// Close starts the closing handshake with code and reason (at most 123
// bytes; StatusNoStatusReceived sends a close frame without a code): the
// connection ends when the peer answers, or is aborted after
// Config.CloseTimeout; OnClose follows. It returns conn.ErrClosed when a
// close frame was already sent. Any goroutine; never blocks.
func (e *Conn) Close(code conn.StatusCode, reason string) error {
	if !code.Sendable() && code != conn.StatusNoStatusReceived {
		return conn.ErrInvalidStatusCode
	}
	return e.c().localClose(code, reason, nil)
}

// Abort closes the TCP connection at once, without a closing handshake.
// OnClose follows, with StatusAbnormalClosure. Any goroutine.
func (e *Conn) Abort() { e.c().abort(conn.ErrAborted) }

// call runs a callback, turning a panic into a 1011 failure. Loop only.
func (e *Conn) call(fn func()) {
	defer func() {
		if v := recover(); v != nil {
			e.srv.logPanic(v, e.c(), "")
			e.c().failNow(errInternal)
		}
	}()
	fn()
}

// readEventFrames is readFrames for the event API, with the recovery of a
// panicking OnMessage: the connection fails with close 1011 and the rest of
// the batch is dropped. Loop only.
func (c *connection) readEventFrames(data []byte) (n int) {
	defer func() {
		if v := recover(); v != nil {
			c.srv.logPanic(v, c, "")
			c.flags.set(readDone, true)
			c.failNow(errInternal)
			n = len(data)
		}
	}()
	return c.readFrames(data)
}

// subprotocol returns the negotiated subprotocol, or "".
func (c *connection) subprotocol() string {
	if c.protocol == 0 {
		return ""
	}
	return c.srv.cfg.Upgrade.Subprotocols[c.protocol-1]
}
