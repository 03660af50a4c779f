package codec

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// checkSplits writes p to a Validator in the chunks given by the cut points
// and checks every result against utf8.Valid and the fail-fast reference.
func checkSplits(t *testing.T, p []byte, cuts []int) {
	t.Helper()
	checkSplitsFail(t, p, cuts, refFailPos(p))
}

// checkSplitsFail is checkSplits with the reference fail position of p
// already known.
func checkSplitsFail(t *testing.T, p []byte, cuts []int, fail int) {
	t.Helper()
	var v Validator
	prev := 0
	for _, c := range append(cuts, len(p)) {
		got := v.Write(p[prev:c])
		want := fail < 0 || fail >= c
		if got != want {
			t.Fatalf(
				"% x split at %v: Write(p[%d:%d]) = %t; want %t (reference fails at %d)",
				p, cuts, prev, c, got, want, fail,
			)
		}
		prev = c
	}
	if got, want := v.Complete(), utf8.Valid(p); got != want {
		t.Fatalf(
			"% x split at %v: Complete() = %t; want %t",
			p, cuts, got, want,
		)
	}
}

func TestValidatorExhaustive(t *testing.T) {
	// Every input of one to three bytes, written at once and a byte at a
	// time (through copies of the validator state), against utf8.Valid and
	// the fail-fast reference. The reference for three bytes is built
	// from the two-byte prefix, since failing is final: only the
	// unfinished code point at the end needs a new look, and its answers
	// for one and two bytes are looked up in tables.
	var memo1 [256]bool
	var memo2 [1 << 16]bool
	for i := range memo2 {
		if i < 256 {
			memo1[i] = refCompletable([]byte{byte(i)})
		}
		memo2[i] = refCompletable([]byte{byte(i >> 8), byte(i)})
	}
	var p [3]byte
	for b0 := 0; b0 < 256; b0++ {
		p[0] = byte(b0)
		var v0 Validator
		ok0 := v0.Write(p[:1])
		checkExhaustive(t, p[:1], ok0, v0.Complete(), refFailPos(p[:1]) < 0)
		for b1 := 0; b1 < 256; b1++ {
			p[1] = byte(b1)
			v1 := v0
			ok1 := v1.Write(p[1:2]) && ok0
			fail2, start2 := refScan(p[:2])
			checkExhaustive(t, p[:2], ok1, v1.Complete(), fail2 < 0)
			for b2 := 0; b2 < 256; b2++ {
				p[2] = byte(b2)
				v2 := v1
				ok2 := v2.Write(p[2:3]) && ok1
				want := fail2 < 0
				if want {
					switch start2 {
					case 2:
						want = memo1[b2]
					case 1:
						want = memo2[b1<<8|b2]
					default:
						want = refCompletable(p[:3])
					}
				}
				checkExhaustive(t, p[:3], ok2, v2.Complete(), want)
			}
		}
	}
}

// checkExhaustive checks the results for p written a byte at a time.
func checkExhaustive(t *testing.T, p []byte, ok, complete, wantOK bool) {
	valid := utf8.Valid(p)
	if complete != valid || ValidUTF8(p) != valid || ok != wantOK {
		t.Helper()
		t.Fatalf(
			"% x byte by byte: Write ok = %t, Complete() = %t, ValidUTF8 = %t; want %t, %t, %t",
			p, ok, complete, ValidUTF8(p), wantOK, valid, valid,
		)
	}
}

// representatives has a byte of every DFA class, at both ends of each
// range, plus the bytes on either side of every boundary.
var representatives = []byte{
	0x00, 0x41, 0x7f,
	0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
	0xc0, 0xc1, 0xc2, 0xdf,
	0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef,
	0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff,
}

func TestValidatorFailFastRepresentatives(t *testing.T) {
	// Every four-byte combination of representative bytes, written a byte
	// at a time: Write must fail exactly at the reference position.
	r := representatives
	p := make([]byte, 4)
	for _, a := range r {
		for _, b := range r {
			for _, c := range r {
				for _, d := range r {
					p[0], p[1], p[2], p[3] = a, b, c, d
					checkSplits(t, p, []int{1, 2, 3})
				}
			}
		}
	}
}

func TestValidatorFailFast(t *testing.T) {
	tests := []struct {
		name string
		in   string
		fail int // index of the failing byte, -1 if none
	}{
		{name: "empty", in: "", fail: -1},
		{name: "ascii", in: "hello", fail: -1},
		{name: "valid mix", in: "aé€😀", fail: -1},
		{name: "unfinished 2", in: "a\xc3", fail: -1},
		{name: "unfinished 3", in: "\xe2\x82", fail: -1},
		{name: "unfinished 4", in: "\xf0\x9f\x98", fail: -1},
		{name: "F5", in: "ab\xf5", fail: 2},
		{name: "FF", in: "\xff", fail: 0},
		{name: "C0", in: "\xc0", fail: 0},
		{name: "C1", in: "x\xc1\x81", fail: 1},
		{name: "lone continuation", in: "a\x80", fail: 1},
		{name: "overlong 3 E0 80", in: "\xe0\x80", fail: 1},
		{name: "overlong 3 E0 9F", in: "\xe0\x9f\xbf", fail: 1},
		{name: "smallest 3 E0 A0", in: "\xe0\xa0", fail: -1},
		{name: "overlong 4 F0 80", in: "\xf0\x80", fail: 1},
		{name: "overlong 4 F0 8F", in: "\xf0\x8f\xbf\xbf", fail: 1},
		{name: "surrogate ED A0", in: "\xed\xa0", fail: 1},
		{name: "surrogate ED BF", in: "\xed\xbf\xbf", fail: 1},
		{name: "last before surrogates ED 9F", in: "\xed\x9f\xbf", fail: -1},
		{name: "above U+10FFFF F4 90", in: "\xf4\x90", fail: 1},
		{name: "U+10FFFF", in: "\xf4\x8f\xbf\xbf", fail: -1},
		{name: "truncated then ascii", in: "\xe2\x82a", fail: 2},
		{name: "two leads", in: "\xc3\xc3", fail: 1},
		{name: "five byte form", in: "\xf8\x88\x80\x80\x80", fail: 0},
		{name: "failure after long ascii", in: strings.Repeat("a", 37) + "\xed\xa0\x80", fail: 38},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := []byte(tt.in)
			if ref := refFailPos(p); ref != tt.fail {
				t.Fatalf(
					"reference fails at %d; the table says %d",
					ref, tt.fail,
				)
			}
			// Byte by byte.
			var v Validator
			for i := range p {
				ok := v.Write(p[i : i+1])
				if want := tt.fail < 0 || i < tt.fail; ok != want {
					t.Fatalf(
						"Write(byte %d = %#x) = %t; want %t",
						i, p[i], ok, want,
					)
				}
			}
			// Up to and including the failing byte, at once.
			if tt.fail >= 0 {
				v.Reset()
				if !v.Write(p[:tt.fail]) {
					t.Fatalf("Write of the bytes before the failure = false; want true")
				}
				v.Reset()
				if v.Write(p[:tt.fail+1]) {
					t.Fatalf("Write through the failing byte = true; want false")
				}
			}
		})
	}
}

func TestValidatorStaysFailed(t *testing.T) {
	var v Validator
	if v.Write([]byte("ok\xff")) {
		t.Fatal("Write(ok\\xff) = true")
	}
	for _, p := range []string{"", "a", "é", "\x80"} {
		if v.Write([]byte(p)) {
			t.Fatalf(
				"Write(%q) after a failure = true; want false",
				p,
			)
		}
		if v.Complete() {
			t.Fatal("Complete() after a failure = true")
		}
	}
	v.Reset()
	if !v.Write([]byte("é")) || !v.Complete() {
		t.Fatal("after Reset the validator does not accept é")
	}
	var zero Validator
	if !zero.Complete() || !zero.Write(nil) || !zero.Complete() {
		t.Fatal("the zero Validator is not ready to use")
	}
}

// sampleTexts mixes ASCII runs of many lengths with code points of every
// encoded size, so that the 8-byte fast path meets them at every position.
func sampleTexts() [][]byte {
	var out [][]byte
	pieces := []string{"é", "€", "😀", "\u07ff", "\u0800", "\uffff", "\U00010000", "\U0010ffff", "\ud7ff", "\ue000"}
	for n := 0; n < 20; n++ {
		for _, piece := range pieces {
			out = append(out, []byte(strings.Repeat("a", n)+piece+strings.Repeat("b", 20-n)))
		}
	}
	out = append(out, []byte("Съешь же ещё этих мягких французских булок, да выпей чаю. 日本語のテキスト 🎉🎉 done"))
	return out
}

func TestValidatorSplits(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	corrupt := []byte{0x80, 0xbf, 0xc0, 0xc1, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff, 'z'}
	for _, text := range sampleTexts() {
		inputs := [][]byte{text}
		// Corrupt, truncate and insert at random positions.
		for k := 0; k < 20; k++ {
			c := bytes.Clone(text)
			c[rng.IntN(len(c))] = corrupt[rng.IntN(len(corrupt))]
			inputs = append(inputs, c, text[:rng.IntN(len(text))])
			i := rng.IntN(len(text))
			inputs = append(inputs, cat(text[:i], corrupt[rng.IntN(len(corrupt)):][:1], text[i:]))
		}
		for _, p := range inputs {
			if ValidUTF8(p) != utf8.Valid(p) {
				t.Fatalf(
					"ValidUTF8(%q) = %t; utf8.Valid says %t",
					p, ValidUTF8(p), utf8.Valid(p),
				)
			}
			checkSplits(t, p, nil)
			for i := 0; i <= len(p); i++ {
				checkSplits(t, p, []int{i})
			}
			for k := 0; k < 20; k++ {
				i := rng.IntN(len(p) + 1)
				j := i + rng.IntN(len(p)-i+1)
				checkSplits(t, p, []int{i, j})
			}
		}
	}
}

func TestValidatorLongInputs(t *testing.T) {
	// A single bad byte at every position of a long ASCII or mixed text
	// must be found by a single Write.
	for _, base := range [][]byte{
		[]byte(strings.Repeat("0123456789abcdef", 8)),
		[]byte(strings.Repeat("aé€😀", 12)),
	} {
		for i := range base {
			p := bytes.Clone(base)
			p[i] = 0xff
			var v Validator
			if v.Write(p) {
				t.Fatalf(
					"Write(%q) = true; want false",
					p,
				)
			}
			v.Reset()
			if !v.Write(p[:i]) {
				t.Fatalf(
					"Write(%q) = false; want true",
					p[:i],
				)
			}
		}
	}
}
