package upgrade

import "unsafe"

// Request is a parsed HTTP/1.x request head. The engine parses requests in
// place in its input buffer: a Request handed to a callback that runs on an
// event loop (Options.CheckOrigin, an engine handshake hook) refers to that
// buffer and is valid only during the call; Clone it to keep it. The
// Request of a Context (Context.Request) owns its memory.
type Request struct {
	// Method is the request method, e.g. "GET" (case-sensitive).
	Method string
	// Target is the raw request-target as sent.
	Target string
	// Path is the part of the target before the first '?', not unescaped.
	// For an absolute-form target ("http://host/p?q") it is the path after
	// the authority ("/p"), or "/" when that is empty; for "*" it is "*".
	Path string
	// RawQuery is the part of the target after the first '?', without the
	// '?', or "" when there is none.
	RawQuery string
	// Proto is "HTTP/1.0" or "HTTP/1.1".
	Proto string
	// ProtoMinor is 0 or 1.
	ProtoMinor int
	// Header holds the header fields in arrival order.
	Header Header
	// Host is the value of the Host header field, or the authority of an
	// absolute-form target, which RFC 9112 section 3.2.2 says takes
	// precedence. It is "" when neither is present (HTTP/1.0 only).
	Host string
	// ContentLength is the value of Content-Length, or -1 when absent.
	ContentLength int64
	// KeepAlive reports whether the connection may stay open after this
	// request: HTTP/1.1 without "Connection: close", or HTTP/1.0 with
	// "Connection: keep-alive".
	KeepAlive bool
}

// Clone returns a copy of r that owns its memory and no longer refers to
// the buffer r was parsed from: its strings are copied into one new
// allocation, and its Header into another.
func (r *Request) Clone() *Request {
	c := new(Request)
	*c = *r
	c.Header = make(Header, len(r.Header))
	copy(c.Header, r.Header)
	n := 0
	c.eachString(func(s *string) { n += len(*s) })
	arena := make([]byte, 0, n)
	c.eachString(func(s *string) {
		start := len(arena)
		arena = append(arena, *s...)
		*s = unsafe.String(unsafe.SliceData(arena[start:]), len(*s))
	})
	return c
}

// eachString calls fn with a pointer to every string field of r, header
// fields included.
func (r *Request) eachString(fn func(*string)) {
	for _, s := range [...]*string{&r.Method, &r.Target, &r.Path, &r.RawQuery, &r.Proto, &r.Host} {
		fn(s)
	}
	for i := range r.Header {
		fn(&r.Header[i].Name)
		fn(&r.Header[i].Value)
	}
}
