package handshake

import (
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/volley-ws/volley/upgrade"
)

func mustParse(t testing.TB, s string) *upgrade.Request {
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
func handshakeWith(requestLine string, fields ...upgrade.HeaderField) string {
	defaults := []upgrade.HeaderField{
		{Name: "Host", Value: "server.example.com"},
		{Name: "Upgrade", Value: "websocket"},
		{Name: "Connection", Value: "Upgrade"},
		{Name: "Sec-WebSocket-Key", Value: "dGhlIHNhbXBsZSBub25jZQ=="},
		{Name: "Sec-WebSocket-Version", Value: "13"},
	}
	var b strings.Builder
	b.WriteString(requestLine + "\r\n")
	for _, d := range defaults {
		if slices.ContainsFunc(fields, func(f upgrade.HeaderField) bool { return f.Name == d.Name || f.Value == d.Name && f.Name == "" }) {
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

func del(name string) upgrade.HeaderField { return upgrade.HeaderField{Value: name} }

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
		upgrade.HeaderField{Name: "Sec-WebSocket-Protocol", Value: "chat, superchat"},
		upgrade.HeaderField{Name: "Sec-WebSocket-Protocol", Value: "v2.proto"},
		upgrade.HeaderField{Name: "Sec-WebSocket-Extensions", Value: "permessage-deflate; server_no_context_takeover, x-foo; a=\"1,2\""},
		upgrade.HeaderField{Name: "sec-websocket-extensions", Value: "bar"},
		upgrade.HeaderField{Name: "Connection", Value: "keep-alive, Upgrade"},
		upgrade.HeaderField{Name: "Upgrade", Value: "h2c, WebSocket"},
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
		want *upgrade.StatusError
	}{
		{"POST", handshakeWith("POST /chat HTTP/1.1"), upgrade.ErrMethodNotGet},
		{"lower-case get", handshakeWith("get /chat HTTP/1.1"), upgrade.ErrMethodNotGet},
		{"method before version", handshakeWith("HEAD /chat HTTP/1.0"), upgrade.ErrMethodNotGet},
		{"HTTP/1.0", handshakeWith("GET /chat HTTP/1.0"), upgrade.ErrNotHTTP11},
		{"version before upgrade", handshakeWith("GET /chat HTTP/1.0", del("Upgrade")), upgrade.ErrNotHTTP11},
		{"no Upgrade", handshakeWith(getLine, del("Upgrade")), upgrade.ErrMissingUpgrade},
		{"Upgrade other", handshakeWith(getLine, upgrade.HeaderField{Name: "Upgrade", Value: "h2c"}), upgrade.ErrMissingUpgrade},
		{"Upgrade websocket2", handshakeWith(getLine, upgrade.HeaderField{Name: "Upgrade", Value: "websocket2"}), upgrade.ErrMissingUpgrade},
		{"upgrade before connection", handshakeWith(getLine, del("Upgrade"), del("Connection")), upgrade.ErrMissingUpgrade},
		{"no Connection", handshakeWith(getLine, del("Connection")), upgrade.ErrMissingConnectionUpgrade},
		{"Connection keep-alive", handshakeWith(getLine, upgrade.HeaderField{Name: "Connection", Value: "keep-alive"}), upgrade.ErrMissingConnectionUpgrade},
		{"Connection upgrades", handshakeWith(getLine, upgrade.HeaderField{Name: "Connection", Value: "upgrades"}), upgrade.ErrMissingConnectionUpgrade},
		{"connection before version", handshakeWith(getLine, del("Connection"), del("Sec-WebSocket-Version")), upgrade.ErrMissingConnectionUpgrade},
		{"no version", handshakeWith(getLine, del("Sec-WebSocket-Version")), upgrade.ErrBadVersion},
		{"version 8", handshakeWith(getLine, upgrade.HeaderField{Name: "Sec-WebSocket-Version", Value: "8"}), upgrade.ErrBadVersion},
		{"version list", handshakeWith(getLine, upgrade.HeaderField{Name: "Sec-WebSocket-Version", Value: "13, 8"}), upgrade.ErrBadVersion},
		{"version twice", handshakeWith(getLine, upgrade.HeaderField{Name: "Sec-WebSocket-Version", Value: "13"}, upgrade.HeaderField{Name: "Sec-WebSocket-Version", Value: "13"}), upgrade.ErrBadVersion},
		{"version empty", handshakeWith(getLine, upgrade.HeaderField{Name: "Sec-WebSocket-Version", Value: ""}), upgrade.ErrBadVersion},
		{"version before key", handshakeWith(getLine, del("Sec-WebSocket-Version"), del("Sec-WebSocket-Key")), upgrade.ErrBadVersion},
		{"no key", handshakeWith(getLine, del("Sec-WebSocket-Key")), upgrade.ErrMissingKey},
		{"key twice", handshakeWith(getLine, upgrade.HeaderField{Name: "Sec-WebSocket-Key", Value: "dGhlIHNhbXBsZSBub25jZQ=="}, upgrade.HeaderField{Name: "sec-websocket-key", Value: "dGhlIHNhbXBsZSBub25jZQ=="}), upgrade.ErrBadKey},
		{"key empty", handshakeWith(getLine, upgrade.HeaderField{Name: "Sec-WebSocket-Key", Value: ""}), upgrade.ErrBadKey},
		{"key 15 bytes", handshakeWith(getLine, upgrade.HeaderField{Name: "Sec-WebSocket-Key", Value: "AAAAAAAAAAAAAAAAAAAA"}), upgrade.ErrBadKey},
		{"key 17 bytes", handshakeWith(getLine, upgrade.HeaderField{Name: "Sec-WebSocket-Key", Value: "AAAAAAAAAAAAAAAAAAAAAAA="}), upgrade.ErrBadKey},
		{"key without padding", handshakeWith(getLine, upgrade.HeaderField{Name: "Sec-WebSocket-Key", Value: "dGhlIHNhbXBsZSBub25jZQ"}), upgrade.ErrBadKey},
		{"key URL alphabet", handshakeWith(getLine, upgrade.HeaderField{Name: "Sec-WebSocket-Key", Value: "dGhlIHNhbXBsZ-_ub25jZQ=="}), upgrade.ErrBadKey},
		{"key inner space", handshakeWith(getLine, upgrade.HeaderField{Name: "Sec-WebSocket-Key", Value: "dGhlIHNhbXBsZ Sub25jZQ=="}), upgrade.ErrBadKey},
		{"key too long", handshakeWith(getLine, upgrade.HeaderField{Name: "Sec-WebSocket-Key", Value: "dGhlIHNhbXBsZSBub25jZQ==AAAA"}), upgrade.ErrBadKey},
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
		r := &upgrade.Request{Method: "GET"}
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
		err    *upgrade.StatusError
		status int
		header []upgrade.HeaderField
	}{
		{upgrade.ErrMethodNotGet, http.StatusMethodNotAllowed, []upgrade.HeaderField{{Name: "Allow", Value: "GET"}}},
		{upgrade.ErrNotHTTP11, http.StatusBadRequest, nil},
		{upgrade.ErrMissingUpgrade, http.StatusBadRequest, nil},
		{upgrade.ErrMissingConnectionUpgrade, http.StatusBadRequest, nil},
		{upgrade.ErrMissingKey, http.StatusBadRequest, nil},
		{upgrade.ErrBadKey, http.StatusBadRequest, nil},
		{upgrade.ErrBadVersion, http.StatusUpgradeRequired, []upgrade.HeaderField{{Name: "Sec-WebSocket-Version", Value: "13"}}},
		{upgrade.ErrOriginRejected, http.StatusForbidden, nil},
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
		extra                  []upgrade.HeaderField
		want                   string
	}{
		{"plain", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "", nil,
			"HTTP/1.1 101 Switching Protocols\r\n" +
				"Upgrade: websocket\r\n" +
				"Connection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
				"\r\n"},
		{"protocol and extra", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "chat",
			[]upgrade.HeaderField{{Name: "Sec-WebSocket-Extensions", Value: "permessage-deflate"}, {Name: "X-Server", Value: "volley"}},
			"HTTP/1.1 101 Switching Protocols\r\n" +
				"Upgrade: websocket\r\n" +
				"Connection: Upgrade\r\n" +
				"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
				"Sec-WebSocket-Protocol: chat\r\n" +
				"Sec-WebSocket-Extensions: permessage-deflate\r\n" +
				"X-Server: volley\r\n" +
				"\r\n"},
		{"injection", "a", "p\r\nX-Evil: 1", []upgrade.HeaderField{{Name: "X\nY", Value: "v\r\n\r\nbody\tok"}},
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

// TestAcceptedAppendResponse checks Negotiate's response, as the engines
// write it, against AppendSwitchingProtocols with the same fields, and that
// writing it allocates nothing when dst has room.
func TestAcceptedAppendResponse(t *testing.T) {
	opts := &upgrade.Options{Subprotocols: []string{"chat"}, Compression: upgrade.Compression{Enabled: true}}
	tests := []struct {
		name     string
		fields   []upgrade.HeaderField
		protocol string
		ext      string
	}{
		{"plain", nil, "", ""},
		{"protocol", []upgrade.HeaderField{{Name: "Sec-WebSocket-Protocol", Value: "superchat, chat"}}, "chat", ""},
		{"deflate", []upgrade.HeaderField{{Name: "Sec-WebSocket-Extensions", Value: "permessage-deflate; client_max_window_bits"}}, "",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
		{"both", []upgrade.HeaderField{{Name: "Sec-WebSocket-Protocol", Value: "chat"}, {Name: "Sec-WebSocket-Extensions", Value: "permessage-deflate; server_max_window_bits=10"}}, "chat",
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"},
	}
	for _, tt := range tests {
		a, err := Negotiate(mustParse(t, handshakeWith("GET /chat HTTP/1.1", tt.fields...)), opts)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		var extra []upgrade.HeaderField
		if tt.ext != "" {
			extra = []upgrade.HeaderField{{Name: "Sec-WebSocket-Extensions", Value: tt.ext}}
		}
		want := "previous" + string(AppendSwitchingProtocols(nil, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", tt.protocol, extra))
		if got := a.AppendResponse([]byte("previous"), nil); string(got) != want {
			t.Errorf("%s:\ngot  %q\nwant %q", tt.name, got, want)
		}
		buf := make([]byte, 0, 512)
		if n := testing.AllocsPerRun(100, func() { buf = a.AppendResponse(buf[:0], nil) }); n != 0 {
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
		upgrade.HeaderField{Name: "Sec-WebSocket-Protocol", Value: "superchat, chat"},
		upgrade.HeaderField{Name: "Sec-WebSocket-Extensions", Value: "x-webkit-deflate-frame, permessage-deflate; client_max_window_bits"}))
	opts := &upgrade.Options{Subprotocols: []string{"chat"}, Compression: upgrade.Compression{Enabled: true}}
	buf := make([]byte, 0, 512)
	allocs := testing.AllocsPerRun(100, func() {
		a, err := Negotiate(req, opts)
		if err != nil || a.Protocol != "chat" || !a.Compressed {
			t.Fatalf("Negotiate = %+v, %v", a, err)
		}
		buf = a.AppendResponse(buf[:0], nil)
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
