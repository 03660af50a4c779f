package wsclient

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"strings"
)

// deflateParams are the permessage-deflate parameters of a handshake
// response (RFC 7692 section 7.1).
type deflateParams struct {
	// serverNoContextTakeover: the server compresses each message on its
	// own, so the client keeps no window between messages.
	serverNoContextTakeover bool
	// serverMaxWindowBits is 8 to 15, 15 when the response has none. The
	// client's inflater handles any window, so it is only checked.
	serverMaxWindowBits int
}

// deflateResponse checks the permessage-deflate element e of a response to
// the offer that o describes.
//
// Accepted: server_no_context_takeover (which the server must repeat when
// offered, since RFC 7692 section 7.1.1.1 does not let it decline it, and
// may add when not offered), client_no_context_takeover (a hint the server
// may repeat or leave out; the client never keeps context anyway) and
// server_max_window_bits=8..15 (the server may add it unoffered). Refused:
// client_max_window_bits (never offered, so the server must not send it,
// section 7.1.2.2), any other parameter, a parameter twice, a value on the
// first two, and a window size that is not 8 to 15 written without leading
// zeros.
func deflateResponse(e extension, o *Options) (*deflateParams, error) {
	p := &deflateParams{serverMaxWindowBits: 15}
	seen := map[string]bool{}
	for _, prm := range e.params {
		name := strings.ToLower(prm.name)
		if seen[name] {
			return nil, fmt.Errorf("parameter %s twice", name)
		}
		seen[name] = true
		switch name {
		case "server_no_context_takeover", "client_no_context_takeover":
			if prm.hasValue {
				return nil, fmt.Errorf("%s=%q: the parameter takes no value", name, prm.value)
			}
			if name == "server_no_context_takeover" {
				p.serverNoContextTakeover = true
			}
		case "server_max_window_bits":
			bits, ok := windowBits(prm.value)
			if !prm.hasValue || !ok {
				return nil, fmt.Errorf("server_max_window_bits=%q, want 8 to 15", prm.value)
			}
			p.serverMaxWindowBits = bits
		case "client_max_window_bits":
			return nil, errors.New("client_max_window_bits was not offered")
		default:
			return nil, fmt.Errorf("unknown parameter %q", prm.name)
		}
	}
	if !o.ServerContextTakeover && !p.serverNoContextTakeover {
		return nil, errors.New("server_no_context_takeover was offered but not accepted (it cannot be declined)")
	}
	return p, nil
}

// windowBits parses a window size: a decimal 8 to 15 without leading zeros.
func windowBits(s string) (int, bool) {
	switch {
	case len(s) == 1 && s[0] >= '8' && s[0] <= '9':
		return int(s[0] - '0'), true
	case len(s) == 2 && s[0] == '1' && s[1] >= '0' && s[1] <= '5':
		return 10 + int(s[1]-'0'), true
	}
	return 0, false
}

// extension is one element of a Sec-WebSocket-Extensions list.
type extension struct {
	name   string
	params []extParam
}

// extParam is an extension parameter; a quoted-string value is unquoted.
type extParam struct {
	name, value string
	hasValue    bool
}

// parseExtensions parses the Sec-WebSocket-Extensions field values of a
// response by the grammar of RFC 6455 section 9.1, with optional whitespace
// around the separators and empty list elements allowed (RFC 9110 section
// 5.6.1):
//
//	extension = token *( ";" token [ "=" ( token / quoted-string ) ] )
//
// A quoted-string value must be a token once unquoted.
func parseExtensions(values []string) ([]extension, error) {
	var exts []extension
	for _, v := range values {
		i := 0
		for {
			i = skipOWS(v, i)
			if i == len(v) {
				break
			}
			if v[i] == ',' {
				i++
				continue
			}
			name, j := scanToken(v, i)
			if name == "" {
				return nil, fmt.Errorf("syntax error at byte %d of %q", i, v)
			}
			e := extension{name: name}
			i = skipOWS(v, j)
			for i < len(v) && v[i] == ';' {
				i = skipOWS(v, i+1)
				pn, j := scanToken(v, i)
				if pn == "" {
					return nil, fmt.Errorf("syntax error at byte %d of %q", i, v)
				}
				prm := extParam{name: pn}
				i = skipOWS(v, j)
				if i < len(v) && v[i] == '=' {
					i = skipOWS(v, i+1)
					prm.hasValue = true
					var ok bool
					if i < len(v) && v[i] == '"' {
						prm.value, j, ok = scanQuoted(v, i)
						ok = ok && isToken(prm.value)
					} else {
						prm.value, j = scanToken(v, i)
						ok = prm.value != ""
					}
					if !ok {
						return nil, fmt.Errorf("bad value at byte %d of %q", i, v)
					}
					i = skipOWS(v, j)
				}
				e.params = append(e.params, prm)
			}
			if i < len(v) && v[i] != ',' {
				return nil, fmt.Errorf("syntax error at byte %d of %q", i, v)
			}
			exts = append(exts, e)
		}
	}
	return exts, nil
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// scanToken returns the token at s[i:] ("" when none) and the index after it.
func scanToken(s string, i int) (string, int) {
	j := i
	for j < len(s) && isTokenChar(s[j]) {
		j++
	}
	return s[i:j], j
}

// scanQuoted returns the unquoted content of the quoted-string at s[i:]
// (s[i] == '"') and the index after it; ok is false when it is unterminated.
func scanQuoted(s string, i int) (value string, next int, ok bool) {
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return b.String(), j + 1, true
		case c == '\\' && j+1 < len(s):
			j++
			b.WriteByte(s[j])
		default:
			b.WriteByte(c)
		}
	}
	return "", len(s), false
}

// isToken reports whether s is a non-empty token (RFC 9110 section 5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

func isTokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// flushTail ends the output of a flate sync flush; RFC 7692 section 7.2.1
// has the sender strip it from a message and section 7.2.2 the receiver
// append it back.
var flushTail = []byte{0x00, 0x00, 0xff, 0xff}

// inflateTail is appended to a received compressed message: the flush tail,
// then an empty final stored block, so that the inflater ends with io.EOF
// rather than io.ErrUnexpectedEOF.
var inflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// windowSize is the largest LZ77 window of DEFLATE: the dictionary kept for
// a server with context takeover.
const windowSize = 32 << 10

// deflater compresses outgoing messages, each on its own
// (client_no_context_takeover). It is guarded by Conn.writeMu.
type deflater struct {
	fw  *flate.Writer
	out bytes.Buffer
}

// compress compresses p, one frame's part of a message. first starts a new
// message (a fresh compressor); each part ends with a sync flush, whose
// tail is stripped from the message's last part (fin). The result is valid
// until the next call.
func (d *deflater) compress(p []byte, first, fin bool) ([]byte, error) {
	d.out.Reset()
	if d.fw == nil {
		fw, err := flate.NewWriter(&d.out, flate.BestSpeed)
		if err != nil {
			return nil, err
		}
		d.fw = fw
	} else if first {
		d.fw.Reset(&d.out)
	}
	if _, err := d.fw.Write(p); err != nil {
		return nil, err
	}
	if err := d.fw.Flush(); err != nil {
		return nil, err
	}
	b := d.out.Bytes()
	if fin {
		if !bytes.HasSuffix(b, flushTail) {
			return nil, errors.New("wsclient: compressed message does not end with a sync flush")
		}
		b = b[:len(b)-len(flushTail)]
	}
	return b, nil
}

// inflater decompresses incoming messages. It is guarded by the read
// ownership of Conn (readSem).
type inflater struct {
	fr       io.ReadCloser
	src      bytes.Reader
	takeover bool   // the server keeps its window between messages
	window   []byte // with takeover: the last windowSize bytes of output
}

// inflate decompresses in, the payload of a message, into out, a new slice
// of at most limit bytes. It appends the tail to in and returns the
// extended slice as buf, for reuse. errTooBig reports more than limit
// bytes; any other error is corrupt data.
func (f *inflater) inflate(in []byte, limit int64) (buf, out []byte, err error) {
	in = append(in, inflateTail...)
	f.src.Reset(in)
	var dict []byte
	if f.takeover {
		dict = f.window
	}
	if f.fr == nil {
		f.fr = flate.NewReaderDict(&f.src, dict)
	} else if err := f.fr.(flate.Resetter).Reset(&f.src, dict); err != nil {
		return in, nil, err
	}
	var ob bytes.Buffer
	n, err := ob.ReadFrom(io.LimitReader(f.fr, limit+1))
	if err != nil {
		return in, nil, err
	}
	if n > limit {
		return in, nil, errTooBig
	}
	out = ob.Bytes()
	if f.takeover {
		f.window = append(f.window, out...)
		if len(f.window) > windowSize {
			f.window = append(f.window[:0], f.window[len(f.window)-windowSize:]...)
		}
	}
	return in, out, nil
}

var errTooBig = errors.New("inflated message too big")
