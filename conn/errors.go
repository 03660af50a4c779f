package conn

import (
	"errors"
	"fmt"
)

// Errors returned by WebSocket and engine.Conn methods. They are inspected
// with errors.Is.
var (
	// ErrClosed: the operation is not allowed in the current state: a send
	// after this side's close frame, a receive after the stream ended,
	// anything after the connection ended.
	ErrClosed = errors.New("conn: websocket closed")
	// ErrSendQueueFull: the bytes queued for the peer and not yet written
	// are over the engine's MaxUnsentBytes, so a send that must not wait
	// (TrySend, or the event API's Send) queued nothing: the peer is not
	// reading fast enough.
	ErrSendQueueFull = errors.New("conn: send queue full")
	// ErrMessageInProgress: Send while a SendFrame message is unfinished, or
	// Receive while a ReceiveFrame message is half read.
	ErrMessageInProgress = errors.New("conn: fragmented message in progress")
	// ErrInvalidMessageType: a message type that cannot be sent (Close, or a
	// SendFrame fragment whose type differs from the message's first one).
	ErrInvalidMessageType = errors.New("conn: invalid message type")
	// ErrInvalidUTF8: a Text message whose data is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("conn: text is not valid UTF-8")
	// ErrInvalidStatusCode: a close status that may not be sent on the wire.
	ErrInvalidStatusCode = errors.New("conn: status code may not be sent")
	// ErrInvalidCloseReason: a close reason longer than 123 bytes or not
	// UTF-8.
	ErrInvalidCloseReason = errors.New("conn: close reason too long or not UTF-8")
	// ErrWriteTimeout: the peer did not read for longer than the write
	// timeout while the unsent-bytes limit was reached. The connection is
	// aborted.
	ErrWriteTimeout = errors.New("conn: write timeout: peer is not reading")
	// ErrCloseTimeout: Close did not see the peer's close frame within the
	// close timeout. The connection is aborted.
	ErrCloseTimeout = errors.New("conn: close handshake timed out")
	// ErrInvalidTopic: a topic name that cannot be used: topics are 1 to
	// 1024 bytes of valid UTF-8 without NUL. Errors wrap it with the reason.
	ErrInvalidTopic = errors.New("conn: invalid topic name")
	// ErrAborted: the connection was aborted (Abort, or the TCP connection
	// ended without a close handshake while an operation waited).
	ErrAborted = errors.New("conn: websocket aborted")
)

// CloseError is a close status code with its reason. It is how volley says
// that a connection ended with a close frame this side did not ask for: the
// server failed the connection (a protocol violation by the peer: 1002,
// 1007, 1009, ...), or the TCP connection ended without a closing handshake
// (StatusAbnormalClosure, which never travels on the wire). The codec
// package's protocol violations are CloseError values too, carrying the
// code the endpoint must send. Use errors.As or CloseStatus to inspect it.
type CloseError struct {
	Code   StatusCode
	Reason string
}

// Error returns "conn: close 1002 (ProtocolError): reserved opcode".
func (e *CloseError) Error() string {
	if e.Reason == "" {
		return fmt.Sprintf("conn: close %d (%s)", uint16(e.Code), e.Code)
	}
	return fmt.Sprintf("conn: close %d (%s): %s", uint16(e.Code), e.Code, e.Reason)
}

// CloseStatus returns the code of the *CloseError in err's chain, or 0.
func CloseStatus(err error) StatusCode {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}
