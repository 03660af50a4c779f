package wstest

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// A DEFLATE decoder of the tests' own: it reports every back-reference
// distance, so a test can fail a server that refers beyond its window.

// InflateResult is what Inflate decoded.
type InflateResult struct {
	Out         []byte // the decompressed bytes (the history excluded)
	MaxDistance int    // the longest back-reference
	HistoryRefs int    // how many back-references reached into hist
	Final       bool   // a block with BFINAL set ended the data
	Rest        []byte // the bytes after that final block
}

// Inflate decodes the raw DEFLATE data src (RFC 1951) with hist as the
// bytes that precede it in the stream (a preset window). Decoding stops
// after a block with BFINAL set, or at the end of src, which must then fall
// exactly on the end of a stored block (a sync flush). Back-references may
// reach into hist but not before it. Code sets are checked as zlib does:
// over-subscribed sets fail, incomplete ones only pass for a single code of
// one bit, and a literal/length set must have the end-of-block code.
func Inflate(hist, src []byte) (InflateResult, error) {
	var res InflateResult
	in := inflater{br: bitReader{src: src}, out: append(make([]byte, 0, len(hist)+4*len(src)+64), hist...), histLen: len(hist)}
	for {
		if in.br.pos == len(src) && in.br.n == 0 {
			break
		}
		final, err := in.br.get(1)
		if err != nil {
			return res, err
		}
		typ, err := in.br.get(2)
		if err != nil {
			return res, err
		}
		switch typ {
		case 0:
			err = in.stored()
		case 1:
			err = in.codes(fixedLit, fixedDist)
		case 2:
			err = in.dynamic()
		default:
			err = errors.New("wstest: inflate: invalid block type 3")
		}
		if err != nil {
			return res, err
		}
		if final == 1 {
			res.Final = true
			res.Rest = src[in.br.pos:]
			break
		}
	}
	res.Out = in.out[len(hist):]
	res.MaxDistance = in.maxDist
	res.HistoryRefs = in.histRefs
	return res, nil
}

var errTruncated = errors.New("wstest: inflate: data ends inside a block")

// bitReader reads DEFLATE's little-endian bit stream one byte at a time, so
// that it never holds more than 7 bits beyond what it returned.
type bitReader struct {
	src  []byte
	pos  int
	bits uint32
	n    uint
}

func (b *bitReader) get(n uint) (int, error) {
	for b.n < n {
		if b.pos == len(b.src) {
			return 0, errTruncated
		}
		b.bits |= uint32(b.src[b.pos]) << b.n
		b.pos++
		b.n += 8
	}
	v := int(b.bits & (1<<n - 1))
	b.bits >>= n
	b.n -= n
	return v, nil
}

// align drops the bits left in the current byte.
func (b *bitReader) align() { b.bits, b.n = 0, 0 }

// huffman is a canonical Huffman code in the form of zlib's puff.c: the
// number of codes of each length and the symbols ordered by code.
type huffman struct {
	count  [16]int
	symbol []int
}

// newHuffman builds the code for lengths; kind names it in errors. A
// "codes" set must be complete; the others may be incomplete only with a
// single code of one bit.
func newHuffman(lengths []int, kind string) (*huffman, error) {
	h := &huffman{symbol: make([]int, len(lengths))}
	for _, l := range lengths {
		h.count[l]++
	}
	maxLen := 0
	for l := 1; l <= 15; l++ {
		if h.count[l] != 0 {
			maxLen = l
		}
	}
	if maxLen == 0 {
		if kind == "codes" {
			return nil, fmt.Errorf("wstest: inflate: empty %s code", kind)
		}
		return h, nil // nothing can be decoded with it
	}
	left := 1
	for l := 1; l <= 15; l++ {
		left <<= 1
		left -= h.count[l]
		if left < 0 {
			return nil, fmt.Errorf("wstest: inflate: over-subscribed %s code", kind)
		}
	}
	if left > 0 && (kind == "codes" || maxLen != 1) {
		return nil, fmt.Errorf("wstest: inflate: incomplete %s code", kind)
	}
	var offs [16]int
	for l := 1; l < 15; l++ {
		offs[l+1] = offs[l] + h.count[l]
	}
	for sym, l := range lengths {
		if l != 0 {
			h.symbol[offs[l]] = sym
			offs[l]++
		}
	}
	return h, nil
}

func (b *bitReader) decode(h *huffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l <= 15; l++ {
		bit, err := b.get(1)
		if err != nil {
			return 0, err
		}
		code |= bit
		count := h.count[l]
		if code-count < first {
			return h.symbol[index+(code-first)], nil
		}
		index += count
		first += count
		first <<= 1
		code <<= 1
	}
	return 0, errors.New("wstest: inflate: invalid code")
}

var (
	lengthBase  = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}

	fixedLit, fixedDist = fixedCodes()
)

// fixedLengths returns the code lengths of the fixed Huffman codes (RFC
// 1951 section 3.2.6): 288 literal/length codes and 32 distance codes.
func fixedLengths() (lit, dist []int) {
	lit = make([]int, 288)
	for i := range lit {
		switch {
		case i < 144:
			lit[i] = 8
		case i < 256:
			lit[i] = 9
		case i < 280:
			lit[i] = 7
		default:
			lit[i] = 8
		}
	}
	dist = make([]int, 32)
	for i := range dist {
		dist[i] = 5
	}
	return lit, dist
}

func fixedCodes() (*huffman, *huffman) {
	lit, dist := fixedLengths()
	l, err := newHuffman(lit, "literal/length")
	if err != nil {
		panic(err)
	}
	d, err := newHuffman(dist, "distance")
	if err != nil {
		panic(err)
	}
	return l, d
}

type inflater struct {
	br       bitReader
	out      []byte // history, then output
	histLen  int
	maxDist  int
	histRefs int
}

func (in *inflater) stored() error {
	in.br.align()
	b := &in.br
	if len(b.src)-b.pos < 4 {
		return errTruncated
	}
	n := int(binary.LittleEndian.Uint16(b.src[b.pos:]))
	if ^uint16(n) != binary.LittleEndian.Uint16(b.src[b.pos+2:]) {
		return fmt.Errorf("wstest: inflate: stored block length %#04x does not match its complement %x", n, b.src[b.pos+2:b.pos+4])
	}
	b.pos += 4
	if len(b.src)-b.pos < n {
		return errTruncated
	}
	in.out = append(in.out, b.src[b.pos:b.pos+n]...)
	b.pos += n
	return nil
}

var codeOrder = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

func (in *inflater) dynamic() error {
	b := &in.br
	nlen, err := b.get(5)
	if err != nil {
		return err
	}
	ndist, err := b.get(5)
	if err != nil {
		return err
	}
	ncode, err := b.get(4)
	if err != nil {
		return err
	}
	nlen, ndist, ncode = nlen+257, ndist+1, ncode+4
	if nlen > 286 || ndist > 30 {
		return errors.New("wstest: inflate: too many length or distance codes")
	}
	var cl [19]int
	for i := range ncode {
		if cl[codeOrder[i]], err = b.get(3); err != nil {
			return err
		}
	}
	codes, err := newHuffman(cl[:], "codes")
	if err != nil {
		return err
	}
	lengths := make([]int, nlen+ndist)
	for i := 0; i < len(lengths); {
		sym, err := b.decode(codes)
		if err != nil {
			return err
		}
		if sym < 16 {
			lengths[i] = sym
			i++
			continue
		}
		val, rep := 0, 0
		switch sym {
		case 16:
			if i == 0 {
				return errors.New("wstest: inflate: repeat with no previous length")
			}
			val = lengths[i-1]
			rep, err = b.get(2)
			rep += 3
		case 17:
			rep, err = b.get(3)
			rep += 3
		default:
			rep, err = b.get(7)
			rep += 11
		}
		if err != nil {
			return err
		}
		if i+rep > len(lengths) {
			return errors.New("wstest: inflate: code lengths repeat past the end")
		}
		for ; rep > 0; rep-- {
			lengths[i] = val
			i++
		}
	}
	if lengths[256] == 0 {
		return errors.New("wstest: inflate: no end-of-block code")
	}
	lit, err := newHuffman(lengths[:nlen], "literal/length")
	if err != nil {
		return err
	}
	dist, err := newHuffman(lengths[nlen:], "distance")
	if err != nil {
		return err
	}
	return in.codes(lit, dist)
}

func (in *inflater) codes(lit, dist *huffman) error {
	b := &in.br
	for {
		sym, err := b.decode(lit)
		if err != nil {
			return err
		}
		switch {
		case sym < 256:
			in.out = append(in.out, byte(sym))
			continue
		case sym == 256:
			return nil
		}
		sym -= 257
		if sym >= 29 {
			return fmt.Errorf("wstest: inflate: invalid length code %d", sym+257)
		}
		extra, err := b.get(lengthExtra[sym])
		if err != nil {
			return err
		}
		n := lengthBase[sym] + extra
		dsym, err := b.decode(dist)
		if err != nil {
			return err
		}
		if dsym >= 30 {
			return fmt.Errorf("wstest: inflate: invalid distance code %d", dsym)
		}
		if extra, err = b.get(distExtra[dsym]); err != nil {
			return err
		}
		d := distBase[dsym] + extra
		if d > len(in.out) {
			return fmt.Errorf("wstest: inflate: distance %d too far back (%d bytes of history)", d, len(in.out))
		}
		in.maxDist = max(in.maxDist, d)
		if d > len(in.out)-in.histLen {
			in.histRefs++
		}
		start := len(in.out) - d
		for k := range n {
			in.out = append(in.out, in.out[start+k])
		}
	}
}
