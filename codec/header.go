package codec

import (
	"encoding/binary"
	"slices"
)

// Header is a frame header (RFC 6455 section 5.2).
//
// Rsv holds the three RSV bits as RSV1 = 0x4, RSV2 = 0x2, RSV3 = 0x1
// (Rsv1, Rsv2, Rsv3). Mask is the masking key, meaningful when Masked is
// set. Length is the payload length, never negative in a parsed header.
type Header struct {
	Fin    bool
	Rsv    byte
	OpCode OpCode
	Masked bool
	Mask   [4]byte
	Length int64
}

// The RSV bits of Header.Rsv. permessage-deflate (RFC 7692) uses Rsv1 to
// mark a compressed message.
const (
	Rsv1 byte = 0x4
	Rsv2 byte = 0x2
	Rsv3 byte = 0x1
)

// MaxHeaderSize is the size of the largest frame header: 2 fixed bytes, an
// 8-byte extended payload length and a 4-byte masking key.
const MaxHeaderSize = 14

// Bits of the first two header bytes (RFC 6455 section 5.2).
const (
	finBit    = 0x80
	rsvShift  = 4    // RSV1..RSV3 are bits 0x40, 0x20, 0x10 of byte 0
	opMask    = 0x0f // opcode, low nibble of byte 0
	maskBit   = 0x80
	len7Mask  = 0x7f
	len16Code = 126 // 7-bit length value announcing a 16-bit length
	len64Code = 127 // 7-bit length value announcing a 64-bit length
)

// ParseHeader parses one frame header from the start of b.
//
// When b holds fewer bytes than the header needs, it returns n == 0 and
// err == nil: the caller should retry once more bytes have arrived.
// Otherwise n is the length of the header (2 to 14 bytes) and the payload
// starts at b[n].
//
// The only errors are *Error values with code 1002 (protocol error):
// ErrLengthOverflow for a 64-bit length with the most significant bit set,
// and ErrNonMinimalLength for a length not encoded in the minimal number of
// bytes. On error h is zero and n is 0. The header is otherwise not
// validated; see CheckHeader.
//
// h.Mask is zero when the frame is not masked. b is not retained.
//
// ParseHeader is ParseWireHeader plus the conversion to Header, whose
// [4]byte key makes the result travel through memory (BenchmarkParseHeader);
// hot paths should use ParseWireHeader and WireHeader.Check.
func ParseHeader(b []byte) (h Header, n int, err error) {
	w, n, err := ParseWireHeader(b)
	if n == 0 {
		return Header{}, 0, err
	}
	// Field by field into h, and the key copied from b: cheaper than
	// w.Header(), whose result is copied once more.
	h.Fin, h.Rsv, h.OpCode, h.Masked, h.Length = w.Fin(), w.Rsv(), w.OpCode(), w.Masked(), w.Length
	if h.Masked {
		copy(h.Mask[:], b[n-4:n])
	}
	return h, n, nil
}

// HeaderSize returns the encoded size of a header for a payload of the given
// length, with or without a masking key. It panics if length is negative.
func HeaderSize(length int64, masked bool) int {
	n := 2
	switch {
	case length < 0:
		panic("codec: negative payload length")
	case length > 0xffff:
		n += 8
	case length >= len16Code:
		n += 2
	}
	if masked {
		n += 4
	}
	return n
}

// PutHeader encodes h into dst and returns the number of bytes written,
// which is HeaderSize(h.Length, h.Masked). len(dst) must be at least that;
// MaxHeaderSize always suffices.
//
// The length is encoded in the minimal number of bytes. Only the low three
// bits of h.Rsv and the low four bits of h.OpCode are used, and h.Mask is
// written only when h.Masked is set. It panics if h.Length is negative or
// dst is too short.
func PutHeader(dst []byte, h Header) int {
	n := HeaderSize(h.Length, h.Masked)
	_ = dst[n-1] // one bounds check for the whole header
	var b1 byte
	if h.Masked {
		b1 = maskBit
	}
	i := putLength(dst, firstByte(h.Fin, h.Rsv, h.OpCode), b1, h.Length)
	if h.Masked {
		copy(dst[i:i+4], h.Mask[:])
	}
	return n
}

// firstByte returns a header's first byte: FIN, the RSV bits (as in
// Header.Rsv) and the opcode.
func firstByte(fin bool, rsv byte, op OpCode) byte {
	b0 := byte(op)&opMask | (rsv&0x7)<<rsvShift
	if fin {
		b0 |= finBit
	}
	return b0
}

// putLength writes the first byte b0, the second byte (the mask bit b1
// and the 7-bit length) and the extended length, and returns where the
// masking key goes. dst must hold the header. (Scalars only: a Header
// argument is copied through memory.)
func putLength(dst []byte, b0, b1 byte, length int64) int {
	dst[0] = b0
	switch {
	case length > 0xffff:
		dst[1] = b1 | len64Code
		binary.BigEndian.PutUint64(dst[2:10], uint64(length))
		return 10
	case length >= len16Code:
		dst[1] = b1 | len16Code
		binary.BigEndian.PutUint16(dst[2:4], uint16(length))
		return 4
	default:
		dst[1] = b1 | byte(length)
		return 2
	}
}

// AppendHeader appends the encoding of h, as written by PutHeader, to dst
// and returns the extended slice. As with append, the result shares dst's
// backing array when it fits; it does not allocate when dst has
// MaxHeaderSize bytes of spare capacity.
func AppendHeader(dst []byte, h Header) []byte {
	n := HeaderSize(h.Length, h.Masked)
	dst = slices.Grow(dst, n)
	l := len(dst)
	PutHeader(dst[l:l+n], h)
	return dst[:l+n]
}

// AppendFrame appends a whole unmasked frame (a server's: RFC 6455 section
// 5.1), its header then payload, to dst and returns the extended slice. rsv
// holds the RSV bits as Header.Rsv does. It grows dst at most once, and not
// at all when dst has MaxHeaderSize+len(payload) bytes of spare capacity.
func AppendFrame(dst []byte, fin bool, rsv byte, op OpCode, payload []byte) []byte {
	length := int64(len(payload))
	n := HeaderSize(length, false)
	dst = slices.Grow(dst, n+len(payload))
	l := len(dst)
	putLength(dst[l:l+n], firstByte(fin, rsv, op), 0, length)
	return append(dst[:l+n], payload...)
}

// AppendMaskedFrame appends a whole masked frame (a client's: RFC 6455
// section 5.1) to dst and returns the extended slice: the header with key,
// then payload masked with key. payload itself is not modified. It grows
// dst at most once.
func AppendMaskedFrame(dst []byte, fin bool, rsv byte, op OpCode, key [4]byte, payload []byte) []byte {
	length := int64(len(payload))
	n := HeaderSize(length, true)
	dst = slices.Grow(dst, n+len(payload))
	l := len(dst)
	i := putLength(dst[l:l+n], firstByte(fin, rsv, op), maskBit, length)
	copy(dst[l+i:l+n], key[:])
	dst = append(dst[:l+n], payload...)
	Mask(dst[l+n:], key, 0)
	return dst
}
