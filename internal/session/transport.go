package conn

import (
	"time"

	"github.com/valyala/bytebufferpool"
)

// Transport is the engine's side of a WebSocket: it frames and queues what
// the WebSocket sends. It is implemented by the engine package; application
// code does not use it.
//
// Every method is safe for concurrent use.
type Transport interface {
	// WriteData queues one data frame: opcode t when first, otherwise a
	// continuation, with FIN set when fin. It blocks while the connection's
	// unsent bytes are over the engine's limit and returns ErrWriteTimeout
	// (after aborting the connection) when that lasts longer than the write
	// timeout. payload is copied before WriteData returns. Once a close frame
	// has been queued WriteData returns ErrClosed and queues nothing.
	//
	// With flush, what is queued is written at once; without it (the
	// receiver still has received messages to answer) it waits for the next
	// Flush, or for a short delay that the engine bounds.
	WriteData(t MessageType, first, fin bool, payload []byte, flush bool) error
	// Flush writes everything queued. The WebSocket calls it when its
	// receiver has processed every received message, so the replies to a
	// batch of messages leave in one write.
	Flush()
	// WriteClose queues a close frame carrying code and reason (code
	// StatusNoStatusReceived sends an empty payload). It never blocks on the
	// unsent-bytes limit. When thenClose is true the TCP connection is closed
	// as soon as everything queued has been written.
	WriteClose(code StatusCode, reason string, thenClose bool) error
	// Abort closes the TCP connection at once, dropping unsent bytes.
	Abort()
	// Config returns the WebSocket's settings. The engine shares one
	// Config between its WebSockets, and it must not change while they
	// live, so that a WebSocket does not carry a copy.
	Config() *Config
}

// Config holds a WebSocket's own bounds and buffers, set by the engine.
type Config struct {
	// MaxUnread is the most bytes of received, unread messages the
	// WebSocket queues. Zero means no limit.
	MaxUnread int
	// CloseTimeout bounds how long Close waits for the peer's close frame.
	CloseTimeout time.Duration
	// Pool supplies the inbox and reassembly buffers.
	Pool *bytebufferpool.Pool
}
