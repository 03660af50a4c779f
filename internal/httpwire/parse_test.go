package upgrade

import (
	"errors"
	"net/http"
	"strings"
	"testing"
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
		want     Request
		fields   []HeaderField
	}{
		{
			name: "basic",
			in:   "GET /chat?x=1&y=%20 HTTP/1.1\r\nHost: example.com\r\n\r\n",
			want: Request{Method: "GET", Target: "/chat?x=1&y=%20", Path: "/chat", RawQuery: "x=1&y=%20",
				Proto: "HTTP/1.1", ProtoMinor: 1, Host: "example.com", ContentLength: -1, KeepAlive: true},
			fields: []HeaderField{{"Host", "example.com"}},
		},
		{
			name: "bare LF",
			in:   "GET / HTTP/1.1\nHost: h\nX: y\n\n",
			want: Request{Method: "GET", Target: "/", Path: "/", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: -1, KeepAlive: true},
			fields: []HeaderField{{"Host", "h"}, {"X", "y"}},
		},
		{
			name: "mixed line endings",
			in:   "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\n",
			want: Request{Method: "GET", Target: "/", Path: "/", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: -1, KeepAlive: true},
			fields: []HeaderField{{"Host", "h"}, {"X", "y"}},
		},
		{
			name: "leading empty lines skipped",
			in:   "\r\n\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
			want: Request{Method: "GET", Target: "/", Path: "/", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: -1, KeepAlive: true},
			fields: []HeaderField{{"Host", "h"}},
		},
		{
			name: "empty query",
			in:   "GET /p? HTTP/1.1\r\nHost: h\r\n\r\n",
			want: Request{Method: "GET", Target: "/p?", Path: "/p", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: -1, KeepAlive: true},
			fields: []HeaderField{{"Host", "h"}},
		},
		{
			name: "query split at first ?",
			in:   "GET /p?a?b HTTP/1.1\r\nHost: h\r\n\r\n",
			want: Request{Method: "GET", Target: "/p?a?b", Path: "/p", RawQuery: "a?b", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: -1, KeepAlive: true},
			fields: []HeaderField{{"Host", "h"}},
		},
		{
			name: "HTTP/1.0 without Host",
			in:   "GET / HTTP/1.0\r\n\r\n",
			want: Request{Method: "GET", Target: "/", Path: "/", Proto: "HTTP/1.0", ProtoMinor: 0, ContentLength: -1},
		},
		{
			name: "HTTP/1.0 keep-alive",
			in:   "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
			want: Request{Method: "GET", Target: "/", Path: "/", Proto: "HTTP/1.0", ProtoMinor: 0,
				ContentLength: -1, KeepAlive: true},
			fields: []HeaderField{{"Connection", "Keep-Alive"}},
		},
		{
			name: "HTTP/1.1 close",
			in:   "GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade, Close\r\n\r\n",
			want: Request{Method: "GET", Target: "/", Path: "/", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: -1},
			fields: []HeaderField{{"Host", "h"}, {"Connection", "upgrade, Close"}},
		},
		{
			name: "content length, repeated and agreeing",
			in:   "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\ncontent-length: 005\r\n\r\nhello",
			n:    len("POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\ncontent-length: 005\r\n\r\n"),
			want: Request{Method: "POST", Target: "/submit", Path: "/submit", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: 5, KeepAlive: true},
			fields: []HeaderField{{"Host", "h"}, {"Content-Length", "5"}, {"content-length", "005"}},
		},
		{
			name: "content length zero",
			in:   "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
			want: Request{Method: "POST", Target: "/", Path: "/", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: 0, KeepAlive: true},
			fields: []HeaderField{{"Host", "h"}, {"Content-Length", "0"}},
		},
		{
			name: "asterisk form",
			in:   "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
			want: Request{Method: "OPTIONS", Target: "*", Path: "*", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: -1, KeepAlive: true},
			fields: []HeaderField{{"Host", "h"}},
		},
		{
			name: "absolute form overrides Host",
			in:   "GET http://example.com:80/ws?t=1 HTTP/1.1\r\nHost: other\r\n\r\n",
			want: Request{Method: "GET", Target: "http://example.com:80/ws?t=1", Path: "/ws", RawQuery: "t=1",
				Proto: "HTTP/1.1", ProtoMinor: 1, Host: "example.com:80", ContentLength: -1, KeepAlive: true},
			fields: []HeaderField{{"Host", "other"}},
		},
		{
			name: "absolute form, empty path",
			in:   "GET wss://[::1]:443?q HTTP/1.1\r\nHost: [::1]:443\r\n\r\n",
			want: Request{Method: "GET", Target: "wss://[::1]:443?q", Path: "/", RawQuery: "q",
				Proto: "HTTP/1.1", ProtoMinor: 1, Host: "[::1]:443", ContentLength: -1, KeepAlive: true},
			fields: []HeaderField{{"Host", "[::1]:443"}},
		},
		{
			name: "values trimmed, empty values, obs-text, tabs inside",
			in:   "GET /\xc3\xa9 HTTP/1.1\r\nHost:h\r\nX-Empty:\r\nX-Ws: \t a\tb \t\r\nX-Utf8: caf\xc3\xa9\r\n\r\n",
			want: Request{Method: "GET", Target: "/\xc3\xa9", Path: "/\xc3\xa9", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: -1, KeepAlive: true},
			fields: []HeaderField{{"Host", "h"}, {"X-Empty", ""}, {"X-Ws", "a\tb"}, {"X-Utf8", "caf\xc3\xa9"}},
		},
		{
			name: "empty Host",
			in:   "GET / HTTP/1.1\r\nHost:\r\n\r\n",
			want: Request{Method: "GET", Target: "/", Path: "/", Proto: "HTTP/1.1", ProtoMinor: 1,
				ContentLength: -1, KeepAlive: true},
			fields: []HeaderField{{"Host", ""}},
		},
		{
			name: "pipelined",
			in:   "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
			n:    len("GET /a HTTP/1.1\r\nHost: h\r\n\r\n"),
			want: Request{Method: "GET", Target: "/a", Path: "/a", Proto: "HTTP/1.1", ProtoMinor: 1,
				Host: "h", ContentLength: -1, KeepAlive: true},
			fields: []HeaderField{{"Host", "h"}},
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
			checkFields(t, &req.Header, tt.fields)

			// The Request must not share memory with b.
			for i := range b {
				b[i] = 'x'
			}
			if got, want := summary(req), summary(&tt.want); got != want {
				t.Errorf("after clobbering input: %+v", got)
			}
			checkFields(t, &req.Header, tt.fields)
		})
	}
}

// requestSummary is the comparable part of a Request.
type requestSummary struct {
	Method, Target, Path, RawQuery, Proto, Host string
	ProtoMinor                                  int
	ContentLength                               int64
	KeepAlive                                   bool
}

func summary(r *Request) requestSummary {
	return requestSummary{r.Method, r.Target, r.Path, r.RawQuery, r.Proto, r.Host, r.ProtoMinor, r.ContentLength, r.KeepAlive}
}

func checkFields(t *testing.T, h *Header, want []HeaderField) {
	t.Helper()
	if h.Len() != len(want) {
		t.Errorf("Header.Len() = %d, want %d", h.Len(), len(want))
		return
	}
	for i, f := range want {
		if h.Field(i) != f {
			t.Errorf("Field(%d) = %+v, want %+v", i, h.Field(i), f)
		}
	}
}

func TestParseRequestErrors(t *testing.T) {
	tests := []struct {
		name, in string
		want     *StatusError
	}{
		// request line
		{"empty method", " / HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"method not a token", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"method with obs-text", "G\xc3\x89T / HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"double space", "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"missing version", "GET /\r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"missing target", "GET HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"trailing space", "GET / HTTP/1.1 \r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"space in target", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"tab separator", "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"control char in target", "GET /\x01 HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"DEL in target", "GET /\x7f HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"bare CR in request line", "GET /\rx HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"relative target", "GET chat HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"asterisk for GET", "GET * HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"bad scheme", "GET 1http://h/ HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"scheme without //", "GET http:/h HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"empty authority", "GET http:///p HTTP/1.1\r\nHost: h\r\n\r\n", ErrBadHost},
		{"userinfo in authority", "GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n", ErrBadHost},
		{"lower-case version", "GET / http/1.1\r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"short version", "GET / HTTP/1\r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"long version", "GET / HTTP/1.10\r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"HTTP/2.0", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", ErrUnsupportedProto},
		{"HTTP/1.2", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", ErrUnsupportedProto},
		{"HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", ErrUnsupportedProto},
		{"CR not followed by LF before request line", "\r\rGET / HTTP/1.1\r\nHost: h\r\n\r\n", ErrMalformedRequest},
		{"TLS ClientHello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", ErrMalformedRequest},

		// field lines
		{"space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", ErrMalformedRequest},
		{"tab before colon", "GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", ErrMalformedRequest},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", ErrMalformedRequest},
		{"obs-fold tab", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", ErrMalformedRequest},
		{"leading whitespace on first field", "GET / HTTP/1.1\r\n Host: h\r\n\r\n", ErrMalformedRequest},
		{"no colon", "GET / HTTP/1.1\r\nHost: h\r\nJunk\r\n\r\n", ErrMalformedRequest},
		{"empty name", "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n", ErrMalformedRequest},
		{"name not a token", "GET / HTTP/1.1\r\nHost: h\r\nX(y): v\r\n\r\n", ErrMalformedRequest},
		{"NUL in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", ErrMalformedRequest},
		{"DEL in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fb\r\n\r\n", ErrMalformedRequest},
		{"bare CR in value", "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", ErrMalformedRequest},
		{"double CR", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\r\n\r\n", ErrMalformedRequest},
		{"lone CR line", "GET / HTTP/1.1\r\nHost: h\r\n\r\r\n\r\n", ErrMalformedRequest},

		// Host
		{"HTTP/1.1 without Host", "GET / HTTP/1.1\r\nX: y\r\n\r\n", ErrMissingHost},
		{"two Hosts", "GET / HTTP/1.1\r\nHost: h\r\nhost: h\r\n\r\n", ErrBadHost},
		{"two Hosts HTTP/1.0", "GET / HTTP/1.0\r\nHost: h\r\nHost: i\r\n\r\n", ErrBadHost},
		{"Host with space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", ErrBadHost},
		{"Host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", ErrBadHost},
		{"Host with userinfo", "GET / HTTP/1.1\r\nHost: u@h\r\n\r\n", ErrBadHost},

		// Content-Length
		{"CL not digits", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: abc\r\n\r\n", ErrBadContentLength},
		{"CL negative", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", ErrBadContentLength},
		{"CL plus", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n", ErrBadContentLength},
		{"CL empty", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n", ErrBadContentLength},
		{"CL inner space", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n", ErrBadContentLength},
		{"CL list", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\n\r\n", ErrBadContentLength},
		{"CL hex", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n", ErrBadContentLength},
		{"CL overflow", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775808\r\n\r\n", ErrBadContentLength},
		{"CL conflicting", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", ErrBadContentLength},

		// Transfer-Encoding
		{"chunked", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", ErrTransferEncoding},
		{"TE identity", "GET / HTTP/1.1\r\nHost: h\r\ntransfer-encoding: identity\r\n\r\n", ErrTransferEncoding},
		{"TE and CL", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", ErrTransferEncoding},
		{"TE HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", ErrTransferEncoding},
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
		{"complete but one byte too long", head, len(head) - 1, 0, ErrHeaderTooLarge},
		{"incomplete and at limit", head[:20], 20, 0, ErrHeaderTooLarge},
		{"incomplete and over limit", head[:20], 10, 0, ErrHeaderTooLarge},
		{"incomplete below limit", head[:20], 21, 0, nil},
		{"request line longer than limit", "GET /" + strings.Repeat("a", 100), 50, 0, ErrHeaderTooLarge},
		{"empty lines count towards limit", strings.Repeat("\r\n", 30) + head, 50, 0, ErrHeaderTooLarge},
		{"zero limit", head, 0, 0, ErrHeaderTooLarge},
		{"negative limit", head, -1, 0, ErrHeaderTooLarge},
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
		err    *StatusError
		status int
	}{
		{ErrHeaderTooLarge, http.StatusRequestHeaderFieldsTooLarge},
		{ErrMalformedRequest, http.StatusBadRequest},
		{ErrUnsupportedProto, http.StatusHTTPVersionNotSupported},
		{ErrMissingHost, http.StatusBadRequest},
		{ErrBadHost, http.StatusBadRequest},
		{ErrBadContentLength, http.StatusBadRequest},
		{ErrTransferEncoding, http.StatusNotImplemented},
		{ErrBodyTooLarge, http.StatusRequestEntityTooLarge},
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
		var se *StatusError
		wrapped := errors.Join(errors.New("context"), tt.err)
		if !errors.Is(wrapped, tt.err) || !errors.As(wrapped, &se) || se != tt.err {
			t.Errorf("%v: errors.Is/As fail on wrapped error", tt.err)
		}
	}
	if errors.Is(ErrMissingHost, ErrMalformedRequest) {
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
	// The Request, the copy of the head and the fields slice.
	if allocs > 3 {
		t.Fatalf("ParseRequest allocates %v times, want <= 3", allocs)
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
// Request, allocates nothing and refers to the input, and that its Clone
// does not.
func TestParseRequestNoCopy(t *testing.T) {
	b := []byte(browserHandshake)
	var req Request
	allocs := testing.AllocsPerRun(100, func() {
		req.Reset()
		if n, err := ParseRequestNoCopy(&req, b, maxHeadTest); err != nil || n != len(b) {
			t.Fatalf("ParseRequestNoCopy = %d, %v", n, err)
		}
	})
	if allocs != 0 {
		t.Fatalf("ParseRequestNoCopy into a reused Request allocates %v times, want 0", allocs)
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
	req.Reset()
	if req.Method != "" || req.Header.Len() != 0 || cap(req.Header.fields) == 0 {
		t.Fatalf("Reset left %+v (header capacity %d)", req, cap(req.Header.fields))
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
