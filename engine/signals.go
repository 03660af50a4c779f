package engine

import (
	"sync/atomic"

	"github.com/volley-ws/volley/conn"
)

// signals holds, in one word, what goroutines tell each other about a
// connection: a handler's hand-off to the loop, the WebSocket's state, and
// marks that the loop, the ticker and senders set and clear. Safe for
// concurrent use; a mark that rarely changes costs an atomic operation only
// when it does.
type signals struct{ v atomic.Uint32 }

// Hand-offs from a handler goroutine to the loop (the low two bits).
const (
	handoffNone     uint32 = iota
	handoffResponse        // the handler returned; its response is queued
	handoffUpgraded        // the handler upgraded; frames follow
	handoffMask     uint32 = 3
)

// Marks.
const (
	drainWatched   uint32     = 1 << (iota + 2) // in the server's drain set: the ticker wakes the loop
	corkedSend                                  // a send waits for its receiver's batch (see cork)
	corkSeen                                    // the ticker saw corkedSend at its last scan
	roomAwaited                                 // a sender waits for room under MaxUnsentBytes
	stalledMark                                 // parsing is paused: the peer does not read (see stall)
	endingMark                                  // a close frame is queued: aux is the hard end
	budgetMark                                  // parsing is paused: the server is over its memory budget
	shutdownMark                                // the shutdown's close frame was queued
	failMark                                    // a blocking receiver has yet to reach a failure
	notifiedMark                                // the receiver was told that the WebSocket is closed
	offenderMark                                // the ticker picked the connection to close: over the memory budget
	subscribedMark                              // the connection subscribed to a topic (Server.subs)
	deferredMark                                // publishes wait for the connection's fragmented message (Server.deferrals)
	carriedMark                                 // the blocking session carries counts for the ticker (connection.carry)
	peerCloseMark                               // the peer's close frame arrived (for the 1006 count)
	upgradedMark                                // counted in its route.s open connections (countUpgraded)
	stateShift     = iota + 2                   // the WebSocket's State, in three bits
)

const stateMask uint32 = 7 << stateShift

// handOff records a handler's hand-off; the previous one has been taken.
func (s *signals) handOff(h uint32) { s.v.Or(h) }

// takeHandoff returns the hand-off recorded and clears it.
func (s *signals) takeHandoff() uint32 {
	if s.v.Load()&handoffMask == 0 {
		return handoffNone
	}
	return s.v.And(^handoffMask) & handoffMask
}

// has reports whether mark m is set.
func (s *signals) has(m uint32) bool { return s.v.Load()&m != 0 }

// mark sets or clears m and returns whether it was set before. It costs a
// read-modify-write only when m changes.
func (s *signals) mark(m uint32, on bool) (was bool) {
	v := s.v.Load()
	if (v&m != 0) == on {
		return on
	}
	if on {
		return s.v.Or(m)&m != 0
	}
	return s.v.And(^m)&m != 0
}

// state returns the WebSocket's state.
func (s *signals) state() conn.State { return conn.State(s.v.Load() & stateMask >> stateShift) }

// setState moves the WebSocket to st, unless its state is final already,
// and returns the state it had.
func (s *signals) setState(st conn.State) conn.State {
	for {
		v := s.v.Load()
		cur := conn.State(v & stateMask >> stateShift)
		if cur.Final() {
			return cur
		}
		if s.v.CompareAndSwap(v, v&^stateMask|uint32(st)<<stateShift) {
			return cur
		}
	}
}

// open moves a new WebSocket from StateConnecting to StateOpen; a state it
// already left stays.
func (s *signals) open() {
	for {
		v := s.v.Load()
		if conn.State(v&stateMask>>stateShift) != conn.StateConnecting {
			return
		}
		if s.v.CompareAndSwap(v, v&^stateMask|uint32(conn.StateOpen)<<stateShift) {
			return
		}
	}
}

// cork records that a send waits for its receiver to finish a batch of
// received messages (see session.Transport.Send).
func (s *signals) cork() { s.mark(corkedSend, true) }

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
