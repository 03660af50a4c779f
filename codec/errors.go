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
	ErrReservedOpcode = &conn.CloseError{Code: conn.StatusProtocolError, Reason: "reserved opcode"}

	// ErrReservedBits reports a frame with an RSV bit set that no
	// negotiated extension defines.
	ErrReservedBits = &conn.CloseError{Code: conn.StatusProtocolError, Reason: "reserved bits set"}

	// ErrRsv1NotFirst reports RSV1, negotiated for a per-message extension
	// such as permessage-deflate, set on a control frame or a continuation
	// frame (RFC 7692 section 6.1).
	ErrRsv1NotFirst = &conn.CloseError{Code: conn.StatusProtocolError, Reason: "RSV1 set on a control or continuation frame"}

	// ErrUnmasked reports a client frame that is not masked (RFC 6455
	// section 5.1).
	ErrUnmasked = &conn.CloseError{Code: conn.StatusProtocolError, Reason: "client frame not masked"}

	// ErrMasked reports a server frame that is masked (RFC 6455 section
	// 5.1: a client must fail the connection).
	ErrMasked = &conn.CloseError{Code: conn.StatusProtocolError, Reason: "server frame masked"}

	// ErrControlFragmented reports a control frame without FIN set.
	ErrControlFragmented = &conn.CloseError{Code: conn.StatusProtocolError, Reason: "fragmented control frame"}

	// ErrControlTooLong reports a control frame with more than 125 bytes
	// of payload.
	ErrControlTooLong = &conn.CloseError{Code: conn.StatusProtocolError, Reason: "control frame payload longer than 125 bytes"}

	// ErrUnexpectedContinuation reports a continuation frame while no
	// fragmented message is in progress.
	ErrUnexpectedContinuation = &conn.CloseError{Code: conn.StatusProtocolError, Reason: "continuation frame outside a fragmented message"}

	// ErrExpectedContinuation reports a text or binary frame while a
	// fragmented message is in progress.
	ErrExpectedContinuation = &conn.CloseError{Code: conn.StatusProtocolError, Reason: "new data frame inside a fragmented message"}

	// ErrNonMinimalLength reports a payload length not encoded in the
	// minimal number of bytes (RFC 6455 section 5.2).
	ErrNonMinimalLength = &conn.CloseError{Code: conn.StatusProtocolError, Reason: "payload length not minimally encoded"}

	// ErrLengthOverflow reports a 64-bit payload length with the most
	// significant bit set (RFC 6455 section 5.2).
	ErrLengthOverflow = &conn.CloseError{Code: conn.StatusProtocolError, Reason: "payload length has the most significant bit set"}

	// ErrInvalidUTF8 reports a text message or a close reason that is not
	// valid UTF-8. Its close code is 1007 (invalid frame payload data).
	ErrInvalidUTF8 = &conn.CloseError{Code: conn.StatusInvalidPayloadData, Reason: "invalid UTF-8"}

	// ErrInvalidCloseCode reports a close frame with a status code that
	// may not appear on the wire (see ValidWireCloseCode).
	ErrInvalidCloseCode = &conn.CloseError{Code: conn.StatusProtocolError, Reason: "invalid close code"}

	// ErrClosePayloadLength reports a close frame payload of one byte, too
	// short for a status code.
	ErrClosePayloadLength = &conn.CloseError{Code: conn.StatusProtocolError, Reason: "close payload of one byte"}

	// ErrMessageTooBig reports a message larger than the limit the
	// endpoint configured. Its close code is 1009 (message too big). The
	// package never returns it itself, since RFC 6455 sets no limit; it is
	// provided for callers that enforce one (Inflater.Inflate does).
	ErrMessageTooBig = &conn.CloseError{Code: conn.StatusMessageTooBig, Reason: "message too big"}
)
