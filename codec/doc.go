// Package codec encodes and validates WebSocket frames (RFC 6455) for a
// server endpoint.
//
// The package is pure: it turns bytes into values and values into bytes. It
// performs no I/O, starts no goroutines, keeps no global mutable state and
// does not allocate on its hot paths (header parsing and encoding, masking,
// UTF-8 validation, close payload parsing).
//
// Frame headers use the types of github.com/gobwas/ws. In particular the RSV
// bits of a ws.Header use the gobwas representation: RSV1 is 0x4, RSV2 is 0x2
// and RSV3 is 0x1, as built by ws.Rsv(r1, r2, r3).
//
// A typical read path is:
//
//  1. ParseHeader on the bytes received so far; n == 0 with a nil error means
//     more bytes are needed.
//  2. CheckHeader with the RSV bits negotiated by extensions and whether a
//     fragmented message is in progress.
//  3. Mask (to unmask) the payload as it arrives, with a running offset.
//  4. A Validator over the payload of text messages, and ParseClosePayload
//     for close frames.
//
// ParseWireHeader and WireHeader.Check are steps 1 and 2 without the
// ws.Header, whose [4]byte key makes every return and call copy it through
// memory: a WireHeader stays in registers. The engine reads frames with
// them. On the write side, AppendFrame appends a whole server frame,
// header then payload, growing the buffer at most once.
//
// Protocol violations are reported as *Error values, which carry the close
// code the endpoint must send before closing the connection. The exported
// Err* variables are the only *Error values the package returns, so they can
// be compared with == or errors.Is.
//
// No function retains the slices it is given. Where a returned slice aliases
// an argument, its documentation says so.
package codec
