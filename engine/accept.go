package engine

import (
	"errors"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/volley-ws/volley/internal/ascii"
	"github.com/volley-ws/volley/internal/handshake"
	"github.com/volley-ws/volley/internal/logattr"
	"github.com/volley-ws/volley/upgrade"
)

// HandshakeHandler is implemented by an EventHandler that decides its own
// handshakes. OnHandshake runs on the event loop (on ServeHTTP's goroutine
// for a handshake that comes through the net/http bridge) for each valid
// opening handshake of the route (after the RFC 6455 checks and the origin
// check) before the 101 response is written. Returning nil accepts the handshake;
// returning a *upgrade.StatusError refuses it with that status, its Header
// fields and its Reason as the body (401 with WWW-Authenticate, 429 with
// Retry-After, ...); any other error refuses it with 403 Forbidden. A
// refused connection is closed after the response. Like every callback it
// must not block; a panic refuses the handshake with 500.
type HandshakeHandler interface {
	OnHandshake(h *Handshake) error
}

// Handshake is an opening handshake an event route is deciding, given to
// HandshakeHandler.OnHandshake. It and its Request are valid only during
// the call.
type Handshake struct {
	c      *connection
	req    *upgrade.Request
	acc    *handshake.Accepted
	header []upgrade.HeaderField
	remote net.Addr // the client's, for a handshake through ServeHTTP
}

// Request returns the handshake request: its path, query and headers. It is
// parsed in place in the loop's input buffer and valid only during
// OnHandshake; Clone it to keep it (or pass what the connection needs on
// with SetUserData).
func (h *Handshake) Request() *upgrade.Request { return h.req }

// RemoteAddr returns the client's address.
func (h *Handshake) RemoteAddr() net.Addr {
	if h.remote != nil {
		return h.remote
	}
	return h.c.gc.RemoteAddr()
}

// Protocols returns the subprotocols the client offered, in its order.
func (h *Handshake) Protocols() []string {
	var p []string
	h.req.Header.Tokens("Sec-WebSocket-Protocol", func(t string) bool {
		p = append(p, t)
		return true
	})
	return p
}

// Protocol returns the subprotocol the response will select: the first of
// Config.Upgrade.Subprotocols the client offered, unless SetProtocol chose
// another; "" for none.
func (h *Handshake) Protocol() string { return h.acc.Protocol }

// ErrProtocolNotOffered is returned by Handshake.SetProtocol for a
// subprotocol that the client did not offer or that
// Config.Upgrade.Subprotocols does not list.
var ErrProtocolNotOffered = errors.New("engine: subprotocol not offered by the client or not configured")

// SetProtocol selects p as the connection's subprotocol, or none when p is
// "". p must be one the client offered and one Config.Upgrade.Subprotocols
// lists.
func (h *Handshake) SetProtocol(p string) error {
	if p == "" {
		h.acc.Protocol = ""
		return nil
	}
	if !slices.Contains(h.c.srv.cfg.Upgrade.Subprotocols, p) || !slices.Contains(h.Protocols(), p) {
		return ErrProtocolNotOffered
	}
	h.acc.Protocol = p
	return nil
}

// SetHeader adds a header field to the 101 response (Set-Cookie, a session
// id, ...). Control characters in name and value are written as spaces.
// The WebSocket fields (Upgrade, Connection, Sec-WebSocket-*) are the
// server's and are ignored.
func (h *Handshake) SetHeader(name, value string) {
	for _, reserved := range []string{"Upgrade", "Connection", "Sec-WebSocket-Accept", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions", "Content-Length"} {
		if ascii.EqualFold(name, reserved) {
			return
		}
	}
	h.header = append(h.header, upgrade.HeaderField{Name: name, Value: value})
}

// SetUserData attaches v to the connection, as Conn.SetUserData does:
// OnOpen and the later callbacks see it with Conn.UserData.
func (h *Handshake) SetUserData(v any) { h.c.user = v }

// acceptEvents completes a handshake for an event route on the loop. req
// refers to the loop's input buffer: the checks, the handshake hook and
// OnOpen see it there, and Conn.Request clones it only if OnOpen asks for
// it. handler is 1 + the index of the route's EventHandler in
// srv.eventHandlers. Loop only.
func (c *connection) acceptEvents(req *upgrade.Request, handler int) {
	s := c.srv
	start := s.accessStart()
	if !handshake.IsUpgradeRequest(req) {
		hdr := []upgrade.HeaderField{{Name: "Upgrade", Value: "websocket"}, {Name: "Sec-WebSocket-Version", Value: "13"}}
		c.refuseHandshake(req, &upgrade.StatusError{Status: http.StatusUpgradeRequired, Reason: "websocket endpoint", Header: hdr}, start)
		return
	}
	a, err := handshake.Negotiate(req, &s.cfg.Upgrade)
	if err == nil && s.busy() {
		err = upgrade.ErrServiceUnavailable
	}
	if err != nil {
		c.refuseHandshake(req, err, start)
		return
	}
	h := s.eventHandlers[handler-1]
	var extra []upgrade.HeaderField
	if hh, ok := h.(HandshakeHandler); ok {
		hs := &Handshake{c: c, req: req, acc: &a}
		if err := c.decide(hh, hs); err != nil {
			c.user = nil
			c.refuseHandshake(req, err, start)
			return
		}
		extra = hs.header
	}
	c.openEvents(&a, extra, handler, req, start)
}

// openEvents opens an accepted event connection: it queues the 101
// response (with the extra header fields), switches to WebSocket framing
// and calls OnOpen, with req as Conn.Request. Loop only.
func (c *connection) openEvents(a *handshake.Accepted, extra []upgrade.HeaderField, handler int, req *upgrade.Request, start time.Time) {
	s := c.srv
	c.queueAccepted(a, extra)
	c.setCompression(a)
	c.handler = uint16(handler)
	if a.Protocol != "" {
		c.protocol = uint8(1 + slices.Index(s.cfg.Upgrade.Subprotocols, a.Protocol))
	}
	c.startWS(s.coarseNow())
	if s.logsHandshakes() {
		s.handshakeAnswered(c, req.Path, logattr.APIEvent, http.StatusSwitchingProtocols, "", start)
	}
	e := c.events()
	h := s.eventHandlers[handler-1]
	s.opening.add(c, req)
	e.call(func() { h.OnOpen(e) })
	s.opening.remove(c)
}

// decide runs OnHandshake, turning a panic into a 500 refusal.
func (c *connection) decide(hh HandshakeHandler, hs *Handshake) (err error) {
	defer func() {
		if v := recover(); v != nil {
			c.srv.logRequestPanic(v, hs.RemoteAddr(), hs.req.Path, true)
			err = &upgrade.StatusError{Status: http.StatusInternalServerError, Reason: "internal server error"}
		}
	}()
	err = hh.OnHandshake(hs)
	if err != nil {
		var se *upgrade.StatusError
		if !errors.As(err, &se) {
			err = &upgrade.StatusError{Status: http.StatusForbidden, Reason: "forbidden"}
		}
	}
	return err
}
