package engine

import (
	"golang.org/x/sys/unix"
)

// Flush implements conn.Transport: it writes what is queued from the
// calling goroutine, with no hand-off to the event loop, when gnet buffers
// nothing for the connection; otherwise (or when the socket is full) the
// loop is woken to write it through gnet. Safe from any goroutine.
func (c *connection) Flush() {
	o := &c.out
	o.wmu.Lock()
	defer o.wmu.Unlock()
	o.mu.Lock()
	if o.buf == nil || o.dead {
		o.mu.Unlock()
		return
	}
	if o.scheduled || o.gnetPending > 0 {
		// The loop is about to flush, or gnet holds earlier bytes: writing
		// here could reorder them.
		o.mu.Unlock()
		c.wakeLoop()
		return
	}
	b := o.buf
	o.buf = nil
	o.mu.Unlock()
	c.corkedAt.Store(0)

	n, err := writeAll(c.fd, b.B)
	if n == len(b.B) {
		c.srv.pool.Put(b)
		return
	}
	// The socket is full (or failed): hand the rest to the loop, before
	// anything queued meanwhile.
	rest := b.B[n:]
	o.mu.Lock()
	if o.dead {
		o.mu.Unlock()
		c.srv.pool.Put(b)
		return
	}
	if o.buf != nil {
		rest = append(rest, o.buf.B...)
		c.srv.pool.Put(o.buf)
	}
	b.B = append(b.B[:0], rest...)
	o.buf = b
	o.mu.Unlock()
	_ = err // the loop's write reports a broken connection by closing it
	c.wakeLoop()
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
	wake := !o.scheduled && !o.dead
	o.scheduled = true
	o.mu.Unlock()
	if wake {
		_ = c.gc.Wake(nil)
	}
}

// writeAll writes b to the non-blocking socket fd until it is all written,
// the socket is full, or an error occurs.
func writeAll(fd int, b []byte) (int, error) {
	written := 0
	for written < len(b) {
		n, err := unix.Write(fd, b[written:])
		if n > 0 {
			written += n
		}
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return written, err
		case n <= 0:
			return written, unix.EAGAIN
		}
	}
	return written, nil
}
