package codec

import "fmt"

// OpCode is a frame's opcode (RFC 6455 section 5.2), the low four bits of
// its first byte.
type OpCode byte

// The opcodes RFC 6455 defines; 0x3-0x7 and 0xB-0xF are reserved.
const (
	OpContinuation OpCode = 0x0
	OpText         OpCode = 0x1
	OpBinary       OpCode = 0x2
	OpClose        OpCode = 0x8
	OpPing         OpCode = 0x9
	OpPong         OpCode = 0xA
)

// MaxControlPayload is the most payload a control frame (close, ping,
// pong) may carry.
const MaxControlPayload = 125

// IsControl reports whether op is a control opcode (0x8-0xF, reserved
// ones included).
func (op OpCode) IsControl() bool { return op&0x8 != 0 }

// IsReserved reports whether RFC 6455 reserves op (0x3-0x7, 0xB-0xF), or
// op does not fit four bits.
func (op OpCode) IsReserved() bool {
	return (op > OpBinary && op < OpClose) || op > OpPong
}

// String returns the opcode's name ("text", "ping", ...) or its number.
func (op OpCode) String() string {
	switch op {
	case OpContinuation:
		return "continuation"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return fmt.Sprintf("OpCode(%#x)", byte(op))
}
