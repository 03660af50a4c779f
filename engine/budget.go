package engine

import (
	"log/slog"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/volley-ws/volley/internal/session"
)

// The server's memory budget (Config.MaxBufferedBytes): the bytes all
// connections hold between the network and the application, counted as
// they change: what gnet buffers for peers that do not read (unsent), what
// gnet keeps of their input while a connection is stalled or a request is
// incomplete, and the messages blocking sessions have yet to Receive.
//
// Past the budget the server refuses new handshakes and new requests with
// 503 and stalls the connections holding more than their share (they parse
// nothing more, see stall.go): such a connection whose peer keeps sending
// is dropped after one more read, since gnet would go on reading it. When
// that has not brought the server back under within budgetGrace, it
// closes the worst offenders with 1013 (Try Again Later), enough of them
// to bring it under 90%, and ends their TCP connections shortly after.
// Under 90% of the budget it takes work again and lets the stalled ones go
// on.
//
// The budget counts the bytes themselves: the process's memory is larger
// by the slack of gnet's buffers, which grow by doubling, and by the
// garbage collector's headroom.

// budgetGrace is how long the server stays over its budget before it
// closes connections; also how long they then have to take their close
// frame.
const budgetGrace = time.Second

// budget counts the bytes connections hold. The zero value counts, with
// no limit.
type budget struct {
	used atomic.Int64
	max  int64 // 0 or less: no limit
	// over is set while the server is over its budget; since is when it
	// went over (ticker only).
	over  atomic.Bool
	since moment
}

// add records n more bytes held (n may be negative). Any goroutine.
func (b *budget) add(n int) {
	if n != 0 {
		b.used.Add(int64(n))
	}
}

// busy reports whether new handshakes and requests are refused with 503:
// the server went over its memory budget and is not yet back under 90% of
// it (read from the count itself, so that the refusals end as soon as the
// bytes are released, not at the ticker's next scan).
func (s *Server) busy() bool {
	b := &s.budget
	return b.over.Load() && b.used.Load() > b.max-b.max/10
}

// held returns the bytes c holds that count against the budget. Any
// goroutine.
func (c *connection) held() int64 {
	o := &c.out
	o.mu.Lock()
	n := int64(o.gnetPending)
	var ws *session.Session
	if o.flags.has(hasSession) {
		ws = c.user.(*session.Session) // set with hasSession, never changed
	}
	o.mu.Unlock()
	n += int64(c.leftover.Load())
	if ws != nil {
		n += int64(ws.Unread())
	}
	return n
}

// enforce applies the budget, at each scan of the ticker; s.mu is held.
func (b *budget) enforce(s *Server, now moment) {
	if b.max <= 0 {
		return
	}
	used := b.used.Load()
	switch {
	case used > b.max && !b.over.Load():
		b.over.Store(true)
		b.since = now
		s.logBudget(true, used)
	case used <= b.max-b.max/10 && b.over.Load():
		b.over.Store(false)
		s.logBudget(false, used)
		for c := s.conns; c != nil; c = c.next {
			if c.signals.mark(budgetMark, false) {
				_ = c.gc.Wake(nil)
			}
		}
		return
	}
	if !b.over.Load() {
		return
	}
	type holder struct {
		c    *connection
		held int64
	}
	var hs []holder
	for c := s.conns; c != nil; c = c.next {
		if h := c.held(); h > 0 {
			hs = append(hs, holder{c, h})
		}
	}
	if len(hs) == 0 {
		return
	}
	share := used / int64(len(hs))
	for _, h := range hs {
		h.c.signals.mark(budgetMark, h.held > share)
	}
	if now.sub(b.since) < budgetGrace {
		return
	}
	// Still over after the grace: close the largest holders until what
	// they hold brings the server back under 90%, where it takes work
	// again (closing only down to the budget would leave it refusing
	// handshakes for as long as the others hold still).
	slices.SortFunc(hs, func(a, b holder) int { return int(b.held - a.held) })
	excess := used - (b.max - b.max/10)
	for _, h := range hs {
		if excess <= 0 {
			break
		}
		excess -= h.held
		if !h.c.signals.mark(offenderMark, true) {
			_ = h.c.gc.Wake(nil)
		}
	}
	b.since = now // the next round after another grace
}

// overBudget closes c, which the ticker picked because the server is over
// its memory budget: a WebSocket gets close 1013 and budgetGrace to take it
// before its TCP connection ends; anything else ends at once. Loop only.
func (c *connection) overBudget(now moment) {
	if c.flags.phase() != phaseWS {
		c.abort(errOverBudget)
		return
	}
	c.logClose(slog.LevelWarn, errOverBudget)
	c.closeNow(errOverBudget.Code, errOverBudget.Reason)
	c.signals.mark(endingMark, true)
	c.setAux(now.add(budgetGrace), true)
}

// defaultMaxBuffered returns the default memory budget: a quarter of the
// memory the process may use (its cgroup's limit, or the machine's), or
// 1 GiB when neither can be read.
func defaultMaxBuffered() int64 {
	var total int64
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) == nil {
		total = int64(si.Totalram) * int64(si.Unit)
	}
	if limit := cgroupMemoryLimit(); limit > 0 && (total == 0 || limit < total) {
		total = limit
	}
	if total <= 0 {
		return 1 << 30
	}
	return total / 4
}

// cgroupMemoryLimit returns the memory limit of the process's cgroup, or
// 0 when there is none (see cgroupLimit).
func cgroupMemoryLimit() int64 {
	self, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		self = nil
	}
	return cgroupLimit(string(self), "/sys/fs/cgroup", os.ReadFile)
}
