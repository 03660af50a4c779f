package handshake_test

import (
	"fmt"

	"github.com/volley-ws/volley/internal/handshake"
	"github.com/volley-ws/volley/upgrade"
)

func ExampleNegotiateDeflate() {
	// Handshake.Extensions of a browser that also offers an older
	// extension; Chrome, Firefox and Node's ws offer permessage-deflate so.
	offers := []string{"x-webkit-deflate-frame", "permessage-deflate; client_max_window_bits"}

	// The default: no context takeover in either direction.
	p, ok := handshake.NegotiateDeflate(offers, &upgrade.Compression{Enabled: true})
	fmt.Println(ok, p)

	// Context takeover, with a 4 KiB window for what clients send.
	c := &upgrade.Compression{Enabled: true, ContextTakeover: true, ClientMaxWindowBits: 12}
	p, ok = handshake.NegotiateDeflate(offers, c)
	fmt.Println(ok, p)
	fmt.Println("server window:", p.ServerMaxWindowBits, "client window:", p.ClientMaxWindowBits)
	buf := p.AppendResponse([]byte("Sec-WebSocket-Extensions: "))
	fmt.Printf("%s\n", buf)

	// A malformed offer is declined, and the next one considered.
	p, ok = handshake.NegotiateDeflate([]string{
		"permessage-deflate; server_max_window_bits=16",
		"permessage-deflate; server_max_window_bits=10",
	}, c)
	fmt.Println(ok, p)

	// An offered server_max_window_bits is repeated in the response, even
	// at the default of 15, to accept it (RFC 7692 section 7.1.2.1).
	p, ok = handshake.NegotiateDeflate([]string{"permessage-deflate; server_max_window_bits=15"}, c)
	fmt.Println(ok, p)

	// Disabled: every offer is declined and the response carries no
	// Sec-WebSocket-Extensions.
	_, ok = handshake.NegotiateDeflate(offers, &upgrade.Compression{})
	fmt.Println(ok)
	// Output:
	// true permessage-deflate; server_no_context_takeover; client_no_context_takeover
	// true permessage-deflate; client_max_window_bits=12
	// server window: 15 client window: 12
	// Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=12
	// true permessage-deflate; server_no_context_takeover; server_max_window_bits=10
	// true permessage-deflate; server_max_window_bits=15
	// false
}
