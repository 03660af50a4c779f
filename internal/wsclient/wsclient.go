// Package wsclient is a small message-level WebSocket client (RFC 6455),
// with optional permessage-deflate (RFC 7692), for the project's tests and
// runnable examples.
//
// It is written with the standard library only and shares no code with the
// server's packages, so a bug in the server cannot hide behind the same bug
// in the client. It is strict about what the server sends: the opening
// handshake is checked (status, Upgrade, Connection, Sec-WebSocket-Accept,
// the subprotocol and the extensions against what was offered), and every
// frame is validated (unmasked, known opcodes, RSV bits, minimal length
// encoding, control frame rules, fragment sequence, UTF-8 of text messages
// and close reasons, close codes). A violation fails the connection: the
// client sends a close frame with the matching code (1002, 1007 or 1009),
// waits up to Options.Timeout for the server to end the TCP connection
// (discarding what it sends meanwhile), closes it, and reports an error
// wrapping ErrProtocol or ErrMessageTooBig.
//
// Usage:
//
//	c, resp, err := wsclient.Dial(ctx, "ws://"+addr+"/echo", &wsclient.Options{
//		Header:      http.Header{"Origin": {"http://example.com"}},
//		Compression: true,
//	})
//	if err != nil {
//		return err // resp holds the status, header and body of a refusal
//	}
//	defer c.CloseNow()
//	if err := c.Send(wsclient.Text, []byte("hello")); err != nil {
//		return err
//	}
//	typ, msg, err := c.Receive(ctx) // pings are answered meanwhile
//	...
//	return c.Close(1000, "") // send close, await the server's, then the TCP end
//
// Concurrency: the sending methods (Send, SendFrame, SendPing, SendPong,
// SendClose) may be called from any goroutine, concurrently with each other
// and with Receive; each frame is written whole under a lock. Receive
// belongs to one goroutine at a time (concurrent calls are serialised).
// Close may be called from any goroutine, also while another goroutine is
// blocked in Receive. CloseNow, Subprotocol, Compression and NetConn may be
// called at any time.
//
// A Conn starts no goroutine. Blocking calls are bounded: Dial by its
// context and Options.Timeout, Receive by its context (a cancellation sets
// a past read deadline, from the short-lived function context.AfterFunc
// runs), each frame write and Close's waiting by Options.Timeout.
//
// Buffers: a slice returned by Receive is newly allocated and belongs to
// the caller for good. Payloads passed to the sending methods are neither
// modified nor kept after the call returns. The payload given to
// Options.OnPing and Options.OnPong is valid only during that call.
package wsclient

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// MessageType is the type of a data message: Text or Binary. The values are
// the frame opcodes of RFC 6455 section 5.2.
type MessageType int

// Message types.
const (
	Text   MessageType = 1
	Binary MessageType = 2
)

// String returns "text", "binary" or "MessageType(n)".
func (t MessageType) String() string {
	switch t {
	case Text:
		return "text"
	case Binary:
		return "binary"
	}
	return fmt.Sprintf("MessageType(%d)", int(t))
}

// NoStatus as a close code stands for a close frame with an empty payload:
// it is the value RFC 6455 section 7.4.1 reserves for "no status code
// present" (1005), which never appears on the wire. A *CloseError carries
// it when the server's close frame had no payload, and SendClose and Close
// send an empty close payload when given it.
const NoStatus = 1005

// Defaults of Options.
const (
	DefaultMaxMessage = 16 << 20
	DefaultTimeout    = 5 * time.Second
)

// Options configure Dial. A nil *Options is the zero value: no extra header
// fields, no subprotocol, no compression, the default limits.
type Options struct {
	// Header holds extra fields for the handshake request (Origin,
	// Authorization, Cookie, ...). A Host field replaces the one taken
	// from the URL. The fields the handshake itself sets (Upgrade,
	// Connection and the Sec-WebSocket-* fields) are refused by Dial: use
	// Subprotocols and Compression.
	Header http.Header
	// Subprotocols are offered in Sec-WebSocket-Protocol, in this order.
	// The server must pick one of them or none.
	Subprotocols []string
	// Compression offers permessage-deflate as
	// "permessage-deflate; client_no_context_takeover; server_no_context_takeover":
	// both sides compress each message on its own, so a connection holds
	// no LZ77 window between messages. The server may decline; then
	// messages travel as they are (see Conn.Compression).
	Compression bool
	// ServerContextTakeover, with Compression, leaves
	// server_no_context_takeover out of the offer, so that the server may
	// keep its window from one message to the next: the client then
	// inflates each compressed message with the text of the previous
	// compressed messages (their last 32 KiB) as dictionary. The client
	// still compresses each message on its own.
	ServerContextTakeover bool
	// MaxMessage bounds a received message, after decompression and also
	// before it (the compressed bytes of a message): a larger one fails the
	// connection with close code 1009 and an error wrapping
	// ErrMessageTooBig. 0 (or less) means DefaultMaxMessage, 16 MiB.
	MaxMessage int64
	// Timeout bounds the opening handshake (together with Dial's context),
	// each frame write, and Close's wait for the server's close frame and
	// for the end of the TCP connection. 0 (or less) means DefaultTimeout,
	// 5 seconds.
	Timeout time.Duration
	// OnPing, when set, is called with the payload of each ping the server
	// sends, before the client answers it with a pong. It runs on the
	// goroutine reading frames (in Receive or Close); the payload is valid
	// only during the call.
	OnPing func(payload []byte)
	// OnPong, when set, is called with the payload of each pong the server
	// sends (otherwise pongs are ignored). It runs on the goroutine reading
	// frames (in Receive or Close); the payload is valid only during the
	// call.
	OnPong func(payload []byte)
}

// Response is the server's answer to the opening handshake. Dial returns it
// whenever an HTTP response was read, also with an error: a refusal (any
// status but 101) or an invalid 101.
type Response struct {
	// StatusCode is the HTTP status code: 101 when the server switched
	// protocols, or a refusal such as 401, 403, 429 or 503.
	StatusCode int
	// Header holds the response's header fields.
	Header http.Header
	// Body is the body of a refusal, up to its first MaxResponseBody
	// bytes; nil for a 101. It belongs to the caller.
	Body []byte
}

// MaxResponseBody is how much of a refusal's body Dial reads into
// Response.Body.
const MaxResponseBody = 64 << 10

// CloseError is returned by Receive when the server's close frame arrives
// (after the client answered it), and reports that frame: Code is NoStatus
// when its payload was empty. Code is always a valid close code and Reason
// valid UTF-8; a close frame breaking these rules is a protocol error
// instead.
type CloseError struct {
	Code   int
	Reason string
}

// Error describes the close frame.
func (e *CloseError) Error() string {
	if e.Code == NoStatus {
		return "wsclient: the server closed the connection (no status code)"
	}
	return fmt.Sprintf("wsclient: the server closed the connection: %d %q", e.Code, e.Reason)
}

// Errors, to be checked with errors.Is: the errors returned wrap them with
// details.
var (
	// ErrRefused: the server answered the opening handshake with a status
	// other than 101 (Response says which).
	ErrRefused = errors.New("wsclient: the server refused the upgrade")
	// ErrHandshake: the opening handshake failed otherwise: an invalid 101
	// response (Sec-WebSocket-Accept, Upgrade, Connection, a subprotocol or
	// extension that was not offered, bad extension parameters) or a
	// malformed HTTP response.
	ErrHandshake = errors.New("wsclient: bad handshake")
	// ErrProtocol: the server broke RFC 6455 or RFC 7692 after the
	// handshake; the client failed the connection (close code 1002, or 1007
	// for invalid UTF-8 or compressed data).
	ErrProtocol = errors.New("wsclient: protocol error")
	// ErrMessageTooBig: a received message exceeded Options.MaxMessage;
	// the client failed the connection with close code 1009.
	ErrMessageTooBig = errors.New("wsclient: message too big")
	// ErrCloseSent: a data or control frame was to be sent after the
	// client's close frame.
	ErrCloseSent = errors.New("wsclient: close frame already sent")
	// ErrClosed: the TCP connection was closed by this side (Close,
	// CloseNow, or a failed connection).
	ErrClosed = errors.New("wsclient: connection closed")
)
