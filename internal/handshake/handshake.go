// Package handshake validates WebSocket opening handshakes (RFC 6455
// section 4) and negotiates what the 101 response agrees to: the
// Sec-WebSocket-Accept value, the subprotocol and permessage-deflate
// (RFC 7692). The engine runs it on its event loops, on requests parsed in
// place: it allocates nothing on the accepting path.
package handshake

import (
	"crypto/sha1"
	"encoding/base64"
	"iter"
	"slices"

	"github.com/volley-ws/volley/internal/httpwire"
	"github.com/volley-ws/volley/upgrade"
)

// websocketGUID is the magic string of RFC 6455 section 1.3.
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// Handshake is the result of validating a WebSocket opening handshake. Its
// strings are shared with the Request it came from and, like it, stay valid
// for as long as the caller keeps them; its slices are owned by the caller.
type Handshake struct {
	// Key is the Sec-WebSocket-Key as sent.
	Key string
	// Accept is the Sec-WebSocket-Accept value to answer with.
	Accept string
	// Protocols lists the subprotocols offered by the client, in order,
	// from every Sec-WebSocket-Protocol field; nil when none.
	Protocols []string
	// Extensions lists the raw extension offers (Sec-WebSocket-Extensions
	// elements, parameters included), in order, for later negotiation; nil
	// when none.
	Extensions []string
	// Origin is the Origin header field, or "" when absent.
	Origin string
}

// IsUpgradeRequest reports whether r asks to switch to WebSocket at all: an
// Upgrade header field containing the token "websocket" (case-insensitive).
// Requests that pass this but fail CheckHandshake are invalid handshakes.
func IsUpgradeRequest(r *upgrade.Request) bool {
	return r.Header.HasToken("Upgrade", "websocket")
}

// CheckHandshake validates r against RFC 6455 section 4.2.1, in this order:
// method GET (else upgrade.ErrMethodNotGet), HTTP/1.1 (upgrade.ErrNotHTTP11), Upgrade
// contains "websocket" (upgrade.ErrMissingUpgrade), Connection contains the
// "Upgrade" token (upgrade.ErrMissingConnectionUpgrade), exactly one
// Sec-WebSocket-Version field, equal to "13" (upgrade.ErrBadVersion, also when
// absent), Sec-WebSocket-Key present (upgrade.ErrMissingKey) exactly once and the
// base64 encoding of exactly 16 bytes (upgrade.ErrBadKey). It does not look at the
// Origin; the caller decides whether to answer ErrOriginRejected.
//
// It allocates the Accept string and, when offered, the Protocols and
// Extensions slices.
func CheckHandshake(r *upgrade.Request) (Handshake, error) {
	key, err := checkHandshake(r)
	if err != nil {
		return Handshake{}, err
	}
	h := r.Header
	return Handshake{
		Key:        key,
		Accept:     AcceptKey(key),
		Protocols:  collectTokens(h, "Sec-WebSocket-Protocol"),
		Extensions: collectTokens(h, "Sec-WebSocket-Extensions"),
		Origin:     h.Get("Origin"),
	}, nil
}

// checkHandshake is CheckHandshake's validation, without allocating: it
// returns the Sec-WebSocket-Key.
func checkHandshake(r *upgrade.Request) (key string, err error) {
	h := r.Header
	switch {
	case r.Method != "GET":
		return "", upgrade.ErrMethodNotGet
	case r.ProtoMinor < 1:
		return "", upgrade.ErrNotHTTP11
	case !h.HasToken("Upgrade", "websocket"):
		return "", upgrade.ErrMissingUpgrade
	case !h.HasToken("Connection", "Upgrade"):
		return "", upgrade.ErrMissingConnectionUpgrade
	case h.Count("Sec-WebSocket-Version") != 1 || h.Get("Sec-WebSocket-Version") != "13":
		return "", upgrade.ErrBadVersion
	}
	switch h.Count("Sec-WebSocket-Key") {
	case 0:
		return "", upgrade.ErrMissingKey
	case 1:
	default:
		return "", upgrade.ErrBadKey
	}
	key = h.Get("Sec-WebSocket-Key")
	if !validKey(key) {
		return "", upgrade.ErrBadKey
	}
	return key, nil
}

// validKey reports whether key is the base64 encoding (standard alphabet,
// with padding) of exactly 16 bytes: 22 alphabet characters and "==".
func validKey(key string) bool {
	if len(key) != 24 || key[22:] != "==" {
		return false
	}
	for i := 0; i < 22; i++ {
		switch c := key[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}

// collectTokens returns the list elements of every field called name, or nil
// when there is none.
func collectTokens(h upgrade.Header, name string) []string {
	n := 0
	h.Tokens(name, func(string) bool { n++; return true })
	if n == 0 {
		return nil
	}
	ts := make([]string, 0, n)
	h.Tokens(name, func(t string) bool { ts = append(ts, t); return true })
	return ts
}

// AcceptKey computes Sec-WebSocket-Accept for key (RFC 6455 section 4.2.2:
// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))). It
// allocates only the returned string for keys of up to 24 bytes.
func AcceptKey(key string) string {
	accept := acceptKey(key)
	return string(accept[:])
}

// acceptKey computes the Sec-WebSocket-Accept value for key into an array,
// without allocating for keys of the valid length.
func acceptKey(key string) (accept [28]byte) {
	var buf [24 + len(websocketGUID)]byte
	var p []byte
	if len(key) <= 24 {
		p = append(buf[:0], key...)
	} else {
		p = make([]byte, 0, len(key)+len(websocketGUID))
		p = append(p, key...)
	}
	p = append(p, websocketGUID...)
	sum := sha1.Sum(p)
	base64.StdEncoding.Encode(accept[:], sum[:]) // 28 bytes for 20
	return accept
}

// SelectProtocol returns the first protocol in the server's preference list
// supported that the client offered, or "" when none matches (the server
// then answers without Sec-WebSocket-Protocol, as RFC 6455 allows).
// Subprotocol names are compared exactly (case-sensitive). The result is one
// of the strings of supported.
func SelectProtocol(offered, supported []string) string {
	return selectProtocol(slices.Values(offered), supported)
}

// selectProtocol is SelectProtocol over a sequence of offers, which it may
// iterate once per supported protocol.
func selectProtocol(offered iter.Seq[string], supported []string) string {
	for _, s := range supported {
		for o := range offered {
			if o == s {
				return s
			}
		}
	}
	return ""
}

// AppendSwitchingProtocols appends the complete "HTTP/1.1 101 Switching
// Protocols" response head to dst and returns the extended slice: Upgrade:
// websocket, Connection: Upgrade, Sec-WebSocket-Accept, Sec-WebSocket-Protocol
// when protocol != "", each field of extra, then the blank line. CR, LF and
// other control characters (but HT) in the given names and values are
// written as spaces, so they cannot inject header lines.
func AppendSwitchingProtocols(dst []byte, accept, protocol string, extra []upgrade.HeaderField) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: websocket\r\n"+
		"Connection: Upgrade\r\n"...)
	dst = httpwire.AppendField(dst, "Sec-WebSocket-Accept", accept)
	if protocol != "" {
		dst = httpwire.AppendField(dst, "Sec-WebSocket-Protocol", protocol)
	}
	for _, f := range extra {
		dst = httpwire.AppendField(dst, f.Name, f.Value)
	}
	return append(dst, "\r\n"...)
}
