// Package upgrade is the HTTP side of volley: the request [Context] a
// handler receives, its [Upgrader] for WebSocket opening handshakes
// (RFC 6455 section 4), the parsed [Request], the handshake [Options]
// (subprotocols, the origin check, permessage-deflate), and the
// [StatusError] values with which requests and handshakes are refused.
//
//	func echo(ctx *upgrade.Context) {
//		up := ctx.Upgrader() // nil unless the request asks for a WebSocket
//		if up == nil {
//			ctx.SetStatusCode(http.StatusBadRequest)
//			return
//		}
//		ws, err := up.Upgrade() // answers 400/403/405/426/503 itself on a refused handshake
//		if err != nil {
//			return
//		}
//		...
//	}
//
// The engine package parses requests and validates handshakes on its event
// loops, and runs each HandlerFunc on a goroutine of its own.
package upgrade
