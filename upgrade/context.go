package upgrade

import (
	"errors"
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
type Context struct {
	req     *Request
	acc     *Accepted // the negotiated handshake, nil when not an upgrade request
	hsErr   error     // why the handshake is invalid
	body    []byte
	remote  net.Addr
	backend Backend
	opts    *Options

	status   int
	header   []HeaderField
	out      []byte
	upgraded bool
	answered bool
	up       Upgrader
}

// NewContext returns the Context for req (with its body) received from
// remote. It is meant for engine implementations. A WebSocket handshake is
// validated and negotiated here (Sec-WebSocket-Accept, the subprotocol and
// permessage-deflate), on the caller's goroutine: the
// engine's event loop, whose stack is already large. The handler's
// goroutine then only applies the origin check and hands the response to
// the Backend in Upgrader.Upgrade, so a session parked in Receive keeps the
// smallest stack Go gives a goroutine.
func NewContext(req *Request, body []byte, remote net.Addr, b Backend, o *Options) *Context {
	c := &Context{req: req, body: body, remote: remote, backend: b, opts: o}
	if IsUpgradeRequest(req) {
		key, err := checkHandshake(req)
		if err != nil {
			c.hsErr = err
		} else {
			a := negotiate(req, key, o)
			c.acc = &a
		}
	}
	return c
}

// Request returns the parsed request. It stays valid until the handler
// returns.
func (c *Context) Request() *Request { return c.req }

// Method returns the request method.
func (c *Context) Method() string { return c.req.Method }

// Path returns the request path, not unescaped.
func (c *Context) Path() string { return c.req.Path }

// Query parses the query string. Malformed pairs are skipped.
func (c *Context) Query() url.Values {
	v, _ := url.ParseQuery(c.req.RawQuery)
	return v
}

// Header returns the first value of the request header name
// (case-insensitive), or "".
func (c *Context) Header(name string) string { return c.req.Header.Get(name) }

// Body returns the request body (Content-Length bytes). It is valid until
// the handler returns.
func (c *Context) Body() []byte { return c.body }

// RemoteAddr returns the client's address.
func (c *Context) RemoteAddr() net.Addr { return c.remote }

// SetStatusCode sets the response status for a request that is not
// upgraded. The default is 200.
func (c *Context) SetStatusCode(status int) { c.status = status }

// StatusCode returns the response status set so far (200 when unset).
func (c *Context) StatusCode() int {
	if c.status == 0 {
		return http.StatusOK
	}
	return c.status
}

// SetHeader sets a response header, replacing earlier values of name.
// Content-Length and Connection are managed by the engine and ignored.
func (c *Context) SetHeader(name, value string) {
	if equalFold(name, "Content-Length") || equalFold(name, "Connection") {
		return
	}
	for i := range c.header {
		if equalFold(c.header[i].Name, name) {
			c.header[i].Value = value
			return
		}
	}
	c.header = append(c.header, HeaderField{Name: name, Value: value})
}

// Write appends p to the response body. It never fails.
func (c *Context) Write(p []byte) (int, error) {
	c.out = append(c.out, p...)
	return len(p), nil
}

// WriteString appends s to the response body. It never fails.
func (c *Context) WriteString(s string) (int, error) {
	c.out = append(c.out, s...)
	return len(s), nil
}

// Upgraded reports whether the request was upgraded to a WebSocket.
func (c *Context) Upgraded() bool { return c.upgraded }

// AppendResponse appends the HTTP response the handler built to dst. It is
// meant for engine implementations, after the handler returned without
// upgrading.
func (c *Context) AppendResponse(dst []byte, keepAlive bool) []byte {
	return AppendResponse(dst, c.StatusCode(), c.header, c.out, keepAlive, c.req.Method == http.MethodHead)
}

// Upgrader returns the request's Upgrader when the request asks to switch to
// WebSocket (an Upgrade header naming websocket), and nil otherwise. The
// handshake itself (method, version, key, origin) is checked by
// Upgrader.Upgrade, which answers a bad one with the right status.
func (c *Context) Upgrader() *Upgrader {
	if !IsUpgradeRequest(c.req) {
		return nil
	}
	c.up.ctx = c
	return &c.up
}

// Upgrader completes a WebSocket handshake. It belongs to the handler's
// goroutine, like its Context.
type Upgrader struct {
	ctx *Context
}

// Protocols returns the subprotocols the client offered, in its order.
func (u *Upgrader) Protocols() []string {
	var p []string
	u.ctx.req.Header.Tokens("Sec-WebSocket-Protocol", func(t string) bool {
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
	c := u.ctx
	if c.upgraded || c.answered {
		return nil, ErrResponded
	}
	err := c.hsErr
	switch {
	case err == nil && c.acc == nil:
		err = ErrMissingUpgrade
	case err == nil && !c.opts.checkOrigin(c.req):
		err = ErrOriginRejected
	}
	if err != nil {
		var se *StatusError
		if errors.As(err, &se) {
			c.reject(se)
		}
		return nil, err
	}
	ws, err := c.backend.Upgrade(c.acc)
	if err != nil {
		return nil, err
	}
	c.upgraded = true
	c.acc = nil // not needed any more; an idle session should not hold it
	return ws, nil
}

// reject turns the response into se's status, headers and reason.
func (c *Context) reject(se *StatusError) {
	c.answered = true
	c.status = se.Status
	c.header = append(c.header[:0], se.Header...)
	c.out = append(c.out[:0], se.Reason...)
}

// HandlerFunc handles one request.
type HandlerFunc func(*Context)
