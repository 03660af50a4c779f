package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/volley-ws/volley/bench/internal/hist"
	"github.com/volley-ws/volley/bench/internal/wsframe"
)

// Phases of a run. Connections move on when their loop sees the new value.
const (
	phaseWarmup  int32 = iota // publishers publish, nothing is recorded
	phaseMeasure              // deliveries counted, latencies recorded
	phaseDrain                // no new publishes: wait for every delivery
	phaseClose                // closing handshakes
	phaseStop                 // give up on whatever is left
)

// plan is what every connection of a run shares, read-only.
type plan struct {
	pubs     int
	size     int
	opcode   byte     // wsframe.OpText or wsframe.OpBinary
	window   int      // publishes in flight per publisher
	interval int64    // ns between a publisher's publishes; 0: as fast as the window allows
	patterns [][]byte // expected payload of each publisher, head zero
}

func newPlan(pubs, size int, opcode byte, window int, interval int64) *plan {
	p := &plan{pubs: pubs, size: size, opcode: opcode, window: window, interval: interval}
	for i := range pubs {
		p.patterns = append(p.patterns, pattern(i, size))
	}
	return p
}

// tally is one loop's counters (owned by the loop; published through
// atomics every iteration).
type tally struct {
	deliveries uint64 // every delivery checked, any phase
	measured   uint64 // deliveries while measuring
	published  uint64 // publishes sent
	acked      uint64 // publishers' own copies received
	late       uint64 // fixed rate: publishes sent over an interval after their time (window full)
	order      uint64 // deliveries out of a publisher's order (gap, repeat or overtaken)
	gaps       uint64 // publishes skipped by a delivery that came in their place
	corrupt    uint64 // deliveries with a wrong type, length, head or pattern
	hist       hist.Histogram
}

// publisher is a connection's publishing side.
type publisher struct {
	id     int
	tmpl   []byte // one whole masked client frame; only the head changes
	hdrLen int    // where the payload starts in tmpl
	mask   [4]byte
	sent   uint64
	acked  uint64 // own copies back
	due    int64  // fixed rate: the time of the next publish
}

func (p *publisher) outstanding() int { return int(p.sent - p.acked) }

// fconn is one connection's protocol state, independent of how its bytes
// move: it parses the server's frames, checks every delivery against what
// was published and, for a publisher, queues the next publishes.
type fconn struct {
	id   int
	plan *plan
	next []uint64 // next sequence number expected from each publisher
	pub  *publisher
	mask [4]byte // of the frames this connection sends

	out []byte // frames queued for writing

	frag    []byte // a fragmented message being joined (rare)
	fragOp  byte
	inFrag  bool
	closing bool // we sent a close frame
}

func newConn(id int, pl *plan, mask [4]byte) *fconn {
	return &fconn{id: id, plan: pl, next: make([]uint64, pl.pubs), mask: mask}
}

// makePublisher makes c publisher id.
func (c *fconn) makePublisher(id int) {
	p := &publisher{id: id, mask: c.mask}
	p.tmpl = wsframe.AppendClient(nil, c.plan.opcode, c.plan.patterns[id], c.mask)
	p.hdrLen = len(p.tmpl) - c.plan.size
	c.pub = p
}

// publish queues the publisher's next message, stamped at.
func (c *fconn) publish(at int64, t *tally) {
	p := c.pub
	start := len(c.out)
	c.out = append(c.out, p.tmpl...)
	putHead(c.out[start+p.hdrLen:], p.id, p.sent, at, p.mask)
	p.sent++
	t.published++
}

// refill queues what the publisher may send at now: with a fixed rate,
// every publish that is due while the window has room; otherwise enough
// to fill the window.
func (c *fconn) refill(now int64, t *tally) {
	p := c.pub
	if p == nil {
		return
	}
	if c.plan.interval == 0 {
		for p.outstanding() < c.plan.window {
			c.publish(now, t)
		}
		return
	}
	for p.due <= now && p.outstanding() < c.plan.window {
		if now-p.due > c.plan.interval {
			t.late++
		}
		c.publish(p.due, t)
		p.due += c.plan.interval
	}
}

// queueClose queues a close frame with status 1000.
func (c *fconn) queueClose() {
	c.out = wsframe.AppendClient(c.out, wsframe.OpClose, []byte{0x03, 0xE8}, c.mask)
	c.closing = true
}

// errServerClosed is wrapped by feed's error when the server sent a close
// frame.
var errServerClosed = errors.New("server sent close")

func protoErr(format string, args ...any) error {
	return fmt.Errorf("protocol error: "+format, args...)
}

// feed parses the whole frames at the start of b and returns how many
// bytes they took: the caller keeps the rest (the start of a frame) and
// passes it again, followed by more. now is the time of the read; ph the
// phase. A non-nil error means the connection cannot continue (a framing
// error, or the server closed: errServerClosed).
func (c *fconn) feed(b []byte, now int64, ph int32, t *tally) (int, error) {
	used := 0
	for len(b) >= 2 {
		b0, b1 := b[0], b[1]
		if b1&0x80 != 0 {
			return used, protoErr("masked server frame")
		}
		if b0&0x70 != 0 {
			return used, protoErr("RSV bits set (0x%02x)", b0)
		}
		op, fin := b0&0x0F, b0&0x80 != 0
		n, h := int(b1&0x7F), 2
		switch n {
		case 126:
			if len(b) < 4 {
				return used, nil
			}
			n, h = int(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			if len(b) < 10 {
				return used, nil
			}
			v := binary.BigEndian.Uint64(b[2:])
			if v > uint64(c.plan.size) {
				return used, protoErr("frame of %d bytes, messages are %d", v, c.plan.size)
			}
			n, h = int(v), 10
		}
		if op >= wsframe.OpClose {
			if !fin || n > 125 {
				return used, protoErr("bad control frame (opcode %d, fin %v, length %d)", op, fin, n)
			}
		} else if n > c.plan.size {
			return used, protoErr("frame of %d bytes, messages are %d", n, c.plan.size)
		}
		if len(b) < h+n {
			return used, nil
		}
		payload := b[h : h+n]
		b = b[h+n:]
		used += h + n
		switch op {
		case wsframe.OpText, wsframe.OpBinary:
			if c.inFrag {
				return used, protoErr("new data frame inside a fragmented message")
			}
			if fin {
				c.deliver(op, payload, now, ph, t)
				continue
			}
			c.frag = append(c.frag[:0], payload...)
			c.fragOp, c.inFrag = op, true
		case wsframe.OpContinuation:
			if !c.inFrag {
				return used, protoErr("continuation frame outside a message")
			}
			if len(c.frag)+n > c.plan.size {
				return used, protoErr("fragmented message over %d bytes", c.plan.size)
			}
			c.frag = append(c.frag, payload...)
			if fin {
				c.inFrag = false
				c.deliver(c.fragOp, c.frag, now, ph, t)
			}
		case wsframe.OpPing:
			var pl [125]byte
			k := copy(pl[:], payload)
			c.out = wsframe.AppendClient(c.out, wsframe.OpPong, pl[:k], c.mask)
		case wsframe.OpPong:
		case wsframe.OpClose:
			code := 1005
			if n >= 2 {
				code = int(binary.BigEndian.Uint16(payload))
			}
			return used, fmt.Errorf("%w (code %d, reason %q)", errServerClosed, code, payload[min(2, n):])
		default:
			return used, protoErr("reserved opcode %d", op)
		}
	}
	return used, nil
}

// deliver checks one received message: its type, length, head and
// pattern, then its publisher's order. A publisher's own copy is its
// acknowledgement and lets it publish again.
func (c *fconn) deliver(op byte, p []byte, now int64, ph int32, t *tally) {
	if op != c.plan.opcode || len(p) != c.plan.size {
		t.corrupt++
		return
	}
	pub, seq, at, err := parseHead(p)
	if err != nil || pub >= c.plan.pubs || !bytes.Equal(p[headChars:], c.plan.patterns[pub][headChars:]) {
		t.corrupt++
		return
	}
	t.deliveries++
	if ph == phaseMeasure {
		t.measured++
		t.hist.Record(now - at)
	}
	switch exp := c.next[pub]; {
	case seq == exp:
		c.next[pub]++
	case seq > exp:
		t.order++
		t.gaps += seq - exp
		c.next[pub] = seq + 1
	default:
		t.order++
	}
	if c.pub != nil && pub == c.pub.id {
		if c.pub.acked >= c.pub.sent {
			t.corrupt++ // a copy of something never published
			return
		}
		c.pub.acked++
		t.acked++
		if ph <= phaseMeasure {
			c.refill(now, t)
		}
	}
}

// missing is how many of the messages published (sent[i] by publisher i)
// this connection never received after the last one it did.
func (c *fconn) missing(sent []uint64) uint64 {
	var n uint64
	for i, s := range sent {
		if s > c.next[i] {
			n += s - c.next[i]
		}
	}
	return n
}
