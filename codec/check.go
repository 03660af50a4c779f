package codec

// Sender says which side of a connection sent a frame being checked: a
// client's frames must be masked, a server's must not (RFC 6455 section
// 5.1). The zero value is FromClient, what a server checks.
type Sender uint8

const (
	FromClient Sender = iota // a frame a server received
	FromServer               // a frame a client received
)

// CheckHeader validates the header of a received frame.
//
// from says who sent it: FromClient for a server checking its clients'
// frames (they must be masked), FromServer for a client (they must not).
//
// allowedRsv is the set of RSV bits that negotiated extensions define, as
// in Header.Rsv: 0 when no extension is in use, Rsv1 with
// permessage-deflate. RSV1 marks a compressed message, so even when allowed
// it is only accepted on the first frame of a data message, never on a
// continuation frame or a control frame. Other allowed bits are accepted on
// any frame.
//
// fragmented reports whether a fragmented data message is in progress: a
// data frame must then be a continuation frame, and otherwise it must not
// be. Control frames may arrive either way.
//
// The rules are checked in this order, and the first violation is
// returned: ErrReservedOpcode, ErrReservedBits, ErrRsv1NotFirst,
// ErrUnmasked (or ErrMasked), ErrControlFragmented, ErrControlTooLong,
// ErrUnexpectedContinuation, ErrExpectedContinuation, and ErrLengthOverflow
// for a negative h.Length (which ParseHeader never produces).
func CheckHeader(h Header, from Sender, allowedRsv byte, fragmented bool) error {
	return check(h.OpCode, h.Rsv, h.Fin, h.Masked, h.Length, from, allowedRsv, fragmented)
}

// check is CheckHeader on the header's fields.
func check(op OpCode, rsv byte, fin, masked bool, length int64, from Sender, allowedRsv byte, fragmented bool) error {
	if op.IsReserved() {
		return ErrReservedOpcode
	}
	if rsv&^allowedRsv != 0 {
		return ErrReservedBits
	}
	if rsv&Rsv1 != 0 && (op.IsControl() || op == OpContinuation) {
		return ErrRsv1NotFirst
	}
	if masked != (from == FromClient) {
		if masked {
			return ErrMasked
		}
		return ErrUnmasked
	}
	if op.IsControl() {
		if !fin {
			return ErrControlFragmented
		}
		if length > MaxControlPayload {
			return ErrControlTooLong
		}
	} else {
		if op == OpContinuation && !fragmented {
			return ErrUnexpectedContinuation
		}
		if op != OpContinuation && fragmented {
			return ErrExpectedContinuation
		}
	}
	if length < 0 {
		return ErrLengthOverflow
	}
	return nil
}
