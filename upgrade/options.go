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
	// Host header (a page served by this server), compared without case.
	// It is called when the handshake is parsed, on the engine's event
	// loop, so it must not block; r is valid only during the call (the
	// engine parses it in place in its input buffer): Clone it to keep it.
	CheckOrigin func(r *Request) bool
	// Compression configures permessage-deflate; the zero value declines it.
	Compression Compression
}
