package engine

import (
	"sync/atomic"

	"github.com/panjf2000/gnet/v2"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/internal/session"
)

// The counters behind Server.Stats; stats.go says how they are counted
// and why.

// loopCounts are one event loop's counters. The loop that claimed the
// slot is the only writer (bump); Stats reads them from any goroutine.
// Server.offLoop is one more, whose writers hold Server.mu.
type loopCounts struct {
	recv, sent             msgCounts
	closesRecv, closesSent [closeBuckets]atomic.Uint64
	// refused counts the engine's HTTP error answers, by status-400
	// (every status the engine answers with is a 4xx or 5xx).
	refused [refusedStatuses]atomic.Uint64
	full    atomic.Uint64 // SendQueueFull
	// stage gathers the data messages the loop receives during one read
	// (plain fields: the loop's alone), stored into recv at its end: a
	// read of many messages costs two stores, not two per message.
	stage struct{ text, binary, bytes uint64 }
	// routes are the route counters, by route index. Set under Server.mu
	// when the slot is claimed.
	routes []routeCounts
	el     gnet.EventLoop // the slot's loop, nil while free; under Server.mu
	_      [64]byte       // no false sharing with the next loop's slot
}

// msgCounts count one direction's messages by type, and their bytes.
type msgCounts struct {
	text, binary, ping, pong, close, bytes atomic.Uint64
}

// routeCounts are one route's counters on one loop: its connections that
// entered WebSocket mode, and those of them that left the loop.
type routeCounts struct{ upgraded, left atomic.Uint64 }

const (
	// refusedStatuses spans the statuses 400-599.
	refusedStatuses = 200
	// Close codes by bucket: 1000-1015 as themselves, then 3000-3999,
	// 4000-4999 and any other.
	closeBuckets  = 19
	bucket3000    = 16
	bucket4000    = 17
	bucketOther   = 18
	bucketNoCode  = int(conn.StatusNoStatusReceived - 1000)
	bucketDropped = int(conn.StatusAbnormalClosure - 1000)
)

// bump adds n to x, a counter with one writer at a time: a load and a
// store, not a read-modify-write. On amd64 the store is an XCHG (Go's
// atomic stores are sequentially consistent), which costs about what an
// uncontended LOCK XADD does: what this saves is contention, the cache
// line of a counter shared by every loop.
func bump(x *atomic.Uint64, n uint64) { x.Store(x.Load() + n) }

// received stages a message of type t with n payload bytes (see stage).
// The loop's only.
func (lc *loopCounts) received(t conn.MessageType, n int) {
	if t == conn.Text {
		lc.stage.text++
	} else {
		lc.stage.binary++
	}
	lc.stage.bytes += uint64(n)
}

// endRead stores what received staged. The loop's only.
func (lc *loopCounts) endRead() {
	if st := &lc.stage; st.text|st.binary|st.bytes != 0 {
		bump(&lc.recv.text, st.text)
		bump(&lc.recv.binary, st.binary)
		bump(&lc.recv.bytes, st.bytes)
		*st = struct{ text, binary, bytes uint64 }{}
	}
}

// closeBucket returns the bucket of close code c.
func closeBucket(c conn.StatusCode) int {
	switch {
	case c >= 1000 && c <= 1015:
		return int(c - 1000)
	case c >= 3000 && c <= 3999:
		return bucket3000
	case c >= 4000 && c <= 4999:
		return bucket4000
	}
	return bucketOther
}

// bucketCode returns the code a bucket is reported as.
func bucketCode(b int) uint16 {
	switch b {
	case bucket3000:
		return 3000
	case bucket4000:
		return 4000
	case bucketOther:
		return 0
	}
	return uint16(1000 + b)
}

// tally counts the frames queued in a sendBuf, under the outbox's lock,
// until the buffer is written: whoever takes it to write adds them to
// counters (see stats.go).
type tally struct {
	bytes                          uint64 // payload bytes of the text and binary frames
	text, binary, ping, pong, full uint32 // messages (counted at their last frame), control frames, sends refused or kept waiting
	close                          uint8  // 1 + the bucket of the close frame queued, 0 for none
}

// data counts a data frame of a message of type t with n payload bytes
// (uncompressed); the message counts with its last frame.
func (t *tally) data(typ conn.MessageType, fin bool, n int) {
	t.bytes += uint64(n)
	switch {
	case !fin:
	case typ == conn.Text:
		t.text++
	default:
		t.binary++
	}
}

// rare reports whether t counts something other than data frames: what
// a blocking session's goroutine leaves to the loop to write (Flush).
func (t *tally) rare() bool { return t.ping|t.pong|t.full|uint32(t.close) != 0 }

// add adds t to the counters; lc's writer calls it.
func (lc *loopCounts) add(t *tally) {
	if t.text != 0 {
		bump(&lc.sent.text, uint64(t.text))
	}
	if t.binary != 0 {
		bump(&lc.sent.binary, uint64(t.binary))
	}
	if t.bytes != 0 {
		bump(&lc.sent.bytes, t.bytes)
	}
	if t.rare() {
		bump(&lc.sent.ping, uint64(t.ping))
		bump(&lc.sent.pong, uint64(t.pong))
		bump(&lc.full, uint64(t.full))
		if t.close != 0 {
			bump(&lc.sent.close, 1)
			bump(&lc.closesSent[t.close-1], 1)
		}
	}
}

// countFull counts a send refused, or made to wait, for a full queue;
// out.mu is held.
func (c *connection) countFull() { c.out.buffer(&c.srv.sends).tally.full++ }

// counts returns the counters of c's event loop. Loop only.
func (c *connection) counts() *loopCounts { return &c.srv.counts[c.out.slot] }

// countRefused counts an HTTP error answered by the engine. Loop only.
func (c *connection) countRefused(status int) {
	if i := status - 400; i >= 0 && i < refusedStatuses {
		bump(&c.counts().refused[i], 1)
	}
}

// claimSlot sets c's loop counters: the slot of its event loop, claimed
// by the loop's first connection. s.mu is held, on c's loop.
func (s *Server) claimSlot(c *connection) {
	el := c.gc.EventLoop()
	for i := range s.counts {
		lc := &s.counts[i]
		if lc.el == nil {
			lc.el = el
			lc.routes = make([]routeCounts, len(s.routePaths))
		}
		if lc.el == el {
			c.out.slot = uint8(i)
			return
		}
	}
	// Not reached: there is a slot per loop, and gnet runs at most 256.
}

// routeOf returns the index of c's route. Loop only, once the route is
// set (dispatch, acceptEvents); any goroutine once c is a WebSocket.
func (c *connection) routeOf() uint16 {
	if c.handler&blockingRoute != 0 {
		return c.handler &^ blockingRoute
	}
	return c.srv.eventRoutes[c.handler-1]
}

// countUpgraded counts c in its route's connections: it enters WebSocket
// mode. Loop only.
func (c *connection) countUpgraded() {
	c.signals.mark(upgradedMark, true)
	if r, lc := c.routeOf(), c.counts(); int(r) < len(lc.routes) {
		bump(&lc.routes[r].upgraded, 1)
	}
}

// countLeft counts a connection leaving its loop: out of its route's open
// connections, and a 1006 received when its peer sent no close frame.
// Loop only, once (leaveLoop): it does not write c.flags, which an
// afterlife's end reads from another goroutine.
func (c *connection) countLeft() {
	if !c.signals.has(upgradedMark) {
		return
	}
	lc := c.counts()
	if r := c.routeOf(); int(r) < len(lc.routes) {
		bump(&lc.routes[r].left, 1)
	}
	if !c.signals.has(peerCloseMark) {
		bump(&lc.closesRecv[bucketDropped], 1)
	}
}

// carry keeps t, the counts of a buffer a blocking session's goroutine
// takes to write (Flush), in the session (session.Written), for the
// ticker to add to the server's counters; out.mu is held. t holds data
// frames only (Flush leaves the others to the loop) and is emptied.
func (c *connection) carry(t *tally) {
	if t.bytes == 0 && t.text|t.binary == 0 {
		return
	}
	ws, _ := c.user.(*session.Session) // set with hasSession, under out.mu
	if ws == nil {
		return // not reached: only blocking sessions write from their goroutines
	}
	w := ws.Written()
	w.Text += t.text
	w.Binary += t.binary
	w.Bytes += t.bytes
	*t = tally{}
	c.signals.mark(carriedMark, true)
}

// foldCarried adds what c's session carries to s.offLoop; s.mu is held.
func (s *Server) foldCarried(c *connection) {
	o := &c.out
	o.mu.Lock()
	if c.signals.mark(carriedMark, false) && o.flags.has(hasSession) {
		if ws, _ := c.user.(*session.Session); ws != nil {
			w := ws.Written()
			s.offLoop.add(&tally{text: w.Text, binary: w.Binary, bytes: w.Bytes})
			*w = session.Written{}
		}
	}
	o.mu.Unlock()
}

// countRefusedOffLoop counts a handshake a blocking handler refused.
// Handler goroutine, without s.mu.
func (s *Server) countRefusedOffLoop(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := status - 400; i >= 0 && i < refusedStatuses {
		bump(&s.offLoop.refused[i], 1)
		return
	}
	if s.refusedOther == nil {
		s.refusedOther = make(map[int]uint64)
	}
	s.refusedOther[status]++
}

// countOffLoop adds t, the counts of a buffer written with no loop (an
// afterlife's), to s.offLoop. Any goroutine, without s.mu.
func (s *Server) countOffLoop(t *tally) {
	if *t == (tally{}) {
		return
	}
	s.mu.Lock()
	s.offLoop.add(t)
	s.mu.Unlock()
}
