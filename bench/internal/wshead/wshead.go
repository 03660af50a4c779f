// Package wshead checks the head of a server's answer to a WebSocket
// opening handshake, for the benchmark clients (wsload, hostile).
package wshead

import (
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"strings"
)

const guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// AcceptKey returns the Sec-WebSocket-Accept value for the key a client
// sent (RFC 6455 section 4.2.2).
func AcceptKey(key string) string {
	h := sha1.Sum([]byte(key + guid))
	return base64.StdEncoding.EncodeToString(h[:])
}

// Check101 checks the header lines of a 101 answer (those after the status
// line): Upgrade: websocket, a Connection naming upgrade, and the accept
// key of key. It returns the Sec-WebSocket-Extensions values, joined with
// ", ".
func Check101(lines []string, key string) (ext string, err error) {
	var upgrade, connection, accept bool
	for _, l := range lines {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			return ext, fmt.Errorf("handshake: bad header line %q", l)
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "upgrade":
			upgrade = strings.EqualFold(value, "websocket")
		case "connection":
			for _, tok := range strings.Split(value, ",") {
				if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
					connection = true
				}
			}
		case "sec-websocket-accept":
			accept = value == AcceptKey(key)
		case "sec-websocket-extensions":
			if ext != "" {
				ext += ", "
			}
			ext += value
		}
	}
	if !upgrade || !connection || !accept {
		return ext, fmt.Errorf("handshake: bad 101 response (upgrade %v, connection %v, accept %v)", upgrade, connection, accept)
	}
	return ext, nil
}
