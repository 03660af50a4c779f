package natsbroker

import (
	"encoding/binary"

	"github.com/volley-ws/volley/conn"
)

// The envelope is specified in the package documentation ("Messages").
const (
	envelopeLen = 17
	version     = 1
)

// putEnvelope writes the header into b[:envelopeLen].
func putEnvelope(b []byte, t conn.MessageType, origin, seq uint64) {
	b[0] = version<<4 | byte(t)
	binary.BigEndian.PutUint64(b[1:9], origin)
	binary.BigEndian.PutUint64(b[9:17], seq)
}

// parseEnvelope splits a received payload. ok is false when it is not an
// envelope of this version carrying a text or binary message with a
// sequence number.
func parseEnvelope(p []byte) (t conn.MessageType, origin, seq uint64, data []byte, ok bool) {
	if len(p) < envelopeLen || p[0]>>4 != version {
		return 0, 0, 0, nil, false
	}
	t = conn.MessageType(p[0] & 0xf)
	if t != conn.Text && t != conn.Binary {
		return 0, 0, 0, nil, false
	}
	seq = binary.BigEndian.Uint64(p[9:17])
	if seq == 0 {
		return 0, 0, 0, nil, false
	}
	return t, binary.BigEndian.Uint64(p[1:9]), seq, p[envelopeLen:], true
}
