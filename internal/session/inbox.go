package conn

import (
	"encoding/binary"

	"github.com/valyala/bytebufferpool"
)

// The inbox carries received frames from the event loop to the goroutine
// that calls Receive. The loop appends records to a pooled buffer under the
// WebSocket's mutex; the receiver takes the whole buffer at once when it has
// consumed its own, so one lock hand-off moves a batch of messages, and a
// receiver that is still busy is never woken.
//
// Record layout: 1 byte kind, 4 bytes little-endian payload length, payload.
const recordHeader = 5

// Record kinds: the low two bits are the MessageType, recFin marks the last
// frame of a message, recDeflated the bytes of a compressed message.
const (
	recFin      = 0x80
	recDeflated = 0x40
	recType     = 0x03
)

func appendRecord(b *bytebufferpool.ByteBuffer, t MessageType, fin bool, payload []byte) {
	k := byte(t) & (recType | recDeflated)
	if fin {
		k |= recFin
	}
	var h [recordHeader]byte
	h[0] = k
	binary.LittleEndian.PutUint32(h[1:], uint32(len(payload)))
	b.B = append(b.B, h[:]...)
	b.B = append(b.B, payload...)
}

// readRecord decodes the record at b[off:]. It returns the record's type
// (with recDeflated for a compressed message's bytes), fin flag and payload
// (aliasing b) and the offset of the next record.
func readRecord(b []byte, off int) (t MessageType, fin bool, payload []byte, next int) {
	k := b[off]
	n := int(binary.LittleEndian.Uint32(b[off+1:]))
	start := off + recordHeader
	return MessageType(k & (recType | recDeflated)), k&recFin != 0, b[start : start+n], start + n
}
