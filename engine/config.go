package engine

import (
	"fmt"
	"log/slog"
	"math"
	"net"
	"runtime"
	"slices"
	"time"

	"github.com/volley-ws/volley/upgrade"
)

// MaxSubprotocols is the most entries Config.Upgrade.Subprotocols may
// have: a connection names its subprotocol by a one-byte index.
const MaxSubprotocols = 255

// Config configures a Server. The zero value is valid: every zero field
// means the default documented on it.
type Config struct {
	// Addr is the TCP address to listen on, host:port. Default
	// "127.0.0.1:8080". Port 0 picks a free port (see Server.Addr).
	Addr string
	// BridgeOnly starts the server without a listener of its own: its
	// WebSockets come only through ServeHTTP, from the application's
	// net/http server (see Server.ServeHTTP), and Addr is ignored.
	BridgeOnly bool
	// EventLoops is the number of gnet event loops. Default: one per CPU.
	EventLoops int
	// ReadBufferSize is the size of each event loop's read buffer (one per
	// loop, not per connection): the most one read takes from a socket.
	// It is also the most input a stalled connection (see MaxUnsentBytes)
	// may leave unparsed. Default 256 KiB; larger reads mean fewer system
	// calls when clients send large or many messages.
	ReadBufferSize int

	// MaxHandshakeBytes bounds an HTTP request head; a longer one is
	// answered 431. Default 8 KiB.
	MaxHandshakeBytes int
	// MaxRequestBody bounds a plain HTTP request body (Content-Length);
	// a longer one is answered 413. Default 1 MiB.
	MaxRequestBody int
	// HandshakeTimeout bounds the time from accepting a connection (or
	// finishing the previous keep-alive request) to receiving a whole
	// request; slower clients are dropped. Default 10s, at most MaxTimeout.
	HandshakeTimeout time.Duration

	// MaxMessageSize bounds a received message (all its fragments); a
	// larger one fails the connection with close 1009 as soon as a frame
	// header announces it. Default 16 MiB.
	MaxMessageSize int64
	// MaxUnreadBytes bounds the messages a blocking WebSocket queues for
	// Receive: a handler that falls behind by more fails the connection
	// with close 1008, after the messages already queued. Default 32 MiB;
	// it is raised to MaxMessageSize+64 KiB when smaller.
	MaxUnreadBytes int
	// MaxUnsentBytes bounds the bytes queued for a connection but not yet
	// written to its socket: what the application sends and what the
	// server answers by itself (pongs, close frames, HTTP responses).
	// Past it, blocking Send waits (up to WriteTimeout), TrySend and the
	// event API's Send return conn.ErrSendQueueFull, and the connection is
	// stalled: its input is not parsed until the peer reads, and a peer
	// that sends more than ReadBufferSize meanwhile is dropped. Default
	// 4 MiB.
	MaxUnsentBytes int
	// MaxBufferedBytes is the server's memory budget: the bytes all
	// connections together may hold between the network and the
	// application (unsent output, unparsed input, messages waiting for
	// Receive). Past it the server answers new handshakes and requests
	// with 503, stops parsing the input of the connections holding the
	// most, and after a second closes the largest holders with 1013.
	// Default: a quarter of the memory available to the process (its
	// cgroup's limit, or the machine's). Negative disables it.
	MaxBufferedBytes int64
	// WriteTimeout bounds how long the peer may leave MaxUnsentBytes
	// unread: a blocking Send that waited this long fails with
	// conn.ErrWriteTimeout, and a connection stalled this long (its input
	// is not parsed meanwhile) is aborted. A connection whose close frame
	// is queued is gone within CloseTimeout plus WriteTimeout, whatever
	// the peer does. Default 10s.
	WriteTimeout time.Duration
	// IdleTimeout: a WebSocket that receives nothing for IdleTimeout/2 is
	// sent a ping; one that receives nothing for IdleTimeout is closed with
	// 1001. Default 60s, at most MaxTimeout. Negative disables both.
	IdleTimeout time.Duration
	// CloseTimeout bounds a closing handshake: the wait for the peer's close
	// after ours, for the application's answer to the peer's close, and for
	// the peer to end the TCP connection afterwards. Default 5s, at most
	// MaxTimeout.
	CloseTimeout time.Duration

	// Upgrade configures subprotocols, the origin check and
	// permessage-deflate compression (off unless Upgrade.Compression.Enabled)
	// for every WebSocket route. Upgrade.Subprotocols may list at most
	// MaxSubprotocols entries.
	Upgrade upgrade.Options

	// Broker carries topic publishes to and from the other nodes of a
	// cluster (see Broker). Nil: topics are in-process, one node.
	Broker Broker
	// SlowSubscriber is what happens to a subscriber whose unsent bytes
	// would pass MaxUnsentBytes with a published message: SlowClose (the
	// default) closes it with 1008, so that nothing is lost silently;
	// SlowSkip skips the message for it and counts it
	// (TopicStats.Skipped). A publisher is never slowed down either way.
	SlowSubscriber SlowSubscriberPolicy
	// OnSlowSubscriber, when set, is called each time SlowSubscriber is
	// applied: the topic, the subscriber's address, and whether it was
	// closed (otherwise the message was skipped). It runs on an event
	// loop and must not block.
	OnSlowSubscriber func(topic string, remote net.Addr, closed bool)

	// Logger receives the server's log records, every one with the same
	// attribute keys (see "Logs" in the package documentation): recovered
	// panics at Error, the memory budget and the application's faults at
	// Warn, slow subscribers at Info, the peers' faults (refused
	// handshakes, protocol violations, timeouts) at Debug. Its handler
	// runs on the goroutine that logs, event loops included, and should
	// not block. Default slog.Default().
	Logger *slog.Logger
	// AccessLog, when set, receives an Info record for every WebSocket
	// handshake answered, accepted (101) or refused (see "Logs" in the
	// package documentation). It may be Logger itself or a logger of its
	// own (another output, another level); like Logger's, its handler runs
	// on the event loops and should not block. Nil, the default: no access
	// log, and nothing spent on one.
	AccessLog *slog.Logger
}

// SlowSubscriberPolicy is what the server does with a topic subscriber
// that does not read fast enough (see Config.SlowSubscriber).
type SlowSubscriberPolicy uint8

const (
	// SlowClose closes a slow subscriber with 1008 (Policy Violation,
	// reason "slow subscriber").
	SlowClose SlowSubscriberPolicy = iota
	// SlowSkip skips the message for a slow subscriber and counts it.
	SlowSkip
)

// Defaults of Config.
const (
	DefaultAddr              = "127.0.0.1:8080"
	DefaultReadBufferSize    = 256 << 10
	DefaultMaxHandshakeBytes = 8 << 10
	DefaultMaxRequestBody    = 1 << 20
	DefaultHandshakeTimeout  = 10 * time.Second
	DefaultMaxMessageSize    = 16 << 20
	DefaultMaxUnreadBytes    = 32 << 20
	DefaultMaxUnsentBytes    = 4 << 20
	DefaultWriteTimeout      = 10 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultCloseTimeout      = 5 * time.Second

	// Defaults of Config.Upgrade.Compression (whose Level defaults to 1).
	DefaultCompressionMinSize     = 128
	DefaultCompressionIdleRelease = 5 * time.Second
)

// withDefaults returns c with defaults filled in, or an error naming the
// first invalid field.
func (c Config) withDefaults() (Config, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	def(&c.EventLoops, runtime.NumCPU())
	def(&c.ReadBufferSize, DefaultReadBufferSize)
	def(&c.MaxHandshakeBytes, DefaultMaxHandshakeBytes)
	def(&c.MaxRequestBody, DefaultMaxRequestBody)
	def(&c.MaxUnsentBytes, DefaultMaxUnsentBytes)
	def(&c.MaxUnreadBytes, DefaultMaxUnreadBytes)
	if c.MaxBufferedBytes == 0 {
		c.MaxBufferedBytes = defaultMaxBuffered()
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	defDur(&c.HandshakeTimeout, DefaultHandshakeTimeout)
	defDur(&c.WriteTimeout, DefaultWriteTimeout)
	defDur(&c.IdleTimeout, DefaultIdleTimeout)
	defDur(&c.CloseTimeout, DefaultCloseTimeout)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	// A copy, so that a connection can name its subprotocol by index
	// (Conn.Subprotocol) whatever the caller does with its slice.
	c.Upgrade.Subprotocols = slices.Clone(c.Upgrade.Subprotocols)
	if len(c.Upgrade.Subprotocols) > MaxSubprotocols {
		return c, fmt.Errorf("engine: Config.Upgrade.Subprotocols has more than %d entries", MaxSubprotocols)
	}
	z := &c.Upgrade.Compression
	def(&z.Level, 1)
	def(&z.MinSize, DefaultCompressionMinSize)
	defDur(&z.IdleRelease, DefaultCompressionIdleRelease)
	for _, f := range []struct {
		name string
		bad  bool
	}{
		{"Level must be 1 to 9", z.Level < 1 || z.Level > 9},
		{"ClientMaxWindowBits must be 0 or 9 to 15", z.ClientMaxWindowBits != 0 && (z.ClientMaxWindowBits < 9 || z.ClientMaxWindowBits > 15)},
		{"IdleRelease must not be negative", z.IdleRelease < 0},
		{"IdleRelease must be at most MaxTimeout", z.IdleRelease > MaxTimeout},
	} {
		if f.bad {
			return c, fmt.Errorf("engine: Config.Upgrade.Compression.%s", f.name)
		}
	}
	for _, f := range []struct {
		name string
		bad  bool
	}{
		{"EventLoops", c.EventLoops < 0},
		{"ReadBufferSize", c.ReadBufferSize < 0},
		{"MaxHandshakeBytes", c.MaxHandshakeBytes < 0},
		{"MaxRequestBody", c.MaxRequestBody < 0},
		{"MaxMessageSize", c.MaxMessageSize < 0},
		{"MaxUnreadBytes", c.MaxUnreadBytes < 0},
		{"MaxUnsentBytes", c.MaxUnsentBytes < 0},
		{"HandshakeTimeout", c.HandshakeTimeout < 0},
		{"WriteTimeout", c.WriteTimeout < 0},
		{"CloseTimeout", c.CloseTimeout < 0},
	} {
		if f.bad {
			return c, fmt.Errorf("engine: Config.%s must not be negative", f.name)
		}
	}
	if c.SlowSubscriber > SlowSkip {
		return c, fmt.Errorf("engine: Config.SlowSubscriber %d is not a SlowSubscriberPolicy", c.SlowSubscriber)
	}
	if c.MaxHandshakeBytes > math.MaxInt32 {
		// upgrade.Context keeps the head's length in 32 bits.
		return c, fmt.Errorf("engine: Config.MaxHandshakeBytes must be at most %d", math.MaxInt32)
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"HandshakeTimeout", c.HandshakeTimeout},
		{"IdleTimeout", c.IdleTimeout},
		{"CloseTimeout", c.CloseTimeout},
	} {
		if f.d > MaxTimeout {
			return c, fmt.Errorf("engine: Config.%s must be at most MaxTimeout (%v)", f.name, MaxTimeout)
		}
	}
	if min := int(c.MaxMessageSize) + 64<<10; c.MaxUnreadBytes < min {
		c.MaxUnreadBytes = min
	}
	return c, nil
}
