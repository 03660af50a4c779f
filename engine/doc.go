// Package engine is volley's server: gnet event loops that parse HTTP
// requests and WebSocket frames straight out of gnet's inbound buffers, one
// frame reader and one close state machine per connection that enforce
// RFC 6455 and RFC 7692, and two ways to handle WebSockets:
//
//   - HandleFunc runs an upgrade.HandlerFunc on its own goroutine per
//     request, with the blocking conn.WebSocket API (Send/Receive).
//   - HandleEvents runs an EventHandler's callbacks on the event loop with
//     zero-copy payloads, for latency-sensitive applications. What they send
//     leaves in one write per loop iteration; Conn.SendNoCopy sends a
//     received payload without copying it (writev from the input buffer).
//     An EventHandler that also implements HandshakeHandler decides its
//     handshakes: it can refuse them with any status, pick the subprotocol,
//     add response headers and attach per-connection data.
//
// Both APIs get whole messages (fragments joined, compressed messages
// inflated, text checked for UTF-8) in the order the peer sent them. When
// the peer breaks the protocol, every message it sent before is delivered
// first, what the application sends in reply goes out before the close
// frame, and then comes the close code (1002, 1007, 1009, ...) and the end
// of the TCP connection. The WebSocket is closed (OnClose, State, Done)
// when the closing handshake completes or the connection fails; the TCP
// connection's end follows, bounded by the close and write timeouts.
//
// Topics fan messages out: a connection of either API Subscribes to named
// topics, and Server.Publish (or a connection's own Publish, which skips
// the publisher) sends a message to every subscriber. The frame is built
// once per publish and handed to each event loop once; each loop appends
// a reference to it (24 bytes) to its subscribers' output (the frame's
// bytes are shared, not copied) and writes each of them once per batch,
// blocking subscribers included, without waking their goroutines and
// without allocating. A subscriber gets each publisher's messages in
// order, after what was sent to it before; one that does not read fast
// enough is closed or skipped (Config.SlowSubscriber), never slowing the
// publisher. Config.Broker spreads topics over several nodes (the
// github.com/volley-ws/volley/engine/natsbroker module does it over NATS).
//
// Plain HTTP requests are served on the same port (keep-alive, exact-path
// routing, 404 for unknown paths), so one server serves a page and its
// WebSocket endpoint.
//
// A Server is also an http.Handler: an application that lives on net/http
// mounts it on its own router, behind its own middleware, and the
// WebSockets that pass are handed to the event loops and served like the
// server's own (see Server.ServeHTTP; Config.BridgeOnly runs a server with
// no listener of its own). Over TLS the bridge refuses handshakes: a TLS
// connection cannot be handed to an event loop.
//
// Every byte the server holds for a connection is bounded: what is queued
// for the peer (MaxUnsentBytes: past it the connection is stalled, its
// input not parsed, and it is aborted after WriteTimeout if the peer never
// reads), what is received and not yet handled (MaxUnreadBytes), and all
// connections together (MaxBufferedBytes, the server's memory budget: past
// it new handshakes get 503 and the largest holders are closed with 1013).
// Compressed messages inflate on the event loops, one at a time per loop,
// stopping at MaxMessageSize.
//
// Every limit has a documented default in Config; a zero Config is a valid
// configuration listening on 127.0.0.1:8080.
//
// # Logs
//
// The server logs with log/slog to Config.Logger, and, with
// Config.AccessLog, a record per handshake. Every record names what it is
// about with the same keys:
//
//	remote       the peer's address, host:port
//	route        the request path (routes are exact paths)
//	api          "blocking" (HandleFunc) or "event" (HandleEvents)
//	status       the HTTP status answered
//	code         the WebSocket close code
//	reason       a refusal's or a close's reason
//	err          the error
//	topic        the topic
//	panic, stack a recovered panic's value and stack
//
// A WebSocket's records name its route and API, whichever API serves it
// and whether it came through the server's listener or ServeHTTP. The
// levels:
//
//   - Error: a panic recovered from a handler, a callback or a hook
//     ("volley: handler panic recovered"); the server failing to start.
//   - Warn: the server going over its memory budget (buffered, budget)
//     and the connections it closes with 1013 for it; a blocking handler
//     that fell MaxUnreadBytes behind (1008); a broker that failed to
//     unsubscribe.
//   - Info: a slow subscriber closed with 1008; the server back under its
//     memory budget.
//   - Debug: the peers' doing: handshakes refused ("volley: handshake
//     refused", any answer but 101), requests refused or timed out,
//     connections failed for what the peer sent (1002, 1007, 1009),
//     stalled for not reading (MaxUnsentBytes), closed idle (1001) or
//     aborted for not reading or not answering, messages skipped for a
//     slow subscriber.
//
// Nothing is logged per message, and a level that is off costs one call
// to the handler's Enabled: the event loops ask before they build a
// record.
//
// The access log's record, "volley: handshake" at Info, has remote,
// route, api (none for a path with no route), status (101 or the
// refusal's), subprotocol and compression (for a 101) or reason (for a
// refusal), and duration: from the whole request to its answer, which for
// a blocking route is the handler's time until Upgrade. A handshake is any
// request for an event route and any request with Upgrade: websocket;
// those that come through ServeHTTP are logged and counted in
// Stats.Refused as the listener's are (a refusal's remote is the
// request's RemoteAddr, as the application's middleware left it).
package engine
