// Package hctx is what an upgrade.Context is made of. upgrade declares
// Context as a Context[upgrade.Request, upgrade.HeaderField] of this
// package, so the engine can make one for each request it hands to a
// handler (Init, then a conversion to *upgrade.Context) without upgrade
// exporting a constructor, and upgrade's methods reach the request and the
// connection through the engine's Source.
package hctx

import (
	"net"

	"github.com/volley-ws/volley/conn"
)

// Source is the engine's side of a request: the request itself, the
// connection it arrived on, and the WebSocket handshake. Its methods are
// called on the handler's goroutine.
type Source[R any] interface {
	// Request returns the parsed request, which owns its memory.
	Request() *R
	// Body returns the request body (Content-Length bytes), valid until
	// the handler returns.
	Body() []byte
	// RemoteAddr returns the client's address.
	RemoteAddr() net.Addr
	// IsUpgrade reports whether the request asks for a WebSocket.
	IsUpgrade() bool
	// IsHead reports whether the request method is HEAD.
	IsHead() bool
	// Upgrade answers the handshake with 101 Switching Protocols and
	// returns the open WebSocket, or the *upgrade.StatusError the
	// handshake must be refused with, having sent nothing.
	Upgrade() (conn.WebSocket, error)
}

// Response is the response a handler builds for a request it does not
// upgrade.
type Response[F any] struct {
	Status int // 0 means 200
	Header []F
	Body   []byte
}

// Flags record what happened to a request.
type Flags uint8

const (
	Upgraded Flags = 1 << iota // the handshake succeeded
	Refused                    // the handshake was refused with an error status
)

// Context is one request being handled: its Source and the response the
// handler builds. It belongs to the handler's goroutine.
type Context[R, F any] struct {
	src   Source[R]
	resp  *Response[F]
	flags Flags
}

// Init makes c the Context of src's request. The engine embeds a Context
// in its own per-request state, so a request costs one allocation.
func (c *Context[R, F]) Init(src Source[R]) { *c = Context[R, F]{src: src} }

// Source returns the engine's side of the request.
func (c *Context[R, F]) Source() Source[R] { return c.src }

// Response returns the response built so far, or nil when the handler set
// nothing.
func (c *Context[R, F]) Response() *Response[F] { return c.resp }

// MakeResponse returns the response, allocating it on first use.
func (c *Context[R, F]) MakeResponse() *Response[F] {
	if c.resp == nil {
		c.resp = new(Response[F])
	}
	return c.resp
}

// Flags returns what happened to the request.
func (c *Context[R, F]) Flags() Flags { return c.flags }

// Mark records f.
func (c *Context[R, F]) Mark(f Flags) { c.flags |= f }
