package codec

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// Validator checks UTF-8 incrementally, across any split of the input into
// Write calls, and fails fast: Write returns false as soon as the bytes
// written so far can no longer be completed to valid UTF-8, even in the
// middle of a sequence (0xF5-0xFF, 0xC0 or 0xC1, an overlong form such as
// E0 80, a surrogate such as ED A0, or a code point above U+10FFFF such as
// F4 90). Once failed it stays failed until Reset.
//
// The zero value is ready to use. A Validator is a small value without
// pointers; copying it copies its state.
type Validator struct {
	state uint8
}

// The validator is a DFA over the well-formed byte sequences of Table 3-7
// of the Unicode Standard. Each state is a multiple of 6 (a bit offset), and
// each byte class has a 64-bit row holding, at bit offset s, the 6-bit state
// that follows state s. A step is then
//
//	s = row(class(b)) >> s & 63
//
// whose only dependency on the previous step is a shift, not a table load
// indexed by the state; that roughly doubles the speed on text with many
// non-ASCII bytes, measured against a table indexed by state and class.
const (
	utf8Accept  = 0  // on a code point boundary
	utf8Reject  = 6  // invalid; absorbing
	utf8Need1   = 12 // one continuation byte 80-BF to go
	utf8Need2   = 18 // two to go
	utf8Need3   = 24 // three to go
	utf8AfterE0 = 30 // E0: next A0-BF (no overlongs), then one more
	utf8AfterED = 36 // ED: next 80-9F (no surrogates), then one more
	utf8AfterF0 = 42 // F0: next 90-BF (no overlongs), then two more
	utf8AfterF4 = 48 // F4: next 80-8F (at most U+10FFFF), then two more
)

// utf8Class maps each byte to its class, one of the ranges that Table 3-7
// tells apart:
//
//	0: 00-7F        4: C0-C1, F5-FF    8: ED
//	1: 80-8F        5: C2-DF           9: F0
//	2: 90-9F        6: E0             10: F1-F3
//	3: A0-BF        7: E1-EC, EE-EF   11: F4
//
// The tables are string constants so that they cannot be modified;
// TestUTF8Tables checks them against the derivation they were generated
// from.
const utf8Class = "" +
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" + // 00-0F
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" + // 10-1F
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" + // 20-2F
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" + // 30-3F
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" + // 40-4F
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" + // 50-5F
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" + // 60-6F
	"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" + // 70-7F
	"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01" + // 80-8F
	"\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02\x02" + // 90-9F
	"\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03" + // A0-AF
	"\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03\x03" + // B0-BF
	"\x04\x04\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05" + // C0-CF
	"\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05\x05" + // D0-DF
	"\x06\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x08\x07\x07" + // E0-EF
	"\x09\x0a\x0a\x0a\x0b\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04\x04" // F0-FF

// utf8Rows holds the row of each class as 8 little-endian bytes, padded to
// 16 classes so that indexing it with a class masked to 4 bits needs no
// bounds check.
const utf8Rows = "" +
	"\x80\x61\x18\x86\x61\x18\x06\x00" + //  0: 00-7F
	"\x86\x01\x30\x92\xc1\x18\x12\x00" + //  1: 80-8F
	"\x86\x01\x30\x92\xc1\x48\x06\x00" + //  2: 90-9F
	"\x86\x01\x30\x12\x63\x48\x06\x00" + //  3: A0-BF
	"\x86\x61\x18\x86\x61\x18\x06\x00" + //  4: C0-C1, F5-FF
	"\x8c\x61\x18\x86\x61\x18\x06\x00" + //  5: C2-DF
	"\x9e\x61\x18\x86\x61\x18\x06\x00" + //  6: E0
	"\x92\x61\x18\x86\x61\x18\x06\x00" + //  7: E1-EC, EE-EF
	"\xa4\x61\x18\x86\x61\x18\x06\x00" + //  8: ED
	"\xaa\x61\x18\x86\x61\x18\x06\x00" + //  9: F0
	"\x98\x61\x18\x86\x61\x18\x06\x00" + // 10: F1-F3
	"\xb0\x61\x18\x86\x61\x18\x06\x00" + // 11: F4
	"\x86\x61\x18\x86\x61\x18\x06\x00" + // 12: unused
	"\x86\x61\x18\x86\x61\x18\x06\x00" + // 13: unused
	"\x86\x61\x18\x86\x61\x18\x06\x00" + // 14: unused
	"\x86\x61\x18\x86\x61\x18\x06\x00" // 15: unused

// utf8Row returns the row of class c.
func utf8Row(c byte) uint64 {
	i := int(c&15) * 8
	// The compiler merges these loads into one 64-bit load.
	return uint64(utf8Rows[i]) | uint64(utf8Rows[i+1])<<8 |
		uint64(utf8Rows[i+2])<<16 | uint64(utf8Rows[i+3])<<24 |
		uint64(utf8Rows[i+4])<<32 | uint64(utf8Rows[i+5])<<40 |
		uint64(utf8Rows[i+6])<<48 | uint64(utf8Rows[i+7])<<56
}

// asciiMask selects the high bit of each byte of a 64-bit word.
const asciiMask = 0x8080808080808080

// Write feeds p to the validator. It reports whether everything written
// since the last Reset can still be completed to valid UTF-8; it returns
// false for the call that writes the first byte after which it cannot, and
// for every call after that. p is not retained.
func (v *Validator) Write(p []byte) bool {
	s := uint64(v.state)
	for i := 0; i < len(p); {
		if p[i] < 0x80 && s == utf8Accept {
			// ASCII fast path. After one ASCII byte on a code point
			// boundary more are likely: skip 32, then 8 bytes at a time
			// while their high bits are clear, and stop at the first
			// non-ASCII byte of the last word.
			i++
			for len(p)-i >= 32 {
				q := p[i : i+32]
				w := binary.LittleEndian.Uint64(q) | binary.LittleEndian.Uint64(q[8:]) |
					binary.LittleEndian.Uint64(q[16:]) | binary.LittleEndian.Uint64(q[24:])
				if w&asciiMask != 0 {
					break
				}
				i += 32
			}
			for len(p)-i >= 8 {
				if m := binary.LittleEndian.Uint64(p[i:]) & asciiMask; m != 0 {
					i += bits.TrailingZeros64(m) >> 3
					break
				}
				i += 8
			}
			continue
		}
		s = utf8Row(utf8Class[p[i]]) >> (s & 63) & 63
		i++
	}
	// Rejection is final, so checking once here is as good as checking
	// after every byte.
	v.state = uint8(s)
	return s != utf8Reject
}

// Complete reports whether everything written since the last Reset is valid
// UTF-8 and ends on a code point boundary.
func (v *Validator) Complete() bool {
	return v.state == utf8Accept
}

// Reset returns the validator to its initial state, as if nothing had been
// written.
func (v *Validator) Reset() {
	v.state = utf8Accept
}

// ValidUTF8 reports whether p is entirely valid UTF-8. It gives the same
// answer as unicode/utf8.Valid.
func ValidUTF8(p []byte) bool {
	// For a whole buffer the standard library's validator is the faster
	// one (its ASCII path is wider); Validator is for split input.
	return utf8.Valid(p)
}
