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
	// Host header (a page served by this server).
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

// Accepted is the outcome of a successful handshake negotiation.
type Accepted struct {
	// Response is the complete 101 Switching Protocols head.
	Response []byte
	// Protocol is the selected subprotocol, or "".
	Protocol string
	// Compressed reports that permessage-deflate was negotiated, with the
	// parameters in Deflate.
	Compressed bool
	Deflate    DeflateParams
}

// Negotiate validates r as a WebSocket opening handshake under o and
// returns the response to send with what it agreed: the subprotocol and
// permessage-deflate. On failure err is a *StatusError to answer with.
func Negotiate(r *Request, o *Options) (Accepted, error) {
	hs, err := CheckHandshake(r)
	if err != nil {
		return Accepted{}, err
	}
	return accept(r, &hs, o)
}

// accept applies the origin check, the subprotocol choice and the
// permessage-deflate negotiation to a valid handshake and builds the 101
// response.
func accept(r *Request, hs *Handshake, o *Options) (Accepted, error) {
	if !o.checkOrigin(r) {
		return Accepted{}, ErrOriginRejected
	}
	return negotiate(hs, o), nil
}

// negotiate makes the subprotocol choice and the permessage-deflate
// negotiation for a valid handshake and builds the 101 response. The origin
// check is the caller's.
func negotiate(hs *Handshake, o *Options) Accepted {
	var a Accepted
	var extra []HeaderField
	if o != nil {
		a.Protocol = SelectProtocol(hs.Protocols, o.Subprotocols)
		a.Deflate, a.Compressed = NegotiateDeflate(hs.Extensions, &o.Compression)
		if a.Compressed {
			extra = []HeaderField{{Name: "Sec-WebSocket-Extensions", Value: a.Deflate.String()}}
		}
	}
	a.Response = AppendSwitchingProtocols(nil, hs.Accept, a.Protocol, extra)
	return a
}
