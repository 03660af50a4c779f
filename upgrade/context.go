package upgrade

import (
	"errors"
	"math"
	"net"
	"net/http"
	"net/url"

	"github.com/volley-ws/volley/conn"
)

// Backend is the engine's side of a Context. It is implemented by the
// engine package; application code does not use it.
type Backend interface {
	// Upgrade sends a's response (a.AppendResponse), switches the
	// connection to WebSocket framing (with permessage-deflate when
	// a.Compressed) and returns the open WebSocket. a is valid only during
	// the call.
	Upgrade(a *Accepted) (*conn.WebSocket, error)
	// RemoteAddr returns the client's address.
	RemoteAddr() net.Addr
}

// ErrResponded is returned by Upgrade when the context already upgraded or
// already answered the handshake with an error.
var ErrResponded = errors.New("upgrade: request already answered")

// Context is one HTTP request being handled: the request, and the response
// the handler builds for it. A handler that upgrades gets a WebSocket and
// the response fields are ignored; otherwise, when the handler returns, the
// engine sends the status (200 unless set), the headers and what was
// written, with Content-Length.
//
// A Context belongs to the handler's goroutine and is not safe for
// concurrent use. It must not be used after the handler returns.
//
// A Context keeps one private copy of the request head and body. The
// parsed [Request] is rebuilt from that copy the first time it is asked
// for (Request, Method, Path, Query, Header, Upgrader.Protocols), and the
// response fields are allocated the first time one is set, so a session
// that only upgrades holds the copy and a small struct while it lives.
type Context struct {
	// raw and rawLen are the Context's own copy of the request head and
	// then the body, kept as a pointer and a length (see rawBytes).
	raw     *byte
	rawLen  int
	req     *Request // parsed from the head's copy on first use
	backend Backend
	acc     *Accepted // the negotiated handshake, nil when not an upgrade request or once upgraded
	resp    *response // the response being built, nil until a field is set
	headLen int32
	flags   contextFlags
	// hsErr is why the handshake is invalid or the origin was rejected:
	// 1 + its index in handshakeErrs, 0 for none.
	hsErr uint8
}

// handshakeErrs are the errors a Context may keep for a handshake.
var handshakeErrs = [...]*StatusError{
	ErrMalformedRequest, ErrMethodNotGet, ErrNotHTTP11, ErrMissingUpgrade, ErrMissingConnectionUpgrade,
	ErrBadVersion, ErrMissingKey, ErrBadKey, ErrOriginRejected,
}

// setHandshakeErr records err as the handshake's error; one that is not in
// handshakeErrs (none of checkHandshake's) counts as ErrMalformedRequest.
func (c *Context) setHandshakeErr(err error) {
	c.hsErr = 1
	for i, e := range handshakeErrs {
		if e == err {
			c.hsErr = uint8(1 + i)
		}
	}
}

// handshakeErr returns the handshake's error, or nil.
func (c *Context) handshakeErr() *StatusError {
	if c.hsErr == 0 {
		return nil
	}
	return handshakeErrs[c.hsErr-1]
}

// contextFlags are what a Context decided about its request when it was
// made, and what happened to it since.
type contextFlags uint8

const (
	isUpgrade  contextFlags = 1 << iota // the request asks for a WebSocket
	headMethod                          // the request method is HEAD
	upgraded                            // Upgrade succeeded
	answered                            // the handshake was rejected
)

// response is the response a handler builds for a request it does not
// upgrade.
type response struct {
	status int
	header []HeaderField
	out    []byte
}

// NewContext returns the Context for req (with its body), received by b's
// connection. It is meant for engine implementations. req and body may refer to
// the engine's input buffer (ParseRequestNoCopy): NewContext copies the
// head and the body, and keeps neither req nor body.
//
// A WebSocket handshake is validated and negotiated here (the
// Sec-WebSocket-Accept value, the subprotocol, permessage-deflate, and the
// origin check, o.CheckOrigin included), on the caller's goroutine: the
// engine's event loop, whose stack is already large. The handler's
// goroutine then only hands the response to the Backend in
// Upgrader.Upgrade, so a session parked in Receive keeps the smallest stack
// Go gives a goroutine.
func NewContext(req *Request, body []byte, b Backend, o *Options) *Context {
	if len(req.head) > math.MaxInt32 {
		panic("upgrade: NewContext: a request head over 2 GiB")
	}
	raw := make([]byte, len(req.head)+len(body))
	copy(raw[copy(raw, req.head):], body)
	c := &Context{headLen: int32(len(req.head)), backend: b}
	c.setRaw(raw)
	if req.Method == http.MethodHead {
		c.flags |= headMethod
	}
	if IsUpgradeRequest(req) {
		c.flags |= isUpgrade
		key, err := checkHandshake(req)
		switch {
		case err != nil:
			c.setHandshakeErr(err)
		case !o.checkOrigin(req):
			c.setHandshakeErr(ErrOriginRejected)
		default:
			a := negotiate(req, key, o)
			c.acc = &a
		}
	}
	return c
}

// Request returns the parsed request. It stays valid until the handler
// returns. The first call parses the Context's copy of the head.
func (c *Context) Request() *Request {
	if c.req == nil {
		r := new(Request)
		// The head parsed before it was copied, so the copy parses. The
		// strings refer to the copy, which nothing writes to.
		if _, err := r.parse(c.rawBytes()[:c.headLen], int(c.headLen), false); err != nil {
			panic("upgrade: the copy of a parsed request head does not parse: " + err.Error())
		}
		c.req = r
	}
	return c.req
}

// Method returns the request method.
func (c *Context) Method() string { return c.Request().Method }

// Path returns the request path, not unescaped.
func (c *Context) Path() string { return c.Request().Path }

// Query parses the query string. Malformed pairs are skipped.
func (c *Context) Query() url.Values {
	v, _ := url.ParseQuery(c.Request().RawQuery)
	return v
}

// Header returns the first value of the request header name
// (case-insensitive), or "".
func (c *Context) Header(name string) string { return c.Request().Header.Get(name) }

// Body returns the request body (Content-Length bytes). It is valid until
// the handler returns.
func (c *Context) Body() []byte {
	if int(c.headLen) == c.rawLen {
		return nil
	}
	return c.rawBytes()[c.headLen:]
}

// RemoteAddr returns the client's address.
func (c *Context) RemoteAddr() net.Addr { return c.backend.RemoteAddr() }

// response returns the response being built, allocating it on first use.
func (c *Context) response() *response {
	if c.resp == nil {
		c.resp = new(response)
	}
	return c.resp
}

// SetStatusCode sets the response status for a request that is not
// upgraded. The default is 200.
func (c *Context) SetStatusCode(status int) { c.response().status = status }

// StatusCode returns the response status set so far (200 when unset).
func (c *Context) StatusCode() int {
	if c.resp == nil || c.resp.status == 0 {
		return http.StatusOK
	}
	return c.resp.status
}

// SetHeader sets a response header, replacing earlier values of name.
// Content-Length and Connection are managed by the engine and ignored.
func (c *Context) SetHeader(name, value string) {
	if equalFold(name, "Content-Length") || equalFold(name, "Connection") {
		return
	}
	r := c.response()
	for i := range r.header {
		if equalFold(r.header[i].Name, name) {
			r.header[i].Value = value
			return
		}
	}
	r.header = append(r.header, HeaderField{Name: name, Value: value})
}

// Write appends p to the response body. It never fails.
func (c *Context) Write(p []byte) (int, error) {
	r := c.response()
	r.out = append(r.out, p...)
	return len(p), nil
}

// WriteString appends s to the response body. It never fails.
func (c *Context) WriteString(s string) (int, error) {
	r := c.response()
	r.out = append(r.out, s...)
	return len(s), nil
}

// Upgraded reports whether the request was upgraded to a WebSocket.
func (c *Context) Upgraded() bool { return c.flags&upgraded != 0 }

// AppendResponse appends the HTTP response the handler built to dst. It is
// meant for engine implementations, after the handler returned without
// upgrading.
func (c *Context) AppendResponse(dst []byte, keepAlive bool) []byte {
	var r response
	if c.resp != nil {
		r = *c.resp
	}
	return AppendResponse(dst, c.StatusCode(), r.header, r.out, keepAlive, c.flags&headMethod != 0)
}

// Upgrader returns the request's Upgrader when the request asks to switch to
// WebSocket (an Upgrade header naming websocket), and nil otherwise. The
// handshake itself (method, version, key, origin) is checked by
// Upgrader.Upgrade, which answers a bad one with the right status.
func (c *Context) Upgrader() *Upgrader {
	if c.flags&isUpgrade == 0 {
		return nil
	}
	return (*Upgrader)(c)
}

// Upgrader completes a WebSocket handshake. It belongs to the handler's
// goroutine, like its Context, and is the same object seen through the
// handshake's methods.
type Upgrader Context

// Protocols returns the subprotocols the client offered, in its order.
func (u *Upgrader) Protocols() []string {
	var p []string
	(*Context)(u).Request().Header.Tokens("Sec-WebSocket-Protocol", func(t string) bool {
		p = append(p, t)
		return true
	})
	return p
}

// Upgrade validates the handshake (RFC 6455 section 4.2.1), sends the 101
// response (with the first configured subprotocol the client offered) and
// returns the open WebSocket.
//
// An invalid handshake is answered with the right status: 405 for a method
// other than GET, 400 for HTTP/1.0, a missing Connection: Upgrade or a
// missing or malformed Sec-WebSocket-Key, 426 with Sec-WebSocket-Version: 13
// for another version, 403 when the origin check fails. The error is then a
// *StatusError (one of this package's sentinels, usable with errors.Is)
// saying why. Calling Upgrade twice returns ErrResponded.
func (u *Upgrader) Upgrade() (*conn.WebSocket, error) {
	c := (*Context)(u)
	if c.flags&(upgraded|answered) != 0 {
		return nil, ErrResponded
	}
	se := c.handshakeErr()
	if se == nil && c.acc == nil {
		se = ErrMissingUpgrade
	}
	if se != nil {
		c.reject(se)
		return nil, se
	}
	ws, err := c.backend.Upgrade(c.acc)
	if err != nil {
		return nil, err
	}
	c.flags |= upgraded
	c.acc = nil // not needed any more; an idle session should not hold it
	return ws, nil
}

// reject turns the response into se's status, headers and reason.
func (c *Context) reject(se *StatusError) {
	c.flags |= answered
	r := c.response()
	r.status = se.Status
	r.header = append(r.header[:0], se.Header...)
	r.out = append(r.out[:0], se.Reason...)
}

// HandlerFunc handles one request.
type HandlerFunc func(*Context)
