// Package upgrade parses HTTP/1.1 requests, validates WebSocket opening
// handshakes (RFC 6455 section 4) and gives handlers the request [Context]
// through which they answer plain HTTP requests or upgrade to a WebSocket:
//
//	func echo(ctx *upgrade.Context) {
//		up := ctx.Upgrader() // nil unless the request asks for a WebSocket
//		if up == nil {
//			ctx.SetStatusCode(http.StatusBadRequest)
//			return
//		}
//		ws, err := up.Upgrade() // answers 400/403/405/426 itself on a bad handshake
//		if err != nil {
//			return
//		}
//		...
//	}
//
// The parsing functions are pure (bytes in, values out) and are used by the
// engine package on its event loops. [ParseRequestNoCopy] parses a request
// in place, its strings referring to the input, and [Negotiate] answers a
// handshake without allocating; [Request.Clone] copies a request that must
// outlive its input.
package upgrade
