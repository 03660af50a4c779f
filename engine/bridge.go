package engine

import (
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/volley-ws/volley/internal/handshake"
	"github.com/volley-ws/volley/internal/httpwire"
	"github.com/volley-ws/volley/internal/logattr"
	"github.com/volley-ws/volley/upgrade"
)

// The net/http bridge: a Server is an http.Handler (this file), which
// decides a handshake on ServeHTTP's goroutine (bridge_handler.go for the
// blocking API) and hands the hijacked connection to an event loop
// (bridge_enroll.go, bridge_loops.go) with what net/http read past the
// request (bridge_input.go).

// Why ServeHTTP refuses a handshake it cannot hand to an event loop. They
// are answered with their status and Reason as the body, and a blocking
// handler's Upgrade returns them (errors.Is).
var (
	// ErrBridgeTLS refuses a handshake that came over TLS (501): a TLS
	// connection is encrypted by Go's crypto/tls, and an event loop can
	// only take over a socket. Terminate TLS in front of the application
	// (a proxy, a load balancer) instead.
	ErrBridgeTLS = &upgrade.StatusError{Status: http.StatusNotImplemented,
		Reason: "websocket over TLS is not served here: a TLS connection cannot be handed to an event loop"}
	// ErrBridgeConn refuses a handshake whose connection is not a plain
	// TCP connection net/http can hand over (501): HTTP/2, a Unix socket,
	// a net.Conn wrapped by a custom listener, a ResponseWriter that cannot
	// hijack.
	ErrBridgeConn = &upgrade.StatusError{Status: http.StatusNotImplemented,
		Reason: "websocket over this connection is not served here: only a plain TCP connection can be handed to an event loop"}
)

// ServeHTTP serves r with the server's routes, so that an application
// keeps its own net/http server, router and middleware in front of volley:
// mux.Handle("/ws/", srv). Routes match the path as the client sent it
// (r.RequestURI), as on the server's own listener: a prefix a router
// strips is not removed.
//
// A WebSocket handshake is decided here, on ServeHTTP's goroutine, by the
// same rules as on the server's own listener: the RFC 6455 checks, the
// origin check, subprotocols and permessage-deflate of Config.Upgrade,
// then the route's HandshakeHandler (HandleEvents) or its handler, whose
// Upgrader.Upgrade hands the connection over (HandleFunc). A refused
// handshake is answered through w. An accepted one is hijacked and handed
// to one of the server's event loops (gnet's EventLoop.Enroll), which
// writes the 101 response and serves the connection as one the server
// accepted itself: the same routes, limits, topics and Shutdown. What the
// client sent right after its handshake, which net/http may have read
// already, is parsed before anything read from the socket. Header fields
// that middleware set on w are not sent with the 101 (a HandshakeHandler
// adds fields with Handshake.SetHeader).
//
// Requests that are not handshakes: a HandleFunc route's handler serves
// them, and its response is written through w; a HandleEvents route
// answers 426 Upgrade Required; a path without a route, 404.
//
// Over TLS there is no socket to hand over: a handshake that came over
// TLS is answered 501 with ErrBridgeTLS's reason, before anything is
// hijacked. Terminate TLS in front of the application to bridge
// WebSockets. Before Start, and from the moment Shutdown begins, ServeHTTP
// answers 503.
//
// The first handshake to be handed over finds the server's event loops:
// gnet lists none, so the server dials its own listener (on loopback)
// once per loop and notes which loop accepted each probe, within that
// call.
//
// net/http calls ServeHTTP on the request's goroutine; w and r are used
// only until it returns. A HandleFunc route's handler runs on a goroutine
// of its own, as on the server's own listener, which Shutdown waits for:
// ServeHTTP returns once the handler's Upgrade has handed the connection
// to a loop, or once the handler returned and its response was written
// through w. A HandleEvents route's ServeHTTP returns once the loop has
// opened the connection.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := s.accessStart()
	if !s.running() {
		s.refuse(w, r, upgrade.ErrServiceUnavailable, start)
		return
	}
	req, head, err := s.bridgeRequestHead(r, 0)
	if err != nil {
		s.refuse(w, r, err, start)
		return
	}
	rt, ok := s.routes[req.Path]
	switch {
	case !ok:
		s.refuse(w, r, &upgrade.StatusError{Status: http.StatusNotFound, Reason: "not found"}, start)
	case rt.events > 0:
		s.serveEvents(w, r, req, rt.events, start)
	default:
		s.serveHandler(w, r, req, head, rt, start)
	}
}

// serveEvents decides a handshake for the event route whose EventHandler
// is s.eventHandlers[handler-1], as acceptEvents does on the loop, and
// hands the connection over. ServeHTTP's goroutine.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request, req *upgrade.Request, handler int, start time.Time) {
	if !handshake.IsUpgradeRequest(req) {
		hdr := []upgrade.HeaderField{{Name: "Upgrade", Value: "websocket"}, {Name: "Sec-WebSocket-Version", Value: "13"}}
		s.refuse(w, r, &upgrade.StatusError{Status: http.StatusUpgradeRequired, Reason: "websocket endpoint", Header: hdr}, start)
		return
	}
	if r.TLS != nil {
		s.refuse(w, r, ErrBridgeTLS, start)
		return
	}
	a, err := handshake.Negotiate(req, &s.cfg.Upgrade)
	if err == nil && s.busy() {
		err = upgrade.ErrServiceUnavailable
	}
	if err != nil {
		s.refuse(w, r, err, start)
		return
	}
	c := &connection{srv: s}
	b := &bridged{c: c, acc: &a, handler: handler, req: req, start: start}
	if hh, ok := s.eventHandlers[handler-1].(HandshakeHandler); ok {
		hs := &Handshake{c: c, req: req, acc: &a, remote: remoteAddr(r)}
		if err := c.decide(hh, hs); err != nil {
			s.refuse(w, r, err, start)
			return
		}
		b.extra = hs.header
	}
	if hijacked, err := s.handOver(w, r, b); err != nil && !hijacked {
		s.refuse(w, r, err, start)
	}
}

// running reports whether the server has started and is not shutting
// down. Any goroutine.
func (s *Server) running() bool {
	select {
	case <-s.started:
	default:
		return false
	}
	select {
	case <-s.stopped:
		return false
	default:
	}
	return s.addr != nil && !s.shutdown.Load()
}

// bridgeRequestHead rebuilds the head of r as it came on the wire, with a
// Content-Length of body bytes when body > 0, and parses it as the server
// parses its own requests: the same limits, and a Request whose Path and
// RawQuery are the request-target's as sent. ServeHTTP's goroutine.
func (s *Server) bridgeRequestHead(r *http.Request, body int) (*upgrade.Request, []byte, error) {
	target := r.RequestURI
	if target == "" {
		target = r.URL.RequestURI()
	}
	b := make([]byte, 0, 512)
	b = append(b, r.Method...)
	b = append(b, ' ')
	b = append(b, target...)
	b = append(b, ' ')
	b = append(b, r.Proto...)
	b = append(b, "\r\n"...)
	if r.Host != "" {
		b = httpwire.AppendField(b, "Host", r.Host)
	}
	for _, name := range slices.Sorted(maps.Keys(r.Header)) {
		switch name {
		case "Host", "Content-Length", "Transfer-Encoding": // net/http's, or the body's, below
			continue
		}
		for _, v := range r.Header[name] {
			b = httpwire.AppendField(b, name, v)
		}
	}
	if body > 0 {
		b = httpwire.AppendField(b, "Content-Length", strconv.Itoa(body))
	}
	b = append(b, "\r\n"...)
	req := new(upgrade.Request)
	if _, err := httpwire.Parse(req, b, s.cfg.MaxHandshakeBytes); err != nil {
		return nil, nil, err
	}
	return req, b, nil
}

// remoteAddr returns the client's address of r.
func remoteAddr(r *http.Request) net.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return &net.TCPAddr{}
	}
	return net.TCPAddrFromAddrPort(ap)
}

// writeRefusal answers through w with err's status (a
// *upgrade.StatusError; any other error is a 400), its header fields, and
// its Reason as a plain text body.
func writeRefusal(w http.ResponseWriter, err error) {
	var se *upgrade.StatusError
	if !errors.As(err, &se) {
		se = upgrade.ErrMalformedRequest
	}
	h := w.Header()
	for _, f := range se.Header {
		h.Add(f.Name, f.Value)
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(se.Status)
	_, _ = io.WriteString(w, se.Reason)
}

// refuse answers r with err's status through w (writeRefusal). A
// handshake's refusal (a request with Upgrade: websocket, or any request
// for an event route) is counted in Stats.Refused and logged as the
// server's own connections' are; start is accessStart's when ServeHTTP
// began. ServeHTTP's goroutine.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, err error, start time.Time) {
	se := statusOf(err)
	path := r.URL.EscapedPath()
	rt, routed := s.routes[path]
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || rt.events > 0 {
		s.countRefusedOffLoop(se.Status)
		if s.logsHandshakes() {
			api := ""
			switch {
			case rt.events > 0:
				api = logattr.APIEvent
			case routed:
				api = logattr.APIBlocking
			}
			s.logHandshake(remoteAddr(r), path, api, se.Status, se.Reason, start, nil)
		}
	}
	writeRefusal(w, se)
}
