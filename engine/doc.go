// Package engine is volley's server: gnet event loops that parse HTTP
// requests and WebSocket frames straight out of gnet's inbound buffers, a
// per-connection state machine that enforces RFC 6455, and two ways to
// handle WebSockets:
//
//   - HandleFunc runs an upgrade.HandlerFunc on its own goroutine per
//     request, with the blocking conn.WebSocket API (Send/Receive).
//   - HandleEvents runs an EventHandler's callbacks on the event loop with
//     zero-copy payloads, for latency-sensitive applications. What they
//     send leaves in one write per loop iteration; Conn.SendNoCopy sends a
//     received payload without copying it (writev from the input buffer).
//
// Plain HTTP requests are served on the same port (keep-alive, exact-path
// routing, 404 for unknown paths), so one server serves a page and its
// WebSocket endpoint.
//
// permessage-deflate (RFC 7692) is negotiated when
// Config.Upgrade.Compression.Enabled is set: both APIs then send and
// receive compressed messages transparently. Compressors come from a pool
// per server; without context takeover (the default) an idle connection
// holds no compression state, with it a connection keeps its compressor
// while messages flow and only its windows once idle.
//
// Every limit has a documented default in Config; a zero Config is a valid
// configuration listening on 127.0.0.1:8080.
package engine
