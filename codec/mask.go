package codec

import "github.com/gobwas/ws"

// Mask XORs b in place with the masking key, starting at byte offset of the
// mask stream. The same call masks and unmasks.
//
// offset is the number of payload bytes already processed with this key;
// only offset mod 4 matters, so a running byte count of any size may be
// passed. Masking a payload in pieces, each with the offset at which it
// starts, gives the same result as masking it at once.
//
// It is a thin wrapper over ws.Cipher, which uses SIMD instructions where
// available.
func Mask(b []byte, key [4]byte, offset int) {
	// offset&3 is offset mod 4 for every int, negative ones included, and
	// keeps ws.Cipher's index arithmetic (offset+i) far from overflow.
	ws.Cipher(b, key, offset&3)
}
