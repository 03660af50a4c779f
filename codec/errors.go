package codec

import "github.com/volley-ws/volley/conn"

// Protocol violations, each a *conn.CloseError carrying the close code the
// endpoint must send when it fails the connection: 1002 (protocol error)
// unless stated otherwise. Each is returned as is (never wrapped) by the
// function that detects it, so they compare with == or errors.Is; they are
// shared and must not be modified. conn.CloseStatus gives their code.
var (
	// ErrReservedOpcode reports a frame with an opcode that RFC 6455
	// reserves (0x3-0x7, 0xB-0xF).
	ErrReservedOpcode = violation(conn.StatusProtocolError, "reserved opcode")

	// ErrReservedBits reports a frame with an RSV bit set that no
	// negotiated extension defines.
	ErrReservedBits = violation(conn.StatusProtocolError, "reserved bits set")

	// ErrRsv1NotFirst reports RSV1, negotiated for a per-message extension
	// such as permessage-deflate, set on a control frame or a continuation
	// frame (RFC 7692 section 6.1).
	ErrRsv1NotFirst = violation(conn.StatusProtocolError, "RSV1 set on a control or continuation frame")

	// ErrUnmasked reports a client frame that is not masked (RFC 6455
	// section 5.1).
	ErrUnmasked = violation(conn.StatusProtocolError, "client frame not masked")

	// ErrMasked reports a server frame that is masked (RFC 6455 section
	// 5.1: a client must fail the connection).
	ErrMasked = violation(conn.StatusProtocolError, "server frame masked")

	// ErrControlFragmented reports a control frame without FIN set.
	ErrControlFragmented = violation(conn.StatusProtocolError, "fragmented control frame")

	// ErrControlTooLong reports a control frame with more than 125 bytes
	// of payload.
	ErrControlTooLong = violation(conn.StatusProtocolError, "control frame payload longer than 125 bytes")

	// ErrUnexpectedContinuation reports a continuation frame while no
	// fragmented message is in progress.
	ErrUnexpectedContinuation = violation(conn.StatusProtocolError, "continuation frame outside a fragmented message")

	// ErrExpectedContinuation reports a text or binary frame while a
	// fragmented message is in progress.
	ErrExpectedContinuation = violation(conn.StatusProtocolError, "new data frame inside a fragmented message")

	// ErrNonMinimalLength reports a payload length not encoded in the
	// minimal number of bytes (RFC 6455 section 5.2).
	ErrNonMinimalLength = violation(conn.StatusProtocolError, "payload length not minimally encoded")

	// ErrLengthOverflow reports a 64-bit payload length with the most
	// significant bit set (RFC 6455 section 5.2).
	ErrLengthOverflow = violation(conn.StatusProtocolError, "payload length has the most significant bit set")

	// ErrInvalidUTF8 reports a text message or a close reason that is not
	// valid UTF-8. Its close code is 1007 (invalid frame payload data).
	ErrInvalidUTF8 = violation(conn.StatusInvalidPayloadData, "invalid UTF-8")

	// ErrInvalidCloseCode reports a close frame with a status code that
	// may not appear on the wire (see ValidWireCloseCode).
	ErrInvalidCloseCode = violation(conn.StatusProtocolError, "invalid close code")

	// ErrClosePayloadLength reports a close frame payload of one byte, too
	// short for a status code.
	ErrClosePayloadLength = violation(conn.StatusProtocolError, "close payload of one byte")

	// ErrMessageTooBig reports a message larger than the limit the
	// endpoint configured. Its close code is 1009 (message too big). The
	// package never returns it itself, since RFC 6455 sets no limit; it is
	// provided for callers that enforce one (Inflater.Inflate does).
	ErrMessageTooBig = violation(conn.StatusMessageTooBig, "message too big")
)

func violation(code conn.StatusCode, reason string) *conn.CloseError {
	return &conn.CloseError{Code: code, Reason: reason}
}
