package codec

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
)

// naiveMask is the reference: RFC 6455 section 5.3, one byte at a time.
func naiveMask(b []byte, key [4]byte, offset int) {
	for i := range b {
		b[i] ^= key[(offset+i)%4]
	}
}

// checkMask masks length bytes starting at b[start:] of a guarded buffer
// and compares with the reference.
func checkMask(t *testing.T, rng *rand.Rand, length, start, offset int) {
	t.Helper()
	const guard = 32
	key := [4]byte{byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())}
	buf := make([]byte, guard+start+length+guard)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	want := bytes.Clone(buf)
	naiveMask(want[guard+start:guard+start+length], key, offset%4)
	Mask(buf[guard+start:guard+start+length], key, offset)
	if !bytes.Equal(buf, want) {
		for i := range buf {
			if buf[i] != want[i] {
				t.Fatalf(
					"Mask(len %d, start %d, offset %d, key % x): byte %d of the buffer (payload byte %d) is %#x; want %#x",
					length, start, offset, key, i, i-guard-start, buf[i], want[i],
				)
			}
		}
	}
}

func TestMaskShort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for length := 0; length <= maskWordsMax+40; length++ {
		for offset := 0; offset < 8; offset++ {
			for start := 0; start < 4; start++ {
				checkMask(t, rng, length, start, offset)
			}
		}
	}
}

func TestMaskLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, length := range []int{1 << 20, 1<<20 + 1, 1<<20 - 1, 1<<20 + 63, 4096 + 17} {
		for offset := 0; offset < 4; offset++ {
			for _, start := range []int{0, 1, 7, 31} {
				checkMask(t, rng, length, start, offset)
			}
		}
	}
}

func TestMaskBigOffsets(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, offset := range []int{math.MaxInt, math.MaxInt - 1, math.MaxInt - 2, math.MaxInt - 3, 1 << 40, 1<<40 + 3} {
		for _, length := range []int{1, 5, 15, 16, 17, 100} {
			checkMask(t, rng, length, 0, offset)
		}
	}
}

func TestMaskNegativeOffset(t *testing.T) {
	// offset is used mod 4 in the mathematical sense: -1 is 3.
	key := [4]byte{1, 2, 4, 8}
	for _, length := range []int{3, 40} {
		got := make([]byte, length)
		want := make([]byte, length)
		Mask(got, key, -1)
		naiveMask(want, key, 3)
		if !bytes.Equal(got, want) {
			t.Fatalf(
				"Mask(offset -1) = % x; want % x",
				got, want,
			)
		}
	}
}

func TestMaskChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	key := [4]byte{0xde, 0xad, 0xbe, 0xef}
	payload := make([]byte, 5000)
	for i := range payload {
		payload[i] = byte(rng.Uint32())
	}
	want := bytes.Clone(payload)
	naiveMask(want, key, 0)
	for round := 0; round < 200; round++ {
		got := bytes.Clone(payload)
		for off := 0; off < len(got); {
			n := min(rng.IntN(70), len(got)-off)
			Mask(got[off:off+n], key, off)
			off += n
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("round %d: masking in chunks differs from masking at once", round)
		}
	}
	// Masking twice restores the payload.
	Mask(want, key, 0)
	if !bytes.Equal(want, payload) {
		t.Fatal("masking twice did not restore the payload")
	}
}
