package codec

import "testing"

// utf8SpecRow derives, from Table 3-7 of the Unicode Standard, the DFA row
// for byte b: for each state, the state after b. It is the specification
// from which utf8Class and utf8Rows were generated.
func utf8SpecRow(b int) uint64 {
	var row uint64
	set := func(from, to uint64) {
		row = row&^(63<<from) | to<<from
	}
	for s := uint64(0); s <= utf8AfterF4; s += 6 {
		set(s, utf8Reject)
	}
	switch {
	case b <= 0x7f:
		set(utf8Accept, utf8Accept)
	case b <= 0xbf: // continuation bytes
		set(utf8Need1, utf8Accept)
		set(utf8Need2, utf8Need1)
		set(utf8Need3, utf8Need2)
		if b >= 0xa0 {
			set(utf8AfterE0, utf8Need1) // E0 A0..BF
		}
		if b <= 0x9f {
			set(utf8AfterED, utf8Need1) // ED 80..9F
		}
		if b >= 0x90 {
			set(utf8AfterF0, utf8Need2) // F0 90..BF
		}
		if b <= 0x8f {
			set(utf8AfterF4, utf8Need2) // F4 80..8F
		}
	case b <= 0xc1: // overlong two-byte forms
	case b <= 0xdf:
		set(utf8Accept, utf8Need1)
	case b == 0xe0:
		set(utf8Accept, utf8AfterE0)
	case b == 0xed:
		set(utf8Accept, utf8AfterED)
	case b <= 0xef:
		set(utf8Accept, utf8Need2)
	case b == 0xf0:
		set(utf8Accept, utf8AfterF0)
	case b <= 0xf3:
		set(utf8Accept, utf8Need3)
	case b == 0xf4:
		set(utf8Accept, utf8AfterF4)
	}
	return row
}

func TestUTF8Tables(t *testing.T) {
	if len(utf8Class) != 256 || len(utf8Rows) != 16*8 {
		t.Fatalf(
			"table sizes %d and %d; want 256 and 128",
			len(utf8Class), len(utf8Rows),
		)
	}
	for b := 0; b < 256; b++ {
		if got, want := utf8Row(utf8Class[b]), utf8SpecRow(b); got != want {
			t.Errorf(
				"byte %#02x (class %d): row %#016x; want %#016x",
				b, utf8Class[b], got, want,
			)
		}
	}
	// Unused classes reject from every state.
	for c := byte(12); c < 16; c++ {
		if got, want := utf8Row(c), utf8SpecRow(0xff); got != want {
			t.Errorf(
				"padding class %d: row %#016x; want %#016x",
				c, got, want,
			)
		}
	}
}
