package codec

import (
	"encoding/binary"
	"math/bits"

	"github.com/gobwas/ws"
)

// maskWordsMax is the payload size from which Mask hands over to
// ws.Cipher: below it, XORing eight bytes at a time is faster than the
// SIMD cipher's set-up (BenchmarkMask: about 6 ns against 20 ns for 128
// bytes; even at 512 bytes).
const maskWordsMax = 512

// Mask XORs b in place with the masking key, starting at byte offset of the
// mask stream. The same call masks and unmasks.
//
// offset is the number of payload bytes already processed with this key;
// only offset mod 4 matters, so a running byte count of any size may be
// passed. Masking a payload in pieces, each with the offset at which it
// starts, gives the same result as masking it at once.
//
// Payloads from 512 bytes go to ws.Cipher, which uses SIMD instructions
// where available; shorter ones are XORed eight bytes at a time.
func Mask(b []byte, key [4]byte, offset int) {
	if len(b) < maskWordsMax {
		maskWords(b, key, offset)
		return
	}
	// offset&3 is offset mod 4 for every int, negative ones included, and
	// keeps ws.Cipher's index arithmetic (offset+i) far from overflow.
	ws.Cipher(b, key, offset&3)
}

// maskWords is Mask with 64-bit XORs, 32 bytes per round, then 8, then
// single bytes.
func maskWords(b []byte, key [4]byte, offset int) {
	// Rotate the key so that its low byte is the one for b[0]; as a
	// little-endian word, byte i of k64 then masks b[i] for any i < 8.
	k := bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*(offset&3))
	k64 := uint64(k) | uint64(k)<<32
	for len(b) >= 32 {
		v0 := binary.LittleEndian.Uint64(b[0:8])
		v1 := binary.LittleEndian.Uint64(b[8:16])
		v2 := binary.LittleEndian.Uint64(b[16:24])
		v3 := binary.LittleEndian.Uint64(b[24:32])
		binary.LittleEndian.PutUint64(b[0:8], v0^k64)
		binary.LittleEndian.PutUint64(b[8:16], v1^k64)
		binary.LittleEndian.PutUint64(b[16:24], v2^k64)
		binary.LittleEndian.PutUint64(b[24:32], v3^k64)
		b = b[32:]
	}
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= byte(k64 >> (8 * i))
	}
}
