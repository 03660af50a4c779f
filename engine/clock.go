package engine

import (
	"sync/atomic"
	"time"
)

// MaxTimeout is the longest HandshakeTimeout, IdleTimeout, CloseTimeout and
// Compression.IdleRelease a Config may set: connections keep their
// deadlines as 32-bit millisecond counts (see moment).
const MaxTimeout = 24 * 24 * time.Hour

// moment is a coarse time: milliseconds since the server was made, on a
// 32-bit counter that wraps every 49.7 days, with 0 meaning "none". Two
// moments compare through their difference, which is right while they
// are less than 24.8 days apart; MaxTimeout keeps every deadline closer
// than that to the clock. Four of them per connection cost 16 bytes where
// Unix nanoseconds cost 32.
type moment uint32

// momentOf returns the moment d after the server's start, never 0.
func momentOf(d time.Duration) moment {
	m := moment(uint64(d / time.Millisecond)) // wraps, on purpose
	if m == 0 {
		m = 1
	}
	return m
}

// add returns the moment d after m, never 0. d is at most MaxTimeout.
func (m moment) add(d time.Duration) moment {
	t := m + moment(d/time.Millisecond)
	if t == 0 {
		t = 1
	}
	return t
}

// reached reports whether m is at or after deadline.
func (m moment) reached(deadline moment) bool { return int32(m-deadline) >= 0 }

// sub returns the time from earlier to m, negative when earlier is later.
func (m moment) sub(earlier moment) time.Duration {
	return time.Duration(int32(m-earlier)) * time.Millisecond
}

// later returns the later of m and o.
func (m moment) later(o moment) moment {
	if m.reached(o) {
		return m
	}
	return o
}

// atomicMoment is a moment shared between goroutines.
type atomicMoment struct{ v atomic.Uint32 }

func (a *atomicMoment) Load() moment   { return moment(a.v.Load()) }
func (a *atomicMoment) Store(m moment) { a.v.Store(uint32(m)) }
func (a *atomicMoment) CompareAndSwap(old, new moment) bool {
	return a.v.CompareAndSwap(uint32(old), uint32(new))
}
