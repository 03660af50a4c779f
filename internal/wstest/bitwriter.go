package wstest

import (
	"bytes"
	"encoding/binary"
)

// Hand-made DEFLATE blocks, for tests that need exact bits on the wire.

// BitWriter builds DEFLATE data by hand, for streams no compressor would
// produce: a back-reference at an exact distance, an invalid block.
type BitWriter struct {
	out  []byte
	bits uint32
	n    uint
}

// WriteBits writes the n low bits of v, least significant first.
func (w *BitWriter) WriteBits(v uint32, n uint) {
	w.bits |= (v & (1<<n - 1)) << w.n
	w.n += n
	for w.n >= 8 {
		w.out = append(w.out, byte(w.bits))
		w.bits >>= 8
		w.n -= 8
	}
}

// writeCode writes a Huffman code of n bits, most significant first.
func (w *BitWriter) writeCode(code uint32, n uint) {
	var rev uint32
	for i := range n {
		rev |= (code >> i & 1) << (n - 1 - i)
	}
	w.WriteBits(rev, n)
}

// Align pads with zero bits to a byte boundary.
func (w *BitWriter) Align() {
	if w.n > 0 {
		w.WriteBits(0, 8-w.n)
	}
}

// Bytes returns the data written, the last partial byte padded with zeros.
func (w *BitWriter) Bytes() []byte {
	if w.n > 0 {
		return append(bytes.Clone(w.out), byte(w.bits))
	}
	return bytes.Clone(w.out)
}

// Token is a literal (Length 0) or a back-reference in a hand-made block.
type Token struct {
	Literal  byte
	Length   int // 3 to 258, or 0 for a literal
	Distance int // 1 to 32768
}

// Literals returns a token per byte of p.
func Literals(p []byte) []Token {
	t := make([]Token, len(p))
	for i, c := range p {
		t[i].Literal = c
	}
	return t
}

// FixedBlock writes a block with the fixed Huffman codes holding toks,
// then its end-of-block code.
func (w *BitWriter) FixedBlock(final bool, toks []Token) {
	w.WriteBits(b2u(final), 1)
	w.WriteBits(1, 2)
	lit := func(sym int) {
		switch {
		case sym < 144:
			w.writeCode(uint32(0x30+sym), 8)
		case sym < 256:
			w.writeCode(uint32(0x190+sym-144), 9)
		case sym < 280:
			w.writeCode(uint32(sym-256), 7)
		default:
			w.writeCode(uint32(0xc0+sym-280), 8)
		}
	}
	for _, t := range toks {
		if t.Length == 0 {
			lit(int(t.Literal))
			continue
		}
		if t.Length < 3 || t.Length > 258 || t.Distance < 1 || t.Distance > 32768 {
			panic("wstest: bad token")
		}
		i := 28
		for lengthBase[i] > t.Length {
			i--
		}
		lit(257 + i)
		w.WriteBits(uint32(t.Length-lengthBase[i]), lengthExtra[i])
		j := 29
		for distBase[j] > t.Distance {
			j--
		}
		w.writeCode(uint32(j), 5)
		w.WriteBits(uint32(t.Distance-distBase[j]), distExtra[j])
	}
	lit(256)
}

// StoredBlock writes a stored block holding p (at most 65535 bytes).
func (w *BitWriter) StoredBlock(final bool, p []byte) {
	w.WriteBits(b2u(final), 1)
	w.WriteBits(0, 2)
	w.Align()
	n := uint16(len(p))
	w.out = binary.LittleEndian.AppendUint16(w.out, n)
	w.out = binary.LittleEndian.AppendUint16(w.out, ^n)
	w.out = append(w.out, p...)
}

// SyncFlushMessage ends w's data with the empty stored block of a sync
// flush and returns the compressed payload of a message: the data without
// the final 0x00 0x00 0xff 0xff.
func (w *BitWriter) SyncFlushMessage() []byte {
	w.StoredBlock(false, nil)
	b := w.Bytes()
	return b[:len(b)-4]
}

func b2u(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}
