package upgrade

import (
	"errors"
	"net/http"
)

// StatusError is an HTTP-level rejection: the status to answer with, extra
// response headers, and why.
//
// The sentinel errors of this package are *StatusError values and are
// compared by pointer, so errors.Is(err, ErrBadKey) works on wrapped errors.
// Use errors.As to get at the Status and Header of any of them. The
// sentinels are shared by every caller: treat them, including their Header
// slices, as read-only.
type StatusError struct {
	// Status is the HTTP status code to answer with, e.g. 400, 405, 413,
	// 426, 431, 501 or 505.
	Status int
	// Reason is a short human-readable explanation. Error returns it
	// prefixed with "upgrade: "; it is also meant as the response body.
	Reason string
	// Header holds extra response header fields, e.g.
	// {"Sec-WebSocket-Version", "13"} for 426 or {"Allow", "GET"} for 405.
	Header []HeaderField
}

// Error returns "upgrade: " followed by e.Reason.
func (e *StatusError) Error() string {
	return "upgrade: " + e.Reason
}

// Why the engine refuses a request before any handler sees it: it answers
// with the error's status and closes the connection.
var (
	// ErrHeaderTooLarge reports a request head longer than the allowed
	// maximum (431).
	ErrHeaderTooLarge = &StatusError{Status: http.StatusRequestHeaderFieldsTooLarge, Reason: "request header too large"}
	// ErrMalformedRequest reports a request head that violates the HTTP/1.1
	// message syntax (400).
	ErrMalformedRequest = &StatusError{Status: http.StatusBadRequest, Reason: "malformed request"}
	// ErrUnsupportedProto reports an HTTP version other than HTTP/1.0 and
	// HTTP/1.1 (505).
	ErrUnsupportedProto = &StatusError{Status: http.StatusHTTPVersionNotSupported, Reason: "unsupported HTTP version"}
	// ErrMissingHost reports an HTTP/1.1 request without a Host header
	// field (400).
	ErrMissingHost = &StatusError{Status: http.StatusBadRequest, Reason: "missing Host header"}
	// ErrBadHost reports a Host header field that is repeated or whose value
	// is not a valid host[:port], or an absolute-form request-target with an
	// invalid authority (400).
	ErrBadHost = &StatusError{Status: http.StatusBadRequest, Reason: "invalid or repeated Host header"}
	// ErrBadContentLength reports a Content-Length that is not a plain
	// decimal number, overflows int64, or disagrees with another
	// Content-Length field (400).
	ErrBadContentLength = &StatusError{Status: http.StatusBadRequest, Reason: "invalid Content-Length"}
	// ErrTransferEncoding reports a request with a Transfer-Encoding header
	// field: bodies with a transfer coding are not supported (501).
	ErrTransferEncoding = &StatusError{Status: http.StatusNotImplemented, Reason: "Transfer-Encoding is not supported"}
	// ErrBodyTooLarge reports a request body larger than the caller allows
	// (413).
	ErrBodyTooLarge = &StatusError{Status: http.StatusRequestEntityTooLarge, Reason: "request body too large"}
)

// Why a WebSocket handshake is refused: Upgrader.Upgrade returns them (and
// answers the request with their status), and the engine answers them
// itself on routes served by an engine.EventHandler.
var (
	// ErrMethodNotGet reports a handshake whose method is not GET (405, with
	// "Allow: GET").
	ErrMethodNotGet = &StatusError{
		Status: http.StatusMethodNotAllowed,
		Reason: "websocket handshake requires GET",
		Header: []HeaderField{{Name: "Allow", Value: "GET"}},
	}
	// ErrNotHTTP11 reports a handshake sent as HTTP/1.0; RFC 6455 needs
	// HTTP/1.1 or later (400).
	ErrNotHTTP11 = &StatusError{Status: http.StatusBadRequest, Reason: "websocket handshake requires HTTP/1.1"}
	// ErrMissingUpgrade reports a handshake without "Upgrade: websocket"
	// (400).
	ErrMissingUpgrade = &StatusError{Status: http.StatusBadRequest, Reason: "missing Upgrade: websocket"}
	// ErrMissingConnectionUpgrade reports a handshake whose Connection
	// header field lacks the "Upgrade" token (400).
	ErrMissingConnectionUpgrade = &StatusError{Status: http.StatusBadRequest, Reason: "missing Connection: Upgrade"}
	// ErrMissingKey reports a handshake without Sec-WebSocket-Key (400).
	ErrMissingKey = &StatusError{Status: http.StatusBadRequest, Reason: "missing Sec-WebSocket-Key"}
	// ErrBadKey reports a Sec-WebSocket-Key that is not the base64 encoding
	// of 16 bytes, or that was sent more than once (400).
	ErrBadKey = &StatusError{Status: http.StatusBadRequest, Reason: "invalid Sec-WebSocket-Key"}
	// ErrBadVersion reports a missing or unsupported Sec-WebSocket-Version
	// (426, with "Sec-WebSocket-Version: 13" as RFC 6455 section 4.4
	// requires).
	ErrBadVersion = &StatusError{
		Status: http.StatusUpgradeRequired,
		Reason: "unsupported Sec-WebSocket-Version",
		Header: []HeaderField{{Name: "Sec-WebSocket-Version", Value: "13"}},
	}
	// ErrOriginRejected reports a handshake whose Origin the server does not
	// accept (403).
	ErrOriginRejected = &StatusError{Status: http.StatusForbidden, Reason: "origin not allowed"}
)

// ErrResponded is returned by Upgrade when the context already upgraded or
// already answered the handshake with an error.
var ErrResponded = errors.New("upgrade: request already answered")

// ErrServiceUnavailable is the answer to a handshake the server refuses
// because it is over its memory budget or shutting down (503).
var ErrServiceUnavailable = &StatusError{Status: http.StatusServiceUnavailable, Reason: "server busy, try again later", Header: []HeaderField{{Name: "Retry-After", Value: "1"}}}
