package engine

import (
	"sync/atomic"
	"time"
)

// The server's clock and timers. One goroutine, started by Start and
// stopped by Shutdown, keeps a coarse clock (connections store deadlines
// as 32-bit moments) and wakes the loops for what has no traffic to wake
// it: deadlines that pass (handshake, close, idle, write, hard end),
// outbound buffers that drain (blocked senders, stalled connections,
// pending closes), corked sends, compressors to release, and the memory
// budget.
//
// While connections are active it ticks every 10ms; when nothing needs it
// (no traffic since the last scan, nothing draining) it sleeps until the
// next deadline, at most a second, so an idle server costs nothing
// measurable. Traffic that finds it asleep reads the time itself and
// pokes it, and so does a deadline set earlier than its next wake.

const (
	fastTick  = 10 * time.Millisecond
	scanEvery = 100 * time.Millisecond
	slowTick  = time.Second
)

// ticker is the server's timer goroutine. The zero value is ready for
// start.
type ticker struct {
	poke chan struct{} // buffered: a wake-up before the planned one
	quit chan struct{}
	done chan struct{}
	// next is the moment of the planned wake-up; asleep is set while the
	// ticker sleeps longer than a fast tick.
	next   atomicMoment
	asleep atomic.Bool
	// active is set by traffic, cleared by each scan: traffic since the
	// last scan.
	active  atomic.Bool
	runs    atomic.Int64 // how many times it ran (for tests)
	running atomic.Bool  // start was called
}

// init makes the ticker's channels. New calls it, so that they exist
// before any goroutine of the server can wake the ticker: a handler that
// runs before Start has started the ticker (its connection was accepted
// as soon as the listener was up) pokes a buffered channel the ticker
// reads once it runs.
func (t *ticker) init() {
	t.poke = make(chan struct{}, 1)
	t.quit = make(chan struct{})
	t.done = make(chan struct{})
}

// start runs the ticker for s, once.
func (t *ticker) start(s *Server) {
	t.running.Store(true)
	go t.run(s)
}

// stop ends the ticker and waits for it. It may be called more than once,
// and before start.
func (t *ticker) stop() {
	if t.quit == nil {
		return
	}
	select {
	case <-t.quit:
	default:
		close(t.quit)
	}
	if t.running.Load() {
		<-t.done
	}
}

// wake makes the ticker run now. Any goroutine.
func (t *ticker) wake() {
	if t.poke == nil {
		return
	}
	select {
	case t.poke <- struct{}{}:
	default:
	}
}

// wakeIfAsleep wakes the ticker when it sleeps longer than a fast tick.
// Any goroutine.
func (t *ticker) wakeIfAsleep() {
	if t.asleep.Load() {
		t.wake()
	}
}

// deadline tells the ticker of a deadline at m: it wakes earlier than
// planned if m comes first. Any goroutine.
func (t *ticker) deadline(m moment) {
	if t.asleep.Load() && !m.reached(t.next.Load()) {
		t.wake()
	}
}

// run is the ticker's goroutine.
func (t *ticker) run(s *Server) {
	defer close(t.done)
	timer := time.NewTimer(fastTick)
	defer timer.Stop()
	var lastScan moment
	for {
		t.runs.Add(1)
		now := momentOf(time.Since(s.start))
		s.clock.Store(now)
		delay := s.tick(now, &lastScan)
		t.next.Store(now.add(delay))
		t.asleep.Store(delay > fastTick)
		timer.Reset(delay)
		select {
		case <-t.quit:
			return
		case <-t.poke:
			if !timer.Stop() {
				<-timer.C
			}
		case <-timer.C:
		}
	}
}

// now returns the coarse clock for the loop's traffic: the ticker's, or,
// when the ticker sleeps, the time read now (and the ticker woken, since
// traffic needs its fast ticks). Loop only.
func (s *Server) now() moment {
	t := &s.ticks
	if !t.active.Load() {
		t.active.Store(true)
	}
	if !t.asleep.Load() {
		return s.clock.Load()
	}
	now := momentOf(time.Since(s.start))
	s.clock.Store(now)
	t.asleep.Store(false)
	t.wake()
	return now
}

// coarseNow returns the ticker's clock (at most ~10ms stale while
// connections are active).
func (s *Server) coarseNow() moment { return s.clock.Load() }

// watchDrain asks the ticker to wake c until its gnet buffer drains.
func (s *Server) watchDrain(c *connection) {
	if c.signals.mark(drainWatched, true) {
		return
	}
	s.mu.Lock()
	s.drainSet[c] = struct{}{}
	s.mu.Unlock()
	s.ticks.wake()
}

// unwatchDrain undoes watchDrain.
func (s *Server) unwatchDrain(c *connection) {
	if !c.signals.mark(drainWatched, false) {
		return
	}
	s.mu.Lock()
	delete(s.drainSet, c)
	s.mu.Unlock()
}

// tick runs on the ticker's goroutine: it wakes connections whose gnet
// buffer is draining (so blocked senders, stalled connections and pending
// closes make progress) and, every scanEvery, connections with a deadline
// due, and applies the memory budget. It returns how long the ticker may
// sleep.
func (s *Server) tick(now moment, lastScan *moment) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.drainSet {
		_ = c.gc.Wake(nil)
	}
	active := s.ticks.active.Load() || len(s.drainSet) > 0
	if active && now.sub(*lastScan) < scanEvery {
		return fastTick
	}
	*lastScan = now
	s.ticks.active.Store(false)
	next := slowTick
	soonest := func(d moment) {
		if d != 0 {
			next = min(next, max(d.sub(now), fastTick))
		}
	}
	for c := s.conns; c != nil; c = c.next {
		switch d, a := c.due.Load(), c.aux.Load(); {
		case d != 0 && now.reached(d), a != 0 && now.reached(a):
			_ = c.gc.Wake(nil)
		case c.signals.corkedTooLong():
			c.wakeLoop()
		default:
			soonest(d)
			soonest(a)
		}
		if c.signals.has(corkedSend) {
			active = true // flushed within two scans (corkedTooLong)
		}
		if c.signals.has(carriedMark) {
			s.foldCarried(c) // what its session's goroutine wrote (stats.go)
		}
		if c.z != nil {
			c.z.release(s, now)
			soonest(c.z.releaseAt.Load())
		}
	}
	s.budget.enforce(s, now)
	if active || s.budget.over.Load() {
		return fastTick
	}
	return next
}
