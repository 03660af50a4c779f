package upgrade

import (
	"errors"
	"net"
	"net/http"
	"net/url"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/internal/ascii"
	"github.com/volley-ws/volley/internal/hctx"
)

// HandlerFunc handles one request, on a goroutine of its own.
type HandlerFunc func(*Context)

// Context is one HTTP request being handled: the request, and the response
// the handler builds for it. A handler that upgrades gets a WebSocket and
// the response fields are ignored; otherwise, when the handler returns, the
// engine sends the status (200 unless set), the headers and what was
// written, with Content-Length.
//
// A Context belongs to the handler's goroutine and is not safe for
// concurrent use. It must not be used after the handler returns.
//
// The engine keeps one private copy of the request head and body. The
// parsed Request is built from that copy the first time it is asked for
// (Request, Method, Path, Query, Header, Upgrader.Protocols), and the
// response fields are allocated the first time one is set, so a session
// that only upgrades holds the copy and a small struct while it lives.
type Context hctx.Context[Request, HeaderField]

// core returns the Context as its hctx type.
func (c *Context) core() *hctx.Context[Request, HeaderField] {
	return (*hctx.Context[Request, HeaderField])(c)
}

// Request returns the parsed request. It stays valid until the handler
// returns.
func (c *Context) Request() *Request { return c.core().Source().Request() }

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
func (c *Context) Body() []byte { return c.core().Source().Body() }

// RemoteAddr returns the client's address.
func (c *Context) RemoteAddr() net.Addr { return c.core().Source().RemoteAddr() }

// SetStatusCode sets the response status for a request that is not
// upgraded. The default is 200.
func (c *Context) SetStatusCode(status int) { c.core().MakeResponse().Status = status }

// StatusCode returns the response status set so far (200 when unset).
func (c *Context) StatusCode() int {
	if r := c.core().Response(); r != nil && r.Status != 0 {
		return r.Status
	}
	return http.StatusOK
}

// SetHeader sets a response header, replacing earlier values of name.
// Content-Length and Connection are managed by the engine and ignored.
func (c *Context) SetHeader(name, value string) {
	if ascii.EqualFold(name, "Content-Length") || ascii.EqualFold(name, "Connection") {
		return
	}
	r := c.core().MakeResponse()
	for i := range r.Header {
		if ascii.EqualFold(r.Header[i].Name, name) {
			r.Header[i].Value = value
			return
		}
	}
	r.Header = append(r.Header, HeaderField{Name: name, Value: value})
}

// Write appends p to the response body. It never fails.
func (c *Context) Write(p []byte) (int, error) {
	r := c.core().MakeResponse()
	r.Body = append(r.Body, p...)
	return len(p), nil
}

// WriteString appends s to the response body. It never fails.
func (c *Context) WriteString(s string) (int, error) {
	r := c.core().MakeResponse()
	r.Body = append(r.Body, s...)
	return len(s), nil
}

// Upgraded reports whether the request was upgraded to a WebSocket.
func (c *Context) Upgraded() bool { return c.core().Flags()&hctx.Upgraded != 0 }

// Upgrader returns the request's Upgrader when the request asks to switch to
// WebSocket (an Upgrade header naming websocket), and nil otherwise. The
// handshake itself (method, version, key, origin) is checked by
// Upgrader.Upgrade, which answers a bad one with the right status.
func (c *Context) Upgrader() *Upgrader {
	if !c.core().Source().IsUpgrade() {
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
// for another version, 403 when the origin check fails, 503 when the server
// is over its memory budget. The error is then a *StatusError (one of this
// package's sentinels, usable with errors.Is) saying why, and the engine
// closes the TCP connection after the response. Calling Upgrade twice
// returns ErrResponded.
func (u *Upgrader) Upgrade() (conn.WebSocket, error) {
	c := (*Context)(u).core()
	if c.Flags()&(hctx.Upgraded|hctx.Refused) != 0 {
		return nil, ErrResponded
	}
	ws, err := c.Source().Upgrade()
	if err != nil {
		return nil, u.refused(err)
	}
	c.Mark(hctx.Upgraded)
	return ws, nil
}

// refused records the response to a refused handshake and returns err.
// Out of Upgrade, so that the frame a blocking session's goroutine runs
// its deepest calls under stays small (see the engine's request.Upgrade).
//
//go:noinline
func (u *Upgrader) refused(err error) error {
	var se *StatusError
	if !errors.As(err, &se) {
		se = ErrMalformedRequest
	}
	c := (*Context)(u).core()
	c.Mark(hctx.Refused)
	r := c.MakeResponse()
	r.Status = se.Status
	r.Header = append(r.Header[:0], se.Header...)
	r.Body = append(r.Body[:0], se.Reason...)
	return err
}
