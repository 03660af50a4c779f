package main

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
)

// WebSocket opcodes and header bits (RFC 6455 section 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA

	finBit  = 0x80
	rsv1Bit = 0x40 // "compressed" with permessage-deflate
	rsv2Bit = 0x20
	rsv3Bit = 0x10
	maskBit = 0x80
)

// deflateTail is the empty stored block a sync flush ends with, which
// RFC 7692 section 7.2.1 removes from every compressed message.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff}

// appendFrame appends one client frame to dst: first byte b0 (FIN, RSV
// bits and opcode), the shortest length encoding, the masking key and the
// payload masked with it.
func appendFrame(dst []byte, b0 byte, payload []byte, mask [4]byte) []byte {
	n := len(payload)
	switch {
	case n <= 125:
		dst = append(dst, b0, maskBit|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, b0, maskBit|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, b0, maskBit|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	dst = append(dst, mask[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	for i := range payload {
		dst[start+i] ^= mask[i&3]
	}
	return dst
}

// closePayload is a close frame's payload: the code and a reason.
func closePayload(code int, reason string) []byte {
	p := binary.BigEndian.AppendUint16(nil, uint16(code))
	return append(p, reason...)
}

// repeatFrames returns copies of frame back to back, at least min bytes
// (and at least one frame): one write of it sends many whole frames.
func repeatFrames(frame []byte, min int) []byte {
	k := max(1, (min+len(frame)-1)/len(frame))
	return bytes.Repeat(frame, k)
}

// fillPayload is n bytes of printable filler (valid UTF-8 too).
func fillPayload(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = 'a' + byte(i%26)
	}
	return p
}

// deflateBomb returns the payload of one permessage-deflate message that
// inflates to n zero bytes: n zeros compressed with compress/flate at
// level, ended by a sync flush whose trailing 0x00 0x00 0xff 0xff is
// removed (RFC 7692 section 7.2.1). A long run of zeros compresses about
// 1000 to 1, so 32 MiB takes about 32 KiB.
func deflateBomb(n int64, level int) ([]byte, error) {
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, level)
	if err != nil {
		return nil, err
	}
	zeros := make([]byte, 64<<10)
	for left := n; left > 0; {
		k := min(left, int64(len(zeros)))
		if _, err := w.Write(zeros[:k]); err != nil {
			return nil, err
		}
		left -= k
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if !bytes.HasSuffix(b, deflateTail) {
		return nil, errors.New("deflate: sync flush did not end with 00 00 ff ff")
	}
	return b[:len(b)-len(deflateTail)], nil
}

// frameScanner parses a server's frames as the bytes arrive without
// keeping their payloads: it counts data messages and their bytes, keeps
// a close frame's code, and stops at the close frame.
type frameScanner struct {
	hdr  [14]byte
	nh   int   // header bytes gathered
	left int64 // payload bytes of the current frame still to come
	op   byte
	fin  bool
	inFr bool // inside a frame's payload

	ctl []byte // payload of the current control frame

	msgs      int64 // complete data messages
	dataBytes int64 // payload bytes of data frames, as sent (compressed or not)
	pings     int64
	closed    bool // a close frame came
	code      int  // its code; 1005 when it had none
	bad       string
}

// headerLen is the length of a frame header given its first two bytes.
func headerLen(b1 byte) int {
	n := 2
	switch b1 & 0x7F {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&maskBit != 0 {
		n += 4
	}
	return n
}

// feed consumes b; it returns how many bytes it used (fewer than len(b)
// once a close frame is complete or the stream cannot be parsed).
func (s *frameScanner) feed(b []byte) int {
	used := 0
	for len(b) > 0 && !s.closed && s.bad == "" {
		if s.inFr {
			k := int(min(s.left, int64(len(b))))
			if s.op >= opClose {
				s.ctl = append(s.ctl, b[:k]...)
			} else {
				s.dataBytes += int64(k)
			}
			s.left -= int64(k)
			b, used = b[k:], used+k
			if s.left == 0 {
				s.frameDone()
			}
			continue
		}
		s.hdr[s.nh] = b[0]
		s.nh++
		b, used = b[1:], used+1
		if s.nh < 2 || s.nh < headerLen(s.hdr[1]) {
			continue
		}
		s.startFrame()
	}
	return used
}

func (s *frameScanner) startFrame() {
	h := s.hdr[:s.nh]
	s.nh = 0
	s.op = h[0] & 0x0F
	s.fin = h[0]&finBit != 0
	var n uint64
	switch h[1] & 0x7F {
	case 126:
		n = uint64(binary.BigEndian.Uint16(h[2:]))
	case 127:
		n = binary.BigEndian.Uint64(h[2:])
	default:
		n = uint64(h[1] & 0x7F)
	}
	if s.op >= opClose && n > 125 {
		s.bad = "control frame over 125 bytes"
		return
	}
	if n > 1<<62 {
		s.bad = "frame length out of range"
		return
	}
	s.left, s.inFr, s.ctl = int64(n), true, s.ctl[:0]
	if n == 0 {
		s.frameDone()
	}
}

func (s *frameScanner) frameDone() {
	s.inFr = false
	switch s.op {
	case opClose:
		s.closed, s.code = true, 1005
		if len(s.ctl) >= 2 {
			s.code = int(binary.BigEndian.Uint16(s.ctl))
		}
	case opPing:
		s.pings++
	case opPong:
	default:
		if s.fin {
			s.msgs++
		}
	}
}

// httpScanner counts the HTTP responses in a stream of them (pipelined
// answers) and their status codes, keeping at most one response head.
type httpScanner struct {
	head      []byte
	body      int64 // body bytes still to skip
	responses int64
	statuses  map[int]int64
	stopped   string // why counting stopped (a response it cannot delimit)
}

const maxHead = 16 << 10

func (s *httpScanner) feed(b []byte) {
	for len(b) > 0 && s.stopped == "" {
		if s.body > 0 {
			k := int(min(s.body, int64(len(b))))
			s.body -= int64(k)
			b = b[k:]
			continue
		}
		// look for the end of the head in what is kept plus b
		old := len(s.head)
		s.head = append(s.head, b...)
		i := bytes.Index(s.head, []byte("\r\n\r\n"))
		if i < 0 {
			if len(s.head) > maxHead {
				s.stopped = "response head over 16 KiB"
			}
			return
		}
		consumed := i + 4 - old // bytes of b that belong to this head
		s.response(string(s.head[:i]))
		s.head = s.head[:0]
		b = b[consumed:]
	}
}

func (s *httpScanner) response(head string) {
	lines := strings.Split(head, "\r\n")
	f := strings.Fields(lines[0])
	if len(f) < 2 || !strings.HasPrefix(f[0], "HTTP/") {
		s.stopped = "not an HTTP response: " + strconv.Quote(lines[0])
		return
	}
	code, err := strconv.Atoi(f[1])
	if err != nil {
		s.stopped = "bad status line " + strconv.Quote(lines[0])
		return
	}
	if s.statuses == nil {
		s.statuses = map[int]int64{}
	}
	s.statuses[code]++
	s.responses++
	for _, l := range lines[1:] {
		name, value, _ := strings.Cut(l, ":")
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "content-length":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n < 0 {
				s.stopped = "bad Content-Length"
				return
			}
			s.body = n
		case "transfer-encoding":
			if !strings.EqualFold(value, "identity") {
				s.stopped = "chunked response"
				return
			}
		}
	}
}
