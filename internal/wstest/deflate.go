package wstest

// Client side of permessage-deflate (RFC 7692) for tests: a handshake that
// sends chosen Sec-WebSocket-Extensions offers and returns the response's,
// a strict parser of that response, a compressor that follows the
// negotiated client parameters, a decompressor for the server's messages
// that checks the negotiated server parameters (its window size, and that
// it keeps no context when it promised not to), and a frame reader that
// allows RSV1.
//
// The decompressor is a DEFLATE decoder of its own (RFC 1951), written
// independently of both compress/flate and the klauspost package, because
// neither reports how far back a stream refers:
// server_max_window_bits and server_no_context_takeover are promises about
// back-reference distances, which only a decoder that sees them can check.

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	kflate "github.com/klauspost/compress/flate"
)

// DeflateTail is the empty stored block (0x00 0x00 0xff 0xff) that ends a
// sync flush. A sender removes it from the end of a compressed message; the
// receiver appends it back (RFC 7692 sections 7.2.1 and 7.2.2).
var DeflateTail = []byte{0x00, 0x00, 0xff, 0xff}

// DialExtensions is Dial with Sec-WebSocket-Extensions request headers: one
// header line per element of offers, each sent exactly as given (an element
// may itself hold several comma-separated offers). It fails the test unless
// the answer is a valid 101, and returns the response's
// Sec-WebSocket-Extensions header lines, as received, nil when there is
// none.
func DialExtensions(t testing.TB, addr, path string, offers ...string) (*Conn, []string) {
	t.Helper()
	var extra strings.Builder
	for _, o := range offers {
		extra.WriteString("Sec-WebSocket-Extensions: " + o + "\r\n")
	}
	return dialHeaders(t, addr, path, extra.String())
}

// dialHeaders performs the handshake of Dial with extra header lines
// (each ending in CRLF) and returns the response's
// Sec-WebSocket-Extensions lines.
func dialHeaders(t testing.TB, addr, path, extra string) (*Conn, []string) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, DefaultTimeout)
	if err != nil {
		t.Fatalf("wstest: dial %s: %v", addr, err)
	}
	c := &Conn{t: t, nc: nc, br: bufio.NewReaderSize(nc, 64<<10), Timeout: DefaultTimeout}
	t.Cleanup(func() { _ = nc.Close() })

	var raw [16]byte
	_, _ = rand.Read(raw[:])
	key := base64.StdEncoding.EncodeToString(raw[:])
	req := "GET " + path + " HTTP/1.1\r\n" +
		"Host: " + addr + "\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\n" +
		extra +
		"Sec-WebSocket-Version: 13\r\n\r\n"
	c.WriteRaw([]byte(req))

	_ = nc.SetReadDeadline(time.Now().Add(c.Timeout))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		t.Fatalf("wstest: handshake response: %v", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("wstest: handshake status %d, want 101", resp.StatusCode)
	}
	if !strings.EqualFold(resp.Header.Get("Upgrade"), "websocket") {
		t.Fatalf("wstest: Upgrade header %q, want websocket", resp.Header.Get("Upgrade"))
	}
	if !strings.Contains(strings.ToLower(resp.Header.Get("Connection")), "upgrade") {
		t.Fatalf("wstest: Connection header %q, want upgrade", resp.Header.Get("Connection"))
	}
	sum := sha1.Sum([]byte(key + websocketGUID))
	if got, want := resp.Header.Get("Sec-WebSocket-Accept"), base64.StdEncoding.EncodeToString(sum[:]); got != want {
		t.Fatalf("wstest: Sec-WebSocket-Accept %q, want %q", got, want)
	}
	return c, resp.Header.Values("Sec-WebSocket-Extensions")
}

// DeflateParams are the permessage-deflate parameters a server's response
// agreed to, with RFC 7692's defaults filled in: a window of 15 bits where
// none was named.
type DeflateParams struct {
	ServerNoContextTakeover bool
	ClientNoContextTakeover bool
	ServerMaxWindowBits     int // 8 to 15
	ClientMaxWindowBits     int // 8 to 15
	// ServerMaxWindowBitsSet and ClientMaxWindowBitsSet report that the
	// response named the parameter.
	ServerMaxWindowBitsSet bool
	ClientMaxWindowBitsSet bool
}

// ParseDeflateResponse checks the Sec-WebSocket-Extensions lines of a
// handshake response the way a strict client does (RFC 7692 sections 5 and
// 7.1): exactly one extension, permessage-deflate, whose parameters are
// among the four the RFC defines, each at most once, the *_no_context_takeover
// ones without a value and the window sizes a decimal 8 to 15 without
// leading zeros (a token or a quoted string). Whether the response fits
// the offer (RFC 7692 section 7.1.2) is the caller's to check.
func ParseDeflateResponse(lines []string) (DeflateParams, error) {
	p := DeflateParams{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}
	if len(lines) != 1 {
		return p, fmt.Errorf("%d Sec-WebSocket-Extensions lines %q, want 1", len(lines), lines)
	}
	s := lines[0]
	if strings.Contains(s, ",") {
		return p, fmt.Errorf("response %q accepts more than one extension", s)
	}
	parts := strings.Split(s, ";")
	if name := strings.TrimSpace(parts[0]); name != "permessage-deflate" {
		return p, fmt.Errorf("response %q: extension %q, want permessage-deflate", s, name)
	}
	seen := map[string]bool{}
	for _, part := range parts[1:] {
		name, value, hasValue := strings.Cut(strings.TrimSpace(part), "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if seen[name] {
			return p, fmt.Errorf("response %q repeats %s", s, name)
		}
		seen[name] = true
		if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		switch name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if hasValue {
				return p, fmt.Errorf("response %q: %s has a value", s, name)
			}
			if name == "server_no_context_takeover" {
				p.ServerNoContextTakeover = true
			} else {
				p.ClientNoContextTakeover = true
			}
		case "server_max_window_bits", "client_max_window_bits":
			n, err := strconv.Atoi(value)
			if !hasValue || err != nil || n < 8 || n > 15 || strconv.Itoa(n) != value {
				return p, fmt.Errorf("response %q: bad %s", s, name)
			}
			if name == "server_max_window_bits" {
				p.ServerMaxWindowBits, p.ServerMaxWindowBitsSet = n, true
			} else {
				p.ClientMaxWindowBits, p.ClientMaxWindowBitsSet = n, true
			}
		default:
			return p, fmt.Errorf("response %q: unknown parameter %q", s, name)
		}
	}
	return p, nil
}

// Compressor compresses a client's messages for permessage-deflate (RFC
// 7692 section 7.2.1): DEFLATE with a sync flush, the final 0x00 0x00 0xff
// 0xff removed. With context takeover the LZ77 window carries over from one
// compressed message to the next.
//
// A 15-bit window uses compress/flate. A smaller one (a response's
// client_max_window_bits) uses klauspost's custom-window compressor, whose
// back-references never exceed the window.
type Compressor struct {
	takeover bool
	bits     int
	level    int
	buf      bytes.Buffer
	std      *flate.Writer
	small    *kflate.Writer
}

// NewCompressor returns a compressor with the window 1<<bits (8 to 15) at
// level (compress/flate levels; ignored for small windows).
func NewCompressor(takeover bool, bits, level int) *Compressor {
	if bits < 8 || bits > 15 {
		panic("wstest: window bits out of range")
	}
	return &Compressor{takeover: takeover, bits: bits, level: level}
}

// NewClientCompressor returns the compressor the client of a connection
// with parameters p uses.
func NewClientCompressor(p DeflateParams, level int) *Compressor {
	return NewCompressor(!p.ClientNoContextTakeover, p.ClientMaxWindowBits, level)
}

// writeFlush compresses msg with the connection's compressor and a sync
// flush, and returns the output (tail included).
func (z *Compressor) writeFlush(msg []byte) []byte {
	z.buf.Reset()
	var err error
	if z.bits == 15 {
		switch {
		case z.std == nil:
			z.std, err = flate.NewWriter(&z.buf, z.level)
			if err != nil {
				panic(err)
			}
		case !z.takeover:
			z.std.Reset(&z.buf)
		}
		_, _ = z.std.Write(msg)
		_ = z.std.Flush()
	} else {
		switch {
		case z.small == nil:
			z.small, err = kflate.NewWriterWindow(&z.buf, 1<<z.bits)
			if err != nil {
				panic(err)
			}
		case !z.takeover:
			z.small.Reset(&z.buf)
		}
		_, _ = z.small.Write(msg)
		_ = z.small.Flush()
	}
	return bytes.Clone(z.buf.Bytes())
}

// Compress returns the payload of msg as a compressed message (to send with
// RSV1 on its first frame).
func (z *Compressor) Compress(msg []byte) []byte {
	out := z.writeFlush(msg)
	if !bytes.HasSuffix(out, DeflateTail) {
		panic("wstest: sync flush does not end with 00 00 ff ff")
	}
	return out[:len(out)-4]
}

// CompressFinal returns msg compressed as a whole DEFLATE stream whose last
// block has BFINAL set (RFC 7692 section 7.2.3.3), made by a fresh
// writer closed with Close: compress/flate for a 15-bit window, whose
// output then ends with an empty final stored block (0x01 0x00 0x00 0xff
// 0xff after the last data block's bits), else klauspost's, whose output
// ends with an empty final fixed block (0x03 0x00). strip removes a final
// 0x00 0x00 0xff 0xff, as section 7.2.1 tells a sender to. With context
// takeover the message still enters the window, as it does at the
// receiver.
func (z *Compressor) CompressFinal(msg []byte, strip bool) []byte {
	var b bytes.Buffer
	var w io.WriteCloser
	var err error
	if z.bits == 15 {
		w, err = flate.NewWriter(&b, z.level)
	} else {
		w, err = kflate.NewWriterWindow(&b, 1<<z.bits)
	}
	if err != nil {
		panic(err)
	}
	_, _ = w.Write(msg)
	_ = w.Close()
	out := b.Bytes()
	if strip && bytes.HasSuffix(out, DeflateTail) {
		out = out[:len(out)-4]
	}
	if z.takeover {
		z.writeFlush(msg) // keep the window in step with the receiver's
	}
	return out
}

// Decompressor decompresses a server's messages (RFC 7692 section 7.2.2)
// and checks them against the negotiated server parameters: no
// back-reference may reach further than 1<<bits bytes, and without context
// takeover none may reach into an earlier message.
type Decompressor struct {
	takeover bool
	bits     int
	hist     []byte
	// MaxDistance is the longest back-reference seen so far.
	MaxDistance int
	// HistoryRefs counts the back-references so far that reached into an
	// earlier message (context takeover at work).
	HistoryRefs int
}

// NewDecompressor returns a decompressor for a peer that compresses with
// the window 1<<bits (8 to 15), keeping its context between messages when
// takeover.
func NewDecompressor(takeover bool, bits int) *Decompressor {
	if bits < 8 || bits > 15 {
		panic("wstest: window bits out of range")
	}
	return &Decompressor{takeover: takeover, bits: bits}
}

// NewServerDecompressor returns the decompressor for the server's messages
// on a connection with parameters p.
func NewServerDecompressor(p DeflateParams) *Decompressor {
	return NewDecompressor(!p.ServerNoContextTakeover, p.ServerMaxWindowBits)
}

// Decompress returns the message whose compressed payload (its frames
// joined) is payload. It fails on data that is not DEFLATE, on a
// back-reference beyond the window or into an earlier message without
// context takeover, on data that does not end at a block boundary, and on
// data after a block with BFINAL set other than the empty stored block of
// the RFC's section 7.2.3.3 example. After an error d must not be used.
func (d *Decompressor) Decompress(payload []byte) ([]byte, error) {
	src := make([]byte, 0, len(payload)+4)
	src = append(append(src, payload...), DeflateTail...)
	res, err := Inflate(d.hist, src)
	if err != nil {
		return nil, err
	}
	if res.Final {
		switch {
		case len(res.Rest) == 0, bytes.Equal(res.Rest, DeflateTail), bytes.Equal(res.Rest, []byte{0, 0, 0, 0xff, 0xff}):
		default:
			return nil, fmt.Errorf("wstest: %d bytes after the final block: %x", len(res.Rest), res.Rest)
		}
	}
	d.MaxDistance = max(d.MaxDistance, res.MaxDistance)
	d.HistoryRefs += res.HistoryRefs
	if res.MaxDistance > 1<<d.bits {
		return nil, fmt.Errorf("wstest: back-reference of %d bytes, beyond the %d-bit window", res.MaxDistance, d.bits)
	}
	if d.takeover {
		d.hist = append(d.hist, res.Out...)
		if n := len(d.hist) - 1<<15; n > 0 {
			d.hist = append(d.hist[:0:0], d.hist[n:]...)
		}
	}
	return res.Out, nil
}

// ReadFrameRSV is ReadFrame for a connection with extensions: the RSV bits
// in allowed are accepted (RSV1 for permessage-deflate), other rules are
// those of ReadFrame. Whether a frame may carry them is the caller's to
// check.
func (c *Conn) ReadFrameRSV(allowed byte) (Frame, error) {
	return c.readFrame(allowed)
}

// DeflateMessage is a data message read by ReadDeflateMessage.
type DeflateMessage struct {
	Opcode     byte
	Payload    []byte  // decompressed when Compressed
	Compressed bool    // RSV1 was set on the first frame
	Frames     []Frame // as received
}

// ReadDeflateMessage reads one data message on a permessage-deflate
// connection and decompresses it with d when its first frame has RSV1. It
// fails the test when a control frame arrives instead, when the frames do
// not form a message, when RSV1 is set on a frame other than the first
// (RFC 7692 section 6.1), and when the data does not decompress.
func (c *Conn) ReadDeflateMessage(d *Decompressor) DeflateMessage {
	c.t.Helper()
	var m DeflateMessage
	var payload []byte
	for {
		f, err := c.ReadFrameRSV(RSV1)
		if err != nil {
			c.t.Fatalf("wstest: read frame (after %d frames of a message): %v", len(m.Frames), err)
		}
		switch {
		case f.Opcode >= OpClose:
			c.t.Fatalf("wstest: control frame %v while reading a message", f)
		case m.Opcode == 0 && f.Opcode == OpContinuation:
			c.t.Fatalf("wstest: continuation frame %v outside a message", f)
		case m.Opcode != 0 && f.Opcode != OpContinuation:
			c.t.Fatalf("wstest: new message %v inside a fragmented one", f)
		case m.Opcode != 0 && f.Rsv&RSV1 != 0:
			c.t.Fatalf("wstest: RSV1 on continuation frame %d %v (RFC 7692 section 6.1)", len(m.Frames), f)
		}
		if m.Opcode == 0 {
			m.Opcode = f.Opcode
			m.Compressed = f.Rsv&RSV1 != 0
		}
		m.Frames = append(m.Frames, f)
		payload = append(payload, f.Payload...)
		if f.Fin {
			break
		}
	}
	if !m.Compressed {
		m.Payload = payload
		return m
	}
	out, err := d.Decompress(payload)
	if err != nil {
		c.t.Fatalf("wstest: decompress a %d-byte message (%d frames): %v", len(payload), len(m.Frames), err)
	}
	m.Payload = out
	return m
}
