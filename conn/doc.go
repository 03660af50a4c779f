// Package conn is volley's WebSocket vocabulary and its blocking API,
// modeled on .NET's System.Net.WebSockets and TMS Sparkle: a [WebSocket]
// with Send/Receive for whole messages, SendFrame/ReceiveFrame for manual
// fragments, a [State] that follows .NET's WebSocketState, the [StatusCode]
// values of RFC 6455 and the IANA registry, and the errors both of volley's
// APIs return ([CloseError] for a connection that ended with a close code).
//
// A WebSocket is obtained from upgrade.Upgrader.Upgrade inside a handler
// run by the engine package. The engine's event loops parse and validate
// every frame, join fragments and inflate compressed messages; a WebSocket
// only ever sees whole, valid messages, in the order the peer sent them.
//
// Concurrency: Send, SendText, SendBinary, TrySend, SendFrame, Close,
// SendClose, Abort, State, Unsent, CloseStatus, CloseStatusDescription and
// Done may be called from any number of goroutines at once. Receive,
// ReceiveContext, ReceiveFrame and ReceiveFrameContext belong to one
// goroutine at a time.
//
// When is a WebSocket closed? When the closing handshake completes (both
// sides sent a close frame) or the connection fails (a protocol violation,
// a timeout, Abort, the TCP connection ending early). From then on State
// is StateClosed or StateAborted and Done's channel is closed, whether or
// not the peer has ended the TCP connection yet: waiting for its FIN is
// the engine's business, bounded by the close timeout.
package conn
