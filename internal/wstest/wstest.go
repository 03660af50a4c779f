// Package wstest is a raw WebSocket client for tests: it performs a real
// opening handshake over TCP, then lets a test write exact bytes, including
// frames that break RFC 6455 (unmasked, reserved bits or opcodes, bad
// lengths), optionally in small chunks, and read the server's frames one by
// one with a deadline.
//
// Frames are built byte by byte here, independently of the codec package,
// so a bug in the server's codec cannot hide behind the same bug in the
// client. Every method reports failures through the testing.TB given to
// Dial (with t.Fatalf), so it must be called from the test's goroutine.
package wstest

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// Opcodes of RFC 6455 section 5.2.
const (
	OpContinuation byte = 0x0
	OpText         byte = 0x1
	OpBinary       byte = 0x2
	OpClose        byte = 0x8
	OpPing         byte = 0x9
	OpPong         byte = 0xA
)

// Reserved bits, as passed to WriteFrame and AppendFrame and reported in
// Frame.Rsv: the three bits after FIN, shifted down (RSV1 is the highest).
const (
	RSV1 byte = 0x4
	RSV2 byte = 0x2
	RSV3 byte = 0x1
)

// NoStatus passed to ExpectClose means the close frame must have an empty
// payload (no status code). It is the value RFC 6455 reserves for "no status
// code present" (1005), which never appears on the wire.
const NoStatus = 1005

// websocketGUID is the magic string of RFC 6455 section 1.3.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// DefaultTimeout bounds each read (handshake, ReadFrame) and each write
// unless Conn.Timeout is changed.
const DefaultTimeout = 5 * time.Second

// ChunkPause is the pause between two chunks written by WriteChunks, long
// enough for the server to see each chunk in its own read.
const ChunkPause = 5 * time.Millisecond

// Conn is a client WebSocket connection opened by Dial.
type Conn struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
	// Timeout bounds each read and write; DefaultTimeout after Dial.
	Timeout time.Duration
}

// Frame is one frame received from the server, as it was on the wire.
type Frame struct {
	Fin     bool
	Rsv     byte // RSV1..RSV3, see the RSV constants
	Opcode  byte
	Payload []byte
}

// CloseCode returns the status code of a close frame's payload, or
// NoStatus when the payload is shorter than two bytes.
func (f Frame) CloseCode() int {
	if len(f.Payload) < 2 {
		return NoStatus
	}
	return int(binary.BigEndian.Uint16(f.Payload))
}

// CloseReason returns the reason of a close frame's payload (after the
// status code), or "".
func (f Frame) CloseReason() string {
	if len(f.Payload) < 2 {
		return ""
	}
	return string(f.Payload[2:])
}

// String describes the frame briefly, for test messages.
func (f Frame) String() string {
	p := f.Payload
	more := ""
	if len(p) > 32 {
		p, more = p[:32], "..."
	}
	return fmt.Sprintf("{fin=%v rsv=%d op=%#x len=%d payload=%q%s}", f.Fin, f.Rsv, f.Opcode, len(f.Payload), p, more)
}

// Dial connects to addr (host:port) over TCP and performs the opening
// handshake for path: a GET with a random 16-byte Sec-WebSocket-Key. It
// fails the test unless the answer is 101 with "Upgrade: websocket", a
// Connection header containing "upgrade" and the Sec-WebSocket-Accept that
// RFC 6455 section 4.2.2 derives from the key. The connection is closed by
// t.Cleanup.
func Dial(t testing.TB, addr, path string) *Conn {
	t.Helper()
	c, _ := dialHeaders(t, addr, path, "")
	return c
}

// NetConn returns the underlying TCP connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Reader returns the connection's buffered reader: the bytes the server
// sent from the first after the handshake's response, for tests that check
// them byte for byte.
func (c *Conn) Reader() io.Reader { return c.br }

// Close closes the TCP connection. It is also done by t.Cleanup.
func (c *Conn) Close() { _ = c.nc.Close() }

// WriteRaw writes b as is, failing the test on a write error or when the
// write does not finish within Timeout.
func (c *Conn) WriteRaw(b []byte) {
	c.t.Helper()
	_ = c.nc.SetWriteDeadline(time.Now().Add(c.Timeout))
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatalf("wstest: write %d bytes: %v", len(b), err)
	}
}

// WriteChunks writes b in pieces split at the given increasing offsets
// (0 < offset < len(b)), pausing ChunkPause between pieces so that the
// server receives them in separate reads. Without offsets it writes one
// byte at a time.
func (c *Conn) WriteChunks(b []byte, offsets ...int) {
	c.t.Helper()
	if len(offsets) == 0 {
		for i := 1; i < len(b); i++ {
			offsets = append(offsets, i)
		}
	}
	prev := 0
	for _, off := range offsets {
		if off <= prev || off >= len(b) {
			c.t.Fatalf("wstest: bad chunk offset %d (previous %d, length %d)", off, prev, len(b))
		}
		c.WriteRaw(b[prev:off])
		prev = off
		time.Sleep(ChunkPause)
	}
	c.WriteRaw(b[prev:])
}

// WriteFrame builds a frame with AppendFrame and writes it at once.
func (c *Conn) WriteFrame(fin bool, rsv, op byte, payload []byte, masked bool) {
	c.t.Helper()
	c.WriteRaw(AppendFrame(nil, fin, rsv, op, payload, masked))
}

// WriteClose writes a masked close frame: an empty payload when code is
// NoStatus, otherwise the code (two bytes, big-endian) followed by reason.
func (c *Conn) WriteClose(code int, reason string) {
	c.t.Helper()
	c.WriteFrame(true, 0, OpClose, ClosePayload(code, reason), true)
}

// ClosePayload returns a close frame payload: empty for NoStatus, otherwise
// code as two big-endian bytes followed by reason (any bytes, unchecked).
func ClosePayload(code int, reason string) []byte {
	if code == NoStatus {
		return []byte{}
	}
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...)
}

// AppendFrame appends one frame to dst and returns the extended slice. The
// header is built byte by byte: FIN, the low three bits of rsv (RSV1 =
// 0x4), the low four bits of op (any value, reserved ones included), and
// the payload length in its minimal encoding (7 bits, 16 bits after 126, 64
// bits after 127). When masked, a random 4-byte key follows and the payload
// is XORed with it; otherwise the payload is copied as is. payload is not
// modified.
func AppendFrame(dst []byte, fin bool, rsv, op byte, payload []byte, masked bool) []byte {
	dst = AppendHeader(dst, fin, rsv, op, uint64(len(payload)), masked)
	if !masked {
		return append(dst, payload...)
	}
	key := [4]byte(dst[len(dst)-4:])
	start := len(dst)
	dst = append(dst, payload...)
	MaskBytes(dst[start:], key, 0)
	return dst
}

// AppendHeader appends a frame header announcing length payload bytes,
// minimally encoded, followed when masked by a random masking key (the last
// four bytes appended). See AppendFrame.
func AppendHeader(dst []byte, fin bool, rsv, op byte, length uint64, masked bool) []byte {
	var b0 byte
	if fin {
		b0 = 0x80
	}
	b0 |= (rsv & 0x7) << 4
	b0 |= op & 0xf
	var mbit byte
	if masked {
		mbit = 0x80
	}
	switch {
	case length <= 125:
		dst = append(dst, b0, mbit|byte(length))
	case length <= 0xffff:
		dst = append(dst, b0, mbit|126, byte(length>>8), byte(length))
	default:
		dst = append(dst, b0, mbit|127)
		for s := 56; s >= 0; s -= 8 {
			dst = append(dst, byte(length>>s))
		}
	}
	if masked {
		var key [4]byte
		_, _ = rand.Read(key[:])
		dst = append(dst, key[:]...)
	}
	return dst
}

// AppendRawHeader appends a header with the 7-bit length field len7 and the
// extended length bytes ext written as given, so that non-minimal or
// overflowing lengths can be sent. A random masking key follows when
// masked. No payload is appended.
func AppendRawHeader(dst []byte, fin bool, rsv, op byte, len7 byte, ext []byte, masked bool) []byte {
	var b0 byte
	if fin {
		b0 = 0x80
	}
	b0 |= (rsv&0x7)<<4 | op&0xf
	b1 := len7 & 0x7f
	if masked {
		b1 |= 0x80
	}
	dst = append(dst, b0, b1)
	dst = append(dst, ext...)
	if masked {
		var key [4]byte
		_, _ = rand.Read(key[:])
		dst = append(dst, key[:]...)
	}
	return dst
}

// MaskBytes XORs b in place with key, starting at position offset of the
// key stream (RFC 6455 section 5.3). It is written here, not borrowed from
// the server's codec, so that the two implementations check each other.
func MaskBytes(b []byte, key [4]byte, offset int) {
	i := 0
	// Align to the key, then XOR eight bytes at a time.
	for ; i < len(b) && (offset+i)&3 != 0; i++ {
		b[i] ^= key[(offset+i)&3]
	}
	k32 := binary.LittleEndian.Uint32(key[:])
	k64 := uint64(k32) | uint64(k32)<<32
	for ; len(b)-i >= 8; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^k64)
	}
	for ; i < len(b); i++ {
		b[i] ^= key[(offset+i)&3]
	}
}

// ReadFrame reads one frame from the server within Timeout. It returns an
// error when the read fails or times out, and when the frame breaks a rule
// that binds a server without extensions: a masked frame, RSV bits set, a
// reserved opcode, a length not minimally encoded, or a control frame that
// is fragmented or longer than 125 bytes.
func (c *Conn) ReadFrame() (Frame, error) {
	return c.readFrame(0)
}

// readFrame reads one frame, accepting the RSV bits in allowed.
func (c *Conn) readFrame(allowed byte) (Frame, error) {
	_ = c.nc.SetReadDeadline(time.Now().Add(c.Timeout))
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return Frame{}, err
	}
	f := Frame{Fin: h[0]&0x80 != 0, Rsv: h[0] >> 4 & 0x7, Opcode: h[0] & 0xf}
	if h[1]&0x80 != 0 {
		return f, errors.New("wstest: server frame is masked")
	}
	if f.Rsv&^allowed != 0 {
		return f, fmt.Errorf("wstest: server frame has RSV bits %#x", f.Rsv)
	}
	switch f.Opcode {
	case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
	default:
		return f, fmt.Errorf("wstest: server frame has reserved opcode %#x", f.Opcode)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var e [2]byte
		if _, err := io.ReadFull(c.br, e[:]); err != nil {
			return f, err
		}
		n = uint64(binary.BigEndian.Uint16(e[:]))
		if n < 126 {
			return f, fmt.Errorf("wstest: server length %d not minimally encoded (16 bits)", n)
		}
	case 127:
		var e [8]byte
		if _, err := io.ReadFull(c.br, e[:]); err != nil {
			return f, err
		}
		n = binary.BigEndian.Uint64(e[:])
		if n <= 0xffff || n>>63 != 0 {
			return f, fmt.Errorf("wstest: server length %d badly encoded (64 bits)", n)
		}
	}
	if f.Opcode >= OpClose && (!f.Fin || n > 125) {
		return f, fmt.Errorf("wstest: bad server control frame: fin=%v length %d", f.Fin, n)
	}
	if n > 1<<30 {
		return f, fmt.Errorf("wstest: server frame length %d too large for a test", n)
	}
	f.Payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, f.Payload); err != nil {
		return f, err
	}
	return f, nil
}

// MustReadFrame is ReadFrame that fails the test on error.
func (c *Conn) MustReadFrame() Frame {
	c.t.Helper()
	f, err := c.ReadFrame()
	if err != nil {
		c.t.Fatalf("wstest: read frame: %v", err)
	}
	return f
}

// ReadMessage reads one whole data message, joining a fragmented one. It
// fails the test when a control frame arrives instead, or when the frames
// do not form a message (a continuation first, a new message inside one).
func (c *Conn) ReadMessage() (op byte, payload []byte) {
	c.t.Helper()
	for {
		f := c.MustReadFrame()
		switch {
		case f.Opcode >= OpClose:
			c.t.Fatalf("wstest: control frame %v while reading a message", f)
		case op == 0 && f.Opcode == OpContinuation:
			c.t.Fatalf("wstest: continuation frame %v outside a message", f)
		case op != 0 && f.Opcode != OpContinuation:
			c.t.Fatalf("wstest: new message %v inside a fragmented one", f)
		}
		if op == 0 {
			op = f.Opcode
			payload = f.Payload
		} else {
			payload = append(payload, f.Payload...)
		}
		if f.Fin {
			return op, payload
		}
	}
}

// ExpectClose reads frames until a close frame and returns the frames read
// before it. It fails the test when the connection ends or a read times
// out first, or when the close frame's code is not code (NoStatus: the
// payload must be empty), its payload is one byte long, or its reason is
// not valid UTF-8.
func (c *Conn) ExpectClose(code int) (before []Frame) {
	c.t.Helper()
	for {
		f, err := c.ReadFrame()
		if err != nil {
			c.t.Fatalf("wstest: waiting for close %d (after %d frames %v): %v", code, len(before), before, err)
		}
		if f.Opcode != OpClose {
			before = append(before, f)
			continue
		}
		switch {
		case len(f.Payload) == 1:
			c.t.Fatalf("wstest: close payload of one byte %x", f.Payload)
		case code == NoStatus && len(f.Payload) != 0:
			c.t.Fatalf("wstest: close payload %x (code %d), want empty", f.Payload, f.CloseCode())
		case f.CloseCode() != code:
			c.t.Fatalf("wstest: close code %d (reason %q), want %d", f.CloseCode(), f.CloseReason(), code)
		case !utf8.ValidString(f.CloseReason()):
			c.t.Fatalf("wstest: close reason %q is not UTF-8", f.CloseReason())
		}
		return before
	}
}

// ExpectTCPClosed checks that the server ends the TCP connection within
// the given time: a read must return EOF (or a connection reset) and no
// byte may arrive first.
func (c *Conn) ExpectTCPClosed(within time.Duration) {
	c.t.Helper()
	_ = c.nc.SetReadDeadline(time.Now().Add(within))
	var b [512]byte
	for {
		n, err := c.br.Read(b[:])
		switch {
		case n > 0:
			c.t.Fatalf("wstest: %d unexpected bytes before the TCP close: %q", n, b[:n])
		case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
			return
		case err == nil:
			continue // an empty read; the deadline still bounds the loop
		default:
			c.t.Fatalf("wstest: server did not end the TCP connection within %v: %v", within, err)
		}
	}
}
