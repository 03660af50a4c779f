package natsbroker

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	nats "github.com/nats-io/nats.go"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/engine"
	"github.com/volley-ws/volley/internal/logattr"
)

var _ engine.StatsBroker = (*Broker)(nil)

// Errors returned by the Broker's methods, inspected with errors.Is.
var (
	// ErrClosed: the broker was closed (or Close was called twice).
	ErrClosed = errors.New("nats: broker closed")
	// ErrNotStarted: Publish, Subscribe or Unsubscribe before Start.
	ErrNotStarted = errors.New("nats: broker not started")
	// ErrStarted: Start called a second time.
	ErrStarted = errors.New("nats: broker already started")
	// ErrBacklog: the message would take the bytes waiting for NATS past
	// Config.MaxPending (NATS is slower than the node publishes); it was
	// not queued. Local delivery is the engine's and has happened.
	ErrBacklog = errors.New("nats: outbound queue full")
	// ErrTooLarge: the message and its 17-byte envelope are more than the
	// NATS server's max_payload.
	ErrTooLarge = errors.New("nats: message larger than the server's max_payload")
	// ErrEcho: New was given a connection made without nats.NoEcho, which
	// would hand every node its own publishes a second time.
	ErrEcho = errors.New("nats: connection made without NoEcho")
)

// Defaults of Config's zero fields.
const (
	DefaultMaxPending   = 16 << 20
	DefaultReceiveQueue = 1 << 16
)

// Bounds on the broker's sequence-number state (see Stats.Missed).
const (
	// maxPublishTopics: past this many topics published on, the broker
	// forgets its counters and draws a new origin id.
	maxPublishTopics = 1 << 16
	// maxOrigins: past this many origins seen on one subscription, the
	// subscription forgets them all (each next message is a new baseline).
	maxOrigins = 1 << 10
	// closeFlush bounds how long Close waits for the NATS server to
	// confirm the last publishes.
	closeFlush = 2 * time.Second
)

// Config configures a Broker. Its zero value is valid: every zero field
// means the documented default.
type Config struct {
	// Prefix starts every subject: one or more tokens, each followed by a
	// dot, of printable ASCII without the wildcards '*' and '>', at most
	// MaxPrefixLen bytes. Nodes exchange messages only if they use the same
	// prefix (and NATS account). Empty: DefaultPrefix, "volley.".
	Prefix string
	// MaxPending bounds the bytes of published messages (each counting its
	// length plus the 17-byte envelope) waiting for the broker's goroutine
	// to hand them to nats.go. Publish refuses a message past it with
	// ErrBacklog. Zero: DefaultMaxPending (16 MiB).
	MaxPending int
	// ReceiveQueue is how many messages from other nodes may wait to be
	// delivered. What arrives beyond it is dropped by nats.go (a slow
	// consumer, reported to OnError) and counted in Stats.Missed when the
	// next message from the same origin arrives. Zero: DefaultReceiveQueue
	// (65536).
	ReceiveQueue int
	// OnError, if not nil, receives the errors that no caller can be
	// returned: a publish or subscription NATS refused, a slow consumer, a
	// permission violation, a malformed message, a panic in deliver. It
	// runs on the broker's or nats.go's goroutines and must not block.
	// Every such error is also counted in Stats.Errors.
	OnError func(error)
	// Logger receives the broker's records, with the keys of the engine's
	// (see engine.Config.Logger): "nats: disconnected" (at Warn, with err
	// and url; at Info without an error), "nats: reconnected" (Info,
	// url), and "nats: broker error" for what OnError gets (Warn, err;
	// Error with panic and stack for a panic in deliver), at most one
	// every 10 seconds, with the number left out meanwhile (suppressed).
	// Default slog.Default().
	Logger *slog.Logger
}

// Broker is an engine.Broker that carries a volley server's publishes to
// the other nodes over NATS core, on one nats.Conn.
//
// A node subscribes to a topic's subject while the topic has local
// subscribers, so NATS sends each publish once to each node that has any
// (and never back to its publisher: the connection uses NoEcho). Messages
// of one publishing node on one topic arrive in publish order. Delivery is
// at most once: what is published while a node is cut off from NATS is lost
// for it, and counted (Stats.Missed).
//
// Concurrency: every method may be called from any goroutine. Publish,
// Subscribe and Unsubscribe never wait for the network: they queue and
// return (the engine calls them on its event loops). The broker runs two
// goroutines between Start and Close: one hands the queue to nats.go, one
// calls deliver with the messages of other nodes.
type Broker struct {
	nc         *nats.Conn
	owned      bool
	prefix     string
	maxPending int
	onError    func(error)
	log        *slog.Logger
	warnLog    errLog                 // the rate of Warn error records
	errorLog   errLog                 // of Error ones (panics)
	maxPayload atomic.Int64           // the server's max_payload, 0 if unknown
	url        atomic.Pointer[string] // the server connected to last, for the log

	// Restored by Close.
	prevDisconnect  nats.ConnErrHandler
	prevDisconnect0 nats.ConnHandler
	prevReconnect   nats.ConnHandler
	prevError       nats.ErrHandler

	mu      sync.Mutex
	state   brokerState
	queue   []op // waiting for the sender goroutine, in call order
	pending int  // bytes of publishes in queue and being sent
	topics  map[string]*pubTopic
	origin  uint64

	wake    chan struct{} // capacity 1: the queue is not empty, or closed
	deliver func(topic string, t conn.MessageType, data []byte)

	// subs belongs to the sender goroutine; active, guarded by subMu, lets
	// the receiver find the subscription a message came through.
	subs   map[string]*subscription
	subMu  sync.Mutex
	active map[*nats.Subscription]*subscription
	inbox  chan *nats.Msg

	stop chan struct{}
	wg   sync.WaitGroup

	published, received, missed, stale atomic.Uint64
	refused, failed, errs, malformed   atomic.Uint64
	disconnects, reconnects            atomic.Uint64
}

type brokerState uint8

const (
	stateNew brokerState = iota
	stateStarted
	stateClosed
)

// pubTopic is the publishing side of a topic: its subject and the sequence
// number of its last message.
type pubTopic struct {
	subject string
	seq     uint64
}

// subscription is the receiving side of a topic: the last sequence number
// seen from each origin. last belongs to the receiver goroutine.
type subscription struct {
	topic string
	sub   *nats.Subscription
	last  map[uint64]uint64
}

type opKind uint8

const (
	opPublish opKind = iota
	opSubscribe
	opUnsubscribe
)

type op struct {
	kind    opKind
	topic   string
	subject string
	payload []byte // envelope and message, for opPublish
}

// Connect connects to the NATS server(s) at url (a comma-separated list,
// as for nats.Connect) and returns a Broker that owns the connection:
// Close closes it. The connection is named "volley", reconnects forever
// (nats.MaxReconnects(-1)) and has no error handler of its own (errors go to
// Config.OnError), which opts may change; it uses nats.NoEcho, which they
// cannot.
func Connect(url string, cfg Config, opts ...nats.Option) (*Broker, error) {
	all := make([]nats.Option, 0, len(opts)+4)
	// nats.go's default error handler prints to stderr; errors go to
	// Config.OnError instead, unless opts set a handler.
	all = append(all, nats.Name("volley"), nats.MaxReconnects(-1),
		nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	all = append(all, opts...)
	all = append(all, nats.NoEcho())
	nc, err := nats.Connect(url, all...)
	if err != nil {
		return nil, fmt.Errorf("nats: connect to %s: %w", url, err)
	}
	b, err := newBroker(nc, cfg, true)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return b, nil
}

// New returns a Broker over nc, which the caller keeps: Close leaves it
// open. nc must have been made with nats.NoEcho (else ErrEcho) and should
// reconnect forever (nats.MaxReconnects(-1)); a nats.Conn carries at most
// one Broker. New chains its own disconnect, reconnect and error handlers
// in front of nc's (Close puts nc's back).
func New(nc *nats.Conn, cfg Config) (*Broker, error) {
	return newBroker(nc, cfg, false)
}

func newBroker(nc *nats.Conn, cfg Config, owned bool) (*Broker, error) {
	if nc == nil {
		return nil, errors.New("nats: nil connection")
	}
	if !nc.Opts.NoEcho {
		return nil, ErrEcho
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if err := checkPrefix(cfg.Prefix); err != nil {
		return nil, err
	}
	switch {
	case cfg.MaxPending < 0:
		return nil, fmt.Errorf("nats: Config.MaxPending is negative (%d)", cfg.MaxPending)
	case cfg.MaxPending == 0:
		cfg.MaxPending = DefaultMaxPending
	}
	switch {
	case cfg.ReceiveQueue < 0:
		return nil, fmt.Errorf("nats: Config.ReceiveQueue is negative (%d)", cfg.ReceiveQueue)
	case cfg.ReceiveQueue == 0:
		cfg.ReceiveQueue = DefaultReceiveQueue
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	b := &Broker{
		nc:         nc,
		owned:      owned,
		prefix:     cfg.Prefix,
		maxPending: cfg.MaxPending,
		onError:    cfg.OnError,
		log:        cfg.Logger,
		topics:     make(map[string]*pubTopic),
		origin:     newOrigin(),
		wake:       make(chan struct{}, 1),
		subs:       make(map[string]*subscription),
		active:     make(map[*nats.Subscription]*subscription),
		inbox:      make(chan *nats.Msg, cfg.ReceiveQueue),
		stop:       make(chan struct{}),
	}
	b.maxPayload.Store(nc.MaxPayload())
	b.setURL(nc)
	b.chainHandlers()
	return b, nil
}

// newOrigin draws a random nonzero origin id.
func newOrigin() uint64 {
	for {
		if o := rand.Uint64(); o != 0 {
			return o
		}
	}
}

// chainHandlers puts the broker's counting handlers in front of nc's.
func (b *Broker) chainHandlers() {
	nc := b.nc
	b.prevDisconnect = nc.DisconnectErrHandler()
	b.prevDisconnect0 = nc.Opts.DisconnectedCB
	b.prevReconnect = nc.ReconnectHandler()
	b.prevError = nc.ErrorHandler()
	prevDisconnect, prevDisconnect0 := b.prevDisconnect, b.prevDisconnect0
	prevReconnect, prevError := b.prevReconnect, b.prevError
	nc.SetDisconnectErrHandler(func(c *nats.Conn, err error) {
		b.logDisconnected(*b.url.Load(), err) // logged before it is counted: Stats shows it in the log
		b.disconnects.Add(1)
		if prevDisconnect != nil {
			prevDisconnect(c, err)
		} else if prevDisconnect0 != nil {
			prevDisconnect0(c)
		}
	})
	nc.SetReconnectHandler(func(c *nats.Conn) {
		b.maxPayload.Store(c.MaxPayload())
		b.setURL(c)
		b.logReconnected(*b.url.Load())
		b.reconnects.Add(1)
		if prevReconnect != nil {
			prevReconnect(c)
		}
	})
	nc.SetErrorHandler(func(c *nats.Conn, s *nats.Subscription, err error) {
		if s != nil {
			b.fail(fmt.Errorf("nats: subject %s: %w", s.Subject, err))
		} else {
			b.fail(fmt.Errorf("nats: %w", err))
		}
		if prevError != nil {
			prevError(c, s, err)
		}
	})
}

// restoreHandlers undoes chainHandlers.
func (b *Broker) restoreHandlers() {
	b.nc.SetDisconnectErrHandler(b.prevDisconnect)
	b.nc.SetReconnectHandler(b.prevReconnect)
	b.nc.SetErrorHandler(b.prevError)
}

// fail counts an error nobody can be returned, logs it at Warn and hands
// it to OnError.
func (b *Broker) fail(err error) { b.failAt(slog.LevelWarn, err) }

// failAt is fail with the record's level and more attributes.
func (b *Broker) failAt(level slog.Level, err error, attrs ...slog.Attr) {
	b.errs.Add(1)
	b.logError(level, err, attrs...)
	if b.onError != nil {
		b.onError(err)
	}
}

// Start starts the broker's two goroutines. deliver is called, on the
// receiving goroutine, one message at a time, with each message another
// node published on a topic this node subscribes to; data is valid only
// during the call. deliver must not block. Start is called once, by the
// engine's Server.Start: a second call returns ErrStarted, a call after
// Close ErrClosed.
func (b *Broker) Start(deliver func(topic string, t conn.MessageType, data []byte)) error {
	if deliver == nil {
		return errors.New("nats: Start with a nil deliver function")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case stateStarted:
		return ErrStarted
	case stateClosed:
		return ErrClosed
	}
	b.state = stateStarted
	b.deliver = deliver
	b.wg.Add(2)
	go b.send()
	go b.receive()
	return nil
}

// Subscribe makes this node receive the messages other nodes publish on
// topic, once the broker's goroutine has subscribed to its subject (it
// queues the request and returns). Its error wraps conn.ErrInvalidTopic for an
// invalid topic name, or is ErrNotStarted or ErrClosed. Subscribing to a
// topic already subscribed to does nothing.
func (b *Broker) Subscribe(topic string) error {
	return b.enqueueSub(opSubscribe, topic)
}

// Unsubscribe ends Subscribe: once the broker's goroutine has unsubscribed
// (it queues the request and returns), no more messages on topic are
// delivered, including any already received and not yet delivered.
// Unsubscribing from a topic not subscribed to does nothing.
func (b *Broker) Unsubscribe(topic string) error {
	return b.enqueueSub(opUnsubscribe, topic)
}

func (b *Broker) enqueueSub(kind opKind, topic string) error {
	subject, err := b.Subject(topic)
	if err != nil {
		return err
	}
	b.mu.Lock()
	if err := b.usable(); err != nil {
		b.mu.Unlock()
		return err
	}
	b.queue = append(b.queue, op{kind: kind, topic: strings.Clone(topic), subject: subject})
	b.mu.Unlock()
	b.signal()
	return nil
}

// usable returns the error for a broker that cannot queue. b.mu is held.
func (b *Broker) usable() error {
	switch b.state {
	case stateNew:
		return ErrNotStarted
	case stateClosed:
		return ErrClosed
	}
	return nil
}

func (b *Broker) signal() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// Publish queues a message for the other nodes subscribed to topic and
// returns; the broker's goroutine hands it to nats.go. data is copied and
// not kept. Errors: conn.ErrInvalidTopic or conn.ErrInvalidMessageType
// (wrapped), ErrTooLarge, ErrBacklog, ErrNotStarted, ErrClosed. A message
// NATS refuses later (the connection closed, nats.go's reconnect buffer
// full) goes to Config.OnError and is counted in Stats.Errors (and in the
// receivers' Stats.Missed).
func (b *Broker) Publish(topic string, t conn.MessageType, data []byte) error {
	if t != conn.Text && t != conn.Binary {
		return fmt.Errorf("nats: publish %v on %.64q: %w", t, topic, conn.ErrInvalidMessageType)
	}
	size := envelopeLen + len(data)
	if max := b.maxPayload.Load(); max > 0 && int64(size) > max {
		b.refused.Add(1)
		return fmt.Errorf("%w: %d bytes with the envelope, max_payload is %d", ErrTooLarge, size, max)
	}
	payload := make([]byte, size)
	copy(payload[envelopeLen:], data)

	b.mu.Lock()
	if err := b.usable(); err != nil {
		b.mu.Unlock()
		return err
	}
	if b.pending+size > b.maxPending {
		b.mu.Unlock()
		b.refused.Add(1)
		return fmt.Errorf("%w: %d bytes waiting, Config.MaxPending is %d", ErrBacklog, b.pending, b.maxPending)
	}
	pt := b.topics[topic]
	if pt == nil {
		subject, err := b.Subject(topic)
		if err != nil {
			b.mu.Unlock()
			return err
		}
		if len(b.topics) >= maxPublishTopics {
			// Receivers take a new origin's first message as a baseline,
			// so forgetting the counters never looks like a gap.
			clear(b.topics)
			b.origin = newOrigin()
		}
		pt = &pubTopic{subject: subject}
		b.topics[strings.Clone(topic)] = pt
	}
	pt.seq++
	putEnvelope(payload, t, b.origin, pt.seq)
	b.queue = append(b.queue, op{kind: opPublish, subject: pt.subject, payload: payload})
	b.pending += size
	b.mu.Unlock()
	b.signal()
	return nil
}

// send is the sender goroutine: it hands the queue to nats.go in order
// until Close, then unsubscribes everything.
func (b *Broker) send() {
	defer b.wg.Done()
	var batch []op
	for {
		<-b.wake
		b.mu.Lock()
		batch, b.queue = b.queue, batch[:0]
		closed := b.state == stateClosed
		b.mu.Unlock()
		sent := 0
		for i := range batch {
			sent += len(batch[i].payload)
			b.do(&batch[i])
			batch[i] = op{}
		}
		b.mu.Lock()
		b.pending -= sent
		b.mu.Unlock()
		if closed {
			break
		}
	}
	for _, s := range b.subs {
		b.unsubscribe(s)
	}
	if b.nc.IsConnected() {
		if err := b.nc.FlushTimeout(closeFlush); err != nil {
			b.fail(fmt.Errorf("nats: flush on close: %w", err))
		}
	}
}

func (b *Broker) do(o *op) {
	switch o.kind {
	case opPublish:
		if err := b.nc.Publish(o.subject, o.payload); err != nil {
			b.failed.Add(1)
			b.fail(fmt.Errorf("nats: publish on %s: %w", o.subject, err))
			return
		}
		b.published.Add(1)
	case opSubscribe:
		if b.subs[o.topic] != nil {
			return
		}
		sub, err := b.nc.ChanSubscribe(o.subject, b.inbox)
		if err != nil {
			b.fail(fmt.Errorf("nats: subscribe to %s: %w", o.subject, err))
			return
		}
		s := &subscription{topic: o.topic, sub: sub, last: make(map[uint64]uint64)}
		b.subs[o.topic] = s
		b.subMu.Lock()
		b.active[sub] = s
		b.subMu.Unlock()
	case opUnsubscribe:
		if s := b.subs[o.topic]; s != nil {
			b.unsubscribe(s)
		}
	}
}

func (b *Broker) unsubscribe(s *subscription) {
	delete(b.subs, s.topic)
	b.subMu.Lock()
	delete(b.active, s.sub)
	b.subMu.Unlock()
	if err := s.sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		b.fail(fmt.Errorf("nats: unsubscribe from %s: %w", s.sub.Subject, err))
	}
}

// receive is the receiver goroutine: it delivers the messages of every
// subscription, in the order NATS sent them, until Close.
func (b *Broker) receive() {
	defer b.wg.Done()
	for {
		select {
		case <-b.stop:
			return
		case m := <-b.inbox:
			b.handle(m)
		}
	}
}

func (b *Broker) handle(m *nats.Msg) {
	b.subMu.Lock()
	s := b.active[m.Sub]
	b.subMu.Unlock()
	if s == nil {
		return // unsubscribed since it arrived
	}
	t, origin, seq, data, ok := parseEnvelope(m.Data)
	if !ok {
		b.malformed.Add(1)
		b.fail(fmt.Errorf("nats: message of %d bytes on %s is not a volley envelope", len(m.Data), m.Subject))
		return
	}
	last, seen := s.last[origin]
	switch {
	case !seen:
		if len(s.last) >= maxOrigins {
			clear(s.last)
		}
	case seq <= last:
		// Overtaken by a later message of its origin (possible only
		// around a reconnect): dropped to keep publish order; the gap it
		// left was counted when the later one arrived.
		b.stale.Add(1)
		return
	case seq > last+1:
		b.missed.Add(seq - last - 1)
	}
	s.last[origin] = seq
	b.received.Add(1)
	b.callDeliver(s.topic, t, data)
}

func (b *Broker) callDeliver(topic string, t conn.MessageType, data []byte) {
	defer func() {
		if r := recover(); r != nil {
			b.failAt(slog.LevelError, fmt.Errorf("nats: deliver on %.64q panicked: %v", topic, r),
				append([]slog.Attr{logattr.Topic(topic)}, logPanicStack(r)...)...)
		}
	}()
	b.deliver(topic, t, data)
}

// Close stops the broker, once (a second call returns ErrClosed): what
// Publish queued is handed to nats.go, every subscription ends, Close waits
// (at most 2 s) for the NATS server to confirm, and the broker's goroutines
// end; deliver is not called after Close returns. A broker made by Connect
// closes its connection; one made by New gives nc its handlers back and
// leaves it open. The engine's Server.Shutdown calls Close.
func (b *Broker) Close() error {
	b.mu.Lock()
	prev := b.state
	if prev == stateClosed {
		b.mu.Unlock()
		return ErrClosed
	}
	b.state = stateClosed
	b.mu.Unlock()
	if prev == stateStarted {
		b.signal()
		close(b.stop)
		b.wg.Wait()
	}
	b.restoreHandlers()
	if b.owned {
		b.nc.Close()
	}
	return nil
}

// Subject returns the NATS subject that carries topic: Config.Prefix
// followed by EscapeTopic(topic). Its error wraps conn.ErrInvalidTopic.
func (b *Broker) Subject(topic string) (string, error) {
	esc, err := EscapeTopic(topic)
	if err != nil {
		return "", err
	}
	return b.prefix + esc, nil
}

// Topic is Subject's inverse. Its error wraps ErrInvalidSubject for a
// subject Subject does not return for any topic.
func (b *Broker) Topic(subject string) (string, error) {
	rest, ok := strings.CutPrefix(subject, b.prefix)
	if !ok {
		return "", fmt.Errorf("%w: %.64q does not start with %q", ErrInvalidSubject, subject, b.prefix)
	}
	return UnescapeTopic(rest)
}
