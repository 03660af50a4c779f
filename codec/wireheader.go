package codec

import "encoding/binary"

// WireHeader is a frame header kept as the wire has it: the first two
// bytes, the payload length and the masking key. ParseWireHeader and
// WireHeader.Check are ParseHeader and CheckHeader for hot paths: a
// WireHeader is four scalar fields, which the compiler keeps in registers,
// whereas a Header (with its [4]byte key) is copied through memory on
// every return and call. WireHeader.Header converts one to the other.
//
// The zero value is a zero header: a continuation frame, not final,
// unmasked, with an empty payload.
type WireHeader struct {
	// Length is the payload length, never negative for a parsed header.
	Length int64
	key    uint32 // the masking key's four wire bytes, little-endian
	b0, b1 byte   // the first two header bytes
}

// ParseWireHeader is ParseHeader returning a WireHeader: the same
// need-more (n == 0, err == nil) and error results, and on error a zero
// WireHeader and n == 0. Like ParseHeader it does not validate the header
// beyond its length encoding (see WireHeader.Check) and does not retain b.
func ParseWireHeader(b []byte) (h WireHeader, n int, err error) {
	if len(b) < 2 {
		return WireHeader{}, 0, nil
	}
	b0, b1 := b[0], b[1]
	len7 := b1 & len7Mask
	n = 2
	switch len7 {
	case len16Code:
		n += 2
	case len64Code:
		n += 8
	}
	masked := b1&maskBit != 0
	if masked {
		n += 4
	}
	if len(b) < n {
		return WireHeader{}, 0, nil
	}

	var length int64
	switch len7 {
	case len16Code:
		l := binary.BigEndian.Uint16(b[2:4])
		if l < len16Code {
			return WireHeader{}, 0, ErrNonMinimalLength
		}
		length = int64(l)
	case len64Code:
		l := binary.BigEndian.Uint64(b[2:10])
		if l>>63 != 0 {
			return WireHeader{}, 0, ErrLengthOverflow
		}
		if l <= 0xffff {
			return WireHeader{}, 0, ErrNonMinimalLength
		}
		length = int64(l)
	default:
		length = int64(len7)
	}
	var key uint32
	if masked {
		key = binary.LittleEndian.Uint32(b[n-4 : n])
	}
	return WireHeader{Length: length, key: key, b0: b0, b1: b1}, n, nil
}

// Fin reports whether the frame is the last of its message.
func (h WireHeader) Fin() bool { return h.b0&finBit != 0 }

// Rsv returns the RSV bits as Header.Rsv holds them (Rsv1 = 0x4,
// Rsv2 = 0x2, Rsv3 = 0x1).
func (h WireHeader) Rsv() byte { return h.b0 >> rsvShift & 0x7 }

// OpCode returns the frame's opcode.
func (h WireHeader) OpCode() OpCode { return OpCode(h.b0 & opMask) }

// Masked reports whether the frame carries a masking key.
func (h WireHeader) Masked() bool { return h.b1&maskBit != 0 }

// Key returns the masking key, zero when the frame is not masked.
func (h WireHeader) Key() [4]byte {
	var k [4]byte
	binary.LittleEndian.PutUint32(k[:], h.key)
	return k
}

// Header returns h as a Header, as ParseHeader gives it.
func (h WireHeader) Header() Header {
	return Header{
		Fin:    h.Fin(),
		Rsv:    h.Rsv(),
		OpCode: h.OpCode(),
		Masked: h.Masked(),
		Mask:   h.Key(),
		Length: h.Length,
	}
}

// Check is CheckHeader for a WireHeader: the same rules, in the same
// order, with the same errors. A data frame without RSV bits, masked as
// its sender's must be, in its place in the message, passes in a few
// instructions (and the check inlines); other frames get the full check.
func (h WireHeader) Check(from Sender, allowedRsv byte, fragmented bool) error {
	// No RSV bit; the mask bit set for FromClient (0), clear for
	// FromServer (1); a text or binary frame between messages, a
	// continuation within one.
	if op := h.b0 & opMask; h.b0&(0x7<<rsvShift) == 0 && h.b1>>7^byte(from) == 1 &&
		(op-1 < 2 && !fragmented || op == 0 && fragmented) {
		return nil
	}
	return h.checkAll(from, allowedRsv, fragmented)
}

// checkAll is Check's full check, out of line so that Check inlines.
//
//go:noinline
func (h WireHeader) checkAll(from Sender, allowedRsv byte, fragmented bool) error {
	return check(h.OpCode(), h.Rsv(), h.Fin(), h.Masked(), h.Length, from, allowedRsv, fragmented)
}
