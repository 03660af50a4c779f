package engine

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/volley-ws/volley/conn"
)

// A peer may end its side of the TCP connection (its FIN) right after its
// last message or its close frame and still read the answers: a half-close.
// gnet closes a connection as soon as it reads the FIN, but a blocking
// handler answers on its own goroutine, after the loop has moved on, so
// without more its replies and its close frame would find the socket gone.
//
// So when a blocking WebSocket's peer half-closes while its handler is
// still at work, the connection gets an afterlife: the loop delivers what
// was left of the input (the last messages, the close frame), keeps a
// duplicate of the socket in Go's own poller, and from then on what the
// handler sends is written by the sending goroutine itself, with the write
// timeout. The afterlife ends when the handler returns or the WebSocket is
// closed, and in any case within CloseTimeout plus WriteTimeout.

// afterlife is a half-closed blocking connection's socket, after gnet let
// go of it.
type afterlife struct {
	nc    net.Conn
	timer *time.Timer
	once  sync.Once
}

// halfClosed is gnet's OnClose for a clean end of the peer's input. It
// adopts the connection (see above) when a blocking handler still has work
// to do, and otherwise closes it. Loop only.
func (c *connection) halfClosed(err error) {
	if !errors.Is(err, io.EOF) {
		c.closed()
		return
	}
	if c.adopt() {
		return
	}
	// The peer may still read: what is queued (a close frame answered
	// just now, say) goes out with gnet's last flush.
	if c.out.pending() {
		c.flush()
	}
	c.closed()
}

// adopt gives the connection its afterlife, when it is a blocking
// WebSocket that is not closed yet and gnet buffers nothing for it (what
// gnet buffers it would drop). It reports whether it did. Loop only.
func (c *connection) adopt() bool {
	s := c.srv
	ws := c.session()
	if c.flags.phase() != phaseWS || ws == nil || ws.Detached() || c.gc.OutboundBuffered() > 0 {
		return false
	}
	if st := c.State(); st != conn.StateOpen && st != conn.StateCloseReceived {
		return false // closed, or our close sent: no answer can come now
	}
	fd, err := unix.Dup(c.gc.Fd())
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(fd), "volley")
	nc, err := net.FileConn(f) // a duplicate of its own, in Go's poller
	f.Close()
	if err != nil {
		return false
	}
	// What the peer sent before its FIN: messages, pings, its close.
	if !c.flags.has(readDone) {
		if data := c.input(); len(data) > 0 {
			c.readFrames(data)
			c.counts().endRead()
		}
	}
	c.flags.set(readDone, true)
	if c.State() == conn.StateOpen && !c.signals.has(failMark) {
		// The peer's side ended without a close frame: the connection
		// fails with StatusAbnormalClosure, reported, as any failure, after
		// the messages that came before it; what the handler sends in
		// reply to them goes out first.
		c.receiver().failed(c, errAbnormal)
	}
	cfg := &s.cfg
	af := &afterlife{nc: nc}
	af.timer = time.AfterFunc(cfg.CloseTimeout+cfg.WriteTimeout, func() { c.endAfterlife(conn.ErrCloseTimeout) })
	// From now on whoever queues writes (afterFlush): the table entry and
	// the mark go together, under out.mu, so no frame is queued for a
	// wake-up that will not come.
	o := &c.out
	o.mu.Lock()
	s.afterlives.set(c, af)
	o.flags |= adopted
	o.flags &^= scheduled
	o.mu.Unlock()
	c.leaveLoop()
	c.afterFlush() // what the loop queued (pongs, a close answer)
	if ws.Detached() {
		// The handler returned meanwhile, maybe before the afterlife was
		// there to end.
		c.endAfterlife(errAbnormal)
	}
	return true
}

// afterFlush writes what is queued to an adopted connection's socket, from
// the calling goroutine, within WriteTimeout; once a close frame is
// written, the afterlife ends. Any goroutine.
func (c *connection) afterFlush() {
	af, ok := c.srv.afterlives.get(c)
	if !ok {
		return
	}
	switch done, err := c.afterWrite(af); {
	case err != nil:
		c.endAfterlife(conn.ErrWriteTimeout)
	case done:
		// The close frame is out, and the peer's side is over: nothing
		// more can come, nor needs to wait.
		c.endAfterlife(errAbnormal)
	}
}

// afterWrite writes what is queued to af's socket, within WriteTimeout,
// and reports whether a close frame was queued (or the connection ended).
func (c *connection) afterWrite(af *afterlife) (done bool, err error) {
	o := &c.out
	o.wmu.Lock()
	o.mu.Lock()
	b := o.buf
	o.buf = nil
	o.pong = 0
	done = o.flags&(closeQueued|closeAfter|dead) != 0
	o.mu.Unlock()
	var t tally
	if b != nil {
		t = b.tally
		_ = af.nc.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteTimeout))
		b.flatten(&c.srv.sends) // published frames queued before the adoption
		_, err = af.nc.Write(b.B)
		c.srv.sends.put(b)
	}
	o.wmu.Unlock()
	c.srv.countOffLoop(&t)
	return done, err
}

// endAfterlife closes an adopted connection's socket and ends the
// WebSocket, once; err says why when it was not closed already. Any
// goroutine.
func (c *connection) endAfterlife(err error) {
	af, ok := c.srv.afterlives.take(c)
	if !ok {
		return
	}
	af.once.Do(func() {
		af.timer.Stop()
		if err != conn.ErrCloseTimeout && err != conn.ErrWriteTimeout {
			_, _ = c.afterWrite(af) // what was queued meanwhile goes first
		}
		_ = af.nc.Close()
		c.end(err)
	})
}

// endAfterlives ends the adopted connections, for the server's shutdown:
// each gets the shutdown's close frame when it may still send one (or the
// answer to the peer's close), and its socket closes once that is written.
// Any goroutine.
func (s *Server) endAfterlives() (ended int) {
	for _, c := range s.afterlives.keys() {
		c.closeNow(errShuttingDown.Code, errShuttingDown.Reason)
		c.endAfterlife(errShuttingDown)
		ended++
	}
	return ended
}

// adopted reports whether the connection lives on after gnet closed it;
// out.mu must be held.
func (o *outbox) adopted() bool { return o.flags.has(adopted) }
