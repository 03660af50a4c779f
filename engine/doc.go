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
// it to its subscribers' output and writes each of them once per batch,
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
package engine
