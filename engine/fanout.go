package engine

import (
	"context"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/volley-ws/volley/codec"
	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/internal/logattr"
)

// pubFrame is one published message, framed once for all subscribers and
// shared read-only by the loops that deliver it; it goes back to the
// server's pool when the last of them is done.
type pubFrame struct {
	refs atomic.Int32
	typ  conn.MessageType
	b    []byte // the unmasked, uncompressed frame: header, then payload
	hdr  int    // the header's length
	// deflated holds the compressed frame for subscribers without context
	// takeover, by server_max_window_bits-8, built by the first loop that
	// needs it.
	zmu      sync.Mutex
	deflated [8][]byte
	zmade    uint8 // bit i: deflated[i] is built
}

// payload returns the message's payload.
func (f *pubFrame) payload() []byte { return f.b[f.hdr:] }

// frameFor returns the frame of f to queue for a subscriber with z (nil:
// no compression): the plain frame, or the compressed one shared by the
// subscribers with the same window and no context takeover. ok is false
// for a subscriber that compresses with context takeover: its frame is
// its own (deliverTakeover).
func (f *pubFrame) frameFor(s *Server, z *compression) (frame []byte, ok bool) {
	if z == nil || len(f.payload()) < z.minSize {
		return f.b, true
	}
	if z.sharedBits == 0 {
		return nil, false
	}
	i := z.sharedBits - 8
	f.zmu.Lock()
	defer f.zmu.Unlock()
	if f.zmade&(1<<i) == 0 {
		var d codec.Deflater
		d.Init(s.flate, false, int(z.sharedBits))
		scratch := s.msgs.Get()
		scratch.B = d.Append(scratch.B[:0], f.payload(), true)
		d.Close()
		f.deflated[i] = codec.AppendFrame(f.deflated[i][:0], true, codec.Rsv1, codec.OpCode(f.typ), scratch.B)
		s.msgs.Put(scratch)
		f.zmade |= 1 << i
	}
	return f.deflated[i], true
}

// maxPooledFrame is the largest frame buffer kept for reuse.
const maxPooledFrame = 64 << 10

// newFrame frames data as a message of type t, with one reference.
func (s *Server) newFrame(t conn.MessageType, data []byte) *pubFrame {
	f, _ := s.sends.frames.Get().(*pubFrame)
	if f == nil {
		f = new(pubFrame)
	}
	f.typ = t
	f.b = codec.AppendHeader(f.b[:0], codec.Header{Fin: true, OpCode: codec.OpCode(t), Length: int64(len(data))})
	f.hdr = len(f.b)
	f.b = append(f.b, data...)
	f.refs.Store(1)
	return f
}

// release drops a reference to f; the last one returns it to sp.
func (f *pubFrame) release(sp *sendPool) {
	if f.refs.Add(-1) != 0 {
		return
	}
	if cap(f.b) > maxPooledFrame {
		f.b = nil
	}
	for i := range f.deflated {
		if cap(f.deflated[i]) > maxPooledFrame {
			f.deflated[i] = nil
		}
	}
	f.zmade = 0
	sp.frames.Put(f)
}

// delivery is a publish handed to a loop: the frame, the topic whose
// subscribers on that loop get it, and the publishing connection, which
// does not.
type delivery struct {
	f    *pubFrame
	t    *topic
	skip *connection
}

// loopQueue is one event loop's share of the topics: the publishes handed
// to it since its last drain, and its counters. A publish arms it when it
// is idle, by ringing its doorbell (doorbell.go), or with an
// EventLoop.Execute until the loop has the doorbell; the drain takes the
// whole batch.
type loopQueue struct {
	s   *Server
	el  gnet.EventLoop
	idx int

	mu       sync.Mutex
	pending  []delivery
	npending atomic.Int32 // len(pending), for a look without the lock
	armed    bool         // a drain is coming and has not taken the batch yet
	bell     int          // the publishers' end of the doorbell (doorbell.go), -1 for none
	ringing  bool         // the loop adopted the doorbell: arm by ringing it

	// The loop's own, between drains.
	spare      []delivery
	touched    []*connection // subscribers whose outbox the drain scheduled, written from next on
	next       int
	urgent     []*connection // scheduled subscribers that sent something lately: written first
	now        moment        // the coarse time of the batch being appended
	eager      int           // the outbox size from which deliver writes at once, for the topic being appended
	delivered  uint64        // deliveries of the drain, added to deliveries at its end
	counts     *loopCounts   // the loop's counters (Stats' Sent counts the deliveries)
	slowCloses []slowClose   // slow subscribers the drain closes at its end

	// Counters: written by the loop, read by TopicStats.
	deliveries atomic.Uint64
	skipped    atomic.Uint64
	slowClosed atomic.Uint64
	_          [64]byte
}

// loopOf returns the queue of c's event loop, creating it the first time
// one of its connections subscribes; nil when the server runs no loops.
func (s *Server) loopOf(c *connection) *loopQueue {
	el := c.gc.EventLoop()
	for i := range s.loops {
		if q := s.loops[i].Load(); q != nil && q.el == el {
			return q
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.loops {
		q := s.loops[i].Load()
		if q == nil {
			q = &loopQueue{s: s, el: el, idx: i, bell: -1, counts: &s.counts[c.out.slot]}
			s.loops[i].Store(q)
			q.installDoorbell()
			return q
		}
		if q.el == el {
			return q
		}
	}
	return nil
}

// publish delivers a message to topic name's subscribers on this node
// (but skip) and hands it to the broker. Any goroutine.
func (s *Server) publish(name string, t conn.MessageType, data []byte, skip *connection) error {
	if err := checkTopic(name); err != nil {
		return err
	}
	if err := checkMessage(t, data); err != nil {
		return err
	}
	s.publishes.Add(1)
	s.deliverLocal(name, t, data, skip)
	if b := s.cfg.Broker; b != nil {
		if err := b.Publish(name, t, data); err != nil {
			return &brokerError{err}
		}
	}
	return nil
}

// fromBroker is the deliver function the broker is started with: a
// message another node published.
func (s *Server) fromBroker(name string, t conn.MessageType, data []byte) {
	if checkTopic(name) != nil || checkMessage(t, data) != nil {
		return // nothing a peer could be sent
	}
	s.received.Add(1)
	s.deliverLocal(name, t, data, nil)
}

// brokerError is a broker's refusal of a publish; local delivery happened.
type brokerError struct{ err error }

func (e *brokerError) Error() string { return "engine: broker: " + e.err.Error() }
func (e *brokerError) Unwrap() error { return e.err }

// deliverLocal frames the message once and hands it to each loop with
// subscribers of name other than skip.
func (s *Server) deliverLocal(name string, typ conn.MessageType, data []byte, skip *connection) {
	t := s.topics.lookup(name)
	if t == nil {
		return
	}
	var f *pubFrame
	t.mu.RLock()
	for i := range t.loops {
		subs := t.loops[i].subs
		if len(subs) == 0 || len(subs) == 1 && subs[0] == skip {
			continue
		}
		if f == nil {
			f = s.newFrame(typ, data)
		}
		f.refs.Add(1)
		s.loops[i].Load().push(delivery{f: f, t: t, skip: skip})
	}
	t.mu.RUnlock()
	if f != nil {
		f.release(&s.sends)
	}
}

// push queues d for the loop, arming a drain when none is queued.
func (q *loopQueue) push(d delivery) {
	q.mu.Lock()
	q.pending = append(q.pending, d)
	q.npending.Store(int32(len(q.pending)))
	q.arm()
}

// arm makes the loop run a drain, unless one is coming: it rings the
// doorbell, or falls back to EventLoop.Execute. q.mu is held, and released.
func (q *loopQueue) arm() {
	if q.armed {
		q.mu.Unlock()
		return
	}
	q.armed = true
	if q.ring() {
		q.mu.Unlock()
		return
	}
	q.mu.Unlock()
	if err := q.el.Execute(context.Background(), q); err != nil {
		// The loops are stopping: nothing will be written.
		q.mu.Lock()
		batch := q.pending
		q.pending = nil
		q.npending.Store(0)
		q.armed = false
		q.mu.Unlock()
		for _, d := range batch {
			d.f.release(&q.s.sends)
		}
	}
}

// drainChunk is the most subscribers one drain writes before it lets the
// loop serve its other connections and the publishing goroutines run (and
// so take further publishes, which then join the output of the
// subscribers not written yet). Smaller chunks make more publishes share
// each subscriber's write: against 256, 64 measured 2.0x (event) and 2.1x
// (blocking) the deliveries/s in f1, 1.41x and 1.49x in f2, the same rate
// and a lower p99 in steady-f2 (BENCHMARKS.md, "Fan-out").
const drainChunk = 64

// Run is the drain, on the loop: every publish handed to the loop since
// the last drain is appended to the outbox of each of its subscribers
// here, and then up to drainChunk of the subscribers waiting for a write
// are written, each once, whatever it has queued; when some are left, the
// drain rearms itself. A large fan-out thus leaves the loop free to read
// between chunks, and the subscribers written later carry the publishes
// that arrived meanwhile in the same write.
func (q *loopQueue) Run(context.Context) error {
	q.mu.Lock()
	q.armed = false
	q.mu.Unlock()
	q.appendPending()
	// The active subscribers first, then a chunk of the others.
	for i, c := range q.urgent {
		q.urgent[i] = nil
		if c.out.isDead() {
			continue
		}
		if closeNow, gone := c.flush(); closeNow && !gone {
			_ = c.gc.Wake(nil)
		}
	}
	q.urgent = q.urgent[:0]
	end := min(q.next+drainChunk, len(q.touched))
	for i := q.next; i < end; i++ {
		c := q.touched[i]
		q.touched[i] = nil
		if c.out.isDead() {
			continue
		}
		if closeNow, gone := c.flush(); closeNow && !gone {
			_ = c.gc.Wake(nil) // the loop's traffic ends it
		}
	}
	q.next = end
	switch {
	case q.next == len(q.touched):
		q.touched, q.next = q.touched[:0], 0
	default:
		if q.next > len(q.touched)/2 { // keep the list from growing at its front
			n := copy(q.touched, q.touched[q.next:])
			clear(q.touched[n:])
			q.touched, q.next = q.touched[:n], 0
		}
		q.mu.Lock()
		q.arm()
		// Let the goroutines waiting for a processor run between chunks
		// (blocking handlers answering what the loop delivered): with few
		// processors, a loop that keeps draining would hold one until the
		// scheduler preempts it.
		runtime.Gosched()
	}
	return nil
}

// appendPending appends every publish handed to the loop so far to the
// outboxes of its subscribers here, and schedules their writes. The drain
// does it, and so does a connection's traffic on this loop before it
// writes (traffic.go): what a callback publishes then leaves, for the
// subscribers written in that same iteration, with their other output,
// and the publisher's own copy with its reply. Loop only.
func (q *loopQueue) appendPending() {
	if q.npending.Load() == 0 {
		return
	}
	s := q.s
	q.mu.Lock()
	batch := q.pending
	q.pending = q.spare[:0]
	q.npending.Store(0)
	q.mu.Unlock()
	q.now = s.coarseNow()
	for i := range batch {
		d := &batch[i]
		d.t.mu.RLock()
		before := q.delivered
		if q.idx < len(d.t.loops) {
			subs := d.t.loops[q.idx].subs
			q.eager = min(max(eagerBacklog/max(len(subs), 1), minEagerWrite), maxEagerWrite)
			for _, c := range subs {
				if c != d.skip {
					q.deliver(c, d.f, d.t.name)
				}
			}
		}
		d.t.mu.RUnlock()
		if n := q.delivered - before; n > 0 {
			q.countSent(d.f, n)
		}
		d.f.release(&s.sends)
		*d = delivery{}
	}
	q.spare = batch[:0]
	q.deliveries.Add(q.delivered)
	q.delivered = 0
	q.closeSlow()
}

// countSent counts n deliveries of f as sent: once per publish and loop,
// not per subscriber. Loop only.
func (q *loopQueue) countSent(f *pubFrame, n uint64) {
	m := &q.counts.sent
	if f.typ == conn.Text {
		bump(&m.text, n)
	} else {
		bump(&m.binary, n)
	}
	bump(&m.bytes, n*uint64(len(f.payload())))
}

// queueOf returns the loop queue of c's loop, nil when no connection of
// that loop ever subscribed. Any goroutine.
func (s *Server) queueOf(c *connection) *loopQueue {
	el := c.gc.EventLoop()
	for i := range s.loops {
		q := s.loops[i].Load()
		if q == nil {
			return nil
		}
		if q.el == el {
			return q
		}
	}
	return nil
}

// deliver appends f to c's outbox, or applies the slow-subscriber policy
// when it would pass MaxUnsentBytes. A subscriber in the middle of sending
// a fragmented message gets it right after that message's last frame
// (deferDelivery). Loop only.
func (q *loopQueue) deliver(c *connection, f *pubFrame, topic string) {
	s := q.s
	frame, shared := f.frameFor(s, c.z)
	if !shared {
		q.deliverTakeover(c, f, topic)
		return
	}
	o := &c.out
	o.mu.Lock()
	if o.unsent()+c.deferredBytes()+len(frame) > s.cfg.MaxUnsentBytes && !o.closed() {
		// What this drain queued so far goes to the socket first: it is
		// over the limit only if the kernel does not take it.
		o.mu.Unlock()
		c.writeNow()
		o.mu.Lock()
	}
	switch {
	case o.closed() || o.adopted():
		o.mu.Unlock()
		return
	case o.unsent()+c.deferredBytes()+len(frame) > s.cfg.MaxUnsentBytes:
		o.mu.Unlock()
		q.slow(c, topic)
		return
	}
	eager := false
	if o.flags.has(midMessage) {
		s.deferDelivery(c, f, topic)
	} else {
		b := o.buffer(&s.sends)
		b.appendShared(f, frame)
		q.schedule(c)
		eager = b.size() >= q.eager && o.gnetPending == 0 && !c.flags.has(socketFull)
	}
	o.mu.Unlock()
	q.delivered++
	if eager {
		c.writeNow()
	}
}

// How much a subscriber's outbox may gather, waiting for the drain to
// reach it, before deliver writes it at once: publishers that outrun the
// drain make writes of many messages each, and yet the subscribers of a
// topic on one loop hold at most about eagerBacklog of them together
// (each between minEagerWrite and maxEagerWrite).
const (
	eagerBacklog  = 32 << 20
	minEagerWrite = 4 << 10
	maxEagerWrite = 64 << 10
)

// deliverTakeover is deliver for a subscriber that compresses with
// context takeover: its frame is compressed with its own context, in turn
// with its own sends (under z.mu). Loop only.
func (q *loopQueue) deliverTakeover(c *connection, f *pubFrame, topic string) {
	s := q.s
	z := c.z
	z.mu.Lock()
	defer z.mu.Unlock()
	o := &c.out
	o.mu.Lock()
	if o.unsent()+c.deferredBytes()+len(f.b) > s.cfg.MaxUnsentBytes && !o.closed() {
		o.mu.Unlock()
		c.writeNow()
		o.mu.Lock()
	}
	switch {
	case z.closed || o.closed() || o.adopted():
		o.mu.Unlock()
		return
	case o.unsent()+c.deferredBytes()+len(f.b) > s.cfg.MaxUnsentBytes:
		o.mu.Unlock()
		q.slow(c, topic)
		return
	}
	if o.flags.has(midMessage) {
		s.deferDelivery(c, f, topic)
		o.mu.Unlock()
		q.delivered++
		return
	}
	o.mu.Unlock()
	p, rsv, scratch := z.compress(s, true, true, f.payload())
	o.mu.Lock()
	if !o.closed() {
		o.appendFrame(&s.sends, codec.OpCode(f.typ), rsv, true, p)
		q.schedule(c)
		q.delivered++
	}
	o.mu.Unlock()
	if scratch != nil {
		s.msgs.Put(scratch)
	}
}

// closeSlow closes the slow subscribers deliver found, once no topic is
// locked (closing ends their subscriptions). Loop only.
func (q *loopQueue) closeSlow() {
	for i, sc := range q.slowCloses {
		sc.c.closeNow(errSlowSubscriber.Code, errSlowSubscriber.Reason)
		q.slowCloses[i] = slowClose{}
	}
	q.slowCloses = q.slowCloses[:0]
}

// writeNow writes what c's outbox holds straight to its socket when gnet
// buffers nothing for it, keeping in the outbox what the socket does not
// take: a drain's batch then counts against MaxUnsentBytes only what the
// peer leaves unread. It does not report errors (the loop's next write
// does) and never closes the connection, so it is safe while a topic is
// locked. Loop only; out.mu must not be held.
func (c *connection) writeNow() {
	o := &c.out
	o.wmu.Lock()
	defer o.wmu.Unlock()
	o.mu.Lock()
	defer o.mu.Unlock()
	b := o.buf
	if b == nil || b.size() == 0 || o.gnetPending > 0 || o.flags&(dead|adopted) != 0 {
		return
	}
	var n int
	if len(b.ext) > 0 {
		n = b.writev(c.gc.Fd())
	} else {
		n = writeAll(c.gc.Fd(), b.B)
	}
	if n < b.size() {
		c.flags.set(socketFull, true)
	}
	if n > 0 {
		b.discard(&c.srv.sends, n)
		o.pong = 0
	}
}

// schedule makes the drain write c when its batch is done, unless a flush
// is coming anyway; out.mu is held. While scheduled, a blocking session
// leaves the writing to the loop, so that bytes keep their order.
func (q *loopQueue) schedule(c *connection) {
	o := &c.out
	if o.flags.has(scheduled) {
		return
	}
	o.flags |= scheduled
	if q.now.sub(c.lastRead) <= activeFor {
		q.urgent = append(q.urgent, c)
	} else {
		q.touched = append(q.touched, c)
	}
}

// activeFor is how recently a subscriber must have sent something to be
// written ahead of the others: one that talks (a publisher waiting for its
// own copy, a player acting) gets what was published at once, while the
// ones that only listen get theirs in chunks, more messages per write.
const activeFor = 20 * time.Millisecond

// slow applies Config.SlowSubscriber to c, which cannot take a message
// of topic. Loop only.
func (q *loopQueue) slow(c *connection, topic string) {
	s := q.s
	closed := s.cfg.SlowSubscriber == SlowClose
	if closed {
		if c.State() != conn.StateOpen {
			return // closing already: nothing more reaches it anyway
		}
		if slices.ContainsFunc(q.slowCloses, func(sc slowClose) bool { return sc.c == c }) {
			return // closed once, for the first message it could not take
		}
		q.slowClosed.Add(1)
		q.slowCloses = append(q.slowCloses, slowClose{c})
		c.logClose(slog.LevelInfo, errSlowSubscriber, logattr.Topic(topic))
	} else {
		q.skipped.Add(1)
		c.logSkip(topic)
	}
	if fn := s.cfg.OnSlowSubscriber; fn != nil {
		defer func() {
			if v := recover(); v != nil {
				s.logPanic(v, c, "")
			}
		}()
		fn(topic, c.gc.RemoteAddr(), closed)
	}
}

// slowClose is a subscriber the drain closes for being slow.
type slowClose struct{ c *connection }

// errSlowSubscriber is the close of SlowClose.
var errSlowSubscriber = &conn.CloseError{Code: conn.StatusPolicyViolation, Reason: "slow subscriber"}

// deferred is a publish held for a connection until the fragmented
// message it is sending is finished.
type deferred struct {
	f     *pubFrame
	topic string
}

// deferredList is what waits for a connection's fragmented message.
type deferredList struct {
	items []deferred
	bytes int // their frames' length: they count against MaxUnsentBytes
}

// deferredBytes returns the bytes of the publishes waiting for c's
// fragmented message; out.mu is held.
func (c *connection) deferredBytes() int {
	if !c.signals.has(deferredMark) {
		return 0
	}
	l, _ := c.srv.deferrals.get(c)
	if l == nil {
		return 0
	}
	return l.bytes
}

// deferDelivery holds f for c until the fragmented message it is sending
// ends (appendDeferred). Loop only; out.mu is held.
func (s *Server) deferDelivery(c *connection, f *pubFrame, topic string) {
	f.refs.Add(1)
	l, _ := s.deferrals.getOrSet(c, func() *deferredList { return new(deferredList) })
	l.items = append(l.items, deferred{f, topic})
	l.bytes += len(f.b)
	c.signals.mark(deferredMark, true)
}

// appendDeferred queues, right after the last frame of the fragmented
// message c was sending, the publishes that waited for it. out.mu is held,
// and so is z.mu on a permessage-deflate connection (its frames are
// compressed in turn with its sends). Any goroutine.
func (c *connection) appendDeferred() {
	s := c.srv
	o := &c.out
	c.signals.mark(deferredMark, false)
	l, _ := s.deferrals.take(c)
	if l == nil {
		return
	}
	for _, d := range l.items {
		if frame, ok := d.f.frameFor(s, c.z); ok {
			b := o.buffer(&s.sends)
			b.B = append(b.B, frame...)
		} else {
			p, rsv, scratch := c.z.compress(s, true, true, d.f.payload())
			o.appendFrame(&s.sends, codec.OpCode(d.f.typ), rsv, true, p)
			if scratch != nil {
				s.msgs.Put(scratch)
			}
		}
		d.f.release(&s.sends)
	}
}

// dropDeferred releases what was deferred for c, which ended. Any
// goroutine.
func (c *connection) dropDeferred() {
	if !c.signals.mark(deferredMark, false) {
		return
	}
	l, _ := c.srv.deferrals.take(c)
	if l == nil {
		return
	}
	for _, d := range l.items {
		d.f.release(&c.srv.sends)
	}
}

// TopicStats are the counters of the topics on this node.
type TopicStats struct {
	// Topics and Subscriptions are the topics with subscribers here and
	// their subscriptions, now.
	Topics, Subscriptions int
	// Publishes counts the messages published on this node (Server and
	// connection Publish calls).
	Publishes uint64
	// Received counts the messages other nodes published that the broker
	// delivered here.
	Received uint64
	// Deliveries counts the frames queued to subscribers here.
	Deliveries uint64
	// Skipped counts the messages skipped for slow subscribers (SlowSkip),
	// SlowClosed the subscribers closed for being slow (SlowClose).
	Skipped, SlowClosed uint64
}

// TopicStats returns the topic counters. Any goroutine.
func (s *Server) TopicStats() TopicStats {
	st := TopicStats{
		Topics:        int(s.topicCount.Load()),
		Subscriptions: int(s.subCount.Load()),
		Publishes:     s.publishes.Load(),
		Received:      s.received.Load(),
	}
	for i := range s.loops {
		if q := s.loops[i].Load(); q != nil {
			st.Deliveries += q.deliveries.Load()
			st.Skipped += q.skipped.Load()
			st.SlowClosed += q.slowClosed.Load()
		}
	}
	return st
}

// Publish sends data as one message of type t (conn.Text or conn.Binary)
// to every subscriber of topic on this node and, with a Config.Broker, on
// every node. It never waits for a peer and keeps nothing of data after it
// returns: the frame is built once and shared by every subscriber, and
// each event loop with subscribers writes it to them. A subscriber
// receives one publisher's messages (one goroutine's, or one connection's)
// in publish order, after whatever was sent to it before. It returns an
// error wrapping conn.ErrInvalidTopic for a bad name,
// conn.ErrInvalidMessageType, conn.ErrInvalidUTF8, or the broker's error
// (the subscribers on this node got the message). Any goroutine.
func (s *Server) Publish(topic string, t conn.MessageType, data []byte) error {
	return s.publish(topic, t, data, nil)
}
