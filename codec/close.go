package codec

import (
	"encoding/binary"

	"github.com/volley-ws/volley/conn"
)

// maxCloseReason is the longest reason that fits in a control frame payload
// after the 2-byte status code.
const maxCloseReason = MaxControlPayload - 2

// ParseClosePayload validates the payload of a received close frame and
// splits it into status code and reason.
//
// An empty payload yields conn.StatusNoStatusReceived (1005), a nil reason and a
// nil error. Otherwise the errors are ErrClosePayloadLength for a one-byte
// payload, ErrControlTooLong for more than 125 bytes, ErrInvalidCloseCode
// for a code that ValidWireCloseCode rejects and ErrInvalidUTF8 for a
// reason that is not valid UTF-8; on error code is 0 and reason is nil.
//
// reason aliases p[2:]: it stays valid as long as p is not modified or
// reused.
func ParseClosePayload(p []byte) (code conn.StatusCode, reason []byte, err error) {
	switch {
	case len(p) == 0:
		return conn.StatusNoStatusReceived, nil, nil
	case len(p) == 1:
		return 0, nil, ErrClosePayloadLength
	case len(p) > MaxControlPayload:
		return 0, nil, ErrControlTooLong
	}
	code = conn.StatusCode(binary.BigEndian.Uint16(p))
	if !ValidWireCloseCode(code) {
		return 0, nil, ErrInvalidCloseCode
	}
	reason = p[2:]
	if !ValidUTF8(reason) {
		return 0, nil, ErrInvalidUTF8
	}
	return code, reason, nil
}

// ValidWireCloseCode reports whether code may be sent in a close frame,
// per RFC 6455 section 7.4 and the IANA WebSocket Close Code Number
// Registry: 1000-1003 and 1007-1014 (including 1012 Service Restart, 1013
// Try Again Later and 1014 Bad Gateway) are valid; 1004 (reserved), 1005
// and 1006 (local-only) and 1015 (TLS handshake, local-only) are not; the
// rest of 1000-2999 is reserved; 3000-4999 are for libraries, frameworks
// and applications; every other value is invalid.
func ValidWireCloseCode(code conn.StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// AppendClosePayload appends a close frame payload to dst and returns the
// extended slice: code as two big-endian bytes, then reason. A reason
// longer than 123 bytes is truncated to fit the 125-byte control frame
// limit, at a code point boundary when reason is valid UTF-8.
//
// For code conn.StatusNoStatusReceived (1005) nothing is appended: it means "no
// status code", and a reason cannot be sent without one. Other codes are
// written as given; callers should use codes for which ValidWireCloseCode
// holds, and a reason that is valid UTF-8.
//
// As with append, the result shares dst's backing array when it fits; it
// does not allocate when dst has 125 bytes of spare capacity.
func AppendClosePayload(dst []byte, code conn.StatusCode, reason string) []byte {
	if code == conn.StatusNoStatusReceived {
		return dst
	}
	if len(reason) > maxCloseReason {
		cut := maxCloseReason
		// Back up over at most three continuation bytes (10xxxxxx) to the
		// start of the code point that does not fit.
		for k := 0; k < 3 && reason[cut]&0xc0 == 0x80; k++ {
			cut--
		}
		reason = reason[:cut]
	}
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}
