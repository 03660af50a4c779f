package upgrade

import (
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func mustParse(t testing.TB, s string) *Request {
	t.Helper()
	req, n, err := ParseRequest([]byte(s), maxHeadTest)
	if err != nil || n != len(s) {
		t.Fatalf("ParseRequest(%q) = %v, %d, %v", s, req, n, err)
	}
	return req
}

// handshakeWith returns a valid handshake with the field lines of fields
// replacing the default ones of the same names; a field with an empty name
// removes the default field named by its value.
func handshakeWith(requestLine string, fields ...HeaderField) string {
	defaults := []HeaderField{
		{"Host", "server.example.com"},
		{"Upgrade", "websocket"},
		{"Connection", "Upgrade"},
		{"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
		{"Sec-WebSocket-Version", "13"},
	}
	var b strings.Builder
	b.WriteString(requestLine + "\r\n")
	for _, d := range defaults {
		if slices.ContainsFunc(fields, func(f HeaderField) bool { return f.Name == d.Name || f.Value == d.Name && f.Name == "" }) {
			continue
		}
		b.WriteString(d.Name + ": " + d.Value + "\r\n")
	}
	for _, f := range fields {
		if f.Name != "" {
			b.WriteString(f.Name + ": " + f.Value + "\r\n")
		}
	}
	b.WriteString("\r\n")
	return b.String()
}

func del(name string) HeaderField { return HeaderField{Value: name} }

const getLine = "GET /chat HTTP/1.1"

func TestAcceptKey(t *testing.T) {
	// RFC 6455 section 1.3.
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("AcceptKey(RFC 6455 sample) = %q", got)
	}
	for _, key := range []string{"", "short", strings.Repeat("k", 24), strings.Repeat("long", 40)} {
		sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		if got, want := AcceptKey(key), base64.StdEncoding.EncodeToString(sum[:]); got != want {
			t.Errorf("AcceptKey(%q) = %q, want %q", key, got, want)
		}
	}
	if a := testing.AllocsPerRun(100, func() { AcceptKey("dGhlIHNhbXBsZSBub25jZQ==") }); a > 1 {
		t.Errorf("AcceptKey allocates %v times, want <= 1", a)
	}
}

func TestCheckHandshakeValid(t *testing.T) {
	req := mustParse(t, browserHandshake)
	if !IsUpgradeRequest(req) {
		t.Fatal("IsUpgradeRequest = false")
	}
	hs, err := CheckHandshake(req)
	if err != nil {
		t.Fatal(err)
	}
	if hs.Key != "dGhlIHNhbXBsZSBub25jZQ==" || hs.Accept != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" ||
		hs.Origin != "https://example.com" || hs.Protocols != nil ||
		!slices.Equal(hs.Extensions, []string{"permessage-deflate; client_max_window_bits"}) {
		t.Fatalf("CheckHandshake = %+v", hs)
	}

	req = mustParse(t, handshakeWith(getLine,
		HeaderField{"Sec-WebSocket-Protocol", "chat, superchat"},
		HeaderField{"Sec-WebSocket-Protocol", "v2.proto"},
		HeaderField{"Sec-WebSocket-Extensions", "permessage-deflate; server_no_context_takeover, x-foo; a=\"1,2\""},
		HeaderField{"sec-websocket-extensions", "bar"},
		HeaderField{"Connection", "keep-alive, Upgrade"},
		HeaderField{"Upgrade", "h2c, WebSocket"},
	))
	hs, err = CheckHandshake(req)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(hs.Protocols, []string{"chat", "superchat", "v2.proto"}) {
		t.Errorf("Protocols = %q", hs.Protocols)
	}
	if !slices.Equal(hs.Extensions, []string{"permessage-deflate; server_no_context_takeover", `x-foo; a="1,2"`, "bar"}) {
		t.Errorf("Extensions = %q", hs.Extensions)
	}
	if hs.Origin != "" {
		t.Errorf("Origin = %q", hs.Origin)
	}
}

func TestCheckHandshakeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *StatusError
	}{
		{"POST", handshakeWith("POST /chat HTTP/1.1"), ErrMethodNotGet},
		{"lower-case get", handshakeWith("get /chat HTTP/1.1"), ErrMethodNotGet},
		{"method before version", handshakeWith("HEAD /chat HTTP/1.0"), ErrMethodNotGet},
		{"HTTP/1.0", handshakeWith("GET /chat HTTP/1.0"), ErrNotHTTP11},
		{"version before upgrade", handshakeWith("GET /chat HTTP/1.0", del("Upgrade")), ErrNotHTTP11},
		{"no Upgrade", handshakeWith(getLine, del("Upgrade")), ErrMissingUpgrade},
		{"Upgrade other", handshakeWith(getLine, HeaderField{"Upgrade", "h2c"}), ErrMissingUpgrade},
		{"Upgrade websocket2", handshakeWith(getLine, HeaderField{"Upgrade", "websocket2"}), ErrMissingUpgrade},
		{"upgrade before connection", handshakeWith(getLine, del("Upgrade"), del("Connection")), ErrMissingUpgrade},
		{"no Connection", handshakeWith(getLine, del("Connection")), ErrMissingConnectionUpgrade},
		{"Connection keep-alive", handshakeWith(getLine, HeaderField{"Connection", "keep-alive"}), ErrMissingConnectionUpgrade},
		{"Connection upgrades", handshakeWith(getLine, HeaderField{"Connection", "upgrades"}), ErrMissingConnectionUpgrade},
		{"connection before version", handshakeWith(getLine, del("Connection"), del("Sec-WebSocket-Version")), ErrMissingConnectionUpgrade},
		{"no version", handshakeWith(getLine, del("Sec-WebSocket-Version")), ErrBadVersion},
		{"version 8", handshakeWith(getLine, HeaderField{"Sec-WebSocket-Version", "8"}), ErrBadVersion},
		{"version list", handshakeWith(getLine, HeaderField{"Sec-WebSocket-Version", "13, 8"}), ErrBadVersion},
		{"version twice", handshakeWith(getLine, HeaderField{"Sec-WebSocket-Version", "13"}, HeaderField{"Sec-WebSocket-Version", "13"}), ErrBadVersion},
		{"version empty", handshakeWith(getLine, HeaderField{"Sec-WebSocket-Version", ""}), ErrBadVersion},
		{"version before key", handshakeWith(getLine, del("Sec-WebSocket-Version"), del("Sec-WebSocket-Key")), ErrBadVersion},
		{"no key", handshakeWith(getLine, del("Sec-WebSocket-Key")), ErrMissingKey},
		{"key twice", handshakeWith(getLine, HeaderField{"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}, HeaderField{"sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="}), ErrBadKey},
		{"key empty", handshakeWith(getLine, HeaderField{"Sec-WebSocket-Key", ""}), ErrBadKey},
		{"key 15 bytes", handshakeWith(getLine, HeaderField{"Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAA"}), ErrBadKey},
		{"key 17 bytes", handshakeWith(getLine, HeaderField{"Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAAA="}), ErrBadKey},
		{"key without padding", handshakeWith(getLine, HeaderField{"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ"}), ErrBadKey},
		{"key URL alphabet", handshakeWith(getLine, HeaderField{"Sec-WebSocket-Key", "dGhlIHNhbXBsZ-_ub25jZQ=="}), ErrBadKey},
		{"key inner space", handshakeWith(getLine, HeaderField{"Sec-WebSocket-Key", "dGhlIHNhbXBsZ Sub25jZQ=="}), ErrBadKey},
		{"key too long", handshakeWith(getLine, HeaderField{"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==AAAA"}), ErrBadKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs, err := CheckHandshake(mustParse(t, tt.in))
			if err != tt.want {
				t.Fatalf("CheckHandshake = %+v, %v; want %v", hs, err, tt.want)
			}
			if hs.Key != "" || hs.Accept != "" || hs.Protocols != nil {
				t.Fatalf("non-zero Handshake on error: %+v", hs)
			}
		})
	}
}

func TestIsUpgradeRequest(t *testing.T) {
	tests := []struct {
		upgrade []string
		want    bool
	}{
		{[]string{"websocket"}, true},
		{[]string{"WebSocket"}, true},
		{[]string{"h2c, websocket"}, true},
		{[]string{"h2c", "websocket"}, true},
		{[]string{"h2c"}, false},
		{[]string{"websocket/13"}, false},
		{nil, false},
	}
	for _, tt := range tests {
		r := &Request{Method: "GET"}
		for _, v := range tt.upgrade {
			r.Header.Add("Upgrade", v)
		}
		if got := IsUpgradeRequest(r); got != tt.want {
			t.Errorf("IsUpgradeRequest(Upgrade: %q) = %v, want %v", tt.upgrade, got, tt.want)
		}
	}
}

func TestHandshakeErrorStatus(t *testing.T) {
	tests := []struct {
		err    *StatusError
		status int
		header []HeaderField
	}{
		{ErrMethodNotGet, http.StatusMethodNotAllowed, []HeaderField{{"Allow", "GET"}}},
		{ErrNotHTTP11, http.StatusBadRequest, nil},
		{ErrMissingUpgrade, http.StatusBadRequest, nil},
		{ErrMissingConnectionUpgrade, http.StatusBadRequest, nil},
		{ErrMissingKey, http.StatusBadRequest, nil},
		{ErrBadKey, http.StatusBadRequest, nil},
		{ErrBadVersion, http.StatusUpgradeRequired, []HeaderField{{"Sec-WebSocket-Version", "13"}}},
		{ErrOriginRejected, http.StatusForbidden, nil},
	}
	for _, tt := range tests {
		if tt.err.Status != tt.status {
			t.Errorf("%v: Status = %d, want %d", tt.err, tt.err.Status, tt.status)
		}
		if !slices.Equal(tt.err.Header, tt.header) {
			t.Errorf("%v: Header = %v, want %v", tt.err, tt.err.Header, tt.header)
		}
		if tt.err.Error() != "upgrade: "+tt.err.Reason || tt.err.Reason == "" {
			t.Errorf("Error() = %q", tt.err.Error())
		}
	}
}

func TestSelectProtocol(t *testing.T) {
	tests := []struct {
		offered, supported []string
		want               string
	}{
		{[]string{"chat", "superchat"}, []string{"superchat", "chat"}, "superchat"},
		{[]string{"chat", "superchat"}, []string{"chat", "superchat"}, "chat"},
		{[]string{"a"}, []string{"b"}, ""},
		{[]string{"Chat"}, []string{"chat"}, ""},
		{nil, []string{"chat"}, ""},
		{[]string{"chat"}, nil, ""},
		{[]string{"x", "y", "z"}, []string{"q", "z"}, "z"},
	}
	for _, tt := range tests {
		if got := SelectProtocol(tt.offered, tt.supported); got != tt.want {
			t.Errorf("SelectProtocol(%q, %q) = %q, want %q", tt.offered, tt.supported, got, tt.want)
		}
	}
}

func TestAppendSwitchingProtocols(t *testing.T) {
	tests := []struct {
		name, accept, protocol string
		extra                  []HeaderField
		want                   string
	}{
		{"plain", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "", nil,
			"HTTP/1.1 101 Switching Protocols\r\n" +
				"Upgrade: websocket\r\n" +
				"Connection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
				"\r\n"},
		{"protocol and extra", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "chat",
			[]HeaderField{{"Sec-WebSocket-Extensions", "permessage-deflate"}, {"X-Server", "volley"}},
			"HTTP/1.1 101 Switching Protocols\r\n" +
				"Upgrade: websocket\r\n" +
				"Connection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
				"Sec-WebSocket-Protocol: chat\r\n" +
				"Sec-WebSocket-Extensions: permessage-deflate\r\n" +
				"X-Server: volley\r\n" +
				"\r\n"},
		{"injection", "a", "p\r\nX-Evil: 1", []HeaderField{{"X\nY", "v\r\n\r\nbody\tok"}},
			"HTTP/1.1 101 Switching Protocols\r\n" +
				"Upgrade: websocket\r\n" +
				"Connection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: a\r\n" +
				"Sec-WebSocket-Protocol: p  X-Evil: 1\r\n" +
				"X Y: v    body\tok\r\n" +
				"\r\n"},
	}
	for _, tt := range tests {
		prefix := []byte("previous")
		got := AppendSwitchingProtocols(prefix, tt.accept, tt.protocol, tt.extra)
		if string(got) != "previous"+tt.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tt.name, got, "previous"+tt.want)
		}
	}
	buf := make([]byte, 0, 512)
	if a := testing.AllocsPerRun(100, func() {
		buf = AppendSwitchingProtocols(buf[:0], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "chat", nil)
	}); a != 0 {
		t.Errorf("AppendSwitchingProtocols allocates %v times with enough capacity", a)
	}
}

func TestAppendResponse(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    []HeaderField
		body      string
		keepAlive bool
		head      bool
		want      string
	}{
		{"426 close", http.StatusUpgradeRequired, ErrBadVersion.Header, "unsupported version", false, false,
			"HTTP/1.1 426 Upgrade Required\r\n" +
				"Sec-WebSocket-Version: 13\r\n" +
				"Content-Length: 19\r\n" +
				"Connection: close\r\n" +
				"\r\n" +
				"unsupported version"},
		{"200 keep-alive", 200, []HeaderField{{"Content-Type", "text/plain; charset=utf-8"}}, "ok\n", true, false,
			"HTTP/1.1 200 OK\r\n" +
				"Content-Type: text/plain; charset=utf-8\r\n" +
				"Content-Length: 3\r\n" +
				"\r\n" +
				"ok\n"},
		{"HEAD", 405, []HeaderField{{"Allow", "GET"}}, "no", true, true,
			"HTTP/1.1 405 Method Not Allowed\r\n" +
				"Allow: GET\r\n" +
				"Content-Length: 2\r\n" +
				"\r\n"},
		{"empty body", 400, nil, "", false, false,
			"HTTP/1.1 400 Bad Request\r\n" +
				"Content-Length: 0\r\n" +
				"Connection: close\r\n" +
				"\r\n"},
		{"204", 204, nil, "ignored", true, false,
			"HTTP/1.1 204 No Content\r\n" +
				"\r\n"},
		{"304", 304, nil, "ignored", true, false,
			"HTTP/1.1 304 Not Modified\r\n" +
				"Content-Length: 7\r\n" +
				"\r\n"},
		{"unknown status", 599, nil, "x", true, false,
			"HTTP/1.1 599 \r\n" +
				"Content-Length: 1\r\n" +
				"\r\n" +
				"x"},
		{"invalid status", 42, nil, "x", true, false,
			"HTTP/1.1 500 Internal Server Error\r\n" +
				"Content-Length: 1\r\n" +
				"\r\n" +
				"x"},
		{"injection", 400, []HeaderField{{"X", "a\r\nSet-Cookie: x"}}, "", true, false,
			"HTTP/1.1 400 Bad Request\r\n" +
				"X: a  Set-Cookie: x\r\n" +
				"Content-Length: 0\r\n" +
				"\r\n"},
	}
	for _, tt := range tests {
		got := AppendResponse([]byte("prev"), tt.status, tt.header, []byte(tt.body), tt.keepAlive, tt.head)
		if string(got) != "prev"+tt.want {
			t.Errorf("%s:\ngot  %q\nwant %q", tt.name, got, "prev"+tt.want)
		}
	}
}

// TestAcceptedAppendResponse checks Negotiate's response, as the engines
// write it, against AppendSwitchingProtocols with the same fields, and that
// writing it allocates nothing when dst has room.
func TestAcceptedAppendResponse(t *testing.T) {
	opts := &Options{Subprotocols: []string{"chat"}, Compression: Compression{Enabled: true}}
	tests := []struct {
		name     string
		fields   []HeaderField
		protocol string
		ext      string
	}{
		{"plain", nil, "", ""},
		{"protocol", []HeaderField{{"Sec-WebSocket-Protocol", "superchat, chat"}}, "chat", ""},
		{"deflate", []HeaderField{{"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"}}, "",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"both", []HeaderField{{"Sec-WebSocket-Protocol", "chat"}, {"Sec-WebSocket-Extensions", "permessage-deflate; server_max_window_bits=10"}}, "chat",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"},
	}
	for _, tt := range tests {
		a, err := Negotiate(mustParse(t, handshakeWith("GET /chat HTTP/1.1", tt.fields...)), opts)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var extra []HeaderField
		if tt.ext != "" {
			extra = []HeaderField{{"Sec-WebSocket-Extensions", tt.ext}}
		}
		want := "previous" + string(AppendSwitchingProtocols(nil, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", tt.protocol, extra))
		if got := a.AppendResponse([]byte("previous")); string(got) != want {
			t.Errorf("%s:\ngot  %q\nwant %q", tt.name, got, want)
		}
		buf := make([]byte, 0, 512)
		if n := testing.AllocsPerRun(100, func() { buf = a.AppendResponse(buf[:0]) }); n != 0 {
			t.Errorf("%s: AppendResponse allocates %v times with enough capacity", tt.name, n)
		}
	}
}

// TestNegotiateAllocs checks that negotiating a browser's handshake (with
// a subprotocol and a permessage-deflate offer) and writing its response
// allocate nothing, as the engine does both on the event loop for every
// handshake.
func TestNegotiateAllocs(t *testing.T) {
	req := mustParse(t, handshakeWith("GET /chat HTTP/1.1",
		HeaderField{"Sec-WebSocket-Protocol", "superchat, chat"},
		HeaderField{"Sec-WebSocket-Extensions", "x-webkit-deflate-frame, permessage-deflate; client_max_window_bits"}))
	opts := &Options{Subprotocols: []string{"chat"}, Compression: Compression{Enabled: true}}
	buf := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(100, func() {
		a, err := Negotiate(req, opts)
		if err != nil || a.Protocol != "chat" || !a.Compressed {
			t.Fatalf("Negotiate = %+v, %v", a, err)
		}
		buf = a.AppendResponse(buf[:0])
	})
	if allocs != 0 {
		t.Fatalf("Negotiate and AppendResponse allocate %v times, want 0", allocs)
	}
}

func TestCheckHandshakeAllocs(t *testing.T) {
	req := mustParse(t, browserHandshake)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := CheckHandshake(req); err != nil {
			t.Fatal(err)
		}
	})
	// The Accept string and the Extensions slice.
	if allocs > 2 {
		t.Fatalf("CheckHandshake allocates %v times, want <= 2", allocs)
	}
}

func BenchmarkCheckHandshake(b *testing.B) {
	req := mustParse(b, browserHandshake)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CheckHandshake(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpgrade measures a whole server-side handshake: parse, validate
// and format the 101 response.
func BenchmarkUpgrade(b *testing.B) {
	in := []byte(browserHandshake)
	out := make([]byte, 0, 512)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		req, _, err := ParseRequest(in, maxHeadTest)
		if err != nil {
			b.Fatal(err)
		}
		hs, err := CheckHandshake(req)
		if err != nil {
			b.Fatal(err)
		}
		out = AppendSwitchingProtocols(out[:0], hs.Accept, SelectProtocol(hs.Protocols, []string{"chat"}), nil)
	}
}
