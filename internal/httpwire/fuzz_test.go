package upgrade

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// Seed corpora live in testdata/fuzz/FuzzParseRequest and
// testdata/fuzz/FuzzCheckHandshake.

var parseSentinels = []error{
	ErrHeaderTooLarge, ErrMalformedRequest, ErrUnsupportedProto, ErrMissingHost,
	ErrBadHost, ErrBadContentLength, ErrTransferEncoding,
}

var handshakeSentinels = []error{
	ErrMethodNotGet, ErrNotHTTP11, ErrMissingUpgrade, ErrMissingConnectionUpgrade,
	ErrBadVersion, ErrMissingKey, ErrBadKey,
}

func FuzzParseRequest(f *testing.F) {
	f.Add([]byte(browserHandshake), uint16(4096))
	f.Fuzz(func(t *testing.T, b []byte, limit uint16) {
		maxHead := int(limit)
		req, n, err := ParseRequest(b, maxHead)
		checkParseResult(t, b, maxHead, req, n, err)
		checkNoCopy(t, b, maxHead, req, n, err)
		if err == nil && req != nil {
			// The head alone parses the same, even with the tightest limit.
			req2, n2, err2 := ParseRequest(b[:n], n)
			if err2 != nil || n2 != n || req2.Method != req.Method || req2.Target != req.Target ||
				req2.Header.Len() != req.Header.Len() || req2.Host != req.Host {
				t.Fatalf("re-parse of head %q = %+v, %d, %v; first parse %+v", b[:n], req2, n2, err2, req)
			}
		}
		// Prefix consistency: a shorter input gives "need more" or the
		// same answer.
		step := 1
		if len(b) > 512 {
			step = len(b)/256 + 1
		}
		for i := 0; i < len(b); i += step {
			preq, pn, perr := ParseRequest(b[:i], maxHead)
			switch {
			case perr == nil && preq == nil: // need more
			case err == nil && req != nil && perr == nil && i >= n && pn == n:
			case err != nil && perr == err:
			default:
				t.Fatalf("prefix %d of %q: got %v, %d, %v; whole input: %v, %d, %v",
					i, b, preq, pn, perr, req, n, err)
			}
		}
	})
}

// checkNoCopy checks that ParseRequestNoCopy, into a Request that held
// another parse, gives ParseRequest's result (req, n, err), and that its
// Clone and a Context made from it own their memory: they are unchanged
// when the input is overwritten.
func checkNoCopy(t *testing.T, b []byte, maxHead int, req *Request, n int, err error) {
	t.Helper()
	var r Request
	if _, err := ParseRequestNoCopy(&r, []byte(browserHandshake), len(browserHandshake)); err != nil {
		t.Fatal(err)
	}
	r.Reset()
	in := bytes.Clone(b)
	n2, err2 := ParseRequestNoCopy(&r, in, maxHead)
	if n2 != n || err2 != err {
		t.Fatalf("ParseRequestNoCopy(%q) = %d, %v; ParseRequest: %d, %v", b, n2, err2, n, err)
	}
	if n == 0 {
		return
	}
	if !sameRequest(&r, req) {
		t.Fatalf("ParseRequestNoCopy(%q) = %+v; ParseRequest: %+v", b, r, *req)
	}
	c := r.Clone()
	ctx := NewContext(&r, nil, nil, nil)
	for i := range in {
		in[i] = 'x'
	}
	r.Reset()
	if !sameRequest(c, req) {
		t.Fatalf("Clone after the input changed = %+v; want %+v", *c, *req)
	}
	// A Context parses its own copy of the head again, to the same request.
	if !sameRequest(ctx.Request(), req) {
		t.Fatalf("Context.Request() after the input changed = %+v; want %+v", *ctx.Request(), *req)
	}
}

// sameRequest reports whether a and b hold the same values (a nil and an
// empty header count as the same).
func sameRequest(a, b *Request) bool {
	return a.Method == b.Method && a.Target == b.Target && a.Path == b.Path && a.RawQuery == b.RawQuery &&
		a.Proto == b.Proto && a.ProtoMinor == b.ProtoMinor && a.Host == b.Host &&
		a.ContentLength == b.ContentLength && a.KeepAlive == b.KeepAlive && a.head == b.head &&
		slices.Equal(a.Header.fields, b.Header.fields)
}

// checkParseResult checks the invariants of one ParseRequest result.
func checkParseResult(t *testing.T, b []byte, maxHead int, req *Request, n int, err error) {
	t.Helper()
	if n < 0 || n > len(b) {
		t.Fatalf("n = %d out of range for len %d", n, len(b))
	}
	if err != nil {
		if req != nil || n != 0 || !slices.Contains(parseSentinels, err) {
			t.Fatalf("error result %v, %d, %v", req, n, err)
		}
		return
	}
	if req == nil {
		if n != 0 || len(b) >= maxHead {
			t.Fatalf("need-more with n = %d, len %d, maxHead %d", n, len(b), maxHead)
		}
		return
	}
	if n == 0 || n > maxHead || !bytes.HasSuffix(b[:n], []byte("\n")) {
		t.Fatalf("success with n = %d, maxHead %d, head %q", n, maxHead, b[:n])
	}
	if !isToken(req.Method) || req.Target == "" || strings.ContainsAny(req.Target, " \r\n") {
		t.Fatalf("bad request line %q %q", req.Method, req.Target)
	}
	if req.Proto != "HTTP/1.0" && req.Proto != "HTTP/1.1" || req.Proto[7]-'0' != byte(req.ProtoMinor) {
		t.Fatalf("Proto %q, ProtoMinor %d", req.Proto, req.ProtoMinor)
	}
	if !strings.Contains(req.Target, req.Path) && req.Path != "/" || !strings.HasSuffix(req.Target, req.RawQuery) {
		t.Fatalf("Target %q, Path %q, RawQuery %q", req.Target, req.Path, req.RawQuery)
	}
	if req.ContentLength < -1 {
		t.Fatalf("ContentLength %d", req.ContentLength)
	}
	if req.ProtoMinor == 1 && len(req.Header.Values("Host")) != 1 {
		t.Fatalf("HTTP/1.1 request with Host fields %q", req.Header.Values("Host"))
	}
	if req.Header.Get("Transfer-Encoding") != "" || len(req.Header.Values("Transfer-Encoding")) != 0 {
		t.Fatal("Transfer-Encoding accepted")
	}
	for i := 0; i < req.Header.Len(); i++ {
		f := req.Header.Field(i)
		if !isToken(f.Name) || trimOWS(f.Value) != f.Value {
			t.Fatalf("bad field %q", f)
		}
		for j := 0; j < len(f.Value); j++ {
			if c := f.Value[j]; c < ' ' && c != '\t' || c == 0x7f {
				t.Fatalf("control character in field %q", f)
			}
		}
	}
}

// fuzzNegotiateOptions is what FuzzCheckHandshake negotiates with: two
// subprotocols the seed offers and permessage-deflate.
var fuzzNegotiateOptions = Options{
	Subprotocols: []string{"chat", "superchat"},
	Compression:  Compression{Enabled: true},
	CheckOrigin:  func(*Request) bool { return true },
}

func FuzzCheckHandshake(f *testing.F) {
	f.Add([]byte(browserHandshake))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, _, err := ParseRequest(b, 1<<16)
		if err != nil || req == nil {
			return
		}
		hs, err := CheckHandshake(req)
		upgrade := IsUpgradeRequest(req)
		// A Context decides the same, and its Upgrader reports it.
		ctx := NewContext(req, nil, &recordingBackend{}, &Options{CheckOrigin: func(*Request) bool { return true }})
		if up := ctx.Upgrader(); (up != nil) != upgrade {
			t.Fatalf("Upgrader() = %v for an upgrade request: %v", up, upgrade)
		} else if up != nil {
			if _, uerr := up.Upgrade(); uerr != err && (err != nil || uerr != nil) {
				t.Fatalf("Context's Upgrade() = %v; CheckHandshake: %v", uerr, err)
			}
		}
		if err != nil {
			if !slices.Contains(handshakeSentinels, err) {
				t.Fatalf("unexpected error %v", err)
			}
			if !upgrade && err != ErrMethodNotGet && err != ErrNotHTTP11 && err != ErrMissingUpgrade {
				t.Fatalf("not an upgrade request, but error %v", err)
			}
			var se *StatusError
			if !errors.As(err, &se) {
				t.Fatal("not a *StatusError")
			}
			resp := AppendResponse(nil, se.Status, se.Header, []byte(se.Reason), false, false)
			if !bytes.HasSuffix(resp, []byte("\r\n\r\n"+se.Reason)) {
				t.Fatalf("response %q", resp)
			}
			return
		}
		if !upgrade || req.Method != "GET" || req.ProtoMinor != 1 {
			t.Fatalf("accepted %+v", req)
		}
		if a, err := Negotiate(req, &fuzzNegotiateOptions); err != nil {
			t.Fatalf("Negotiate: %v after CheckHandshake passed", err)
		} else if p, ok := NegotiateDeflate(hs.Extensions, &fuzzNegotiateOptions.Compression); a.Accept() != hs.Accept ||
			a.Protocol != SelectProtocol(hs.Protocols, fuzzNegotiateOptions.Subprotocols) || a.Compressed != ok || a.Deflate != p {
			t.Fatalf("Negotiate = %+v; from the Handshake %+v", a, hs)
		} else if resp := a.AppendResponse(nil); !bytes.Contains(resp, []byte("\r\nSec-WebSocket-Accept: "+hs.Accept+"\r\n")) {
			t.Fatalf("response %q lacks accept %q", resp, hs.Accept)
		}
		if !validKey(hs.Key) || hs.Key != req.Header.Get("Sec-WebSocket-Key") || hs.Accept != AcceptKey(hs.Key) || len(hs.Accept) != 28 {
			t.Fatalf("key %q, accept %q", hs.Key, hs.Accept)
		}
		for _, list := range [][]string{hs.Protocols, hs.Extensions} {
			for _, tok := range list {
				if tok == "" || trimOWS(tok) != tok {
					t.Fatalf("bad list element %q", tok)
				}
			}
		}
		proto := ""
		if len(hs.Protocols) > 0 {
			proto = SelectProtocol(hs.Protocols, hs.Protocols[len(hs.Protocols)-1:])
		}
		var extra []HeaderField
		if len(hs.Extensions) > 0 {
			extra = []HeaderField{{"Sec-WebSocket-Extensions", hs.Extensions[0]}}
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
