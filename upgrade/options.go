package upgrade

// Options configure how WebSocket handshakes are accepted. The zero value
// accepts no subprotocol and applies the same-origin check.
type Options struct {
	// Subprotocols lists the subprotocols the server speaks, most preferred
	// first. The first one the client also offers is selected; when none
	// matches the handshake succeeds without Sec-WebSocket-Protocol, as
	// RFC 6455 allows.
	Subprotocols []string
	// CheckOrigin decides whether a handshake's Origin is accepted; false
	// answers 403 Forbidden. When nil, a request is accepted if it has no
	// Origin header (non-browser clients) or if the Origin's host equals the
	// Host header (a page served by this server). It is called when the
	// handshake is parsed, on the engine's event loop, so it must not
	// block; r is valid only during the call (the engine parses it in
	// place in its input buffer): Clone it to keep it.
	CheckOrigin func(r *Request) bool
	// Compression configures permessage-deflate; the zero value declines it.
	Compression Compression
}

// checkOrigin applies o.CheckOrigin or the same-origin default.
func (o *Options) checkOrigin(r *Request) bool {
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
	return equalFold(host, r.Host)
}

func indexString(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

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
// dst and returns the extended slice. It allocates nothing when dst has
// room, so an engine can write the response straight into its outbound
// buffer.
func (a *Accepted) AppendResponse(dst []byte) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: websocket\r\n"+
		"Connection: Upgrade\r\n"...)
	dst = append(dst, "Sec-WebSocket-Accept: "...)
	dst = append(dst, a.accept[:]...)
	dst = append(dst, "\r\n"...)
	if a.Protocol != "" {
		dst = appendField(dst, "Sec-WebSocket-Protocol", a.Protocol)
	}
	if a.Compressed {
		dst = append(dst, "Sec-WebSocket-Extensions: "...)
		dst = a.Deflate.AppendResponse(dst)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// Negotiate validates r as a WebSocket opening handshake under o and
// returns what it agreed (the subprotocol and permessage-deflate), from
// which Accepted.AppendResponse writes the response. On failure err is a
// *StatusError to answer with. It allocates nothing, and the Accepted does
// not refer to r.
func Negotiate(r *Request, o *Options) (Accepted, error) {
	key, err := checkHandshake(r)
	if err != nil {
		return Accepted{}, err
	}
	if !o.checkOrigin(r) {
		return Accepted{}, ErrOriginRejected
	}
	return negotiate(r, key, o), nil
}

// negotiate makes the subprotocol choice and the permessage-deflate
// negotiation for a valid handshake with the given key. The origin check
// is the caller's.
func negotiate(r *Request, key string, o *Options) Accepted {
	a := Accepted{accept: acceptKey(key)}
	if o != nil {
		a.Protocol = selectProtocol(r.Header.tokens("Sec-WebSocket-Protocol"), o.Subprotocols)
		a.Deflate, a.Compressed = negotiateDeflate(r.Header.tokens("Sec-WebSocket-Extensions"), &o.Compression)
	}
	return a
}
