package handshake

import (
	"iter"
	"slices"

	"github.com/volley-ws/volley/internal/ascii"
	"github.com/volley-ws/volley/upgrade"
)

// permessage-deflate negotiation, server side (RFC 7692 sections 5 and 7.1).

// deflateName is the extension token of RFC 7692 section 7.
const deflateName = "permessage-deflate"

// The extension parameters of RFC 7692 section 7.1.
const (
	paramServerNoContextTakeover = "server_no_context_takeover"
	paramClientNoContextTakeover = "client_no_context_takeover"
	paramServerMaxWindowBits     = "server_max_window_bits"
	paramClientMaxWindowBits     = "client_max_window_bits"
)

// deflateOffer is one syntactically valid permessage-deflate offer.
type deflateOffer struct {
	serverNoContextTakeover bool
	clientNoContextTakeover bool
	// serverMaxWindowBits is 8 to 15, or 0 when absent.
	serverMaxWindowBits int
	// clientMaxWindowBits is 8 to 15 (15 when offered without a value), or
	// 0 when absent.
	clientMaxWindowBits int
}

// NegotiateDeflate picks the first acceptable permessage-deflate offer among
// offers (Handshake.Extensions) under c. ok is false when c is nil,
// c.Enabled is false or no offer is acceptable (the extension is then
// declined: the response carries no Sec-WebSocket-Extensions).
//
// Elements whose extension name is not permessage-deflate (compared
// case-insensitively) are ignored. A permessage-deflate offer is declined,
// and the next one considered, when it has a syntax error, a parameter not
// defined for offers, the same parameter twice, a value on
// server_no_context_takeover or client_no_context_takeover, or a window size
// that is not a decimal 8 to 15 without leading zeros (plain or as a quoted
// string); server_max_window_bits requires a value. Any other offer is
// acceptable, since the server supports every window size. It never rejects
// the handshake.
//
// The agreed parameters are:
//   - ServerNoContextTakeover when offered, when !c.ContextTakeover, or when
//     the server window is below 15 (the server compresses with a small
//     window only without context takeover);
//   - ClientNoContextTakeover when offered or when !c.ContextTakeover
//     (RFC 7692 section 7.1.1.2 lets a server ask for it unoffered);
//   - ServerMaxWindowBits as offered, else 15;
//   - ClientMaxWindowBits, only when the offer has client_max_window_bits
//     (15 without a value): the smaller of the offered value and
//     c.ClientMaxWindowBits, else 15. A c.ClientMaxWindowBits outside 9 to
//     15 counts as 15 here: 0 by definition, and any other value (8
//     included) is a configuration error the engine reports separately.
//
// The Sec-WebSocket-Extensions response value is p.String() or
// p.AppendResponse.
//
// NegotiateDeflate is a pure function, safe for concurrent use. It does not
// allocate and keeps no reference to offers or c; p is a plain value that
// holds no references and stays valid indefinitely.
func NegotiateDeflate(offers []string, c *upgrade.Compression) (p DeflateParams, ok bool) {
	return negotiateDeflate(slices.Values(offers), c)
}

// negotiateDeflate is NegotiateDeflate over a sequence of offers.
func negotiateDeflate(offers iter.Seq[string], c *upgrade.Compression) (p DeflateParams, ok bool) {
	if c == nil || !c.Enabled {
		return DeflateParams{}, false
	}
	for s := range offers {
		if o, valid := parseDeflateOffer(s); valid {
			return o.accept(c), true
		}
	}
	return DeflateParams{}, false
}

// accept returns the parameters the server answers o with under c.
func (o *deflateOffer) accept(c *upgrade.Compression) DeflateParams {
	p := DeflateParams{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}
	if o.serverMaxWindowBits != 0 {
		p.ServerMaxWindowBits = o.serverMaxWindowBits
		p.serverWindowOffered = true
	}
	p.ServerNoContextTakeover = o.serverNoContextTakeover || !c.ContextTakeover || p.ServerMaxWindowBits < 15
	p.ClientNoContextTakeover = o.clientNoContextTakeover || !c.ContextTakeover
	if o.clientMaxWindowBits != 0 {
		want := c.ClientMaxWindowBits
		if want < 9 || want > 15 {
			want = 15
		}
		p.ClientMaxWindowBits = min(o.clientMaxWindowBits, want)
	}
	return p
}

// parseDeflateOffer parses one extension offer (a Sec-WebSocket-Extensions
// list element) in place. ok is false when s is not permessage-deflate or is
// an offer that must be declined.
//
// The grammar is that of RFC 6455 section 9.1, with optional whitespace
// around ";" and "=":
//
//	extension = token *( OWS ";" OWS token [ OWS "=" OWS ( token / quoted-string ) ] )
func parseDeflateOffer(s string) (deflateOffer, bool) {
	var o deflateOffer
	i := skipOWS(s, 0)
	j := skipToken(s, i)
	if !ascii.EqualFold(s[i:j], deflateName) {
		return deflateOffer{}, false
	}
	var seen uint8 // one bit per parameter
	for i = skipOWS(s, j); i < len(s); i = skipOWS(s, i) {
		if s[i] != ';' {
			return deflateOffer{}, false
		}
		i = skipOWS(s, i+1)
		j = skipToken(s, i)
		name := s[i:j]
		if name == "" {
			return deflateOffer{}, false
		}
		i = skipOWS(s, j)
		value, hasValue, quoted := "", false, false
		if i < len(s) && s[i] == '=' {
			hasValue = true
			i = skipOWS(s, i+1)
			if i < len(s) && s[i] == '"' {
				j = skipQuoted(s, i+1)
				if j < 0 {
					return deflateOffer{}, false
				}
				value, quoted = s[i+1:j], true
				i = j + 1
			} else {
				j = skipToken(s, i)
				if j == i {
					return deflateOffer{}, false
				}
				value = s[i:j]
				i = j
			}
		}
		var bit uint8
		valid := false // a parameter defined for offers, with a valid value
		switch {
		case ascii.EqualFold(name, paramServerNoContextTakeover):
			bit = 1
			o.serverNoContextTakeover = true
			valid = !hasValue
		case ascii.EqualFold(name, paramClientNoContextTakeover):
			bit = 2
			o.clientNoContextTakeover = true
			valid = !hasValue
		case ascii.EqualFold(name, paramServerMaxWindowBits):
			bit = 4
			o.serverMaxWindowBits = windowBits(value, quoted)
			valid = hasValue && o.serverMaxWindowBits != 0
		case ascii.EqualFold(name, paramClientMaxWindowBits):
			bit = 8
			o.clientMaxWindowBits = 15
			if hasValue {
				o.clientMaxWindowBits = windowBits(value, quoted)
			}
			valid = o.clientMaxWindowBits != 0
		}
		if !valid || seen&bit != 0 {
			return deflateOffer{}, false
		}
		seen |= bit
	}
	return o, true
}

// windowBits returns the window size v stands for, 8 to 15, or 0 when v is
// not such a decimal without leading zeros. A quoted value is the content
// of a quoted string, whose backslash escapes are undone first (RFC 6455
// section 9.1).
func windowBits(v string, quoted bool) int {
	var d [2]byte
	n := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if quoted && c == '\\' && i+1 < len(v) {
			i++
			c = v[i]
		}
		if n == len(d) || c < '0' || c > '9' {
			return 0
		}
		d[n] = c
		n++
	}
	switch {
	case n == 1 && d[0] >= '8':
		return int(d[0] - '0')
	case n == 2 && d[0] == '1' && d[1] <= '5':
		return 10 + int(d[1]-'0')
	}
	return 0
}

// skipOWS returns the index of the first byte at or after i in s that is
// not a space or horizontal tab.
func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// skipToken returns the index of the first byte at or after i in s that
// cannot appear in a token.
func skipToken(s string, i int) int {
	for i < len(s) && ascii.IsTokenChar(s[i]) {
		i++
	}
	return i
}

// skipQuoted returns the index of the double quote that closes the quoted
// string whose content starts at s[i], honouring backslash escapes, or -1
// when it is not closed.
func skipQuoted(s string, i int) int {
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// String returns the Sec-WebSocket-Extensions response value for p, e.g.
// "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
// as AppendResponse writes it. It is safe for concurrent use and allocates
// only the returned string, which the caller owns.
func (p DeflateParams) String() string {
	var buf [128]byte // the longest response is 128 bytes
	return string(p.AppendResponse(buf[:0]))
}

// AppendResponse appends the Sec-WebSocket-Extensions response value for p
// to dst and returns the extended slice: "permessage-deflate", then, joined
// with "; ", server_no_context_takeover and client_no_context_takeover when
// set, and server_max_window_bits=N and client_max_window_bits=N when N is
// 8 to 14. A window of 15 is the default and is written only as the answer
// to an offer's server_max_window_bits=15, which RFC 7692 section 7.1.2.1
// requires the response to repeat; a value outside 8 to 15, such as the
// zero value's 0, is never written.
//
// It is safe for concurrent use and does not allocate when dst has room
// for 128 more bytes.
func (p DeflateParams) AppendResponse(dst []byte) []byte {
	dst = append(dst, deflateName...)
	if p.ServerNoContextTakeover {
		dst = append(dst, "; "+paramServerNoContextTakeover...)
	}
	if p.ClientNoContextTakeover {
		dst = append(dst, "; "+paramClientNoContextTakeover...)
	}
	if 8 <= p.ServerMaxWindowBits && (p.ServerMaxWindowBits < 15 || p.serverWindowOffered && p.ServerMaxWindowBits == 15) {
		dst = append(dst, "; "+paramServerMaxWindowBits+"="...)
		dst = appendWindowBits(dst, p.ServerMaxWindowBits)
	}
	if 8 <= p.ClientMaxWindowBits && p.ClientMaxWindowBits < 15 {
		dst = append(dst, "; "+paramClientMaxWindowBits+"="...)
		dst = appendWindowBits(dst, p.ClientMaxWindowBits)
	}
	return dst
}

// appendWindowBits appends n, 8 to 15, in decimal.
func appendWindowBits(dst []byte, n int) []byte {
	if n >= 10 {
		return append(dst, '1', byte('0'+n-10))
	}
	return append(dst, byte('0'+n))
}

// DeflateParams are the permessage-deflate parameters agreed in a
// handshake: what the server put in its Sec-WebSocket-Extensions response,
// with the offer's hints folded in.
type DeflateParams struct {
	// ServerNoContextTakeover: the server resets its compressor after each
	// message.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover: the client resets its compressor after each
	// message, so the server keeps no window for received messages.
	ClientNoContextTakeover bool
	// ServerMaxWindowBits (8 to 15) bounds the window the server compresses
	// with; 15 when not negotiated.
	ServerMaxWindowBits int
	// ClientMaxWindowBits (8 to 15) bounds the window the client compresses
	// with; 15 when neither side limited it.
	ClientMaxWindowBits int

	// serverWindowOffered: the offer had server_max_window_bits, so the
	// response repeats it even when it is 15.
	serverWindowOffered bool
}
