package engine

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/volley-ws/volley/internal/handshake"
	"github.com/volley-ws/volley/internal/hctx"
	"github.com/volley-ws/volley/internal/logattr"
	"github.com/volley-ws/volley/upgrade"
)

// The records of handshakes. Every answer other than 101 to a WebSocket
// handshake is a refusal, logged at Debug on Config.Logger; with
// Config.AccessLog, every answer is also an Info record there. A
// handshake is a request for an event route (whatever it asks for) or a
// request with Upgrade: websocket (for a blocking route or no route).
//
// An event route's handshake is answered on the loop, at once. A blocking
// route's is answered by its handler: the loop notes the route and the
// time in a side table (only while the access log is on), and the record
// is written when the 101 reaches the loop or when the handler's response
// does. The handler's goroutine never writes a 101's record itself: its
// stack stays as small as a session parked in Receive needs.

// accessEntry is a blocking route's handshake waiting for its answer.
type accessEntry struct {
	route string
	start time.Time
}

// logsHandshakes reports whether handshake answers are logged at all. Any
// goroutine.
func (s *Server) logsHandshakes() bool {
	return s.cfg.AccessLog != nil || s.logs(slog.LevelDebug)
}

// accessStart returns the time a handshake's answer is measured from: now
// with the access log on, the zero time (nothing measured) without.
func (s *Server) accessStart() time.Time {
	if s.cfg.AccessLog == nil {
		return time.Time{}
	}
	return time.Now()
}

// handshakeAnswered logs the answer to a handshake of c (see
// logHandshake). Any goroutine.
func (s *Server) handshakeAnswered(c *connection, route, api string, status int, reason string, start time.Time) {
	s.logHandshake(c.gc.RemoteAddr(), route, api, status, reason, start, c)
}

// logHandshake logs the answer to a handshake from remote for route: a
// refusal at Debug, and any answer in the access log. api is
// logattr.APIBlocking, logattr.APIEvent or "" for no route; reason is a
// refusal's; start is when the request arrived (see accessStart); c is the
// WebSocket of a 101, for its subprotocol and compression. Any goroutine.
func (s *Server) logHandshake(remote net.Addr, route, api string, status int, reason string, start time.Time, c *connection) {
	if status != http.StatusSwitchingProtocols && s.logs(slog.LevelDebug) {
		attrs := []slog.Attr{logattr.Remote(remote), logattr.Route(route)}
		if api != "" {
			attrs = append(attrs, slog.String(logattr.KeyAPI, api))
		}
		attrs = append(attrs, logattr.Status(status), logattr.Reason(reason))
		s.log(slog.LevelDebug, "volley: handshake refused", attrs...)
	}
	a := s.cfg.AccessLog
	if a == nil {
		return
	}
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs, logattr.Remote(remote), logattr.Route(route))
	if api != "" {
		attrs = append(attrs, slog.String(logattr.KeyAPI, api))
	}
	attrs = append(attrs, logattr.Status(status))
	if status == http.StatusSwitchingProtocols {
		attrs = append(attrs, slog.String(logattr.KeySubprotocol, c.subprotocol()), slog.Bool(logattr.KeyCompression, c.z != nil))
	} else {
		attrs = append(attrs, logattr.Reason(reason))
	}
	var d time.Duration
	if !start.IsZero() {
		d = time.Since(start)
	}
	attrs = append(attrs, logattr.Duration(d))
	a.LogAttrs(context.Background(), slog.LevelInfo, "volley: handshake", attrs...)
}

// statusOf returns the status error a refusal with err answers (see
// refuse).
func statusOf(err error) *upgrade.StatusError {
	var se *upgrade.StatusError
	if !errors.As(err, &se) {
		se = upgrade.ErrMalformedRequest
	}
	return se
}

// refuseHandshake refuses a handshake for an event route with err (see
// refuse) and logs it. start is accessStart's. Loop only.
func (c *connection) refuseHandshake(req *upgrade.Request, err error, start time.Time) {
	c.refuse(err)
	if s := c.srv; s.logsHandshakes() {
		se := statusOf(err)
		s.handshakeAnswered(c, req.Path, logattr.APIEvent, se.Status, se.Reason, start)
	}
}

// refuseRequest refuses a request that cannot be served (malformed, too
// large) with err (see refuse) and logs it at Debug. Loop only.
func (c *connection) refuseRequest(err error) {
	c.refuse(err)
	if s := c.srv; s.logs(slog.LevelDebug) {
		se := statusOf(err)
		s.log(slog.LevelDebug, "volley: request refused",
			logattr.Remote(c.gc.RemoteAddr()), logattr.Status(se.Status), logattr.Reason(se.Reason))
	}
}

// logNotFound logs the 404 answered to req when it is a handshake: a path
// with no route. Loop only.
func (c *connection) logNotFound(req *upgrade.Request) {
	if s := c.srv; s.logsHandshakes() && handshake.IsUpgradeRequest(req) {
		s.handshakeAnswered(c, req.Path, "", http.StatusNotFound, "not found", s.accessStart())
	}
}

// accessBegin notes, for the access log, the handshake r for path that
// a blocking handler is about to answer; start is accessStart's. The loop,
// or ServeHTTP's goroutine for the bridge.
func (c *connection) accessBegin(r *request, path string, start time.Time) {
	if s := c.srv; s.cfg.AccessLog != nil && r.IsUpgrade() {
		s.access.set(c, accessEntry{route: strings.Clone(path), start: start})
	}
}

// logUpgraded writes the access record of a blocking handshake answered
// 101, unless it was written already. The loop calls it when the 101
// reaches it; endHandler, in case the connection ended first. Any
// goroutine.
func (c *connection) logUpgraded() {
	s := c.srv
	if s.cfg.AccessLog == nil {
		return
	}
	if e, ok := s.access.take(c); ok {
		s.handshakeAnswered(c, e.route, logattr.APIBlocking, http.StatusSwitchingProtocols, "", e.start)
	}
}

// logHandlerAnswer logs the response of a blocking handler that did not
// upgrade a handshake from remote: status, with the reason when the
// engine refused it or the handler panicked. Handler goroutine, from
// endHandler or endBridged.
func (c *connection) logHandlerAnswer(r *request, remote net.Addr, status int, panicked bool) {
	s := c.srv
	if !r.IsUpgrade() || !s.logsHandshakes() {
		return
	}
	reason := ""
	switch p := r.ctx.Response(); {
	case panicked:
		reason = "internal server error"
	case r.ctx.Flags()&hctx.Refused != 0 && p != nil:
		reason = string(p.Body) // the StatusError's Reason (upgrade.Upgrader.Upgrade)
	}
	route, start := "", time.Time{}
	if e, ok := s.access.take(c); ok {
		route, start = e.route, e.start
	} else {
		route = r.Request().Path
	}
	s.logHandshake(remote, route, logattr.APIBlocking, status, reason, start, nil)
}
