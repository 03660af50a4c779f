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

	"github.com/volley-ws/volley/bench/internal/sock"
)

// engine runs the connections on a few event loops of its own (GOMAXPROCS
// of them by default), outside Go's netpoller, as wsload's epoll engine
// does: each loop waits in epoll_wait, reads everything a ready socket
// has into one shared buffer, checks the deliveries in place and writes
// what its publishers queued in one write per socket.
type engine struct {
	ld    *load
	loops []*eloop
	wg    sync.WaitGroup
}

type eloop struct {
	ld     *load
	epfd   int
	conns  []*econn
	pubs   []*econn
	byFd   []*econn // indexed by descriptor
	buf    []byte
	events []syscall.EpollEvent
	alive  int
	t      tally

	// the tally's counts, published every iteration
	deliveries, measured, published, acked, bad atomic.Uint64
}

type econn struct {
	fd      int
	c       *fconn
	rest    []byte // bytes received with the handshake answer
	carry   []byte // the start of a frame, from the previous read
	outOff  int
	pollOut bool
	dead    bool
}

func newEngine(ld *load, nloops int, conns []*net.TCPConn, rests [][]byte, fcs []*fconn) (*engine, error) {
	e := &engine{ld: ld}
	nloops = max(1, min(nloops, len(conns)))
	for range nloops {
		epfd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			return nil, err
		}
		e.loops = append(e.loops, &eloop{
			ld:     ld,
			epfd:   epfd,
			buf:    make([]byte, 256<<10),
			events: make([]syscall.EpollEvent, 1024),
		})
	}
	for i, nc := range conns {
		fd, err := sock.TakeFd(nc)
		if err != nil {
			return nil, fmt.Errorf("conn %d: %w", fcs[i].id, err)
		}
		l := e.loops[i%nloops]
		c := &econn{fd: fd, c: fcs[i], rest: rests[i]}
		ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(fd)}
		if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
			return nil, fmt.Errorf("conn %d: epoll_ctl: %w", fcs[i].id, err)
		}
		l.conns = append(l.conns, c)
		if c.c.pub != nil {
			l.pubs = append(l.pubs, c)
		}
		for len(l.byFd) <= fd {
			l.byFd = append(l.byFd, nil)
		}
		l.byFd[fd] = c
		l.alive++
	}
	return e, nil
}

func (e *engine) start() {
	for _, l := range e.loops {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			l.run()
		}()
	}
}

func (e *engine) wait() { e.wg.Wait() }

// counts sums the loops' published counts; safe from any goroutine.
func (e *engine) counts() (deliveries, measured, published, acked, bad uint64) {
	for _, l := range e.loops {
		deliveries += l.deliveries.Load()
		measured += l.measured.Load()
		published += l.published.Load()
		acked += l.acked.Load()
		bad += l.bad.Load()
	}
	return
}

// tally merges the loops' tallies (after wait).
func (e *engine) tally() *tally {
	t := new(tally)
	for _, l := range e.loops {
		lt := &l.t
		t.deliveries += lt.deliveries
		t.measured += lt.measured
		t.published += lt.published
		t.acked += lt.acked
		t.late += lt.late
		t.order += lt.order
		t.gaps += lt.gaps
		t.corrupt += lt.corrupt
		t.hist.Merge(&lt.hist)
	}
	return t
}

func (l *eloop) publishCounts() {
	l.deliveries.Store(l.t.deliveries)
	l.measured.Store(l.t.measured)
	l.published.Store(l.t.published)
	l.acked.Store(l.t.acked)
	l.bad.Store(l.t.order + l.t.corrupt)
}

func (l *eloop) run() {
	defer syscall.Close(l.epfd)
	ld := l.ld
	now := ld.now()
	for i, c := range l.pubs {
		// fixed rate: the loop's publishers spread over one interval
		c.c.pub.due = now + int64(i)*ld.plan.interval/int64(len(l.pubs))
		c.c.refill(now, &l.t)
	}
	for _, c := range l.conns {
		if len(c.rest) > 0 {
			l.consume(c, c.rest, now, phaseWarmup)
			c.rest = nil
		}
		if !c.dead && len(c.c.out) > 0 {
			l.flush(c)
		}
	}
	lastPhase := phaseWarmup
	// as gnet does: after a batch of events poll again without blocking;
	// only after -spin empty polls, yield, then block (at most 20 ms, to
	// notice phase changes, or until the next publish is due)
	timeout, empty := 0, 0
	for l.alive > 0 {
		ph := ld.phase.Load()
		if ph == phaseStop {
			break
		}
		if ph >= phaseClose && lastPhase < phaseClose {
			for _, c := range l.conns {
				if !c.dead {
					c.c.queueClose()
					l.flush(c)
				}
			}
		}
		lastPhase = ph
		if ld.plan.interval > 0 && ph <= phaseMeasure && len(l.pubs) > 0 {
			now = ld.now()
			for _, c := range l.pubs {
				if !c.dead {
					c.c.refill(now, &l.t)
					if len(c.c.out) > 0 {
						l.flush(c)
					}
				}
			}
		}
		n, err := syscall.EpollWait(l.epfd, l.events, timeout)
		if n <= 0 && (err == nil || errors.Is(err, syscall.EINTR)) {
			if timeout == 0 {
				empty++
				if empty < ld.cfg.spin {
					continue
				}
				runtime.Gosched()
			}
			empty = 0
			timeout = l.sleepMs(ph)
			continue
		}
		if err != nil {
			ld.logf("epoll_wait: %v", err)
			break
		}
		timeout = 0
		now = ld.now()
		for i := range n {
			ev := &l.events[i]
			c := l.byFd[ev.Fd]
			if c.dead {
				continue
			}
			if ev.Events&(syscall.EPOLLIN|syscall.EPOLLERR|syscall.EPOLLHUP|syscall.EPOLLRDHUP) != 0 {
				l.readable(c, now, ph)
			}
			if !c.dead && ev.Events&syscall.EPOLLOUT != 0 {
				l.flush(c)
			}
		}
		l.publishCounts()
	}
	l.publishCounts()
	for _, c := range l.conns {
		if !c.dead {
			if c.c.closing {
				ld.closeTO.Add(1)
			}
			l.drop(c)
		}
	}
}

// sleepMs is how long epoll_wait may block: 20 ms, or less when a
// publisher with room in its window is due sooner.
func (l *eloop) sleepMs(ph int32) int {
	ms := 20
	iv := l.ld.plan.interval
	if iv == 0 || ph > phaseMeasure {
		return ms
	}
	now := l.ld.now()
	for _, c := range l.pubs {
		p := c.c.pub
		if c.dead || p.outstanding() >= l.ld.plan.window {
			continue
		}
		wait := int((p.due - now + 999_999) / 1_000_000)
		ms = max(0, min(ms, wait))
	}
	return ms
}

// readable reads everything the socket has and checks it.
func (l *eloop) readable(c *econn, now int64, ph int32) {
	for {
		k := copy(l.buf, c.carry)
		n, err := sock.Read(c.fd, l.buf[k:])
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
			l.fail(c, io.ErrUnexpectedEOF)
			return
		}
		c.carry = c.carry[:0]
		if !l.consume(c, l.buf[:k+n], now, ph) {
			return
		}
		if k+n < len(l.buf) {
			break
		}
	}
	if !c.dead && len(c.c.out) > c.outOff {
		l.flush(c)
	}
}

// consume feeds received bytes to the connection and keeps the start of
// an incomplete frame; false if the connection is gone.
func (l *eloop) consume(c *econn, p []byte, now int64, ph int32) bool {
	used, err := c.c.feed(p, now, ph, &l.t)
	if err != nil {
		if c.c.closing && errors.Is(err, errServerClosed) {
			l.ld.closedOK.Add(1)
			l.drop(c)
			return false
		}
		l.fail(c, err)
		return false
	}
	c.carry = append(c.carry[:0], p[used:]...)
	return true
}

// flush writes what the connection queued; a partial write waits for
// EPOLLOUT.
func (l *eloop) flush(c *econn) {
	out := c.c.out
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
	c.c.out = out[:0]
	c.outOff = 0
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
	l.ld.logf("conn %d: %v", c.c.id, err)
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
