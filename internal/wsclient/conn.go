package wsclient

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"
)

// Opcodes of RFC 6455 section 5.2.
const (
	opContinuation byte = 0x0
	opText         byte = 0x1
	opBinary       byte = 0x2
	opClose        byte = 0x8
	opPing         byte = 0x9
	opPong         byte = 0xA
)

// Close codes the client sends when it fails the connection.
const (
	closeProtocolError = 1002
	closeInvalidData   = 1007
	closeTooBig        = 1009
)

// maxControl is the largest payload of a control frame.
const maxControl = 125

// Conn is a client WebSocket connection opened by Dial. Its methods say
// which goroutine may call them; see also the package documentation. A
// Conn starts no goroutine; CloseNow (or Close) must be called to release
// the TCP connection.
type Conn struct {
	nc          net.Conn
	timeout     time.Duration
	maxMessage  int64
	subprotocol string
	compress    bool
	onPing      func([]byte)
	onPong      func([]byte)

	closed atomic.Bool // CloseNow was called

	// readSem holds a value while a goroutine reads frames (Receive or
	// Close); it guards the fields down to inf.
	readSem       chan struct{}
	br            *bufio.Reader
	readErr       error       // sticky: the reading side is over
	peerClose     *CloseError // the server's close frame, once received
	inMessage     bool        // a fragmented message is being received
	msgType       MessageType
	msgCompressed bool
	msg           []byte // the payload received so far
	ctrl          [maxControl]byte
	inf           inflater

	writeMu     sync.Mutex // guards the fields below and the writes
	wbuf        []byte
	writeErr    error // sticky: a write failed, the stream is broken
	closeSent   bool
	fragmenting bool // a message sent with SendFrame is unfinished
	def         deflater
}

func newConn(nc net.Conn, br *bufio.Reader, o *Options, proto string, df *deflateParams) *Conn {
	c := &Conn{
		nc:          nc,
		timeout:     o.Timeout,
		maxMessage:  o.MaxMessage,
		subprotocol: proto,
		compress:    df != nil,
		onPing:      o.OnPing,
		onPong:      o.OnPong,
		readSem:     make(chan struct{}, 1),
		br:          br,
	}
	if df != nil {
		c.inf.takeover = !df.serverNoContextTakeover
	}
	return c
}

// Subprotocol returns the subprotocol the server selected, "" when none.
// Any goroutine may call it.
func (c *Conn) Subprotocol() string { return c.subprotocol }

// Compression reports whether permessage-deflate was negotiated. Any
// goroutine may call it.
func (c *Conn) Compression() bool { return c.compress }

// NetConn returns the TCP connection, for tests that need raw access (to
// write bytes the client would refuse to, or to watch the connection end
// after Receive returned a *CloseError). Bytes the Conn has already read
// into its buffer are not seen through it. Any goroutine may call it; what
// is done with the connection is the caller's business.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Send sends a message of type t (Text or Binary) with payload p as one
// masked frame, compressed (RSV1 set) when permessage-deflate was
// negotiated. It does not check that a Text payload is valid UTF-8, so a
// test can send invalid text. p is neither modified nor kept.
//
// Send may be called from any goroutine, concurrently with the other
// methods; frames of concurrent calls do not interleave. The write is
// bounded by Options.Timeout; after a failed write every sending method
// returns the same error. Send fails while a message started with
// SendFrame is unfinished, and after a close frame was sent (ErrCloseSent).
func (c *Conn) Send(t MessageType, p []byte) error {
	if t != Text && t != Binary {
		return fmt.Errorf("wsclient: Send: bad message type %v", t)
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.writableLocked(); err != nil {
		return err
	}
	if c.fragmenting {
		return errors.New("wsclient: Send: a message sent with SendFrame is unfinished")
	}
	return c.writeDataLocked(byte(t), p, true, true)
}

// SendFrame sends one frame of a message fragmented by hand: the first
// call starts a message of type t, the following ones send continuation
// frames (t is then ignored) until a call with fin set ends it. With
// permessage-deflate, each part is compressed as it comes (RSV1 on the
// first frame; each frame ends with a sync flush, stripped from the last
// one), so the frames together carry one compressed message. Empty parts
// are allowed.
//
// SendFrame may be called from any goroutine, but the frames of one
// message must come from calls in order, and other goroutines must not
// call Send meanwhile (it fails); control frames (SendPing, SendPong,
// SendClose) may go between the fragments. p is neither modified nor kept.
// Each write is bounded by Options.Timeout.
func (c *Conn) SendFrame(t MessageType, p []byte, fin bool) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.writableLocked(); err != nil {
		return err
	}
	op, first := opContinuation, !c.fragmenting
	if first {
		if t != Text && t != Binary {
			return fmt.Errorf("wsclient: SendFrame: bad message type %v", t)
		}
		op = byte(t)
	}
	if err := c.writeDataLocked(op, p, first, fin); err != nil {
		return err
	}
	c.fragmenting = !fin
	return nil
}

// SendPing sends a ping with payload p (at most 125 bytes). Pongs are
// reported to Options.OnPong by the goroutine reading (Receive). Any
// goroutine may call it; p is neither modified nor kept. The write is
// bounded by Options.Timeout.
func (c *Conn) SendPing(p []byte) error { return c.sendControl(opPing, p) }

// SendPong sends an unsolicited pong with payload p (at most 125 bytes), a
// heartbeat RFC 6455 section 5.5.3 allows; pings are answered by Receive
// without it. Any goroutine may call it; p is neither modified nor kept.
// The write is bounded by Options.Timeout.
func (c *Conn) SendPong(p []byte) error { return c.sendControl(opPong, p) }

func (c *Conn) sendControl(op byte, p []byte) error {
	if len(p) > maxControl {
		return fmt.Errorf("wsclient: control frame payload of %d bytes, at most %d", len(p), maxControl)
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.writableLocked(); err != nil {
		return err
	}
	return c.writeFrameLocked(op, false, true, p)
}

// SendClose sends a close frame with code and reason and nothing else: the
// server's answer is then returned by Receive as a *CloseError, and Close
// (or CloseNow) ends the connection. code NoStatus sends an empty payload
// (reason must then be empty); any other code from 0 to 65535 is sent as
// it is, valid or not, so that a test can check the server's answer to a
// bad code. reason is at most 123 bytes and is not checked for UTF-8.
// After it, sending data or control frames fails with ErrCloseSent.
//
// Any goroutine may call it. The write is bounded by Options.Timeout.
func (c *Conn) SendClose(code int, reason string) error {
	p, err := closePayload(code, reason)
	if err != nil {
		return err
	}
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.writableLocked(); err != nil {
		return err
	}
	c.closeSent = true
	return c.writeFrameLocked(opClose, false, true, p)
}

// closePayload encodes a close frame payload; see SendClose.
func closePayload(code int, reason string) ([]byte, error) {
	if code == NoStatus {
		if reason != "" {
			return nil, errors.New("wsclient: a close reason needs a status code")
		}
		return nil, nil
	}
	if code < 0 || code > 0xffff {
		return nil, fmt.Errorf("wsclient: close code %d out of range", code)
	}
	if len(reason) > maxControl-2 {
		return nil, fmt.Errorf("wsclient: close reason of %d bytes, at most %d", len(reason), maxControl-2)
	}
	return append(binary.BigEndian.AppendUint16(nil, uint16(code)), reason...), nil
}

// writableLocked returns why no frame may be sent, or nil.
func (c *Conn) writableLocked() error {
	switch {
	case c.closed.Load():
		return ErrClosed
	case c.writeErr != nil:
		return c.writeErr
	case c.closeSent:
		return ErrCloseSent
	}
	return nil
}

// writeDataLocked sends a data frame, compressing p when negotiated.
func (c *Conn) writeDataLocked(op byte, p []byte, first, fin bool) error {
	rsv1 := false
	if c.compress {
		b, err := c.def.compress(p, first, fin)
		if err != nil {
			return fmt.Errorf("wsclient: compress: %w", err)
		}
		p, rsv1 = b, first
	}
	return c.writeFrameLocked(op, rsv1, fin, p)
}

// writeFrameLocked writes one masked frame, header and payload in a single
// write bounded by the timeout. A failure is sticky.
func (c *Conn) writeFrameLocked(op byte, rsv1, fin bool, p []byte) error {
	if c.writeErr != nil {
		return c.writeErr
	}
	b0 := op
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= 0x40
	}
	b := c.wbuf[:0]
	switch n := len(p); {
	case n <= 125:
		b = append(b, b0, 0x80|byte(n))
	case n <= 0xffff:
		b = append(b, b0, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, b0, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	var key [4]byte
	_, _ = rand.Read(key[:])
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, p...)
	maskBytes(b[start:], key)

	err := c.nc.SetWriteDeadline(time.Now().Add(c.timeout))
	if err == nil {
		_, err = c.nc.Write(b)
	}
	if cap(b) <= 64<<10 {
		c.wbuf = b[:0]
	} else {
		c.wbuf = nil // do not keep a large message's buffer
	}
	if err != nil {
		if c.closed.Load() {
			return ErrClosed
		}
		c.writeErr = fmt.Errorf("wsclient: write: %w", err)
		return c.writeErr
	}
	return nil
}

// maskBytes XORs b with the masking key (RFC 6455 section 5.3), starting at
// the key's first byte.
func maskBytes(b []byte, key [4]byte) {
	k := uint64(binary.LittleEndian.Uint32(key[:]))
	k |= k << 32
	i := 0
	for ; len(b)-i >= 8; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^k)
	}
	for ; i < len(b); i++ {
		b[i] ^= key[i&3]
	}
}

// Receive returns the next data message: its type and its payload, joined
// from its fragments and inflated when it was compressed. Meanwhile it
// answers pings with pongs (unless the client has sent its close frame),
// reports pings and pongs to Options.OnPing and Options.OnPong, and
// ignores pongs otherwise. The payload is newly allocated (non-nil, also
// when empty) and belongs to the caller.
//
// When the server's close frame arrives, Receive answers it with a close
// frame carrying the same code (RFC 6455 section 5.5.1), unless the client
// sent one first, and returns a *CloseError; every later call returns it
// too. Close then waits for the server to end the TCP connection. When the
// TCP connection ends without a close frame, the error wraps io.EOF (or
// io.ErrUnexpectedEOF inside a frame or a fragmented message). A frame
// breaking the protocol, invalid UTF-8 and a message over
// Options.MaxMessage fail the connection: Receive sends the close frame,
// waits up to Options.Timeout for the server to end the TCP connection,
// closes it and returns an error wrapping ErrProtocol or ErrMessageTooBig.
//
// ctx bounds the call. When ctx ends while Receive waits for a frame to
// start, it returns ctx's error and the Conn stays usable, with any
// fragmented message received so far kept for the next call; when it ends
// in the middle of a frame, the reading side of the Conn is broken for
// good (the error says so).
//
// Receive belongs to one goroutine at a time (concurrent calls are
// serialised), which may be another than the one sending.
func (c *Conn) Receive(ctx context.Context) (MessageType, []byte, error) {
	if err := ctx.Err(); err != nil {
		return 0, nil, err
	}
	select {
	case c.readSem <- struct{}{}:
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
	defer func() { <-c.readSem }()
	if c.readErr != nil {
		return 0, nil, c.readErr
	}
	if c.closed.Load() {
		return 0, nil, ErrClosed
	}
	stop := watchContext(ctx, c.nc.SetReadDeadline)
	defer stop()
	t, p, err := c.readMessage()
	if errors.Is(err, errIdle) {
		return 0, nil, fmt.Errorf("wsclient: receive: %w", ctxErr(ctx, errors.Unwrap(err)))
	}
	return t, p, err
}

// errIdle wraps a read timeout that hit before a frame started: nothing of
// the stream was lost, so it is not sticky.
var errIdle = errors.New("idle")

// idleError is a read timeout before a frame started; Unwrap gives the
// timeout.
type idleError struct{ err error }

func (e *idleError) Error() string        { return e.err.Error() }
func (e *idleError) Unwrap() error        { return e.err }
func (e *idleError) Is(target error) bool { return target == errIdle }

// readMessage reads frames until a data message is complete (or the
// server's close frame, or an error), handling control frames. The caller
// holds readSem.
func (c *Conn) readMessage() (MessageType, []byte, error) {
	for {
		fin, rsv1, op, n, err := c.readHeader()
		if err != nil {
			return 0, nil, err
		}
		if op >= opClose {
			p := c.ctrl[:n]
			if err := c.readPayload(p); err != nil {
				return 0, nil, err
			}
			switch op {
			case opPing:
				if c.onPing != nil {
					c.onPing(p)
				}
				if err := c.pong(p); err != nil {
					return 0, nil, err
				}
			case opPong:
				if c.onPong != nil {
					c.onPong(p)
				}
			case opClose:
				return 0, nil, c.receivedClose(p)
			}
			continue
		}
		switch {
		case op == opContinuation && !c.inMessage:
			return 0, nil, c.fail(closeProtocolError, "a continuation frame outside a fragmented message")
		case op != opContinuation && c.inMessage:
			return 0, nil, c.fail(closeProtocolError, "a new message inside a fragmented one")
		case op != opContinuation:
			c.inMessage, c.msgType, c.msgCompressed = true, MessageType(op), rsv1
			c.msg = c.msg[:0]
		}
		have := int64(len(c.msg))
		if n > c.maxMessage-have {
			return 0, nil, c.failErr(closeTooBig, fmt.Errorf("%w: a frame of %d bytes after %d bytes of the message, limit %d",
				ErrMessageTooBig, n, have, c.maxMessage))
		}
		c.msg = slices.Grow(c.msg, int(n))[:have+n]
		if err := c.readPayload(c.msg[have:]); err != nil {
			return 0, nil, err
		}
		if fin {
			c.inMessage = false
			return c.finishMessage()
		}
	}
}

// readHeader reads and checks a frame header: the payload length n is
// within limits for control frames (the caller checks data frames).
func (c *Conn) readHeader() (fin, rsv1 bool, op byte, n int64, err error) {
	if _, err := c.br.Peek(1); err != nil {
		return false, false, 0, 0, c.readFailed(err, true)
	}
	var h [10]byte
	if _, err := io.ReadFull(c.br, h[:2]); err != nil {
		return false, false, 0, 0, c.readFailed(err, false)
	}
	fin, rsv, op := h[0]&0x80 != 0, h[0]>>4&7, h[0]&0xf
	rsv1 = rsv&4 != 0
	var why string
	switch {
	case h[1]&0x80 != 0:
		why = "a masked frame"
	case op > opBinary && op < opClose || op > opPong:
		why = fmt.Sprintf("reserved opcode %#x", op)
	case rsv&3 != 0:
		why = fmt.Sprintf("RSV bits %#x set", rsv)
	case rsv1 && !c.compress:
		why = "RSV1 set without permessage-deflate"
	case rsv1 && (op == opContinuation || op >= opClose):
		why = fmt.Sprintf("RSV1 set on a frame with opcode %#x", op)
	}
	if why != "" {
		return false, false, 0, 0, c.fail(closeProtocolError, why)
	}
	switch n = int64(h[1] & 0x7f); n {
	case 126:
		if _, err := io.ReadFull(c.br, h[2:4]); err != nil {
			return false, false, 0, 0, c.readFailed(err, false)
		}
		if n = int64(binary.BigEndian.Uint16(h[2:4])); n < 126 {
			why = fmt.Sprintf("length %d in 16 bits", n)
		}
	case 127:
		if _, err := io.ReadFull(c.br, h[2:10]); err != nil {
			return false, false, 0, 0, c.readFailed(err, false)
		}
		u := binary.BigEndian.Uint64(h[2:10])
		if n = int64(u); u>>63 != 0 || n <= 0xffff {
			why = fmt.Sprintf("length %d in 64 bits", u)
		}
	}
	switch {
	case why != "":
		why = "a length not minimally encoded: " + why
	case op >= opClose && !fin:
		why = fmt.Sprintf("a fragmented control frame (opcode %#x)", op)
	case op >= opClose && n > maxControl:
		why = fmt.Sprintf("a control frame of %d bytes (opcode %#x)", n, op)
	}
	if why != "" {
		return false, false, 0, 0, c.fail(closeProtocolError, why)
	}
	return fin, rsv1, op, n, nil
}

// readPayload reads a frame's payload into p.
func (c *Conn) readPayload(p []byte) error {
	if _, err := io.ReadFull(c.br, p); err != nil {
		return c.readFailed(err, false)
	}
	return nil
}

// readFailed classifies a read error; boundary is true when no byte of the
// frame was read. A timeout at a boundary is returned as an *idleError and
// leaves the Conn usable; any other error ends the reading side for good.
func (c *Conn) readFailed(err error, boundary bool) error {
	switch {
	case c.closed.Load():
		c.readErr = ErrClosed
	case boundary && isTimeout(err):
		return &idleError{err}
	case boundary && !c.inMessage && errors.Is(err, io.EOF):
		c.readErr = fmt.Errorf("wsclient: the connection ended without a close frame: %w", io.EOF)
	case errors.Is(err, io.EOF):
		c.readErr = fmt.Errorf("wsclient: the connection ended inside a frame or fragmented message: %w", io.ErrUnexpectedEOF)
	case boundary:
		c.readErr = fmt.Errorf("wsclient: read: %w", err)
	default:
		c.readErr = fmt.Errorf("wsclient: read interrupted inside a frame, the connection is unusable: %w", err)
	}
	return c.readErr
}

// finishMessage inflates and checks the complete message in c.msg.
func (c *Conn) finishMessage() (MessageType, []byte, error) {
	t, p := c.msgType, c.msg
	if c.msgCompressed {
		buf, out, err := c.inf.inflate(c.msg, c.maxMessage)
		c.msg = buf[:0]
		if errors.Is(err, errTooBig) {
			return 0, nil, c.failErr(closeTooBig, fmt.Errorf("%w: a compressed %v message inflates to more than %d bytes",
				ErrMessageTooBig, t, c.maxMessage))
		}
		if err != nil {
			return 0, nil, c.failErr(closeInvalidData, fmt.Errorf("%w: bad compressed data in a %v message: %v", ErrProtocol, t, err))
		}
		p = out
	} else {
		c.msg = nil // p goes to the caller
	}
	if t == Text && !utf8.Valid(p) {
		return 0, nil, c.failErr(closeInvalidData, fmt.Errorf("%w: a text message that is not valid UTF-8", ErrProtocol))
	}
	if p == nil {
		p = []byte{}
	}
	return t, p, nil
}

// pong answers a ping, unless the client's close frame was sent. A write
// error is returned but does not end the reading side.
func (c *Conn) pong(p []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if c.closeSent || c.closed.Load() {
		return nil
	}
	return c.writeFrameLocked(opPong, false, true, p)
}

// receivedClose handles the server's close frame with payload p: it checks
// it, answers it unless the client's close was sent, and returns the
// *CloseError that ends the reading side.
func (c *Conn) receivedClose(p []byte) error {
	ce := &CloseError{Code: NoStatus}
	switch {
	case len(p) == 1:
		return c.fail(closeProtocolError, "a close frame with a one-byte payload")
	case len(p) >= 2:
		ce.Code, ce.Reason = int(binary.BigEndian.Uint16(p)), string(p[2:])
		if !validCloseCode(ce.Code) {
			return c.fail(closeProtocolError, fmt.Sprintf("a close frame with code %d", ce.Code))
		}
		if !utf8.ValidString(ce.Reason) {
			return c.failErr(closeInvalidData, fmt.Errorf("%w: a close reason that is not valid UTF-8", ErrProtocol))
		}
	}
	c.peerClose, c.readErr = ce, ce
	c.writeMu.Lock()
	if !c.closeSent && !c.closed.Load() {
		c.closeSent = true
		reply, _ := closePayload(ce.Code, "")
		// A failed reply changes nothing: the server closed, and Close
		// waits for the end of the TCP connection either way.
		_ = c.writeFrameLocked(opClose, false, true, reply)
	}
	c.writeMu.Unlock()
	return ce
}

// validCloseCode reports whether a close frame may carry code (RFC 6455
// section 7.4 and the IANA registry): 1000-1003, 1007-1014 and 3000-4999.
func validCloseCode(code int) bool {
	return code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999
}

// fail fails the connection for a protocol error described by why.
func (c *Conn) fail(code int, why string) error {
	return c.failErr(code, fmt.Errorf("%w: the server sent %s", ErrProtocol, why))
}

// failErr fails the connection (RFC 6455 section 7.1.7): it sends a close
// frame with code unless one was sent, waits (up to the timeout) for the
// server to end the TCP connection, discarding what it sends, as section
// 7.1.1 has a client do, then closes it; err becomes the sticky error of
// the reading side. Waiting for the server's end first also spares it a
// TCP reset, which could discard the close frame before it is read. The
// caller holds readSem.
func (c *Conn) failErr(code int, err error) error {
	c.readErr = err
	c.writeMu.Lock()
	sent := false
	if !c.closeSent && !c.closed.Load() {
		c.closeSent = true
		p, _ := closePayload(code, "")
		sent = c.writeFrameLocked(opClose, false, true, p) == nil
	}
	c.writeMu.Unlock()
	if sent && c.nc.SetReadDeadline(time.Now().Add(c.timeout)) == nil {
		_, _ = io.Copy(io.Discard, c.br)
	}
	_ = c.CloseNow()
	return err
}

// Close performs the closing handshake (RFC 6455 section 7): it sends a
// close frame with code and reason (see SendClose for their encoding),
// unless the client already sent one (SendClose, or Receive's answer to the
// server's close), then reads and discards frames until the server's close
// frame (pings are not answered any more), then waits for the server to
// end the TCP connection, and finally closes it. It returns nil when all
// of this happened within Options.Timeout, and otherwise an error saying
// what was missing (a timeout, data after the close frame, a protocol
// error); the TCP connection is closed in every case. Close after
// CloseNow or Close returns ErrClosed.
//
// To see the code the server answers with, call SendClose, then Receive
// (which returns it as a *CloseError), then Close.
//
// Close may be called from any goroutine, also while another goroutine is
// blocked in Receive: that Receive then returns the server's close (or an
// error when the connection is closed at the end of the timeout), and
// Close carries on once it has.
func (c *Conn) Close(code int, reason string) error {
	p, err := closePayload(code, reason)
	if err != nil {
		return err
	}
	if c.closed.Load() {
		return ErrClosed
	}
	deadline := time.Now().Add(c.timeout)
	c.writeMu.Lock()
	if !c.closeSent && c.writeErr == nil {
		c.closeSent = true
		err = c.writeFrameLocked(opClose, false, true, p)
	}
	c.writeMu.Unlock()
	if err != nil {
		_ = c.CloseNow()
		return err
	}

	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case c.readSem <- struct{}{}:
	case <-timer.C:
		_ = c.CloseNow()
		return fmt.Errorf("wsclient: close: no close frame from the server within %v", c.timeout)
	}
	defer func() { <-c.readSem }()
	if c.closed.Load() {
		return ErrClosed
	}
	err = c.awaitClose(deadline)
	_ = c.CloseNow()
	return err
}

// awaitClose reads until the server's close frame and the end of the TCP
// connection. The caller holds readSem.
func (c *Conn) awaitClose(deadline time.Time) error {
	if err := c.nc.SetReadDeadline(deadline); err != nil {
		return fmt.Errorf("wsclient: close: %w", err)
	}
	for c.peerClose == nil {
		if c.readErr != nil {
			return fmt.Errorf("wsclient: close: %w", c.readErr)
		}
		_, _, err := c.readMessage()
		if errors.Is(err, errIdle) {
			return fmt.Errorf("wsclient: close: no close frame from the server within %v", c.timeout)
		}
	}
	var b [1]byte
	for {
		n, err := c.br.Read(b[:])
		switch {
		case n > 0:
			return fmt.Errorf("%w: the server sent data after its close frame", ErrProtocol)
		case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET):
			return nil
		case isTimeout(err):
			return fmt.Errorf("wsclient: close: the server did not end the TCP connection within %v", c.timeout)
		case err != nil:
			return fmt.Errorf("wsclient: close: %w", err)
		}
	}
}

// CloseNow closes the TCP connection at once, without a closing handshake.
// Pending and later calls then fail with ErrClosed, except that Receive
// keeps returning the error that ended its side before (the server's
// *CloseError, a protocol error, the end of the connection). It returns nil
// when the connection was already closed. Any goroutine may call it, at
// any time.
func (c *Conn) CloseNow() error {
	if c.closed.Swap(true) {
		return nil
	}
	return c.nc.Close()
}
