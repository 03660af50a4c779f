package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/volley-ws/volley/bench/internal/hist"
	"github.com/volley-ws/volley/bench/internal/wsframe"
)

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	opContinuation = wsframe.OpContinuation
	opText         = wsframe.OpText
	opBinary       = wsframe.OpBinary
	opClose        = wsframe.OpClose
	opPing         = wsframe.OpPing
	opPong         = wsframe.OpPong
)

// seqAlphabet encodes sequence numbers as ASCII, six bits a character, so
// that every payload is valid UTF-8 and can be sent as text.
const seqAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// maxSeqChars is how many leading payload bytes carry the sequence number
// (48 bits; fewer when the payload is shorter, then it wraps).
const maxSeqChars = 8

// seqChar is character i of the encoding of seq.
func seqChar(seq uint64, i int) byte {
	return seqAlphabet[(seq>>(6*uint(i)))&63]
}

// patternByte is payload byte i of every message of connection id (after
// the sequence characters): printable ASCII that differs between
// connections, so that crossed streams are caught too.
func patternByte(id, i int) byte {
	return seqAlphabet[(id*13+i*7)&63]
}

// errServerClosed is wrapped by the error feed returns when the server sent
// a close frame.
var errServerClosed = errors.New("server sent close")

// protocolError is a framing error that makes the rest of the stream
// unparseable.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return "protocol error: " + e.msg }

func protoErr(format string, args ...any) error {
	return &protocolError{msg: fmt.Sprintf(format, args...)}
}

// stream is one connection's traffic state, independent of how its bytes
// move: it builds the client's frames (pre-masked template, only the
// sequence characters patched per message) and parses and checks the
// server's echoes incrementally, byte ranges as they arrive, without
// reassembling or allocating.
type stream struct {
	id       int
	raw      bool // plain TCP echo: no framing
	opcode   byte // opText or opBinary
	size     int
	seqChars int
	inflight int

	mask    [4]byte
	tmpl    []byte // one whole client frame: header, mask key, masked payload
	hdrLen  int    // where the payload starts in tmpl
	pattern []byte // expected payload (sequence characters left as zero)

	sendSeq uint64
	recvSeq uint64
	sentAt  []int64 // send time of sequence s at sentAt[s%inflight]

	out []byte // frames queued for writing (copy mode)

	// zero-copy mode (large messages on the epoll engine): one pre-built
	// frame per in-flight slot, re-sent in place once its echo is back,
	// and a queue of whole frames for writev
	slots [][]byte
	wq    [][]byte

	// parser state
	hdr       [14]byte
	hdrN      int  // bytes of a split header held in hdr
	inPayload bool // inside a frame's payload
	rem       int  // payload bytes left in the current frame
	frameOp   byte
	fin       bool
	inMsg     bool // a data message has started (fragments may follow)
	msgOff    int  // payload bytes of the current message seen so far
	bad       bool // the current message did not match
	ctl       [125]byte
	ctlN      int

	closing   bool // we sent a close frame
	closeCode int  // status code of the server's close frame, if any

	// counters, owned by the goroutine that drives the stream
	msgs     uint64
	mismatch uint64
	hist     *hist.Histogram
}

// newStream prepares connection id's frames. mask must not be all zero for
// a WebSocket (any value is valid; zero is merely unusual).
func newStream(id int, raw bool, opcode byte, size, inflight int, mask [4]byte, h *hist.Histogram) *stream {
	s := &stream{
		id:       id,
		raw:      raw,
		opcode:   opcode,
		size:     size,
		seqChars: min(size, maxSeqChars),
		inflight: inflight,
		mask:     mask,
		sentAt:   make([]int64, inflight),
		hist:     h,
	}
	s.pattern = make([]byte, size)
	for i := s.seqChars; i < size; i++ {
		s.pattern[i] = patternByte(id, i)
	}
	if raw {
		s.tmpl = append([]byte(nil), s.pattern...)
	} else {
		s.tmpl = wsframe.AppendClient(nil, opcode, s.pattern, mask)
		s.hdrLen = len(s.tmpl) - size
	}
	return s
}

// zeroCopyMin is the message size from which the epoll engine writes the
// pre-built frames themselves (writev) instead of copying them into one
// buffer.
const zeroCopyMin = 4096

// useZeroCopy switches the stream to zero-copy mode: frames are queued on
// s.wq, by reference. Sequence number s lives in slot s%inflight: it is
// free again when it is re-queued, because at most inflight messages are
// outstanding, so the echo of the one before (hence all of its bytes
// sent) has come back.
func (s *stream) useZeroCopy() {
	s.slots = make([][]byte, s.inflight)
	for i := range s.slots {
		s.slots[i] = append([]byte(nil), s.tmpl...)
	}
}

// queue appends the next message to the output and stamps its send time.
func (s *stream) queue(now int64) {
	var p []byte
	if s.slots != nil {
		f := s.slots[s.sendSeq%uint64(s.inflight)]
		s.wq = append(s.wq, f)
		p = f[s.hdrLen:]
	} else {
		start := len(s.out)
		s.out = append(s.out, s.tmpl...)
		p = s.out[start+s.hdrLen:]
	}
	if s.raw {
		for i := 0; i < s.seqChars; i++ {
			p[i] = seqChar(s.sendSeq, i)
		}
	} else {
		for i := 0; i < s.seqChars; i++ {
			p[i] = seqChar(s.sendSeq, i) ^ s.mask[i&3]
		}
	}
	s.sentAt[s.sendSeq%uint64(s.inflight)] = now
	s.sendSeq++
}

// queueControl appends a masked control frame (pong, close).
func (s *stream) queueControl(op byte, payload []byte) {
	if s.slots != nil {
		// rare (pings, the close): a frame of its own
		s.wq = append(s.wq, wsframe.AppendClient(nil, op, payload, s.mask))
		return
	}
	s.out = wsframe.AppendClient(s.out, op, payload, s.mask)
}

// queueClose appends a close frame with status 1000.
func (s *stream) queueClose() {
	s.queueControl(opClose, []byte{0x03, 0xE8})
	s.closing = true
}

// outstanding is the number of messages sent but not yet echoed.
func (s *stream) outstanding() int { return int(s.sendSeq - s.recvSeq) }

// check compares chunk, found at offset off of the message being received,
// with what was sent.
func (s *stream) check(chunk []byte, off int) {
	if off+len(chunk) > s.size {
		s.bad = true
		return
	}
	for off < s.seqChars && len(chunk) > 0 {
		if chunk[0] != seqChar(s.recvSeq, off) {
			s.bad = true
		}
		chunk = chunk[1:]
		off++
	}
	if len(chunk) > 0 && !bytes.Equal(chunk, s.pattern[off:off+len(chunk)]) {
		s.bad = true
	}
}

// complete accounts for one fully received message and, when more is set,
// sends the next one in its place.
func (s *stream) complete(now int64, record, more bool) {
	if s.recvSeq == s.sendSeq {
		// an echo of something never sent
		s.mismatch++
	} else {
		if record {
			s.hist.Record(now - s.sentAt[s.recvSeq%uint64(s.inflight)])
		}
		s.recvSeq++
	}
	if s.bad {
		s.mismatch++
		s.bad = false
	}
	s.msgs++
	if more {
		s.queue(now)
	}
}

// feed consumes received bytes. record says whether latencies count, more
// whether each completed message is replaced by a new one. It returns the
// number of messages completed; a non-nil error means the stream cannot
// continue (framing error, or the server closed).
func (s *stream) feed(p []byte, now int64, record, more bool) (int, error) {
	if s.raw {
		return s.feedRaw(p, now, record, more), nil
	}
	done := 0
	for len(p) > 0 {
		if !s.inPayload {
			var used int
			var err error
			if s.hdrN == 0 {
				used, err = s.header(p)
				if err != nil {
					return done, err
				}
				if used == 0 { // split header: keep what we have
					s.hdrN = copy(s.hdr[:], p)
					return done, nil
				}
			} else {
				// complete a split header from the front of p
				old := s.hdrN
				n := copy(s.hdr[old:], p)
				used, err = s.header(s.hdr[:old+n])
				if err != nil {
					return done, err
				}
				if used == 0 {
					s.hdrN = old + n
					return done, nil
				}
				used -= old
				s.hdrN = 0
			}
			p = p[used:]
			if s.rem == 0 {
				d, err := s.frameEnd(now, record, more)
				done += d
				if err != nil {
					return done, err
				}
			}
			continue
		}
		n := min(s.rem, len(p))
		if s.frameOp >= opClose {
			s.ctlN += copy(s.ctl[s.ctlN:], p[:n])
		} else {
			s.check(p[:n], s.msgOff)
			s.msgOff += n
		}
		s.rem -= n
		p = p[n:]
		if s.rem == 0 {
			d, err := s.frameEnd(now, record, more)
			done += d
			if err != nil {
				return done, err
			}
		}
	}
	return done, nil
}

// header parses a server frame header at the start of b. It returns 0 if b
// holds only part of it.
func (s *stream) header(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, nil
	}
	b0, b1 := b[0], b[1]
	if b1&0x80 != 0 {
		return 0, protoErr("masked server frame")
	}
	if b0&0x70 != 0 {
		return 0, protoErr("RSV bits set (0x%02x)", b0)
	}
	n := int(b1 & 0x7F)
	used := 2
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, nil
		}
		n = int(binary.BigEndian.Uint16(b[2:]))
		used = 4
	case 127:
		if len(b) < 10 {
			return 0, nil
		}
		v := binary.BigEndian.Uint64(b[2:])
		if v > 1<<40 {
			return 0, protoErr("frame length %d", v)
		}
		n = int(v)
		used = 10
	}
	op := b0 & 0x0F
	fin := b0&0x80 != 0
	switch op {
	case opClose, opPing, opPong:
		if !fin || n > 125 {
			return 0, protoErr("bad control frame (opcode %d, fin %v, length %d)", op, fin, n)
		}
		s.ctlN = 0
	case opText, opBinary:
		if s.inMsg {
			return 0, protoErr("new data frame inside a fragmented message")
		}
		if op != s.opcode {
			s.bad = true
		}
		s.inMsg = true
		s.msgOff = 0
	case opContinuation:
		if !s.inMsg {
			return 0, protoErr("continuation frame outside a message")
		}
	default:
		return 0, protoErr("reserved opcode %d", op)
	}
	if op < opClose && s.msgOff+n > s.size {
		return 0, protoErr("echo longer than the %d bytes sent (%d)", s.size, s.msgOff+n)
	}
	s.frameOp = op
	s.fin = fin
	s.rem = n
	s.inPayload = true
	return used, nil
}

// frameEnd runs when the current frame's payload is complete.
func (s *stream) frameEnd(now int64, record, more bool) (int, error) {
	s.inPayload = false
	switch s.frameOp {
	case opPing:
		var pl [125]byte
		n := copy(pl[:], s.ctl[:s.ctlN])
		s.queueControl(opPong, pl[:n])
		return 0, nil
	case opPong:
		return 0, nil
	case opClose:
		s.closeCode = 1005
		if s.ctlN >= 2 {
			s.closeCode = int(binary.BigEndian.Uint16(s.ctl[:2]))
		}
		return 0, fmt.Errorf("%w (code %d, reason %q)", errServerClosed, s.closeCode, s.ctl[min(2, s.ctlN):s.ctlN])
	}
	if !s.fin {
		return 0, nil
	}
	s.inMsg = false
	if s.msgOff != s.size {
		return 0, protoErr("echo of %d bytes, %d sent", s.msgOff, s.size)
	}
	s.complete(now, record, more)
	return 1, nil
}

// feedRaw consumes a plain TCP echo: message boundaries every size bytes.
func (s *stream) feedRaw(p []byte, now int64, record, more bool) int {
	done := 0
	for len(p) > 0 {
		n := min(len(p), s.size-s.msgOff)
		s.check(p[:n], s.msgOff)
		s.msgOff += n
		p = p[n:]
		if s.msgOff == s.size {
			s.msgOff = 0
			s.complete(now, record, more)
			done++
		}
	}
	return done
}
