package conn

import (
	"context"
	"net"
)

// WebSocket is an open WebSocket connection with a blocking API. The
// engine package implements it; upgrade.Upgrader.Upgrade returns one.
//
// Concurrency: the send methods, Close, SendClose, Abort, State, Unsent,
// CloseStatus, CloseStatusDescription, Done, Subprotocol, RemoteAddr and
// the topic methods are safe from any goroutine; frames of concurrent sends never
// interleave. The receive methods belong to one goroutine at a time.
//
// Buffers: data passed to a send method is copied before it returns. Data
// returned by a receive method is valid until the next receive call.
//
// Order: messages arrive in the order the peer sent them, and a failure
// (a protocol violation, a message over the size limit, invalid UTF-8)
// is reported only after every message the peer sent before it. The
// server's close frame for that failure leaves after everything this side
// sent before the receive call that reported it.
type WebSocket interface {
	// Send sends data as one whole message of type t (Text or Binary).
	// Text data must be valid UTF-8. It waits while the bytes queued for
	// the peer are over the engine's MaxUnsentBytes, at most the engine's
	// WriteTimeout: then it aborts the connection and returns
	// ErrWriteTimeout. It returns ErrMessageInProgress while a SendFrame
	// message is unfinished, and ErrClosed once this side has sent its
	// close frame or the connection ended. With permessage-deflate, a
	// message of at least the configured MinSize is compressed before
	// Send returns.
	Send(t MessageType, data []byte) error
	// SendText sends s as one Text message. See Send.
	SendText(s string) error
	// SendBinary sends data as one Binary message. See Send.
	SendBinary(data []byte) error
	// TrySend is Send that never waits for the peer: when the bytes queued
	// for it are over MaxUnsentBytes it queues nothing and returns
	// ErrSendQueueFull, so a goroutine that writes to many WebSockets (a
	// broadcaster) is never held up by a slow one.
	TrySend(t MessageType, data []byte) error
	// SendFrame sends data as one frame of a message of type t. The first
	// call starts a message; endOfMessage finishes it. Every fragment must
	// have the message's type, and Text fragments taken together must be
	// valid UTF-8 (a fragment may end inside a character). Until the
	// message ends, Send returns ErrMessageInProgress: send a fragmented
	// message from one goroutine. It waits for room as Send does. With
	// permessage-deflate, the fragments of a message are compressed as one
	// stream (RSV1 on the first frame only).
	SendFrame(data []byte, t MessageType, endOfMessage bool) error
	// Unsent returns the bytes queued for the peer and not yet written to
	// its socket.
	Unsent() int

	// Receive returns the next whole message: fragments are joined and
	// compressed messages inflated by the engine before they get here. It
	// waits until a message arrives or the connection ends. Queued
	// messages are returned even after the connection ended. The peer's
	// close arrives as a Message of type Close (answer it with SendClose;
	// after the close timeout the engine answers it itself), and later
	// calls return ErrClosed. A connection the server failed ends, after
	// the messages that preceded the violation, with a *CloseError carrying
	// the code the server sent; one whose TCP connection ended without a
	// closing handshake ends with a *CloseError of StatusAbnormalClosure.
	// It returns ErrMessageInProgress while a message is half read with
	// ReceiveFrame.
	Receive() (Message, error)
	// ReceiveContext is Receive that also returns when ctx is done: then it
	// returns ctx's error and consumes nothing, so the connection stays
	// usable and the next call returns the next message.
	ReceiveContext(ctx context.Context) (Message, error)
	// ReceiveFrame copies the next received bytes into buf and describes
	// them: a message larger than buf is returned over several calls, and
	// EndOfMessage is set on the call that returns its last bytes. (The
	// engine joins fragments, so the pieces follow len(buf), not the
	// sender's frame boundaries.) The peer's close is returned with Type
	// Close and Count 0. Errors are those of Receive.
	ReceiveFrame(buf []byte) (ReceiveResult, error)
	// ReceiveFrameContext is ReceiveFrame that also returns when ctx is
	// done, with ctx's error, consuming nothing.
	ReceiveFrameContext(ctx context.Context, buf []byte) (ReceiveResult, error)

	// Close starts the closing handshake: it sends a close frame with code
	// and reason (at most 123 bytes of UTF-8; StatusNoStatusReceived sends
	// a close frame without a code) and waits for the peer's close frame,
	// at most the engine's CloseTimeout. Received messages still queued
	// stay readable. In StateCloseReceived it answers the peer like
	// SendClose and returns. It returns ErrCloseTimeout (and aborts) when
	// the peer does not answer in time, and ErrClosed when a close frame
	// was already sent.
	Close(code StatusCode, reason string) error
	// SendClose sends a close frame without waiting for the peer. It is
	// how a received close (StateCloseReceived) is answered: the state
	// becomes StateClosed and the engine ends the TCP connection once the
	// frame is written. In StateOpen it sends the first close frame
	// (StateCloseSent) and returns at once; the engine aborts the
	// connection if the peer does not answer within CloseTimeout.
	SendClose(code StatusCode, reason string) error
	// Abort ends the connection at once without a closing handshake.
	// Unsent data is dropped; queued received messages can still be read.
	// The state becomes StateAborted unless it was already final.
	Abort()

	// State returns the current state.
	State() State
	// CloseStatus returns the status code of the close frame the peer
	// sent, once it has arrived, or 0.
	CloseStatus() StatusCode
	// CloseStatusDescription returns the reason of the peer's close frame,
	// once it has arrived.
	CloseStatusDescription() string
	// Done returns a channel that is closed when the WebSocket is closed:
	// the state became StateClosed or StateAborted.
	Done() <-chan struct{}
	// Subprotocol returns the negotiated subprotocol, or "".
	Subprotocol() string
	// RemoteAddr returns the peer's address.
	RemoteAddr() net.Addr

	// Subscribe adds the connection to topic's subscribers: every message
	// published to topic (engine.Server.Publish, or another connection's
	// Publish, on this node or, with a broker, on any node) is sent to it,
	// in each publisher's order and after whatever was sent to it before
	// the publish. Subscribing twice is one subscription. It returns an
	// error wrapping ErrInvalidTopic for a bad name, ErrClosed once the
	// connection is closing. Subscriptions end with the connection.
	Subscribe(topic string) error
	// Unsubscribe removes the connection from topic's subscribers; it is
	// not an error when it was not one.
	Unsubscribe(topic string) error
	// Publish sends data as one message of type t to every subscriber of
	// topic except this connection. It never waits for the peers, copies
	// data before it returns, and fails only for a bad topic, type or
	// UTF-8 text, or when a broker refuses the message.
	Publish(topic string, t MessageType, data []byte) error
	// Topics returns the topics the connection is subscribed to.
	Topics() []string
}
