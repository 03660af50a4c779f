package handshake

import (
	"iter"

	"github.com/volley-ws/volley/internal/ascii"
	"github.com/volley-ws/volley/internal/httpwire"
	"github.com/volley-ws/volley/upgrade"
)

// Accepted is the outcome of a successful handshake negotiation. Its
// AppendResponse writes the 101 response.
type Accepted struct {
	// Protocol is the selected subprotocol, or "".
	Protocol string
	// Compressed reports that permessage-deflate was negotiated, with the
	// parameters in Deflate.
	Compressed bool
	Deflate    DeflateParams

	// accept is the Sec-WebSocket-Accept value, computed by the
	// negotiation, so that AppendResponse (which may run on a goroutine
	// with a small stack) only copies it.
	accept [28]byte
}

// Accept returns the Sec-WebSocket-Accept value.
func (a *Accepted) Accept() string { return string(a.accept[:]) }

// AppendResponse appends the complete 101 Switching Protocols head for a to
// dst, with the fields of extra before the blank line, and returns the
// extended slice. It allocates nothing when dst has room, so the engine
// writes the response straight into its outbound buffer. extra's names
// and values are sanitized as by httpwire.AppendField.
func (a *Accepted) AppendResponse(dst []byte, extra []upgrade.HeaderField) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: websocket\r\n"+
		"Connection: Upgrade\r\n"...)
	dst = append(dst, "Sec-WebSocket-Accept: "...)
	dst = append(dst, a.accept[:]...)
	dst = append(dst, "\r\n"...)
	if a.Protocol != "" {
		dst = httpwire.AppendField(dst, "Sec-WebSocket-Protocol", a.Protocol)
	}
	if a.Compressed {
		dst = append(dst, "Sec-WebSocket-Extensions: "...)
		dst = a.Deflate.AppendResponse(dst)
		dst = append(dst, "\r\n"...)
	}
	for _, f := range extra {
		dst = httpwire.AppendField(dst, f.Name, f.Value)
	}
	return append(dst, "\r\n"...)
}

// Negotiate validates r as a WebSocket opening handshake under o and
// returns what it agreed (the subprotocol and permessage-deflate), from
// which Accepted.AppendResponse writes the response. On failure err is one
// of upgrade's *StatusError sentinels to answer with (ErrOriginRejected
// when the origin check fails). It allocates nothing, and the Accepted
// does not refer to r.
func Negotiate(r *upgrade.Request, o *upgrade.Options) (Accepted, error) {
	key, err := checkHandshake(r)
	if err != nil {
		return Accepted{}, err
	}
	if !CheckOrigin(o, r) {
		return Accepted{}, upgrade.ErrOriginRejected
	}
	return negotiate(r, key, o), nil
}

// CheckOrigin applies o.CheckOrigin, or the same-origin default when it is
// nil: a request without Origin (not from a browser) passes, one whose
// Origin's host (with its port) equals the Host header passes, others fail.
func CheckOrigin(o *upgrade.Options, r *upgrade.Request) bool {
	if o != nil && o.CheckOrigin != nil {
		return o.CheckOrigin(r)
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	host := origin
	if i := indexString(host, "://"); i >= 0 {
		host = host[i+3:]
	}
	return ascii.EqualFold(host, r.Host)
}

func indexString(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// negotiate makes the subprotocol choice and the permessage-deflate
// negotiation for a valid handshake with the given key. The origin check
// is the caller's.
func negotiate(r *upgrade.Request, key string, o *upgrade.Options) Accepted {
	a := Accepted{accept: acceptKey(key)}
	if o != nil {
		a.Protocol = selectProtocol(tokens(r.Header, "Sec-WebSocket-Protocol"), o.Subprotocols)
		a.Deflate, a.Compressed = negotiateDeflate(tokens(r.Header, "Sec-WebSocket-Extensions"), &o.Compression)
	}
	return a
}

// tokens returns the elements of the comma-separated lists of the fields
// named name, as Header.Tokens yields them.
func tokens(h upgrade.Header, name string) iter.Seq[string] {
	return func(yield func(string) bool) { h.Tokens(name, yield) }
}
