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
	w.Tokens(fixedBlockCodes, toks)
	w.EndBlock(fixedBlockCodes)
}

// Codes are the Huffman codes a block uses: a code per literal/length
// symbol and per distance symbol, as canonical codes from code lengths
// (RFC 1951 section 3.2.2).
type Codes struct {
	lit, dist []huffCode
}

// huffCode is one symbol's code: n bits, n 0 when the symbol has none.
type huffCode struct {
	code uint32
	n    uint
}

var fixedBlockCodes = func() Codes {
	lit, dist := fixedLengths()
	return Codes{lit: canonicalCodes(lit), dist: canonicalCodes(dist)}
}()

// canonicalCodes assigns the canonical Huffman codes for lengths (0 for a
// symbol without a code).
func canonicalCodes(lengths []int) []huffCode {
	var count [16]int
	for _, l := range lengths {
		count[l]++
	}
	count[0] = 0
	var next [16]uint32
	code := uint32(0)
	for l := 1; l < 16; l++ {
		code = (code + uint32(count[l-1])) << 1
		next[l] = code
	}
	codes := make([]huffCode, len(lengths))
	for sym, l := range lengths {
		if l != 0 {
			codes[sym] = huffCode{code: next[l], n: uint(l)}
			next[l]++
		}
	}
	return codes
}

// DynamicHeader writes the header of a block with dynamic Huffman codes
// (RFC 1951 section 3.2.7): litLens holds the code lengths of the
// literal/length symbols (257 to 286 of them), distLens those of the
// distance symbols (1 to 30); 0 means no code. The lengths are sent with a
// code-length code that gives 0 to 15 four bits each, and are not checked:
// a test may declare an incomplete or empty set. The block's symbols
// follow with Tokens, then EndBlock.
func (w *BitWriter) DynamicHeader(final bool, litLens, distLens []int) Codes {
	if len(litLens) < 257 || len(litLens) > 286 || len(distLens) < 1 || len(distLens) > 30 {
		panic("wstest: bad code length counts")
	}
	w.WriteBits(b2u(final), 1)
	w.WriteBits(2, 2)
	w.WriteBits(uint32(len(litLens)-257), 5)
	w.WriteBits(uint32(len(distLens)-1), 5)
	w.WriteBits(19-4, 4)
	// The code-length code lengths, in RFC 1951's order (16, 17, 18, 0, 8,
	// 7, ...): 4 for the lengths 0 to 15, none for the repeat codes 16-18.
	// Sixteen codes of four bits: the canonical code of length l is l.
	for i := range 19 {
		w.WriteBits(4*b2u(i >= 3), 3)
	}
	for _, l := range append(append([]int{}, litLens...), distLens...) {
		if l < 0 || l > 15 {
			panic("wstest: bad code length")
		}
		w.writeCode(uint32(l), 4)
	}
	return Codes{lit: canonicalCodes(litLens), dist: canonicalCodes(distLens)}
}

// WithDistances returns c with the distance codes of d: a block that
// writes back-references with codes it did not declare.
func (c Codes) WithDistances(d Codes) Codes { return Codes{lit: c.lit, dist: d.dist} }

// Tokens writes toks with the codes c. It panics on a symbol c has no code
// for.
func (w *BitWriter) Tokens(c Codes, toks []Token) {
	for _, t := range toks {
		if t.Length == 0 {
			w.symbol(c.lit, int(t.Literal))
			continue
		}
		if t.Length < 3 || t.Length > 258 || t.Distance < 1 || t.Distance > 32768 {
			panic("wstest: bad token")
		}
		i := 28
		for lengthBase[i] > t.Length {
			i--
		}
		w.symbol(c.lit, 257+i)
		w.WriteBits(uint32(t.Length-lengthBase[i]), lengthExtra[i])
		j := 29
		for distBase[j] > t.Distance {
			j--
		}
		w.symbol(c.dist, j)
		w.WriteBits(uint32(t.Distance-distBase[j]), distExtra[j])
	}
}

// EndBlock writes the end-of-block code of c.
func (w *BitWriter) EndBlock(c Codes) { w.symbol(c.lit, 256) }

func (w *BitWriter) symbol(codes []huffCode, sym int) {
	if sym >= len(codes) || codes[sym].n == 0 {
		panic("wstest: no code for the symbol")
	}
	w.writeCode(codes[sym].code, codes[sym].n)
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

// UndeclaredDistance returns the payloads of two compressed messages
// (sync-flushed, the last four bytes removed) for decoders that keep
// Huffman tables from block to block. valid is a block with dynamic codes
// that declares one distance code, of one bit, and uses it: "aaaa". bad is
// a block that declares no distance code (RFC 1951 section 3.2.7: the data
// is then all literals) yet writes a back-reference with valid's code: a
// decoder that still holds valid's tables decodes "aaaa" again, a correct
// one fails. Joined by DeflateTail, they make one message whose second
// block is bad after any history.
func UndeclaredDistance() (valid, bad []byte) {
	lit := make([]int, 258)
	lit['a'], lit[256], lit[257] = 1, 2, 2
	toks := []Token{{Literal: 'a'}, {Length: 3, Distance: 1}}
	var w BitWriter
	c := w.DynamicHeader(false, lit, []int{1})
	w.Tokens(c, toks)
	w.EndBlock(c)
	valid = w.SyncFlushMessage()
	var b BitWriter
	e := b.DynamicHeader(false, lit, []int{0})
	b.Tokens(e.WithDistances(c), toks)
	b.EndBlock(e)
	return valid, b.SyncFlushMessage()
}
