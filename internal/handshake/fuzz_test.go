package handshake

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/volley-ws/volley/internal/ascii"
	"github.com/volley-ws/volley/internal/httpwire"
	"github.com/volley-ws/volley/upgrade"
)

// browserHandshake is a typical handshake as sent by a desktop browser.
const browserHandshake = "GET /chat?room=lobby HTTP/1.1\r\n" +
	"Host: example.com:8080\r\n" +
	"Connection: Upgrade\r\n" +
	"Pragma: no-cache\r\n" +
	"Cache-Control: no-cache\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36\r\n" +
	"Upgrade: websocket\r\n" +
	"Origin: https://example.com\r\n" +
	"Sec-WebSocket-Version: 13\r\n" +
	"Accept-Encoding: gzip, deflate, br, zstd\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
	"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" +
	"\r\n"

var handshakeSentinels = []error{
	upgrade.ErrMethodNotGet, upgrade.ErrNotHTTP11, upgrade.ErrMissingUpgrade, upgrade.ErrMissingConnectionUpgrade,
	upgrade.ErrBadVersion, upgrade.ErrMissingKey, upgrade.ErrBadKey,
}

// fuzzNegotiateOptions is what FuzzCheckHandshake negotiates with: two
// subprotocols the seed offers and permessage-deflate.
var fuzzNegotiateOptions = upgrade.Options{
	Subprotocols: []string{"chat", "superchat"},
	Compression:  upgrade.Compression{Enabled: true},
	CheckOrigin:  func(*upgrade.Request) bool { return true },
}

func FuzzCheckHandshake(f *testing.F) {
	f.Add([]byte(browserHandshake))
	f.Fuzz(func(t *testing.T, b []byte) {
		var req upgrade.Request
		if n, err := httpwire.Parse(&req, b, 1<<16); err != nil || n == 0 {
			return
		}
		hs, err := CheckHandshake(&req)
		isUpgrade := IsUpgradeRequest(&req)
		if _, nerr := Negotiate(&req, &fuzzNegotiateOptions); nerr != err {
			t.Fatalf("Negotiate: %v; CheckHandshake: %v", nerr, err)
		}
		if err != nil {
			if !slices.Contains(handshakeSentinels, err) {
				t.Fatalf("unexpected error %v", err)
			}
			if !isUpgrade && err != upgrade.ErrMethodNotGet && err != upgrade.ErrNotHTTP11 && err != upgrade.ErrMissingUpgrade {
				t.Fatalf("not an upgrade request, but error %v", err)
			}
			var se *upgrade.StatusError
			if !errors.As(err, &se) {
				t.Fatal("not a *upgrade.StatusError")
			}
			resp := httpwire.AppendResponse(nil, se.Status, se.Header, []byte(se.Reason), false, false)
			if !bytes.HasSuffix(resp, []byte("\r\n\r\n"+se.Reason)) {
				t.Fatalf("response %q", resp)
			}
			return
		}
		if !isUpgrade || req.Method != "GET" || req.ProtoMinor != 1 {
			t.Fatalf("accepted %+v", req)
		}
		if a, err := Negotiate(&req, &fuzzNegotiateOptions); err != nil {
			t.Fatalf("Negotiate: %v after CheckHandshake passed", err)
		} else if p, ok := NegotiateDeflate(hs.Extensions, &fuzzNegotiateOptions.Compression); a.Accept() != hs.Accept ||
			a.Protocol != SelectProtocol(hs.Protocols, fuzzNegotiateOptions.Subprotocols) || a.Compressed != ok || a.Deflate != p {
			t.Fatalf("Negotiate = %+v; from the Handshake %+v", a, hs)
		} else if resp := a.AppendResponse(nil, nil); !bytes.Contains(resp, []byte("\r\nSec-WebSocket-Accept: "+hs.Accept+"\r\n")) {
			t.Fatalf("response %q lacks accept %q", resp, hs.Accept)
		}
		if !validKey(hs.Key) || hs.Key != req.Header.Get("Sec-WebSocket-Key") || hs.Accept != AcceptKey(hs.Key) || len(hs.Accept) != 28 {
			t.Fatalf("key %q, accept %q", hs.Key, hs.Accept)
		}
		for _, list := range [][]string{hs.Protocols, hs.Extensions} {
			for _, tok := range list {
				if tok == "" || ascii.TrimOWS(tok) != tok {
					t.Fatalf("bad list element %q", tok)
				}
			}
		}
		proto := ""
		if len(hs.Protocols) > 0 {
			proto = SelectProtocol(hs.Protocols, hs.Protocols[len(hs.Protocols)-1:])
		}
		var extra []upgrade.HeaderField
		if len(hs.Extensions) > 0 {
			extra = []upgrade.HeaderField{{Name: "Sec-WebSocket-Extensions", Value: hs.Extensions[0]}}
		}
		resp := AppendSwitchingProtocols(nil, hs.Accept, proto, extra)
		lines := 5 + len(extra) // status, Upgrade, Connection, Accept, blank
		if proto != "" {
			lines++
		}
		if c := bytes.Count(resp, []byte("\n")); c != lines || bytes.Count(resp, []byte("\r")) != lines ||
			!bytes.HasSuffix(resp, []byte("\r\n\r\n")) {
			t.Fatalf("response %q has %d lines, want %d", resp, c, lines)
		}
	})
}
