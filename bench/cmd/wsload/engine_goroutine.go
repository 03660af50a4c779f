package main

import (
	"github.com/volley-ws/volley/bench/internal/hist"

	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// goroutineEngine runs one goroutine per connection with blocking reads:
// each read is parsed in place and the replacement frames for every echo
// it completed leave in one write.
type goroutineEngine struct {
	ld    *load
	conns []*gconn
	wg    sync.WaitGroup
	drain atomic.Int64 // drain deadline, unix nanoseconds
}

type gconn struct {
	nc   *net.TCPConn
	s    *stream
	rest []byte // bytes received with the handshake response
	hist hist.Histogram
	msgs atomic.Uint64
	mism atomic.Uint64
}

func newGoroutineEngine(ld *load, conns []*net.TCPConn, rests [][]byte, streams []*stream) *goroutineEngine {
	e := &goroutineEngine{ld: ld}
	for i, nc := range conns {
		g := &gconn{nc: nc, s: streams[i], rest: rests[i]}
		g.s.hist = &g.hist
		e.conns = append(e.conns, g)
	}
	return e
}

func (e *goroutineEngine) start() {
	for _, g := range e.conns {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.run(g)
		}()
	}
}

func (e *goroutineEngine) drainStarted() {
	e.drain.Store(time.Now().Add(e.ld.cfg.drain).UnixNano())
	now := time.Now()
	for _, g := range e.conns {
		_ = g.nc.SetReadDeadline(now) // wake readers with nothing in flight
	}
}

func (e *goroutineEngine) wait() { e.wg.Wait() }

func (e *goroutineEngine) totals() (msgs, mismatch uint64) {
	for _, g := range e.conns {
		msgs += g.msgs.Load()
		mismatch += g.mism.Load()
	}
	return msgs, mismatch
}

func (e *goroutineEngine) histogram() *hist.Histogram {
	h := new(hist.Histogram)
	for _, g := range e.conns {
		h.Merge(&g.hist)
	}
	return h
}

func (e *goroutineEngine) run(g *gconn) {
	ld, s := e.ld, g.s
	defer g.nc.Close()
	bufSize := 32 << 10
	if s.size*s.inflight > bufSize {
		bufSize = min(s.size*s.inflight, 256<<10)
	}
	buf := make([]byte, bufSize)
	now := ld.now()
	for range s.inflight {
		s.queue(now)
	}
	if _, err := g.nc.Write(s.out); err != nil {
		ld.connErrs.Add(1)
		ld.logf("conn %d: write: %v", s.id, err)
		return
	}
	s.out = s.out[:0]
	pending := g.rest
	draining := false
	for {
		var n int
		var err error
		if len(pending) > 0 {
			n = copy(buf, pending)
			pending = pending[n:]
		} else {
			n, err = g.nc.Read(buf)
		}
		ph := ld.phase.Load()
		if n > 0 {
			before := s.mismatch
			done, ferr := s.feed(buf[:n], ld.now(), ph == phaseMeasure, ph <= phaseMeasure)
			g.msgs.Add(uint64(done))
			if d := s.mismatch - before; d > 0 {
				g.mism.Add(d)
			}
			if ferr != nil {
				if s.closing && errors.Is(ferr, errServerClosed) {
					ld.closedOK.Add(1)
					return
				}
				ld.connErrs.Add(1)
				ld.lost.Add(uint64(s.outstanding()))
				ld.logf("conn %d: %v", s.id, ferr)
				return
			}
		}
		if ph >= phaseDrain && !s.closing && s.outstanding() == 0 {
			if s.raw {
				ld.closedOK.Add(1)
				return
			}
			s.queueClose()
		}
		if len(s.out) > 0 {
			if _, werr := g.nc.Write(s.out); werr != nil {
				if !s.closing {
					ld.connErrs.Add(1)
					ld.logf("conn %d: write: %v", s.id, werr)
				}
				ld.lost.Add(uint64(s.outstanding()))
				return
			}
			s.out = s.out[:0]
		}
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && ph == phaseDrain && !draining {
				// woken by drainStarted: keep reading until the drain deadline
				draining = true
				_ = g.nc.SetReadDeadline(time.Unix(0, e.drain.Load()))
				continue
			}
			ld.lost.Add(uint64(s.outstanding()))
			if s.closing && errors.Is(err, os.ErrDeadlineExceeded) {
				ld.closeTO.Add(1)
			}
			if ph < phaseDrain || !errors.Is(err, os.ErrDeadlineExceeded) {
				ld.connErrs.Add(1)
				ld.logf("conn %d: read: %v", s.id, err)
			}
			return
		}
	}
}
