package engine

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/upgrade"
)

// phase is where a connection is in its life. It is owned by the event loop.
type phase uint8

const (
	phaseHTTP    phase = iota // reading a request
	phaseHandler              // a handler goroutine owns the request; input waits
	phaseWS                   // WebSocket frames
	phaseClosing              // our side is done: input is discarded until the peer closes
)

// Hand-offs from a handler goroutine to the loop (connection.signals).
const (
	handoffNone     uint32 = iota
	handoffResponse        // the handler returned; its response is queued
	handoffUpgraded        // the handler upgraded; frames follow
)

// signals holds, in one word, what other goroutines tell the loop: a
// handler's hand-off (the low two bits) and whether the connection is in
// the server's drain set. Safe for concurrent use.
type signals struct{ v atomic.Uint32 }

const (
	handoffMask  uint32 = 3
	drainWatched uint32 = 4
	corkedSend   uint32 = 8
	corkSeen     uint32 = 16
	roomAwaited  uint32 = 32
)

// handOff records a handler's hand-off; the previous one has been taken.
func (s *signals) handOff(h uint32) { s.v.Or(h) }

// takeHandoff returns the hand-off recorded and clears it.
func (s *signals) takeHandoff() uint32 {
	if s.v.Load()&handoffMask == 0 {
		return handoffNone
	}
	return s.v.And(^handoffMask) & handoffMask
}

// setDraining sets whether the connection is in the drain set and returns
// the previous value.
func (s *signals) setDraining(on bool) (was bool) {
	if on {
		return s.v.Or(drainWatched)&drainWatched != 0
	}
	return s.v.And(^drainWatched)&drainWatched != 0
}

// setRoomWanted sets whether a sender waits for room (the connection's
// out.mu held) and returns the previous value.
func (s *signals) setRoomWanted(on bool) (was bool) {
	if on {
		return s.v.Or(roomAwaited)&roomAwaited != 0
	}
	if s.v.Load()&roomAwaited == 0 {
		return false
	}
	return s.v.And(^roomAwaited)&roomAwaited != 0
}

// roomWanted reports whether a sender waits for room.
func (s *signals) roomWanted() bool { return s.v.Load()&roomAwaited != 0 }

// draining reports whether the connection is in the drain set.
func (s *signals) draining() bool { return s.v.Load()&drainWatched != 0 }

// cork records that a send waits for its receiver to finish a batch of
// received messages (see conn.Transport.WriteData).
func (s *signals) cork() {
	if s.v.Load()&corkedSend == 0 {
		s.v.Or(corkedSend)
	}
}

// uncork clears what cork and corkedTooLong recorded: the outbox is being
// flushed.
func (s *signals) uncork() {
	if s.v.Load()&(corkedSend|corkSeen) != 0 {
		s.v.And(^(corkedSend | corkSeen))
	}
}

// corkedTooLong is the ticker's check, at each scan, of a send waiting for
// its receiver's batch: it reports whether the send has waited since the
// previous scan at least (no flush came between), and otherwise marks a
// waiting send as seen by this scan. A receiver working through batches
// is thus never flushed early, and one that stalls is flushed within two
// scans.
func (s *signals) corkedTooLong() bool {
	switch v := s.v.Load(); {
	case v&corkedSend == 0:
		return false
	case v&corkSeen != 0:
		return true
	default:
		s.v.Or(corkSeen)
		return false
	}
}

// connection is the per-connection state. Fields marked "loop" are touched
// only on the connection's event loop; the outbox and the atomics are
// shared with other goroutines.
//
// It is 128 bytes, one allocation for both APIs: an event API connection
// is its own Conn (type Conn connection), and the state only a few
// connections need at a time (a message spanning reads, a sender waiting
// for room, why an event connection ended, OnOpen's request) is kept
// elsewhere while they need it. TestConnectionSize holds the size.
type connection struct {
	srv *Server
	gc  gnet.Conn
	// user is, for the event API, the application's value (SetUserData);
	// for the blocking API, the conn.Peer of the WebSocket, set once by the
	// handler's Upgrade before the hand-off to the loop.
	user any
	// z is the permessage-deflate state, nil when not negotiated. Set
	// once, under srv.mu, before the connection enters WebSocket mode.
	z *compression
	// prev and next link the server's registry of open connections;
	// guarded by srv.mu.
	prev, next *connection
	// msg is the parser's state inside a message (loop): nil between
	// messages, and while a frame header is incomplete.
	msg *messageState

	out outbox
	// leftover is the bytes left in gnet's buffer after the last
	// OnTraffic: more than that in the next one means new bytes arrived.
	// Loop only.
	leftover int32
	// due is the coarse time at which the loop must look at the connection
	// (a handshake, close or linger deadline), 0 for none. Set by the loop
	// and by senders; read by the ticker.
	due atomicMoment
	// idleCheck is the coarse time of the next idle check (ping or idle
	// close), 0 when idle checks are off. Set by the loop, read by the ticker.
	idleCheck atomicMoment
	lastRead  moment // loop: the last received bytes
	// signals holds the hand-off of a blocking handler, the drain mark, the
	// cork of a send waiting for its receiver's batch (which the ticker
	// flushes if the receiver takes too long) and whether a sender waits
	// for room.
	signals signals
	// handler is, for the event API, 1 + the index of the connection's
	// EventHandler in srv.eventHandlers (an index, not the interface: 14
	// bytes less); 0 for the blocking API. Set by the loop before the
	// connection enters WebSocket mode.
	handler uint16
	// protocol is 1 + the index of the negotiated subprotocol in
	// Config.Upgrade.Subprotocols, 0 for none (event API).
	protocol uint8
	flags    loopFlags // loop: the phase and the loop's flags
}

// loopFlags are a connection's loop-owned flags, with its phase in the
// two low bits.
type loopFlags uint8

const (
	phaseMask    loopFlags = 3
	pinged       loopFlags = 1 << (iota + 1) // a keep-alive ping is outstanding
	shutdownSent                             // the shutdown close was sent
	halfClosed                               // our side of the TCP connection is shut down
	inFlush                                  // flush holds out.wmu
	readDone                                 // input is over: the peer closed or the connection failed
	peerClosed                               // event API: the peer's close frame arrived
)

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
func (c *connection) isEvent() bool { return c.handler != 0 }

// events returns the connection as the event API's Conn: they are one.
func (c *connection) events() *Conn { return (*Conn)(c) }

// peer returns the blocking API's WebSocket side, or the zero Peer for an
// event connection or before the upgrade.
func (c *connection) peer() conn.Peer {
	if c.isEvent() {
		return conn.Peer{}
	}
	p, _ := c.user.(conn.Peer)
	return p
}

// --- conn.Transport, for the blocking API ---

// WriteData implements conn.Transport.
func (c *connection) WriteData(t conn.MessageType, first, fin bool, payload []byte, flush bool) error {
	if c.z != nil {
		return c.writeCompressed(t, first, fin, payload, flush)
	}
	return c.writeFrame(opcode(t, first), 0, fin, payload, flush)
}

// writeCompressed is WriteData on a permessage-deflate connection.
func (c *connection) writeCompressed(t conn.MessageType, first, fin bool, payload []byte, flush bool) error {
	z := c.z
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.closed {
		return conn.ErrClosed
	}
	p, rsv, scratch := z.compress(c.srv, first, fin, payload)
	err := c.writeFrame(opcode(t, first), rsv, fin, p, flush)
	if scratch != nil {
		c.srv.pool.Put(scratch)
	}
	return err
}

// writeFrame queues one data frame for a blocking WebSocket, waiting up to
// WriteTimeout for room under MaxUnsentBytes. The wait is in its own
// function, to keep this frame small (see Flush).
func (c *connection) writeFrame(op ws.OpCode, rsv byte, fin bool, payload []byte, flush bool) error {
	o := &c.out
	o.mu.Lock()
	if !o.closeQueued && !o.dead && o.unsent() >= c.srv.cfg.MaxUnsentBytes {
		if err := c.waitRoom(); err != nil {
			return err
		}
	}
	if o.closeQueued || o.dead {
		o.mu.Unlock()
		return conn.ErrClosed
	}
	o.appendFrame(&c.srv.sends, op, rsv, fin, payload)
	o.mu.Unlock()
	if flush {
		c.Flush()
	} else {
		c.signals.cork()
	}
	return nil
}

// waitRoom waits, with out.mu held and released meanwhile, until the unsent
// bytes are under MaxUnsentBytes or the frame cannot be sent any more. After
// WriteTimeout it aborts the connection and returns ErrWriteTimeout, with
// out.mu released; otherwise it returns nil with out.mu held.
func (c *connection) waitRoom() error {
	o := &c.out
	var timer *time.Timer
	var expired <-chan time.Time
	for !o.closeQueued && !o.dead && o.unsent() >= c.srv.cfg.MaxUnsentBytes {
		if timer == nil {
			timer, expired = deadline(c.srv.cfg.WriteTimeout)
			defer timer.Stop()
		}
		room := c.roomWait()
		o.mu.Unlock()
		c.srv.watchDrain(c)
		select {
		case <-room:
		case <-expired:
			c.abortWith(conn.ErrWriteTimeout)
			return conn.ErrWriteTimeout
		}
		o.mu.Lock()
	}
	return nil
}

// WriteClose implements conn.Transport.
func (c *connection) WriteClose(code conn.StatusCode, reason string, thenClose bool) error {
	o := &c.out
	o.mu.Lock()
	if o.closeQueued || o.dead {
		if thenClose && !o.dead && !o.closeAfter {
			o.closeAfter = true
			c.unlockAndWake()
			return nil
		}
		o.mu.Unlock()
		return conn.ErrClosed
	}
	c.appendClose(code, reason, thenClose)
	if !thenClose {
		c.setDue(c.srv.coarseNow().add(c.srv.cfg.CloseTimeout))
	}
	c.unlockAndWake()
	return nil
}

// Abort implements conn.Transport.
func (c *connection) Abort() {
	o := &c.out
	o.mu.Lock()
	dead := o.dead
	o.dead = true
	if o.buf != nil {
		c.srv.sends.put(o.buf)
		o.buf = nil
	}
	c.signalRoom()
	o.mu.Unlock()
	if !dead {
		_ = c.gc.Close()
	}
}

// abortWith aborts the WebSocket (or event connection) because of err.
func (c *connection) abortWith(err error) {
	if p := c.peer(); p.WebSocket() != nil {
		p.Fail(err)
	}
	c.Abort()
}

// Config implements conn.Transport.
func (c *connection) Config() *conn.Config { return &c.srv.wsConfig }

// setDue records that the loop must look at the connection by t; an
// earlier deadline wins.
func (c *connection) setDue(t moment) {
	for {
		cur := c.due.Load()
		if cur != 0 && t.reached(cur) {
			return
		}
		if c.due.CompareAndSwap(cur, t) {
			return
		}
	}
}

// --- loop side ---

// queueLocal appends raw bytes (an HTTP response) to the outbox. Any
// goroutine.
func (c *connection) queueLocal(b []byte, closeAfter bool) {
	o := &c.out
	o.mu.Lock()
	if !o.dead {
		buf := o.buffer(&c.srv.sends)
		buf.B = append(buf.B, b...)
		if closeAfter {
			o.closeAfter = true
			o.closeQueued = true
		}
	}
	o.mu.Unlock()
}

// queueResponse queues a's 101 response, written straight into the
// outbound buffer. Loop only.
func (c *connection) queueResponse(a *upgrade.Accepted) {
	o := &c.out
	o.mu.Lock()
	if !o.dead {
		b := o.buffer(&c.srv.sends)
		b.B = a.AppendResponse(b.B)
	}
	o.mu.Unlock()
}

// flush writes everything queued with one system call. It returns
// closeNow when the connection must now be closed (everything is written
// and a close was asked for), and gone when the write failed and gnet
// closed the connection (OnClose has run). Loop only; in OnTraffic, before
// the input is discarded, since the buffer may reference it.
func (c *connection) flush() (closeNow, gone bool) {
	o := &c.out
	o.wmu.Lock()
	defer o.wmu.Unlock()
	c.flags.set(inFlush, true)
	defer c.flags.set(inFlush, false)
	c.signals.uncork()
	o.mu.Lock()
	b := o.buf
	o.buf = nil
	o.scheduled = false
	// Read closeAfter with the buffer it belongs to: a close asked for by
	// another goroutine after the buffer was taken comes with frames that
	// are still queued (and a wake-up), so it must not close now.
	closeAfter := o.closeAfter
	o.mu.Unlock()
	if b != nil {
		var err error
		switch {
		case len(b.ext) > 0:
			err = c.writeRefs(b)
		case len(b.B) > 0:
			_, err = c.gc.Write(b.B)
		}
		c.srv.sends.put(b)
		if err != nil {
			return false, true
		}
	}
	pending := c.gc.OutboundBuffered()
	o.mu.Lock()
	o.gnetPending = int32(min(pending, math.MaxInt32))
	if o.unsent() < c.srv.cfg.MaxUnsentBytes {
		c.signalRoom()
	}
	waiting := c.signals.roomWanted()
	o.mu.Unlock()
	if pending > 0 && (closeAfter || waiting) {
		c.srv.watchDrain(c)
	} else if c.signals.draining() {
		c.srv.unwatchDrain(c)
	}
	return closeAfter && pending == 0, false
}

// writeRefs writes b, which references payloads in gnet's input (see
// sendBuf), with one writev when gnet buffers nothing for the connection.
// What the socket does not take, or all of it when gnet already buffers
// earlier bytes, goes through gnet's Write, which keeps a copy and reports
// a broken connection. Loop only, before the input is discarded.
func (c *connection) writeRefs(b *sendBuf) error {
	n := 0
	if c.gc.OutboundBuffered() == 0 {
		n = b.writev(c.gc.Fd())
		if n == b.size() {
			return nil
		}
	}
	rest := c.srv.sends.get()
	rest.B = b.appendRest(rest.B, n)
	_, err := c.gc.Write(rest.B)
	c.srv.sends.put(rest)
	return err
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
	c.idleCheck.Store(0)
	_ = unix.Shutdown(c.gc.Fd(), unix.SHUT_WR)
	c.due.Store(c.srv.coarseNow().add(c.srv.cfg.CloseTimeout))
}

// newContext builds the upgrade.Context for a request.
func (c *connection) newContext(req *upgrade.Request, body []byte) *upgrade.Context {
	return upgrade.NewContext(req, body, backend{c}, &c.srv.cfg.Upgrade)
}
