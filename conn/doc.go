// Package conn is the blocking, message-oriented WebSocket API of volley,
// modeled on .NET's System.Net.WebSockets and TMS Sparkle: a [WebSocket]
// with Send/Receive for whole messages, SendFrame/ReceiveFrame for manual
// fragments, a [State] that follows .NET's WebSocketState, and the
// [StatusCode] values of RFC 6455 and the IANA registry.
//
// A WebSocket is obtained from upgrade.Upgrader.Upgrade inside a handler
// run by the engine package. The engine's event loops parse and validate
// every frame; the WebSocket only sees whole, valid frames, so the protocol
// rules (UTF-8, close codes, control frames, sizes) are enforced before a
// message reaches Receive.
//
// Concurrency: Send, SendText, SendBinary, SendFrame, Close, SendClose,
// Abort, State, CloseStatus and CloseStatusDescription may be called from
// any number of goroutines at once. Receive and ReceiveFrame belong to one
// goroutine at a time.
package conn
