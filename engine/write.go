package engine

import (
	"math/bits"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Flush implements conn.Transport: it writes what is queued from the
// calling goroutine, with no hand-off to the event loop, when gnet buffers
// nothing for the connection; otherwise (or when the socket is full) the
// loop is woken to write it through gnet. Safe from any goroutine.
func (c *connection) Flush() {
	// The session goroutine's stack: this path (Send, WriteData,
	// writeFrame, Flush, writeAll, the write system call) is what a handler
	// runs most, and Go grows a goroutine's 2 KiB stack to 4 KiB for good
	// once a call chain passes about 1.1 KiB. So the frames here stay
	// small: no defer, the rare partial write in its own function, and the
	// system call made directly.
	o := &c.out
	o.wmu.Lock()
	o.mu.Lock()
	if o.buf == nil || o.flags.has(dead) {
		o.mu.Unlock()
		o.wmu.Unlock()
		return
	}
	if o.adopted() {
		o.mu.Unlock()
		o.wmu.Unlock()
		c.afterFlush()
		return
	}
	if o.flags.has(scheduled) || o.gnetPending > 0 || o.buf.tally.rare() || len(o.buf.ext) > 0 {
		// The loop is about to flush, or gnet holds earlier bytes: writing
		// here could reorder them. (Or the buffer holds what the loop
		// counts: control frames, a full queue, see stats.go; or
		// published frames, which come scheduled.)
		o.mu.Unlock()
		o.wmu.Unlock()
		c.wakeLoop()
		return
	}
	b := o.buf // a blocking WebSocket's: bytes only, no extents
	o.buf = nil
	o.pong = 0
	c.carry(&b.tally)
	o.mu.Unlock()
	c.signals.uncork()

	n := writeAll(c.gc.Fd(), b.B)
	if n == len(b.B) {
		o.wmu.Unlock()
		c.srv.sends.put(b)
		return
	}
	c.requeue(b, n)
	o.wmu.Unlock()
	c.wakeLoop()
}

// requeue puts back what a direct write left of b (from n on) for the loop
// to write, before anything queued meanwhile. out.wmu must be held.
func (c *connection) requeue(b *sendBuf, n int) {
	o := &c.out
	rest := b.B[n:]
	o.mu.Lock()
	defer o.mu.Unlock()
	o.pong = 0
	if o.flags.has(dead) {
		c.srv.sends.put(b)
		return
	}
	if o.buf != nil {
		o.buf.flatten(&c.srv.sends)
		rest = append(rest, o.buf.B...)
		b.tally = o.buf.tally // b's own went with carry
		c.srv.sends.put(o.buf)
	}
	b.B = append(b.B[:0], rest...)
	o.buf = b
}

// wakeLoop makes the loop flush, unless a flush is already coming.
func (c *connection) wakeLoop() {
	c.out.mu.Lock()
	c.unlockAndWake()
}

// unlockAndWake releases out.mu (which must be held) and wakes the loop to
// flush, unless a flush is already coming or the connection is gone.
func (c *connection) unlockAndWake() {
	o := &c.out
	if o.adopted() {
		o.mu.Unlock()
		c.afterFlush()
		return
	}
	wake := o.flags&(scheduled|dead) == 0
	o.flags |= scheduled
	o.mu.Unlock()
	if wake {
		_ = c.gc.Wake(nil)
	}
}

// writeAll writes b to the non-blocking socket fd until it is all written,
// the socket is full, or an error occurs, and returns how much it wrote.
// The caller does not need the error: the loop's own write, which takes
// over what is left, reports a broken connection by closing it. It calls
// the system call directly, whose wrappers are the deepest frames of a
// session goroutine's send (see Flush).
func writeAll(fd int, b []byte) int {
	written := 0
	for written < len(b) {
		p := b[written:]
		n, _, errno := unix.Syscall(unix.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
		switch {
		case errno == unix.EINTR:
			continue
		case errno != 0 || int(n) <= 0:
			return written
		}
		written += int(n)
	}
	return written
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
	c.flags.set(socketFull, false) // gnet takes what the socket does not
	c.signals.uncork()
	o.mu.Lock()
	b := o.buf
	o.buf = nil
	o.pong = 0
	o.flags &^= scheduled
	// Read closeAfter with the buffer it belongs to: a close asked for by
	// another goroutine after the buffer was taken comes with frames that
	// are still queued (and a wake-up), so it must not close now.
	thenClose := o.flags.has(closeAfter)
	o.mu.Unlock()
	if b != nil {
		c.counts().add(&b.tally)
		var err error
		switch {
		case len(b.ext) > 0:
			err = c.writeRefs(b)
		case len(b.B) > 0:
			err = c.gnetWrite(b.B)
		}
		c.srv.sends.put(b)
		if err != nil {
			return false, true
		}
	}
	pending := c.refreshPending()
	waiting := c.signals.has(roomAwaited)
	if pending > 0 && (thenClose || waiting || c.signals.has(stalledMark)) {
		c.srv.watchDrain(c)
	} else if c.signals.has(drainWatched) {
		c.srv.unwatchDrain(c)
	}
	return thenClose && pending == 0, false
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
	err := c.gnetWrite(rest.B)
	c.srv.sends.put(rest)
	return err
}

// The pieces gnetWrite cuts a write into while gnet buffers output.
const (
	maxPiece = 64 << 10
	minPiece = 1 << 10
)

// gnetWrite hands p to gnet's Write. While gnet buffers earlier bytes for
// the connection (its peer does not keep up), gnet copies each write into
// a pooled buffer whose size is the next power of two: a 4,100-byte batch
// would hold 8 KiB, and a backlog would take up to twice the bytes counted
// against MaxUnsentBytes and the memory budget. So p is then handed over
// in pieces whose sizes are powers of two (at most maxPiece; only the
// last, under minPiece, is rounded up). Loop only: out.gnetPending, which
// the loop records after every write, is 0 only when gnet buffers nothing
// (gnet's buffer only shrinks between the loop's writes), so the common
// case asks gnet nothing.
func (c *connection) gnetWrite(p []byte) error {
	if c.out.gnetPending == 0 || c.gc.OutboundBuffered() == 0 {
		_, err := c.gc.Write(p)
		return err
	}
	for len(p) > 0 {
		n := len(p)
		if n > maxPiece {
			n = maxPiece
		} else if n >= minPiece {
			n = 1 << (bits.Len(uint(n)) - 1)
		}
		if _, err := c.gc.Write(p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}
