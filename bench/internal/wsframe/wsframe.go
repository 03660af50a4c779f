// Package wsframe builds the client frames of the benchmark load
// generators (wsload, fanload).
package wsframe

import "encoding/binary"

// WebSocket opcodes (RFC 6455 section 5.2).
const (
	OpContinuation = 0x0
	OpText         = 0x1
	OpBinary       = 0x2
	OpClose        = 0x8
	OpPing         = 0x9
	OpPong         = 0xA
)

// AppendClient appends one final, masked client frame of opcode carrying
// payload, and returns the extended buffer.
func AppendClient(dst []byte, opcode byte, payload []byte, mask [4]byte) []byte {
	n := len(payload)
	dst = append(dst, 0x80|opcode)
	switch {
	case n <= 125:
		dst = append(dst, 0x80|byte(n))
	case n <= 0xFFFF:
		dst = append(dst, 0x80|126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 0x80|127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	dst = append(dst, mask[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	for i := range n {
		dst[start+i] ^= mask[i&3]
	}
	return dst
}
