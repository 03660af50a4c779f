package wsclient

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// This file is a small WebSocket server for the tests, on net/http's
// Hijacker: the client is tested against an implementation of its own,
// with nothing from the rest of the project.

// serverConfig sets what a testServer does.
type serverConfig struct {
	// subprotocols the server supports; it picks the first one the client
	// offers.
	subprotocols []string
	// deflate accepts a permessage-deflate offer.
	deflate bool
	// takeover, with deflate, keeps the compressor's window between
	// messages when the offer allows it (no server_no_context_takeover).
	takeover bool
	// header, when set, edits the header fields of the 101 response.
	header func(r *http.Request, h http.Header)
	// refuse, when set, may answer the request itself (returning true)
	// instead of upgrading.
	refuse func(w http.ResponseWriter, r *http.Request) bool
	// handle runs the connection after the handshake; nil means echo.
	handle func(s *sconn)
	// fragment, for echo, splits replies into frames of at most this many
	// payload bytes.
	fragment int
}

// testServer is a WebSocket server on a random local port.
type testServer struct {
	t   *testing.T
	cfg serverConfig
	hs  *httptest.Server
	url string // ws://127.0.0.1:port

	reqs     chan *http.Request // the handshake requests received
	received chan smsg          // the messages and close frames received
	pongs    chan []byte        // the pongs received

	wg    sync.WaitGroup // the handlers
	mu    sync.Mutex
	conns []net.Conn
}

func startServer(t *testing.T, cfg serverConfig) *testServer {
	t.Helper()
	ts := &testServer{
		t:        t,
		cfg:      cfg,
		reqs:     make(chan *http.Request, 100),
		received: make(chan smsg, 1000),
		pongs:    make(chan []byte, 100),
	}
	ts.hs = httptest.NewServer(http.HandlerFunc(ts.serve))
	ts.url = "ws://" + ts.hs.Listener.Addr().String()
	t.Cleanup(ts.close)
	return ts
}

// close stops the server: no new connection, the hijacked ones closed, the
// handlers finished.
func (ts *testServer) close() {
	ts.hs.Close() // every handler has called wg.Add by now
	ts.mu.Lock()
	for _, nc := range ts.conns {
		_ = nc.Close()
	}
	ts.mu.Unlock()
	ts.wg.Wait()
}

func acceptKey(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func listHas(values []string, token string) bool {
	for _, v := range values {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func (ts *testServer) serve(w http.ResponseWriter, r *http.Request) {
	ts.wg.Add(1)
	defer ts.wg.Done()
	select {
	case ts.reqs <- r:
	default:
	}
	if ts.cfg.refuse != nil && ts.cfg.refuse(w, r) {
		return
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if k, err := base64.StdEncoding.DecodeString(key); err != nil || len(k) != 16 ||
		r.Method != http.MethodGet || !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") ||
		!listHas(r.Header.Values("Connection"), "upgrade") || r.Header.Get("Sec-WebSocket-Version") != "13" {
		http.Error(w, "not a WebSocket handshake", http.StatusBadRequest)
		return
	}
	h := http.Header{}
	h.Set("Upgrade", "websocket")
	h.Set("Connection", "Upgrade")
	h.Set("Sec-WebSocket-Accept", acceptKey(key))
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); h.Get("Sec-WebSocket-Protocol") == "" && slices.Contains(ts.cfg.subprotocols, p) {
				h.Set("Sec-WebSocket-Protocol", p)
			}
		}
	}
	s := &sconn{ts: ts}
	if offer := r.Header.Get("Sec-WebSocket-Extensions"); ts.cfg.deflate && strings.HasPrefix(offer, "permessage-deflate") {
		s.deflate = true
		s.takeover = ts.cfg.takeover && !strings.Contains(offer, "server_no_context_takeover")
		resp := "permessage-deflate; client_no_context_takeover"
		if !s.takeover {
			resp += "; server_no_context_takeover"
		}
		h.Set("Sec-WebSocket-Extensions", resp)
	}
	if ts.cfg.header != nil {
		ts.cfg.header(r, h)
	}
	nc, brw, err := w.(http.Hijacker).Hijack()
	if err != nil {
		ts.t.Errorf("server: hijack: %v", err)
		return
	}
	defer nc.Close()
	ts.mu.Lock()
	ts.conns = append(ts.conns, nc)
	ts.mu.Unlock()
	_ = nc.SetDeadline(time.Now().Add(20 * time.Second))
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 101 Switching Protocols\r\n")
	_ = h.Write(&head)
	head.WriteString("\r\n")
	if _, err := nc.Write(head.Bytes()); err != nil {
		return
	}
	s.nc, s.br = nc, brw.Reader
	if ts.cfg.handle != nil {
		ts.cfg.handle(s)
	} else {
		s.echo(ts.cfg.fragment)
	}
}

// sconn is the server's side of a connection.
type sconn struct {
	ts       *testServer
	nc       net.Conn
	br       *bufio.Reader
	deflate  bool // permessage-deflate negotiated
	takeover bool // the server keeps its compression window
	fw       *flate.Writer
	fbuf     bytes.Buffer
}

// sframe is a frame as the server received it, unmasked.
type sframe struct {
	fin     bool
	rsv     byte // RSV1 = 4
	op      byte
	payload []byte
}

// smsg is a data message (joined, inflated) or a close frame received by
// the server.
type smsg struct {
	op         byte
	payload    []byte
	compressed bool
	frames     int
}

// readFrame reads one client frame; it must be masked.
func (s *sconn) readFrame() (sframe, error) {
	var h [2]byte
	if _, err := io.ReadFull(s.br, h[:]); err != nil {
		return sframe{}, err
	}
	f := sframe{fin: h[0]&0x80 != 0, rsv: h[0] >> 4 & 7, op: h[0] & 0xf}
	if h[1]&0x80 == 0 {
		return f, errors.New("server: client frame not masked")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var e [2]byte
		if _, err := io.ReadFull(s.br, e[:]); err != nil {
			return f, err
		}
		if n = uint64(binary.BigEndian.Uint16(e[:])); n < 126 {
			return f, fmt.Errorf("server: 16-bit length %d", n)
		}
	case 127:
		var e [8]byte
		if _, err := io.ReadFull(s.br, e[:]); err != nil {
			return f, err
		}
		if n = binary.BigEndian.Uint64(e[:]); n <= 0xffff || n > 1<<30 {
			return f, fmt.Errorf("server: 64-bit length %d", n)
		}
	}
	var key [4]byte
	if _, err := io.ReadFull(s.br, key[:]); err != nil {
		return f, err
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(s.br, f.payload); err != nil {
		return f, err
	}
	for i := range f.payload {
		f.payload[i] ^= key[i%4]
	}
	return f, nil
}

// readMessage reads a data message or a close frame, answering pings and
// recording pongs, checking the client's frames, and reports it on
// ts.received.
func (s *sconn) readMessage() (smsg, error) {
	var m smsg
	for {
		f, err := s.readFrame()
		if err != nil {
			return m, err
		}
		if f.rsv&^4 != 0 || f.rsv != 0 && (!s.deflate || f.op == 0 || f.op >= 8) {
			return m, fmt.Errorf("server: client frame %+v has bad RSV bits", f.rsv)
		}
		switch f.op {
		case 0x9:
			if err := s.writeFrame(true, 0, 0xA, f.payload); err != nil {
				return m, err
			}
			continue
		case 0xA:
			select {
			case s.ts.pongs <- f.payload:
			default:
			}
			continue
		case 0x8:
			m = smsg{op: 0x8, payload: f.payload, frames: 1}
			s.ts.report(m)
			return m, nil
		case 0x0:
			if m.frames == 0 {
				return m, errors.New("server: continuation first")
			}
		case 0x1, 0x2:
			if m.frames != 0 {
				return m, errors.New("server: new message inside a fragmented one")
			}
			m.op, m.compressed = f.op, f.rsv&4 != 0
		default:
			return m, fmt.Errorf("server: opcode %#x", f.op)
		}
		m.frames++
		m.payload = append(m.payload, f.payload...)
		if !f.fin {
			continue
		}
		if m.compressed {
			r := flate.NewReader(io.MultiReader(bytes.NewReader(m.payload),
				bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff})))
			if m.payload, err = io.ReadAll(r); err != nil {
				return m, fmt.Errorf("server: inflate: %w", err)
			}
		}
		if m.payload == nil {
			m.payload = []byte{}
		}
		s.ts.report(m)
		return m, nil
	}
}

// report puts m on ts.received, unless it is full.
func (ts *testServer) report(m smsg) {
	select {
	case ts.received <- m:
	default:
	}
}

// appendServerFrame appends an unmasked frame with a minimal length.
func appendServerFrame(dst []byte, fin bool, rsv, op byte, p []byte) []byte {
	b0 := rsv<<4 | op
	if fin {
		b0 |= 0x80
	}
	switch n := len(p); {
	case n <= 125:
		dst = append(dst, b0, byte(n))
	case n <= 0xffff:
		dst = append(dst, b0, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, b0, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, p...)
}

func (s *sconn) writeRaw(b []byte) error {
	_, err := s.nc.Write(b)
	return err
}

func (s *sconn) writeFrame(fin bool, rsv, op byte, p []byte) error {
	return s.writeRaw(appendServerFrame(nil, fin, rsv, op, p))
}

// compress compresses a whole message for permessage-deflate.
func (s *sconn) compress(p []byte) []byte {
	s.fbuf.Reset()
	if s.fw == nil {
		// BestSpeed is quick, but it does not look back into the window
		// for short messages: context takeover needs a higher level.
		level := flate.BestSpeed
		if s.takeover {
			level = flate.DefaultCompression
		}
		s.fw, _ = flate.NewWriter(&s.fbuf, level)
	} else if !s.takeover {
		s.fw.Reset(&s.fbuf)
	}
	_, _ = s.fw.Write(p)
	_ = s.fw.Flush()
	return bytes.TrimSuffix(bytes.Clone(s.fbuf.Bytes()), []byte{0, 0, 0xff, 0xff})
}

// writeMessage sends a message, compressed when negotiated, in frames of
// at most frag bytes (one frame when frag is 0).
func (s *sconn) writeMessage(op byte, p []byte, frag int) error {
	var rsv byte
	if s.deflate {
		p, rsv = s.compress(p), 4
	}
	if frag <= 0 {
		frag = max(len(p), 1)
	}
	var b []byte
	for first := true; first || len(p) > 0; first = false {
		n := min(frag, len(p))
		o := op
		if !first {
			o, rsv = 0, 0
		}
		b = appendServerFrame(b, n == len(p), rsv, o, p[:n])
		p = p[n:]
	}
	return s.writeRaw(b)
}

// echo answers each message with the same message, and a close frame with
// the same close payload, after which it returns (the TCP connection is
// then closed).
func (s *sconn) echo(frag int) {
	for {
		m, err := s.readMessage()
		if err != nil {
			return
		}
		if m.op == 0x8 {
			_ = s.writeFrame(true, 0, 0x8, m.payload)
			return
		}
		if err := s.writeMessage(m.op, m.payload, frag); err != nil {
			return
		}
	}
}

// expectEOF reads until the client ends the TCP connection and reports
// whether it did without sending more bytes.
func (s *sconn) expectEOF() error {
	n, err := io.Copy(io.Discard, s.br)
	if err != nil {
		return err
	}
	if n != 0 {
		return fmt.Errorf("%d bytes before the end of the connection", n)
	}
	return nil
}
