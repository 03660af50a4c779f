package main

import (
	"encoding/binary"
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/volley-ws/volley/bench/internal/hist"
)

// clientFrames splits masked client frames into (opcode, unmasked payload).
func clientFrames(t testing.TB, b []byte) (ops []byte, payloads [][]byte) {
	for len(b) > 0 {
		if b[0]&0x80 == 0 || b[1]&0x80 == 0 {
			t.Fatalf("client frame not final or not masked: % x", b[:2])
		}
		n, h := int(b[1]&0x7F), 2
		switch n {
		case 126:
			n, h = int(binary.BigEndian.Uint16(b[2:])), 4
		case 127:
			n, h = int(binary.BigEndian.Uint64(b[2:])), 10
		}
		mask := b[h : h+4]
		p := make([]byte, n)
		for i := range n {
			p[i] = b[h+4+i] ^ mask[i&3]
		}
		ops = append(ops, b[0]&0x0F)
		payloads = append(payloads, p)
		b = b[h+4+n:]
	}
	return ops, payloads
}

// serverFrame builds an unmasked server frame.
func serverFrame(fin bool, op byte, p []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	switch n := len(p); {
	case n <= 125:
		out = append(out, byte(n))
	case n <= 0xFFFF:
		out = append(out, 126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, 127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	return append(out, p...)
}

// echoOf answers the frames the stream queued the way an echo server does.
func echoOf(t testing.TB, s *stream) []byte {
	ops, payloads := clientFrames(t, s.out)
	s.out = s.out[:0]
	var out []byte
	for i, p := range payloads {
		out = append(out, serverFrame(true, ops[i], p)...)
	}
	return out
}

// feedInChunks feeds b to s in pieces of chunk bytes.
func feedInChunks(t testing.TB, s *stream, b []byte, chunk int) (int, error) {
	done := 0
	for len(b) > 0 {
		n := min(chunk, len(b))
		d, err := s.feed(b[:n], 1, true, true)
		done += d
		if err != nil {
			return done, err
		}
		b = b[n:]
	}
	return done, nil
}

func TestRoundTripEverySplit(t *testing.T) {
	for _, size := range []int{1, 5, 8, 32, 125, 126, 200, 65535, 65536, 70000} {
		for _, op := range []byte{opText, opBinary} {
			var h hist.Histogram
			s := newStream(7, false, op, size, 3, [4]byte{1, 2, 3, 4}, &h)
			for range 3 {
				s.queue(0)
			}
			chunks := []int{1, 2, 3, 7, 13, 1 << 20}
			if size > 1000 {
				chunks = []int{1000, 4096, 1 << 20}
			}
			for _, chunk := range chunks {
				in := echoOf(t, s)
				_, payloads := clientFrames(t, append([]byte(nil), s.out...))
				for _, p := range payloads {
					if op == opText && !utf8.Valid(p) {
						t.Fatalf("text payload not UTF-8")
					}
				}
				done, err := feedInChunks(t, s, in, chunk)
				if err != nil {
					t.Fatalf("size %d chunk %d: %v", size, chunk, err)
				}
				if done != 3 || s.mismatch != 0 || s.outstanding() != 3 {
					t.Fatalf("size %d chunk %d: done %d mismatch %d outstanding %d", size, chunk, done, s.mismatch, s.outstanding())
				}
			}
			if h.Count() != uint64(3*len(chunks)) {
				t.Fatalf("histogram has %d values", h.Count())
			}
		}
	}
}

func TestZeroCopyRoundTrip(t *testing.T) {
	const size, inflight = 5000, 3
	s := newStream(4, false, opBinary, size, inflight, [4]byte{5, 6, 7, 8}, new(hist.Histogram))
	s.useZeroCopy()
	for range inflight {
		s.queue(0)
	}
	for round := range 5 {
		var sent []byte
		for _, f := range s.wq {
			sent = append(sent, f...)
		}
		s.wq = s.wq[:0]
		ops, payloads := clientFrames(t, sent)
		if len(payloads) != inflight {
			t.Fatalf("round %d: %d frames queued", round, len(payloads))
		}
		var in []byte
		for i, p := range payloads {
			in = append(in, serverFrame(true, ops[i], p)...)
		}
		if round == 2 {
			in = append(serverFrame(true, opPing, []byte("p")), in...)
		}
		done, err := s.feed(in, 1, true, true)
		if err != nil || done != inflight || s.mismatch != 0 {
			t.Fatalf("round %d: done %d err %v mismatch %d", round, done, err, s.mismatch)
		}
		if round == 2 {
			if len(s.wq) != inflight+1 || s.wq[0][0] != 0x80|opPong {
				t.Fatalf("round %d: want the pong first, then %d frames", round, inflight)
			}
			s.wq = s.wq[1:]
		}
	}
}

func TestFragmentedEchoWithPing(t *testing.T) {
	s := newStream(1, false, opText, 300, 1, [4]byte{9, 8, 7, 6}, new(hist.Histogram))
	s.queue(0)
	_, payloads := clientFrames(t, s.out)
	s.out = s.out[:0]
	p := payloads[0]
	var in []byte
	in = append(in, serverFrame(false, opText, p[:5])...)
	in = append(in, serverFrame(true, opPing, []byte("hi"))...)
	in = append(in, serverFrame(false, opContinuation, p[5:200])...)
	in = append(in, serverFrame(true, opContinuation, p[200:])...)
	for _, chunk := range []int{1, 4, 1000} {
		s.out = s.out[:0]
		done, err := feedInChunks(t, s, in, chunk)
		if err != nil || done != 1 || s.mismatch != 0 {
			t.Fatalf("chunk %d: done %d err %v mismatch %d", chunk, done, err, s.mismatch)
		}
		ops, pl := clientFrames(t, s.out)
		if len(ops) != 2 || ops[0] != opPong || string(pl[0]) != "hi" || ops[1] != opText {
			t.Fatalf("want a pong then the next message, got ops %v", ops)
		}
		// the message just queued has the next sequence number: answer it
		in = nil
		in = append(in, serverFrame(false, opText, pl[1][:5])...)
		in = append(in, serverFrame(true, opPing, []byte("hi"))...)
		in = append(in, serverFrame(false, opContinuation, pl[1][5:200])...)
		in = append(in, serverFrame(true, opContinuation, pl[1][200:])...)
	}
}

func TestMismatchDetected(t *testing.T) {
	for _, at := range []int{0, 3, 8, 31} {
		s := newStream(3, false, opBinary, 32, 2, [4]byte{1, 1, 1, 1}, new(hist.Histogram))
		s.queue(0)
		s.queue(0)
		in := echoOf(t, s)
		in[2+at] ^= 0x20 // first message, payload byte at
		done, err := s.feed(in, 1, true, true)
		if err != nil || done != 2 || s.mismatch != 1 {
			t.Fatalf("byte %d: done %d err %v mismatch %d", at, done, err, s.mismatch)
		}
	}
	// swapped order (a lost message shifts every later sequence number)
	s := newStream(3, false, opBinary, 32, 2, [4]byte{1, 1, 1, 1}, new(hist.Histogram))
	s.queue(0)
	s.queue(0)
	in := echoOf(t, s)
	in = append(in[34:], in[:34]...)
	if _, err := s.feed(in, 1, true, true); err != nil || s.mismatch != 2 {
		t.Fatalf("swapped: err %v mismatch %d", err, s.mismatch)
	}
	// another connection's pattern
	a := newStream(1, false, opBinary, 32, 1, [4]byte{1, 1, 1, 1}, new(hist.Histogram))
	b := newStream(2, false, opBinary, 32, 1, [4]byte{1, 1, 1, 1}, new(hist.Histogram))
	a.queue(0)
	b.queue(0)
	if _, err := a.feed(echoOf(t, b), 1, true, true); err != nil || a.mismatch != 1 {
		t.Fatalf("crossed: err %v mismatch %d", err, a.mismatch)
	}
	// wrong type
	c := newStream(1, false, opText, 32, 1, [4]byte{1, 1, 1, 1}, new(hist.Histogram))
	c.queue(0)
	_, pl := clientFrames(t, c.out)
	if _, err := c.feed(serverFrame(true, opBinary, pl[0]), 1, true, true); err != nil || c.mismatch != 1 {
		t.Fatalf("type: err %v mismatch %d", err, c.mismatch)
	}
}

func TestProtocolErrors(t *testing.T) {
	s := newStream(1, false, opBinary, 4, 1, [4]byte{1, 2, 3, 4}, new(hist.Histogram))
	s.queue(0)
	_, err := s.feed(serverFrame(true, opClose, []byte{0x03, 0xE9, 'b', 'y', 'e'}), 1, true, true)
	if !errors.Is(err, errServerClosed) || s.closeCode != 1001 {
		t.Fatalf("close: %v, code %d", err, s.closeCode)
	}
	bad := map[string][]byte{
		"masked":      {0x82, 0x84, 0, 0, 0, 0, 1, 2, 3, 4},
		"rsv":         {0xC2, 0x04, 1, 2, 3, 4},
		"long":        serverFrame(true, opBinary, make([]byte, 5)),
		"short":       serverFrame(true, opBinary, make([]byte, 3)),
		"reserved op": {0x83, 0x00},
		"stray cont":  {0x80, 0x04, 1, 2, 3, 4},
		"big ping":    serverFrame(true, opPing, make([]byte, 126)),
	}
	for name, in := range bad {
		s := newStream(1, false, opBinary, 4, 1, [4]byte{1, 2, 3, 4}, new(hist.Histogram))
		s.queue(0)
		var pe *protocolError
		if _, err := s.feed(in, 1, true, true); !errors.As(err, &pe) {
			t.Errorf("%s: got %v, want a protocol error", name, err)
		}
	}
}

func TestRawRoundTrip(t *testing.T) {
	s := newStream(5, true, 0, 10, 4, [4]byte{}, new(hist.Histogram))
	for range 4 {
		s.queue(0)
	}
	in := append([]byte(nil), s.out...)
	s.out = s.out[:0]
	done, err := feedInChunks(t, s, in, 3)
	if err != nil || done != 4 || s.mismatch != 0 || len(s.out) != 40 {
		t.Fatalf("done %d err %v mismatch %d out %d", done, err, s.mismatch, len(s.out))
	}
	in = append([]byte(nil), s.out...)
	in[13] ^= 1
	if _, err := s.feed(in, 1, true, true); err != nil || s.mismatch != 1 {
		t.Fatalf("mismatch %d err %v", s.mismatch, err)
	}
}

func benchmarkEcho(b *testing.B, size, inflight int) {
	s := newStream(1, false, opBinary, size, inflight, [4]byte{1, 2, 3, 4}, new(hist.Histogram))
	for range inflight {
		s.queue(0)
	}
	in := echoOf(b, s)
	b.SetBytes(int64(size * inflight))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		// every iteration feeds the same echoes: the sequence numbers no
		// longer match after the first, which costs the same to check
		s.recvSeq = s.sendSeq - uint64(inflight)
		if _, err := s.feed(in, 1, true, true); err != nil {
			b.Fatal(err)
		}
		s.out = s.out[:0]
	}
}

func BenchmarkFeedAndQueue16Kx16ZeroCopy(b *testing.B) {
	s := newStream(1, false, opBinary, 16<<10, 16, [4]byte{1, 2, 3, 4}, new(hist.Histogram))
	s.useZeroCopy()
	for range 16 {
		s.queue(0)
	}
	var in []byte
	for _, f := range s.wq {
		ops, payloads := clientFrames(b, f)
		in = append(in, serverFrame(true, ops[0], payloads[0])...)
	}
	s.wq = s.wq[:0]
	b.SetBytes(16 * 16 << 10)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		s.recvSeq = s.sendSeq - 16
		if _, err := s.feed(in, 1, true, true); err != nil {
			b.Fatal(err)
		}
		s.wq = s.wq[:0]
	}
}

func BenchmarkFeedAndQueue32x1(b *testing.B)   { benchmarkEcho(b, 32, 1) }
func BenchmarkFeedAndQueue128x8(b *testing.B)  { benchmarkEcho(b, 128, 8) }
func BenchmarkFeedAndQueue16Kx16(b *testing.B) { benchmarkEcho(b, 16<<10, 16) }

func benchmarkQueue(b *testing.B, size int) {
	s := newStream(1, false, opBinary, size, 1, [4]byte{1, 2, 3, 4}, new(hist.Histogram))
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for range b.N {
		s.queue(0)
		s.out = s.out[:0]
	}
}

func BenchmarkQueue128(b *testing.B) { benchmarkQueue(b, 128) }
func BenchmarkQueue16K(b *testing.B) { benchmarkQueue(b, 16<<10) }
