package engine

import (
	"sync/atomic"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/internal/session"
)

// connection is the per-connection state. Fields marked "loop" are touched
// only on the connection's event loop; the outbox and the atomics are
// shared with other goroutines.
//
// It is 128 bytes, one allocation for both APIs: an event API connection
// is its own Conn (type Conn connection), and the state only a few
// connections need at a time (a message spanning reads, a sender waiting
// for room, OnOpen's request) is kept elsewhere while they need it.
// TestConnectionSize holds the size.
type connection struct {
	srv *Server
	gc  gnet.Conn
	// user is, for the event API, the application's value (SetUserData);
	// for the blocking API, the *session.Session, set once by the
	// handler's Upgrade before the hand-off to the loop.
	user any
	// z is the permessage-deflate state, nil when not negotiated. Set
	// once, under srv.mu, before the connection enters WebSocket mode.
	z *compression
	// prev and next link the server's registry of open connections;
	// guarded by srv.mu.
	prev, next *connection
	// msg is the reader's state inside a message (loop): nil between
	// messages, and while a frame header is incomplete.
	msg *messageState

	out outbox
	// leftover is the bytes left in gnet's buffer after the last
	// OnTraffic: more than that in the next one means new bytes arrived.
	// Written by the loop, read by the ticker (the memory budget).
	leftover atomic.Int32
	// due is the coarse time at which the loop must look at the connection
	// (a handshake, close or linger deadline), 0 for none. Set by the loop
	// and by senders; read by the ticker.
	due atomicMoment
	// aux is the connection's second deadline: the next idle check while
	// it is open, the write deadline while it is stalled (see stall), the
	// hard end once a close frame is queued (see ending). 0 for none.
	aux      atomicMoment
	lastRead moment // loop: the last received bytes
	// signals holds what other goroutines and the loop tell each other:
	// a handler's hand-off, the WebSocket's state, and the marks of
	// signals.go.
	signals signals
	// handler is, for the event API, 1 + the index of the connection's
	// EventHandler in srv.eventHandlers (an index, not the interface: 14
	// bytes less); for the blocking API, blockingRoute | the index of its
	// route in srv.routePaths, or 0 before its first request. Set by the
	// loop before the connection enters WebSocket mode.
	handler uint16
	// protocol is 1 + the index of the negotiated subprotocol in
	// Config.Upgrade.Subprotocols, 0 for none.
	protocol uint8
	flags    loopFlags // loop: the phase and the loop's flags
}

// phase is where a connection is in its life. It is owned by the event loop.
type phase uint8

const (
	phaseHTTP    phase = iota // reading a request
	phaseHandler              // a handler goroutine owns the request; input waits
	phaseWS                   // WebSocket frames
	phaseClosing              // our side is done: input is discarded until the peer closes
)

// loopFlags are a connection's loop-owned flags, with its phase in the
// two low bits.
type loopFlags uint8

const (
	phaseMask  loopFlags = 3
	pinged     loopFlags = 1 << (iota + 1) // a keep-alive ping is outstanding
	halfClosed                             // our side of the TCP connection is shut down
	inFlush                                // flush holds out.wmu
	readDone                               // input is over: the peer closed or the connection failed
	socketFull                             // a direct write found the socket full: no eager writes until the next flush
	prefixed                               // input comes first from Server.bridge.prefixes (bridge_input.go)
)

// blockingRoute marks connection.handler as a blocking route's index.
const blockingRoute uint16 = 1 << 15

// phase returns the connection's phase.
func (f loopFlags) phase() phase { return phase(f & phaseMask) }

// setPhase moves the connection to phase p.
func (f *loopFlags) setPhase(p phase) { *f = *f&^phaseMask | loopFlags(p) }

func (f loopFlags) has(x loopFlags) bool { return f&x != 0 }

func (f *loopFlags) set(x loopFlags, on bool) {
	if on {
		*f |= x
	} else {
		*f &^= x
	}
}

// isEvent reports whether the connection is served through an
// EventHandler. Loop, or any goroutine once the connection is in WebSocket
// mode.
func (c *connection) isEvent() bool { return int16(c.handler) > 0 }

// events returns the connection as the event API's Conn: they are one.
func (c *connection) events() *Conn { return (*Conn)(c) }

// session returns the blocking API's session, or nil for an event
// connection or before the upgrade.
func (c *connection) session() *session.Session {
	if c.isEvent() {
		return nil
	}
	s, _ := c.user.(*session.Session)
	return s
}

// receiver returns where the reader delivers what the peer sends.
func (c *connection) receiver() receiver {
	if c.isEvent() {
		return (*eventReceiver)(nil)
	}
	return blockingReceiver{c.session()}
}

// State returns the WebSocket's state (see conn.State). Safe from any
// goroutine.
func (c *connection) State() conn.State { return c.signals.state() }

// setDue records that the loop must look at the connection by t; an
// earlier deadline wins. Any goroutine.
func (c *connection) setDue(t moment) {
	for {
		cur := c.due.Load()
		if cur != 0 && t.reached(cur) {
			return
		}
		if c.due.CompareAndSwap(cur, t) {
			c.srv.ticks.deadline(t)
			return
		}
	}
}

// setAux sets the second deadline to t, or to the earlier of t and the
// current one when keepEarlier. Any goroutine.
func (c *connection) setAux(t moment, keepEarlier bool) {
	for {
		cur := c.aux.Load()
		if keepEarlier && cur != 0 && t.reached(cur) {
			return
		}
		if c.aux.CompareAndSwap(cur, t) {
			c.srv.ticks.deadline(t)
			return
		}
	}
}

// beginClosing half-closes the socket once everything is written: the peer
// sees our FIN after the last byte, and the loop discards its input until it
// closes too or the close timeout passes. Loop only.
func (c *connection) beginClosing() {
	if c.flags.has(halfClosed) {
		return
	}
	c.flags.set(halfClosed, true)
	c.flags.setPhase(phaseClosing)
	_ = unix.Shutdown(c.gc.Fd(), unix.SHUT_WR)
	c.due.Store(0)
	c.setDue(c.srv.coarseNow().add(c.srv.cfg.CloseTimeout))
}
