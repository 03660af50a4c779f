package conn

import "fmt"

// MessageType is the kind of a WebSocket message.
type MessageType uint8

// Message types. Close is only ever received: it reports the peer's close
// frame.
const (
	Text MessageType = iota + 1
	Binary
	Close
)

// String returns "text", "binary" or "close".
func (t MessageType) String() string {
	switch t {
	case Text:
		return "text"
	case Binary:
		return "binary"
	case Close:
		return "close"
	}
	return fmt.Sprintf("MessageType(%d)", uint8(t))
}

// Message is one whole message returned by [WebSocket.Receive].
//
// Data aliases a buffer owned by the WebSocket: it is valid until the next
// call to Receive, ReceiveContext, ReceiveFrame or ReceiveFrameContext.
// Copy it to keep it longer.
type Message struct {
	Type MessageType
	Data []byte
	// CloseStatus and CloseReason are set when Type is Close.
	CloseStatus StatusCode
	CloseReason string
}

// Text returns Data as a string (a copy).
func (m Message) Text() string { return string(m.Data) }

// ReceiveResult describes what [WebSocket.ReceiveFrame] copied into the
// caller's buffer.
type ReceiveResult struct {
	// Count is the number of bytes written to the buffer.
	Count int
	// Type is the type of the message the bytes belong to.
	Type MessageType
	// EndOfMessage reports whether these are the message's last bytes.
	EndOfMessage bool
	// CloseStatus and CloseStatusDescription are set when Type is Close.
	CloseStatus            StatusCode
	CloseStatusDescription string
}
