// Package httpwire is the engine's HTTP/1.1 wire format: it parses request
// heads in place in the event loop's input buffer into upgrade.Request
// values, and writes simple responses. It is pure (bytes in, values out)
// and allocates nothing once a Request's header storage has grown.
package httpwire

import (
	"bytes"
	"strings"
	"unsafe"

	"github.com/volley-ws/volley/internal/ascii"
	"github.com/volley-ws/volley/upgrade"
)

// Parse parses one request head from the start of b into r, without
// copying: r's strings refer to b and are valid only while b is unchanged
// (upgrade.Request.Clone makes a copy that owns its memory). It reuses the
// storage of r.Header, so a Request kept for the purpose parses without
// allocating.
//
// If the head is incomplete, it returns upgrade.ErrHeaderTooLarge when
// len(b) >= maxHead, and otherwise (0, nil), meaning "need more bytes". A
// head that is complete but longer than maxHead also gets
// ErrHeaderTooLarge; maxHead <= 0 rejects everything. On success n is the
// number of bytes of the head, through the blank line, counting any empty
// lines skipped before the request line; the body (ContentLength bytes) is
// not consumed. On error n is 0, r's contents are undefined and err is one
// of upgrade's *StatusError sentinels.
//
// A malformed request line is reported as soon as it is complete (or, for
// bytes that can never appear in one, as soon as they arrive), so garbage
// such as a TLS ClientHello is rejected without waiting for maxHead bytes.
// Every other error is reported once the whole head has arrived. Parsing is
// therefore prefix-consistent: every proper prefix of an input that parses
// returns "need more bytes", and every prefix of an input that fails returns
// "need more bytes" or the same error.
func Parse(r *upgrade.Request, b []byte, maxHead int) (n int, err error) {
	return parse(r, b, maxHead)
}

// parse is Parse.
func parse(r *upgrade.Request, b []byte, maxHead int) (n int, err error) {
	w := b
	if len(w) > maxHead {
		w = w[:max(maxHead, 0)]
	}

	// RFC 9112 section 2.2: empty lines before the request line may be
	// ignored.
	start := 0
	for start < len(w) {
		if w[start] == '\n' {
			start++
			continue
		}
		if w[start] != '\r' {
			break
		}
		if start+1 == len(w) {
			return incomplete(b, maxHead)
		}
		if w[start+1] != '\n' {
			return 0, upgrade.ErrMalformedRequest
		}
		start += 2
	}

	lf, err := scanRequestLine(w, start)
	if err != nil {
		return 0, err
	}
	if lf < 0 {
		return incomplete(b, maxHead)
	}
	rl, err := parseRequestLine(trimCR(w[start:lf]))
	if err != nil {
		return 0, err
	}

	end, nfields := findHeadEnd(w, lf+1)
	if end < 0 {
		return incomplete(b, maxHead)
	}

	head := unsafe.String(unsafe.SliceData(w[start:end]), end-start)
	fields := r.Header[:0]
	clear(fields[:cap(fields)]) // drop references to earlier inputs
	*r = upgrade.Request{
		Method:        head[:rl.methodEnd],
		Target:        head[rl.methodEnd+1 : rl.targetEnd],
		Proto:         head[rl.targetEnd+1 : rl.lineEnd],
		ProtoMinor:    rl.minor,
		Header:        fields,
		ContentLength: -1,
	}
	splitTarget(r, rl)
	if err := parseFields(r, head[lf-start+1:], nfields); err != nil {
		return 0, err
	}
	if rl.authorityEnd > 0 {
		r.Host = r.Target[rl.authorityStart:rl.authorityEnd]
	}
	if r.ProtoMinor == 1 {
		r.KeepAlive = !r.Header.HasToken("Connection", "close")
	} else {
		r.KeepAlive = r.Header.HasToken("Connection", "keep-alive")
	}
	return end, nil
}

// incomplete is the result for a head that has not fully arrived.
func incomplete(b []byte, maxHead int) (int, error) {
	if len(b) >= maxHead {
		return 0, upgrade.ErrHeaderTooLarge
	}
	return 0, nil
}

// scanRequestLine returns the index of the LF ending the request line that
// starts at w[start], or -1 when it has not arrived yet. It fails as soon as
// it meets a byte that cannot appear in a request line: a control character
// or a CR not followed by LF.
func scanRequestLine(w []byte, start int) (int, error) {
	for i := start; i < len(w); i++ {
		switch c := w[i]; {
		case c == '\n':
			return i, nil
		case c == '\r':
			if i+1 < len(w) && w[i+1] != '\n' {
				return 0, upgrade.ErrMalformedRequest
			}
		case c < ' ' || c == 0x7f:
			return 0, upgrade.ErrMalformedRequest
		}
	}
	return -1, nil
}

// findHeadEnd looks for the empty line ending the header section, whose
// first line starts at w[i]. It returns the index just past that empty line
// and the number of field lines before it, or -1 when it has not arrived.
func findHeadEnd(w []byte, i int) (end, fields int) {
	for {
		j := bytes.IndexByte(w[i:], '\n')
		if j < 0 {
			return -1, 0
		}
		if j == 0 || (j == 1 && w[i] == '\r') {
			return i + j + 1, fields
		}
		fields++
		i += j + 1
	}
}

// trimCR removes one trailing CR.
func trimCR[T string | []byte](s T) T {
	if len(s) > 0 && s[len(s)-1] == '\r' {
		return s[:len(s)-1]
	}
	return s
}

// parseFields parses the header section s (field lines followed by the empty
// line) into r.Header, and sets r.Host and r.ContentLength. n is the number
// of field lines.
func parseFields(r *upgrade.Request, s string, n int) error {
	if cap(r.Header) < n {
		r.Header = make(upgrade.Header, 0, n)
	}
	hosts, te := 0, false
	for {
		i := strings.IndexByte(s, '\n')
		line := trimCR(s[:i])
		s = s[i+1:]
		if line == "" {
			break
		}
		name, value, err := parseField(line)
		if err != nil {
			return err
		}
		r.Header = append(r.Header, upgrade.HeaderField{Name: name, Value: value})
		switch {
		case ascii.EqualFold(name, "Host"):
			hosts++
			r.Host = value
		case ascii.EqualFold(name, "Content-Length"):
			cl, ok := parseContentLength(value)
			if !ok || (r.ContentLength >= 0 && cl != r.ContentLength) {
				return upgrade.ErrBadContentLength
			}
			r.ContentLength = cl
		case ascii.EqualFold(name, "Transfer-Encoding"):
			te = true
		}
	}
	switch {
	case te:
		return upgrade.ErrTransferEncoding
	case hosts > 1 || (hosts == 1 && !validHost(r.Host)):
		return upgrade.ErrBadHost
	case hosts == 0 && r.ProtoMinor == 1:
		return upgrade.ErrMissingHost
	}
	return nil
}

// parseField splits a field line (without its line ending) into its name
// and its value trimmed of optional whitespace.
func parseField(line string) (name, value string, err error) {
	if line[0] == ' ' || line[0] == '\t' {
		return "", "", upgrade.ErrMalformedRequest // obs-fold, RFC 9112 section 5.2
	}
	colon := strings.IndexByte(line, ':')
	if colon < 0 || !ascii.IsToken(line[:colon]) {
		return "", "", upgrade.ErrMalformedRequest // includes whitespace before ':'
	}
	value = ascii.TrimOWS(line[colon+1:])
	for i := 0; i < len(value); i++ {
		if c := value[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return "", "", upgrade.ErrMalformedRequest
		}
	}
	return line[:colon], value, nil
}

// parseContentLength parses 1*DIGIT into a non-negative int64.
func parseContentLength(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if v > (1<<63-1-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// validHost reports whether s is a plausible host[:port]: only characters of
// an RFC 3986 reg-name, IP literal or port.
func validHost[T string | []byte](s T) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("-._~%!$&'()*+,;=:[]", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// requestLine holds the positions of the parts of a request line, relative
// to its first byte.
type requestLine struct {
	methodEnd, targetEnd, lineEnd int // SP, SP, end of line without CR
	minor                         int
	// authorityStart and authorityEnd delimit the authority within the
	// target of an absolute-form request; both are 0 for other forms.
	authorityStart, authorityEnd int
}

// parseRequestLine checks "method SP request-target SP HTTP-version" (line
// without its line ending) and returns where its parts are.
func parseRequestLine(line []byte) (requestLine, error) {
	var rl requestLine
	rl.lineEnd = len(line)
	rl.methodEnd = bytes.IndexByte(line, ' ')
	if rl.methodEnd <= 0 {
		return rl, upgrade.ErrMalformedRequest
	}
	method := line[:rl.methodEnd]
	for _, c := range method {
		if !ascii.IsTokenChar(c) {
			return rl, upgrade.ErrMalformedRequest
		}
	}
	sp := bytes.IndexByte(line[rl.methodEnd+1:], ' ')
	if sp <= 0 {
		return rl, upgrade.ErrMalformedRequest
	}
	rl.targetEnd = rl.methodEnd + 1 + sp
	target := line[rl.methodEnd+1 : rl.targetEnd]
	version := line[rl.targetEnd+1:]
	if len(version) != 8 || !bytes.HasPrefix(version, []byte("HTTP/")) ||
		!isDigit(version[5]) || version[6] != '.' || !isDigit(version[7]) {
		return rl, upgrade.ErrMalformedRequest
	}

	switch {
	case target[0] == '/': // origin-form
	case len(target) == 1 && target[0] == '*': // asterisk-form
		if string(method) != "OPTIONS" {
			return rl, upgrade.ErrMalformedRequest
		}
	default: // absolute-form: scheme "://" authority [path-abempty] ["?" query]
		colon := bytes.IndexByte(target, ':')
		if colon <= 0 || !validScheme(target[:colon]) || !bytes.HasPrefix(target[colon+1:], []byte("//")) {
			return rl, upgrade.ErrMalformedRequest
		}
		rl.authorityStart = colon + 3
		rl.authorityEnd = len(target)
		if i := bytes.IndexAny(target[rl.authorityStart:], "/?"); i >= 0 {
			rl.authorityEnd = rl.authorityStart + i
		}
		if rl.authorityEnd == rl.authorityStart || !validHost(target[rl.authorityStart:rl.authorityEnd]) {
			return rl, upgrade.ErrBadHost
		}
	}

	if version[5] != '1' || version[7] > '1' {
		return rl, upgrade.ErrUnsupportedProto
	}
	rl.minor = int(version[7] - '0')
	return rl, nil
}

// splitTarget sets r.Path and r.RawQuery from r.Target.
func splitTarget(r *upgrade.Request, rl requestLine) {
	rest := r.Target[rl.authorityEnd:]
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		r.Path, r.RawQuery = rest[:i], rest[i+1:]
	} else {
		r.Path = rest
	}
	if r.Path == "" {
		r.Path = "/" // absolute-form with an empty path
	}
}

// validScheme reports whether s is an RFC 3986 scheme:
// ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
func validScheme(s []byte) bool {
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && (isDigit(c) || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return len(s) > 0
}

// isDigit reports whether c is an ASCII decimal digit.
func isDigit(c byte) bool {
	return '0' <= c && c <= '9'
}
