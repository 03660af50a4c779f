package codec

import "github.com/gobwas/ws"

// rsv1 is RSV1 in the gobwas representation of ws.Header.Rsv.
const rsv1 = 0x4

// CheckHeader validates a frame header received by a server.
//
// allowedRsv is the set of RSV bits that negotiated extensions define, in
// the gobwas representation (RSV1 = 0x4, RSV2 = 0x2, RSV3 = 0x1): 0 when no
// extension is in use, 0x4 with permessage-deflate. RSV1 marks a compressed
// message, so even when allowed it is only accepted on the first frame of a
// data message, never on a continuation frame or a control frame. Other
// allowed bits are accepted on any frame.
//
// fragmented reports whether a fragmented data message is in progress: a
// data frame must then be a continuation frame, and otherwise it must not
// be. Control frames may arrive either way.
//
// The rules are checked in this order, and the first violation is
// returned: ErrReservedOpcode, ErrReservedBits, ErrRsv1NotFirst,
// ErrUnmasked, ErrControlFragmented, ErrControlTooLong,
// ErrUnexpectedContinuation, ErrExpectedContinuation, and ErrLengthOverflow
// for a negative h.Length (which ParseHeader never produces).
func CheckHeader(h ws.Header, allowedRsv byte, fragmented bool) error {
	return check(h.OpCode, h.Rsv, h.Fin, h.Masked, h.Length, allowedRsv, fragmented)
}

// check is CheckHeader on the header's fields.
func check(op ws.OpCode, rsv byte, fin, masked bool, length int64, allowedRsv byte, fragmented bool) error {
	if op.IsReserved() || op > 0xf {
		return ErrReservedOpcode
	}
	if rsv&^allowedRsv != 0 {
		return ErrReservedBits
	}
	if rsv&rsv1 != 0 && (op.IsControl() || op == ws.OpContinuation) {
		return ErrRsv1NotFirst
	}
	if !masked {
		return ErrUnmasked
	}
	if op.IsControl() {
		if !fin {
			return ErrControlFragmented
		}
		if length > ws.MaxControlFramePayloadSize {
			return ErrControlTooLong
		}
	} else {
		if op == ws.OpContinuation && !fragmented {
			return ErrUnexpectedContinuation
		}
		if op != ws.OpContinuation && fragmented {
			return ErrExpectedContinuation
		}
	}
	if length < 0 {
		return ErrLengthOverflow
	}
	return nil
}
