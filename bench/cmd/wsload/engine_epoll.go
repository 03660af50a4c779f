//go:build linux

package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/volley-ws/volley/bench/internal/hist"
	"github.com/volley-ws/volley/bench/internal/sock"
)

// epollEngine runs the connections on a few event loops of its own (one
// per GOMAXPROCS by default), outside Go's netpoller: each loop waits in
// epoll_wait, reads every ready socket into one shared buffer, parses the
// echoes in place and writes the replacement frames in one write per
// socket. No goroutine switch per message, no allocation per message.
type epollEngine struct {
	ld    *load
	loops []*eloop
	wg    sync.WaitGroup
}

type eloop struct {
	ld     *load
	epfd   int
	conns  []*econn
	byFd   []*econn // indexed by descriptor
	buf    []byte
	events []syscall.EpollEvent
	iov    []syscall.Iovec
	alive  int
	hist   hist.Histogram

	nMsgs, nMism uint64 // loop-local totals, published below
	msgs, mism   atomic.Uint64
}

type econn struct {
	fd      int
	s       *stream
	rest    []byte
	outOff  int // copy mode: bytes of s.out written
	wqIdx   int // zero-copy mode: frames of s.wq written ...
	wqOff   int // ... and bytes of the next one
	pollOut bool
	dead    bool
}

func newEpollEngine(ld *load, nloops int, conns []*net.TCPConn, rests [][]byte, streams []*stream) (*epollEngine, error) {
	e := &epollEngine{ld: ld}
	nloops = max(1, min(nloops, len(conns)))
	maxFrame := 0
	if len(streams) > 0 {
		maxFrame = len(streams[0].tmpl)
	}
	for range nloops {
		epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return nil, err
		}
		e.loops = append(e.loops, &eloop{
			ld:     ld,
			epfd:   epfd,
			buf:    make([]byte, max(256<<10, 2*maxFrame)),
			events: make([]syscall.EpollEvent, 512),
			iov:    make([]syscall.Iovec, 0, 1024),
		})
	}
	for i, nc := range conns {
		fd, err := sock.TakeFd(nc)
		if err != nil {
			return nil, fmt.Errorf("conn %d: %w", i, err)
		}
		l := e.loops[i%nloops]
		c := &econn{fd: fd, s: streams[i], rest: rests[i]}
		c.s.hist = &l.hist
		if c.s.size >= zeroCopyMin {
			c.s.useZeroCopy()
		}
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(fd)}
		if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
			return nil, fmt.Errorf("conn %d: epoll_ctl: %w", i, err)
		}
		l.conns = append(l.conns, c)
		for len(l.byFd) <= fd {
			l.byFd = append(l.byFd, nil)
		}
		l.byFd[fd] = c
		l.alive++
	}
	return e, nil
}

func (e *epollEngine) start() {
	for _, l := range e.loops {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			l.run()
		}()
	}
}

// drainStarted: each loop notices the phase change itself (epoll_wait
// times out every 20 ms).
func (e *epollEngine) drainStarted() {}

func (e *epollEngine) wait() { e.wg.Wait() }

func (e *epollEngine) totals() (msgs, mismatch uint64) {
	for _, l := range e.loops {
		msgs += l.msgs.Load()
		mismatch += l.mism.Load()
	}
	return msgs, mismatch
}

func (e *epollEngine) histogram() *hist.Histogram {
	h := new(hist.Histogram)
	for _, l := range e.loops {
		h.Merge(&l.hist)
	}
	return h
}

func (l *eloop) run() {
	defer syscall.Close(l.epfd)
	ld := l.ld
	now := ld.now()
	for _, c := range l.conns {
		for range c.s.inflight {
			c.s.queue(now)
		}
		if len(c.rest) > 0 {
			l.consume(c, c.rest, phaseWarmup)
			c.rest = nil
		}
		if !c.dead {
			l.flush(c)
		}
	}
	lastPhase := phaseWarmup
	// as gnet does: after a batch of events poll again without blocking;
	// only after -spin empty polls, yield, then block (at most 20 ms, to
	// notice phase changes). Spinning a little keeps the loop from
	// sleeping (and paying for the wake-up) between two bursts of echoes.
	timeout := 0
	empty := 0
	for l.alive > 0 {
		ph := ld.phase.Load()
		if ph == phaseStop {
			break
		}
		if ph == phaseDrain && lastPhase != phaseDrain {
			for _, c := range l.conns {
				if !c.dead {
					l.maybeClose(c, ph)
				}
			}
		}
		lastPhase = ph
		n, err := syscall.EpollWait(l.epfd, l.events, timeout)
		if n <= 0 && (err == nil || errors.Is(err, syscall.EINTR)) {
			if timeout == 0 {
				empty++
				if empty < l.ld.cfg.spin {
					continue
				}
				runtime.Gosched()
			}
			empty = 0
			timeout = 20
			continue
		}
		if err != nil {
			ld.logf("epoll_wait: %v", err)
			break
		}
		timeout = 0
		for i := range n {
			ev := &l.events[i]
			c := l.byFd[ev.Fd]
			if c.dead {
				continue
			}
			if ev.Events&(syscall.EPOLLIN|syscall.EPOLLERR|syscall.EPOLLHUP|syscall.EPOLLRDHUP) != 0 {
				l.readable(c, ph)
			}
			if !c.dead && ev.Events&syscall.EPOLLOUT != 0 {
				l.flush(c)
			}
		}
		l.msgs.Store(l.nMsgs)
		l.mism.Store(l.nMism)
	}
	l.msgs.Store(l.nMsgs)
	l.mism.Store(l.nMism)
	// whatever is still open at the stop never got its echoes (or its close)
	for _, c := range l.conns {
		if !c.dead {
			ld.lost.Add(uint64(c.s.outstanding()))
			if c.s.closing {
				ld.closeTO.Add(1)
			}
			l.drop(c)
		}
	}
}

// readable reads everything the socket has, parses it and answers.
func (l *eloop) readable(c *econn, ph int32) {
	for {
		n, err := sock.Read(c.fd, l.buf)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			if errors.Is(err, syscall.EAGAIN) {
				break
			}
			l.fail(c, fmt.Errorf("read: %w", err))
			return
		}
		if n == 0 {
			if c.s.raw && ph >= phaseDrain && c.s.outstanding() == 0 {
				l.ld.closedOK.Add(1)
				l.drop(c)
				return
			}
			l.fail(c, io.ErrUnexpectedEOF)
			return
		}
		if !l.consume(c, l.buf[:n], ph) {
			return
		}
		if n < len(l.buf) {
			break
		}
	}
	l.maybeClose(c, ph)
	if !c.dead {
		l.flush(c)
	}
}

// consume feeds received bytes to the stream; false if the connection is
// gone.
func (l *eloop) consume(c *econn, p []byte, ph int32) bool {
	before := c.s.mismatch
	done, err := c.s.feed(p, l.ld.now(), ph == phaseMeasure, ph <= phaseMeasure)
	l.nMsgs += uint64(done)
	l.nMism += c.s.mismatch - before
	if err != nil {
		if c.s.closing && errors.Is(err, errServerClosed) {
			l.ld.closedOK.Add(1)
			l.drop(c)
			return false
		}
		l.fail(c, err)
		return false
	}
	return true
}

// maybeClose starts the close once a draining connection has all its
// echoes back.
func (l *eloop) maybeClose(c *econn, ph int32) {
	if ph < phaseDrain || c.s.closing || c.s.outstanding() != 0 {
		return
	}
	if c.s.raw {
		l.ld.closedOK.Add(1)
		l.drop(c)
		return
	}
	c.s.queueClose()
	l.flush(c)
}

// flush writes what the stream queued; a partial write waits for EPOLLOUT.
func (l *eloop) flush(c *econn) {
	if c.s.slots != nil {
		l.flushFrames(c)
		return
	}
	out := c.s.out
	for c.outOff < len(out) {
		n, err := sock.Write(c.fd, out[c.outOff:])
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			if errors.Is(err, syscall.EAGAIN) {
				if !c.pollOut {
					l.setPollOut(c, true)
				}
				return
			}
			l.fail(c, fmt.Errorf("write: %w", err))
			return
		}
		c.outOff += n
	}
	c.s.out = out[:0]
	c.outOff = 0
	if c.pollOut {
		l.setPollOut(c, false)
	}
}

// maxWritev bounds the bytes handed to one writev.
const maxWritev = 64 << 10

// flushFrames writes the queued frames in place, with writev.
func (l *eloop) flushFrames(c *econn) {
	s := c.s
	for c.wqIdx < len(s.wq) {
		// at most ~64 KiB a call: measured cheaper on loopback than
		// writing everything in flight at once
		iov := l.iov[:0]
		total := 0
		for j := c.wqIdx; j < len(s.wq) && len(iov) < cap(iov) && total < maxWritev; j++ {
			f := s.wq[j]
			if j == c.wqIdx {
				f = f[c.wqOff:]
			}
			v := syscall.Iovec{Base: unsafe.SliceData(f)}
			v.SetLen(len(f))
			iov = append(iov, v)
			total += len(f)
		}
		n, err := sock.Writev(c.fd, iov)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			if errors.Is(err, syscall.EAGAIN) {
				if !c.pollOut {
					l.setPollOut(c, true)
				}
				return
			}
			l.fail(c, fmt.Errorf("writev: %w", err))
			return
		}
		for n > 0 {
			left := len(s.wq[c.wqIdx]) - c.wqOff
			if n < left {
				c.wqOff += n
				break
			}
			n -= left
			c.wqIdx++
			c.wqOff = 0
		}
	}
	clear(s.wq)
	s.wq = s.wq[:0]
	c.wqIdx, c.wqOff = 0, 0
	if c.pollOut {
		l.setPollOut(c, false)
	}
}

func (l *eloop) setPollOut(c *econn, on bool) {
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(c.fd)}
	if on {
		ev.Events |= syscall.EPOLLOUT
	}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_MOD, c.fd, &ev); err != nil {
		l.fail(c, fmt.Errorf("epoll_ctl: %w", err))
		return
	}
	c.pollOut = on
}

// fail closes a connection that broke.
func (l *eloop) fail(c *econn, err error) {
	if c.dead {
		return
	}
	l.ld.connErrs.Add(1)
	l.ld.lost.Add(uint64(c.s.outstanding()))
	l.ld.logf("conn %d: %v", c.s.id, err)
	l.drop(c)
}

func (l *eloop) drop(c *econn) {
	if c.dead {
		return
	}
	c.dead = true
	_ = syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	syscall.Close(c.fd)
	l.alive--
}
