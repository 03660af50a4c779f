package main

import "errors"

// A published message's payload is ASCII (valid UTF-8, so text messages
// work too): the publisher's id, its sequence number and the send time,
// six bits a character, then a pattern that depends on the publisher
// only:
//
//	[0:3)   publisher id          (18 bits)
//	[3:11)  sequence number       (48 bits)
//	[11:21) send time, ns since the run's start (60 bits)
//	[21:)   patternByte(publisher, i)
const (
	pubChars  = 3
	seqChars  = 8
	timeChars = 10
	headChars = pubChars + seqChars + timeChars

	maxPubs = 1 << (6 * pubChars)
)

// alphabet encodes six bits a character.
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// decodeTab maps a character back to its six bits; 0xFF for any other byte.
var decodeTab = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// putChars writes the low 6*len(dst) bits of v into dst, least
// significant character first.
func putChars(dst []byte, v uint64) {
	for i := range dst {
		dst[i] = alphabet[v&63]
		v >>= 6
	}
}

// getChars is putChars' inverse; ok is false if a byte is not in the
// alphabet.
func getChars(src []byte) (v uint64, ok bool) {
	for i := len(src) - 1; i >= 0; i-- {
		d := decodeTab[src[i]]
		if d == 0xFF {
			return 0, false
		}
		v = v<<6 | uint64(d)
	}
	return v, true
}

// patternByte is payload byte i (i >= headChars) of every message of
// publisher pub: printable ASCII that differs between publishers.
func patternByte(pub, i int) byte {
	return alphabet[(pub*13+i*7)&63]
}

// pattern is the payload of publisher pub's messages, head left zero.
func pattern(pub, size int) []byte {
	p := make([]byte, size)
	for i := headChars; i < size; i++ {
		p[i] = patternByte(pub, i)
	}
	return p
}

// putHead writes a message's head into p (which is masked with mask when
// mask is not zero: the bytes of p are XORed with mask[i&3]).
func putHead(p []byte, pub int, seq uint64, at int64, mask [4]byte) {
	putChars(p[:pubChars], uint64(pub))
	putChars(p[pubChars:pubChars+seqChars], seq)
	putChars(p[pubChars+seqChars:headChars], uint64(at))
	for i := range headChars {
		p[i] ^= mask[i&3]
	}
}

var errBadHead = errors.New("payload head is not valid")

// parseHead reads a message's head.
func parseHead(p []byte) (pub int, seq uint64, at int64, err error) {
	if len(p) < headChars {
		return 0, 0, 0, errBadHead
	}
	v1, ok1 := getChars(p[:pubChars])
	v2, ok2 := getChars(p[pubChars : pubChars+seqChars])
	v3, ok3 := getChars(p[pubChars+seqChars : headChars])
	if !ok1 || !ok2 || !ok3 {
		return 0, 0, 0, errBadHead
	}
	return int(v1), v2, int64(v3), nil
}
