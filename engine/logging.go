package engine

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"runtime/debug"

	"github.com/volley-ws/volley/conn"
	"github.com/volley-ws/volley/internal/logattr"
)

// The server's log records (Config.Logger documents them for users). Code
// on an event loop asks logs(level) before it builds a record's
// attributes, so that a disabled level costs one call to the handler's
// Enabled and allocates nothing; the messages and connection events that
// happen per message log nothing.

// logs reports whether the server's logger takes records at level. Any
// goroutine.
func (s *Server) logs(level slog.Level) bool {
	return s.cfg.Logger.Enabled(context.Background(), level)
}

// log writes a record to the server's logger. Callers on a loop check
// logs(level) first. Any goroutine.
func (s *Server) log(level slog.Level, msg string, attrs ...slog.Attr) {
	s.cfg.Logger.LogAttrs(context.Background(), level, msg, attrs...)
}

// connAttrs returns the attributes naming c, then more: its peer, and its
// route and API once it is a WebSocket. Any goroutine; out.mu must not be
// held.
func (c *connection) connAttrs(more ...slog.Attr) []slog.Attr {
	attrs := make([]slog.Attr, 0, 3+len(more))
	attrs = append(attrs, logattr.Remote(c.gc.RemoteAddr()))
	// c.handler is set before the connection becomes a WebSocket and not
	// changed after: the loop sets it before it starts the handler (or
	// calls OnOpen), and the session's goroutine starts after that.
	if event := c.isEvent(); event || c.upgraded() {
		attrs = append(attrs, logattr.Route(c.srv.routePaths[c.routeOf()]), logattr.API(event))
	}
	return append(attrs, more...)
}

// upgraded reports whether a blocking handler upgraded c. Any goroutine;
// out.mu must not be held.
func (c *connection) upgraded() bool {
	o := &c.out
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.flags.has(hasSession)
}

// logPanic logs, at Error with its stack, a panic recovered from
// application code run for c: an event handler's callback, a handshake
// hook (route names the route, c not having one yet) or OnSlowSubscriber.
// It must be called from the deferred function that recovered v, for the
// stack to show where it happened. Any goroutine.
func (s *Server) logPanic(v any, c *connection, route string) {
	if !s.logs(slog.LevelError) {
		return
	}
	var attrs []slog.Attr
	if route != "" {
		attrs = []slog.Attr{logattr.Remote(c.gc.RemoteAddr()), logattr.Route(route), logattr.API(true)}
	} else {
		attrs = c.connAttrs()
	}
	attrs = append(attrs, logattr.Panic(v), logattr.Stack(debug.Stack()))
	s.log(slog.LevelError, "volley: handler panic recovered", attrs...)
}

// logRequestPanic logs, at Error with its stack, a panic recovered while
// answering a request from remote for route, before its connection is a
// WebSocket: an event route's OnHandshake (event; on the loop, or on
// ServeHTTP's goroutine for the bridge) or a blocking handler (from
// endHandler or endBridged). It must be called from the deferred function
// that recovered v. Any goroutine.
func (s *Server) logRequestPanic(v any, remote net.Addr, route string, event bool) {
	if !s.logs(slog.LevelError) {
		return
	}
	s.log(slog.LevelError, "volley: handler panic recovered",
		logattr.Remote(remote), logattr.Route(route), logattr.API(event),
		logattr.Panic(v), logattr.Stack(debug.Stack()))
}

// logFailure logs the failure of a WebSocket because of what its peer
// sent (1002, 1007, 1009: at Debug, the peer's doing) or because a
// blocking handler fell MaxUnreadBytes behind (1008: at Warn, the
// application's). Loop only.
func (c *connection) logFailure(err *conn.CloseError) {
	level := slog.LevelDebug
	if err == errUnreadLimit {
		level = slog.LevelWarn
	}
	if s := c.srv; s.logs(level) {
		s.log(level, "volley: connection failed", c.connAttrs(logattr.Code(err.Code), logattr.Reason(err.Reason))...)
	}
}

// logAbort logs a connection the server aborts (its TCP connection reset
// without a closing handshake): at Warn for the memory budget, at Debug
// for a peer that does not read or answer; the application's own Abort is
// not logged. Any goroutine.
func (c *connection) logAbort(err error) {
	level := slog.LevelDebug
	switch {
	case errors.Is(err, conn.ErrAborted):
		return
	case err == errOverBudget:
		level = slog.LevelWarn
	}
	if s := c.srv; s.logs(level) {
		s.log(level, "volley: connection aborted", c.connAttrs(logattr.Err(err))...)
	}
}

// logClose logs a WebSocket the server closes by itself with err's code,
// with more attributes: at Warn for the memory budget (1013), Info for a
// slow subscriber (1008), Debug for the idle timeout (1001). Any
// goroutine; out.mu must not be held.
func (c *connection) logClose(level slog.Level, err *conn.CloseError, more ...slog.Attr) {
	if s := c.srv; s.logs(level) {
		s.log(level, "volley: connection closed", c.connAttrs(append([]slog.Attr{logattr.Code(err.Code), logattr.Reason(err.Reason)}, more...)...)...)
	}
}

// logStall logs, at Debug, a connection stalled because its peer leaves
// MaxUnsentBytes unread: its input waits, and it is aborted after
// WriteTimeout unless the peer reads. Loop only.
func (c *connection) logStall() {
	if s := c.srv; s.logs(slog.LevelDebug) {
		s.log(slog.LevelDebug, "volley: connection stalled", c.connAttrs()...)
	}
}

// logSkip logs a message skipped for a slow subscriber (SlowSkip), at
// Debug. Loop only.
func (c *connection) logSkip(topic string) {
	if s := c.srv; s.logs(slog.LevelDebug) {
		s.log(slog.LevelDebug, "volley: slow subscriber skipped a message", c.connAttrs(logattr.Topic(topic))...)
	}
}

// logBudget logs the server going over its memory budget (at Warn: new
// handshakes get 503, the largest holders are stalled and then closed) or
// back under 90% of it (at Info). Ticker only.
func (s *Server) logBudget(over bool, used int64) {
	level, msg := slog.LevelInfo, "volley: back under the memory budget"
	if over {
		level, msg = slog.LevelWarn, "volley: over the memory budget"
	}
	if s.logs(level) {
		s.log(level, msg, slog.Int64(logattr.KeyBuffered, used), slog.Int64(logattr.KeyBudget, s.budget.max))
	}
}

// logRequestTimeout logs, at Debug, a request that did not arrive whole
// within HandshakeTimeout (answered 408). Loop only.
func (c *connection) logRequestTimeout() {
	if s := c.srv; s.logs(slog.LevelDebug) {
		s.log(slog.LevelDebug, "volley: request timed out", logattr.Remote(c.gc.RemoteAddr()), logattr.Status(408))
	}
}
