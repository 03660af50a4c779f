package codec

import "unicode/utf8"

// This file holds the test reference for fail-fast UTF-8 validation. It is
// built on unicode/utf8 by brute force and shares no code with the DFA.

// boundaryBytes are the continuation byte ranges that Table 3-7 of the
// Unicode Standard tells apart (80-8F, 90-9F, A0-BF), each by both of its
// ends: whenever an unfinished sequence has a valid completion, it has one
// made of these bytes.
var boundaryBytes = [...]byte{0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf}

// refCompletable reports whether seg, the bytes of at most one code point
// (the input before it being complete and valid), can be extended to
// valid UTF-8: it is valid already, or appending some one to three bytes
// makes it valid.
func refCompletable(seg []byte) bool {
	if len(seg) == 0 || utf8.Valid(seg) {
		return true
	}
	if len(seg) >= utf8.UTFMax {
		return false
	}
	var buf [utf8.UTFMax]byte
	n := copy(buf[:], seg)
	return refExtend(&buf, n)
}

// refExtend tries every completion of buf[:n] by boundary bytes.
func refExtend(buf *[utf8.UTFMax]byte, n int) bool {
	if n == utf8.UTFMax {
		return false
	}
	for _, c := range boundaryBytes {
		buf[n] = c
		if utf8.Valid(buf[:n+1]) || refExtend(buf, n+1) {
			return true
		}
	}
	return false
}

// refScan returns the index of the first byte of p after which p can no
// longer be completed to valid UTF-8 (-1 if there is none), and the start
// of the unfinished code point at the end of p (len(p) if p ends on a code
// point boundary; meaningful only when fail is -1).
func refScan(p []byte) (fail, start int) {
	for i := range p {
		if i == start && p[i] < utf8.RuneSelf {
			start++ // an ASCII byte on a boundary; saves time when fuzzing
			continue
		}
		seg := p[start : i+1]
		if !refCompletable(seg) {
			return i, start
		}
		if utf8.Valid(seg) {
			start = i + 1
		}
	}
	return -1, start
}

// refFailPos is the fail position of refScan.
func refFailPos(p []byte) int {
	fail, _ := refScan(p)
	return fail
}
