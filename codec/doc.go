// Package codec encodes and validates WebSocket frames (RFC 6455) and
// permessage-deflate messages (RFC 7692), for either end of a connection:
// enough to build a server, a client or a proxy on.
//
// The package is pure: it turns bytes into values and values into bytes.
// It performs no I/O, starts no goroutines, keeps no global mutable state
// and does not allocate on its hot paths (header parsing and encoding,
// masking, UTF-8 validation, close payload parsing).
//
// A typical read path is:
//
//  1. ParseHeader on the bytes received so far; n == 0 with a nil error
//     means more bytes are needed.
//  2. CheckHeader with who sent the frame (FromClient on a server), the RSV
//     bits negotiated by extensions and whether a fragmented message is in
//     progress.
//  3. Mask (to unmask) the payload as it arrives, with a running offset.
//  4. A Validator over the payload of text messages, and
//     ParseClosePayload for close frames.
//
// ParseWireHeader and WireHeader.Check are steps 1 and 2 without the
// Header, whose [4]byte key makes every return and call copy it through
// memory: a WireHeader stays in registers. On the write side, AppendFrame
// appends a whole server frame and AppendMaskedFrame a client's, header
// then payload, growing the buffer at most once.
//
// Protocol violations are reported as *conn.CloseError values carrying the
// close code the endpoint must send before closing the connection. The
// exported Err* variables are the only errors the package returns, so they
// can be compared with == or errors.Is.
//
// No function retains the slices it is given. Where a returned slice
// aliases an argument, its documentation says so.
package codec
