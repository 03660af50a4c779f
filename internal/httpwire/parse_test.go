package httpwire

import (
	"errors"
	"net/http"
	"strings"
	"testing"

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

const maxHeadTest = 4096

func TestParseRequestValid(t *testing.T) {
	tests := []struct {
		name, in string
		n        int // 0 means len(in)
		want     upgrade.Request
		fields   []upgrade.HeaderField
	}{
		{
			name: "basic",
			in:   "GET /chat?x=1&y=%20 HTTP/1.1\r\nHost: example.com\r\n\r\n",
			want: upgrade.Request{Method: "GET", Target: "/chat?x=1&y=%20", Path: "/chat", RawQuery: "x=1&y=%20",
				Proto: "HTTP/1.1", ProtoMinor: 1, Host: "example.com", ContentLength: -1, KeepAlive: true},
			fields: []upgrade.HeaderField{{Name: "Host", Value: "example.com"}},
		},
		{
			name: "bare LF",
			in:   "GET / HTTP/1.1\nHost: h\nX: y\n\n",
			want: upgrade.Request{Method: "GET", Target: "/", Path: "/", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: -1, KeepAlive: true},
			fields: []upgrade.HeaderField{{Name: "Host", Value: "h"}, {Name: "X", Value: "y"}},
		},
		{
			name: "mixed line endings",
			in:   "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\n",
			want: upgrade.Request{Method: "GET", Target: "/", Path: "/", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: -1, KeepAlive: true},
			fields: []upgrade.HeaderField{{Name: "Host", Value: "h"}, {Name: "X", Value: "y"}},
		},
		{
			name: "leading empty lines skipped",
			in:   "\r\n\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
			want: upgrade.Request{Method: "GET", Target: "/", Path: "/", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: -1, KeepAlive: true},
			fields: []upgrade.HeaderField{{Name: "Host", Value: "h"}},
		},
		{
			name: "empty query",
			in:   "GET /p? HTTP/1.1\r\nHost: h\r\n\r\n",
			want: upgrade.Request{Method: "GET", Target: "/p?", Path: "/p", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: -1, KeepAlive: true},
			fields: []upgrade.HeaderField{{Name: "Host", Value: "h"}},
		},
		{
			name: "query split at first ?",
			in:   "GET /p?a?b HTTP/1.1\r\nHost: h\r\n\r\n",
			want: upgrade.Request{Method: "GET", Target: "/p?a?b", Path: "/p", RawQuery: "a?b", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: -1, KeepAlive: true},
			fields: []upgrade.HeaderField{{Name: "Host", Value: "h"}},
		},
		{
			name: "HTTP/1.0 without Host",
			in:   "GET / HTTP/1.0\r\n\r\n",
			want: upgrade.Request{Method: "GET", Target: "/", Path: "/", Proto: "HTTP/1.0", ProtoMinor: 0, ContentLength: -1},
		},
		{
			name: "HTTP/1.0 keep-alive",
			in:   "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
			want: upgrade.Request{Method: "GET", Target: "/", Path: "/", Proto: "HTTP/1.0", ProtoMinor: 0,
				ContentLength: -1, KeepAlive: true},
			fields: []upgrade.HeaderField{{Name: "Connection", Value: "Keep-Alive"}},
		},
		{
			name: "HTTP/1.1 close",
			in:   "GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade, Close\r\n\r\n",
			want: upgrade.Request{Method: "GET", Target: "/", Path: "/", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: -1},
			fields: []upgrade.HeaderField{{Name: "Host", Value: "h"}, {Name: "Connection", Value: "upgrade, Close"}},
		},
		{
			name: "content length, repeated and agreeing",
			in:   "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\ncontent-length: 005\r\n\r\nhello",
			n:    len("POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\ncontent-length: 005\r\n\r\n"),
			want: upgrade.Request{Method: "POST", Target: "/submit", Path: "/submit", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: 5, KeepAlive: true},
			fields: []upgrade.HeaderField{{Name: "Host", Value: "h"}, {Name: "Content-Length", Value: "5"}, {Name: "content-length", Value: "005"}},
		},
		{
			name: "content length zero",
			in:   "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
			want: upgrade.Request{Method: "POST", Target: "/", Path: "/", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: 0, KeepAlive: true},
			fields: []upgrade.HeaderField{{Name: "Host", Value: "h"}, {Name: "Content-Length", Value: "0"}},
		},
		{
			name: "asterisk form",
			in:   "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
			want: upgrade.Request{Method: "OPTIONS", Target: "*", Path: "*", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: -1, KeepAlive: true},
			fields: []upgrade.HeaderField{{Name: "Host", Value: "h"}},
		},
		{
			name: "absolute form overrides Host",
			in:   "GET http://example.com:80/ws?t=1 HTTP/1.1\r\nHost: other\r\n\r\n",
			want: upgrade.Request{Method: "GET", Target: "http://example.com:80/ws?t=1", Path: "/ws", RawQuery: "t=1",
				Proto: "HTTP/1.1", ProtoMinor: 1, Host: "example.com:80", ContentLength: -1, KeepAlive: true},
			fields: []upgrade.HeaderField{{Name: "Host", Value: "other"}},
		},
		{
			name: "absolute form, empty path",
			in:   "GET wss://[::1]:443?q HTTP/1.1\r\nHost: [::1]:443\r\n\r\n",
			want: upgrade.Request{Method: "GET", Target: "wss://[::1]:443?q", Path: "/", RawQuery: "q",
				Proto: "HTTP/1.1", ProtoMinor: 1, Host: "[::1]:443", ContentLength: -1, KeepAlive: true},
			fields: []upgrade.HeaderField{{Name: "Host", Value: "[::1]:443"}},
		},
		{
			name: "values trimmed, empty values, obs-text, tabs inside",
			in:   "GET /\xc3\xa9 HTTP/1.1\r\nHost:h\r\nX-Empty:\r\nX-Ws: \t a\tb \t\r\nX-Utf8: caf\xc3\xa9\r\n\r\n",
			want: upgrade.Request{Method: "GET", Target: "/\xc3\xa9", Path: "/\xc3\xa9", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: -1, KeepAlive: true},
			fields: []upgrade.HeaderField{{Name: "Host", Value: "h"}, {Name: "X-Empty", Value: ""}, {Name: "X-Ws", Value: "a\tb"}, {Name: "X-Utf8", Value: "caf\xc3\xa9"}},
		},
		{
			name: "empty Host",
			in:   "GET / HTTP/1.1\r\nHost:\r\n\r\n",
			want: upgrade.Request{Method: "GET", Target: "/", Path: "/", Proto: "HTTP/1.1", ProtoMinor: 1,
				ContentLength: -1, KeepAlive: true},
			fields: []upgrade.HeaderField{{Name: "Host", Value: ""}},
		},
		{
			name: "pipelined",
			in:   "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
			n:    len("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"),
			want: upgrade.Request{Method: "GET", Target: "/a", Path: "/a", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: -1, KeepAlive: true},
			fields: []upgrade.HeaderField{{Name: "Host", Value: "h"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantN := tt.n
			if wantN == 0 {
				wantN = len(tt.in)
			}
			b := []byte(tt.in)
			req, n, err := ParseRequest(b, maxHeadTest)
			if err != nil || req == nil {
				t.Fatalf("ParseRequest = %v, %d, %v", req, n, err)
			}
			if n != wantN {
				t.Errorf("n = %d, want %d", n, wantN)
			}
			if got, want := summary(req), summary(&tt.want); got != want {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			checkFields(t, req.Header, tt.fields)

			// The upgrade.Request must not share memory with b.
			for i := range b {
				b[i] = 'x'
			}
			if got, want := summary(req), summary(&tt.want); got != want {
				t.Errorf("after clobbering input: %+v", got)
			}
			checkFields(t, req.Header, tt.fields)
		})
	}
}

// requestSummary is the comparable part of a upgrade.Request.
type requestSummary struct {
	Method, Target, Path, RawQuery, Proto, Host string
	ProtoMinor                                  int
	ContentLength                               int64
	KeepAlive                                   bool
}

func summary(r *upgrade.Request) requestSummary {
	return requestSummary{r.Method, r.Target, r.Path, r.RawQuery, r.Proto, r.Host, r.ProtoMinor, r.ContentLength, r.KeepAlive}
}

func checkFields(t *testing.T, h upgrade.Header, want []upgrade.HeaderField) {
	t.Helper()
	if len(h) != len(want) {
		t.Errorf("len(Header) = %d, want %d", len(h), len(want))
		return
	}
	for i, f := range want {
		if h[i] != f {
			t.Errorf("Header[%d] = %+v, want %+v", i, h[i], f)
		}
	}
}

func TestParseRequestErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     *upgrade.StatusError
	}{
		// request line
		{"empty method", " / HTTP/1.1\r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"method not a token", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"method with obs-text", "G\xc3\x89T / HTTP/1.1\r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"double space", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"missing version", "GET /\r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"missing target", "GET HTTP/1.1\r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"trailing space", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"space in target", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"tab separator", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"control char in target", "GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"DEL in target", "GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"bare CR in request line", "GET /\rx HTTP/1.1\r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"relative target", "GET chat HTTP/1.1\r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"asterisk for GET", "GET * HTTP/1.1\r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"bad scheme", "GET 1http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"scheme without //", "GET http:/h HTTP/1.1\r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"empty authority", "GET http:///p HTTP/1.1\r\nHost: h\r\n\r\n", upgrade.ErrBadHost},
		{"userinfo in authority", "GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n", upgrade.ErrBadHost},
		{"lower-case version", "GET / http/1.1\r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"short version", "GET / HTTP/1\r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"long version", "GET / HTTP/1.10\r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", upgrade.ErrUnsupportedProto},
		{"HTTP/1.2", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", upgrade.ErrUnsupportedProto},
		{"HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", upgrade.ErrUnsupportedProto},
		{"CR not followed by LF before request line", "\r\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"TLS ClientHello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", upgrade.ErrMalformedRequest},

		// field lines
		{"space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"tab before colon", "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", upgrade.ErrMalformedRequest},
		{"obs-fold tab", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", upgrade.ErrMalformedRequest},
		{"leading whitespace on first field", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", upgrade.ErrMalformedRequest},
		{"no colon", "GET / HTTP/1.1\r\nHost: h\r\nJunk\r\n\r\n", upgrade.ErrMalformedRequest},
		{"empty name", "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", upgrade.ErrMalformedRequest},
		{"name not a token", "GET / HTTP/1.1\r\nHost: h\r\nX(y): v\r\n\r\n", upgrade.ErrMalformedRequest},
		{"NUL in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", upgrade.ErrMalformedRequest},
		{"DEL in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fb\r\n\r\n", upgrade.ErrMalformedRequest},
		{"bare CR in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", upgrade.ErrMalformedRequest},
		{"double CR", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\r\n\r\n", upgrade.ErrMalformedRequest},
		{"lone CR line", "GET / HTTP/1.1\r\nHost: h\r\n\r\r\n\r\n", upgrade.ErrMalformedRequest},

		// Host
		{"HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX: y\r\n\r\n", upgrade.ErrMissingHost},
		{"two Hosts", "GET / HTTP/1.1\r\nHost: h\r\nhost: h\r\n\r\n", upgrade.ErrBadHost},
		{"two Hosts HTTP/1.0", "GET / HTTP/1.0\r\nHost: h\r\nHost: i\r\n\r\n", upgrade.ErrBadHost},
		{"Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", upgrade.ErrBadHost},
		{"Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", upgrade.ErrBadHost},
		{"Host with userinfo", "GET / HTTP/1.1\r\nHost: u@h\r\n\r\n", upgrade.ErrBadHost},

		// Content-Length
		{"CL not digits", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n", upgrade.ErrBadContentLength},
		{"CL negative", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", upgrade.ErrBadContentLength},
		{"CL plus", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n", upgrade.ErrBadContentLength},
		{"CL empty", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", upgrade.ErrBadContentLength},
		{"CL inner space", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n", upgrade.ErrBadContentLength},
		{"CL list", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n", upgrade.ErrBadContentLength},
		{"CL hex", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", upgrade.ErrBadContentLength},
		{"CL overflow", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775808\r\n\r\n", upgrade.ErrBadContentLength},
		{"CL conflicting", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", upgrade.ErrBadContentLength},

		// Transfer-Encoding
		{"chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", upgrade.ErrTransferEncoding},
		{"TE identity", "GET / HTTP/1.1\r\nHost: h\r\ntransfer-encoding: identity\r\n\r\n", upgrade.ErrTransferEncoding},
		{"TE and CL", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", upgrade.ErrTransferEncoding},
		{"TE HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", upgrade.ErrTransferEncoding},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, n, err := ParseRequest([]byte(tt.in), maxHeadTest)
			if err != tt.want || req != nil || n != 0 {
				t.Fatalf("ParseRequest = %v, %d, %v; want nil, 0, %v", req, n, err, tt.want)
			}
		})
	}
}

func TestParseRequestMaxInt64ContentLength(t *testing.T) {
	in := "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775807\r\n\r\n"
	req, _, err := ParseRequest([]byte(in), maxHeadTest)
	if err != nil || req.ContentLength != 1<<63-1 {
		t.Fatalf("ParseRequest = %+v, %v", req, err)
	}
}

func TestParseRequestHeaderTooLarge(t *testing.T) {
	head := "GET / HTTP/1.1\r\nHost: h\r\n\r\n"
	tests := []struct {
		name    string
		in      string
		maxHead int
		wantN   int
		wantErr error
	}{
		{"fits exactly", head, len(head), len(head), nil},
		{"complete but one byte too long", head, len(head) - 1, 0, upgrade.ErrHeaderTooLarge},
		{"incomplete and at limit", head[:20], 20, 0, upgrade.ErrHeaderTooLarge},
		{"incomplete and over limit", head[:20], 10, 0, upgrade.ErrHeaderTooLarge},
		{"incomplete below limit", head[:20], 21, 0, nil},
		{"request line longer than limit", "GET /" + strings.Repeat("a", 100), 50, 0, upgrade.ErrHeaderTooLarge},
		{"empty lines count towards limit", strings.Repeat("\r\n", 30) + head, 50, 0, upgrade.ErrHeaderTooLarge},
		{"zero limit", head, 0, 0, upgrade.ErrHeaderTooLarge},
		{"negative limit", head, -1, 0, upgrade.ErrHeaderTooLarge},
		{"empty input", "", 10, 0, nil},
		{"only empty lines", "\r\n\r\n\n", 10, 0, nil},
		{"trailing CR", "\r", 10, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, n, err := ParseRequest([]byte(tt.in), tt.maxHead)
			if err != tt.wantErr || n != tt.wantN || (err == nil && n > 0) != (req != nil) {
				t.Fatalf("ParseRequest = %v, %d, %v; want n=%d err=%v", req, n, err, tt.wantN, tt.wantErr)
			}
		})
	}
}

func TestParseRequestIncremental(t *testing.T) {
	inputs := []string{
		browserHandshake,
		"GET / HTTP/1.1\nHost: h\n\n",
		"\r\n\r\nGET / HTTP/1.0\r\n\r\n",
		"GET http://h/ HTTP/1.1\r\nHost: h\r\nX:\r\n\r\n",
	}
	for _, in := range inputs {
		for i := 0; i < len(in); i++ {
			req, n, err := ParseRequest([]byte(in[:i]), maxHeadTest)
			if req != nil || n != 0 || err != nil {
				t.Fatalf("prefix %q: ParseRequest = %v, %d, %v; want need-more", in[:i], req, n, err)
			}
		}
		// Followed by a body or the next request, n stays the same.
		for _, tail := range []string{"", "x", "GET / HTTP/1.1\r\n"} {
			req, n, err := ParseRequest([]byte(in+tail), maxHeadTest)
			if req == nil || err != nil || n != len(in) {
				t.Fatalf("%q: ParseRequest = %v, %d, %v; want n=%d", in+tail, req, n, err, len(in))
			}
		}
	}
}

func TestParseRequestEarlyRejection(t *testing.T) {
	// A bad request line is reported before the head is complete.
	for _, in := range []string{
		"GET /\x00",
		"\x16\x03\x01",
		"GET / HTTP/2.0\r\n",
		"GET / HTTP/1.1 x\n",
		"GET /\rX",
	} {
		_, _, err := ParseRequest([]byte(in), maxHeadTest)
		if err == nil {
			t.Errorf("%q: ParseRequest did not fail early", in)
		}
	}
}

func TestParseErrorStatus(t *testing.T) {
	tests := []struct {
		err    *upgrade.StatusError
		status int
	}{
		{upgrade.ErrHeaderTooLarge, http.StatusRequestHeaderFieldsTooLarge},
		{upgrade.ErrMalformedRequest, http.StatusBadRequest},
		{upgrade.ErrUnsupportedProto, http.StatusHTTPVersionNotSupported},
		{upgrade.ErrMissingHost, http.StatusBadRequest},
		{upgrade.ErrBadHost, http.StatusBadRequest},
		{upgrade.ErrBadContentLength, http.StatusBadRequest},
		{upgrade.ErrTransferEncoding, http.StatusNotImplemented},
		{upgrade.ErrBodyTooLarge, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		if tt.err.Status != tt.status {
			t.Errorf("%v: Status = %d, want %d", tt.err, tt.err.Status, tt.status)
		}
		if !strings.HasPrefix(tt.err.Error(), "upgrade: ") || tt.err.Error() != "upgrade: "+tt.err.Reason {
			t.Errorf("Error() = %q", tt.err.Error())
		}
		if len(tt.err.Header) != 0 {
			t.Errorf("%v: unexpected Header %v", tt.err, tt.err.Header)
		}
		var se *upgrade.StatusError
		wrapped := errors.Join(errors.New("context"), tt.err)
		if !errors.Is(wrapped, tt.err) || !errors.As(wrapped, &se) || se != tt.err {
			t.Errorf("%v: errors.Is/As fail on wrapped error", tt.err)
		}
	}
	if errors.Is(upgrade.ErrMissingHost, upgrade.ErrMalformedRequest) {
		t.Error("sentinels with equal status compare equal")
	}
}

func TestParseRequestAllocs(t *testing.T) {
	b := []byte(browserHandshake)
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := ParseRequest(b, maxHeadTest); err != nil {
			t.Fatal(err)
		}
	})
	// Parse into a fresh Request grows its header storage once; the Clone
	// allocates the Request, its Header and one arena for its strings.
	if allocs > 4 {
		t.Fatalf("ParseRequest allocates %v times, want <= 4", allocs)
	}
	allocs = testing.AllocsPerRun(100, func() {
		if _, n, _ := ParseRequest(b[:len(b)-1], maxHeadTest); n != 0 {
			t.Fatal("complete?")
		}
	})
	if allocs != 0 {
		t.Fatalf("need-more ParseRequest allocates %v times, want 0", allocs)
	}
}

// TestParseRequestNoCopy checks that a parse in place, into a reused
// upgrade.Request, allocates nothing and refers to the input, and that its Clone
// does not.
func TestParseRequestNoCopy(t *testing.T) {
	b := []byte(browserHandshake)
	var req upgrade.Request
	allocs := testing.AllocsPerRun(100, func() {
		if n, err := ParseRequestNoCopy(&req, b, maxHeadTest); err != nil || n != len(b) {
			t.Fatalf("ParseRequestNoCopy = %d, %v", n, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("ParseRequestNoCopy into a reused upgrade.Request allocates %v times, want 0", allocs)
	}
	c := req.Clone()
	want, _, _ := ParseRequest(b, maxHeadTest)
	copy(b, "PUT /x")
	if req.Method != "PUT" || req.Path != "/xhat" {
		t.Fatalf("the parse in place does not refer to the input: %q %q", req.Method, req.Path)
	}
	if !sameRequest(c, want) || c.Header.Get("Origin") != "https://example.com" {
		t.Fatalf("Clone = %+v, want %+v", *c, *want)
	}
	// The next parse reuses the header storage and forgets this input.
	h := req.Header
	if n, _ := ParseRequestNoCopy(&req, []byte("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), maxHeadTest); n == 0 {
		t.Fatal("second parse failed")
	}
	if &req.Header[0] != &h[0] || len(req.Header) != 1 || h[1] != (upgrade.HeaderField{}) {
		t.Fatalf("second parse: header %+v, storage reused %v, stale field %+v", req.Header, &req.Header[0] == &h[0], h[1])
	}
}

func BenchmarkParseRequest(b *testing.B) {
	in := []byte(browserHandshake)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseRequest(in, maxHeadTest); err != nil {
			b.Fatal(err)
		}
	}
}
