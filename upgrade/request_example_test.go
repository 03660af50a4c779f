package upgrade_test

import (
	"fmt"
	"strings"

	"github.com/volley-ws/volley/upgrade"
)

// An engine's handshake, as volley's event loop does it: the request is
// parsed in place in the input buffer, into a Request kept for reuse,
// negotiated and answered without allocating, and cloned only when it
// must outlive the buffer.
func ExampleParseRequestNoCopy() {
	in := []byte("GET /chat?room=7 HTTP/1.1\r\n" +
		"Host: example.com\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: chat\r\n" +
		"\r\n")
	var req upgrade.Request // reused across handshakes: Reset, then parse
	n, err := upgrade.ParseRequestNoCopy(&req, in, 4096)
	if err != nil || n == 0 {
		fmt.Println("bad or incomplete:", err)
		return
	}
	a, err := upgrade.Negotiate(&req, &upgrade.Options{Subprotocols: []string{"chat"}})
	if err != nil {
		fmt.Println("rejected:", err)
		return
	}
	out := a.AppendResponse(make([]byte, 0, 256))
	kept := req.Clone() // owns its memory: the input may now be reused
	clear(in)
	req.Reset()
	fmt.Print(strings.ReplaceAll(string(out), "\r\n", "\n")) // CRLFs shown as line ends
	fmt.Println(kept.Path, kept.RawQuery, kept.Header.Get("Host"))
	// Output:
	// HTTP/1.1 101 Switching Protocols
	// Upgrade: websocket
	// Connection: Upgrade
	// Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
	// Sec-WebSocket-Protocol: chat
	//
	// /chat room=7 example.com
}
