package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"

	"github.com/volley-ws/volley/codec"
	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/internal/bufpool"
	"github.com/volley-ws/volley/upgrade"
)

// Server is a volley server. Create it with New, register routes, then
// call ListenAndServe or Start; it is also an http.Handler, which hands the
// WebSockets of an application's net/http server to the event loops (see
// ServeHTTP). Route registration must happen before the server starts; the
// other methods are safe for concurrent use.
type Server struct {
	cfg    Config
	cfgErr error
	routes map[string]route
	// eventHandlers are the EventHandlers of HandleEvents, which event
	// connections name by index.
	eventHandlers []EventHandler
	// msgs holds the buffers of messages: joined fragments, inflated
	// messages, blocking sessions' inboxes. It keeps none over 1 MiB.
	msgs bufpool.Pool
	// sends holds the outboxes' buffers between writes.
	sends sendPool
	// reqs holds the requests handshakes are parsed into in place, one per
	// loop in use.
	reqs sync.Pool
	// messages holds the reader states of messages in progress
	// (*messageState), which a connection holds only while a message
	// spans reads.
	messages sync.Pool
	flate    *codec.Flate // permessage-deflate compressors, nil when disabled
	// heldCompressors counts the connections holding a compressor between
	// or within messages (context takeover, or a fragmented message).
	heldCompressors atomic.Int64

	eng      gnet.Engine
	addr     net.Addr
	started  chan struct{}
	stopped  chan struct{}
	runErr   error
	shutdown atomic.Bool

	start time.Time    // when New made the server: the clock's zero
	clock atomicMoment // coarse now, updated by the ticker
	ticks ticker
	// budget counts the bytes all connections hold (MaxBufferedBytes).
	budget budget

	opening openings
	// failures holds the failure a blocking receiver has yet to reach,
	// per connection, until it does (see connection.fail).
	failures sideTable[*conn.CloseError]
	// rooms holds the wake-up of the senders waiting for room under
	// MaxUnsentBytes, per connection, while they wait.
	rooms sideTable[chan struct{}]
	// afterlives holds the sockets of half-closed blocking connections
	// whose handlers are still at work (afterlife.go).
	afterlives sideTable[*afterlife]
	// access holds the blocking handshakes waiting for their answer while
	// Config.AccessLog is set (accesslog.go).
	access sideTable[accessEntry]

	// Topics (topics.go, fanout.go): the index, each subscribed
	// connection's topics, the publishes waiting for a connection's
	// fragmented message, the loops' queues (one slot per event loop,
	// filled as loops get subscribers), counters (the frames' pool is in
	// sends).
	topics     topicIndex
	subs       sideTable[*connTopics]
	deferrals  sideTable[*deferredList]
	loops      []atomic.Pointer[loopQueue]
	topicCount atomic.Int64
	subCount   atomic.Int64
	publishes  atomic.Uint64
	received   atomic.Uint64
	brokerOnce sync.Once   // Broker.Close
	topicsUsed atomic.Bool // a connection subscribed once: loops look for publishes to append

	// Counters (counts.go, stats.go): one slot per event loop, the paths
	// of the routes by index, and the route of each of eventHandlers.
	counts      []loopCounts
	routePaths  []string
	eventRoutes []uint16

	mu       sync.Mutex
	conns    *connection // the registry of open connections, linked through prev and next
	nconns   int
	drainSet map[*connection]struct{}
	// accepted counts the connections linked; offLoop and refusedOther
	// count what happens off the loops (stats.go).
	accepted     uint64
	offLoop      loopCounts
	refusedOther map[int]uint64

	handlers sync.WaitGroup // handler goroutines

	bridge bridgeState // the net/http bridge (bridge*.go)
}

// route is what a path serves: a blocking handler or an event handler.
type route struct {
	fn     upgrade.HandlerFunc
	events int    // 1 + the EventHandler's index in eventHandlers, 0 for none
	idx    uint16 // the path's index in routePaths, for its counters
}

// maxRoutes bounds the paths and the HandleEvents calls: a connection
// names either in 15 bits (connection.handler).
const maxRoutes = math.MaxInt16

// New returns a Server for cfg. Invalid configuration is reported by
// ListenAndServe and Start.
func New(cfg Config) *Server {
	c, err := cfg.withDefaults()
	s := &Server{
		cfg:      c,
		cfgErr:   err,
		routes:   make(map[string]route),
		started:  make(chan struct{}),
		stopped:  make(chan struct{}),
		drainSet: make(map[*connection]struct{}),
	}
	if c.Upgrade.Compression.Enabled {
		s.flate = codec.NewFlate(c.Upgrade.Compression.Level)
	}
	s.budget.max = c.MaxBufferedBytes
	s.loops = make([]atomic.Pointer[loopQueue], max(c.EventLoops, 1))
	s.counts = make([]loopCounts, min(max(c.EventLoops, 1), 256)) // gnet runs at most 256 loops
	s.start = time.Now()
	s.clock.Store(momentOf(0))
	s.ticks.init()
	return s
}

// HandleFunc serves requests for exactly path with fn, each on its own
// goroutine: plain HTTP requests and WebSocket handshakes alike (see
// upgrade.Context), on the server's listener and through ServeHTTP. It
// must be called before the server starts.
func (s *Server) HandleFunc(path string, fn upgrade.HandlerFunc) {
	if idx, ok := s.routeIndex(path); ok {
		s.routes[path] = route{fn: fn, idx: idx}
	}
}

// routeIndex returns path's index in routePaths, adding it if new; false
// past maxRoutes paths (a configuration error).
func (s *Server) routeIndex(path string) (uint16, bool) {
	if r, ok := s.routes[path]; ok {
		return r.idx, true
	}
	if len(s.routePaths) == maxRoutes {
		s.cfgErr = errors.Join(s.cfgErr, fmt.Errorf("engine: more than %d routes", maxRoutes))
		return 0, false
	}
	s.routePaths = append(s.routePaths, path)
	return uint16(len(s.routePaths) - 1), true
}

// HandleEvents serves WebSocket handshakes for exactly path on the event
// loop, with no goroutine per connection: valid handshakes are accepted
// (with Config.Upgrade's subprotocols and origin check) and h receives the
// connection's events, on the server's listener and through ServeHTTP.
// Other requests for path get 426 Upgrade Required. It must be called
// before the server starts.
func (s *Server) HandleEvents(path string, h EventHandler) {
	if len(s.eventHandlers) == maxRoutes {
		s.cfgErr = errors.Join(s.cfgErr, fmt.Errorf("engine: more than %d HandleEvents calls", maxRoutes))
		return
	}
	idx, ok := s.routeIndex(path)
	if !ok {
		return
	}
	s.eventHandlers = append(s.eventHandlers, h)
	s.eventRoutes = append(s.eventRoutes, idx)
	s.routes[path] = route{events: len(s.eventHandlers), idx: idx}
}

// ListenAndServe listens on Config.Addr (nowhere with Config.BridgeOnly:
// see Start) and serves until Shutdown. It returns nil after a Shutdown,
// or the error that stopped the server.
func (s *Server) ListenAndServe() error {
	if err := s.Start(); err != nil {
		return err
	}
	<-s.stopped
	return s.runErr
}

// Start listens on Config.Addr and serves in the background; it returns
// once the server accepts connections, or with the error that prevented it.
// The event loops run until Shutdown.
//
// With Config.BridgeOnly, connections come only through ServeHTTP. gnet
// cannot run without a listening socket, so the server then listens on a
// free port of 127.0.0.1 that serves nothing: it closes every connection
// made to it at once, except the server's own probes of its event loops
// (see ServeHTTP).
func (s *Server) Start() error {
	if s.cfgErr != nil {
		return s.cfgErr
	}
	if b := s.cfg.Broker; b != nil {
		if err := b.Start(s.fromBroker); err != nil {
			return fmt.Errorf("engine: broker: %w", err)
		}
	}
	addr := s.cfg.Addr
	if s.cfg.BridgeOnly {
		addr = "127.0.0.1:0"
	}
	go func() {
		err := gnet.Run(&gnetHandler{s: s}, "tcp://"+addr,
			gnet.WithMulticore(true),
			gnet.WithNumEventLoop(s.cfg.EventLoops),
			gnet.WithReuseAddr(true),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithReadBufferCap(s.cfg.ReadBufferSize),
			gnet.WithLogger(gnetLogger{s.cfg.Logger}),
		)
		select {
		case <-s.started:
		default:
			s.runErr = err
			close(s.started)
		}
		if err != nil && s.runErr == nil {
			s.runErr = err
		}
		close(s.stopped)
	}()
	<-s.started
	if s.addr == nil {
		<-s.stopped
		if s.runErr == nil {
			s.runErr = errors.New("engine: server stopped before it started")
		}
		if b := s.cfg.Broker; b != nil {
			s.brokerOnce.Do(func() { _ = b.Close() }) // Shutdown will not run
		}
		return s.runErr
	}
	s.ticks.start(s)
	return nil
}

// Addr returns the address the server listens on, once started; nil for
// a server with Config.BridgeOnly. Any goroutine.
func (s *Server) Addr() net.Addr {
	if s.cfg.BridgeOnly {
		return nil
	}
	return s.addr
}

// Config returns the server's configuration with every default filled in:
// the limits it enforces (MaxBufferedBytes as derived from the machine's
// memory, for instance).
func (s *Server) Config() Config { return s.cfg }

// boot records the listening address and reports the server started.
func (s *Server) boot(eng gnet.Engine) error {
	s.eng = eng
	fd, err := eng.Dup()
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return err
	}
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		s.addr = &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
	case *unix.SockaddrInet6:
		s.addr = &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	default:
		return fmt.Errorf("engine: unexpected listener address %T", sa)
	}
	close(s.started)
	return nil
}

// Shutdown stops the server gracefully: new connections are refused, idle
// HTTP connections are closed, every open WebSocket is sent close 1001
// (Going Away), and Shutdown waits, within ctx, for the closing handshakes
// and the handlers to finish before stopping the event loops. When ctx ends
// first, the remaining connections are closed at once and ctx's error is
// returned. Safe for concurrent use; later calls wait like the first.
func (s *Server) Shutdown(ctx context.Context) error {
	select {
	case <-s.started:
	default:
		return errors.New("engine: server not started")
	}
	if s.addr == nil {
		return s.runErr
	}
	s.shutdown.Store(true)
	s.eachConn(func(c *connection) { _ = c.gc.Wake(nil) })
	var err error
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for err == nil {
		// Half-closed blocking connections (afterlife.go) have left the
		// loops, and their peers can no longer answer a close: they end
		// now, with it.
		if ended := s.endAfterlives(); ended == 0 && s.connCount() == 0 {
			break
		}
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-tick.C:
		}
	}
	// A cancelled context makes gnet's Stop begin the shutdown and return at
	// once instead of polling every 500ms; Run returning closes s.stopped.
	stopCtx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = s.eng.Stop(stopCtx)
	<-s.stopped
	s.ticks.stop()
	done := make(chan struct{})
	go func() { s.handlers.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	if b := s.cfg.Broker; b != nil {
		s.brokerOnce.Do(func() {
			if cerr := b.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("engine: broker: %w", cerr)
			}
		})
	}
	return err
}

// connCount returns the open connections, and those ServeHTTP is handing
// to a loop.
func (s *Server) connCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nconns + s.bridge.enrolling
}

// eachConn calls fn for every open connection, under the registry lock.
func (s *Server) eachConn(fn func(*connection)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := s.conns; c != nil; c = c.next {
		fn(c)
	}
}

// link adds c to the registry, counts it accepted and gives it its
// loop's counters; s.mu must be held, on c's loop. A list threaded
// through the connections costs each 16 bytes, where a map entry costs
// about 36.
func (s *Server) link(c *connection) {
	s.accepted++
	s.claimSlot(c)
	c.next = s.conns
	if s.conns != nil {
		s.conns.prev = c
	}
	s.conns = c
	s.nconns++
}

// unlink removes c from the registry; s.mu must be held. It may be called
// more than once.
func (s *Server) unlink(c *connection) {
	if c.prev == nil && s.conns != c {
		return // not linked
	}
	if c.prev != nil {
		c.prev.next = c.next
	} else {
		s.conns = c.next
	}
	if c.next != nil {
		c.next.prev = c.prev
	}
	c.prev, c.next = nil, nil
	s.nconns--
}
