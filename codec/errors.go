package codec

import "github.com/gobwas/ws"

// Error is a protocol violation detected in data received from the peer,
// with the close code the endpoint must send when it fails the connection.
//
// The package returns only the Err* values declared below; they are shared
// and must not be modified.
type Error struct {
	// Code is the status code to put in the close frame sent in response.
	Code ws.StatusCode
	// Reason describes the violation, without the "codec: " prefix.
	Reason string
}

// Error returns "codec: " followed by e.Reason.
func (e *Error) Error() string {
	return "codec: " + e.Reason
}

// Protocol violations. Each is returned as is (never wrapped) by the function
// that detects it. All carry close code 1002 (protocol error) unless stated
// otherwise.
var (
	// ErrReservedOpcode reports a frame with an opcode that RFC 6455
	// reserves (0x3-0x7, 0xB-0xF).
	ErrReservedOpcode = &Error{Code: ws.StatusProtocolError, Reason: "reserved opcode"}

	// ErrReservedBits reports a frame with an RSV bit set that no
	// negotiated extension defines.
	ErrReservedBits = &Error{Code: ws.StatusProtocolError, Reason: "reserved bits set"}

	// ErrRsv1NotFirst reports RSV1, negotiated for a per-message extension
	// such as permessage-deflate, set on a control frame or a continuation
	// frame (RFC 7692 section 6.1).
	ErrRsv1NotFirst = &Error{Code: ws.StatusProtocolError, Reason: "RSV1 set on a control or continuation frame"}

	// ErrUnmasked reports a client frame that is not masked (RFC 6455
	// section 5.1).
	ErrUnmasked = &Error{Code: ws.StatusProtocolError, Reason: "client frame not masked"}

	// ErrControlFragmented reports a control frame without FIN set.
	ErrControlFragmented = &Error{Code: ws.StatusProtocolError, Reason: "fragmented control frame"}

	// ErrControlTooLong reports a control frame with more than 125 bytes
	// of payload.
	ErrControlTooLong = &Error{Code: ws.StatusProtocolError, Reason: "control frame payload longer than 125 bytes"}

	// ErrUnexpectedContinuation reports a continuation frame while no
	// fragmented message is in progress.
	ErrUnexpectedContinuation = &Error{Code: ws.StatusProtocolError, Reason: "continuation frame outside a fragmented message"}

	// ErrExpectedContinuation reports a text or binary frame while a
	// fragmented message is in progress.
	ErrExpectedContinuation = &Error{Code: ws.StatusProtocolError, Reason: "new data frame inside a fragmented message"}

	// ErrNonMinimalLength reports a payload length not encoded in the
	// minimal number of bytes (RFC 6455 section 5.2).
	ErrNonMinimalLength = &Error{Code: ws.StatusProtocolError, Reason: "payload length not minimally encoded"}

	// ErrLengthOverflow reports a 64-bit payload length with the most
	// significant bit set (RFC 6455 section 5.2).
	ErrLengthOverflow = &Error{Code: ws.StatusProtocolError, Reason: "payload length has the most significant bit set"}

	// ErrInvalidUTF8 reports a text message or a close reason that is not
	// valid UTF-8. Its close code is 1007 (invalid frame payload data).
	ErrInvalidUTF8 = &Error{Code: ws.StatusInvalidFramePayloadData, Reason: "invalid UTF-8"}

	// ErrInvalidCloseCode reports a close frame with a status code that
	// may not appear on the wire (see ValidWireCloseCode).
	ErrInvalidCloseCode = &Error{Code: ws.StatusProtocolError, Reason: "invalid close code"}

	// ErrClosePayloadLength reports a close frame payload of one byte, too
	// short for a status code.
	ErrClosePayloadLength = &Error{Code: ws.StatusProtocolError, Reason: "close payload of one byte"}

	// ErrMessageTooBig reports a message larger than the limit the
	// endpoint configured. Its close code is 1009 (message too big). The
	// package never returns it itself, since RFC 6455 sets no limit; it is
	// provided for callers that enforce one.
	ErrMessageTooBig = &Error{Code: ws.StatusMessageTooBig, Reason: "message too big"}
)
